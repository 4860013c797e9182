package dev.transact4j.nn.safetensors;

import dev.transact4j.tensor.HalfFloats;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

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
    /** Elements converted per step for the 16-bit types. */
    private static final int BLOCK = 8192;

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
            SafeTensorsHeader header = SafeTensorsHeader.read(path, channel);
            return new SafeTensorsFile(path, channel, header.dataStart, maxMapBytes, header.tensors, header.metadata);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
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
