package dev.transact4j.nn.safetensors;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.transact4j.nn.io.AtomicFiles;
import dev.transact4j.tensor.HalfFloats;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Collects named tensors and writes them as one safetensors file, or as shards with an index.
 *
 * <p>Files follow the format's rules: tensor names in ascending order, data offsets contiguous
 * from zero with no gaps, a header of JSON only padded with spaces so the data section starts at a
 * multiple of 8 bytes, and {@code __metadata__} first when there is any. Each file is written to a
 * temporary file in the target directory and then renamed over the target, so a failed write
 * leaves any previous file untouched.
 *
 * <p>The writer keeps references to the arrays it is given, not copies: they must not change
 * until {@link #write} returns.
 */
public final class SafeTensorsWriter {

    /** Supplies the float values of a tensor when the file is written, so they need not all be in memory at once. */
    @FunctionalInterface
    public interface FloatSource {
        float[] get() throws IOException;
    }

    private static final int BUFFER_BYTES = 1 << 20;
    private static final String METADATA_KEY = "__metadata__";

    private final Map<String, Entry> entries = new TreeMap<>();
    private final Map<String, String> metadata = new TreeMap<>();

    /** One tensor to write: its header fields and the code that encodes its elements. */
    private record Entry(String name, DType dtype, long[] shape, long byteLength, Encoder encoder) {
    }

    /** Writes the elements of one tensor into the sink. */
    @FunctionalInterface
    private interface Encoder {
        void encode(ByteSink sink) throws IOException;
    }

    /**
     * Adds a float tensor stored as {@code dtype}: F32 as is, BF16 or F16 rounded to nearest even.
     *
     * @throws IllegalArgumentException for a duplicate or reserved name, another dtype, or a shape
     *     whose size differs from {@code data.length}
     */
    public SafeTensorsWriter add(String name, float[] data, int[] shape, DType dtype) {
        long numel = checkShape(name, shape, data.length);
        return addFloats(name, dtype, shape, numel, () -> data);
    }

    /** Adds a float tensor stored as F32. */
    public SafeTensorsWriter add(String name, float[] data, int[] shape) {
        return add(name, data, shape, DType.F32);
    }

    /**
     * Adds a float tensor whose values {@code source} supplies when the file is written, for
     * example read from another checkpoint, so a large model need not be held in memory twice.
     * The supplied array must have the size of {@code shape}, or the write fails.
     */
    public SafeTensorsWriter add(String name, DType dtype, int[] shape, FloatSource source) {
        long numel = checkShape(name, shape, -1);
        return addFloats(name, dtype, shape, numel, source);
    }

    private SafeTensorsWriter addFloats(String name, DType dtype, int[] shape, long numel, FloatSource source) {
        if (dtype != DType.F32 && dtype != DType.BF16 && dtype != DType.F16) {
            throw new IllegalArgumentException("SafeTensorsWriter: tensor '" + name + "' cannot be stored as " + dtype
                    + " from floats; use F32, BF16 or F16");
        }
        return put(name, dtype, shape, numel, sink -> {
            float[] data = source.get();
            if (data.length != numel) {
                throw new IOException("SafeTensorsWriter: the source of tensor '" + name + "' supplied "
                        + data.length + " values, but its shape " + Arrays.toString(shape) + " has " + numel);
            }
            switch (dtype) {
                case F32 -> sink.writeFloats(data);
                case BF16 -> sink.writeShorts(data, true);
                case F16 -> sink.writeShorts(data, false);
                default -> throw new AssertionError(dtype);
            }
        });
    }

    /** Adds a tensor stored as F64. */
    public SafeTensorsWriter addDoubles(String name, double[] data, int[] shape) {
        long numel = checkShape(name, shape, data.length);
        return put(name, DType.F64, shape, numel, sink -> {
            for (double v : data) {
                sink.reserve(8).putDouble(v);
            }
        });
    }

    /** Adds a tensor stored as I64. */
    public SafeTensorsWriter addLongs(String name, long[] data, int[] shape) {
        long numel = checkShape(name, shape, data.length);
        return put(name, DType.I64, shape, numel, sink -> {
            for (long v : data) {
                sink.reserve(8).putLong(v);
            }
        });
    }

    /** Adds a tensor stored as I32. */
    public SafeTensorsWriter addInts(String name, int[] data, int[] shape) {
        long numel = checkShape(name, shape, data.length);
        return put(name, DType.I32, shape, numel, sink -> {
            for (int v : data) {
                sink.reserve(4).putInt(v);
            }
        });
    }

    /** Adds a tensor of raw bytes stored as U8 or I8. */
    public SafeTensorsWriter addBytes(String name, byte[] data, int[] shape, DType dtype) {
        if (dtype != DType.U8 && dtype != DType.I8) {
            throw new IllegalArgumentException("SafeTensorsWriter: tensor '" + name + "' cannot be stored as " + dtype
                    + " from bytes; use U8 or I8 (addBooleans writes BOOL)");
        }
        long numel = checkShape(name, shape, data.length);
        return put(name, dtype, shape, numel, sink -> {
            for (byte v : data) {
                sink.reserve(1).put(v);
            }
        });
    }

    /** Adds a tensor stored as BOOL, one byte of 0 or 1 per element. */
    public SafeTensorsWriter addBooleans(String name, boolean[] data, int[] shape) {
        long numel = checkShape(name, shape, data.length);
        return put(name, DType.BOOL, shape, numel, sink -> {
            for (boolean v : data) {
                sink.reserve(1).put((byte) (v ? 1 : 0));
            }
        });
    }

    /**
     * Sets a {@code __metadata__} entry. Hugging Face transformers rejects a checkpoint whose
     * metadata has no {@code format} of pt, tf, flax or mlx, so files meant for it need
     * {@code metadata("format", "pt")}.
     */
    public SafeTensorsWriter metadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    /** Returns the names added so far, in ascending order. */
    public List<String> names() {
        return List.copyOf(entries.keySet());
    }

    /** Returns the size of the data section, in bytes. */
    public long dataBytes() {
        long total = 0;
        for (Entry entry : entries.values()) {
            total += entry.byteLength();
        }
        return total;
    }

    private long checkShape(String name, int[] shape, long length) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("SafeTensorsWriter: tensor name must not be empty");
        }
        long numel = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("SafeTensorsWriter: tensor '" + name + "' has negative dimension in shape "
                        + Arrays.toString(shape));
            }
            numel *= d;
        }
        if (length >= 0 && numel != length) {
            throw new IllegalArgumentException("SafeTensorsWriter: tensor '" + name + "' has shape " + Arrays.toString(shape)
                    + " of " + numel + " elements, but its data has " + length);
        }
        return numel;
    }

    private SafeTensorsWriter put(String name, DType dtype, int[] shape, long numel, Encoder encoder) {
        if (name.equals(METADATA_KEY)) {
            throw new IllegalArgumentException("SafeTensorsWriter: " + METADATA_KEY + " is reserved and cannot name a tensor");
        }
        if (entries.containsKey(name)) {
            throw new IllegalArgumentException("SafeTensorsWriter: tensor '" + name + "' was already added");
        }
        long[] longShape = Arrays.stream(shape).asLongStream().toArray();
        entries.put(name, new Entry(name, dtype, longShape, numel * dtype.byteSize(), encoder));
        return this;
    }

    /** Writes every tensor to {@code path}, replacing it atomically. */
    public void write(Path path) throws IOException {
        writeFile(path, new ArrayList<>(entries.values()), metadata);
    }

    /**
     * Writes the tensors as shards of at most {@code maxShardBytes} of data each (a single tensor
     * larger than that gets a shard of its own), named {@code <prefix>-00001-of-0000N.safetensors}
     * in {@code directory}, then the index {@code <prefix>.safetensors.index.json} with the
     * {@code weight_map} and {@code metadata.total_size} that Hugging Face checkpoints use. The
     * index is written last, so a reader never sees an index whose shards are incomplete.
     * NOTE: shards of an earlier write with more shards stay in the directory; the new index does
     * not list them.
     *
     * @return the path of the index
     */
    public Path writeSharded(Path directory, String prefix, long maxShardBytes) throws IOException {
        if (maxShardBytes <= 0) {
            throw new IllegalArgumentException("SafeTensorsWriter: maxShardBytes must be positive, got " + maxShardBytes);
        }

        // Fill the shards in name order.
        List<List<Entry>> shards = new ArrayList<>();
        List<Entry> current = new ArrayList<>();
        long currentBytes = 0;
        for (Entry entry : entries.values()) {
            if (!current.isEmpty() && currentBytes + entry.byteLength() > maxShardBytes) {
                shards.add(current);
                current = new ArrayList<>();
                currentBytes = 0;
            }
            current.add(entry);
            currentBytes += entry.byteLength();
        }
        if (!current.isEmpty() || shards.isEmpty()) {
            shards.add(current);
        }

        // Write each shard, then the index that maps every tensor to its shard.
        Files.createDirectories(directory);
        Map<String, String> weightMap = new TreeMap<>();
        for (int i = 0; i < shards.size(); i++) {
            String fileName = String.format("%s-%05d-of-%05d.safetensors", prefix, i + 1, shards.size());
            writeFile(directory.resolve(fileName), shards.get(i), metadata);
            for (Entry entry : shards.get(i)) {
                weightMap.put(entry.name(), fileName);
            }
        }
        Map<String, Object> index = new LinkedHashMap<>();
        index.put("metadata", Map.of("total_size", dataBytes()));
        index.put("weight_map", weightMap);
        Path indexPath = directory.resolve(prefix + ".safetensors.index.json");
        byte[] json = new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsBytes(index);
        AtomicFiles.write(indexPath, json);
        return indexPath;
    }

    private static void writeFile(Path path, List<Entry> list, Map<String, String> metadata) throws IOException {
        // Header: metadata first, then the tensors in name order with contiguous offsets.
        Map<String, Object> header = new LinkedHashMap<>();
        if (!metadata.isEmpty()) {
            header.put(METADATA_KEY, metadata);
        }
        long offset = 0;
        for (Entry entry : list) {
            Map<String, Object> fields = new LinkedHashMap<>();
            fields.put("dtype", entry.dtype().name());
            fields.put("shape", entry.shape());
            fields.put("data_offsets", new long[] {offset, offset + entry.byteLength()});
            header.put(entry.name(), fields);
            offset += entry.byteLength();
        }
        byte[] json = new ObjectMapper().writeValueAsBytes(header);
        int padding = (8 - json.length % 8) % 8;
        ByteBuffer head = ByteBuffer.allocate(8 + json.length + padding).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(json.length + padding).put(json);
        for (int i = 0; i < padding; i++) {
            head.put((byte) ' ');
        }
        head.flip();
        long dataBytes = offset;

        AtomicFiles.write(path, channel -> {
            while (head.hasRemaining()) {
                channel.write(head);
            }
            ByteSink sink = new ByteSink(channel);
            for (Entry entry : list) {
                long before = sink.written();
                entry.encoder().encode(sink);
                if (sink.written() - before != entry.byteLength()) {
                    throw new IllegalStateException("SafeTensorsWriter: tensor '" + entry.name() + "' wrote "
                            + (sink.written() - before) + " bytes instead of " + entry.byteLength());
                }
            }
            sink.flush();
            if (sink.written() != dataBytes) {
                throw new IllegalStateException("SafeTensorsWriter: wrote " + sink.written() + " data bytes instead of " + dataBytes);
            }
        });
    }

    /** Little-endian output buffer over a channel. */
    private static final class ByteSink {
        private final FileChannel channel;
        private final ByteBuffer buffer = ByteBuffer.allocateDirect(BUFFER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        private long written;

        ByteSink(FileChannel channel) {
            this.channel = channel;
        }

        /** Returns the buffer with at least {@code bytes} free, flushing it first when needed. */
        ByteBuffer reserve(int bytes) throws IOException {
            if (buffer.remaining() < bytes) {
                flush();
            }
            written += bytes;
            return buffer;
        }

        void writeFloats(float[] data) throws IOException {
            int done = 0;
            while (done < data.length) {
                if (buffer.remaining() < 4) {
                    flush();
                }
                int n = Math.min(buffer.remaining() / 4, data.length - done);
                buffer.asFloatBuffer().put(data, done, n);
                buffer.position(buffer.position() + 4 * n);
                written += 4L * n;
                done += n;
            }
        }

        void writeShorts(float[] data, boolean bf16) throws IOException {
            short[] block = new short[Math.min(8192, data.length)];
            for (int done = 0; done < data.length; done += block.length) {
                int n = Math.min(block.length, data.length - done);
                if (bf16) {
                    HalfFloats.floatToBf16(data, done, block, 0, n);
                } else {
                    HalfFloats.floatToHalf(data, done, block, 0, n);
                }
                if (buffer.remaining() < 2 * n) {
                    flush();
                }
                buffer.asShortBuffer().put(block, 0, n);
                buffer.position(buffer.position() + 2 * n);
                written += 2L * n;
            }
        }

        long written() {
            return written;
        }

        void flush() throws IOException {
            buffer.flip();
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            buffer.clear();
        }
    }
}
