package dev.transact4j.transact;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.transact4j.llama.checkpoint.NamedArray;
import dev.transact4j.tensor.Parallel;
import dev.transact4j.tensor.testing.Fixture;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ActsScorerTest {

    /** Fixture scores are float64 sums of the same float32 values, so only the summation order differs. */
    private static final double RELATIVE_TOLERANCE = 1e-12;

    @Test
    void scoresMatchPyTorchEveryShot() {
        int compared = 0;
        for (String name : TransactFixtures.SCENARIOS) {
            TransactFixtures.Run run = TransactFixtures.run(name);
            if (!run.fixture().metadata().get("scorer").equals("acts")) {
                continue;
            }
            for (int s = 1; s <= run.shots().size(); s++) {
                ChannelScores scores = run.shots().get(s - 1).scores();
                for (int layer = 0; layer < scores.layers(); layer++) {
                    String prefix = "shot" + s + ".scores.layer" + layer + ".";
                    if (!run.fixture().has(prefix + "attention")) {
                        continue; // a layer the shot drops is not scored by the fixture
                    }
                    assertClose(name + " " + prefix + "attention", run.fixture().get(prefix + "attention").values(),
                            scores.attention()[layer]);
                    assertClose(name + " " + prefix + "mlp", run.fixture().get(prefix + "mlp").values(), scores.mlp()[layer]);
                    compared++;
                }
            }
        }
        // mha_heads, mha_mlp_layers (2 kept layers), mha_dim_recompute, mha_dim_keep, mha_shots (3 shots),
        // gqa_groups, gqa_dim_recompute, gqa_dim_keep_shots (3 + 3 + 2 layers)
        assertEquals(3 + 2 + 3 + 3 + 9 + 3 + 3 + 8, compared, "layer score rows compared");
    }

    @Test
    void handComputedNorms() {
        ActsScorer scorer = new ActsScorer(2, 2, 3);
        scorer.observe(0, ActsScorer.Module.ATTENTION, new float[] {3, 4, 0, 0}, 0, 2);
        scorer.observe(0, ActsScorer.Module.ATTENTION, new float[] {9, 4, 0}, 1, 1);
        scorer.observe(0, ActsScorer.Module.MLP, new float[] {1, 2, 2}, 0, 1);
        scorer.observe(1, ActsScorer.Module.ATTENTION, new float[] {-1, 1}, 0, 1);
        scorer.observe(1, ActsScorer.Module.MLP, new float[] {0, -6, 8, 0, 8, -6}, 0, 2);

        ChannelScores scores = scorer.scores();

        assertArrayEquals(new double[] {5, 4}, scores.attention()[0]);
        assertArrayEquals(new double[] {1, 2, 2}, scores.mlp()[0]);
        assertArrayEquals(new double[] {1, 1}, scores.attention()[1]);
        assertArrayEquals(new double[] {0, 10, 10}, scores.mlp()[1]);
        assertEquals(3, scorer.tokens(0, ActsScorer.Module.ATTENTION));
    }

    @Test
    void concurrentObservationsMatchSerial() {
        int width = 33;
        int tokens = 257;
        float[] rows = new float[tokens * width];
        Random random = new Random(7);
        for (int i = 0; i < rows.length; i++) {
            rows[i] = (float) random.nextGaussian();
        }
        ActsScorer serial = new ActsScorer(1, width, 1);
        serial.observe(0, ActsScorer.Module.ATTENTION, rows, 0, tokens);
        serial.observe(0, ActsScorer.Module.MLP, new float[] {1}, 0, 1);

        ActsScorer concurrent = new ActsScorer(1, width, 1);
        int previous = Parallel.threads();
        Parallel.setThreads(3);
        try {
            Parallel.forRange(0, tokens, 1, (start, end) ->
                    concurrent.observe(0, ActsScorer.Module.ATTENTION, rows, start * width, end - start));
        } finally {
            Parallel.setThreads(previous);
        }
        concurrent.observe(0, ActsScorer.Module.MLP, new float[] {1}, 0, 1);

        assertEquals(tokens, concurrent.tokens(0, ActsScorer.Module.ATTENTION));
        assertClose("concurrent", serial.scores().attention()[0], concurrent.scores().attention()[0]);
    }

    @Test
    void observeWithShapedArray() {
        Fixture.Array rows = Fixture.load("transact/mha_heads").get("shot1.batch0.layer2.mlp");
        ActsScorer byOffset = new ActsScorer(3, 32, 40);
        ActsScorer byShape = new ActsScorer(3, 32, 40);
        byOffset.observe(2, ActsScorer.Module.MLP, rows.floats(), 0, rows.shape()[0]);
        byShape.observe(2, ActsScorer.Module.MLP, new NamedArray(rows.floats(), new int[] {2, 10, 40}));

        assertEquals(byOffset.tokens(2, ActsScorer.Module.MLP), byShape.tokens(2, ActsScorer.Module.MLP));
        assertEquals(20, byShape.tokens(2, ActsScorer.Module.MLP));
    }

    @Test
    void resetClearsStatistics() {
        ActsScorer scorer = new ActsScorer(1, 1, 1);
        scorer.observe(0, ActsScorer.Module.ATTENTION, new float[] {5}, 0, 1);
        scorer.observe(0, ActsScorer.Module.MLP, new float[] {5}, 0, 1);
        scorer.reset();
        scorer.observe(0, ActsScorer.Module.ATTENTION, new float[] {2}, 0, 1);
        scorer.observe(0, ActsScorer.Module.MLP, new float[] {3}, 0, 1);

        assertArrayEquals(new double[] {2}, scorer.scores().attention()[0]);
        assertArrayEquals(new double[] {3}, scorer.scores().mlp()[0]);
    }

    @Test
    void rejectsRowsThatDoNotFit() {
        ActsScorer scorer = new ActsScorer(2, 4, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> scorer.observe(0, ActsScorer.Module.ATTENTION, new float[10], 3, 2));
        assertTrue(e.getMessage().contains("2 rows of width 4 from offset 3 do not fit in an array of 10 values"), e.getMessage());
    }

    @Test
    void rejectsLayerOutOfRange() {
        ActsScorer scorer = new ActsScorer(2, 4, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> scorer.observe(2, ActsScorer.Module.MLP, new float[3], 0, 1));
        assertTrue(e.getMessage().contains("layer 2 out of range [0, 2)"), e.getMessage());
    }

    @Test
    void rejectsWrongLastDimension() {
        ActsScorer scorer = new ActsScorer(1, 4, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> scorer.observe(0, ActsScorer.Module.MLP, new NamedArray(new float[8], new int[] {2, 4})));
        assertTrue(e.getMessage().contains("has shape [2, 4], expected last dimension 3"), e.getMessage());
    }

    @Test
    void scoresNeedEveryLayer() {
        ActsScorer scorer = new ActsScorer(2, 1, 1);
        scorer.observe(0, ActsScorer.Module.ATTENTION, new float[] {1}, 0, 1);
        scorer.observe(0, ActsScorer.Module.MLP, new float[] {1}, 0, 1);
        scorer.observe(1, ActsScorer.Module.ATTENTION, new float[] {1}, 0, 1);
        IllegalStateException e = assertThrows(IllegalStateException.class, scorer::scores);
        assertTrue(e.getMessage().contains("no MLP activations observed for layer 1"), e.getMessage());
    }

    static void assertClose(String what, double[] expected, double[] actual) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int c = 0; c < expected.length; c++) {
            double tolerance = RELATIVE_TOLERANCE * Math.max(1e-3, Math.abs(expected[c]));
            assertEquals(expected[c], actual[c], tolerance, what + " channel " + c);
        }
    }
}
