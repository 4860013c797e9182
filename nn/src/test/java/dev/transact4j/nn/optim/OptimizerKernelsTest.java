package dev.transact4j.nn.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.math.BigDecimal;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The Vector API kernels against their scalar twins, on sizes that are not multiples of the vector length. */
class OptimizerKernelsTest {

    private static final int[] SIZES = {1, 3, 15, 17, 33, 257, 1000};

    private static float[] random(SplittableRandom random, int n, double scale) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = (float) (random.nextGaussian() * scale);
        }
        return out;
    }

    private static float[] abs(float[] x) {
        float[] out = x.clone();
        for (int i = 0; i < out.length; i++) {
            out[i] = Math.abs(out[i]);
        }
        return out;
    }

    @Test
    void adamwVectorMatchesScalarBitwise() {
        SplittableRandom random = new SplittableRandom(5);
        OptimizerKernels.AdamWFactors k = OptimizerKernels.AdamWFactors.of(3, 1e-3, 0.9, 0.999, 1e-8, 0.01);
        for (int n : SIZES) {
            float[] p = random(random, n, 1);
            float[] g = random(random, n, 1);
            float[] m = random(random, n, 0.1);
            float[] v = abs(random(random, n, 0.01));
            float[] p2 = p.clone();
            float[] m2 = m.clone();
            float[] v2 = v.clone();
            // An offset range checks that the vector loop and its tail respect [from, to).
            int from = n > 2 ? 1 : 0;
            int to = n > 2 ? n - 1 : n;
            OptimizerKernels.adamwVector(p, g, m, v, from, to, k);
            OptimizerKernels.adamwScalar(p2, g, m2, v2, from, to, k);
            assertArrayEquals(p2, p, "param, n = " + n);
            assertArrayEquals(m2, m, "exp_avg, n = " + n);
            assertArrayEquals(v2, v, "exp_avg_sq, n = " + n);
        }
    }

    @Test
    void adamwFirstStepFromDefinition() {
        // Step 1 from zero moments: m = (1-b1) g, v = (1-b2) g^2, so the update is lr * g / (|g| + eps')
        // with eps' = eps * sqrt(1-b2), in double.
        float[] p = {1f, -2f, 0.5f};
        float[] g = {0.3f, -0.1f, 2f};
        float[] m = new float[3];
        float[] v = new float[3];
        double lr = 0.01;
        double wd = 0.1;
        OptimizerKernels.adamw(p, g, m, v, 0, 3, OptimizerKernels.AdamWFactors.of(1, lr, 0.9, 0.999, 1e-8, wd));
        float[] start = {1f, -2f, 0.5f};
        for (int i = 0; i < 3; i++) {
            double expected = start[i] * (1 - lr * wd) - lr * g[i] / (Math.abs(g[i]) + 1e-8 * Math.sqrt(1 - 0.999));
            assertEquals(expected, p[i], 1e-6 * Math.abs(expected), "param " + i);
        }
    }

    @Test
    void sgdVectorMatchesScalarBitwise() {
        SplittableRandom random = new SplittableRandom(6);
        boolean[][] flags = {{false, true}, {false, false}, {true, false}, {true, true}};
        for (int n : SIZES) {
            for (boolean[] f : flags) {
                boolean nesterov = f[0];
                boolean firstStep = f[1];
                float dampening = nesterov ? 0f : 0.1f;
                for (float momentum : new float[] {0f, 0.9f}) {
                    if (nesterov && momentum == 0f) {
                        continue;
                    }
                    float[] p = random(random, n, 1);
                    float[] g = random(random, n, 1);
                    float[] buf = random(random, n, 1);
                    float[] p2 = p.clone();
                    float[] buf2 = buf.clone();
                    OptimizerKernels.sgdVector(p, g, buf, 0, n, 0.05f, momentum, dampening, 0.01f, nesterov, firstStep);
                    OptimizerKernels.sgdScalar(p2, g, buf2, 0, n, 0.05f, momentum, dampening, 0.01f, nesterov, firstStep);
                    String what = "n = " + n + ", momentum " + momentum + ", nesterov " + nesterov + ", first " + firstStep;
                    assertArrayEquals(p2, p, "param, " + what);
                    assertArrayEquals(buf2, buf, "buffer, " + what);
                }
            }
        }
    }

    @Test
    void sumOfSquaresMatchesExactSum() {
        SplittableRandom random = new SplittableRandom(7);
        for (int n : SIZES) {
            float[] x = random(random, n, 3);
            BigDecimal exact = BigDecimal.ZERO;
            for (float xi : x) {
                BigDecimal b = new BigDecimal(xi);
                exact = exact.add(b.multiply(b));
            }
            double expected = exact.doubleValue();
            assertEquals(expected, OptimizerKernels.sumOfSquaresVector(x, 0, n), 1e-14 * expected, "vector, n = " + n);
            assertEquals(expected, OptimizerKernels.sumOfSquaresScalar(x, 0, n), 1e-14 * expected, "scalar, n = " + n);
        }
    }

    @Test
    void sumOfSquaresHonoursRange() {
        float[] x = new float[40];
        for (int i = 0; i < x.length; i++) {
            x[i] = i;
        }
        double expected = 0;
        for (int i = 5; i < 38; i++) {
            expected += (double) i * i;
        }
        assertEquals(expected, OptimizerKernels.sumOfSquaresVector(x, 5, 38));
        assertEquals(expected, OptimizerKernels.sumOfSquaresScalar(x, 5, 38));
    }

    @Test
    void scaleMultipliesRangeOnly() {
        for (int n : SIZES) {
            float[] x = new float[n + 2];
            java.util.Arrays.fill(x, 2f);
            OptimizerKernels.scale(x, 1, n + 1, 0.5f);
            assertEquals(2f, x[0]);
            assertEquals(2f, x[n + 1]);
            for (int i = 1; i <= n; i++) {
                assertEquals(1f, x[i], "n = " + n + ", i = " + i);
            }
        }
    }
}
