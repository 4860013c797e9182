package dev.transact4j.nn.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.transact4j.tensor.testing.Fixture;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Replays the runs of src/test/python/make_optim_fixtures.py: the same initial parameters and
 * gradients through our optimisers, clipping and schedules, compared with torch after every step.
 */
class OptimizerFixtureTest {

    private static final int STEPS = 20;
    private static final int PARAMS = 2;
    /** Relative tolerance on parameters, element by element. */
    private static final double RTOL = 1e-6;

    private static final Fixture FIXTURE = Fixture.load("optim");

    /** One run's parameters and gradient stream, as the fixture stores them. */
    private static final class Run {
        final String name;
        final List<float[]> params = new ArrayList<>();
        final List<float[]> gradHistory = new ArrayList<>();
        final List<float[]> paramHistory = new ArrayList<>();

        Run(String name) {
            this.name = name;
            for (int i = 0; i < PARAMS; i++) {
                params.add(FIXTURE.get(name + "/p" + i + "/init").floats());
                gradHistory.add(FIXTURE.get(name + "/p" + i + "/grads").floats());
                paramHistory.add(FIXTURE.get(name + "/p" + i + "/params").floats());
            }
        }

        List<float[]> gradsAt(int step) {
            List<float[]> grads = new ArrayList<>();
            for (int i = 0; i < PARAMS; i++) {
                int n = params.get(i).length;
                grads.add(Arrays.copyOfRange(gradHistory.get(i), step * n, (step + 1) * n));
            }
            return grads;
        }

        void assertParamsAt(int step) {
            for (int i = 0; i < PARAMS; i++) {
                int n = params.get(i).length;
                float[] expected = Arrays.copyOfRange(paramHistory.get(i), step * n, (step + 1) * n);
                assertClose(expected, params.get(i), name + " p" + i + " after step " + (step + 1));
            }
        }
    }

    private static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + " length");
        for (int j = 0; j < expected.length; j++) {
            double tolerance = RTOL * Math.abs(expected[j]);
            assertTrue(Math.abs(expected[j] - actual[j]) <= tolerance,
                    what + "[" + j + "]: expected " + expected[j] + " but was " + actual[j]);
        }
    }

    /**
     * Compares optimiser state against a tolerance relative to the largest element, because a
     * momentum buffer is a running sum whose small elements come from cancellation.
     */
    private static void assertStateClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + " length");
        double scale = 0;
        for (float e : expected) {
            scale = Math.max(scale, Math.abs(e));
        }
        for (int j = 0; j < expected.length; j++) {
            assertTrue(Math.abs(expected[j] - actual[j]) <= RTOL * scale,
                    what + "[" + j + "]: expected " + expected[j] + " but was " + actual[j] + " (largest element " + scale + ")");
        }
    }

    private static void assertLr(String run, int step, double lr) {
        double expected = FIXTURE.get(run + "/lr").values()[step];
        assertEquals(expected, lr, 1e-12 * Math.abs(expected), run + " lr at step " + step);
    }

    private static void replayAdamW(String name, AdamW adamw, double baseLr, LrSchedule schedule, double clip) {
        Run run = new Run(name);
        AdamWState state = AdamWState.zerosLike(run.params);
        for (int step = 0; step < STEPS; step++) {
            List<float[]> grads = run.gradsAt(step);
            if (clip > 0) {
                double norm = GradientClipping.clipGradNorm(grads, clip);
                double expectedNorm = FIXTURE.get(name + "/norm").values()[step];
                assertEquals(expectedNorm, norm, 1e-6 * expectedNorm, name + " norm at step " + step);
            }
            double lr = schedule.lr(baseLr, step);
            assertLr(name, step, lr);
            adamw.step(run.params, grads, state, lr);
            run.assertParamsAt(step);
        }
        assertEquals((long) FIXTURE.get(name + "/step").scalar(), state.step());
        for (int i = 0; i < PARAMS; i++) {
            assertStateClose(FIXTURE.get(name + "/p" + i + "/exp_avg").floats(), state.expAvg(i), name + " exp_avg " + i);
            assertStateClose(FIXTURE.get(name + "/p" + i + "/exp_avg_sq").floats(), state.expAvgSq(i),
                    name + " exp_avg_sq " + i);
        }
    }

    private static void replaySgd(String name, Sgd sgd, double baseLr, LrSchedule schedule, double clip) {
        Run run = new Run(name);
        SgdState state = SgdState.zerosLike(run.params);
        for (int step = 0; step < STEPS; step++) {
            List<float[]> grads = run.gradsAt(step);
            if (clip > 0) {
                double norm = GradientClipping.clipGradNorm(grads, clip);
                double expectedNorm = FIXTURE.get(name + "/norm").values()[step];
                assertEquals(expectedNorm, norm, 1e-6 * expectedNorm, name + " norm at step " + step);
            }
            double lr = schedule.lr(baseLr, step);
            assertLr(name, step, lr);
            sgd.step(run.params, grads, state, lr);
            run.assertParamsAt(step);
        }
        for (int i = 0; i < PARAMS; i++) {
            assertStateClose(FIXTURE.get(name + "/p" + i + "/momentum_buffer").floats(), state.momentumBuffer(i),
                    name + " momentum_buffer " + i);
        }
    }

    @Test
    void adamwWithDecayCosineAndClipping() {
        replayAdamW("adamw_wd01", new AdamW(0.9, 0.999, 1e-8, 0.1), 1e-2, LrSchedule.cosine(3, STEPS), 1.0);
    }

    @Test
    void adamwWithoutDecayLinearRatio() {
        long warmup = LrSchedule.warmupStepsFromRatio(0.1, STEPS);
        assertEquals(2, warmup);
        replayAdamW("adamw_wd0", new AdamW(0.8, 0.95, 1e-6, 0.0), 3e-3, LrSchedule.linear(warmup, STEPS), 0);
    }

    @Test
    void sgdMomentumDampening() {
        replaySgd("sgd", new Sgd(0.9, 0.1, 0.01, false), 0.05, LrSchedule.constant(2), 0);
    }

    @Test
    void sgdNesterov() {
        replaySgd("sgd_nesterov", new Sgd(0.8, 0, 0, true), 0.02, LrSchedule.constant(0), 0);
    }

    @Test
    void schedulesMatchTransformers() {
        long total = 30;
        long warmup = 5;
        double baseLr = 1e-3;
        String[] names = {"constant", "linear", "cosine", "cosine_min_lr_rate", "cosine_min_lr", "cosine_ratio",
            "linear_no_warmup"};
        LrSchedule[] schedules = {
            LrSchedule.constant(warmup),
            LrSchedule.linear(warmup, total),
            LrSchedule.cosine(warmup, total),
            LrSchedule.cosine(warmup, total).withMinLrRatio(0.1),
            LrSchedule.cosine(warmup, total).withMinLrRatio(2.5e-4 / baseLr),
            LrSchedule.cosine(LrSchedule.warmupStepsFromRatio(0.15, total), total),
            LrSchedule.linear(0, total),
        };
        for (int s = 0; s < names.length; s++) {
            double[] expected = FIXTURE.get("schedule/" + names[s]).values();
            assertEquals(35, expected.length);
            for (int step = 0; step < expected.length; step++) {
                assertEquals(expected[step], schedules[s].lr(baseLr, step), 1e-15 + 1e-12 * expected[step],
                        names[s] + " at step " + step);
            }
        }
    }
}
