package dev.transact4j.nn.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.transact4j.nn.Parameter;
import dev.transact4j.tensor.Tensor;
import dev.transact4j.tensor.testing.ArrayAssert;
import dev.transact4j.tensor.testing.Fixture;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Replays the torch runs of src/test/python/make_optim_fixtures.py through the optimisers over
 * {@link Parameter}s: gradients reach the parameters through backward, and clipping, the schedule
 * and the update run through {@link Optimizer}.
 */
class ParameterOptimizerFixtureTest {

    private static final int STEPS = 20;
    private static final Fixture FIXTURE = Fixture.load("optim");

    private static void replay(String run, Function<List<ParameterGroup>, Optimizer> make, double baseLr,
                               LrSchedule schedule, double clip, double weightDecay) {
        Map<String, Parameter> params = new LinkedHashMap<>();
        for (int i = 0; i < 2; i++) {
            Fixture.Array init = FIXTURE.get(run + "/p" + i + "/init");
            params.put("p" + i, new Parameter(Tensor.of(init.floats(), init.shape())));
        }
        Optimizer optimizer = make.apply(List.of(new ParameterGroup(params, weightDecay)));
        for (int step = 0; step < STEPS; step++) {
            for (int i = 0; i < 2; i++) {
                Parameter p = params.get("p" + i);
                int n = p.numel();
                float[] g = Arrays.copyOfRange(FIXTURE.get(run + "/p" + i + "/grads").floats(), step * n, (step + 1) * n);
                // backward of sum(p * g) gives p exactly the gradient g
                p.zeroGrad();
                p.value().mul(Tensor.of(g, p.shape())).sum().backward();
            }
            if (clip > 0) {
                double expectedNorm = FIXTURE.get(run + "/norm").values()[step];
                assertEquals(expectedNorm, optimizer.clipGradNorm(clip), 1e-6 * expectedNorm, run + " norm at step " + step);
            }
            double lr = optimizer.step(schedule, baseLr);
            assertEquals(FIXTURE.get(run + "/lr").values()[step], lr, 1e-15 + 1e-12 * Math.abs(lr),
                    run + " lr at step " + step);
            for (int i = 0; i < 2; i++) {
                Parameter p = params.get("p" + i);
                int n = p.numel();
                double[] expected = Arrays.copyOfRange(FIXTURE.get(run + "/p" + i + "/params").values(),
                        step * n, (step + 1) * n);
                ArrayAssert.assertClose(run + " p" + i + " after step " + (step + 1), expected, p.data(), 1e-7, 1e-6);
            }
        }
        assertEquals(STEPS, optimizer.steps());
    }

    @Test
    void adamwReplaysTorch() {
        replay("adamw_wd01", groups -> new AdamWOptimizer(groups, 0.9, 0.999, 1e-8), 1e-2,
                LrSchedule.cosine(3, STEPS), 1.0, 0.1);
    }

    @Test
    void sgdMomentumReplaysTorch() {
        replay("sgd", groups -> new SgdOptimizer(groups, 0.9, 0.1, false), 0.05, LrSchedule.constant(2), 5.0, 0.01);
    }

    @Test
    void sgdNesterovReplaysTorch() {
        replay("sgd_nesterov", groups -> new SgdOptimizer(groups, 0.8, 0, true), 0.02, LrSchedule.constant(0), 0, 0);
    }
}
