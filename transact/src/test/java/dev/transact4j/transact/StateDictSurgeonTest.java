package dev.transact4j.transact;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.transact4j.llama.checkpoint.NamedArray;
import dev.transact4j.tensor.testing.Fixture;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class StateDictSurgeonTest {

    @Test
    void prunedWeightsMatchPyTorchEveryScenario() {
        for (String name : TransactFixtures.SCENARIOS) {
            TransactFixtures.Run run = TransactFixtures.run(name);
            Map<String, NamedArray> state = run.shots().get(run.shots().size() - 1).stateAfter();
            TreeSet<String> expectedLayerKeys = new TreeSet<>();
            for (String key : run.fixture().keys()) {
                if (!key.startsWith("pruned.model.layers.")) {
                    continue;
                }
                String stateKey = key.substring("pruned.".length());
                expectedLayerKeys.add(stateKey);
                Fixture.Array expected = run.fixture().get(key);
                NamedArray actual = state.get(stateKey);
                assertArrayEquals(expected.shape(), actual.shape(), name + " " + stateKey + " shape");
                assertArrayEquals(expected.floats(), actual.data(), name + " " + stateKey);
            }
            TreeSet<String> actualLayerKeys = new TreeSet<>();
            for (String key : state.keySet()) {
                if (key.startsWith("model.layers.")) {
                    actualLayerKeys.add(key);
                }
            }
            assertEquals(expectedLayerKeys, actualLayerKeys, name + " layer tensors");
        }
    }

    @Test
    void dropsAndRenumbersLayers() {
        TransactFixtures.Run run = TransactFixtures.run("mha_mlp_layers");
        Map<String, NamedArray> before = run.model().state();
        Map<String, NamedArray> after = run.shots().get(0).stateAfter();

        assertTrue(after.keySet().stream().noneMatch(k -> k.startsWith("model.layers.2.")), after.keySet().toString());
        assertSame(before.get("model.layers.1.input_layernorm.weight"), after.get("model.layers.1.input_layernorm.weight"));
        assertSame(before.get("model.embed_tokens.weight"), after.get("model.embed_tokens.weight"));
        assertEquals(before.size() - 9, after.size());
    }

    @Test
    void cutsBiasesWithTheirRows() {
        // 2 heads of 2 dims sharing 1 kv head; every value encodes its row and column
        ModelDims dims = ModelDims.of(3, 2, 1, 2, 3, 1);
        Map<String, NamedArray> state = new LinkedHashMap<>();
        for (Projection projection : Projection.values()) {
            int[] shape = projection.weightShape(dims);
            state.put(projection.weightName(0), coded(shape[0], shape[1]));
            state.put(projection.biasName(0), vector(shape[0]));
        }
        LayerKeep keep = new LayerKeep(0, new int[] {0, 1}, new int[] {0}, new int[][] {{1, 0}}, new int[] {0, 2},
                new int[][] {{0}});
        ModelDims after = ModelDims.of(3, 2, 1, 2, 2, 1);
        // dims [1, 0] are not laid out as rotary pairs, so this plan rebuilds the frequencies
        KeepPlan plan = new KeepPlan(PruneTarget.headDims(4, 2, RopeMode.RECOMPUTE), dims, after, new int[] {0}, List.of(keep));

        Map<String, NamedArray> out = StateDictSurgeon.apply(state, plan).state();

        // q rows: head 0 dims 1, 0 then head 1 dims 1, 0
        assertArrayEquals(new float[] {1, 0, 3, 2}, out.get("model.layers.0.self_attn.q_proj.bias").data());
        assertArrayEquals(new float[] {1, 0}, out.get("model.layers.0.self_attn.k_proj.bias").data());
        assertArrayEquals(new float[] {0, 2}, out.get("model.layers.0.mlp.up_proj.bias").data());
        assertArrayEquals(new float[] {0, 1, 2}, out.get("model.layers.0.mlp.down_proj.bias").data());
        assertArrayEquals(new float[] {1, 0, 3, 2, 101, 100, 103, 102, 201, 200, 203, 202},
                out.get("model.layers.0.self_attn.o_proj.weight").data());
        assertArrayEquals(new float[] {0, 1, 2, 200, 201, 202}, out.get("model.layers.0.mlp.gate_proj.weight").data());
    }

    @Test
    void rejectsWeightOfWrongShape() {
        TransactFixtures.Model model = TransactFixtures.model("mha");
        KeepPlan plan = TransactFixtures.run("mha_heads").shots().get(0).plan();
        Map<String, NamedArray> state = new LinkedHashMap<>(model.state());
        state.put("model.layers.1.self_attn.k_proj.weight", new NamedArray(new float[16 * 16], new int[] {16, 16}));

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StateDictSurgeon.apply(state, plan));
        assertEquals("StateDictSurgeon: model.layers.1.self_attn.k_proj.weight has shape [16, 16] before the cut,"
                + " but the plan expects [32, 16]", e.getMessage());
    }

    @Test
    void rejectsMissingProjection() {
        TransactFixtures.Model model = TransactFixtures.model("mha");
        KeepPlan plan = TransactFixtures.run("mha_heads").shots().get(0).plan();
        Map<String, NamedArray> state = new LinkedHashMap<>(model.state());
        state.remove("model.layers.2.mlp.up_proj.weight");

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StateDictSurgeon.apply(state, plan));
        assertTrue(e.getMessage().contains("lacks [model.layers.2.mlp.up_proj.weight]"), e.getMessage());
    }

    @Test
    void rejectsUnknownAttentionTensor() {
        TransactFixtures.Model model = TransactFixtures.model("mha");
        KeepPlan plan = TransactFixtures.run("mha_heads").shots().get(0).plan();
        Map<String, NamedArray> state = new LinkedHashMap<>(model.state());
        state.put("model.layers.0.self_attn.rotary_emb.inv_freq", new NamedArray(new float[4], new int[] {4}));

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StateDictSurgeon.apply(state, plan));
        assertTrue(e.getMessage().startsWith("StateDictSurgeon: model.layers.0.self_attn.rotary_emb.inv_freq is not a tensor"),
                e.getMessage());
    }

    @Test
    void rejectsLayerBeyondPlan() {
        TransactFixtures.Model model = TransactFixtures.model("mha");
        KeepPlan plan = TransactFixtures.run("mha_heads").shots().get(0).plan();
        Map<String, NamedArray> state = new LinkedHashMap<>(model.state());
        state.put("model.layers.3.input_layernorm.weight", new NamedArray(new float[16], new int[] {16}));

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StateDictSurgeon.apply(state, plan));
        assertTrue(e.getMessage().contains("belongs to layer 3, but the plan's model has 3 layers"), e.getMessage());
    }

    /** Returns a vector whose entry i is i. */
    private static NamedArray vector(int n) {
        float[] data = new float[n];
        for (int i = 0; i < n; i++) {
            data[i] = i;
        }
        return new NamedArray(data, new int[] {n});
    }

    /** Returns a [rows, cols] matrix whose entry (r, c) is 100 * r + c. */
    private static NamedArray coded(int rows, int cols) {
        float[] data = new float[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                data[r * cols + c] = 100 * r + c;
            }
        }
        return new NamedArray(data, new int[] {rows, cols});
    }
}
