package dev.transact4j.transact;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.transact4j.tensor.testing.Fixture;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class KeepPlannerTest {

    @Test
    void keptIndicesMatchPyTorchEveryScenario() {
        for (String name : TransactFixtures.SCENARIOS) {
            TransactFixtures.Run run = TransactFixtures.run(name);
            Fixture fixture = run.fixture();
            for (int s = 1; s <= run.shots().size(); s++) {
                KeepPlan plan = run.shots().get(s - 1).plan();
                String shot = name + " shot " + s;
                assertArrayEquals(fixture.get("shot" + s + ".kept_layers").ints(), plan.keptLayers(), shot + " kept layers");
                for (int i = 0; i < plan.layers().size(); i++) {
                    LayerKeep keep = plan.layers().get(i);
                    String prefix = "shot" + s + ".layer" + i + ".";
                    String where = shot + " layer " + i;
                    assertArrayEquals(fixture.get(prefix + "query_heads").ints(), keep.queryHeads(), where + " query heads");
                    assertArrayEquals(fixture.get(prefix + "kv_heads").ints(), keep.kvHeads(), where + " kv heads");
                    assertArrayEquals(fixture.get(prefix + "mlp").ints(), keep.mlpChannels(), where + " mlp channels");
                    assertRows(fixture.get(prefix + "head_dims"), keep.headDims(), where + " head dims");
                    assertRows(fixture.get(prefix + "frequencies"), keep.frequencies(), where + " frequencies");
                }
            }
        }
    }

    @Test
    void widthsReachedMatchPyTorchEveryShot() {
        for (String name : TransactFixtures.SCENARIOS) {
            TransactFixtures.Run run = TransactFixtures.run(name);
            for (int s = 1; s <= run.shots().size(); s++) {
                ModelDims after = run.shots().get(s - 1).plan().after();
                int[] expected = run.fixture().get("shot" + s + ".widths").ints();
                int[] actual = {after.mhaInterSize(), after.intermediateSize(), after.layers(), after.heads(),
                    after.kvHeads(), after.headDim()};
                assertArrayEquals(expected, actual, name + " shot " + s + " [mha, mlp, layers, heads, kv heads, head_dim]");
            }
        }
    }

    @Test
    void headRoundingOvershootIsReported() {
        KeepPlan plan = TransactFixtures.run("mha_heads").shots().get(0).plan();
        assertEquals(20, plan.target().nextMhaDim());
        assertEquals(24, plan.mhaWidthReached());
        assertEquals(3, plan.after().heads());
    }

    @Test
    void targetRoundingToCurrentWidthRemovesNothing() {
        // 28 channels over 6 heads need 5 dims each, rounded up to the current head_dim 6
        KeepPlan plan = TransactFixtures.run("gqa_dim_keep_shots").shots().get(0).plan();
        assertEquals(28, plan.target().nextMhaDim());
        assertEquals(36, plan.mhaWidthReached());
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5}, plan.layers().get(0).headDims()[0]);
    }

    @Test
    void keepingEveryPairStaysStandard() {
        // rope=keep at the full head_dim of a standard model: the identity pairs are the standard rotary
        KeepPlan plan = TransactFixtures.run("gqa_dim_keep_shots").shots().get(0).plan();
        assertNull(plan.before().keptFrequencies());
        assertEquals(6, plan.after().headDim());
        assertNull(plan.after().keptFrequencies());
        assertArrayEquals(new int[] {0, 1, 2}, plan.layers().get(2).frequencies()[1]);

        // one pair fewer is no longer standard
        KeepPlan second = TransactFixtures.run("gqa_dim_keep_shots").shots().get(1).plan();
        assertEquals(4, second.after().headDim());
        assertEquals(2, second.after().frequencies(0, 0).length);
        assertTrue(second.after().keptFrequencies() != null);
    }

    @Test
    void groupedQueryKeepsWholeGroups() {
        KeepPlan plan = TransactFixtures.run("gqa_groups").shots().get(0).plan();
        assertEquals(2, plan.after().groupSize());
        for (LayerKeep keep : plan.layers()) {
            for (int q = 0; q < keep.queryHeads().length; q++) {
                assertEquals(keep.kvHeads()[q / 2], keep.queryHeads()[q] / 2, "query head " + keep.queryHeads()[q]);
            }
        }
    }

    @Test
    void keepModeComposesOriginalFrequencies() {
        TransactFixtures.Run run = TransactFixtures.run("gqa_dim_keep_shots");
        ModelDims last = run.shots().get(2).plan().after();
        assertEquals(2, last.headDim());
        // each head keeps one pair, indexed into the original head_dim 6 (frequencies 0..2)
        for (int layer = 0; layer < last.layers(); layer++) {
            for (int g = 0; g < last.kvHeads(); g++) {
                int[] frequencies = last.frequencies(layer, g);
                assertEquals(1, frequencies.length);
                assertTrue(frequencies[0] >= 0, Arrays.toString(frequencies));
                assertTrue(frequencies[0] < 3, Arrays.toString(frequencies));
            }
        }
        assertNull(TransactFixtures.run("gqa_dim_recompute").shots().get(0).plan().after().keptFrequencies());
    }

    @Test
    void headScoreWeighsMax() {
        // head 0: mean 3 + (10 / 2) * max 3 = 18; head 1: mean 2 + 5 * max 4 = 22, though its mean is lower
        ModelDims dims = ModelDims.of(4, 2, 2, 2, 1, 1);
        ChannelScores scores = new ChannelScores(new double[][] {{3, 3, 0, 4}}, new double[][] {{1}});
        KeepPlan plan = KeepPlanner.plan(dims, scores, PruneTarget.heads(2, 1));

        assertArrayEquals(new int[] {1}, plan.layers().get(0).queryHeads());
    }

    @Test
    void tiesRankLowerIndexFirst() {
        ModelDims dims = ModelDims.of(8, 4, 4, 2, 5, 1);
        ChannelScores scores = new ChannelScores(new double[][] {{1, 1, 2, 2, 1, 1, 2, 2}}, new double[][] {{3, 1, 3, 1, 3}});
        KeepPlan plan = KeepPlanner.plan(dims, scores, PruneTarget.heads(2, 2));

        // heads 1 and 3 tie, heads 0 and 2 tie lower
        assertArrayEquals(new int[] {1}, plan.layers().get(0).queryHeads());
        assertArrayEquals(new int[] {0, 2}, plan.layers().get(0).mlpChannels());
        assertArrayEquals(new int[] {0, 1, 2}, KeepPlanner.topAscending(new double[] {5, 5, 5, 5}, 3));
    }

    @Test
    void headDimsRoundUpToEven() {
        assertEquals(2, KeepPlanner.headDimFor(1, 4));
        assertEquals(6, KeepPlanner.headDimFor(18, 4));
        assertEquals(6, KeepPlanner.headDimFor(20, 4));
        assertEquals(8, KeepPlanner.headDimFor(29, 4));
    }

    @Test
    void rejectsLargerAttentionWidth() {
        String message = invalid(ModelDims.of(16, 4, 2, 8, 40, 3), PruneTarget.heads(33, 40));
        assertEquals("Invalid target attention width (nextMhaDim) 33: larger than the current 32 (4 heads x 8 dims);"
                + " pruning only removes, so request at most 32", message);
    }

    @Test
    void rejectsZeroMlpWidth() {
        String message = invalid(ModelDims.of(16, 4, 2, 8, 40, 3), PruneTarget.heads(32, 0));
        assertEquals("Invalid target MLP width (nextMlpDim) 0: expected a positive number, at most the current 40"
                + " (intermediate_size)", message);
    }

    @Test
    void rejectsNegativeAttentionWidth() {
        String message = invalid(ModelDims.of(16, 4, 2, 8, 40, 3), PruneTarget.heads(-8, 40));
        assertTrue(message.startsWith("Invalid target attention width (nextMhaDim) -8: expected a positive number"), message);
    }

    @Test
    void rejectsMoreLayers() {
        String message = invalid(ModelDims.of(16, 4, 2, 8, 40, 3), PruneTarget.heads(32, 40).withLayers(4));
        assertEquals("Invalid target layer count (nextLayers) 4: larger than the current 3 (num_hidden_layers);"
                + " pruning only removes, so request at most 3", message);
    }

    @Test
    void rejectsOddHeadDimInHeadDimMode() {
        String message = invalid(ModelDims.of(16, 4, 2, 7, 40, 3), PruneTarget.headDims(20, 40, RopeMode.KEEP));
        assertEquals("Invalid target: head-dimension pruning keeps rotary pairs, so it needs an even head_dim,"
                + " but head_dim is 7; prune whole heads (AttentionPruning.HEADS) instead", message);
    }

    @Test
    void rejectsScoresOfWrongWidth() {
        ModelDims dims = ModelDims.of(4, 2, 2, 2, 3, 1);
        ChannelScores scores = new ChannelScores(new double[][] {{1, 2, 3}}, new double[][] {{1, 2, 3}});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> KeepPlanner.plan(dims, scores, PruneTarget.heads(2, 2)));
        assertEquals("Invalid scores: layer 0 has 3 attention scores, but the model's attention width is 4;"
                + " re-score the current model", e.getMessage());
    }

    @Test
    void rejectsNaNScore() {
        ModelDims dims = ModelDims.of(4, 2, 2, 2, 3, 1);
        ChannelScores scores = new ChannelScores(new double[][] {{1, 2, 3, 4}}, new double[][] {{1, Double.NaN, 3}});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> KeepPlanner.plan(dims, scores, PruneTarget.heads(2, 2)));
        assertEquals("Invalid scores: layer 0 mlp channel 1 scores NaN; scores must be finite and non-negative", e.getMessage());
    }

    @Test
    void rejectsScoresForOtherLayerCount() {
        ModelDims dims = ModelDims.of(4, 2, 2, 2, 3, 2);
        ChannelScores scores = new ChannelScores(new double[][] {{1, 2, 3, 4}}, new double[][] {{1, 2, 3}});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> KeepPlanner.plan(dims, scores, PruneTarget.heads(2, 2)));
        assertTrue(e.getMessage().contains("1 layers scored, but the model has 2"), e.getMessage());
    }

    private static String invalid(ModelDims dims, PruneTarget target) {
        double[][] attention = new double[dims.layers()][dims.mhaInterSize()];
        double[][] mlp = new double[dims.layers()][dims.intermediateSize()];
        ChannelScores scores = new ChannelScores(attention, mlp);
        return assertThrows(IllegalArgumentException.class, () -> KeepPlanner.plan(dims, scores, target)).getMessage();
    }

    private static void assertRows(Fixture.Array expected, int[][] actual, String what) {
        int rows = expected.shape()[0];
        int cols = expected.shape()[1];
        assertEquals(rows, actual.length, what + ": rows");
        int[] flat = expected.ints();
        for (int r = 0; r < rows; r++) {
            assertArrayEquals(Arrays.copyOfRange(flat, r * cols, (r + 1) * cols), actual[r], what + " row " + r);
        }
    }
}
