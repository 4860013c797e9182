package dev.transact4j.transact;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.transact4j.llama.checkpoint.NamedArray;
import org.junit.jupiter.api.Test;

class TaylorScorerTest {

    @Test
    void multiHeadScoresMatchPyTorch() {
        checkScenario("mha_taylor");
    }

    @Test
    void groupedQueryScoresMatchPyTorch() {
        checkScenario("gqa_taylor");
    }

    private static void checkScenario(String name) {
        TransactFixtures.Run run = TransactFixtures.run(name);
        ChannelScores scores = run.shots().get(0).scores();
        for (int layer = 0; layer < scores.layers(); layer++) {
            String prefix = "shot1.scores.layer" + layer + ".";
            ActsScorerTest.assertClose(name + " " + prefix + "attention", run.fixture().get(prefix + "attention").values(),
                    scores.attention()[layer]);
            ActsScorerTest.assertClose(name + " " + prefix + "mlp", run.fixture().get(prefix + "mlp").values(),
                    scores.mlp()[layer]);
        }
    }

    @Test
    void handComputedGroupedScores() {
        // 2 query heads share 1 kv head of 2 dims; hidden 1, intermediate 1
        ModelDims dims = ModelDims.of(1, 2, 1, 2, 1, 1);
        TaylorScorer scorer = new TaylorScorer(dims);
        observe(scorer, Projection.Q_PROJ, new float[] {1, 2, 3, 4}, new float[] {1, 1, 1, -1}, 4, 1);
        observe(scorer, Projection.K_PROJ, new float[] {10, 20}, new float[] {1, 1}, 2, 1);
        observe(scorer, Projection.V_PROJ, new float[] {100, 200}, new float[] {-1, 1}, 2, 1);
        observe(scorer, Projection.O_PROJ, new float[] {1000, 2000, 3000, 4000}, new float[] {1, 1, 1, 1}, 1, 4);
        observe(scorer, Projection.GATE_PROJ, new float[] {1}, new float[] {1}, 1, 1);
        observe(scorer, Projection.UP_PROJ, new float[] {2}, new float[] {1}, 1, 1);
        observe(scorer, Projection.DOWN_PROJ, new float[] {4}, new float[] {-2}, 1, 1);
        // a second batch doubles every accumulated |grad|
        observe(scorer, Projection.Q_PROJ, new float[] {1, 2, 3, 4}, new float[] {1, 1, 1, -1}, 4, 1);
        observe(scorer, Projection.K_PROJ, new float[] {10, 20}, new float[] {1, 1}, 2, 1);
        observe(scorer, Projection.V_PROJ, new float[] {100, 200}, new float[] {-1, 1}, 2, 1);
        observe(scorer, Projection.O_PROJ, new float[] {1000, 2000, 3000, 4000}, new float[] {1, 1, 1, 1}, 1, 4);
        observe(scorer, Projection.GATE_PROJ, new float[] {1}, new float[] {1}, 1, 1);
        observe(scorer, Projection.UP_PROJ, new float[] {2}, new float[] {1}, 1, 1);
        observe(scorer, Projection.DOWN_PROJ, new float[] {4}, new float[] {-2}, 1, 1);

        ChannelScores scores = scorer.scores();

        // channel c: 2 * (|q_c| + |k_kv(c)| + |v_kv(c)| + |o_c|), kv(c) = c % 2
        double[] expected = {2 * (1 + 10 + 100 + 1000), 2 * (2 + 20 + 200 + 2000), 2 * (3 + 10 + 100 + 3000),
            2 * (4 + 20 + 200 + 4000)};
        assertArrayEquals(expected, scores.attention()[0]);
        assertArrayEquals(new double[] {2 * (1 + 2 + 8)}, scores.mlp()[0]);
    }

    @Test
    void rejectsWrongGradientShape() {
        ModelDims dims = ModelDims.of(16, 4, 2, 8, 40, 1);
        TaylorScorer scorer = new TaylorScorer(dims);
        NamedArray weight = new NamedArray(new float[16 * 16], new int[] {16, 16});
        NamedArray gradient = new NamedArray(new float[16 * 16], new int[] {16, 16});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> scorer.observe(0, Projection.Q_PROJ, weight, gradient));
        assertTrue(e.getMessage().contains("weight of model.layers.0.self_attn.q_proj.weight has shape [16, 16], expected [32, 16]"),
                e.getMessage());
    }

    @Test
    void scoresNeedEveryProjection() {
        ModelDims dims = ModelDims.of(1, 1, 1, 2, 1, 1);
        TaylorScorer scorer = new TaylorScorer(dims);
        observe(scorer, Projection.Q_PROJ, new float[] {1, 2}, new float[] {1, 1}, 2, 1);
        IllegalStateException e = assertThrows(IllegalStateException.class, scorer::scores);
        assertTrue(e.getMessage().contains("model.layers.0.self_attn.k_proj.weight"), e.getMessage());
        assertTrue(e.getMessage().contains("model.layers.0.mlp.down_proj.weight"), e.getMessage());
    }

    private static void observe(TaylorScorer scorer, Projection projection, float[] weight, float[] gradient,
                                int rows, int cols) {
        int[] shape = {rows, cols};
        scorer.observe(0, projection, new NamedArray(weight, shape), new NamedArray(gradient, shape));
    }
}
