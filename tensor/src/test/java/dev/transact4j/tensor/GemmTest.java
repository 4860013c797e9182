package dev.transact4j.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Checks {@link Gemm} (SIMD and scalar paths) against a double-precision reference.
 *
 * <p>Error bound: each element of C is a float32 sum of K products, each formed by a fused
 * multiply-add or a product then an add. With unit roundoff u = 2^-24, the standard bound for
 * recursive summation (Higham, "Accuracy and Stability of Numerical Algorithms", 2nd ed., section
 * 3.1) gives |computed - exact| <= gamma_K * sum_p |a_ip * b_pj| with gamma_K = K u / (1 - K u);
 * blocking and lane-wise partial sums only shorten the chains. Scaling by alpha and adding
 * beta * C adds at most three more roundings. The test allows
 * {@code (K + 4) * u * (|alpha| * sum_p |a_ip * b_pj| + |beta * c_ij|)} plus a tiny absolute
 * term for results that are exactly zero.
 */
class GemmTest {

    private static final int[] SIZES = {1, 2, 7, 16, 17, 31, 64, 100, 255, 513};
    private static final double U = Math.ulp(1.0f) / 2;

    private final int originalThreads = Parallel.threads();

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(originalThreads);
    }

    /** One product: shapes, transposes, scalars, and storage with padding and offsets. */
    private static final class Case {
        final boolean transA;
        final boolean transB;
        final int m;
        final int n;
        final int k;
        final float alpha;
        final float beta;
        final int lda;
        final int ldb;
        final int ldc;
        final int aOffset;
        final int bOffset;
        final int cOffset;
        final float[] a;
        final float[] b;
        final float[] c0;

        Case(Random random, boolean transA, boolean transB, int m, int n, int k, float alpha, float beta) {
            this.transA = transA;
            this.transB = transB;
            this.m = m;
            this.n = n;
            this.k = k;
            this.alpha = alpha;
            this.beta = beta;
            int aRows = transA ? k : m;
            int aCols = transA ? m : k;
            int bRows = transB ? n : k;
            int bCols = transB ? k : n;
            // Leading dimensions larger than the row about half the time, offsets always.
            lda = Math.max(1, aCols) + (random.nextBoolean() ? random.nextInt(5) : 0);
            ldb = Math.max(1, bCols) + (random.nextBoolean() ? random.nextInt(5) : 0);
            ldc = n + (random.nextBoolean() ? random.nextInt(5) : 0);
            aOffset = random.nextInt(4);
            bOffset = random.nextInt(4);
            cOffset = random.nextInt(4);
            a = randomArray(random, aOffset + (aRows - 1) * lda + aCols + random.nextInt(3));
            b = randomArray(random, bOffset + (bRows - 1) * ldb + bCols + random.nextInt(3));
            c0 = randomArray(random, cOffset + (m - 1) * ldc + n + random.nextInt(3));
        }

        float aAt(int i, int p) {
            return transA ? a[aOffset + p * lda + i] : a[aOffset + i * lda + p];
        }

        float bAt(int p, int j) {
            return transB ? b[bOffset + j * ldb + p] : b[bOffset + p * ldb + j];
        }

        boolean inC(int index) {
            int rel = index - cOffset;
            return rel >= 0 && rel / ldc < m && rel % ldc < n;
        }

        float[] run(boolean simd, float[] c) {
            if (simd) {
                Gemm.sgemmSimd(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);
            } else {
                Gemm.sgemmScalar(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);
            }
            return c;
        }

        @Override
        public String toString() {
            return "m=" + m + " n=" + n + " k=" + k + " transA=" + transA + " transB=" + transB + " alpha=" + alpha
                    + " beta=" + beta + " lda=" + lda + " ldb=" + ldb + " ldc=" + ldc;
        }
    }

    private static float[] randomArray(Random random, int length) {
        float[] x = new float[length];
        for (int i = 0; i < length; i++) {
            x[i] = random.nextFloat() * 2 - 1;
        }
        return x;
    }

    /** Checks C against the double reference inside the window and unchanged outside it. */
    private static void assertMatchesReference(Case t, float[] before, float[] c, String path) {
        for (int index = 0; index < c.length; index++) {
            if (!t.inC(index) && Float.floatToRawIntBits(c[index]) != Float.floatToRawIntBits(before[index])) {
                fail(path + " wrote outside C at index " + index + " for " + t);
            }
        }
        double[] exact = new double[t.n];
        double[] magnitude = new double[t.n];
        for (int i = 0; i < t.m; i++) {
            java.util.Arrays.fill(exact, 0);
            java.util.Arrays.fill(magnitude, 0);
            for (int p = 0; p < t.k; p++) {
                double av = t.aAt(i, p);
                for (int j = 0; j < t.n; j++) {
                    double product = av * t.bAt(p, j);
                    exact[j] += product;
                    magnitude[j] += Math.abs(product);
                }
            }
            for (int j = 0; j < t.n; j++) {
                int index = t.cOffset + i * t.ldc + j;
                double old = t.beta == 0f ? 0 : (double) t.beta * before[index];
                double expected = t.alpha * exact[j] + old;
                double bound = (t.k + 4) * U * (Math.abs(t.alpha) * magnitude[j] + Math.abs(old)) + 1e-30;
                double error = Math.abs(c[index] - expected);
                if (!(error <= bound)) {
                    fail(path + " C[" + i + ", " + j + "] = " + c[index] + ", expected " + expected + " within "
                            + bound + " for " + t);
                }
            }
        }
    }

    private static void checkBothPaths(Case t) {
        float[] simd = t.run(true, t.c0.clone());
        assertMatchesReference(t, t.c0, simd, "SIMD");
        float[] scalar = t.run(false, t.c0.clone());
        assertMatchesReference(t, t.c0, scalar, "scalar");
    }

    @Test
    void edgeShapesEveryTransposeMatchReference() {
        Random random = new Random(11);
        int[] edges = {1, 2, 17, 33};
        for (int mask = 0; mask < 4; mask++) {
            for (int m : edges) {
                for (int n : edges) {
                    for (int k : edges) {
                        checkBothPaths(new Case(random, (mask & 1) != 0, (mask & 2) != 0, m, n, k, 1f, 0f));
                    }
                }
            }
        }
    }

    @Test
    void randomShapesMatchReference() {
        Random random = new Random(12);
        float[] alphas = {1f, -0.5f, 2.25f};
        float[] betas = {0f, 1f, 0.75f, -1.5f};
        for (int trial = 0; trial < 48; trial++) {
            int m = SIZES[random.nextInt(SIZES.length)];
            int n = SIZES[random.nextInt(SIZES.length)];
            int k = SIZES[random.nextInt(SIZES.length)];
            Case t = new Case(random, random.nextBoolean(), random.nextBoolean(), m, n, k,
                    alphas[random.nextInt(alphas.length)], betas[random.nextInt(betas.length)]);
            checkBothPaths(t);
        }
    }

    @Test
    void largestSizeInEveryPositionMatchesReference() {
        // K = 513 spans several K blocks; M and N = 513 span many tiles and a partial edge tile.
        Random random = new Random(13);
        int[][] shapes = {{513, 31, 100}, {17, 513, 64}, {7, 100, 513}, {513, 513, 17}, {1, 513, 513}, {513, 1, 255}};
        for (int[] s : shapes) {
            for (int mask = 0; mask < 4; mask++) {
                checkBothPaths(new Case(random, (mask & 1) != 0, (mask & 2) != 0, s[0], s[1], s[2], 0.5f, 1f));
            }
        }
    }

    @Test
    void smallBatchesMatchReference() {
        // Two to four rows times a transposed B take the batched matrix-vector kernel.
        Random random = new Random(17);
        for (int m = 2; m <= 5; m++) {
            for (int mask = 0; mask < 4; mask++) {
                checkBothPaths(new Case(random, (mask & 1) != 0, (mask & 2) != 0, m, 67, 1 + random.nextInt(300),
                        0.5f, mask == 3 ? 1f : 0f));
            }
        }
    }

    @Test
    void blocksBeyondOneCacheBlockMatchReference() {
        // M above the A block height and N above the B block width of the default blocking.
        Random random = new Random(14);
        checkBothPaths(new Case(random, false, true, GemmBlocking.MC + 9, 5, 40, 1f, 0.5f));
        checkBothPaths(new Case(random, true, false, 3, GemmBlocking.NC + 37, 20, 1f, 0f));
    }

    @Test
    void resultsBitwiseEqualAcrossThreadCounts() {
        Random random = new Random(15);
        List<Case> cases = new ArrayList<>();
        int[][] shapes = {{513, 255, 100}, {100, 513, 300}, {64, 1000, 513}, {1, 4099, 300}, {4099, 1, 300},
            {1, 3001, 257}, {3001, 1, 257}, {2, 1500, 700}, {4, 999, 333}};
        for (int[] s : shapes) {
            for (int mask = 0; mask < 4; mask++) {
                // alpha = 1 with beta = 0 writes full tiles straight from the registers, and
                // beta = 1 adds them to C through the scratch tile.
                float alpha = mask < 2 ? 1f : 1.5f;
                float beta = 0.25f;
                if (mask == 0) {
                    beta = 0f;
                } else if (mask == 1) {
                    beta = 1f;
                }
                cases.add(new Case(random, (mask & 1) != 0, (mask & 2) != 0, s[0], s[1], s[2], alpha, beta));
            }
        }
        for (Case t : cases) {
            Parallel.setThreads(1);
            float[] one = t.run(true, t.c0.clone());
            Parallel.setThreads(2);
            float[] two = t.run(true, t.c0.clone());
            Parallel.setThreads(3);
            float[] three = t.run(true, t.c0.clone());
            assertArrayEquals(one, two, "1 vs 2 threads for " + t);
            assertArrayEquals(one, three, "1 vs 3 threads for " + t);
            Parallel.setThreads(1);
            float[] scalarOne = t.run(false, t.c0.clone());
            Parallel.setThreads(2);
            float[] scalarTwo = t.run(false, t.c0.clone());
            assertArrayEquals(scalarOne, scalarTwo, "scalar 1 vs 2 threads for " + t);
        }
    }

    @Test
    void poisonedOutputFullyOverwrittenWithBetaZero() {
        Random random = new Random(16);
        int[][] shapes = {{1, 37, 20}, {37, 1, 20}, {9, 33, 5}, {100, 65, 17}, {3, 3, 0}};
        for (int[] s : shapes) {
            for (int mask = 0; mask < 4; mask++) {
                Case t = new Case(random, (mask & 1) != 0, (mask & 2) != 0, s[0], s[1], s[2], 1f, 0f);
                float[] poisoned = t.c0.clone();
                for (int index = 0; index < poisoned.length; index++) {
                    if (t.inC(index)) {
                        poisoned[index] = Float.NaN;
                    }
                }
                for (boolean simd : new boolean[] {true, false}) {
                    float[] c = t.run(simd, poisoned.clone());
                    for (int index = 0; index < c.length; index++) {
                        if (t.inC(index)) {
                            assertTrue(Float.isFinite(c[index]), "NaN left at " + index + " (simd=" + simd + ") for " + t);
                        }
                    }
                    assertMatchesReference(t, poisoned, c, simd ? "SIMD" : "scalar");
                }
            }
        }
    }

    @Test
    void zeroAlphaOrZeroKScalesC() {
        float[] a = {1, 2, 3, 4};
        float[] b = {5, 6, 7, 8};
        float[] c = {1, 2, 3, 4};
        Gemm.sgemm(false, false, 2, 2, 2, 0f, a, 0, 2, b, 0, 2, 3f, c, 0, 2);
        assertArrayEquals(new float[] {3, 6, 9, 12}, c);
        Gemm.sgemm(false, false, 2, 2, 0, 1f, a, 0, 1, b, 0, 2, 0.5f, c, 0, 2);
        assertArrayEquals(new float[] {1.5f, 3, 4.5f, 6}, c);
    }

    @Test
    void smallProductByHand() {
        // [1 2; 3 4] * [5 6; 7 8] = [19 22; 43 50]; B given transposed as [5 7; 6 8].
        float[] a = {1, 2, 3, 4};
        float[] bt = {5, 7, 6, 8};
        float[] c = new float[4];
        Gemm.sgemm(false, true, 2, 2, 2, 1f, a, 0, 2, bt, 0, 2, 0f, c, 0, 2);
        assertArrayEquals(new float[] {19, 22, 43, 50}, c);
    }

    @Test
    void cacheSizesParsedFromSysfsText() {
        assertEquals(48 * 1024, GemmBlocking.parseSize("48K", 1));
        assertEquals(2 * 1024 * 1024, GemmBlocking.parseSize("2048K", 1));
        assertEquals(1024 * 1024, GemmBlocking.parseSize("1M", 1));
        assertEquals(512, GemmBlocking.parseSize("512", 1));
        assertEquals(7, GemmBlocking.parseSize("", 7));
        assertEquals(7, GemmBlocking.parseSize("lots", 7));
    }

    @Test
    void blockSizesFitTheirCaches() {
        assertEquals(0, GemmBlocking.MC % GemmBlocking.MR, "MC is a multiple of MR");
        assertEquals(0, GemmBlocking.NC % GemmBlocking.NR, "NC is a multiple of NR");
        assertTrue(GemmBlocking.KC >= 64, "KC = " + GemmBlocking.KC);
        assertTrue(GemmBlocking.KC <= 1024, "KC = " + GemmBlocking.KC);
        for (int k : new int[] {1, 255, 256, 257, 513, 2048}) {
            int depth = GemmBlocking.kBlock(k);
            assertTrue(depth >= 1, "K block " + depth + " for k = " + k);
            assertTrue(depth <= GemmBlocking.KC, "K block " + depth + " for k = " + k);
            assertEquals(GemmKernel.ceilDiv(k, GemmBlocking.KC), GemmKernel.ceilDiv(k, depth), "blocks for k = " + k);
        }
    }

    @Test
    void invalidArgumentsRejectedWithShapes() {
        float[] x = new float[12];
        IllegalArgumentException negative = assertThrows(IllegalArgumentException.class,
                () -> Gemm.sgemm(false, false, -1, 2, 2, 1f, x, 0, 2, x, 0, 2, 0f, x, 0, 2));
        assertTrue(negative.getMessage().contains("m=-1"), negative.getMessage());

        IllegalArgumentException lda = assertThrows(IllegalArgumentException.class,
                () -> Gemm.sgemm(false, false, 2, 2, 3, 1f, x, 0, 2, x, 0, 2, 0f, x, 0, 2));
        assertTrue(lda.getMessage().contains("lda=2"), lda.getMessage());
        assertTrue(lda.getMessage().contains("A stored [2, 3]"), lda.getMessage());

        IllegalArgumentException shortB = assertThrows(IllegalArgumentException.class,
                () -> Gemm.sgemm(false, true, 2, 4, 3, 1f, x, 0, 3, x, 2, 3, 0f, new float[8], 0, 4));
        assertTrue(shortB.getMessage().contains("B stored [4, 3] (transB=true)"), shortB.getMessage());
        assertTrue(shortB.getMessage().contains("length 12"), shortB.getMessage());

        IllegalArgumentException negativeOffset = assertThrows(IllegalArgumentException.class,
                () -> Gemm.sgemm(false, false, 2, 2, 2, 1f, x, -1, 2, x, 0, 2, 0f, new float[4], 0, 2));
        assertTrue(negativeOffset.getMessage().contains("offset of A stored [2, 2]"), negativeOffset.getMessage());
        assertTrue(negativeOffset.getMessage().contains("got -1"), negativeOffset.getMessage());

        IllegalArgumentException nullC = assertThrows(IllegalArgumentException.class,
                () -> Gemm.sgemm(false, false, 2, 2, 2, 1f, x, 0, 2, x, 0, 2, 0f, null, 0, 2));
        assertTrue(nullC.getMessage().contains("C stored [2, 2]"), nullC.getMessage());

        assertEquals(0, x[0]);
    }
}
