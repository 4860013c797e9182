package dev.transact4j.transact;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.transact4j.llama.LlamaConfig;
import dev.transact4j.llama.RopeKeptFrequencies;
import dev.transact4j.llama.Rotary;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PrunedConfigTest {

    @TempDir
    Path dir;

    /** Returns the config stored with a fixture model, as transformers would read it. */
    static LlamaConfig fixtureConfig(String model) {
        return LlamaConfig.parse(dev.transact4j.tensor.testing.Fixture.load("transact/" + model + "/model").metadata()
                .get("config"), "fixture " + model);
    }

    @Test
    void dimsFromFixtureConfig() {
        for (String model : List.of("mha", "gqa")) {
            assertEquals(TransactFixtures.model(model).dims(), ModelDims.from(fixtureConfig(model)), model);
        }
    }

    @Test
    void configAfterEveryShotRoundTrips() throws IOException {
        for (String name : TransactFixtures.SCENARIOS) {
            TransactFixtures.Run run = TransactFixtures.run(name);
            LlamaConfig config = fixtureConfig(run.fixture().metadata().get("model"));
            for (int s = 0; s < run.shots().size(); s++) {
                KeepPlan plan = run.shots().get(s).plan();
                config = PrunedConfig.afterPlan(config, plan);
                Path saved = config.save(dir.resolve(name + "-shot" + (s + 1)));
                LlamaConfig loaded = LlamaConfig.load(saved);

                String where = name + " shot " + (s + 1);
                assertEquals(config, loaded, where);
                assertEquals(plan.after(), ModelDims.from(loaded), where + " dims");
                JsonNode json = TransactFixtures.json(Files.readString(saved));
                assertEquals(plan.after().heads(), json.get("num_attention_heads").asInt(), where);
                assertEquals(plan.after().kvHeads(), json.get("num_key_value_heads").asInt(), where);
                assertEquals(plan.after().headDim(), json.get("head_dim").asInt(), where);
                assertEquals(plan.after().mhaInterSize(), json.get("mha_inter_size").asInt(), where);
                assertEquals(plan.after().intermediateSize(), json.get("intermediate_size").asInt(), where);
                assertEquals(plan.after().layers(), json.get("num_hidden_layers").asInt(), where);
                assertEquals(plan.after().hiddenSize(), json.get("hidden_size").asInt(), where);
                assertEquals("llama", json.get("model_type").asText(), where + " keeps unread fields");
                if (s == run.shots().size() - 1) {
                    LlamaConfig python = LlamaConfig.parse(run.fixture().metadata().get("pruned_config"), where);
                    ModelDims expected = ModelDims.from(python);
                    assertEquals(expected, new ModelDims(plan.after().hiddenSize(), plan.after().heads(), plan.after().kvHeads(),
                            plan.after().headDim(), plan.after().mhaInterSize(), plan.after().intermediateSize(),
                            plan.after().layers(), null), where + " against the config PyTorch pruned to");
                    assertEquals(python.toBuilder().ropeKeptFrequencies(config.ropeKeptFrequencies()).build(), config,
                            where + " equals PyTorch's config apart from the kept frequencies");
                }
                boolean keep = plan.after().keptFrequencies() != null;
                assertEquals(keep, json.has("rope_kept_frequencies"), where);
                assertEquals(keep, json.has("transact4j_rope"), where);
            }
        }
    }

    @Test
    void perHeadFrequenciesSurviveRoundTrip() {
        TransactFixtures.Run run = TransactFixtures.run("gqa_dim_keep_shots");
        LlamaConfig config = fixtureConfig("gqa");
        for (TransactFixtures.Shot shot : run.shots()) {
            config = PrunedConfig.afterPlan(config, shot.plan());
        }
        LlamaConfig loaded = LlamaConfig.load(config.save(dir));
        ModelDims last = run.shots().get(run.shots().size() - 1).plan().after();

        RopeKeptFrequencies kept = loaded.ropeKeptFrequencies();
        assertEquals(RopeKeptFrequencies.Form.PER_LAYER_PER_HEAD, kept.form(), "the fixture's kv heads keep different pairs");
        assertEquals(6, kept.originalHeadDim());
        for (int layer = 0; layer < last.layers(); layer++) {
            for (int head = 0; head < last.kvHeads(); head++) {
                assertArrayEquals(last.frequencies(layer, head), kept.forHead(layer, head), "layer " + layer + " kv head " + head);
            }
        }
        // PyTorch records [kv_heads, head_dim / 2] per layer
        int[] recorded = run.fixture().get("shot3.layer1.frequencies").ints();
        int pairs = last.headDim() / 2;
        for (int head = 0; head < last.kvHeads(); head++) {
            assertArrayEquals(java.util.Arrays.copyOfRange(recorded, head * pairs, (head + 1) * pairs), kept.forHead(1, head),
                    "PyTorch's kept pairs of layer 1, kv head " + head);
        }
    }

    @Test
    void perHeadRotaryUsesOriginalFrequencies() {
        TransactFixtures.Run run = TransactFixtures.run("gqa_dim_keep_shots");
        LlamaConfig original = fixtureConfig("gqa");
        LlamaConfig config = original;
        for (TransactFixtures.Shot shot : run.shots()) {
            config = PrunedConfig.afterPlan(config, shot.plan());
        }
        double[] all = Rotary.forLayer(original, 0).inverseFrequencies();

        // PyTorch's kept pair of each kv head, looked up in the unpruned frequencies
        for (int layer = 0; layer < config.numHiddenLayers(); layer++) {
            int[] recorded = run.fixture().get("shot3.layer" + layer + ".frequencies").ints();
            for (int head = 0; head < config.numKeyValueHeads(); head++) {
                double[] inverse = Rotary.forHead(config, layer, head).inverseFrequencies();
                assertArrayEquals(new double[] {all[recorded[head]]}, inverse, "layer " + layer + " kv head " + head);
            }
        }
    }

    @Test
    void headPruningWritesPlainConfig() {
        TransactFixtures.Run run = TransactFixtures.run("gqa_groups");
        LlamaConfig config = PrunedConfig.afterPlan(fixtureConfig("gqa"), run.shots().get(0).plan());
        JsonNode json = config.toJson();

        assertFalse(json.has("rope_kept_frequencies"));
        assertFalse(json.has("transact4j_rope"));
        assertNull(config.ropeKeptFrequencies());
        assertEquals(4, config.numAttentionHeads(), "20 of 36 channels round up to 2 groups of 2 heads");
        assertEquals(2, config.numKeyValueHeads());
        assertEquals(6, config.headDim());
        assertEquals(31, config.intermediateSize());
    }

    @Test
    void compatibilityWithTransformers() {
        LlamaConfig threeHeads = PrunedConfig.afterPlan(fixtureConfig("mha"), TransactFixtures.run("mha_heads").shots().get(0).plan());
        assertEquals(3, threeHeads.numAttentionHeads());
        assertEquals(PrunedConfig.Compatibility.HEADS_DO_NOT_DIVIDE_HIDDEN_SIZE, PrunedConfig.transformersCompatibility(threeHeads));

        LlamaConfig fourHeads = PrunedConfig.afterPlan(fixtureConfig("gqa"), TransactFixtures.run("gqa_groups").shots().get(0).plan());
        assertEquals(PrunedConfig.Compatibility.STANDARD, PrunedConfig.transformersCompatibility(fourHeads));

        LlamaConfig kept = PrunedConfig.afterPlan(fixtureConfig("mha"), TransactFixtures.run("mha_dim_keep").shots().get(0).plan());
        assertEquals(PrunedConfig.Compatibility.KEPT_ROTARY_FREQUENCIES, PrunedConfig.transformersCompatibility(kept));
    }

    @Test
    void compactPicksSmallestForm() {
        assertNull(PrunedConfig.compact(8, new int[][][] {{{0, 1, 2, 3}, {0, 1, 2, 3}}}));
        RopeKeptFrequencies global = PrunedConfig.compact(8, new int[][][] {{{0, 3}, {0, 3}}, {{0, 3}, {0, 3}}});
        assertEquals(RopeKeptFrequencies.Form.GLOBAL, global.form());
        RopeKeptFrequencies perLayer = PrunedConfig.compact(8, new int[][][] {{{0, 3}, {0, 3}}, {{1, 2}, {1, 2}}});
        assertEquals(RopeKeptFrequencies.Form.PER_LAYER, perLayer.form());
        assertArrayEquals(new int[] {1, 2}, perLayer.forLayer(1));
        RopeKeptFrequencies perHead = PrunedConfig.compact(8, new int[][][] {{{0, 3}, {1, 3}}, {{0, 3}, {0, 3}}});
        assertEquals(RopeKeptFrequencies.Form.PER_LAYER_PER_HEAD, perHead.form());
    }

    @Test
    void rejectsPlanForOtherModel() {
        KeepPlan plan = TransactFixtures.run("mha_heads").shots().get(0).plan();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PrunedConfig.afterPlan(fixtureConfig("gqa"), plan));
        assertTrue(e.getMessage().startsWith("PrunedConfig: the keep plan was made for a model with hidden_size 16, heads 4"),
                e.getMessage());
    }
}
