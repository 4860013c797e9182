package dev.transact4j.tensor.fused;

import static dev.transact4j.tensor.fused.FusedTesting.randn;
import static dev.transact4j.tensor.fused.FusedTesting.wide;
import static dev.transact4j.tensor.fused.FusedTesting.withThreads;
import static dev.transact4j.tensor.testing.ArrayAssert.assertBitwiseEqual;
import static dev.transact4j.tensor.testing.ArrayAssert.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.transact4j.tensor.testing.Fixture;
import dev.transact4j.tensor.testing.GradCheck;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class CausalAttentionTest {

    /** Attention sizes: batch, query heads, key/value heads, query steps, key steps, head size. */
    private record Dims(int b, int nh, int nkv, int tq, int tk, int hs) {
        int qSize() {
            return b * nh * tq * hs;
        }

        int kvSize() {
            return b * nkv * tk * hs;
        }
    }

    /** Inputs, outputs and gradients of one attention call. */
    private record Run(float[] out, float[] lse, float[] dq, float[] dk, float[] dv) {
    }

    @Test
    void matchesTorchFixture() {
        Fixture fixture = Fixture.load("fused_attention");
        int cases = Integer.parseInt(fixture.metadata().get("cases"));
        for (int c = 0; c < cases; c++) {
            String p = "case" + c + ".";
            int[] s = fixture.get(p + "shape").ints();
            Dims d = new Dims(s[0], s[1], s[2], s[3], s[4], s[5]);
            float scale = (float) fixture.get(p + "scale").scalar();
            float[] q = fixture.get(p + "q").floats();
            float[] k = fixture.get(p + "k").floats();
            float[] v = fixture.get(p + "v").floats();
            float[] dout = fixture.get(p + "dout").floats();
            float[] mask = fixture.has(p + "mask") ? fixture.get(p + "mask").floats() : null;
            for (boolean simd : new boolean[] {true, false}) {
                String what = "case " + c + " " + d + " simd=" + simd;
                Run r = run(q, k, v, mask, dout, d, scale, simd);
                assertClose(what + " out", fixture.get(p + "out.f64").values(), r.out, 1e-5, 1e-4);
                assertClose(what + " lse", fixture.get(p + "lse.f64").values(), r.lse, 1e-5, 1e-5);
                assertClose(what + " dq", fixture.get(p + "dq.f64").values(), r.dq, 1e-5, 1e-4);
                assertClose(what + " dk", fixture.get(p + "dk.f64").values(), r.dk, 1e-5, 1e-4);
                assertClose(what + " dv", fixture.get(p + "dv.f64").values(), r.dv, 1e-5, 1e-4);
            }
        }
    }

    @Test
    void gradientMatchesFiniteDifferences() {
        Random random = new Random(61);
        Dims d = new Dims(1, 4, 2, 3, 5, 17);
        float[] q = randn(random, d.qSize(), 1.0);
        float[] k = randn(random, d.kvSize(), 1.0);
        float[] v = randn(random, d.kvSize(), 1.0);
        float[] mask = new float[d.b * d.tq * d.tk];
        mask[2] = Float.NEGATIVE_INFINITY;
        mask[d.tk + 1] = -0.5f;
        Arrays.fill(mask, 2 * d.tk, 3 * d.tk, Float.NEGATIVE_INFINITY);
        for (float[] m : new float[][] {null, mask}) {
            for (boolean simd : new boolean[] {true, false}) {
                float scale = CausalAttention.defaultScale(d.hs);
                GradCheck.checkFloat("attention mask=" + (m != null) + " simd=" + simd,
                        in -> new float[][] {run(in[0], in[1], in[2], m, null, d, scale, simd).out},
                        (in, dout) -> {
                            Run r = run(in[0], in[1], in[2], m, dout[0], d, scale, simd);
                            return new float[][] {r.dq, r.dk, r.dv};
                        },
                        new float[][] {q, k, v}, 62);
            }
        }
    }

    @Test
    void matchesUnfusedDoubleReference() {
        Random random = new Random(63);
        Dims small = new Dims(1, 2, 1, 2, 3, 3);
        double[] smallMask = {0, -0.25, Double.NEGATIVE_INFINITY, 0, 0.5, 0};
        GradCheck.checkDouble("unfused attention",
                in -> new double[][] {reference(in[0], in[1], in[2], smallMask, null, small, 0.7, null)},
                (in, dout) -> {
                    double[][] grads = {
                        new double[small.qSize()], new double[small.kvSize()], new double[small.kvSize()]};
                    reference(in[0], in[1], in[2], smallMask, dout[0], small, 0.7, grads);
                    return grads;
                },
                new double[][] {wide(randn(random, small.qSize(), 1.0)), wide(randn(random, small.kvSize(), 1.0)),
                    wide(randn(random, small.kvSize(), 1.0))}, 64);

        // Tq = 17 is one block of the matrix-product path and 70 two, while 5 and 6 take the row
        // path, 6 over 80 keys in two tiles
        for (Dims d : new Dims[] {new Dims(2, 6, 2, 17, 33, 34), new Dims(1, 4, 2, 70, 75, 20), new Dims(2, 2, 1, 5, 9, 34),
            new Dims(1, 4, 2, 6, 80, 18)}) {
            compareWithReference(random, d);
        }
    }

    private static void compareWithReference(Random random, Dims d) {
        float[] q = randn(random, d.qSize(), 1.0);
        float[] k = randn(random, d.kvSize(), 1.0);
        float[] v = randn(random, d.kvSize(), 1.0);
        float[] dout = randn(random, d.qSize(), 1.0);
        float[] mask = randn(random, d.b * d.tq * d.tk, 0.5);
        for (int e = 0; e < mask.length; e += 7) {
            mask[e] = Float.NEGATIVE_INFINITY;
        }
        float scale = CausalAttention.defaultScale(d.hs);
        for (float[] m : new float[][] {null, mask}) {
            double[][] grads = {new double[d.qSize()], new double[d.kvSize()], new double[d.kvSize()]};
            double[] expected = reference(wide(q), wide(k), wide(v), m == null ? null : wide(m), wide(dout), d,
                    scale, grads);
            for (boolean simd : new boolean[] {true, false}) {
                String what = d + " mask=" + (m != null) + " simd=" + simd;
                Run r = run(q, k, v, m, dout, d, scale, simd);
                assertClose(what + " out", expected, r.out, 1e-5, 1e-4);
                assertClose(what + " dq", grads[0], r.dq, 1e-5, 1e-4);
                assertClose(what + " dk", grads[1], r.dk, 1e-5, 1e-4);
                assertClose(what + " dv", grads[2], r.dv, 1e-5, 1e-4);
            }
        }
    }

    @Test
    void fullyMaskedRowGivesZerosNotNaN() {
        Random random = new Random(65);
        for (int tq : new int[] {5, CausalAttention.BLOCKED_MIN_ROWS + 1}) {
            fullyMaskedRow(random, new Dims(2, 4, 2, tq, tq, 16));
        }
    }

    private static void fullyMaskedRow(Random random, Dims d) {
        float[] q = randn(random, d.qSize(), 1.0);
        float[] k = randn(random, d.kvSize(), 1.0);
        float[] v = randn(random, d.kvSize(), 1.0);
        float[] dout = randn(random, d.qSize(), 1.0);
        float[] mask = new float[d.b * d.tq * d.tk];
        Arrays.fill(mask, 2 * d.tk, 3 * d.tk, Float.NEGATIVE_INFINITY);
        for (boolean simd : new boolean[] {true, false}) {
            Run r = run(q, k, v, mask, dout, d, 0.25f, simd);
            for (int h = 0; h < d.nh; h++) {
                int row = h * d.tq + 2;
                assertEquals(Float.NEGATIVE_INFINITY, r.lse[row], d + " lse of the masked row, head " + h);
                for (int e = 0; e < d.hs; e++) {
                    assertEquals(0f, r.out[row * d.hs + e], d + " out of the masked row, head " + h);
                    assertEquals(0f, r.dq[row * d.hs + e], d + " dq of the masked row, head " + h);
                }
            }
            for (float[] a : new float[][] {r.out, r.dq, r.dk, r.dv}) {
                for (float value : a) {
                    assertTrue(Float.isFinite(value), d + " every output and gradient is finite");
                }
            }
            // the other rows are unaffected by the masked one
            float[] dout2 = dout.clone();
            for (int h = 0; h < d.nh; h++) {
                Arrays.fill(dout2, (h * d.tq + 2) * d.hs, (h * d.tq + 3) * d.hs, 7f);
            }
            Run r2 = run(q, k, v, mask, dout2, d, 0.25f, simd);
            assertBitwiseEqual(d + " dk with changed upstream gradient of the masked row", r.dk, r2.dk);
        }
    }

    @Test
    void decodingMatchesLastRowsOfFullAttention() {
        Random random = new Random(66);
        Dims full = new Dims(1, 6, 2, 33, 33, 34);
        float[] q = randn(random, full.qSize(), 1.0);
        float[] k = randn(random, full.kvSize(), 1.0);
        float[] v = randn(random, full.kvSize(), 1.0);
        float scale = CausalAttention.defaultScale(full.hs);
        for (boolean simd : new boolean[] {true, false}) {
            Run all = run(q, k, v, null, null, full, scale, simd);
            for (int tq : new int[] {1, 5}) {
                Dims d = new Dims(1, 6, 2, tq, 33, 34);
                float[] lastQ = new float[d.qSize()];
                for (int h = 0; h < d.nh; h++) {
                    System.arraycopy(q, (h * full.tq + full.tq - tq) * d.hs, lastQ, h * tq * d.hs, tq * d.hs);
                }
                Run part = run(lastQ, k, v, null, null, d, scale, simd);
                for (int h = 0; h < d.nh; h++) {
                    int from = (h * full.tq + full.tq - tq) * d.hs;
                    String what = "out of the last " + tq + " rows, head " + h + " simd=" + simd;
                    float[] expected = Arrays.copyOfRange(all.out, from, from + tq * d.hs);
                    float[] actual = Arrays.copyOfRange(part.out, h * tq * d.hs, (h + 1) * tq * d.hs);
                    if (simd) {
                        // the full forward adds the weighted values in matrix products, the rows one by one
                        assertClose(what, expected, actual, 1e-6, 1e-5);
                    } else {
                        assertBitwiseEqual(what, expected, actual);
                    }
                    int lseFrom = h * full.tq + full.tq - tq;
                    assertBitwiseEqual("lse of the last " + tq + " rows, head " + h + " simd=" + simd,
                            Arrays.copyOfRange(all.lse, lseFrom, lseFrom + tq),
                            Arrays.copyOfRange(part.lse, h * tq, (h + 1) * tq));
                }
            }
        }
    }

    @Test
    void kvCacheReadMatchesCompactCopy() {
        // A capacity of 90 makes a tile of 64 steps and a last tile 26 wide. Its 23 filled keys
        // cover the one-vector loop and the scalar tail of the scores with 8 or 16 lanes, and the
        // first tile the four-vector body.
        Random random = new Random(70);
        int capacity = 90;
        for (int tq : new int[] {1, 3}) {
            Dims d = new Dims(2, 4, 2, tq, 87, 34);
            int heads = d.b * d.nkv;
            float[] q = randn(random, d.qSize(), 1.0);
            float[] k = randn(random, d.kvSize(), 1.0);
            float[] v = randn(random, d.kvSize(), 1.0);
            float[] mask = randn(random, d.b * d.tq * d.tk, 1.0);

            // the cache takes all but the last step, then the last one, as prefill and a decoding step do
            float[] kCache = randn(random, heads * d.hs * capacity, 1.0);
            float[] vCache = randn(random, heads * capacity * d.hs, 1.0);
            float[] first = new float[heads * (d.tk - 1) * d.hs];
            float[] last = new float[heads * d.hs];
            for (int head = 0; head < heads; head++) {
                int from = head * d.tk * d.hs;
                System.arraycopy(k, from, first, head * (d.tk - 1) * d.hs, (d.tk - 1) * d.hs);
                System.arraycopy(k, from + (d.tk - 1) * d.hs, last, head * d.hs, d.hs);
                System.arraycopy(v, from, vCache, head * capacity * d.hs, d.tk * d.hs);
            }
            CausalAttention.storeKeysTransposed(first, 0, kCache, 0, heads, d.tk - 1, 0, capacity, d.hs);
            CausalAttention.storeKeysTransposed(last, 0, kCache, 0, heads, 1, d.tk - 1, capacity, d.hs);
            for (int head = 0; head < heads; head++) {
                for (int t = 0; t < d.tk; t++) {
                    for (int e = 0; e < d.hs; e++) {
                        int inHead = t < 64 ? e * 64 + t : 64 * d.hs + e * 26 + t - 64;
                        assertEquals(k[(head * d.tk + t) * d.hs + e], kCache[head * d.hs * capacity + inHead],
                                "cached key of head " + head + ", step " + t + ", dimension " + e);
                    }
                }
            }

            for (boolean simd : new boolean[] {true, false}) {
                for (float[] m : new float[][] {null, mask}) {
                    String label = "Tq=" + tq + " simd=" + simd + (m == null ? "" : " masked");
                    Run compact = run(q, k, v, m, null, d, 0.3f, simd);
                    float[] out = new float[d.qSize()];
                    float[] lse = new float[d.b * d.nh * d.tq];
                    CausalAttention.forward(q, 0, kCache, 0, vCache, 0, m, 0, out, 0, lse, 0,
                            d.b, d.nh, d.nkv, d.tq, d.tk, capacity, true, d.hs, 0.3f, simd);
                    assertBitwiseEqual("out " + label, compact.out, out);
                    assertBitwiseEqual("lse " + label, compact.lse, lse);
                }
            }
        }
    }

    @Test
    void prefillOnTransposedCacheMatchesRowPath() {
        // Tq of 16 and 70 take the matrix-product path, 70 in two blocks of query rows. The cache
        // contains 17 earlier steps, and one row of the mask is fully masked.
        Random random = new Random(71);
        for (int tq : new int[] {CausalAttention.BLOCKED_MIN_ROWS, CausalAttention.BLOCKED_ROWS + 6}) {
            Dims d = new Dims(2, 4, 2, tq, tq + 17, 34);
            int heads = d.b * d.nkv;
            int capacity = d.tk + 3;
            float[] q = randn(random, d.qSize(), 1.0);
            float[] k = randn(random, d.kvSize(), 1.0);
            float[] v = randn(random, d.kvSize(), 1.0);
            float[] mask = randn(random, d.b * d.tq * d.tk, 1.0);
            Arrays.fill(mask, 5 * d.tk, 6 * d.tk, Float.NEGATIVE_INFINITY);

            float[] kCache = new float[heads * d.hs * capacity];
            float[] vCache = new float[heads * capacity * d.hs];
            CausalAttention.storeKeysTransposed(k, 0, kCache, 0, heads, d.tk, 0, capacity, d.hs);
            for (int head = 0; head < heads; head++) {
                System.arraycopy(v, head * d.tk * d.hs, vCache, head * capacity * d.hs, d.tk * d.hs);
            }

            for (float[] m : new float[][] {null, mask}) {
                String label = "Tq=" + tq + (m == null ? "" : " masked");
                Run rows = run(q, k, v, m, null, d, 0.3f, true);
                float[] out = new float[d.qSize()];
                float[] lse = new float[d.b * d.nh * d.tq];
                CausalAttention.forward(q, 0, kCache, 0, vCache, 0, m, 0, out, 0, lse, 0,
                        d.b, d.nh, d.nkv, d.tq, d.tk, capacity, true, d.hs, 0.3f, true);

                // the same scores give the same log-sum-exp, but the weighted sum adds in another order
                assertBitwiseEqual("lse " + label, rows.lse, lse);
                assertClose("out " + label, rows.out, out, 1e-6, 1e-5);
                if (m != null) {
                    for (int h = 0; h < d.nh; h++) {
                        int row = h * d.tq + 5;
                        assertEquals(Float.NEGATIVE_INFINITY, lse[row], "lse of the masked row, head " + h);
                        for (int e = 0; e < d.hs; e++) {
                            assertEquals(0f, out[row * d.hs + e], "out of the masked row, head " + h);
                        }
                    }
                }
            }
        }
    }

    @Test
    void kvCacheRejectsInvalidShapes() {
        float[] a = new float[256];
        IllegalArgumentException capacity = assertThrows(IllegalArgumentException.class,
                () -> CausalAttention.forwardKvCache(a, 0, a, 0, a, 0, null, 0, a, 0, a, 0, 1, 2, 2, 1, 5, 4, 4, 0.5f));
        assertTrue(capacity.getMessage().contains("capacity 4 is below the 5 key steps"), capacity.getMessage());
        IllegalArgumentException shortK = assertThrows(IllegalArgumentException.class,
                () -> CausalAttention.forwardKvCache(a, 0, new float[30], 0, a, 0, null, 0, a, 0, a, 0,
                        1, 2, 2, 1, 3, 4, 4, 0.5f));
        assertTrue(shortK.getMessage().contains("k [B=1, NKV=2, HS=4, capacity=4] holding Tk=3"), shortK.getMessage());
        IllegalArgumentException full = assertThrows(IllegalArgumentException.class,
                () -> CausalAttention.storeKeysTransposed(a, 0, a, 0, 2, 3, 2, 4, 4));
        assertTrue(full.getMessage().contains("3 steps from step 2 do not fit a capacity of 4"), full.getMessage());
        IllegalArgumentException shortCache = assertThrows(IllegalArgumentException.class,
                () -> CausalAttention.storeKeysTransposed(a, 0, new float[31], 0, 2, 1, 0, 4, 4));
        assertTrue(shortCache.getMessage().contains("cache [H=2, HS=4, capacity=4] needs 32 floats"),
                shortCache.getMessage());
    }

    @Test
    void singleStepAttendsOnlyItself() {
        Dims d = new Dims(1, 2, 1, 1, 1, 3);
        float[] q = {1f, 2f, 3f, -1f, 0f, 1f};
        float[] k = {0.5f, 0.5f, 0.5f};
        float[] v = {4f, 5f, 6f};
        Run r = run(q, k, v, null, new float[] {1f, 1f, 1f, 1f, 1f, 1f}, d, 0.5f, true);
        assertBitwiseEqual("out copies v for both heads", new float[] {4f, 5f, 6f, 4f, 5f, 6f}, r.out);
        assertClose("lse is the one score", new double[] {1.5, 0.0}, r.lse, 1e-6, 0);
        assertClose("dv sums dout over the group", new double[] {2, 2, 2}, r.dv, 1e-6, 0);
        assertClose("dq is zero with one key", new double[6], r.dq, 1e-7, 0);
    }

    @Test
    void scalarAndVectorPathsAgree() {
        Random random = new Random(67);
        Dims d = new Dims(2, 4, 2, 33, 33, 64);
        float[] q = randn(random, d.qSize(), 1.0);
        float[] k = randn(random, d.kvSize(), 1.0);
        float[] v = randn(random, d.kvSize(), 1.0);
        float[] dout = randn(random, d.qSize(), 1.0);
        Run vector = run(q, k, v, null, dout, d, 0.125f, true);
        Run scalar = run(q, k, v, null, dout, d, 0.125f, false);
        assertClose("out", scalar.out, vector.out, 1e-5, 1e-4);
        assertClose("lse", scalar.lse, vector.lse, 1e-5, 1e-5);
        assertClose("dq", scalar.dq, vector.dq, 1e-5, 1e-4);
        assertClose("dk", scalar.dk, vector.dk, 1e-5, 1e-4);
        assertClose("dv", scalar.dv, vector.dv, 1e-5, 1e-4);
    }

    @Test
    void resultsDoNotDependOnThreadCount() {
        Random random = new Random(68);
        Dims d = new Dims(1, 4, 2, 33, 65, 34);
        float[] q = randn(random, d.qSize(), 1.0);
        float[] k = randn(random, d.kvSize(), 1.0);
        float[] v = randn(random, d.kvSize(), 1.0);
        float[] dout = randn(random, d.qSize(), 1.0);
        float[] mask = randn(random, d.b * d.tq * d.tk, 1.0);
        for (boolean simd : new boolean[] {true, false}) {
            Run oneThread = withThreads(1, () -> run(q, k, v, mask, dout, d, 0.2f, simd));
            Run twoThreads = withThreads(2, () -> run(q, k, v, mask, dout, d, 0.2f, simd));
            assertBitwiseEqual("out simd=" + simd, oneThread.out, twoThreads.out);
            assertBitwiseEqual("lse simd=" + simd, oneThread.lse, twoThreads.lse);
            assertBitwiseEqual("dq simd=" + simd, oneThread.dq, twoThreads.dq);
            assertBitwiseEqual("dk simd=" + simd, oneThread.dk, twoThreads.dk);
            assertBitwiseEqual("dv simd=" + simd, oneThread.dv, twoThreads.dv);
        }
    }

    @Test
    void backwardAccumulatesIntoGradients() {
        Random random = new Random(69);
        Dims d = new Dims(1, 2, 2, 4, 4, 8);
        float[] q = randn(random, d.qSize(), 1.0);
        float[] k = randn(random, d.kvSize(), 1.0);
        float[] v = randn(random, d.kvSize(), 1.0);
        float[] dout = randn(random, d.qSize(), 1.0);
        Run once = run(q, k, v, null, dout, d, 0.3f, true);
        float[] dq = once.dq.clone();
        float[] dk = once.dk.clone();
        float[] dv = once.dv.clone();
        CausalAttention.backward(q, 0, k, 0, v, 0, null, 0, once.out, 0, once.lse, 0, dout, 0, dq, 0, dk, 0, dv, 0,
                d.b, d.nh, d.nkv, d.tq, d.tk, d.hs, 0.3f);
        for (int e = 0; e < dq.length; e++) {
            assertEquals(2 * once.dq[e], dq[e], 1e-6, "dq element " + e);
        }
        for (int e = 0; e < dk.length; e++) {
            assertEquals(2 * once.dk[e], dk[e], 1e-6, "dk element " + e);
            assertEquals(2 * once.dv[e], dv[e], 1e-6, "dv element " + e);
        }
    }

    @Test
    void rejectsInvalidShapes() {
        float[] a = new float[64];
        IllegalArgumentException heads = assertThrows(IllegalArgumentException.class,
                () -> CausalAttention.forward(a, 0, a, 0, a, 0, null, 0, a, 0, a, 0, 1, 3, 2, 2, 2, 4, 0.5f));
        assertTrue(heads.getMessage().contains("NH=3 must be a multiple of key/value heads NKV=2"), heads.getMessage());
        IllegalArgumentException steps = assertThrows(IllegalArgumentException.class,
                () -> CausalAttention.forward(a, 0, a, 0, a, 0, null, 0, a, 0, a, 0, 1, 2, 2, 3, 2, 4, 0.5f));
        assertTrue(steps.getMessage().contains("more query steps than key steps"), steps.getMessage());
        IllegalArgumentException mask = assertThrows(IllegalArgumentException.class,
                () -> CausalAttention.forward(a, 0, a, 0, a, 0, new float[5], 0, a, 0, a, 0, 1, 2, 2, 2, 3, 4, 0.5f));
        assertTrue(mask.getMessage().contains("mask [B=1, Tq=2, Tk=3]"), mask.getMessage());
        IllegalArgumentException shortK = assertThrows(IllegalArgumentException.class,
                () -> CausalAttention.forward(a, 0, new float[20], 0, a, 0, null, 0, a, 0, a, 0,
                        1, 2, 2, 2, 3, 4, 0.5f));
        assertTrue(shortK.getMessage().contains("k [B=1, NKV=2, Tk=3, HS=4]"), shortK.getMessage());
    }

    /** Runs forward, and backward when dout is not null, on fresh buffers. */
    private static Run run(float[] q, float[] k, float[] v, float[] mask, float[] dout, Dims d, float scale,
                           boolean simd) {
        float[] out = new float[d.qSize()];
        float[] lse = new float[d.b * d.nh * d.tq];
        CausalAttention.forward(q, 0, k, 0, v, 0, mask, 0, out, 0, lse, 0, d.b, d.nh, d.nkv, d.tq, d.tk, d.tk,
                false, d.hs, scale, simd);
        float[] dq = new float[d.qSize()];
        float[] dk = new float[d.kvSize()];
        float[] dv = new float[d.kvSize()];
        if (dout != null) {
            CausalAttention.backward(q, 0, k, 0, v, 0, mask, 0, out, 0, lse, 0, dout, 0, dq, 0, dk, 0, dv, 0,
                    d.b, d.nh, d.nkv, d.tq, d.tk, d.hs, scale, simd);
        }
        return new Run(out, lse, dq, dk, dv);
    }

    /**
     * Unfused attention in double: S = Q K^T * scale + mask (minus infinity outside the causal
     * range), P = softmax(S) with zeros for a fully masked row, O = P V. When dout is given, adds
     * the gradients to grads = {dq, dk, dv}: dV = P^T dO, dP = dO V^T,
     * dS = P * (dP - rowsum(P * dP)), dQ = dS K * scale, dK = dS^T Q * scale.
     */
    private static double[] reference(double[] q, double[] k, double[] v, double[] mask, double[] dout, Dims d,
                                      double scale, double[][] grads) {
        double[] out = new double[d.qSize()];
        int group = d.nh / d.nkv;
        for (int bi = 0; bi < d.b; bi++) {
            for (int h = 0; h < d.nh; h++) {
                int qb = (bi * d.nh + h) * d.tq * d.hs;
                int kb = (bi * d.nkv + h / group) * d.tk * d.hs;
                double[][] p = new double[d.tq][d.tk];
                for (int i = 0; i < d.tq; i++) {
                    // scores
                    double[] s = new double[d.tk];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < d.tk; j++) {
                        if (j > d.tk - d.tq + i) {
                            s[j] = Double.NEGATIVE_INFINITY;
                            continue;
                        }
                        double dot = 0.0;
                        for (int e = 0; e < d.hs; e++) {
                            dot += q[qb + i * d.hs + e] * k[kb + j * d.hs + e];
                        }
                        s[j] = dot * scale + (mask == null ? 0.0 : mask[(bi * d.tq + i) * d.tk + j]);
                        max = Math.max(max, s[j]);
                    }
                    // softmax
                    if (max == Double.NEGATIVE_INFINITY) {
                        continue;
                    }
                    double sum = 0.0;
                    for (int j = 0; j < d.tk; j++) {
                        p[i][j] = Math.exp(s[j] - max);
                        sum += p[i][j];
                    }
                    for (int j = 0; j < d.tk; j++) {
                        p[i][j] /= sum;
                    }
                    // P V
                    for (int j = 0; j < d.tk; j++) {
                        for (int e = 0; e < d.hs; e++) {
                            out[qb + i * d.hs + e] += p[i][j] * v[kb + j * d.hs + e];
                        }
                    }
                }
                if (dout == null) {
                    continue;
                }
                for (int i = 0; i < d.tq; i++) {
                    double[] dp = new double[d.tk];
                    double rowDot = 0.0;
                    for (int j = 0; j < d.tk; j++) {
                        for (int e = 0; e < d.hs; e++) {
                            dp[j] += dout[qb + i * d.hs + e] * v[kb + j * d.hs + e];
                            grads[2][kb + j * d.hs + e] += p[i][j] * dout[qb + i * d.hs + e];
                        }
                        rowDot += p[i][j] * dp[j];
                    }
                    for (int j = 0; j < d.tk; j++) {
                        double ds = p[i][j] * (dp[j] - rowDot);
                        for (int e = 0; e < d.hs; e++) {
                            grads[0][qb + i * d.hs + e] += ds * k[kb + j * d.hs + e] * scale;
                            grads[1][kb + j * d.hs + e] += ds * q[qb + i * d.hs + e] * scale;
                        }
                    }
                }
            }
        }
        return out;
    }
}
