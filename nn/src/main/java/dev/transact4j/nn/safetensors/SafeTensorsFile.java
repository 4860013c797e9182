package dev.transact4j.nn.safetensors;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.transact4j.tensor.HalfFloats;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One safetensors file, opened for lazy reads.
 *
 * <p>Layout: an unsigned 64-bit little-endian header length N, N bytes of UTF-8 JSON (possibly
 * padded with trailing spaces), then the data section. The header maps each tensor name to
 * {@code {"dtype", "shape", "data_offsets": [begin, end]}}, with offsets relative to the data
 * section, and may contain a {@code "__metadata__"} object of string values.
 *
 * <p>{@link #open} reads and checks the header only. Each read maps the tensor's byte range of the
 * file (in pieces of at most {@value #MAX_MAP_BYTES} bytes, so files and tensors over 2 GB work),
 * converts it into a new Java array and lets the mapping go. Offsets that are not a multiple of the
 * element size are read correctly, because the little-endian views over a mapping accept any
 * position. Reads from several threads at once are safe.
 */
public final class SafeTensorsFile implements SafeTensors {

    /** Largest header accepted: a header this large would describe millions of tensors. */
    public static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;
    /** Largest byte range mapped at once, a multiple of every element size. */
    static final int MAX_MAP_BYTES = 1 << 30;
    /** Elements converted per step for 16-bit and 64-bit types. */
    private static final int BLOCK = 8192;

    private static final String METADATA_KEY = "__metadata__";
    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    private final Path path;
    private final FileChannel channel;
    private final long dataStart;
    private final int maxMapBytes;
    private final Map<String, TensorInfo> tensors;
    private final List<String> names;
    private final Map<String, String> metadata;

    private SafeTensorsFile(Path path, FileChannel channel, long dataStart, int maxMapBytes,
                            Map<String, TensorInfo> tensors, Map<String, String> metadata) {
        this.path = path;
        this.channel = channel;
        this.dataStart = dataStart;
        this.maxMapBytes = maxMapBytes;
        this.tensors = tensors;
        this.names = List.copyOf(tensors.keySet());
        this.metadata = metadata;
    }

    /**
     * Opens {@code path} and checks its header.
     *
     * @throws SafeTensorsFormatException when the header is malformed; the message names the file
     *     and the tensor at fault
     * @throws NoSuchFileException when the file does not exist
     */
    public static SafeTensorsFile open(Path path) throws IOException {
        return open(path, MAX_MAP_BYTES);
    }

    /** Opens {@code path} with mappings of at most {@code maxMapBytes}, which tests set small. */
    static SafeTensorsFile open(Path path, int maxMapBytes) throws IOException {
        if (maxMapBytes <= 0 || maxMapBytes % 8 != 0) {
            throw new IllegalArgumentException("maxMapBytes must be a positive multiple of 8, got " + maxMapBytes);
        }
        FileChannel channel = FileChannel.open(path, StandardOpenOption.READ);
        try {
            return readHeader(path, channel, maxMapBytes);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    private static SafeTensorsFile readHeader(Path path, FileChannel channel, int maxMapBytes) throws IOException {
        long fileSize = channel.size();
        if (fileSize < 8) {
            throw new SafeTensorsFormatException(path, "file has " + fileSize
                    + " bytes, fewer than the 8-byte header length; it is not a safetensors file");
        }

        // The header length is an unsigned 64-bit integer; a negative long is a huge value.
        ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(channel, lengthBytes, 0);
        long headerLength = lengthBytes.getLong(0);
        if (headerLength < 0 || headerLength > MAX_HEADER_BYTES) {
            throw new SafeTensorsFormatException(path, "header length " + Long.toUnsignedString(headerLength)
                    + " exceeds the limit of " + MAX_HEADER_BYTES + " bytes; the file is corrupt or not safetensors");
        }
        if (headerLength > fileSize - 8) {
            throw new SafeTensorsFormatException(path, "header length " + headerLength + " is larger than the "
                    + (fileSize - 8) + " bytes that follow it; the file is truncated or not safetensors");
        }

        ByteBuffer headerBytes = ByteBuffer.allocate((int) headerLength);
        readFully(channel, headerBytes, 8);
        long dataStart = 8 + headerLength;
        long dataSize = fileSize - dataStart;

        Map<String, JsonNode> entries = parseHeader(path, headerBytes.array());
        Map<String, String> metadata = Map.of();
        Map<String, TensorInfo> tensors = new TreeMap<>();
        for (Map.Entry<String, JsonNode> entry : entries.entrySet()) {
            if (entry.getKey().equals(METADATA_KEY)) {
                metadata = parseMetadata(path, entry.getValue());
            } else {
                tensors.put(entry.getKey(), parseTensor(path, entry.getKey(), entry.getValue(), dataSize));
            }
        }
        checkNoOverlap(path, tensors.values());
        return new SafeTensorsFile(path, channel, dataStart, maxMapBytes, Collections.unmodifiableMap(tensors), metadata);
    }

    /**
     * Parses the top-level JSON object, rejecting duplicate names with the name in the message
     * (Jackson alone would keep the last one).
     */
    private static Map<String, JsonNode> parseHeader(Path path, byte[] header) throws SafeTensorsFormatException {
        Map<String, JsonNode> entries = new LinkedHashMap<>();
        try (JsonParser parser = JSON.createParser(header)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                throw new SafeTensorsFormatException(path, "header is not a JSON object; the file is not safetensors");
            }
            for (JsonToken token = parser.nextToken(); token != JsonToken.END_OBJECT; token = parser.nextToken()) {
                String name = parser.currentName();
                parser.nextToken();
                JsonNode value = parser.readValueAsTree();
                if (entries.put(name, value) != null) {
                    throw new SafeTensorsFormatException(path, "tensor name '" + name
                            + "' appears twice in the header; each name must be unique");
                }
            }
            if (parser.nextToken() != null) {
                throw new SafeTensorsFormatException(path, "header has content after its JSON object at "
                        + parser.currentLocation().getCharOffset() + "; only trailing spaces are allowed");
            }
        } catch (JsonProcessingException e) {
            String duplicate = describeDuplicate(e);
            if (duplicate != null) {
                throw new SafeTensorsFormatException(path, duplicate, e);
            }
            throw new SafeTensorsFormatException(path, "header is not valid JSON: " + e.getOriginalMessage()
                    + " at byte " + e.getLocation().getByteOffset(), e);
        } catch (IOException e) {
            throw new SafeTensorsFormatException(path, "header could not be parsed: " + e.getMessage(), e);
        }
        return entries;
    }

    /** Returns a message for a duplicate key found by Jackson's strict detection, or null for other errors. */
    private static String describeDuplicate(JsonProcessingException e) {
        if (!e.getOriginalMessage().startsWith("Duplicate field") || !(e.getProcessor() instanceof JsonParser parser)) {
            return null;
        }
        JsonStreamContext context = parser.getParsingContext();
        String key = context.getCurrentName();
        JsonStreamContext parent = context.getParent();
        if (parent == null || parent.inRoot()) {
            return "tensor name '" + key + "' appears twice in the header; each name must be unique";
        }
        return "key '" + key + "' appears twice in the header entry of '" + parent.getCurrentName() + "'";
    }

    private static Map<String, String> parseMetadata(Path path, JsonNode node) throws SafeTensorsFormatException {
        if (node.isNull()) {
            return Map.of();
        }
        if (!node.isObject()) {
            throw new SafeTensorsFormatException(path, METADATA_KEY + " must be a JSON object of strings, found "
                    + node.getNodeType());
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            if (!field.getValue().isTextual()) {
                throw new SafeTensorsFormatException(path, METADATA_KEY + " value '" + field.getKey()
                        + "' must be a string, found " + field.getValue());
            }
            metadata.put(field.getKey(), field.getValue().textValue());
        }
        return Collections.unmodifiableMap(metadata);
    }

    private static TensorInfo parseTensor(Path path, String name, JsonNode node, long dataSize)
            throws SafeTensorsFormatException {
        String where = "tensor '" + name + "'";
        if (!node.isObject()) {
            throw new SafeTensorsFormatException(path, where + ": header entry must be an object with dtype, shape"
                    + " and data_offsets, found " + node);
        }

        // dtype
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) {
            throw new SafeTensorsFormatException(path, where + ": missing or non-string \"dtype\"");
        }
        DType dtype = DType.fromHeaderName(dtypeNode.textValue());
        if (dtype == null) {
            throw new SafeTensorsFormatException(path, where + ": unknown dtype '" + dtypeNode.textValue()
                    + "'; known dtypes are " + DType.knownNames());
        }

        // shape
        JsonNode shapeNode = node.get("shape");
        if (shapeNode == null || !shapeNode.isArray()) {
            throw new SafeTensorsFormatException(path, where + ": missing or non-array \"shape\"");
        }
        long[] shape = new long[shapeNode.size()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = nonNegativeLong(path, where + ": shape", shapeNode.get(i));
        }

        // data_offsets
        JsonNode offsetsNode = node.get("data_offsets");
        if (offsetsNode == null || !offsetsNode.isArray() || offsetsNode.size() != 2) {
            throw new SafeTensorsFormatException(path, where + ": \"data_offsets\" must be an array [begin, end], found "
                    + offsetsNode);
        }
        long begin = nonNegativeLong(path, where + ": data_offsets", offsetsNode.get(0));
        long end = nonNegativeLong(path, where + ": data_offsets", offsetsNode.get(1));
        if (end < begin) {
            throw new SafeTensorsFormatException(path, where + ": data_offsets [" + begin + ", " + end
                    + "] end before they begin");
        }
        if (end > dataSize) {
            throw new SafeTensorsFormatException(path, where + ": data_offsets [" + begin + ", " + end
                    + "] reach past the end of the data section, which has " + dataSize + " bytes; the file is truncated");
        }

        // The byte range must hold exactly the elements of the shape.
        long needed;
        try {
            long numel = 1;
            for (long d : shape) {
                numel = Math.multiplyExact(numel, d);
            }
            needed = Math.multiplyExact(numel, dtype.byteSize());
        } catch (ArithmeticException e) {
            throw new SafeTensorsFormatException(path, where + ": shape " + Arrays.toString(shape) + " is too large");
        }
        if (needed != end - begin) {
            throw new SafeTensorsFormatException(path, where + ": dtype " + dtype + " with shape " + Arrays.toString(shape)
                    + " needs " + needed + " bytes, but data_offsets [" + begin + ", " + end + "] span " + (end - begin));
        }
        return new TensorInfo(name, dtype, shape, begin, end);
    }

    private static long nonNegativeLong(Path path, String what, JsonNode node) throws SafeTensorsFormatException {
        if (node == null || !node.isIntegralNumber() || !node.canConvertToLong() || node.longValue() < 0) {
            throw new SafeTensorsFormatException(path, what + " must contain non-negative integers, found " + node);
        }
        return node.longValue();
    }

    /** Checks that no two byte ranges share a byte; a zero-size range may sit at the end of another. */
    private static void checkNoOverlap(Path path, Iterable<TensorInfo> infos) throws SafeTensorsFormatException {
        List<TensorInfo> sorted = new ArrayList<>();
        infos.forEach(sorted::add);
        sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        TensorInfo previous = null;
        for (TensorInfo info : sorted) {
            if (previous != null && info.begin() < previous.end()) {
                throw new SafeTensorsFormatException(path, "tensor '" + info.name() + "' data_offsets ["
                        + info.begin() + ", " + info.end() + "] overlap those of tensor '" + previous.name() + "' ["
                        + previous.begin() + ", " + previous.end() + "]");
            }
            previous = info;
        }
    }

    private static void readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, position + buffer.position());
            if (n < 0) {
                throw new IOException("unexpected end of file at byte " + (position + buffer.position()));
            }
        }
    }

    /** Returns the path this file was opened from. */
    public Path path() {
        return path;
    }

    @Override
    public List<String> names() {
        return names;
    }

    @Override
    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    @Override
    public TensorInfo info(String name) {
        TensorInfo info = tensors.get(name);
        if (info == null) {
            throw new IllegalArgumentException(path + ": no tensor named '" + name + "'; the file has "
                    + names.size() + " tensors" + (names.isEmpty() ? "" : ", for example " + names.subList(0, Math.min(5, names.size()))));
        }
        return info;
    }

    @Override
    public Map<String, String> metadata() {
        return metadata;
    }

    @Override
    public float[] readFloat32(String name) throws IOException {
        TensorInfo info = info(name);
        float[] out = new float[arrayLength(info)];
        readFloat32(name, out, 0);
        return out;
    }

    @Override
    public void readFloat32(String name, float[] dst, int offset) throws IOException {
        TensorInfo info = info(name);
        requireType(info, "readFloat32", "readLongs or readInts", DType.F32, DType.F16, DType.BF16, DType.F64);
        int n = arrayLength(info);
        if (offset < 0 || offset > dst.length - n) {
            throw new IndexOutOfBoundsException(path + ": tensor '" + name + "' has " + n
                    + " elements, which do not fit an array of " + dst.length + " from offset " + offset);
        }
        forEachChunk(info, (buffer, start, count) -> {
            switch (info.dtype()) {
                case F32 -> {
                    FloatBuffer view = buffer.asFloatBuffer();
                    view.get(dst, offset + start, count);
                }
                case F16 -> convertShorts(buffer, count, dst, offset + start, false);
                case BF16 -> convertShorts(buffer, count, dst, offset + start, true);
                case F64 -> {
                    for (int i = 0; i < count; i++) {
                        dst[offset + start + i] = (float) buffer.getDouble(8 * i);
                    }
                }
                default -> throw new AssertionError(info.dtype());
            }
        });
    }

    private static void convertShorts(ByteBuffer buffer, int count, float[] dst, int dstOffset, boolean bf16) {
        short[] block = new short[Math.min(BLOCK, count)];
        var view = buffer.asShortBuffer();
        for (int done = 0; done < count; done += block.length) {
            int n = Math.min(block.length, count - done);
            view.get(block, 0, n);
            if (bf16) {
                HalfFloats.bf16ToFloat(block, 0, dst, dstOffset + done, n);
            } else {
                HalfFloats.halfToFloat(block, 0, dst, dstOffset + done, n);
            }
        }
    }

    @Override
    public double[] readDoubles(String name) throws IOException {
        TensorInfo info = info(name);
        if (info.dtype() == DType.F64) {
            double[] out = new double[arrayLength(info)];
            forEachChunk(info, (buffer, start, count) -> buffer.asDoubleBuffer().get(out, start, count));
            return out;
        }
        requireType(info, "readDoubles", "readLongs or readInts", DType.F64, DType.F32, DType.F16, DType.BF16);
        float[] floats = readFloat32(name);
        double[] out = new double[floats.length];
        for (int i = 0; i < floats.length; i++) {
            out[i] = floats[i];
        }
        return out;
    }

    @Override
    public long[] readLongs(String name) throws IOException {
        TensorInfo info = info(name);
        requireType(info, "readLongs", "readFloat32", DType.I64, DType.I32, DType.I16, DType.I8,
                DType.U32, DType.U16, DType.U8, DType.BOOL);
        long[] out = new long[arrayLength(info)];
        forEachChunk(info, (buffer, start, count) -> {
            for (int i = 0; i < count; i++) {
                out[start + i] = integerAt(info.dtype(), buffer, i);
            }
        });
        return out;
    }

    @Override
    public int[] readInts(String name) throws IOException {
        TensorInfo info = info(name);
        requireType(info, "readInts", "readFloat32", DType.I64, DType.I32, DType.I16, DType.I8,
                DType.U64, DType.U32, DType.U16, DType.U8, DType.BOOL);
        int[] out = new int[arrayLength(info)];
        forEachChunk(info, (buffer, start, count) -> {
            for (int i = 0; i < count; i++) {
                long value = integerAt(info.dtype(), buffer, i);
                boolean fits = info.dtype() == DType.U64
                        ? value >= 0 && value <= Integer.MAX_VALUE
                        : value >= Integer.MIN_VALUE && value <= Integer.MAX_VALUE;
                if (!fits) {
                    String shown = info.dtype() == DType.U64 ? Long.toUnsignedString(value) : Long.toString(value);
                    throw new ArithmeticException(path + ": tensor '" + name + "' element " + (start + i) + " is "
                            + shown + ", which does not fit an int; use readLongs");
                }
                out[start + i] = (int) value;
            }
        });
        return out;
    }

    /** Returns element {@code i} of an integer-typed buffer; a U64 comes back as its raw bits. */
    private static long integerAt(DType dtype, ByteBuffer buffer, int i) {
        return switch (dtype) {
            case I64, U64 -> buffer.getLong(8 * i);
            case I32 -> buffer.getInt(4 * i);
            case U32 -> Integer.toUnsignedLong(buffer.getInt(4 * i));
            case I16 -> buffer.getShort(2 * i);
            case U16 -> Short.toUnsignedInt(buffer.getShort(2 * i));
            case I8 -> buffer.get(i);
            case U8, BOOL -> Byte.toUnsignedInt(buffer.get(i));
            default -> throw new AssertionError(dtype);
        };
    }

    @Override
    public byte[] readBytes(String name) throws IOException {
        TensorInfo info = info(name);
        requireType(info, "readBytes", "readFloat32, readLongs or readInts", DType.U8, DType.I8, DType.BOOL);
        byte[] out = new byte[arrayLength(info)];
        forEachChunk(info, (buffer, start, count) -> buffer.get(out, start, count));
        return out;
    }

    @Override
    public boolean[] readBooleans(String name) throws IOException {
        TensorInfo info = info(name);
        requireType(info, "readBooleans", "readBytes or readInts", DType.BOOL);
        boolean[] out = new boolean[arrayLength(info)];
        forEachChunk(info, (buffer, start, count) -> {
            for (int i = 0; i < count; i++) {
                out[start + i] = buffer.get(i) != 0;
            }
        });
        return out;
    }

    private void requireType(TensorInfo info, String method, String alternative, DType... accepted) {
        for (DType type : accepted) {
            if (info.dtype() == type) {
                return;
            }
        }
        throw new IllegalArgumentException(path + ": tensor '" + info.name() + "' has dtype " + info.dtype()
                + ", which " + method + " does not read (it reads " + Arrays.toString(accepted) + "); use " + alternative);
    }

    private int arrayLength(TensorInfo info) {
        long n = info.numel();
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(path + ": tensor '" + info.name() + "' has " + n
                    + " elements, more than a Java array can contain");
        }
        return (int) n;
    }

    /** Receives one mapped piece of a tensor: {@code count} elements that start at element {@code start}. */
    @FunctionalInterface
    private interface ChunkReader {
        void read(ByteBuffer buffer, int start, int count);
    }

    /** Maps the tensor's bytes piece by piece, each a little-endian buffer of whole elements. */
    private void forEachChunk(TensorInfo info, ChunkReader reader) throws IOException {
        // A mapping past the end of a file that shrank since open would crash the reading thread.
        if (channel.size() < dataStart + info.end()) {
            throw new IOException(path + ": file is now " + channel.size() + " bytes, too short for tensor '" + info.name()
                    + "'; it changed after it was opened, so open it again");
        }
        int elementSize = info.dtype().byteSize();
        long chunkBytes = maxMapBytes - maxMapBytes % elementSize;
        long position = dataStart + info.begin();
        long remaining = info.byteLength();
        int start = 0;
        while (remaining > 0) {
            long length = Math.min(remaining, chunkBytes);
            ByteBuffer buffer = channel.map(FileChannel.MapMode.READ_ONLY, position, length)
                    .order(ByteOrder.LITTLE_ENDIAN);
            int count = (int) (length / elementSize);
            reader.read(buffer, start, count);
            start += count;
            position += length;
            remaining -= length;
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    @Override
    public String toString() {
        return "SafeTensorsFile[" + path + ", " + names.size() + " tensors]";
    }
}
