package dev.transact4j.nn.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShardedSafeTensorsTest {

    @TempDir
    Path dir;

    private static float[] ramp(int n, float start) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = start + i;
        }
        return out;
    }

    /** Writes four F32 tensors of 40, 40, 80 and 12 bytes as shards of at most 96 bytes. */
    private Path writeShards() throws IOException {
        return new SafeTensorsWriter()
                .add("layer.0.weight", ramp(10, 0f), new int[] {2, 5})
                .add("layer.1.weight", ramp(10, 100f), new int[] {10})
                .add("layer.2.weight", ramp(20, 200f), new int[] {4, 5})
                .add("norm.weight", ramp(3, 300f), new int[] {3})
                .metadata("format", "pt")
                .writeSharded(dir, "model", 96);
    }

    @Test
    void shardedRoundTrip() throws IOException {
        Path index = writeShards();
        assertEquals(dir.resolve(SafeTensors.INDEX_FILE), index);
        assertTrue(Files.exists(dir.resolve("model-00001-of-00002.safetensors")));
        assertTrue(Files.exists(dir.resolve("model-00002-of-00002.safetensors")));

        try (ShardedSafeTensors model = ShardedSafeTensors.open(index)) {
            assertEquals(List.of("layer.0.weight", "layer.1.weight", "layer.2.weight", "norm.weight"), model.names());
            assertEquals(2, model.shards().size());
            assertEquals("172", model.metadata().get("total_size"));
            assertArrayEquals(ramp(10, 0f), model.readFloat32("layer.0.weight"));
            assertArrayEquals(ramp(20, 200f), model.readFloat32("layer.2.weight"));
            assertArrayEquals(ramp(3, 300f), model.readFloat32("norm.weight"));
            assertArrayEquals(new long[] {4, 5}, model.info("layer.2.weight").shape());
            assertEquals("pt", model.shards().get(0).metadata().get("format"));
        }
    }

    @Test
    void openDetectsLayout() throws IOException {
        writeShards();
        try (SafeTensors model = SafeTensors.open(dir)) {
            assertInstanceOf(ShardedSafeTensors.class, model);
            assertEquals(4, model.names().size());
        }

        Path single = Files.createDirectory(dir.resolve("single"));
        new SafeTensorsWriter().add("w", new float[] {1f}, new int[] {1}).write(single.resolve(SafeTensors.MODEL_FILE));
        try (SafeTensors model = SafeTensors.open(single)) {
            assertInstanceOf(SafeTensorsFile.class, model);
            assertArrayEquals(new float[] {1f}, model.readFloat32("w"));
        }

        Path empty = Files.createDirectory(dir.resolve("empty"));
        SafeTensorsFormatException e = assertThrows(SafeTensorsFormatException.class, () -> SafeTensors.open(empty));
        assertTrue(e.getMessage().contains("directory contains neither"), e.getMessage());
    }

    @Test
    void missingShardNamed() throws IOException {
        Path index = writeShards();
        Files.delete(dir.resolve("model-00002-of-00002.safetensors"));
        SafeTensorsFormatException e = assertThrows(SafeTensorsFormatException.class, () -> ShardedSafeTensors.open(index));
        assertTrue(e.getMessage().startsWith(index + ": "), e.getMessage());
        assertTrue(e.getMessage().contains("shard file model-00002-of-00002.safetensors of tensor 'layer.2.weight' not found"),
                e.getMessage());
    }

    @Test
    void tensorMissingFromShard() throws IOException {
        writeShards();
        Path index = dir.resolve("bad.index.json");
        Files.writeString(index, "{\"weight_map\":{\"extra.weight\":\"model-00001-of-00002.safetensors\"}}",
                StandardCharsets.UTF_8);
        SafeTensorsFormatException e = assertThrows(SafeTensorsFormatException.class, () -> ShardedSafeTensors.open(index));
        assertTrue(e.getMessage().contains("tensor 'extra.weight' is listed in shard model-00001-of-00002.safetensors,"
                + " which does not contain it"), e.getMessage());
    }

    @Test
    void indexWithoutWeightMap() throws IOException {
        Path index = dir.resolve("x.index.json");
        Files.writeString(index, "{\"metadata\":{}}", StandardCharsets.UTF_8);
        SafeTensorsFormatException e = assertThrows(SafeTensorsFormatException.class, () -> ShardedSafeTensors.open(index));
        assertTrue(e.getMessage().contains("index has no \"weight_map\""), e.getMessage());
    }

    @Test
    void indexWithDuplicateName() throws IOException {
        Path index = dir.resolve("dup.index.json");
        Files.writeString(index, "{\"weight_map\":{\"w\":\"a.safetensors\",\"w\":\"b.safetensors\"}}",
                StandardCharsets.UTF_8);
        SafeTensorsFormatException e = assertThrows(SafeTensorsFormatException.class, () -> ShardedSafeTensors.open(index));
        assertTrue(e.getMessage().contains("index is not valid JSON: Duplicate field 'w'"), e.getMessage());
    }

    @Test
    void unknownNameInShardedCheckpoint() throws IOException {
        try (ShardedSafeTensors model = ShardedSafeTensors.open(writeShards())) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> model.readFloat32("lm_head.weight"));
            assertTrue(e.getMessage().contains("no tensor named 'lm_head.weight' in the weight_map"), e.getMessage());
        }
    }
}
