package dev.transact4j.nn.safetensors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A checkpoint split over several safetensors files, opened through its index
 * ({@code model.safetensors.index.json}): a JSON object whose {@code weight_map} maps each tensor
 * name to the file, in the index's directory, that stores it, and whose optional {@code metadata}
 * contains values such as {@code total_size}.
 *
 * <p>Opening reads the index and every shard's header, and checks that each listed tensor is in
 * its shard. Tensors a shard stores but the index does not list are not visible.
 */
public final class ShardedSafeTensors implements SafeTensors {

    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    private final Path index;
    private final Map<String, SafeTensorsFile> shardOf;
    private final List<SafeTensorsFile> shards;
    private final List<String> names;
    private final Map<String, String> metadata;

    private ShardedSafeTensors(Path index, Map<String, SafeTensorsFile> shardOf, List<SafeTensorsFile> shards,
                               Map<String, String> metadata) {
        this.index = index;
        this.shardOf = shardOf;
        this.shards = shards;
        this.names = List.copyOf(shardOf.keySet());
        this.metadata = metadata;
    }

    /**
     * Opens the index at {@code indexPath} and every shard it names.
     *
     * @throws SafeTensorsFormatException when the index is malformed, a shard is missing or
     *     malformed, or a listed tensor is not in its shard
     */
    public static ShardedSafeTensors open(Path indexPath) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readAllBytes(indexPath));
        } catch (JsonProcessingException e) {
            throw new SafeTensorsFormatException(indexPath, "index is not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new SafeTensorsFormatException(indexPath, "index must be a JSON object with a \"weight_map\"");
        }
        JsonNode weightMap = root.get("weight_map");
        if (weightMap == null || !weightMap.isObject()) {
            throw new SafeTensorsFormatException(indexPath, "index has no \"weight_map\" object mapping tensor names to files");
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        JsonNode metadataNode = root.get("metadata");
        if (metadataNode != null && metadataNode.isObject()) {
            metadataNode.fields().forEachRemaining(f -> metadata.put(f.getKey(),
                    f.getValue().isTextual() ? f.getValue().textValue() : f.getValue().toString()));
        }

        // Open each distinct shard once, in the order the index first names it.
        Path directory = indexPath.toAbsolutePath().getParent();
        Map<String, SafeTensorsFile> byFile = new LinkedHashMap<>();
        Map<String, SafeTensorsFile> shardOf = new TreeMap<>();
        try {
            for (Iterator<Map.Entry<String, JsonNode>> it = weightMap.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> entry = it.next();
                String name = entry.getKey();
                if (!entry.getValue().isTextual()) {
                    throw new SafeTensorsFormatException(indexPath, "weight_map entry of tensor '" + name
                            + "' must be a file name, found " + entry.getValue());
                }
                String fileName = entry.getValue().textValue();
                SafeTensorsFile shard = byFile.get(fileName);
                if (shard == null) {
                    Path shardPath = directory.resolve(fileName);
                    if (!Files.isRegularFile(shardPath)) {
                        throw new SafeTensorsFormatException(indexPath, "shard file " + fileName + " of tensor '" + name
                                + "' not found at " + shardPath + "; download every shard the index lists");
                    }
                    shard = SafeTensorsFile.open(shardPath);
                    byFile.put(fileName, shard);
                }
                if (!shard.contains(name)) {
                    throw new SafeTensorsFormatException(indexPath, "tensor '" + name + "' is listed in shard "
                            + fileName + ", which does not contain it");
                }
                shardOf.put(name, shard);
            }
        } catch (IOException | RuntimeException e) {
            for (SafeTensorsFile shard : byFile.values()) {
                try {
                    shard.close();
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
        return new ShardedSafeTensors(indexPath, Collections.unmodifiableMap(shardOf),
                List.copyOf(byFile.values()), Collections.unmodifiableMap(metadata));
    }

    /** Returns the shard files, in the order the index first names them. */
    public List<SafeTensorsFile> shards() {
        return shards;
    }

    private SafeTensorsFile shard(String name) {
        SafeTensorsFile shard = shardOf.get(name);
        if (shard == null) {
            throw new IllegalArgumentException(index + ": no tensor named '" + name + "' in the weight_map, which lists "
                    + names.size() + " tensors");
        }
        return shard;
    }

    @Override
    public List<String> names() {
        return names;
    }

    @Override
    public boolean contains(String name) {
        return shardOf.containsKey(name);
    }

    @Override
    public TensorInfo info(String name) {
        return shard(name).info(name);
    }

    @Override
    public Map<String, String> metadata() {
        return metadata;
    }

    @Override
    public float[] readFloat32(String name) throws IOException {
        return shard(name).readFloat32(name);
    }

    @Override
    public void readFloat32(String name, float[] dst, int offset) throws IOException {
        shard(name).readFloat32(name, dst, offset);
    }

    @Override
    public double[] readDoubles(String name) throws IOException {
        return shard(name).readDoubles(name);
    }

    @Override
    public long[] readLongs(String name) throws IOException {
        return shard(name).readLongs(name);
    }

    @Override
    public int[] readInts(String name) throws IOException {
        return shard(name).readInts(name);
    }

    @Override
    public byte[] readBytes(String name) throws IOException {
        return shard(name).readBytes(name);
    }

    @Override
    public boolean[] readBooleans(String name) throws IOException {
        return shard(name).readBooleans(name);
    }

    @Override
    public void close() throws IOException {
        IOException first = null;
        for (SafeTensorsFile shard : new ArrayList<>(shards)) {
            try {
                shard.close();
            } catch (IOException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
