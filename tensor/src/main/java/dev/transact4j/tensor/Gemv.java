package dev.transact4j.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Matrix-vector kernels for GEMM with M = 1 or N = 1. They are memory bound: each reads the
 * matrix W once, front to back, so its speed is the memory bandwidth.
 *
 * <p>Dimensions: W is row-major {@code [R, K]} with leading dimension {@code ldw}; x and y are
 * contiguous except where an increment is given.
 * <ul>
 *   <li>{@link #rows}: {@code y[r] = alpha * dot(W[r, :], x) + beta * y[r]}, x of length K
 *       (the decode step {@code y = W x} with W {@code [N, K]}).</li>
 *   <li>{@link #columns}: {@code y[j] = alpha * sum_p x[p] * W[p, j] + beta * y[j]}, W
 *       {@code [K, N]}, x of length K ({@code y = x^T W}).</li>
 *   <li>{@link #rowsShared}: {@link #rows} for several matrices W_i {@code [N_i, K]} and one x,
 *       in one parallel loop.</li>
 * </ul>
 * Each output element's arithmetic is the same whichever row group or thread chunk it falls in,
 * so results do not depend on the thread count.
 */
final class Gemv {

    private static final VectorSpecies<Float> SPECIES = GemmKernel.SPECIES;
    private static final int LANES = SPECIES.length();

    /** Minimum matrix elements of a chunk handed to another thread. */
    private static final long MIN_CHUNK_ELEMENTS = 1L << 16;

    /**
     * Most columns of W accumulated per pass in {@link #columns}. A pass over whole rows reads W
     * front to back as one sequential run, which the hardware prefetchers follow best, and its
     * sums (up to 64 KiB) stay in L2. On a 4096 x 11008 W at one thread (AMD Zen 4, 32 KiB L1d,
     * 1 MiB L2), passes over 2048 columns read 17 GB/s, over 4096 columns 25 GB/s and over
     * whole rows 28 GB/s.
     */
    private static final int COLUMN_BLOCK = 16384;

    private static final ThreadLocal<float[]> SUMS = ThreadLocal.withInitial(() -> new float[COLUMN_BLOCK]);

    private Gemv() {
    }

    /**
     * {@code y[r * incY] = alpha * dot(W[r, :], x) + beta * y[r * incY]} for r in [0, rows).
     *
     * <p>Each thread takes four rows at a time, one from each quarter of its rows
     * ({@link #rowRange}), so it reads its part of W as four long sequential streams, which the
     * hardware prefetchers follow best. Measured on an AMD Zen 4 host at one thread, on 128 MiB
     * of W with K = 512 (median of alternating rounds in one run): four quarters read 25-26 GB/s,
     * rows one at a time 25-26, eight rows from eight runs of 64 KiB 23-24, and four adjacent
     * rows 11-12. Greedy decode of the small Llama went from 170-181 tokens/s with the eight runs
     * to 181-204 with four quarters, and the tiny one from 1076-1212 to 1332-1491. Rows one at a
     * time decoded the small one at 154-192 tokens/s, against 180-195 with four quarters. With
     * 2 MiB pages, alternating the two kernels in one JVM (median of 30 rounds), four quarters read
     * 34 GB/s and eight runs 25 at one thread (K = 512, 128 MiB), and both 33-37 GB/s at two.
     *
     * <p>NOTE: on an earlier Intel Xeon host, streams across whole matrices read the small Llama's
     * decode weights at 21-24 GB/s with eight streams, 18-20 with four and 10-11 with four
     * adjacent rows (one thread, thread CPU time). So four quarters may be the slower choice
     * there; this layout was chosen on the AMD host only.
     */
    static void rows(int rows, int k, float alpha, float[] w, int wOffset, int ldw,
                     float[] x, int xOffset, float beta, float[] y, int yOffset, int incY) {
        int grain = (int) Math.max(1, MIN_CHUNK_ELEMENTS / k);
        Parallel.forRange(0, rows, grain, (r0, r1) -> {
            float[] lanes = new float[2 * LANES];
            float[] sums = new float[4];
            rowRange(r0, r1, k, alpha, w, wOffset, ldw, x, xOffset, beta, y, yOffset, incY, lanes, sums);
        });
    }

    /**
     * Computes {@code y_i = W_i x + beta_i * y_i} for several row-major matrices W_i
     * {@code [rows_i, K]} (leading dimension K) that share x, with contiguous y_i, such as the
     * q, k and v projections of one decode step. The rows of all matrices are split over the
     * threads together, in one parallel loop, and every row gets exactly the arithmetic of
     * {@link #rows}, so each y_i is bitwise the result of a separate call.
     */
    static void rowsShared(int k, float[] x, int xOffset, float[][] w, int[] wOffsets, int[] rows,
                           float[] betas, float[][] y, int[] yOffsets) {
        int count = w.length;
        int[] firstRow = new int[count + 1];
        for (int i = 0; i < count; i++) {
            firstRow[i + 1] = firstRow[i] + rows[i];
        }
        int grain = (int) Math.max(1, MIN_CHUNK_ELEMENTS / k);
        Parallel.forRange(0, firstRow[count], grain, (r0, r1) -> {
            float[] lanes = new float[2 * LANES];
            float[] sums = new float[4];

            // the part of each matrix that falls in [r0, r1) of the rows counted over all matrices
            for (int i = 0; i < count; i++) {
                int from = Math.max(r0, firstRow[i]) - firstRow[i];
                int to = Math.min(r1, firstRow[i + 1]) - firstRow[i];
                if (from < to) {
                    rowRange(from, to, k, 1f, w[i], wOffsets[i], k, x, xOffset, betas[i], y[i], yOffsets[i], 1, lanes,
                            sums);
                }
            }
        });
    }

    /**
     * Computes rows {@code [r0, r1)} of {@link #rows}: four rows at a time, one from each quarter
     * of the range, then the last {@code (r1 - r0) % 4} rows one at a time. {@link #fourDots}
     * gives each row the arithmetic of {@link #dot1}.
     */
    private static void rowRange(int r0, int r1, int k, float alpha, float[] w, int wOffset, int ldw,
                                 float[] x, int xOffset, float beta, float[] y, int yOffset, int incY,
                                 float[] lanes, float[] sums) {
        int quarter = (r1 - r0) / 4;
        for (int r = r0; r < r0 + quarter; r++) {
            int o = wOffset + r * ldw;
            int step = quarter * ldw;
            fourDots(k, x, xOffset, w, o, o + step, o + 2 * step, o + 3 * step, lanes, sums);
            for (int i = 0; i < 4; i++) {
                store(alpha, sums[i], beta, y, yOffset + (r + i * quarter) * incY);
            }
        }
        for (int r = r0 + 4 * quarter; r < r1; r++) {
            store(alpha, dot1(k, w, wOffset + r * ldw, x, xOffset, lanes), beta, y, yOffset + r * incY);
        }
    }

    /** Computes one dot product with exactly the arithmetic of one product of {@link #fourDots}. */
    private static float dot1(int k, float[] w, int w0, float[] x, int xo, float[] lanes) {
        FloatVector s0 = FloatVector.zero(SPECIES);
        FloatVector s1 = s0;
        int bound2 = k - k % (2 * LANES);
        int p = 0;
        for (; p < bound2; p += 2 * LANES) {
            s0 = FloatVector.fromArray(SPECIES, w, w0 + p).fma(FloatVector.fromArray(SPECIES, x, xo + p), s0);
            s1 = FloatVector.fromArray(SPECIES, w, w0 + p + LANES)
                    .fma(FloatVector.fromArray(SPECIES, x, xo + p + LANES), s1);
        }
        if (p + LANES <= k) {
            s0 = FloatVector.fromArray(SPECIES, w, w0 + p).fma(FloatVector.fromArray(SPECIES, x, xo + p), s0);
            p += LANES;
        }
        s0.intoArray(lanes, 0);
        s1.intoArray(lanes, LANES);
        float sum = addLanes(lanes);
        for (; p < k; p++) {
            sum = Math.fma(w[w0 + p], x[xo + p], sum);
        }
        return sum;
    }

    /** Most rows of X that {@link #rowsBatch} takes; larger batches go to the packed kernel. */
    static final int MAX_BATCH = 4;

    /**
     * {@code Y[i, j] = alpha * dot(W[j, :], X[i, :]) + beta * Y[i, j]} for i in [0, batch) and j
     * in [0, rows), with X {@code [batch, K]} and Y {@code [batch, rows]} row-major: a few
     * decode-step vectors against one W {@code [rows, K]}, which is read once for all of them.
     *
     * <p>NOTE: with K = 4096 the four rows of X (64 KiB) outgrow L1, and in a spot check on a
     * shared machine this kernel read W at under half the speed of {@link #rows}; blocking K
     * would keep X in L1.
     */
    static void rowsBatch(int batch, int rows, int k, float alpha, float[] w, int wOffset, int ldw,
                          float[] x, int xOffset, int ldx, float beta, float[] y, int yOffset, int ldy) {
        int grain = (int) Math.max(1, MIN_CHUNK_ELEMENTS / k);
        Parallel.forRange(0, rows, grain, (r0, r1) -> {
            float[] lanes = new float[8 * LANES];
            float[] sums = new float[MAX_BATCH];
            // Rows of X past the batch repeat the last one; their sums are discarded.
            int x0 = xOffset;
            int x1 = xOffset + Math.min(1, batch - 1) * ldx;
            int x2 = xOffset + Math.min(2, batch - 1) * ldx;
            int x3 = xOffset + Math.min(3, batch - 1) * ldx;
            for (int r = r0; r < r1; r++) {
                fourDots(k, w, wOffset + r * ldw, x, x0, x1, x2, x3, lanes, sums);
                for (int i = 0; i < batch; i++) {
                    store(alpha, sums[i], beta, y, yOffset + i * ldy + r);
                }
            }
        });
    }

    /**
     * Computes the four dot products of the vector at {@code shared[so..]} with the vectors at
     * {@code other[o0..]} to {@code other[o3..]}, loading each step of the shared vector once, into
     * {@code sums[0..3]}. Per product: accumulator 0 takes even vector steps, accumulator 1 odd
     * ones, a last odd vector goes to accumulator 0, then the lanes are added in order and the
     * scalar tail is added with fused multiply-adds; {@link #dot1} does the same.
     */
    private static void fourDots(int k, float[] shared, int so, float[] other, int o0, int o1, int o2, int o3,
                                 float[] lanes, float[] sums) {
        FloatVector s00 = FloatVector.zero(SPECIES);
        FloatVector s01 = s00;
        FloatVector s10 = s00;
        FloatVector s11 = s00;
        FloatVector s20 = s00;
        FloatVector s21 = s00;
        FloatVector s30 = s00;
        FloatVector s31 = s00;
        int bound2 = k - k % (2 * LANES);
        int p = 0;
        for (; p < bound2; p += 2 * LANES) {
            FloatVector v0 = FloatVector.fromArray(SPECIES, shared, so + p);
            FloatVector v1 = FloatVector.fromArray(SPECIES, shared, so + p + LANES);
            s00 = FloatVector.fromArray(SPECIES, other, o0 + p).fma(v0, s00);
            s01 = FloatVector.fromArray(SPECIES, other, o0 + p + LANES).fma(v1, s01);
            s10 = FloatVector.fromArray(SPECIES, other, o1 + p).fma(v0, s10);
            s11 = FloatVector.fromArray(SPECIES, other, o1 + p + LANES).fma(v1, s11);
            s20 = FloatVector.fromArray(SPECIES, other, o2 + p).fma(v0, s20);
            s21 = FloatVector.fromArray(SPECIES, other, o2 + p + LANES).fma(v1, s21);
            s30 = FloatVector.fromArray(SPECIES, other, o3 + p).fma(v0, s30);
            s31 = FloatVector.fromArray(SPECIES, other, o3 + p + LANES).fma(v1, s31);
        }
        if (p + LANES <= k) {
            FloatVector v0 = FloatVector.fromArray(SPECIES, shared, so + p);
            s00 = FloatVector.fromArray(SPECIES, other, o0 + p).fma(v0, s00);
            s10 = FloatVector.fromArray(SPECIES, other, o1 + p).fma(v0, s10);
            s20 = FloatVector.fromArray(SPECIES, other, o2 + p).fma(v0, s20);
            s30 = FloatVector.fromArray(SPECIES, other, o3 + p).fma(v0, s30);
            p += LANES;
        }
        s00.intoArray(lanes, 0);
        s01.intoArray(lanes, LANES);
        float sum0 = addLanes(lanes);
        s10.intoArray(lanes, 0);
        s11.intoArray(lanes, LANES);
        float sum1 = addLanes(lanes);
        s20.intoArray(lanes, 0);
        s21.intoArray(lanes, LANES);
        float sum2 = addLanes(lanes);
        s30.intoArray(lanes, 0);
        s31.intoArray(lanes, LANES);
        float sum3 = addLanes(lanes);
        for (; p < k; p++) {
            float sv = shared[so + p];
            sum0 = Math.fma(other[o0 + p], sv, sum0);
            sum1 = Math.fma(other[o1 + p], sv, sum1);
            sum2 = Math.fma(other[o2 + p], sv, sum2);
            sum3 = Math.fma(other[o3 + p], sv, sum3);
        }
        sums[0] = sum0;
        sums[1] = sum1;
        sums[2] = sum2;
        sums[3] = sum3;
    }

    /**
     * {@code y[j * incY] = alpha * sum_p x[p] * W[p, j] + beta * y[j * incY]} for j in [0, n),
     * W {@code [k, n]}. Reads W row by row and accumulates into per-thread sums, one
     * {@link #COLUMN_BLOCK} of columns at a time, in the order p = 0, 1, ..., k-1 per column.
     */
    static void columns(int k, int n, float alpha, float[] w, int wOffset, int ldw,
                        float[] x, int xOffset, float beta, float[] y, int yOffset, int incY) {
        int groups = GemmKernel.ceilDiv(n, LANES);
        int grain = (int) Math.max(1, MIN_CHUNK_ELEMENTS / ((long) k * LANES));
        Parallel.forRange(0, groups, grain, (g0, g1) -> {
            float[] sums = SUMS.get();
            int end = Math.min(n, g1 * LANES);
            for (int j0 = g0 * LANES; j0 < end; j0 += COLUMN_BLOCK) {
                int width = Math.min(COLUMN_BLOCK, end - j0);
                accumulateColumns(k, width, w, wOffset + j0, ldw, x, xOffset, sums);
                for (int j = 0; j < width; j++) {
                    store(alpha, sums[j], beta, y, yOffset + (j0 + j) * incY);
                }
            }
        });
    }

    /**
     * {@code sums[j] = sum_p x[p] * W[p, j]} for j in [0, width), eight rows of W per pass, so
     * eight read streams are in flight and the sums are loaded and stored once per eight FMAs.
     */
    private static void accumulateColumns(int k, int width, float[] w, int wo, int ldw, float[] x, int xo,
                                          float[] sums) {
        java.util.Arrays.fill(sums, 0, width, 0f);
        int bound = SPECIES.loopBound(width);
        int p = 0;
        for (; p + 8 <= k; p += 8) {
            int r0 = wo + p * ldw;
            int r1 = r0 + ldw;
            int r2 = r1 + ldw;
            int r3 = r2 + ldw;
            int r4 = r3 + ldw;
            int r5 = r4 + ldw;
            int r6 = r5 + ldw;
            int r7 = r6 + ldw;
            int xp = xo + p;
            FloatVector v0 = FloatVector.broadcast(SPECIES, x[xp]);
            FloatVector v1 = FloatVector.broadcast(SPECIES, x[xp + 1]);
            FloatVector v2 = FloatVector.broadcast(SPECIES, x[xp + 2]);
            FloatVector v3 = FloatVector.broadcast(SPECIES, x[xp + 3]);
            FloatVector v4 = FloatVector.broadcast(SPECIES, x[xp + 4]);
            FloatVector v5 = FloatVector.broadcast(SPECIES, x[xp + 5]);
            FloatVector v6 = FloatVector.broadcast(SPECIES, x[xp + 6]);
            FloatVector v7 = FloatVector.broadcast(SPECIES, x[xp + 7]);
            int j = 0;
            for (; j < bound; j += LANES) {
                FloatVector s = FloatVector.fromArray(SPECIES, sums, j);
                s = FloatVector.fromArray(SPECIES, w, r0 + j).fma(v0, s);
                s = FloatVector.fromArray(SPECIES, w, r1 + j).fma(v1, s);
                s = FloatVector.fromArray(SPECIES, w, r2 + j).fma(v2, s);
                s = FloatVector.fromArray(SPECIES, w, r3 + j).fma(v3, s);
                s = FloatVector.fromArray(SPECIES, w, r4 + j).fma(v4, s);
                s = FloatVector.fromArray(SPECIES, w, r5 + j).fma(v5, s);
                s = FloatVector.fromArray(SPECIES, w, r6 + j).fma(v6, s);
                s = FloatVector.fromArray(SPECIES, w, r7 + j).fma(v7, s);
                s.intoArray(sums, j);
            }
            for (; j < width; j++) {
                float s = sums[j];
                s = Math.fma(w[r0 + j], x[xp], s);
                s = Math.fma(w[r1 + j], x[xp + 1], s);
                s = Math.fma(w[r2 + j], x[xp + 2], s);
                s = Math.fma(w[r3 + j], x[xp + 3], s);
                s = Math.fma(w[r4 + j], x[xp + 4], s);
                s = Math.fma(w[r5 + j], x[xp + 5], s);
                s = Math.fma(w[r6 + j], x[xp + 6], s);
                s = Math.fma(w[r7 + j], x[xp + 7], s);
                sums[j] = s;
            }
        }
        for (; p < k; p++) {
            int r0 = wo + p * ldw;
            float x0 = x[xo + p];
            FloatVector v0 = FloatVector.broadcast(SPECIES, x0);
            int j = 0;
            for (; j < bound; j += LANES) {
                FloatVector.fromArray(SPECIES, w, r0 + j).fma(v0, FloatVector.fromArray(SPECIES, sums, j))
                        .intoArray(sums, j);
            }
            for (; j < width; j++) {
                sums[j] = Math.fma(w[r0 + j], x0, sums[j]);
            }
        }
    }

    /**
     * Returns {@code sum over j of (lanes[j] + lanes[LANES + j])}, adding j from first to last: the
     * two accumulators of a dot product, stored by {@code intoArray}, added lane by lane and
     * then across. {@code reduceLanes(ADD)} leaves the order of the additions to the
     * implementation, which may differ between compiled and interpreted code; on JDK 25 it made
     * the same row round differently at 1 and 2 threads. The caller stores the accumulators
     * because C2 boxes a vector passed to a call it does not inline. They are added here, not by a
     * vector add in the kernel, because every Vector API operation inlined into a kernel brings C2
     * closer to the limit past which it no longer compiles the kernel's vector stores as
     * intrinsics (see {@link GemmKernel#microKernel}).
     */
    private static float addLanes(float[] lanes) {
        float sum = 0f;
        for (int j = 0; j < LANES; j++) {
            sum += lanes[j] + lanes[LANES + j];
        }
        return sum;
    }

    private static void store(float alpha, float sum, float beta, float[] y, int index) {
        y[index] = beta == 0f ? alpha * sum : alpha * sum + beta * y[index];
    }
}
