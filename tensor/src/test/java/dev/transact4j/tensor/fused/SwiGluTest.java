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

class SwiGluTest {

    @Test
    void matchesTorchFixture() {
        Fixture fixture = Fixture.load("fused_swiglu");
        int cases = Integer.parseInt(fixture.metadata().get("cases"));
        for (int c = 0; c < cases; c++) {
            String p = "case" + c + ".";
            int[] shape = fixture.get(p + "gate").shape();
            int n = shape[0];
            int i = shape[1];
            float[] gate = fixture.get(p + "gate").floats();
            float[] up = fixture.get(p + "up").floats();
            float[] dout = fixture.get(p + "dout").floats();
            for (boolean simd : new boolean[] {true, false}) {
                String what = "case " + c + " [N=" + n + ", I=" + i + "] simd=" + simd;
                float[] out = new float[n * i];
                SwiGlu.forward(gate, 0, up, 0, out, 0, n, i, simd);
                assertClose(what + " out", fixture.get(p + "out.f64").values(), out, 1e-6, 1e-5);
                float[] dgate = new float[n * i];
                float[] dup = new float[n * i];
                SwiGlu.backward(gate, 0, up, 0, dout, 0, dgate, 0, dup, 0, n, i, simd);
                assertClose(what + " dgate", fixture.get(p + "dgate.f64").values(), dgate, 1e-6, 1e-5);
                assertClose(what + " dup", fixture.get(p + "dup.f64").values(), dup, 1e-6, 1e-5);
            }
        }
    }

    @Test
    void gradientMatchesFiniteDifferences() {
        Random random = new Random(41);
        int n = 3;
        int i = 17;
        float[] gate = randn(random, n * i, 2.0);
        float[] up = randn(random, n * i, 1.0);
        for (boolean simd : new boolean[] {true, false}) {
            GradCheck.checkFloat("SwiGlu simd=" + simd,
                    in -> {
                        float[] out = new float[n * i];
                        SwiGlu.forward(in[0], 0, in[1], 0, out, 0, n, i, simd);
                        return new float[][] {out};
                    },
                    (in, dout) -> {
                        float[] dg = new float[n * i];
                        float[] du = new float[n * i];
                        SwiGlu.backward(in[0], 0, in[1], 0, dout[0], 0, dg, 0, du, 0, n, i, simd);
                        return new float[][] {dg, du};
                    },
                    new float[][] {gate, up}, 42);
        }
    }

    @Test
    void matchesUnfusedDoubleReference() {
        Random random = new Random(43);
        GradCheck.checkDouble("unfused SwiGLU",
                in -> new double[][] {reference(in[0], in[1], null, null, null)},
                (in, dout) -> {
                    double[] dg = new double[in[0].length];
                    double[] du = new double[in[0].length];
                    reference(in[0], in[1], dout[0], dg, du);
                    return new double[][] {dg, du};
                },
                new double[][] {wide(randn(random, 7, 3.0)), wide(randn(random, 7, 1.0))}, 44);

        int n = 17;
        int i = 65;
        float[] gate = randn(random, n * i, 4.0);
        float[] up = randn(random, n * i, 1.0);
        float[] dout = randn(random, n * i, 1.0);
        double[] dgExpected = new double[n * i];
        double[] duExpected = new double[n * i];
        double[] outExpected = reference(wide(gate), wide(up), wide(dout), dgExpected, duExpected);
        for (boolean simd : new boolean[] {true, false}) {
            float[] out = new float[n * i];
            SwiGlu.forward(gate, 0, up, 0, out, 0, n, i, simd);
            assertClose("out simd=" + simd, outExpected, out, 1e-6, 1e-5);
            float[] dg = new float[n * i];
            float[] du = new float[n * i];
            SwiGlu.backward(gate, 0, up, 0, dout, 0, dg, 0, du, 0, n, i, simd);
            assertClose("dgate simd=" + simd, dgExpected, dg, 1e-6, 1e-5);
            assertClose("dup simd=" + simd, duExpected, du, 1e-6, 1e-5);
        }
    }

    @Test
    void scalarAndVectorPathsAgree() {
        Random random = new Random(45);
        int n = 17;
        int i = 129;
        float[] gate = randn(random, n * i, 3.0);
        float[] up = randn(random, n * i, 1.0);
        float[] dout = randn(random, n * i, 1.0);
        float[][] vector = run(gate, up, dout, n, i, true);
        float[][] scalar = run(gate, up, dout, n, i, false);
        assertClose("out", scalar[0], vector[0], 1e-6, 1e-5);
        assertClose("dgate", scalar[1], vector[1], 1e-6, 1e-5);
        assertClose("dup", scalar[2], vector[2], 1e-6, 1e-5);
    }

    @Test
    void resultsDoNotDependOnThreadCount() {
        Random random = new Random(46);
        int n = 301;
        int i = 129;
        float[] gate = randn(random, n * i, 3.0);
        float[] up = randn(random, n * i, 1.0);
        float[] dout = randn(random, n * i, 1.0);
        for (boolean simd : new boolean[] {true, false}) {
            float[][] oneThread = withThreads(1, () -> run(gate, up, dout, n, i, simd));
            float[][] twoThreads = withThreads(2, () -> run(gate, up, dout, n, i, simd));
            for (int k = 0; k < 3; k++) {
                assertBitwiseEqual("output " + k + " simd=" + simd, oneThread[k], twoThreads[k]);
            }
        }
    }

    @Test
    void backwardAccumulatesAndRejectsShortBuffers() {
        float[] gate = {0.5f, -1f, 2f};
        float[] up = {1f, 2f, 3f};
        float[] dout = {1f, 1f, 1f};
        float[] dg = {10f, 10f, 10f};
        float[] du = {10f, 10f, 10f};
        SwiGlu.backward(gate, 0, up, 0, dout, 0, dg, 0, du, 0, 1, 3);
        for (int e = 0; e < 3; e++) {
            double s = 1 / (1 + Math.exp(-gate[e]));
            assertClose("dgate " + e, new double[] {10 + up[e] * s * (1 + gate[e] * (1 - s))},
                    new float[] {dg[e]}, 1e-5, 1e-6);
            assertClose("dup " + e, new double[] {10 + gate[e] * s}, new float[] {du[e]}, 1e-5, 1e-6);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SwiGlu.forward(gate, 0, up, 1, new float[3], 0, 1, 3));
        assertTrue(e.getMessage().contains("up [N=1, I=3]"), e.getMessage());
    }

    private static float[][] run(float[] gate, float[] up, float[] dout, int n, int i, boolean simd) {
        float[] out = new float[n * i];
        SwiGlu.forward(gate, 0, up, 0, out, 0, n, i, simd);
        float[] dg = new float[n * i];
        float[] du = new float[n * i];
        SwiGlu.backward(gate, 0, up, 0, dout, 0, dg, 0, du, 0, n, i, simd);
        return new float[][] {out, dg, du};
    }

    /** Unfused in double: s = sigmoid(g), a = g * s, out = a * u, and its chain rule when dout is given. */
    private static double[] reference(double[] g, double[] u, double[] dout, double[] dg, double[] du) {
        double[] out = new double[g.length];
        for (int e = 0; e < g.length; e++) {
            double s = 1.0 / (1.0 + Math.exp(-g[e]));
            double a = g[e] * s;
            out[e] = a * u[e];
            if (dout != null) {
                double da = dout[e] * u[e];
                du[e] += dout[e] * a;
                double ds = da * g[e];
                dg[e] += da * s + ds * s * (1 - s);
            }
        }
        return out;
    }
}
