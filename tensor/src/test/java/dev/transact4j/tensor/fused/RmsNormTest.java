package dev.transact4j.tensor.fused;

import static dev.transact4j.tensor.fused.FusedTesting.randn;
import static dev.transact4j.tensor.fused.FusedTesting.wide;
import static dev.transact4j.tensor.fused.FusedTesting.withThreads;
import static dev.transact4j.tensor.testing.ArrayAssert.assertBitwiseEqual;
import static dev.transact4j.tensor.testing.ArrayAssert.assertClose;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.transact4j.tensor.testing.Fixture;
import dev.transact4j.tensor.testing.GradCheck;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RmsNormTest {

    private static final float EPS = 1e-5f;

    @Test
    void matchesTorchFixture() {
        Fixture fixture = Fixture.load("fused_rms_norm");
        int cases = Integer.parseInt(fixture.metadata().get("cases"));
        for (int c = 0; c < cases; c++) {
            String p = "case" + c + ".";
            int[] shape = fixture.get(p + "x").shape();
            int n = shape[0];
            int ch = shape[1];
            float eps = (float) fixture.get(p + "eps").scalar();
            float[] x = fixture.get(p + "x").floats();
            float[] weight = fixture.get(p + "weight").floats();
            float[] dy = fixture.get(p + "dy").floats();
            for (boolean simd : new boolean[] {true, false}) {
                String what = "case " + c + " [N=" + n + ", C=" + ch + "] simd=" + simd;
                float[] y = new float[n * ch];
                float[] rstd = new float[n];
                RmsNorm.forward(x, 0, weight, 0, y, 0, rstd, 0, n, ch, eps, simd);
                assertClose(what + " y", fixture.get(p + "y.f64").values(), y, 1e-6, 1e-5);
                assertClose(what + " rstd", fixture.get(p + "rstd.f64").values(), rstd, 1e-6, 1e-5);

                float[] dx = new float[n * ch];
                float[] dweight = new float[ch];
                RmsNorm.backward(x, 0, weight, 0, rstd, 0, dy, 0, dx, 0, dweight, 0, n, ch, simd);
                assertClose(what + " dx", fixture.get(p + "dx.f64").values(), dx, 1e-5, 1e-4);
                assertClose(what + " dweight", fixture.get(p + "dweight.f64").values(), dweight, 1e-5, 1e-4);
            }
        }
    }

    @Test
    void gradientMatchesFiniteDifferences() {
        Random random = new Random(31);
        int n = 3;
        int c = 17;
        float[] x = randn(random, n * c, 1.0);
        float[] weight = randn(random, c, 1.0);
        for (boolean simd : new boolean[] {true, false}) {
            GradCheck.checkFloat("RmsNorm simd=" + simd,
                    in -> {
                        float[] y = new float[n * c];
                        RmsNorm.forward(in[0], 0, in[1], 0, y, 0, new float[n], 0, n, c, EPS, simd);
                        return new float[][] {y};
                    },
                    (in, up) -> {
                        float[] rstd = new float[n];
                        RmsNorm.forward(in[0], 0, in[1], 0, new float[n * c], 0, rstd, 0, n, c, EPS, simd);
                        float[] dx = new float[n * c];
                        float[] dw = new float[c];
                        RmsNorm.backward(in[0], 0, in[1], 0, rstd, 0, up[0], 0, dx, 0, dw, 0, n, c, simd);
                        return new float[][] {dx, dw};
                    },
                    new float[][] {x, weight}, 32);
        }
    }

    @Test
    void matchesUnfusedDoubleReference() {
        Random random = new Random(33);
        GradCheck.checkDouble("unfused RMSNorm",
                in -> new double[][] {reference(in[0], in[1], 2, 5, null, null, null)},
                (in, up) -> {
                    double[] dx = new double[10];
                    double[] dw = new double[5];
                    reference(in[0], in[1], 2, 5, up[0], dx, dw);
                    return new double[][] {dx, dw};
                },
                new double[][] {wide(randn(random, 10, 1.0)), wide(randn(random, 5, 1.0))}, 34);

        int n = 17;
        int c = 257;
        float[] x = randn(random, n * c, 2.0);
        float[] weight = randn(random, c, 1.0);
        float[] dy = randn(random, n * c, 1.0);
        double[] dxExpected = new double[n * c];
        double[] dwExpected = new double[c];
        double[] yExpected = reference(wide(x), wide(weight), n, c, wide(dy), dxExpected, dwExpected);
        for (boolean simd : new boolean[] {true, false}) {
            float[] y = new float[n * c];
            float[] rstd = new float[n];
            RmsNorm.forward(x, 0, weight, 0, y, 0, rstd, 0, n, c, EPS, simd);
            assertClose("y simd=" + simd, yExpected, y, 1e-6, 1e-5);
            float[] dx = new float[n * c];
            float[] dw = new float[c];
            RmsNorm.backward(x, 0, weight, 0, rstd, 0, dy, 0, dx, 0, dw, 0, n, c, simd);
            assertClose("dx simd=" + simd, dxExpected, dx, 1e-5, 1e-4);
            assertClose("dweight simd=" + simd, dwExpected, dw, 1e-5, 1e-4);
        }
    }

    @Test
    void backwardAccumulatesAndForwardWorksInPlace() {
        Random random = new Random(35);
        int n = 3;
        int c = 33;
        int offset = 3;
        float[] x = randn(random, offset + n * c, 1.0);
        float[] weight = randn(random, c, 1.0);
        float[] dy = randn(random, n * c, 1.0);
        float[] y = new float[n * c];
        float[] rstd = new float[n];
        RmsNorm.forward(x, offset, weight, 0, y, 0, rstd, 0, n, c, EPS);
        float[] inPlace = x.clone();
        RmsNorm.forward(inPlace, offset, weight, 0, inPlace, offset, new float[n], 0, n, c, EPS);
        assertBitwiseEqual("in-place y", y, java.util.Arrays.copyOfRange(inPlace, offset, offset + n * c));

        float[] dx = new float[n * c];
        float[] dw = new float[c];
        RmsNorm.backward(x, offset, weight, 0, rstd, 0, dy, 0, dx, 0, dw, 0, n, c);
        float[] dx2 = dx.clone();
        float[] dw2 = dw.clone();
        RmsNorm.backward(x, offset, weight, 0, rstd, 0, dy, 0, dx2, 0, dw2, 0, n, c);
        for (int i = 0; i < n * c; i++) {
            dx[i] *= 2;
        }
        for (int j = 0; j < c; j++) {
            dw[j] *= 2;
        }
        assertClose("dx after two calls", dx, dx2, 1e-6, 1e-6);
        assertClose("dweight after two calls", dw, dw2, 1e-6, 1e-6);
    }

    @Test
    void scalarAndVectorPathsAgree() {
        Random random = new Random(36);
        int n = 15;
        int c = 257;
        float[] x = randn(random, n * c, 1.0);
        float[] weight = randn(random, c, 1.0);
        float[] dy = randn(random, n * c, 1.0);
        float[][] vector = run(x, weight, dy, n, c, true);
        float[][] scalar = run(x, weight, dy, n, c, false);
        String[] names = {"y", "rstd", "dx", "dweight"};
        for (int k = 0; k < names.length; k++) {
            assertClose(names[k], scalar[k], vector[k], 1e-5, 1e-5);
        }
    }

    @Test
    void resultsDoNotDependOnThreadCount() {
        Random random = new Random(37);
        int n = 301;
        int c = 129;
        float[] x = randn(random, n * c, 1.0);
        float[] weight = randn(random, c, 1.0);
        float[] dy = randn(random, n * c, 1.0);
        for (boolean simd : new boolean[] {true, false}) {
            float[][] oneThread = withThreads(1, () -> run(x, weight, dy, n, c, simd));
            float[][] twoThreads = withThreads(2, () -> run(x, weight, dy, n, c, simd));
            String[] names = {"y", "rstd", "dx", "dweight"};
            for (int k = 0; k < names.length; k++) {
                assertBitwiseEqual(names[k] + " simd=" + simd, oneThread[k], twoThreads[k]);
            }
        }
    }

    @Test
    void rejectsShapeMismatch() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RmsNorm.forward(new float[12], 0, new float[3], 0, new float[12], 0, new float[3], 0, 3, 4, EPS));
        assertTrue(e.getMessage().contains("weight [C=4]"), e.getMessage());
        IllegalArgumentException dw = assertThrows(IllegalArgumentException.class,
                () -> RmsNorm.backward(new float[12], 0, new float[4], 0, new float[3], 0, new float[12], 0,
                        new float[12], 0, new float[2], 0, 3, 4));
        assertTrue(dw.getMessage().contains("RmsNorm.backward: dweight [C=4]"), dw.getMessage());
    }

    private static float[][] run(float[] x, float[] weight, float[] dy, int n, int c, boolean simd) {
        float[] y = new float[n * c];
        float[] rstd = new float[n];
        RmsNorm.forward(x, 0, weight, 0, y, 0, rstd, 0, n, c, EPS, simd);
        float[] dx = new float[n * c];
        float[] dw = new float[c];
        RmsNorm.backward(x, 0, weight, 0, rstd, 0, dy, 0, dx, 0, dw, 0, n, c, simd);
        return new float[][] {y, rstd, dx, dw};
    }

    /**
     * Unfused RMSNorm in double, one primitive per step: ms = mean(x^2), r = (ms + eps)^-1/2,
     * xhat = x * r, y = w * xhat. When dy is given, adds the chain-rule gradients to dx and dw.
     */
    private static double[] reference(double[] x, double[] w, int n, int c, double[] dy, double[] dx, double[] dw) {
        double[] y = new double[n * c];
        for (int r = 0; r < n; r++) {
            double ms = 0.0;
            for (int j = 0; j < c; j++) {
                ms += x[r * c + j] * x[r * c + j];
            }
            ms /= c;
            double rs = 1.0 / Math.sqrt(ms + EPS);
            for (int j = 0; j < c; j++) {
                y[r * c + j] = w[j] * (x[r * c + j] * rs);
            }
            if (dy == null) {
                continue;
            }
            // y = w * xhat: dxhat = dy * w, dw += dy * xhat
            double[] dxhat = new double[c];
            for (int j = 0; j < c; j++) {
                dxhat[j] = dy[r * c + j] * w[j];
                dw[j] += dy[r * c + j] * x[r * c + j] * rs;
            }
            // xhat = x * r: dx += dxhat * r, dr = sum(dxhat * x)
            double dr = 0.0;
            for (int j = 0; j < c; j++) {
                dx[r * c + j] += dxhat[j] * rs;
                dr += dxhat[j] * x[r * c + j];
            }
            // r = (ms + eps)^-1/2: dms = -0.5 * (ms + eps)^-3/2 * dr; ms = mean(x^2): dx += dms * 2x / C
            double dms = -0.5 * Math.pow(ms + EPS, -1.5) * dr;
            for (int j = 0; j < c; j++) {
                dx[r * c + j] += dms * 2 * x[r * c + j] / c;
            }
        }
        return y;
    }
}
