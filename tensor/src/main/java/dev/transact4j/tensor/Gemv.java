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
     * Bytes of W per stream in {@link #rows}. We measured the small Llama's decode weights at one
     * thread on an AMD Zen 4 host. Eight streams across each whole matrix (up to 2 MiB apart, for
     * the 8192-row output layer) read them at 18-20 GB/s, and 64 KiB streams at 21-23 GB/s.
     */
    private static final int STREAM_BYTES = 64 * 1024;

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
     * <p>{@link #eightDots} takes eight rows at a time, each from its own run of rows, so W is read
     * as eight sequential streams of about {@link #STREAM_BYTES} each (see {@link #rowRange}).
     * Adjacent rows instead make short streams of one row each: with K = 512 (2 KiB rows) the
     * hardware prefetchers never get going. On the small Llama's decode weights (118 MB, one
     * thread, thread CPU time, Intel Xeon host) adjacent rows four at a time streamed at 10-11
     * GB/s, four streams at 18-20 GB/s, eight at 21-24.
     */
    static void rows(int rows, int k, float alpha, float[] w, int wOffset, int ldw,
                     float[] x, int xOffset, float beta, float[] y, int yOffset, int incY) {
        int grain = (int) Math.max(1, MIN_CHUNK_ELEMENTS / k);
        Parallel.forRange(0, rows, grain, (r0, r1) -> {
            float[] lanes = new float[2 * LANES];
            float[] sums = new float[8];
            int[] rowStart = new int[8];
            rowRange(r0, r1, k, alpha, w, wOffset, ldw, x, xOffset, beta, y, yOffset, incY, lanes, sums, rowStart);
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
            float[] sums = new float[8];
            int[] rowStart = new int[8];

            // the part of each matrix that falls in [r0, r1) of the rows counted over all matrices
            for (int i = 0; i < count; i++) {
                int from = Math.max(r0, firstRow[i]) - firstRow[i];
                int to = Math.min(r1, firstRow[i + 1]) - firstRow[i];
                if (from < to) {
                    rowRange(from, to, k, 1f, w[i], wOffsets[i], k, x, xOffset, betas[i], y[i], yOffsets[i], 1,
                            lanes, sums, rowStart);
                }
            }
        });
    }

    /**
     * Computes rows {@code [r0, r1)} of {@link #rows}. Blocks of {@code 8 * run} rows, where a run
     * of rows holds about {@link #STREAM_BYTES}, go eight rows at a time, one from each run of the
     * block. The rows after the last whole block go the same way with runs of an eighth of them,
     * then the last few rows one at a time. A row's arithmetic does not depend on which of these
     * it takes.
     */
    private static void rowRange(int r0, int r1, int k, float alpha, float[] w, int wOffset, int ldw,
                                 float[] x, int xOffset, float beta, float[] y, int yOffset, int incY,
                                 float[] lanes, float[] sums, int[] rowStart) {
        int run = Math.max(1, STREAM_BYTES / (Float.BYTES * k));
        int r = r0;
        for (; r + 8 * run <= r1; r += 8 * run) {
            eightRuns(r, run, k, alpha, w, wOffset, ldw, x, xOffset, beta, y, yOffset, incY, lanes, sums, rowStart);
        }
        int rest = (r1 - r) / 8;
        if (rest > 0) {
            eightRuns(r, rest, k, alpha, w, wOffset, ldw, x, xOffset, beta, y, yOffset, incY, lanes, sums, rowStart);
            r += 8 * rest;
        }
        for (; r < r1; r++) {
            float sum = dot1(k, w, wOffset + r * ldw, x, xOffset, lanes);
            store(alpha, sum, beta, y, yOffset + r * incY);
        }
    }

    /** Computes the {@code 8 * run} rows from r0, one row from each of eight runs at a time. */
    private static void eightRuns(int r0, int run, int k, float alpha, float[] w, int wOffset, int ldw,
                                  float[] x, int xOffset, float beta, float[] y, int yOffset, int incY,
                                  float[] lanes, float[] sums, int[] rowStart) {
        for (int r = r0; r < r0 + run; r++) {
            for (int i = 0; i < 8; i++) {
                rowStart[i] = wOffset + (r + i * run) * ldw;
            }
            eightDots(k, x, xOffset, w, rowStart, lanes, sums);
            for (int i = 0; i < 8; i++) {
                store(alpha, sums[i], beta, y, yOffset + (r + i * run) * incY);
            }
        }
    }

    /**
     * Computes the dot products of x at {@code x[xo..]} with the eight rows of W starting at
     * {@code w[rowStart[0]..]} to {@code w[rowStart[7]..]} into {@code sums[0..7]}, loading each
     * step of x once. Each product has exactly the arithmetic of {@link #dot1}.
     */
    private static void eightDots(int k, float[] x, int xo, float[] w, int[] rowStart, float[] lanes, float[] sums) {
        int o0 = rowStart[0];
        int o1 = rowStart[1];
        int o2 = rowStart[2];
        int o3 = rowStart[3];
        int o4 = rowStart[4];
        int o5 = rowStart[5];
        int o6 = rowStart[6];
        int o7 = rowStart[7];
        FloatVector s00 = FloatVector.zero(SPECIES);
        FloatVector s01 = s00;
        FloatVector s10 = s00;
        FloatVector s11 = s00;
        FloatVector s20 = s00;
        FloatVector s21 = s00;
        FloatVector s30 = s00;
        FloatVector s31 = s00;
        FloatVector s40 = s00;
        FloatVector s41 = s00;
        FloatVector s50 = s00;
        FloatVector s51 = s00;
        FloatVector s60 = s00;
        FloatVector s61 = s00;
        FloatVector s70 = s00;
        FloatVector s71 = s00;

        // even vector steps into accumulator 0, odd ones into 1, a last odd step into 0
        int bound2 = k - k % (2 * LANES);
        int p = 0;
        for (; p < bound2; p += 2 * LANES) {
            FloatVector v0 = FloatVector.fromArray(SPECIES, x, xo + p);
            FloatVector v1 = FloatVector.fromArray(SPECIES, x, xo + p + LANES);
            s00 = FloatVector.fromArray(SPECIES, w, o0 + p).fma(v0, s00);
            s01 = FloatVector.fromArray(SPECIES, w, o0 + p + LANES).fma(v1, s01);
            s10 = FloatVector.fromArray(SPECIES, w, o1 + p).fma(v0, s10);
            s11 = FloatVector.fromArray(SPECIES, w, o1 + p + LANES).fma(v1, s11);
            s20 = FloatVector.fromArray(SPECIES, w, o2 + p).fma(v0, s20);
            s21 = FloatVector.fromArray(SPECIES, w, o2 + p + LANES).fma(v1, s21);
            s30 = FloatVector.fromArray(SPECIES, w, o3 + p).fma(v0, s30);
            s31 = FloatVector.fromArray(SPECIES, w, o3 + p + LANES).fma(v1, s31);
            s40 = FloatVector.fromArray(SPECIES, w, o4 + p).fma(v0, s40);
            s41 = FloatVector.fromArray(SPECIES, w, o4 + p + LANES).fma(v1, s41);
            s50 = FloatVector.fromArray(SPECIES, w, o5 + p).fma(v0, s50);
            s51 = FloatVector.fromArray(SPECIES, w, o5 + p + LANES).fma(v1, s51);
            s60 = FloatVector.fromArray(SPECIES, w, o6 + p).fma(v0, s60);
            s61 = FloatVector.fromArray(SPECIES, w, o6 + p + LANES).fma(v1, s61);
            s70 = FloatVector.fromArray(SPECIES, w, o7 + p).fma(v0, s70);
            s71 = FloatVector.fromArray(SPECIES, w, o7 + p + LANES).fma(v1, s71);
        }
        if (p + LANES <= k) {
            FloatVector v0 = FloatVector.fromArray(SPECIES, x, xo + p);
            s00 = FloatVector.fromArray(SPECIES, w, o0 + p).fma(v0, s00);
            s10 = FloatVector.fromArray(SPECIES, w, o1 + p).fma(v0, s10);
            s20 = FloatVector.fromArray(SPECIES, w, o2 + p).fma(v0, s20);
            s30 = FloatVector.fromArray(SPECIES, w, o3 + p).fma(v0, s30);
            s40 = FloatVector.fromArray(SPECIES, w, o4 + p).fma(v0, s40);
            s50 = FloatVector.fromArray(SPECIES, w, o5 + p).fma(v0, s50);
            s60 = FloatVector.fromArray(SPECIES, w, o6 + p).fma(v0, s60);
            s70 = FloatVector.fromArray(SPECIES, w, o7 + p).fma(v0, s70);
            p += LANES;
        }

        // the two accumulators added lane by lane, the lanes in order, then the scalar tail
        s00.intoArray(lanes, 0);
        s01.intoArray(lanes, LANES);
        sums[0] = addLanes(lanes);
        s10.intoArray(lanes, 0);
        s11.intoArray(lanes, LANES);
        sums[1] = addLanes(lanes);
        s20.intoArray(lanes, 0);
        s21.intoArray(lanes, LANES);
        sums[2] = addLanes(lanes);
        s30.intoArray(lanes, 0);
        s31.intoArray(lanes, LANES);
        sums[3] = addLanes(lanes);
        s40.intoArray(lanes, 0);
        s41.intoArray(lanes, LANES);
        sums[4] = addLanes(lanes);
        s50.intoArray(lanes, 0);
        s51.intoArray(lanes, LANES);
        sums[5] = addLanes(lanes);
        s60.intoArray(lanes, 0);
        s61.intoArray(lanes, LANES);
        sums[6] = addLanes(lanes);
        s70.intoArray(lanes, 0);
        s71.intoArray(lanes, LANES);
        sums[7] = addLanes(lanes);
        for (; p < k; p++) {
            float xp = x[xo + p];
            sums[0] = Math.fma(w[o0 + p], xp, sums[0]);
            sums[1] = Math.fma(w[o1 + p], xp, sums[1]);
            sums[2] = Math.fma(w[o2 + p], xp, sums[2]);
            sums[3] = Math.fma(w[o3 + p], xp, sums[3]);
            sums[4] = Math.fma(w[o4 + p], xp, sums[4]);
            sums[5] = Math.fma(w[o5 + p], xp, sums[5]);
            sums[6] = Math.fma(w[o6 + p], xp, sums[6]);
            sums[7] = Math.fma(w[o7 + p], xp, sums[7]);
        }
    }

    /** Computes one dot product with exactly the arithmetic of one row of {@link #fourDots} and {@link #eightDots}. */
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
            float[] lanes = new float[2 * LANES];
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
