package dev.transact4j.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.transact4j.llama.checkpoint.LlamaCheckpoint;
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
        assertTrue(message.startsWith("Model directory " + file + " not found or not a directory"), message);
    }

    @Test
    void missingConfig() throws IOException {
        Files.delete(directory.resolve(LlamaConfig.FILE_NAME));
        String message = assertThrows(IllegalArgumentException.class, () -> LlamaCheckpoint.load(directory)).getMessage();
        assertEquals("Llama config " + directory.resolve(LlamaConfig.FILE_NAME) + " not found. Pass a config.json "
                + "file or the model directory that contains it.", message);
    }

    @Test
    void missingWeights() throws IOException {
        Files.delete(directory.resolve(SafeTensors.MODEL_FILE));
        String message = assertThrows(java.nio.file.NoSuchFileException.class, () -> LlamaCheckpoint.load(directory))
                .getMessage();
        assertTrue(message.contains("no weights in " + directory + ": neither model.safetensors nor "
                + "model.safetensors.index.json exists"), message);
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
        assertTrue(message.startsWith(directory.resolve(SafeTensors.MODEL_FILE) + ": the weights do not match "
                + "the Llama config " + directory.resolve(LlamaConfig.FILE_NAME) + ": 1 missing, 0 unexpected, "
                + "0 with the wrong shape."), message);
        assertTrue(message.contains("\n  missing: " + Q_PROJ + " [32, 32] (num_attention_heads * head_dim = 4 * 8, "
                + "hidden_size)"), message);
    }

    @Test
    void weightShapeMismatch() throws IOException {
        rewriteWeights(writer -> writer.add(Q_PROJ, new float[24 * 32], new int[] {24, 32}), Q_PROJ);
        String message = assertThrows(IllegalArgumentException.class, () -> LlamaCheckpoint.load(directory)).getMessage();
        assertTrue(message.contains("\n  wrong shape: " + Q_PROJ + " is [24, 32], expected [32, 32]"), message);
        assertTrue(message.endsWith("a pruned model needs the config written with its pruned sizes."), message);
    }

    @Test
    void unexpectedTensorAndIntegerDtype() throws IOException {
        rewriteWeights(writer -> {
            writer.add("model.layers.2.mlp.up_proj.weight", new float[4], new int[] {2, 2});
            writer.addInts(Q_PROJ, new int[32 * 32], new int[] {32, 32});
        }, Q_PROJ);
        String message = assertThrows(IllegalArgumentException.class, () -> LlamaCheckpoint.load(directory)).getMessage();
        assertTrue(message.contains("0 missing, 1 unexpected, 0 with the wrong shape, 1 not floating point."), message);
        assertTrue(message.contains("\n  wrong dtype: " + Q_PROJ + " is I32, expected F32, F16, BF16 or F64"), message);
        assertTrue(message.contains("\n  unexpected: model.layers.2.mlp.up_proj.weight [2, 2]"), message);
    }

    @Test
    void inverseFrequencyBuffersAreSkipped() throws IOException {
        String buffer = "model.layers.0.self_attn.rotary_emb.inv_freq";
        rewriteWeights(writer -> writer.add(buffer, new float[4], new int[] {4}));
        LlamaCheckpoint.Loaded loaded = LlamaCheckpoint.load(directory);
        assertEquals(LlamaFixtures.load("gqa").report().tensors(), loaded.report().tensors(), "tensors loaded");
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
        assertEquals("HfCheckpoint.save: dtype I32 is not supported; use F32 or BF16", message);
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
