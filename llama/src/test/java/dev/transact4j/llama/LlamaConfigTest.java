package dev.transact4j.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LlamaConfigTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    @TempDir
    Path dir;

    /** Copies test resource configs/{name}.json to {dir}/{name}/config.json and returns that directory. */
    private Path resourceModel(String name) throws IOException {
        Path model = dir.resolve(name);
        Files.createDirectories(model);
        try (InputStream in = getClass().getClassLoader().getResourceAsStream("configs/" + name + ".json")) {
            assertTrue(in != null, "missing test resource configs/" + name + ".json");
            Files.write(model.resolve("config.json"), in.readAllBytes());
        }
        return model;
    }

    private ObjectNode resourceJson(String name) throws IOException {
        return (ObjectNode) MAPPER.readTree(Files.readString(resourceModel(name).resolve("config.json")));
    }

    @Test
    void parsesLlama2() throws IOException {
        LlamaConfig c = LlamaConfig.load(resourceModel("llama-2-7b"));

        assertEquals(32000, c.vocabSize());
        assertEquals(4096, c.hiddenSize());
        assertEquals(11008, c.intermediateSize());
        assertEquals(32, c.numHiddenLayers());
        assertEquals(32, c.numAttentionHeads());
        assertEquals(32, c.numKeyValueHeads());
        assertEquals(128, c.headDim());
        assertEquals(4096, c.attentionWidth());
        assertEquals(4096, c.maxPositionEmbeddings());
        assertEquals(1e-5, c.rmsNormEps());
        assertEquals(10000.0, c.ropeTheta(), "rope_theta is absent and defaults to 10000");
        assertTrue(c.ropeScaling().isNone());
        assertFalse(c.tieWordEmbeddings());
        assertFalse(c.attentionBias());
        assertFalse(c.mlpBias());
        assertArrayEquals(new int[] {1}, c.bosTokenIds());
        assertArrayEquals(new int[] {2}, c.eosTokenIds());
        assertNull(c.padTokenId());
        assertEquals("float16", c.torchDtype());
        assertNull(c.ropeKeptFrequencies());
        assertEquals(List.of("architectures", "model_type", "pretraining_tp", "transformers_version", "use_cache"),
                List.copyOf(c.extraFields().keySet()));
    }

    @Test
    void parsesLlama31WithLlama3Scaling() throws IOException {
        LlamaConfig c = LlamaConfig.load(resourceModel("llama-3.1-8b-instruct").resolve("config.json"));

        assertEquals(128256, c.vocabSize());
        assertEquals(8, c.numKeyValueHeads());
        assertEquals(4, c.queriesPerKeyValueHead());
        assertEquals(1024, c.keyValueWidth());
        assertEquals(500000.0, c.ropeTheta());
        assertEquals(131072, c.maxPositionEmbeddings());
        RopeScaling s = c.ropeScaling();
        assertEquals(RopeScaling.Type.LLAMA3, s.type());
        assertEquals(8.0, s.factor(c.maxPositionEmbeddings()));
        assertEquals(1.0, s.lowFreqFactor());
        assertEquals(4.0, s.highFreqFactor());
        assertEquals(8192, s.originalMaxPositionEmbeddings(c.maxPositionEmbeddings()));
        assertArrayEquals(new int[] {128000}, c.bosTokenIds());
        assertArrayEquals(new int[] {128001, 128008, 128009}, c.eosTokenIds());
        assertEquals("bfloat16", c.torchDtype());
    }

    @Test
    void parsesTinyLlamaGroupedQueryAttention() throws IOException {
        LlamaConfig c = LlamaConfig.load(resourceModel("tinyllama-1.1b"));

        assertEquals(32, c.numAttentionHeads());
        assertEquals(4, c.numKeyValueHeads());
        assertEquals(8, c.queriesPerKeyValueHead());
        assertEquals(64, c.headDim());
        assertEquals(2048, c.attentionWidth());
        assertEquals(256, c.keyValueWidth());
        assertEquals(22, c.numHiddenLayers());
    }

    @Test
    void parsesSmolLmTiedEmbeddings() throws IOException {
        LlamaConfig c = LlamaConfig.load(resourceModel("smollm-135m"));

        assertTrue(c.tieWordEmbeddings());
        assertEquals(9, c.numAttentionHeads());
        assertEquals(3, c.numKeyValueHeads());
        assertEquals(64, c.headDim());
        assertArrayEquals(new int[] {0}, c.bosTokenIds());
        assertArrayEquals(new int[] {0}, c.eosTokenIds());
    }

    @Test
    void parsesYarnWithOldTypeSpelling() throws IOException {
        LlamaConfig c = LlamaConfig.load(resourceModel("yarn-llama-2-7b-64k"));

        RopeScaling s = c.ropeScaling();
        assertEquals(RopeScaling.Type.YARN, s.type());
        assertEquals(16.0, s.factor(c.maxPositionEmbeddings()));
        assertEquals(4096, s.originalMaxPositionEmbeddings(c.maxPositionEmbeddings()));
        assertEquals(32.0, s.betaFast());
        assertEquals(1.0, s.betaSlow());
        assertNull(s.attentionFactor());
        assertTrue(s.truncate());
        assertEquals(0, c.padTokenId());
    }

    @Test
    void parsesPrunedConfigWithKeptFrequencies() throws IOException {
        LlamaConfig c = LlamaConfig.load(resourceModel("pruned-rope-keep"));

        assertEquals(8, c.headDim());
        assertEquals(32, c.attentionWidth());
        assertEquals(16, c.keyValueWidth());
        assertEquals(64, c.hiddenSize());
        RopeKeptFrequencies kept = c.ropeKeptFrequencies();
        assertEquals(16, kept.originalHeadDim());
        assertFalse(kept.isPerLayer());
        assertArrayEquals(new int[] {0, 2, 5, 7}, kept.forLayer(0));
        assertArrayEquals(new int[] {0, 2, 5, 7}, kept.forLayer(1));
    }

    @Test
    void roundTripKeepsEveryField() throws IOException {
        for (String name : List.of("llama-2-7b", "llama-3.1-8b-instruct", "tinyllama-1.1b", "smollm-135m",
                "yarn-llama-2-7b-64k", "pruned-rope-keep", "llama-3.2-1b-transformers5")) {
            ObjectNode original = resourceJson(name);
            LlamaConfig c = LlamaConfig.load(dir.resolve(name));
            Path out = c.save(dir.resolve(name + "-copy.json"));
            ObjectNode written = (ObjectNode) MAPPER.readTree(Files.readString(out));

            for (Iterator<Map.Entry<String, JsonNode>> it = original.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> field = it.next();
                assertEquals(field.getValue(), written.get(field.getKey()), name + ": field " + field.getKey());
            }
            assertEquals(c, LlamaConfig.load(out), name + ": reloaded config");
        }
    }

    @Test
    void roundTripKeepsNestedUnknownFields() throws IOException {
        LlamaConfig yarn = LlamaConfig.load(resourceModel("yarn-llama-2-7b-64k"));
        JsonNode scaling = yarn.toJson().get("rope_scaling");
        assertEquals("yarn", scaling.get("type").asText(), "the old 'type' spelling is written back");
        assertFalse(scaling.has("rope_type"));
        assertTrue(scaling.get("finetuned").asBoolean());

        LlamaConfig pruned = LlamaConfig.load(resourceModel("pruned-rope-keep"));
        JsonNode pruning = pruned.toJson().get("transact4j_pruning");
        assertEquals(2, pruning.get("shots").asInt());
        assertEquals("transact", pruning.get("method").asText());
    }

    @Test
    void writtenTextIsSortedAndIndented() throws IOException {
        String text = LlamaConfig.tiny().toJsonString();

        assertTrue(text.startsWith("{\n  \"architectures\": ["), text);
        assertTrue(text.endsWith("}\n"));
        JsonNode parsed = MAPPER.readTree(text);
        String previous = "";
        for (Iterator<String> names = parsed.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            assertTrue(previous.compareTo(name) < 0, "keys out of order: " + previous + " then " + name);
            previous = name;
        }
    }

    @Test
    void saveReplacesAtomicallyWithoutLeftovers() throws IOException {
        Path model = dir.resolve("model");
        Files.createDirectories(model);
        Files.writeString(model.resolve("config.json"), "old contents");

        Path written = LlamaConfig.small().save(model);

        assertEquals(model.resolve("config.json"), written);
        assertEquals(LlamaConfig.small(), LlamaConfig.load(model));
        try (Stream<Path> files = Files.list(model)) {
            assertEquals(List.of(written), files.toList(), "no temporary file is left behind");
        }
    }

    @Test
    void saveIntoMissingParentFailsCleanly() throws IOException {
        Path blocker = dir.resolve("file");
        Files.writeString(blocker, "x");

        UncheckedIOException e = assertThrows(UncheckedIOException.class,
                () -> LlamaConfig.tiny().save(blocker.resolve("sub").resolve("config.json")));
        assertTrue(e.getMessage().contains("Failed to write Llama config"), e.getMessage());
    }

    @Test
    void presetsHaveDocumentedShapes() {
        LlamaConfig tiny = LlamaConfig.tiny();
        assertEquals(256, tiny.hiddenSize());
        assertEquals(4, tiny.numHiddenLayers());
        assertEquals(8, tiny.numAttentionHeads());
        assertEquals(8, tiny.numKeyValueHeads());
        assertEquals(32, tiny.headDim());
        assertEquals(688, tiny.intermediateSize());
        assertEquals(8192, tiny.vocabSize());
        assertEquals(1024, tiny.maxPositionEmbeddings());

        LlamaConfig small = LlamaConfig.small();
        assertEquals(512, small.hiddenSize());
        assertEquals(8, small.numHiddenLayers());
        assertEquals(8, small.numAttentionHeads());
        assertEquals(64, small.headDim());
        assertEquals(1376, small.intermediateSize());
        assertEquals(8192, small.vocabSize());
        assertEquals("llama", small.extraFields().get("model_type").asText());
    }

    @Test
    void withMethodsCopyAndValidate() throws IOException {
        LlamaConfig tiny = LlamaConfig.tiny();

        LlamaConfig pruned = tiny.withAttentionHeads(6, 2, 16).withIntermediateSize(300).withNumHiddenLayers(3);

        assertEquals(8, tiny.numAttentionHeads(), "the original is unchanged");
        assertEquals(6, pruned.numAttentionHeads());
        assertEquals(2, pruned.numKeyValueHeads());
        assertEquals(16, pruned.headDim());
        assertEquals(96, pruned.attentionWidth());
        assertEquals(300, pruned.intermediateSize());
        assertEquals(3, pruned.numHiddenLayers());
        assertEquals(256, pruned.hiddenSize());
        ObjectNode json = pruned.toJson();
        assertEquals(96, json.get("mha_inter_size").asInt());
        assertEquals(16, json.get("head_dim").asInt());
        assertFalse(tiny.toJson().has("mha_inter_size"), "unpruned configs do not gain the field");
        assertEquals(pruned, LlamaConfig.load(pruned.save(dir.resolve("pruned.json"))));

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tiny.withAttentionHeads(6, 4, 16));
        assertTrue(e.getMessage().contains("num_attention_heads 6 is not a multiple of num_key_value_heads 4"),
                e.getMessage());
    }

    @Test
    void withKeptFrequenciesChecksCount() {
        LlamaConfig halved = LlamaConfig.tiny().withAttentionHeads(8, 8, 16);
        LlamaConfig kept = halved.withRopeKeptFrequencies(RopeKeptFrequencies.global(32, new int[] {0, 1, 2, 3, 8, 9, 10, 15}));
        assertEquals(8, kept.ropeKeptFrequencies().forLayer(2).length);

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> halved.withRopeKeptFrequencies(RopeKeptFrequencies.global(32, new int[] {0, 1, 2})));
        assertTrue(e.getMessage().contains("keeps 3 frequencies, which rotate 6 dimensions, but head_dim is 16"),
                e.getMessage());
    }

    @Test
    void perLayerKeptFrequenciesRoundTrip() {
        LlamaConfig base = LlamaConfig.tiny().withAttentionHeads(8, 8, 4);
        RopeKeptFrequencies kept = RopeKeptFrequencies.perLayer(32,
                List.of(new int[] {0, 1}, new int[] {3, 9}, new int[] {0, 15}, new int[] {2, 4}));
        LlamaConfig c = base.withRopeKeptFrequencies(kept);

        assertArrayEquals(new int[] {3, 9}, c.ropeKeptFrequencies().forLayer(1));
        assertEquals(c, LlamaConfig.parse(c.toJsonString(), "per-layer"));

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.withNumHiddenLayers(3));
        assertTrue(e.getMessage().contains("per_layer has 4 lists but num_hidden_layers is 3"), e.getMessage());
    }

    @Test
    void perHeadKeptFrequenciesRoundTrip() throws IOException {
        // tiny: 4 layers, 8 heads; grouped as 4 kv heads of head_dim 4 (2 kept pairs of the original 16)
        int[][][] indices = new int[4][4][];
        for (int layer = 0; layer < 4; layer++) {
            for (int head = 0; head < 4; head++) {
                indices[layer][head] = new int[] {layer + head, 15 - head};
            }
        }
        LlamaConfig c = LlamaConfig.tiny().toBuilder().numAttentionHeads(8).numKeyValueHeads(4).headDim(4)
                .mhaInterSize(32).ropeKeptFrequencies(RopeKeptFrequencies.perLayerPerHead(32, indices)).build();

        Path file = c.save(dir.resolve("per-head"));
        ObjectNode written = (ObjectNode) MAPPER.readTree(Files.readString(file));
        assertEquals("keep", written.get("transact4j_rope").asText());
        assertEquals("[[2,15],[3,14],[4,13],[5,12]]",
                written.get("rope_kept_frequencies").get("per_layer_per_head").get(2).toString());
        LlamaConfig loaded = LlamaConfig.load(file);
        assertEquals(c, loaded);
        RopeKeptFrequencies kept = loaded.ropeKeptFrequencies();
        assertEquals(RopeKeptFrequencies.Form.PER_LAYER_PER_HEAD, kept.form());
        assertTrue(kept.isPerHead());
        assertArrayEquals(new int[] {4, 13}, kept.forHead(2, 2));
        assertArrayEquals(new int[] {0, 15}, kept.forHead(0, 0));
        assertThrows(IllegalStateException.class, () -> kept.forLayer(0));
    }

    @Test
    void sharedFormsAnswerEveryHead() {
        RopeKeptFrequencies global = RopeKeptFrequencies.global(16, new int[] {1, 6});
        RopeKeptFrequencies perLayer = RopeKeptFrequencies.perLayer(16, List.of(new int[] {0, 2}, new int[] {3, 7}));

        assertArrayEquals(new int[] {1, 6}, global.forHead(5, 3));
        assertArrayEquals(new int[] {3, 7}, perLayer.forHead(1, 9));
        assertEquals(RopeKeptFrequencies.Form.GLOBAL, global.form());
        assertFalse(perLayer.isPerHead());
        assertThrows(IndexOutOfBoundsException.class, () -> perLayer.forHead(2, 0));

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RopeKeptFrequencies.perLayerPerHead(16, new int[][][] {{{0, 1}, null}}));
        assertEquals("rope_kept_frequencies.per_layer_per_head[0][1] is missing; give the kept rotary frequency indices",
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> RopeKeptFrequencies.perLayerPerHead(16, new int[][][] {{{0, 1}}, {{0, 1}, {2, 3}}}));
        assertEquals("rope_kept_frequencies.per_layer_per_head[1] has 2 kv heads but layer 0 has 1; every layer has"
                + " num_key_value_heads lists", e.getMessage());
    }

    @Test
    void badPerHeadFrequenciesAreRejected() throws IOException {
        String m = failure("per-head-count", json -> {
            var layers = json.putObject("rope_kept_frequencies").put("original_head_dim", 64).putArray("per_layer_per_head");
            for (int layer = 0; layer < 22; layer++) {
                var heads = layers.addArray();
                heads.addArray().add(0).add(1);
            }
        });
        assertContains(m, "rope_kept_frequencies.per_layer_per_head has 1 lists per layer but num_key_value_heads is 4");

        m = failure("per-head-order", json -> json.putObject("rope_kept_frequencies").put("original_head_dim", 64)
                .putArray("per_layer_per_head").addArray().addArray().add(3).add(2));
        assertContains(m, "rope_kept_frequencies.per_layer_per_head[0][0] must be strictly increasing, found 3 then 2");

        m = failure("two-forms", json -> {
            ObjectNode kept = json.putObject("rope_kept_frequencies").put("original_head_dim", 64);
            kept.putArray("indices").add(0);
            kept.putArray("per_layer_per_head");
        });
        assertContains(m, "must contain exactly one of", "found 2");
    }

    @Test
    void ropeMarkerIsChecked() throws IOException {
        String m = failure("marker-alone", json -> json.put("transact4j_rope", "keep"));
        assertContains(m, "transact4j_rope is 'keep' but rope_kept_frequencies is missing");

        m = failure("marker-value", json -> json.put("transact4j_rope", "recompute"));
        assertContains(m, "transact4j_rope is 'recompute' but the only value is 'keep'");

        LlamaConfig plain = LlamaConfig.tiny();
        assertFalse(plain.toJson().has("transact4j_rope"), "a standard config carries no marker");
    }

    @Test
    void builderTokenIdForms() {
        LlamaConfig c = LlamaConfig.tiny().toBuilder().bosTokenIds(5).eosTokenIds(6, 7).padTokenId(0).build();
        ObjectNode json = c.toJson();

        assertTrue(json.get("bos_token_id").isArray(), "a list stays a list even with one id");
        assertEquals(5, json.get("bos_token_id").get(0).asInt());
        assertEquals(2, json.get("eos_token_id").size());
        assertEquals(0, json.get("pad_token_id").asInt());
        assertEquals(6, LlamaConfig.tiny().toBuilder().eosTokenId(6).build().toJson().get("eos_token_id").asInt());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LlamaConfig.tiny().toBuilder().eosTokenId(8192).build());
        assertTrue(e.getMessage().startsWith("LlamaConfig: eos_token_id 8192 is outside the vocabulary [0, 8192)"),
                e.getMessage());
    }

    @Test
    void builderRejectsKnownExtraField() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LlamaConfig.builder().extraField("hidden_size", JsonNodeFactory.instance.numberNode(3)));
        assertTrue(e.getMessage().contains("'hidden_size' is a LlamaConfig field"), e.getMessage());
    }

    @Test
    void equalityFollowsContent() throws IOException {
        assertEquals(LlamaConfig.tiny(), LlamaConfig.tiny());
        assertEquals(LlamaConfig.tiny().hashCode(), LlamaConfig.tiny().hashCode());
        assertNotEquals(LlamaConfig.tiny(), LlamaConfig.small());
        assertNotEquals(LlamaConfig.tiny(), LlamaConfig.tiny().toBuilder().rmsNormEps(1e-6).build());
    }

    // ---------------------------------------------------------------- malformed files

    /** Writes the TinyLlama config changed by {@code edit} and returns the message of the load failure. */
    private String failure(String name, java.util.function.Consumer<ObjectNode> edit) throws IOException {
        ObjectNode json = resourceJson("tinyllama-1.1b");
        edit.accept(json);
        return failureOfText(name, MAPPER.writeValueAsString(json));
    }

    private String failureOfText(String name, String text) throws IOException {
        Path file = dir.resolve(name + ".json");
        Files.writeString(file, text, StandardCharsets.UTF_8);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LlamaConfig.load(file));
        assertTrue(e.getMessage().startsWith(file.toString()), "message names the file: " + e.getMessage());
        return e.getMessage();
    }

    private static void assertContains(String message, String... parts) {
        for (String part : parts) {
            assertTrue(message.contains(part), "expected '" + part + "' in: " + message);
        }
    }

    @Test
    void missingFieldIsNamed() throws IOException {
        String m = failure("missing", json -> json.remove("hidden_size"));
        assertContains(m, "required field 'hidden_size' is missing", "copy the file from the checkpoint");

        m = failure("missing-max", json -> json.remove("max_position_embeddings"));
        assertContains(m, "'max_position_embeddings' is missing", "context length");
    }

    @Test
    void wrongTypesAreNamed() throws IOException {
        String m = failure("string-size", json -> json.put("hidden_size", "2048"));
        assertContains(m, "field 'hidden_size' must be an integer, found a string \"2048\"");

        m = failure("decimal-size", json -> json.put("num_hidden_layers", 22.0));
        assertContains(m, "field 'num_hidden_layers' must be an integer, found a decimal number 22.0");

        m = failure("string-bool", json -> json.put("tie_word_embeddings", "false"));
        assertContains(m, "field 'tie_word_embeddings' must be a boolean");

        m = failure("string-eps", json -> json.put("rms_norm_eps", "1e-5"));
        assertContains(m, "field 'rms_norm_eps' must be a number");

        m = failure("object-eos", json -> json.putObject("eos_token_id"));
        assertContains(m, "field 'eos_token_id' must be an integer or a list of integers");

        m = failure("huge", json -> json.put("vocab_size", 1L << 40));
        assertContains(m, "field 'vocab_size' is 1099511627776, outside the 32-bit integer range");
    }

    @Test
    void unknownRopeTypeIsRejected() throws IOException {
        String m = failure("unknown-rope", json -> json.putObject("rope_scaling").put("rope_type", "spiral").put("factor", 2.0));
        assertContains(m, "field 'rope_scaling.rope_type' is 'spiral', an unknown rotary scaling type",
                "supported types: default, linear, dynamic, llama3, yarn");

        m = failure("old-type", json -> json.putObject("rope_scaling").put("type", "spiral").put("factor", 2.0));
        assertContains(m, "field 'rope_scaling.type' is 'spiral'");

        m = failure("longrope", json -> json.putObject("rope_scaling").put("rope_type", "longrope"));
        assertContains(m, "'longrope', a rotary scaling type transact4j does not implement");

        m = failure("no-type", json -> json.putObject("rope_scaling").put("factor", 2.0));
        assertContains(m, "required field 'rope_scaling.rope_type' is missing", "older 'type'");
    }

    @Test
    void ropeScalingFieldsAreChecked() throws IOException {
        String m = failure("llama3-missing", json -> json.putObject("rope_scaling").put("rope_type", "llama3")
                .put("factor", 8.0).put("high_freq_factor", 4.0).put("original_max_position_embeddings", 8192));
        assertContains(m, "'rope_scaling.low_freq_factor' is missing", "Llama 3.1 uses 8, 1, 4 and 8192");

        m = failure("llama3-order", json -> json.putObject("rope_scaling").put("rope_type", "llama3")
                .put("factor", 8.0).put("low_freq_factor", 4.0).put("high_freq_factor", 4.0));
        assertContains(m, "'rope_scaling.high_freq_factor' is 4.0 but must be greater than low_freq_factor 4.0");

        m = failure("linear-no-factor", json -> json.putObject("rope_scaling").put("rope_type", "linear"));
        assertContains(m, "'rope_scaling.factor' is missing");

        m = failure("negative-factor", json -> json.putObject("rope_scaling").put("rope_type", "dynamic").put("factor", -2.0));
        assertContains(m, "'rope_scaling.factor' is -2.0 but must be positive");

        m = failure("yarn-bare", json -> json.putObject("rope_scaling").put("rope_type", "yarn"));
        assertContains(m, "rope_scaling of type yarn needs 'factor' or 'original_max_position_embeddings'");

        m = failure("scaling-string", json -> json.put("rope_scaling", "linear"));
        assertContains(m, "field 'rope_scaling' must be an object or null");
    }

    @Test
    void defaultRopeTypeMeansNoScaling() throws IOException {
        ObjectNode json = resourceJson("tinyllama-1.1b");
        json.putObject("rope_scaling").put("rope_type", "default");
        LlamaConfig c = LlamaConfig.parse(json.toString(), "default-rope");

        assertTrue(c.ropeScaling().isNone());
        assertEquals("default", c.toJson().get("rope_scaling").get("rope_type").asText());
    }

    @Test
    void oddHeadDimIsRejected() throws IOException {
        String m = failure("odd-explicit", json -> json.put("head_dim", 63));
        assertContains(m, "head_dim 63 is odd, but rotary embedding rotates pairs of dimensions");

        m = failure("odd-derived", json -> json.put("hidden_size", 96).put("num_key_value_heads", 32));
        assertContains(m, "head_dim 3 is odd");
    }

    @Test
    void headsNotDivisibleByKeyValueHeads() throws IOException {
        String m = failure("gqa", json -> json.put("num_key_value_heads", 6));
        assertContains(m, "num_attention_heads 32 is not a multiple of num_key_value_heads 6", "Fix one of the two fields");
    }

    @Test
    void hiddenNotDivisibleByHeads() throws IOException {
        String m = failure("hidden", json -> json.put("hidden_size", 2050));
        assertContains(m, "hidden_size 2050 is not divisible by num_attention_heads 32", "Set head_dim explicitly");
    }

    @Test
    void nonPositiveSizesAreRejected() throws IOException {
        String m = failure("negative", json -> json.put("intermediate_size", -5632));
        assertContains(m, "intermediate_size is -5632 but must be positive");

        m = failure("zero-vocab", json -> json.put("vocab_size", 0));
        assertContains(m, "vocab_size is 0 but must be positive");

        m = failure("zero-kv", json -> json.put("num_key_value_heads", 0));
        assertContains(m, "num_key_value_heads is 0 but must be positive");

        m = failure("zero-eps", json -> json.put("rms_norm_eps", 0.0));
        assertContains(m, "rms_norm_eps is 0.0 but must be a positive number");

        m = failure("zero-theta", json -> json.put("rope_theta", 0.0));
        assertContains(m, "rope_theta is 0.0 but must be a positive number");
    }

    @Test
    void invalidJsonNamesLine() throws IOException {
        String m = failureOfText("truncated", "{\n  \"hidden_size\": 2048,\n  \"vocab_size\": ");
        assertContains(m, "invalid JSON at line 3", "Fix the file");

        m = failureOfText("array", "[1, 2]");
        assertContains(m, "a Llama config must be a JSON object, found array");

        m = failureOfText("empty", "");
        assertContains(m, "found an empty file");

        m = failureOfText("duplicate", "{\"hidden_size\": 1, \"hidden_size\": 2}");
        assertContains(m, "invalid JSON", "Duplicate field 'hidden_size'");
    }

    @Test
    void unsupportedActivationIsRejected() throws IOException {
        String m = failure("gelu", json -> json.put("hidden_act", "gelu"));
        assertContains(m, "hidden_act is 'gelu' but transact4j implements only 'silu'");
    }

    @Test
    void inconsistentMhaInterSizeIsRejected() throws IOException {
        String m = failure("mha", json -> json.put("mha_inter_size", 1000).put("head_dim", 64));
        assertContains(m, "mha_inter_size 1000 does not equal num_attention_heads * head_dim = 32 * 64");

        m = failure("mha-indivisible", json -> json.put("mha_inter_size", 1000).put("num_attention_heads", 48)
                .put("num_key_value_heads", 48).put("hidden_size", 3072));
        assertContains(m, "mha_inter_size 1000 is not divisible by num_attention_heads 48");

        LlamaConfig derived = LlamaConfig.parse(resourceJson("tinyllama-1.1b").put("mha_inter_size", 1024).toString(), "m");
        assertEquals(32, derived.headDim(), "head_dim is derived from mha_inter_size when absent");
    }

    @Test
    void badKeptFrequenciesAreRejected() throws IOException {
        String m = failure("kept-range", json -> json.putObject("rope_kept_frequencies").put("original_head_dim", 64)
                .putArray("indices").add(0).add(32));
        assertContains(m, "rope_kept_frequencies.indices[1] is 32 but must be in [0, 32)");

        m = failure("kept-order", json -> json.putObject("rope_kept_frequencies").put("original_head_dim", 64)
                .putArray("indices").add(3).add(3));
        assertContains(m, "must be strictly increasing, found 3 then 3");

        m = failure("kept-both", json -> json.putObject("rope_kept_frequencies").put("original_head_dim", 64));
        assertContains(m, "must contain exactly one of 'indices'");

        m = failure("kept-count", json -> {
            var array = json.putObject("rope_kept_frequencies").put("original_head_dim", 64).putArray("indices");
            for (int i = 0; i < 31; i++) {
                array.add(i);
            }
        });
        assertContains(m, "keeps 31 frequencies, which rotate 62 dimensions, but head_dim is 64");
    }

    @Test
    void nullTokenIdsMeanNone() throws IOException {
        ObjectNode json = resourceJson("tinyllama-1.1b");
        json.putNull("bos_token_id");
        json.remove("eos_token_id");
        LlamaConfig c = LlamaConfig.parse(json.toString(), "null-bos");

        assertArrayEquals(new int[0], c.bosTokenIds());
        assertArrayEquals(new int[] {2}, c.eosTokenIds(), "absent eos takes the transformers default");
        assertTrue(c.toJson().get("bos_token_id").isNull());
        assertEquals(c, LlamaConfig.parse(c.toJsonString(), "null-bos written"));
    }

    @Test
    void savedFileGetsDefaultPermissions() throws IOException {
        Path file = LlamaConfig.tiny().save(dir.resolve("saved.json"));
        Path plain = Files.writeString(dir.resolve("plain.json"), "{}");

        if (Files.getFileStore(file).supportsFileAttributeView("posix")) {
            assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(file),
                    "the file gets the umask default, not the 0600 of a temporary file");
        }
    }

    @Test
    void tokenIdsOutsideVocabularyAreRejected() throws IOException {
        String m = failure("eos", json -> json.putArray("eos_token_id").add(2).add(32000));
        assertContains(m, "eos_token_id 32000 is outside the vocabulary [0, 32000)");
    }

    @Test
    void partialRotaryFactorIsRejected() throws IOException {
        String m = failure("partial", json -> json.put("partial_rotary_factor", 0.5));
        assertContains(m, "partial_rotary_factor is 0.5 but transact4j rotates the whole head");

        m = failure("partial-v5", json -> json.putObject("rope_parameters").put("rope_type", "default")
                .put("rope_theta", 1e4).put("partial_rotary_factor", 0.5));
        assertContains(m, "field 'rope_parameters.partial_rotary_factor' is 0.5");
    }

    @Test
    void parsesTransformers5Layout() throws IOException {
        LlamaConfig c = LlamaConfig.load(resourceModel("llama-3.2-1b-transformers5"));

        assertEquals(500000.0, c.ropeTheta());
        assertEquals(RopeScaling.Type.LLAMA3, c.ropeScaling().type());
        assertEquals(32.0, c.ropeScaling().factor(c.maxPositionEmbeddings()));
        assertEquals(8192, c.ropeScaling().originalMaxPositionEmbeddings(c.maxPositionEmbeddings()));
        assertEquals("bfloat16", c.torchDtype());
        assertEquals(64, c.headDim());
        assertTrue(c.tieWordEmbeddings());
        assertFalse(c.extraFields().containsKey("dtype"), "dtype is read, not kept as an extra field");

        ObjectNode written = c.toJson();
        assertFalse(written.has("rope_scaling"), "the layout read is the layout written");
        assertFalse(written.has("rope_theta"));
        assertFalse(written.has("torch_dtype"));
        assertEquals("bfloat16", written.get("dtype").asText());
        assertEquals(500000.0, written.get("rope_parameters").get("rope_theta").asDouble());
    }

    @Test
    void transformers5ThetaChangeIsWritten() {
        ObjectNode json = JsonNodeFactory.instance.objectNode().put("vocab_size", 10).put("hidden_size", 8)
                .put("intermediate_size", 16).put("num_hidden_layers", 1).put("num_attention_heads", 2)
                .put("max_position_embeddings", 64);
        json.putObject("rope_parameters").put("rope_type", "default").put("rope_theta", 10000.0);
        LlamaConfig c = LlamaConfig.parse(json.toString(), "v5").toBuilder().ropeTheta(50000.0).build();

        assertTrue(c.ropeScaling().isNone());
        assertEquals(50000.0, c.toJson().get("rope_parameters").get("rope_theta").asDouble());
        assertEquals(50000.0, LlamaConfig.parse(c.toJsonString(), "v5 written").ropeTheta());
    }

    @Test
    void bothRopeLayoutsAreRejected() throws IOException {
        String m = failure("both", json -> {
            json.putObject("rope_scaling").put("rope_type", "linear").put("factor", 2.0);
            json.putObject("rope_parameters").put("rope_type", "default").put("rope_theta", 1e4);
        });
        assertContains(m, "both 'rope_scaling' and 'rope_parameters' are set");

        LlamaConfig nullScaling = LlamaConfig.parse(resourceJson("tinyllama-1.1b").set("rope_parameters",
                JsonNodeFactory.instance.objectNode().put("rope_type", "default").put("rope_theta", 1e4)).toString(), "n");
        assertTrue(nullScaling.ropeScaling().isNone(), "a null rope_scaling beside rope_parameters is accepted");

        m = failure("v5-type", json -> {
            json.remove("rope_scaling");
            json.putObject("rope_parameters").put("rope_type", "spiral");
        });
        assertContains(m, "field 'rope_parameters.rope_type' is 'spiral', an unknown rotary scaling type");
    }

    @Test
    void missingFileIsNamed() {
        Path file = dir.resolve("nowhere").resolve("config.json");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LlamaConfig.load(file));
        assertContains(e.getMessage(), file.toString(), "not found", "model directory");
    }
}
