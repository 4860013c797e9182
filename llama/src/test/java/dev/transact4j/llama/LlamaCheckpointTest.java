package dev.transact4j.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.transact4j.llama.checkpoint.LlamaCheckpoint;
import dev.transact4j.llama.checkpoint.LlamaWeights;
import dev.transact4j.nn.Parameter;
import dev.transact4j.nn.safetensors.DType;
import dev.transact4j.nn.safetensors.SafeTensors;
import dev.transact4j.tensor.GradMode;
import dev.transact4j.tensor.HalfFloats;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Saves and loads fixture models and checks that nothing changes on the way. */
class LlamaCheckpointTest {

    @TempDir
    Path temp;

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"mha", "tied", "bias", "head_dim", "bf16", "rope_keep"})
    void float32RoundTripIsBitwise(String name) throws IOException {
        LlamaCheckpoint.Loaded original = LlamaFixtures.load(name);
        Path out = LlamaCheckpoint.save(original.model(), temp.resolve("out"), DType.F32, original.checkpoint());
        LlamaCheckpoint.Loaded reloaded = LlamaCheckpoint.load(out);

        assertParametersEqual(original.model(), reloaded.model());
        LlamaConfig config = reloaded.model().config();
        assertEquals(original.model().config(), config.toBuilder().torchDtype(original.model().config().torchDtype()).build(),
                "config apart from torch_dtype");
        assertEquals("float32", config.torchDtype(), "torch_dtype");
        assertArrayEquals(logits(original.model(), name), logits(reloaded.model(), name), "logits");
    }

    @Test
    void bfloat16SaveRoundsToNearestEven() throws IOException {
        LlamaForCausalLM model = LlamaFixtures.load("mha").model();
        Path out = LlamaCheckpoint.save(model, temp.resolve("out"), DType.BF16, null);
        try (SafeTensors weights = SafeTensors.open(out)) {
            assertEquals(DType.BF16, weights.info(LlamaWeights.EMBED_TOKENS).dtype(), "stored dtype");
        }
        LlamaForCausalLM reloaded = LlamaCheckpoint.load(out).model();
        assertEquals("bfloat16", reloaded.config().torchDtype(), "torch_dtype");
        for (Map.Entry<String, Parameter> entry : model.namedParameters().entrySet()) {
            float[] original = entry.getValue().data();
            float[] stored = reloaded.namedParameters().get(entry.getKey()).data();
            for (int i = 0; i < original.length; i++) {
                float expected = HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(original[i]));
                assertEquals(Float.floatToIntBits(expected), Float.floatToIntBits(stored[i]), entry.getKey() + "[" + i + "]");
            }
        }
    }

    @Test
    void bfloat16FixtureSurvivesBfloat16Save() throws IOException {
        LlamaForCausalLM model = LlamaFixtures.load("bf16").model();
        Path out = LlamaCheckpoint.save(model, temp.resolve("out"), DType.BF16, null);
        assertParametersEqual(model, LlamaCheckpoint.load(out).model());
    }

    @Test
    void shardedRoundTripIsBitwise() throws IOException {
        LlamaForCausalLM model = LlamaFixtures.load("gqa").model();
        Path out = LlamaCheckpoint.save(model, temp.resolve("out"), DType.F32, null, 20_000);
        assertTrue(Files.exists(out.resolve(SafeTensors.INDEX_FILE)), "index written");
        assertFalse(Files.exists(out.resolve(SafeTensors.MODEL_FILE)), "no single file");
        assertParametersEqual(model, LlamaCheckpoint.load(out).model());
    }

    @Test
    void companionFilesAreKept() throws IOException {
        Path source = temp.resolve("source");
        Files.createDirectories(source);
        for (String file : List.of("config.json", "model.safetensors")) {
            Files.copy(LlamaFixtures.directory("tied").resolve(file), source.resolve(file));
        }
        Files.writeString(source.resolve("generation_config.json"), "{\"max_new_tokens\": 7}\n");
        Files.writeString(source.resolve("tokenizer.json"), "{\"model\": {}}\n");

        LlamaCheckpoint.Loaded loaded = LlamaCheckpoint.load(source);
        Path target = LlamaCheckpoint.save(loaded.model(), temp.resolve("target"), DType.F32, loaded.checkpoint());
        assertEquals(7, LlamaCheckpoint.load(target).checkpoint().generationConfig().get("max_new_tokens").intValue(),
                "generation_config.json");
        assertEquals("{\"model\": {}}\n", Files.readString(target.resolve("tokenizer.json")), "tokenizer.json");
        assertFalse(Files.exists(target.resolve("tokenizer_config.json")), "absent companion not created");
    }

    @Test
    void tiedModelStoresNoLmHead() throws IOException {
        LlamaForCausalLM model = LlamaFixtures.load("tied").model();
        assertTrue(model.tied(), "fixture is tied");
        assertSame(model.model().embedTokens().weight(), model.lmHead().weight(), "one shared parameter");
        Path out = LlamaCheckpoint.save(model, temp.resolve("out"), DType.F32, null);
        try (SafeTensors weights = SafeTensors.open(out)) {
            assertFalse(weights.contains(LlamaWeights.LM_HEAD), "lm_head.weight stored");
        }
        assertTrue(LlamaCheckpoint.load(out).model().config().tieWordEmbeddings(), "tie_word_embeddings");
    }

    @Test
    void missingLmHeadLoadsTied() throws IOException {
        // an untied config whose checkpoint lacks lm_head.weight is read with tied embeddings
        LlamaForCausalLM untied = LlamaFixtures.load("mha").model();
        assertFalse(untied.tied(), "fixture is untied");
        LlamaForCausalLM tiedCopy = new LlamaForCausalLM(untied.config(), true);
        tiedCopy.loadStateDict(stateWithEmbeddingAsHead(untied), true);
        Path out = LlamaCheckpoint.save(tiedCopy, temp.resolve("out"), DType.F32, null);
        untied.config().save(out.resolve(LlamaConfig.FILE_NAME));

        LlamaCheckpoint.Loaded loaded = LlamaCheckpoint.load(out);
        assertTrue(loaded.model().tied(), "loaded tied");
        assertEquals("the checkpoint stores no lm_head.weight", loaded.report().tiedReason(), "reason");
        assertTrue(loaded.report().toString().contains("lm_head: tied to model.embed_tokens.weight"),
                loaded.report().toString());
    }

    @Test
    void reportCountsTensorsAndDtypes() {
        LlamaCheckpoint.Loaded loaded = LlamaFixtures.load("bf16");
        LlamaCheckpoint.LoadReport report = loaded.report();
        assertEquals(loaded.model().namedParameters().size(), report.tensors(), "tensors");
        assertEquals(Map.of("BF16", report.tensors()), report.dtypes(), "dtypes");
        assertEquals(loaded.model().parameterCount(), report.parameters(), "parameters");
        assertEquals("tie_word_embeddings is false", report.tiedReason(), "reason");
    }

    @Test
    void parameterNamesMatchTheWeightTable() {
        for (String name : LlamaFixtures.NAMES) {
            LlamaForCausalLM model = LlamaFixtures.load(name).model();
            Map<String, LlamaWeights.Expected> table = LlamaWeights.expected(model.config());
            assertEquals(List.copyOf(table.keySet()), List.copyOf(model.namedParameters().keySet()), name + " names");
            for (Map.Entry<String, Parameter> entry : model.namedParameters().entrySet()) {
                assertArrayEquals(table.get(entry.getKey()).shape(), entry.getValue().shape(), name + " " + entry.getKey());
            }
        }
    }

    /** Returns the state dict of {@code model} with lm_head.weight replaced by the embedding. */
    private static Map<String, dev.transact4j.tensor.Tensor> stateWithEmbeddingAsHead(LlamaForCausalLM model) {
        Map<String, dev.transact4j.tensor.Tensor> state = new java.util.LinkedHashMap<>(model.stateDict());
        state.put(LlamaWeights.LM_HEAD, state.get(LlamaWeights.EMBED_TOKENS));
        return state;
    }

    private static void assertParametersEqual(LlamaForCausalLM expected, LlamaForCausalLM actual) {
        assertEquals(List.copyOf(expected.namedParameters().keySet()), List.copyOf(actual.namedParameters().keySet()),
                "parameter names");
        for (Map.Entry<String, Parameter> entry : expected.namedParameters().entrySet()) {
            Parameter other = actual.namedParameters().get(entry.getKey());
            assertArrayEquals(entry.getValue().shape(), other.shape(), entry.getKey() + " shape");
            float[] a = entry.getValue().data();
            float[] b = other.data();
            for (int i = 0; i < a.length; i++) {
                assertEquals(Float.floatToIntBits(a[i]), Float.floatToIntBits(b[i]), entry.getKey() + "[" + i + "]");
            }
        }
    }

    private static float[] logits(LlamaForCausalLM model, String fixture) {
        int[] ids = LlamaFixtures.reference(fixture).get("input_ids").ints();
        try (GradMode.Scope scope = GradMode.noGrad()) {
            return model.logits(ids, LlamaFixtures.BATCH, LlamaFixtures.SEQ_LEN).toArray();
        }
    }
}
