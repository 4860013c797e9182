package dev.transact4j.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
    @ValueSource(strings = {"mha", "tied", "bias", "head_dim", "bf16"})
    void float32RoundTripIsBitwise(String name) throws IOException {
        LlamaCheckpoint.Loaded original = LlamaFixtures.load(name);
        LlamaCheckpoint.save(original.model(), temp, DType.F32, original.directory());
        LlamaCheckpoint.Loaded reloaded = LlamaCheckpoint.load(temp);

        assertParametersEqual(original.model(), reloaded.model());
        assertEquals(original.model().config(), withDtype(reloaded.model().config(), original.model().config()),
                "config apart from torch_dtype");
        assertEquals("float32", reloaded.model().config().torchDtype(), "torch_dtype");
        assertArrayEquals(logits(original.model(), name), logits(reloaded.model(), name), "logits");
    }

    @Test
    void bfloat16SaveRoundsToNearestEven() throws IOException {
        LlamaForCausalLM model = LlamaFixtures.load("mha").model();
        LlamaCheckpoint.save(model, temp, DType.BF16, null);
        try (SafeTensors weights = SafeTensors.open(temp)) {
            assertEquals(DType.BF16, weights.info(LlamaParameters.EMBED_TOKENS).dtype(), "stored dtype");
        }
        LlamaForCausalLM reloaded = LlamaCheckpoint.load(temp).model();
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
        LlamaCheckpoint.save(model, temp, DType.BF16, null);
        assertParametersEqual(model, LlamaCheckpoint.load(temp).model());
    }

    @Test
    void shardedRoundTripIsBitwise() throws IOException {
        LlamaCheckpoint.Loaded original = LlamaFixtures.load("gqa");
        Files.writeString(temp.resolve(SafeTensors.MODEL_FILE), "stale");
        LlamaCheckpoint.save(original.model(), temp, DType.F32, null, 20_000);

        assertFalse(Files.exists(temp.resolve(SafeTensors.MODEL_FILE)), "stale single file deleted");
        LlamaCheckpoint.Loaded reloaded = LlamaCheckpoint.load(temp);
        assertTrue(reloaded.report().weightFiles().size() > 1, "shards: " + reloaded.report().weightFiles());
        assertParametersEqual(original.model(), reloaded.model());
    }

    @Test
    void companionFilesAreCopied() throws IOException {
        Path source = temp.resolve("source");
        Path target = temp.resolve("target");
        Files.createDirectories(source);
        for (String file : List.of("config.json", "model.safetensors")) {
            Files.copy(LlamaFixtures.directory("tied").resolve(file), source.resolve(file));
        }
        Files.writeString(source.resolve("generation_config.json"), "{\"max_new_tokens\": 7}\n");
        Files.writeString(source.resolve("tokenizer.json"), "{\"model\": {}}\n");

        LlamaCheckpoint.Loaded loaded = LlamaCheckpoint.load(source);
        LlamaCheckpoint.save(loaded.model(), target, DType.F32, loaded.directory());
        assertEquals("{\"max_new_tokens\": 7}\n", Files.readString(target.resolve("generation_config.json")));
        assertEquals("{\"model\": {}}\n", Files.readString(target.resolve("tokenizer.json")));
        assertFalse(Files.exists(target.resolve("tokenizer_config.json")), "absent companion not created");
    }

    @Test
    void tiedModelStoresNoLmHead() throws IOException {
        LlamaForCausalLM model = LlamaFixtures.load("tied").model();
        assertTrue(model.tied(), "fixture is tied");
        assertSame(model.model().embedTokens().weight(), model.lmHead().weight(), "one shared parameter");
        LlamaCheckpoint.save(model, temp, DType.F32, null);
        try (SafeTensors weights = SafeTensors.open(temp)) {
            assertFalse(weights.contains(LlamaParameters.LM_HEAD), "lm_head.weight stored");
        }
        assertTrue(LlamaCheckpoint.load(temp).model().config().tieWordEmbeddings(), "tie_word_embeddings");
    }

    @Test
    void missingLmHeadLoadsTied() throws IOException {
        // an untied config whose checkpoint lacks lm_head.weight: transformers ties it, and so do we
        LlamaForCausalLM untied = LlamaFixtures.load("mha").model();
        assertFalse(untied.tied(), "fixture is untied");
        LlamaForCausalLM tiedCopy = new LlamaForCausalLM(untied.config(), true);
        tiedCopy.loadStateDict(withoutLmHead(untied), true);
        LlamaCheckpoint.save(tiedCopy, temp, DType.F32, null);
        LlamaConfig untiedConfig = untied.config();
        untiedConfig.save(temp.resolve(LlamaConfig.FILE_NAME));

        LlamaCheckpoint.Loaded loaded = LlamaCheckpoint.load(temp);
        assertTrue(loaded.model().tied(), "loaded tied");
        assertTrue(loaded.report().tiedReason().contains("stores no lm_head.weight"), loaded.report().tiedReason());
        assertTrue(loaded.report().toString().contains("lm_head: tied to model.embed_tokens.weight"),
                loaded.report().toString());
    }

    @Test
    void reportCountsTensorsAndDtypes() {
        LlamaCheckpoint.LoadReport report = LlamaFixtures.load("bf16").report();
        LlamaForCausalLM model = LlamaFixtures.load("bf16").model();
        assertEquals(model.namedParameters().size(), report.tensors(), "tensors");
        assertEquals(Map.of("BF16", report.tensors()), report.dtypes(), "dtypes");
        assertEquals(model.parameterCount(), report.parameters(), "parameters");
        assertEquals(List.of(), report.skipped(), "skipped");
    }

    @Test
    void parameterNamesMatchTheTable() {
        for (String name : LlamaFixtures.NAMES) {
            LlamaForCausalLM model = LlamaFixtures.load(name).model();
            Map<String, int[]> table = LlamaParameters.shapes(model.config(), model.tied());
            assertEquals(List.copyOf(table.keySet()), List.copyOf(model.namedParameters().keySet()), name + " names");
            for (Map.Entry<String, Parameter> entry : model.namedParameters().entrySet()) {
                assertArrayEquals(table.get(entry.getKey()), entry.getValue().shape(), name + " " + entry.getKey());
            }
        }
    }

    private static Map<String, dev.transact4j.tensor.Tensor> withoutLmHead(LlamaForCausalLM model) {
        Map<String, dev.transact4j.tensor.Tensor> state = new java.util.LinkedHashMap<>(model.stateDict());
        state.put(LlamaParameters.LM_HEAD, state.get(LlamaParameters.EMBED_TOKENS));
        return state;
    }

    private static LlamaConfig withDtype(LlamaConfig config, LlamaConfig like) {
        return config.toBuilder().torchDtype(like.torchDtype()).build();
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
