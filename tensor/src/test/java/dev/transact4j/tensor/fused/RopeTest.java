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

class RopeTest {

    @Test
    void matchesTorchFixture() {
        Fixture fixture = Fixture.load("fused_rope");
        int cases = Integer.parseInt(fixture.metadata().get("cases"));
        for (int c = 0; c < cases; c++) {
            String p = "case" + c + ".";
            int[] shape = fixture.get(p + "x").shape();
            int b = shape[0];
            int nh = shape[1];
            int t = shape[2];
            int hs = shape[3];
            int maxPositions = fixture.get(p + "cos").shape()[0];
            float[] x = fixture.get(p + "x").floats();
            float[] dout = fixture.get(p + "dout").floats();
            float[] cos = fixture.get(p + "cos").floats();
            float[] sin = fixture.get(p + "sin").floats();
            int[] positions = fixture.get(p + "positions").ints();
            int offset = fixture.get(p + "offset").ints()[0];
            for (boolean simd : new boolean[] {true, false}) {
                String what = "case " + c + " [B=" + b + ", NH=" + nh + ", T=" + t + ", HS=" + hs + "] simd=" + simd;
                float[] out = new float[x.length];
                Rope.forward(x, 0, cos, sin, maxPositions, positions, 0, 0, out, 0, b, nh, t, hs, simd);
                assertClose(what + " out", fixture.get(p + "out.f64").values(), out, 1e-6, 1e-5);
                if (offset >= 0) {
                    float[] byOffset = new float[x.length];
                    Rope.forward(x, 0, cos, sin, maxPositions, null, 0, offset, byOffset, 0, b, nh, t, hs, simd);
                    assertBitwiseEqual(what + " out from the position offset", out, byOffset);
                }
                float[] dx = new float[x.length];
                Rope.backward(cos, sin, maxPositions, positions, 0, 0, dout, 0, dx, 0, b, nh, t, hs, simd);
                assertClose(what + " dx", fixture.get(p + "dx.f64").values(), dx, 1e-6, 1e-5);
            }
        }
    }

    @Test
    void gradientMatchesFiniteDifferences() {
        Random random = new Random(51);
        int b = 2;
        int nh = 2;
        int t = 3;
        int hs = 34;
        int maxPositions = 9;
        float[][] tables = tables(hs, maxPositions);
        int[] positions = {0, 4, 8, 2, 2, 7};
        float[] x = randn(random, b * nh * t * hs, 1.0);
        for (boolean simd : new boolean[] {true, false}) {
            GradCheck.checkFloat("Rope simd=" + simd,
                    in -> {
                        float[] out = new float[in[0].length];
                        Rope.forward(in[0], 0, tables[0], tables[1], maxPositions, positions, 0, 0, out, 0,
                                b, nh, t, hs, simd);
                        return new float[][] {out};
                    },
                    (in, dout) -> {
                        float[] dx = new float[in[0].length];
                        Rope.backward(tables[0], tables[1], maxPositions, positions, 0, 0, dout[0], 0, dx, 0,
                                b, nh, t, hs, simd);
                        return new float[][] {dx};
                    },
                    new float[][] {x}, 52);
        }
    }

    @Test
    void matchesUnfusedDoubleReference() {
        Random random = new Random(53);
        int b = 2;
        int nh = 3;
        int t = 5;
        int hs = 16;
        int maxPositions = 20;
        float[][] tables = tables(hs, maxPositions);
        int offset = 11;
        double[] cos = wide(tables[0]);
        double[] sin = wide(tables[1]);

        GradCheck.checkDouble("unfused RoPE",
                in -> new double[][] {reference(in[0], cos, sin, offset, 1, 1, t, hs, null, null)},
                (in, dout) -> {
                    double[] dx = new double[in[0].length];
                    reference(in[0], cos, sin, offset, 1, 1, t, hs, dout[0], dx);
                    return new double[][] {dx};
                },
                new double[][] {wide(randn(random, t * hs, 1.0))}, 54);

        float[] x = randn(random, b * nh * t * hs, 1.0);
        float[] dout = randn(random, b * nh * t * hs, 1.0);
        double[] dxExpected = new double[x.length];
        double[] outExpected = reference(wide(x), cos, sin, offset, b, nh, t, hs, wide(dout), dxExpected);
        for (boolean simd : new boolean[] {true, false}) {
            float[] out = new float[x.length];
            Rope.forward(x, 0, tables[0], tables[1], maxPositions, null, 0, offset, out, 0, b, nh, t, hs, simd);
            assertClose("out simd=" + simd, outExpected, out, 1e-6, 1e-5);
            float[] dx = new float[x.length];
            Rope.backward(tables[0], tables[1], maxPositions, null, 0, offset, dout, 0, dx, 0, b, nh, t, hs, simd);
            assertClose("dx simd=" + simd, dxExpected, dx, 1e-6, 1e-5);
        }
    }

    @Test
    void backwardIsRotationByNegativeAngle() {
        Random random = new Random(55);
        int b = 1;
        int nh = 2;
        int t = 7;
        int hs = 66;
        int maxPositions = 7;
        float[][] tables = tables(hs, maxPositions);
        float[] negativeSin = tables[1].clone();
        for (int e = 0; e < negativeSin.length; e++) {
            negativeSin[e] = -negativeSin[e];
        }
        float[] dout = randn(random, b * nh * t * hs, 1.0);
        float[] dx = new float[dout.length];
        Rope.backward(tables[0], tables[1], maxPositions, null, 0, 0, dout, 0, dx, 0, b, nh, t, hs);
        float[] rotated = new float[dout.length];
        Rope.forward(dout, 0, tables[0], negativeSin, maxPositions, null, 0, 0, rotated, 0, b, nh, t, hs);
        assertClose("dx against rotation by -angle", rotated, dx, 1e-7, 1e-6);
    }

    @Test
    void resultsDoNotDependOnThreadCount() {
        Random random = new Random(56);
        int b = 2;
        int nh = 4;
        int t = 65;
        int hs = 64;
        int maxPositions = 80;
        float[][] tables = tables(hs, maxPositions);
        float[] x = randn(random, b * nh * t * hs, 1.0);
        float[] dout = randn(random, b * nh * t * hs, 1.0);
        for (boolean simd : new boolean[] {true, false}) {
            float[][] oneThread = withThreads(1, () -> run(x, dout, tables, maxPositions, b, nh, t, hs, simd));
            float[][] twoThreads = withThreads(2, () -> run(x, dout, tables, maxPositions, b, nh, t, hs, simd));
            assertBitwiseEqual("out simd=" + simd, oneThread[0], twoThreads[0]);
            assertBitwiseEqual("dx simd=" + simd, oneThread[1], twoThreads[1]);
        }
    }

    @Test
    void inPlaceForwardAndScalarPathAgree() {
        Random random = new Random(57);
        int b = 1;
        int nh = 3;
        int t = 5;
        int hs = 66;
        int maxPositions = 8;
        float[][] tables = tables(hs, maxPositions);
        float[] x = randn(random, b * nh * t * hs, 1.0);
        float[] dout = randn(random, b * nh * t * hs, 1.0);
        float[][] vector = run(x, dout, tables, maxPositions, b, nh, t, hs, true);
        float[][] scalar = run(x, dout, tables, maxPositions, b, nh, t, hs, false);
        assertClose("out scalar vs vector", scalar[0], vector[0], 1e-6, 1e-6);
        assertClose("dx scalar vs vector", scalar[1], vector[1], 1e-6, 1e-6);
        for (boolean simd : new boolean[] {true, false}) {
            float[] inPlace = x.clone();
            Rope.forward(inPlace, 0, tables[0], tables[1], maxPositions, null, 0, 3, inPlace, 0, b, nh, t, hs, simd);
            assertBitwiseEqual("in-place out simd=" + simd, simd ? vector[0] : scalar[0], inPlace);
        }
    }

    @Test
    void rejectsBadPositionsAndOddHeadSize() {
        float[][] tables = tables(4, 3);
        float[] x = new float[2 * 4];
        IllegalArgumentException id = assertThrows(IllegalArgumentException.class,
                () -> Rope.forward(x, 0, tables[0], tables[1], 3, new int[] {0, 3}, 0, 0, x, 0, 1, 1, 2, 4));
        assertTrue(id.getMessage().contains("position id 3 at [0, 1]"), id.getMessage());
        IllegalArgumentException offset = assertThrows(IllegalArgumentException.class,
                () -> Rope.forward(x, 0, tables[0], tables[1], 3, null, 0, 2, x, 0, 1, 1, 2, 4));
        assertTrue(offset.getMessage().contains("positions 2..3"), offset.getMessage());
        IllegalArgumentException odd = assertThrows(IllegalArgumentException.class,
                () -> Rope.forward(new float[6], 0, new float[9], new float[9], 3, null, 0, 0, new float[6], 0,
                        1, 1, 2, 3));
        assertTrue(odd.getMessage().contains("even"), odd.getMessage());
    }

    private static float[][] run(float[] x, float[] dout, float[][] tables, int maxPositions,
                                 int b, int nh, int t, int hs, boolean simd) {
        float[] out = new float[x.length];
        Rope.forward(x, 0, tables[0], tables[1], maxPositions, null, 0, 3, out, 0, b, nh, t, hs, simd);
        float[] dx = new float[x.length];
        Rope.backward(tables[0], tables[1], maxPositions, null, 0, 3, dout, 0, dx, 0, b, nh, t, hs, simd);
        return new float[][] {out, dx};
    }

    /** Hugging Face Llama tables with theta 10000: angle p * theta^(-2i/HS), repeated over both halves. */
    static float[][] tables(int hs, int maxPositions) {
        float[] cos = new float[maxPositions * hs];
        float[] sin = new float[maxPositions * hs];
        int half = hs / 2;
        for (int p = 0; p < maxPositions; p++) {
            for (int i = 0; i < half; i++) {
                double angle = p * Math.pow(10000.0, -2.0 * i / hs);
                cos[p * hs + i] = (float) Math.cos(angle);
                cos[p * hs + half + i] = (float) Math.cos(angle);
                sin[p * hs + i] = (float) Math.sin(angle);
                sin[p * hs + half + i] = (float) Math.sin(angle);
            }
        }
        return new float[][] {cos, sin};
    }

    /**
     * Unfused RoPE in double at positions offset + t: rh = cat(-x2, x1), out = x * cos + rh * sin.
     * When dout is given, adds dx = dout * cos + rotate_half^T(dout * sin) with
     * rotate_half^T(g) = cat(g2, -g1).
     */
    private static double[] reference(double[] x, double[] cos, double[] sin, int offset, int b, int nh, int t,
                                      int hs, double[] dout, double[] dx) {
        double[] out = new double[x.length];
        int half = hs / 2;
        for (int row = 0; row < b * nh * t; row++) {
            int pos = offset + row % t;
            int base = row * hs;
            double[] rh = new double[hs];
            for (int j = 0; j < half; j++) {
                rh[j] = -x[base + half + j];
                rh[half + j] = x[base + j];
            }
            for (int j = 0; j < hs; j++) {
                out[base + j] = x[base + j] * cos[pos * hs + j] + rh[j] * sin[pos * hs + j];
            }
            if (dout == null) {
                continue;
            }
            double[] g = new double[hs];
            for (int j = 0; j < hs; j++) {
                dx[base + j] += dout[base + j] * cos[pos * hs + j];
                g[j] = dout[base + j] * sin[pos * hs + j];
            }
            for (int j = 0; j < half; j++) {
                dx[base + j] += g[half + j];
                dx[base + half + j] -= g[j];
            }
        }
        return out;
    }
}
