package dev.transact4j.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.transact4j.nn.safetensors.DType;
import dev.transact4j.nn.safetensors.SafeTensors;
import dev.transact4j.nn.safetensors.SafeTensorsFormatException;
import dev.transact4j.nn.safetensors.SafeTensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loads broken copies of the gqa fixture and checks that each error names the problem and the file. */
class MalformedCheckpointTest {

    private static final String Q_PROJ = "model.layers.1.self_attn.q_proj.weight";

    @TempDir
    Path temp;

    private Path directory;

    @BeforeEach
    void copyFixture() throws IOException {
        directory = temp.resolve("model");
        Files.createDirectories(directory);
        Path fixture = LlamaFixtures.directory("gqa");
        for (String file : new String[] {"config.json", "model.safetensors"}) {
            Files.copy(fixture.resolve(file), directory.resolve(file));
        }
    }

    @Test
    void notADirectory() {
        Path file = directory.resolve(LlamaConfig.FILE_NAME);
        String message = assertThrows(IllegalArgumentException.class, () -> LlamaCheckpoint.load(file)).getMessage();
        assertTrue(message.startsWith(file + ": not a directory"), message);
    }

    @Test
    void missingConfig() throws IOException {
        Files.delete(directory.resolve(LlamaConfig.FILE_NAME));
        String message = assertThrows(IllegalArgumentException.class, () -> LlamaCheckpoint.load(directory)).getMessage();
        assertEquals(directory + ": config.json not found; a Hugging Face model directory contains config.json "
                + "next to its weights", message);
    }

    @Test
    void missingWeights() throws IOException {
        Files.delete(directory.resolve(SafeTensors.MODEL_FILE));
        String message = assertThrows(IllegalArgumentException.class, () -> LlamaCheckpoint.load(directory)).getMessage();
        assertTrue(message.startsWith(directory + ": neither model.safetensors nor model.safetensors.index.json found"),
                message);
    }

    @Test
    void invalidConfigValue() throws IOException {
        Path config = directory.resolve(LlamaConfig.FILE_NAME);
        Files.writeString(config, Files.readString(config).replace("\"num_key_value_heads\": 2", "\"num_key_value_heads\": 3"));
        String message = assertThrows(IllegalArgumentException.class, () -> LlamaCheckpoint.load(directory)).getMessage();
        assertTrue(message.contains("num_attention_heads 4 is not a multiple of num_key_value_heads 3"), message);
    }

    @Test
    void missingTensor() throws IOException {
        rewriteWeights(writer -> { }, Q_PROJ);
        String message = assertThrows(IllegalArgumentException.class, () -> LlamaCheckpoint.load(directory)).getMessage();
        assertTrue(message.startsWith(directory.resolve(SafeTensors.MODEL_FILE) + ": the weights do not match "), message);
        assertTrue(message.contains("(1 problem): missing tensor " + Q_PROJ + " [32, 32]"), message);
    }

    @Test
    void weightShapeMismatch() throws IOException {
        rewriteWeights(writer -> writer.add(Q_PROJ, new float[24 * 32], new int[] {24, 32}), Q_PROJ);
        String message = assertThrows(IllegalArgumentException.class, () -> LlamaCheckpoint.load(directory)).getMessage();
        assertTrue(message.contains(Q_PROJ + " has shape [24, 32] but the config needs [32, 32]"), message);
        assertTrue(message.endsWith("Fix the checkpoint or its config.json so they describe the same model."), message);
    }

    @Test
    void unexpectedTensorAndIntegerDtype() throws IOException {
        rewriteWeights(writer -> {
            writer.add("model.layers.2.mlp.up_proj.weight", new float[4], new int[] {2, 2});
            writer.addInts(Q_PROJ, new int[32 * 32], new int[] {32, 32});
        }, Q_PROJ);
        String message = assertThrows(IllegalArgumentException.class, () -> LlamaCheckpoint.load(directory)).getMessage();
        assertTrue(message.contains("(2 problems)"), message);
        assertTrue(message.contains(Q_PROJ + " is stored as I32; expected F32, F16, BF16 or F64"), message);
        assertTrue(message.contains("unexpected tensor model.layers.2.mlp.up_proj.weight [2, 2]"), message);
    }

    @Test
    void inverseFrequencyBuffersAreSkipped() throws IOException {
        String buffer = "model.layers.0.self_attn.rotary_emb.inv_freq";
        rewriteWeights(writer -> writer.add(buffer, new float[4], new int[] {4}));
        LlamaCheckpoint.Loaded loaded = LlamaCheckpoint.load(directory);
        assertEquals(java.util.List.of(buffer), loaded.report().skipped(), "skipped");
    }

    @Test
    void truncatedSafetensorsHeader() throws IOException {
        Files.write(directory.resolve(SafeTensors.MODEL_FILE), new byte[] {1, 2, 3});
        SafeTensorsFormatException e = assertThrows(SafeTensorsFormatException.class,
                () -> LlamaCheckpoint.load(directory));
        assertTrue(e.getMessage().contains(directory.resolve(SafeTensors.MODEL_FILE).toString()), e.getMessage());
    }

    @Test
    void saveRejectsIntegerDtype() {
        LlamaForCausalLM model = LlamaFixtures.load("gqa").model();
        String message = assertThrows(IllegalArgumentException.class,
                () -> LlamaCheckpoint.save(model, temp.resolve("out"), DType.I32, null)).getMessage();
        assertEquals("LlamaCheckpoint.save: dtype I32 cannot store the weights; use F32, BF16 or F16", message);
    }

    /** Rewrites model.safetensors with every fixture tensor except {@code drop}, plus what {@code extra} adds. */
    private void rewriteWeights(Consumer<SafeTensorsWriter> extra, String... drop) throws IOException {
        Path file = directory.resolve(SafeTensors.MODEL_FILE);
        SafeTensorsWriter writer = new SafeTensorsWriter();
        try (SafeTensors weights = SafeTensors.open(file)) {
            for (String name : weights.names()) {
                if (!java.util.List.of(drop).contains(name)) {
                    writer.add(name, weights.readFloat32(name), weights.info(name).intShape());
                }
            }
        }
        extra.accept(writer);
        writer.write(file);
    }
}
