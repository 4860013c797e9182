package dev.transact4j.tensor.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A reference fixture written by {@code src/test/python/fixture_io.py}: named arrays in the
 * safetensors format, loaded from the test class path under {@code fixtures/}.
 *
 * <p>Every array is returned as doubles, whatever its stored dtype (F64, F32, I64 or I32).
 */
public final class Fixture {

    /** One stored array: its safetensors dtype, shape and values in row-major order. */
    public record Array(String dtype, int[] shape, double[] values) {

        /** Returns the values narrowed to float32. */
        public float[] floats() {
            float[] out = new float[values.length];
            for (int i = 0; i < out.length; i++) {
                out[i] = (float) values[i];
            }
            return out;
        }

        /** Returns the values as ints, for index arrays. */
        public int[] ints() {
            int[] out = new int[values.length];
            for (int i = 0; i < out.length; i++) {
                out[i] = (int) values[i];
            }
            return out;
        }

        /** Returns the single value of a scalar or one-element array. */
        public double scalar() {
            if (values.length != 1) {
                throw new IllegalStateException("expected one value, found shape " + Arrays.toString(shape));
            }
            return values[0];
        }
    }

    private final String name;
    private final Map<String, Array> arrays;
    private final Map<String, String> metadata;

    private Fixture(String name, Map<String, Array> arrays, Map<String, String> metadata) {
        this.name = name;
        this.arrays = arrays;
        this.metadata = metadata;
    }

    /**
     * Loads {@code fixtures/<name>.safetensors} from the test class path.
     *
     * @throws IllegalStateException when the file is missing, naming the script that writes it
     */
    public static Fixture load(String name) {
        String resource = "fixtures/" + name + ".safetensors";
        try (InputStream in = Fixture.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("Fixture " + resource + " not found on the test class path. "
                        + "Regenerate the fixtures with the scripts in src/test/python (see src/test/python/README.md).");
            }
            return parse(name, in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException("Failed to read fixture " + resource, e);
        }
    }

    private static Fixture parse(String name, byte[] bytes) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long headerLength = buffer.getLong(0);
        if (headerLength < 2 || headerLength > bytes.length - 8L) {
            throw new IllegalStateException("Fixture " + name + ": invalid header length " + headerLength);
        }
        JsonNode header = new ObjectMapper().readTree(new String(bytes, 8, (int) headerLength, "UTF-8"));
        int dataStart = 8 + (int) headerLength;
        Map<String, Array> arrays = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> entry = it.next();
            if (entry.getKey().equals("__metadata__")) {
                entry.getValue().fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                continue;
            }
            JsonNode info = entry.getValue();
            String dtype = info.get("dtype").asText();
            JsonNode shapeNode = info.get("shape");
            int[] shape = new int[shapeNode.size()];
            int count = 1;
            for (int i = 0; i < shape.length; i++) {
                shape[i] = shapeNode.get(i).asInt();
                count *= shape[i];
            }
            int begin = dataStart + info.get("data_offsets").get(0).asInt();
            double[] values = new double[count];
            for (int i = 0; i < count; i++) {
                switch (dtype) {
                    case "F64" -> values[i] = buffer.getDouble(begin + 8 * i);
                    case "F32" -> values[i] = buffer.getFloat(begin + 4 * i);
                    case "I64" -> values[i] = buffer.getLong(begin + 8 * i);
                    case "I32" -> values[i] = buffer.getInt(begin + 4 * i);
                    default -> throw new IllegalStateException("Fixture " + name + ": unsupported dtype " + dtype
                            + " for tensor " + entry.getKey());
                }
            }
            arrays.put(entry.getKey(), new Array(dtype, shape, values));
        }
        return new Fixture(name, Collections.unmodifiableMap(arrays), Collections.unmodifiableMap(metadata));
    }

    /**
     * Returns the array stored under {@code key}.
     *
     * @throws IllegalArgumentException when the fixture has no such array
     */
    public Array get(String key) {
        Array array = arrays.get(key);
        if (array == null) {
            throw new IllegalArgumentException("Fixture " + name + " has no array '" + key + "'; it has " + arrays.keySet());
        }
        return array;
    }

    /** Returns whether the fixture stores an array under {@code key}. */
    public boolean has(String key) {
        return arrays.containsKey(key);
    }

    /** Returns the names of all stored arrays. */
    public Iterable<String> keys() {
        return arrays.keySet();
    }

    /** Returns the header metadata, such as the torch version that wrote the fixture. */
    public Map<String, String> metadata() {
        return metadata;
    }
}
