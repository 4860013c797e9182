package dev.transact4j.transact;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.transact4j.llama.LlamaConfig;
import dev.transact4j.llama.ModelStats;
import dev.transact4j.llama.checkpoint.NamedArray;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PruningStepTest {

    /** Scenarios covering MHA and GQA, whole heads and head dims with both rope modes. */
    private static final List<String> SCENARIOS = List.of("mha_heads", "mha_mlp_layers", "mha_dim_recompute",
            "mha_dim_keep", "mha_shots", "gqa_groups", "gqa_dim_recompute", "gqa_dim_keep_shots");

    /** Replays a fixture scenario through PruningStep, with the scores and targets of its shots. */
    static List<PruningStep.Result> replay(String name) {
        TransactFixtures.Run run = TransactFixtures.run(name);
        LlamaConfig config = PrunedConfigTest.fixtureConfig(run.fixture().metadata().get("model"));
        Map<String, NamedArray> state = run.model().state();
        List<PruningStep.Result> results = new java.util.ArrayList<>();
        for (int s = 0; s < run.shots().size(); s++) {
            TransactFixtures.Shot shot = run.shots().get(s);
            PruningStep.Result result = PruningStep.run(config, state, shot.scores(),
                    PruningStep.Options.of(shot.plan().target()).withShot(s + 1));
            results.add(result);
            config = result.config();
            state = result.state();
        }
        return results;
    }

    @Test
    void reportCountsEqualStateDictSizes() {
        for (String name : SCENARIOS) {
            TransactFixtures.Run run = TransactFixtures.run(name);
            List<PruningStep.Result> results = replay(name);
            for (int s = 0; s < results.size(); s++) {
                PruningStep.Result result = results.get(s);
                ShotReport report = result.report();
                String where = name + " shot " + (s + 1);

                // the same weights as the planner and surgeon alone, which the PyTorch fixtures check
                Map<String, NamedArray> expected = run.shots().get(s).stateAfter();
                assertEquals(expected.keySet(), result.state().keySet(), where);
                for (String key : expected.keySet()) {
                    assertArrayEquals(expected.get(key).data(), result.state().get(key).data(), where + " " + key);
                }

                // totals: config-derived counts equal the arrays
                long elements = ShotReport.elements(result.state());
                assertEquals(elements, report.totalAfter().parameters(), where + " total after");
                assertEquals(elements, report.stateDictParametersAfter(), where);
                assertEquals(report.stateDictParametersBefore(), report.totalBefore().parameters(), where + " total before");

                // per layer: the layer's tensors
                for (ShotReport.LayerReport layer : report.layers()) {
                    if (layer.newLayer() == null) {
                        continue;
                    }
                    assertEquals(layerElements(result.state(), layer.newLayer()), layer.after().parameters(),
                            where + " layer " + layer.sourceLayer());
                }
            }
        }
    }

    @Test
    void histogramsSplitKeptChannels() {
        for (PruningStep.Result result : replay("gqa_dim_keep_shots")) {
            ShotReport report = result.report();
            for (ShotReport.LayerReport layer : report.layers()) {
                ScoreHistogram attention = layer.attentionScores();
                ScoreHistogram mlp = layer.mlpScores();
                int keptAttention = layer.newLayer() == null ? 0 : report.after().attentionWidth();
                int keptMlp = layer.newLayer() == null ? 0 : report.after().intermediateSize();
                assertEquals(keptAttention, sum(attention.kept()) + attention.zeroKept(), "layer " + layer.sourceLayer());
                assertEquals(report.before().attentionWidth() - keptAttention,
                        sum(attention.removed()) + attention.zeroRemoved(), "layer " + layer.sourceLayer());
                assertEquals(keptMlp, sum(mlp.kept()) + mlp.zeroKept(), "layer " + layer.sourceLayer());
                assertEquals(ScoreHistogram.DEFAULT_BINS, mlp.bins());
            }
        }
    }

    @Test
    void sparsityTargetReachesReportedCount() {
        TransactFixtures.Run run = TransactFixtures.run("gqa_groups");
        LlamaConfig config = PrunedConfigTest.fixtureConfig("gqa");
        PruningStep.Result result = PruningStep.run(config, run.model().state(), run.shots().get(0).scores(),
                PruningStep.Options.sparsity(30, AttentionPruning.HEAD_DIMS, RopeMode.KEEP).withContextLength(64));

        SparsityTarget sparsity = result.sparsity();
        assertEquals(sparsity.parametersAfter(), ShotReport.elements(result.state()));
        assertEquals(sparsity.reachedPercent(), result.report().parameterReductionPercent(), 1e-12);
        assertEquals(30.0, result.report().sparsityRequestedPercent());
        assertEquals(64, result.report().contextLength());
        assertEquals(ModelStats.of(result.config()).forwardFlopsPerToken(64), result.report().totalAfter().forwardFlopsPerToken());
        assertEquals("keep", result.config().toJson().get("transact4j_rope").asText());
    }

    @Test
    void invalidTargetFailsBeforeAnyCut() {
        TransactFixtures.Run run = TransactFixtures.run("mha_heads");
        LlamaConfig config = PrunedConfigTest.fixtureConfig("mha");
        Map<String, NamedArray> state = run.model().state();
        Map<String, float[]> snapshot = new LinkedHashMap<>();
        state.forEach((key, array) -> snapshot.put(key, array.data().clone()));

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PruningStep.run(config, state,
                run.shots().get(0).scores(), PruningStep.Options.of(PruneTarget.heads(40, 20))));
        assertEquals("Invalid target attention width (nextMhaDim) 40: larger than the current 32 (4 heads x 8 dims);"
                + " pruning only removes, so request at most 32", e.getMessage());

        e = assertThrows(IllegalArgumentException.class, () -> PruningStep.run(config, state, run.shots().get(0).scores(),
                PruningStep.Options.sparsity(99, AttentionPruning.HEADS, RopeMode.RECOMPUTE)));
        assertTrue(e.getMessage().startsWith("Invalid sparsity 99.0%: it needs"), e.getMessage());

        assertEquals(snapshot.keySet(), state.keySet());
        snapshot.forEach((key, data) -> assertArrayEquals(data, state.get(key).data(), key + " unchanged"));
    }

    @Test
    void optionsRejectAmbiguousTarget() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new PruningStep.Options(
                PruneTarget.heads(8, 8), 20.0, AttentionPruning.HEADS, RopeMode.KEEP, 1, 0, 20));
        assertEquals("PruningStep: set exactly one of explicit widths (target) and a sparsity percentage, got both",
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> PruningStep.Options.of(PruneTarget.heads(8, 8)).withShot(0));
        assertEquals("PruningStep: shot is 0 but shots are counted from 1", e.getMessage());
        assertNull(PruningStep.Options.of(PruneTarget.heads(8, 8)).sparsityPercent());
    }

    private static long layerElements(Map<String, NamedArray> state, int layer) {
        String prefix = "model.layers." + layer + ".";
        long sum = 0;
        for (Map.Entry<String, NamedArray> entry : state.entrySet()) {
            if (entry.getKey().startsWith(prefix)) {
                sum += entry.getValue().data().length;
            }
        }
        return sum;
    }

    private static int sum(int[] counts) {
        int total = 0;
        for (int c : counts) {
            total += c;
        }
        return total;
    }
}
