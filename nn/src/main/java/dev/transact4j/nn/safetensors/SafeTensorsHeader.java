package dev.transact4j.nn.safetensors;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
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
 * The checked header of a safetensors file: where the data section starts, each tensor's entry in
 * name order, and the {@code __metadata__}. {@link #read} rejects every malformed header with a
 * message that names the file and the tensor.
 */
final class SafeTensorsHeader {

    private static final String METADATA_KEY = "__metadata__";
    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    /** Byte position of the data section in the file. */
    final long dataStart;
    final Map<String, TensorInfo> tensors;
    final Map<String, String> metadata;

    private SafeTensorsHeader(long dataStart, Map<String, TensorInfo> tensors, Map<String, String> metadata) {
        this.dataStart = dataStart;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    /**
     * Reads and checks the header of the file open on {@code channel}.
     *
     * @throws SafeTensorsFormatException when the header is malformed
     */
    static SafeTensorsHeader read(Path path, FileChannel channel) throws IOException {
        long fileSize = channel.size();
        if (fileSize < 8) {
            throw new SafeTensorsFormatException(path, "file has " + fileSize
                    + " bytes, fewer than the 8-byte header length; it is not a safetensors file");
        }

        // The header length is an unsigned 64-bit integer; a negative long is a huge value.
        ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(channel, lengthBytes, 0);
        long headerLength = lengthBytes.getLong(0);
        if (headerLength < 0 || headerLength > SafeTensorsFile.MAX_HEADER_BYTES) {
            throw new SafeTensorsFormatException(path, "header length " + Long.toUnsignedString(headerLength)
                    + " exceeds the limit of " + SafeTensorsFile.MAX_HEADER_BYTES + " bytes; the file is corrupt or not safetensors");
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
        return new SafeTensorsHeader(dataStart, Collections.unmodifiableMap(tensors), metadata);
    }

    /**
     * Parses the top-level JSON object into its entries. Jackson keeps the last of two equal keys
     * by default, so strict duplicate detection is on, and {@link #describeDuplicate} turns its
     * error into a message that names the key.
     */
    private static Map<String, JsonNode> parseHeader(Path path, byte[] header) throws SafeTensorsFormatException {
        Map<String, JsonNode> entries = new LinkedHashMap<>();
        try (JsonParser parser = JSON.createParser(header)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                throw new SafeTensorsFormatException(path, "header is not a JSON object; the file is not safetensors");
            }
            JsonToken token = parser.nextToken();
            for (; token != null && token != JsonToken.END_OBJECT; token = parser.nextToken()) {
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
                    + "] reach past the end of the data section, which has " + dataSize + " bytes; the file is truncated,"
                    + " so copy it again from the model's source");
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
}
