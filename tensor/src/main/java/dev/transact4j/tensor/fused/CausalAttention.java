package dev.transact4j.tensor.fused;

import dev.transact4j.tensor.Gemm;
import dev.transact4j.tensor.Parallel;
import dev.transact4j.tensor.VectorMath;
import java.util.Arrays;
import java.util.function.Supplier;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Causal scaled-dot-product attention with grouped-query heads, fused with its gradient in the
 * manner of flash attention: forward saves one log-sum-exp per query row and nothing of size
 * {@code Tq x Tk}, and backward recomputes the probabilities from q, k and that log-sum-exp.
 *
 * <p>Dimensions: {@code B} batch, {@code NH} query heads, {@code NKV} key/value heads ({@code NH}
 * a multiple of {@code NKV}; query head {@code h} reads key/value head {@code h / (NH / NKV)}),
 * {@code Tq} query steps, {@code Tk} key steps ({@code Tq <= Tk}), {@code HS} head size.
 *
 * <p>The queries are the last {@code Tq} steps of the key range, so query {@code i} attends keys
 * {@code 0 .. Tk - Tq + i}; with {@code Tq == Tk} this is the usual causal mask, and with
 * {@code Tq < Tk} it is KV-cache prefill or decoding. {@link #forwardKvCache} reads keys and
 * values from a cache with room for more steps than are filled, whose keys are stored transposed
 * in tiles ({@link KeyTiles}, written by {@link #storeKeysTransposed}). An optional additive mask
 * {@code [B, Tq, Tk]} (shared by all heads, entries finite or {@code -Infinity}, such as a
 * key-padding mask) is added to the scaled scores. A row whose every key is masked gets zeros in
 * out, {@code -Infinity} in lse and zero gradients, where a plain softmax would give NaN.
 *
 * <p>With {@value #BLOCKED_MIN_ROWS} or more query rows, the vector path computes each query
 * head's scores, weighted sums and gradients as matrix products over blocks of
 * {@value #BLOCKED_ROWS} rows ({@link #forwardBlocked}, {@link #backwardBlocked}). With fewer,
 * such as a decoding step, and on the scalar path, it works row by row: forward splits the work
 * into units of one key/value head and {@value #QUERY_BLOCK} query rows (of every query head
 * reading it), and computes scores from keys transposed in tiles, copied per unit from row-major
 * keys or read in place from a cache. Backward splits the work over the
 * {@code B x NKV} key/value heads on both paths: each task owns dk and dv of its head and dq of
 * the query heads that read it, and sums in a fixed order. Each row is computed the same way
 * whatever the units, so results do not depend on the thread count. Scores and log-sum-exp have
 * the same bits on both paths. Weighted sums and gradients may differ in their last bits, so a
 * decoding step gives the bits of the last row of a full forward only when that forward also
 * takes the row path.
 */
public final class CausalAttention {

    /**
     * Query rows per work unit of the row path of forward. Every such unit of {@link #forward}
     * tiles the keys it reads once, and {@link #forwardKvCache} reads them in place.
     */
    static final int QUERY_BLOCK = 32;

    /**
     * Minimum query rows for which the vector path computes attention as matrix products
     * ({@link #forwardBlocked}, {@link #backwardBlocked}).
     */
    static final int BLOCKED_MIN_ROWS = 16;

    /** Query rows per block of matrix products in {@link #forwardBlocked} and {@link #backwardBlocked}. */
    static final int BLOCKED_ROWS = 64;

    /** Query rows whose dk and dv contributions backward adds in one pass; blockUpdateVector unrolls 4. */
    private static final int ROW_BLOCK = 4;

    private static final VectorSpecies<Float> SPECIES = Simd.SPECIES;

    private CausalAttention() {
    }

    /** Returns the default score scale, {@code 1 / sqrt(HS)}. */
    public static float defaultScale(int hs) {
        return (float) (1.0 / Math.sqrt(hs));
    }

    /**
     * Computes {@code out = softmax(q k^T * scale + mask + causal) v} per head.
     *
     * <p>Shapes: q {@code [B, NH, Tq, HS]}, k and v {@code [B, NKV, Tk, HS]}, mask
     * {@code [B, Tq, Tk]} or null, out {@code [B, NH, Tq, HS]} (overwritten), lse
     * {@code [B, NH, Tq]} (overwritten; the log-sum-exp of each row's masked, scaled scores).
     *
     * @throws IllegalArgumentException on a shape mismatch, {@code NH} not a multiple of
     *                                  {@code NKV}, {@code Tq > Tk} or a non-finite scale
     */
    public static void forward(float[] q, int qOffset, float[] k, int kOffset, float[] v, int vOffset,
                               float[] mask, int maskOffset, float[] out, int outOffset, float[] lse, int lseOffset,
                               int b, int nh, int nkv, int tq, int tk, int hs, float scale) {
        forward(q, qOffset, k, kOffset, v, vOffset, mask, maskOffset, out, outOffset, lse, lseOffset,
                b, nh, nkv, tq, tk, tk, false, hs, scale, Simd.ENABLED);
    }

    /**
     * Computes {@link #forward} reading keys and values straight from a KV cache with room for
     * {@code capacity} steps per head, of which the first {@code Tk} are filled. The cache stores
     * each head's keys transposed in tiles ({@link KeyTiles}), so a score reads them without a
     * copy. {@link #storeKeysTransposed} writes that layout.
     *
     * <p>Shapes: q {@code [B, NH, Tq, HS]}, kCache {@code [B, NKV, HS, capacity]} (keys
     * transposed, in tiles of {@value KeyTiles#TILE} steps), vCache {@code [B, NKV, capacity, HS]} ({@code Tk <= capacity}), mask
     * {@code [B, Tq, Tk]} or null, out {@code [B, NH, Tq, HS]} (overwritten), lse
     * {@code [B, NH, Tq]} (overwritten). The result is bitwise the one {@link #forward} gives on
     * the first {@code Tk} steps copied out as {@code [B, NKV, Tk, HS]}.
     *
     * @throws IllegalArgumentException as {@link #forward}, or when {@code capacity < Tk}
     */
    public static void forwardKvCache(float[] q, int qOffset, float[] kCache, int kOffset, float[] vCache, int vOffset,
                                      float[] mask, int maskOffset, float[] out, int outOffset,
                                      float[] lse, int lseOffset,
                                      int b, int nh, int nkv, int tq, int tk, int capacity, int hs, float scale) {
        forward(q, qOffset, kCache, kOffset, vCache, vOffset, mask, maskOffset, out, outOffset, lse, lseOffset,
                b, nh, nkv, tq, tk, capacity, true, hs, scale, Simd.ENABLED);
    }

    /**
     * Copies {@code steps} new key steps of every head into a transposed key cache behind the
     * {@code start} steps it holds: the column {@code start + t} of head {@code h} takes step
     * {@code t} of head {@code h}. The cache is tiled as {@link KeyTiles} describes, so dimension
     * {@code d} of that column sits at {@code KeyTiles.index(start + t, d, capacity, HS)} from the
     * head's start {@code h * HS * capacity}.
     *
     * <p>Shapes: keys {@code [H, steps, HS]} from keysOffset, cache {@code [H, HS, capacity]} (in
     * tiles) from cacheOffset, where {@code H} counts every head of the batch ({@code B x NKV}).
     *
     * @throws IllegalArgumentException when a size is negative, {@code start + steps} exceeds the
     *                                  capacity or a range does not fit its array
     */
    public static void storeKeysTransposed(float[] keys, int keysOffset, float[] cache, int cacheOffset,
                                           int heads, int steps, int start, int capacity, int hs) {
        String op = "CausalAttention.storeKeysTransposed";
        if (heads < 0 || steps < 0 || start < 0 || hs < 0 || start + (long) steps > capacity) {
            throw new IllegalArgumentException(op + ": " + steps + " steps from step " + start
                    + " do not fit a capacity of " + capacity + " (heads " + heads + ", HS " + hs + ")");
        }
        Simd.checkRange(op, "keys", keys, keysOffset, (long) heads * steps * hs,
                () -> "[H=" + heads + ", steps=" + steps + ", HS=" + hs + "]");
        Simd.checkRange(op, "cache", cache, cacheOffset, (long) heads * hs * capacity,
                () -> "[H=" + heads + ", HS=" + hs + ", capacity=" + capacity + "]");

        for (int h = 0; h < heads; h++) {
            KeyTiles.store(keys, keysOffset + h * steps * hs, steps, start, hs, cache, cacheOffset + h * hs * capacity,
                    capacity);
        }
    }

    /**
     * Adds the gradients of {@link #forward} to dq, dk and dv.
     *
     * <p>Shapes: q, k, v, mask, out, lse as in forward (out and lse as forward wrote them), dout
     * and dq {@code [B, NH, Tq, HS]}, dk and dv {@code [B, NKV, Tk, HS]}. dq, dk and dv are
     * accumulated; dk and dv sum over the query heads of each group. The mask gets no gradient.
     */
    public static void backward(float[] q, int qOffset, float[] k, int kOffset, float[] v, int vOffset,
                                float[] mask, int maskOffset, float[] out, int outOffset, float[] lse, int lseOffset,
                                float[] dout, int doutOffset, float[] dq, int dqOffset,
                                float[] dk, int dkOffset, float[] dv, int dvOffset,
                                int b, int nh, int nkv, int tq, int tk, int hs, float scale) {
        backward(q, qOffset, k, kOffset, v, vOffset, mask, maskOffset, out, outOffset, lse, lseOffset,
                dout, doutOffset, dq, dqOffset, dk, dkOffset, dv, dvOffset, b, nh, nkv, tq, tk, hs, scale,
                Simd.ENABLED);
    }

    /**
     * Runs forward with keys and values {@code capacity} steps apart per head. With
     * {@code keysTransposed} the keys are stored {@code [B, NKV, HS, capacity]} in tiles
     * ({@link KeyTiles}) and read in place. Otherwise they are {@code [B, NKV, capacity, HS]}, and
     * the vector path first tiles each work unit's keys into a buffer.
     */
    static void forward(float[] q, int qOffset, float[] k, int kOffset, float[] v, int vOffset,
                        float[] mask, int maskOffset, float[] out, int outOffset, float[] lse, int lseOffset,
                        int b, int nh, int nkv, int tq, int tk, int capacity, boolean keysTransposed, int hs,
                        float scale, boolean simd) {
        String op = "CausalAttention.forward";
        Supplier<String> qShape = check(op, q, qOffset, k, kOffset, v, vOffset, mask, maskOffset, lse, lseOffset,
                b, nh, nkv, tq, tk, capacity, keysTransposed, hs, scale);
        Simd.checkRange(op, "out", out, outOffset, (long) b * nh * tq * hs, qShape);
        int group = nh / nkv;
        if (simd && tq >= BLOCKED_MIN_ROWS) {
            forwardBlocked(q, qOffset, k, kOffset, v, vOffset, mask, maskOffset, out, outOffset, lse, lseOffset,
                    b, nh, nkv, tq, tk, capacity, keysTransposed, hs, scale);
            return;
        }

        // work units: (batch, key/value head, block of query rows), for every query head of the group
        int blocks = (tq + QUERY_BLOCK - 1) / QUERY_BLOCK;
        Parallel.forRange(0, b * nkv * blocks, 1, (lo, hi) -> {
            float[] p = new float[tk];
            float[] kt = simd && !keysTransposed ? new float[hs * tk] : null;
            for (int unit = lo; unit < hi; unit++) {
                int bkv = unit / blocks;
                int block = balancedBlock(unit % blocks, blocks);
                int bi = bkv / nkv;
                int kvh = bkv % nkv;
                int kvBase = bkv * capacity * hs;
                int i0 = block * QUERY_BLOCK;
                int i1 = Math.min(tq, i0 + QUERY_BLOCK);

                // the unit's keys as tiles of a cache of keyCapacity steps from keyBase; row-major keys
                // are tiled into kt first
                float[] keyArray = k;
                int keyBase = kOffset + kvBase;
                int keyCapacity = capacity;
                if (simd && !keysTransposed) {
                    KeyTiles.store(k, kOffset + kvBase, tk - tq + i1, 0, hs, kt, 0, tk);
                    keyArray = kt;
                    keyBase = 0;
                    keyCapacity = tk;
                }
                for (int h = kvh * group; h < (kvh + 1) * group; h++) {
                    for (int i = i0; i < i1; i++) {
                        int row = (bi * nh + h) * tq + i;
                        int keys = tk - tq + i + 1;
                        int qo = qOffset + row * hs;
                        int oo = outOffset + row * hs;
                        int mo = mask == null ? -1 : maskOffset + (bi * tq + i) * tk;

                        // scaled, masked scores and their maximum
                        if (simd) {
                            KeyTiles.scores(q, qo, keyArray, keyBase, keyCapacity, keys, hs, scale, p);
                        } else if (keysTransposed) {
                            KeyTiles.scoresScalar(q, qo, k, keyBase, keyCapacity, keys, hs, scale, p);
                        } else {
                            scoresScalar(q, qo, k, keyBase, keys, hs, scale, p);
                        }
                        float m = maskAndMax(p, keys, mask, mo, simd);
                        if (m == Float.NEGATIVE_INFINITY) {
                            Arrays.fill(out, oo, oo + hs, 0f);
                            lse[lseOffset + row] = Float.NEGATIVE_INFINITY;
                            continue;
                        }

                        // probabilities (unnormalised) and the weighted sum of values
                        float l = expShifted(p, keys, m, simd);
                        weightedSum(p, keys, v, vOffset + kvBase, hs, 1f / l, out, oo, false, simd);
                        lse[lseOffset + row] = m + (float) Math.log(l);
                    }
                }
            }
        });
    }

    /**
     * The vector path of {@link #forward} for many query rows: per query head and block of
     * {@link #BLOCKED_ROWS} rows, the scores are one matrix product {@code S = scale * Q K^T} and
     * the output another, {@code O = P V}, instead of a matrix-vector product per row. Keys stored
     * {@code [B, NKV, capacity, HS]} enter the first product as a transposed operand. Keys stored
     * transposed in tiles are first copied out of their tiles as {@code [HS, Tk]}, once per
     * key/value head that a thread's run of query heads reads. The scores have the bits of {@link KeyTiles#scores} (the product sums d = 0 .. HS-1
     * with one fused multiply-add each and then scales). The weighted sum adds the keys in K blocks of the matrix product, so its
     * last bits can differ from the row-by-row path.
     */
    private static void forwardBlocked(float[] q, int qOffset, float[] k, int kOffset, float[] v, int vOffset,
                                       float[] mask, int maskOffset, float[] out, int outOffset,
                                       float[] lse, int lseOffset,
                                       int b, int nh, int nkv, int tq, int tk, int capacity,
                                       boolean keysTransposed, int hs, float scale) {
        int group = nh / nkv;
        Parallel.forRange(0, b * nh, 1, (lo, hi) -> {
            float[] kt = keysTransposed ? new float[hs * tk] : null;
            int untiledBase = -1;
            float[] scores = new float[Math.min(tq, BLOCKED_ROWS) * tk];
            float[] row = new float[tk];
            float[] rowScale = new float[BLOCKED_ROWS];
            for (int unit = lo; unit < hi; unit++) {
                int bi = unit / nh;
                int h = unit % nh;
                int kvBase = (bi * nkv + h / group) * capacity * hs;
                float[] keyArray = k;
                int keyBase = kOffset + kvBase;
                int keyLd = hs;
                if (keysTransposed) {
                    // consecutive query heads of a group read the same key/value head, untiled once
                    if (untiledBase != kvBase) {
                        KeyTiles.untile(k, kOffset + kvBase, capacity, tk, hs, kt);
                        untiledBase = kvBase;
                    }
                    keyArray = kt;
                    keyBase = 0;
                    keyLd = tk;
                }
                for (int i0 = 0; i0 < tq; i0 += BLOCKED_ROWS) {
                    int rows = Math.min(BLOCKED_ROWS, tq - i0);
                    int keysMax = tk - tq + i0 + rows;
                    int first = (bi * nh + h) * tq + i0;

                    // S = scale * Q K^T for the block, keysMax keys wide
                    Gemm.sgemm(false, !keysTransposed, rows, keysMax, hs, scale, q, qOffset + first * hs, hs,
                            keyArray, keyBase, keyLd, 0f, scores, 0, keysMax);

                    // per row: mask, maximum, unnormalised probabilities, zeros past the causal limit
                    for (int r = 0; r < rows; r++) {
                        int i = i0 + r;
                        int keys = tk - tq + i + 1;
                        int so = r * keysMax;
                        System.arraycopy(scores, so, row, 0, keys);
                        int mo = mask == null ? -1 : maskOffset + (bi * tq + i) * tk;
                        float m = maskAndMax(row, keys, mask, mo, true);
                        if (m == Float.NEGATIVE_INFINITY) {
                            Arrays.fill(scores, so, so + keysMax, 0f);
                            rowScale[r] = 0f;
                            lse[lseOffset + first + r] = Float.NEGATIVE_INFINITY;
                            continue;
                        }
                        float l = expShifted(row, keys, m, true);
                        System.arraycopy(row, 0, scores, so, keys);
                        Arrays.fill(scores, so + keys, so + keysMax, 0f);
                        rowScale[r] = 1f / l;
                        lse[lseOffset + first + r] = m + (float) Math.log(l);
                    }

                    // O = P V, then each row divided by its sum of probabilities
                    int oo = outOffset + first * hs;
                    Gemm.sgemm(false, false, rows, hs, keysMax, 1f, scores, 0, keysMax,
                            v, vOffset + kvBase, hs, 0f, out, oo, hs);
                    for (int r = 0; r < rows; r++) {
                        scaleRow(out, oo + r * hs, hs, rowScale[r]);
                    }
                }
            }
        });
    }

    /** Multiplies {@code x[xo .. xo+count)} by {@code factor}. */
    private static void scaleRow(float[] x, int xo, int count, float factor) {
        int len = SPECIES.length();
        int bound = SPECIES.loopBound(count);
        int j = 0;
        for (; j < bound; j += len) {
            FloatVector.fromArray(SPECIES, x, xo + j).mul(factor).intoArray(x, xo + j);
        }
        for (; j < count; j++) {
            x[xo + j] *= factor;
        }
    }

    static void backward(float[] q, int qOffset, float[] k, int kOffset, float[] v, int vOffset,
                         float[] mask, int maskOffset, float[] out, int outOffset, float[] lse, int lseOffset,
                         float[] dout, int doutOffset, float[] dq, int dqOffset,
                         float[] dk, int dkOffset, float[] dv, int dvOffset,
                         int b, int nh, int nkv, int tq, int tk, int hs, float scale, boolean simd) {
        String op = "CausalAttention.backward";
        Supplier<String> qShape = check(op, q, qOffset, k, kOffset, v, vOffset, mask, maskOffset, lse, lseOffset,
                b, nh, nkv, tq, tk, tk, false, hs, scale);
        long qSize = (long) b * nh * tq * hs;
        long kvSize = (long) b * nkv * tk * hs;
        Supplier<String> kvShape = () -> "[B=" + b + ", NKV=" + nkv + ", Tk=" + tk + ", HS=" + hs + "]";
        Simd.checkRange(op, "out", out, outOffset, qSize, qShape);
        Simd.checkRange(op, "dout", dout, doutOffset, qSize, qShape);
        Simd.checkRange(op, "dq", dq, dqOffset, qSize, qShape);
        Simd.checkRange(op, "dk", dk, dkOffset, kvSize, kvShape);
        Simd.checkRange(op, "dv", dv, dvOffset, kvSize, kvShape);
        if (simd && tq >= BLOCKED_MIN_ROWS) {
            backwardBlocked(q, qOffset, k, kOffset, v, vOffset, mask, maskOffset, out, outOffset, lse, lseOffset,
                    dout, doutOffset, dq, dqOffset, dk, dkOffset, dv, dvOffset, b, nh, nkv, tq, tk, hs, scale);
            return;
        }
        int group = nh / nkv;

        // NOTE: with fewer B x NKV heads than threads, the extra threads stay idle in backward.
        Parallel.forRange(0, b * nkv, 1, (lo, hi) -> {
            float[][] p = new float[ROW_BLOCK][tk];
            float[][] ds = new float[ROW_BLOCK][tk];
            int[] qRows = new int[ROW_BLOCK];
            int[] doutRows = new int[ROW_BLOCK];
            float[] kt = simd ? new float[hs * tk] : null;
            float[] vt = simd ? new float[hs * tk] : null;
            for (int bkv = lo; bkv < hi; bkv++) {
                int bi = bkv / nkv;
                int kvh = bkv % nkv;
                int kvBase = bkv * tk * hs;
                if (simd) {
                    KeyTiles.store(k, kOffset + kvBase, tk, 0, hs, kt, 0, tk);
                    KeyTiles.store(v, vOffset + kvBase, tk, 0, hs, vt, 0, tk);
                }
                for (int h = kvh * group; h < (kvh + 1) * group; h++) {
                    // blocks of consecutive query rows, so dk and dv are loaded and stored once per block
                    for (int i0 = 0; i0 < tq; i0 += ROW_BLOCK) {
                        int blockKeys = tk - tq + Math.min(tq, i0 + ROW_BLOCK);
                        for (int r = 0; r < ROW_BLOCK; r++) {
                            int i = Math.min(i0 + r, tq - 1);
                            int row = (bi * nh + h) * tq + i;
                            qRows[r] = qOffset + row * hs;
                            doutRows[r] = doutOffset + row * hs;
                            float rowLse = lse[lseOffset + row];
                            if (i0 + r >= tq || rowLse == Float.NEGATIVE_INFINITY) {
                                // a row past the end or fully masked contributes nothing
                                Arrays.fill(p[r], 0, blockKeys, 0f);
                                Arrays.fill(ds[r], 0, blockKeys, 0f);
                                continue;
                            }
                            int keys = tk - tq + i + 1;
                            int mo = mask == null ? -1 : maskOffset + (bi * tq + i) * tk;

                            // recompute the probabilities p = exp(s - lse)
                            if (simd) {
                                KeyTiles.scores(q, qRows[r], kt, 0, tk, keys, hs, scale, p[r]);
                            } else {
                                scoresScalar(q, qRows[r], k, kOffset + kvBase, keys, hs, scale, p[r]);
                            }
                            maskAndMax(p[r], keys, mask, mo, simd);
                            expShifted(p[r], keys, rowLse, simd);

                            // ds = p * (dout . v_j - dout . out) * scale, the softmax backward
                            int oo = outOffset + row * hs;
                            float delta = simd ? Simd.dotVector(dout, doutRows[r], out, oo, hs)
                                    : Simd.dotScalar(dout, doutRows[r], out, oo, hs);
                            if (simd) {
                                KeyTiles.scores(dout, doutRows[r], vt, 0, tk, keys, hs, 1f, ds[r]);
                            } else {
                                scoresScalar(dout, doutRows[r], v, vOffset + kvBase, keys, hs, 1f, ds[r]);
                            }
                            for (int j = 0; j < keys; j++) {
                                ds[r][j] = p[r][j] * (ds[r][j] - delta) * scale;
                            }
                            Arrays.fill(p[r], keys, blockKeys, 0f);
                            Arrays.fill(ds[r], keys, blockKeys, 0f);

                            // dq += ds k
                            weightedSum(ds[r], keys, k, kOffset + kvBase, hs, 1f, dq, dqOffset + row * hs, true, simd);
                        }

                        // dk += ds^T q, dv += p^T dout over the rows of the block
                        if (simd) {
                            blockUpdateVector(ds, q, qRows, dk, dkOffset + kvBase, blockKeys, hs);
                            blockUpdateVector(p, dout, doutRows, dv, dvOffset + kvBase, blockKeys, hs);
                        } else {
                            blockUpdateScalar(ds, q, qRows, dk, dkOffset + kvBase, blockKeys, hs);
                            blockUpdateScalar(p, dout, doutRows, dv, dvOffset + kvBase, blockKeys, hs);
                        }
                    }
                }
            }
        });
    }

    /**
     * The vector path of {@link #backward} for many query rows, inverting {@link #forwardBlocked}
     * with five matrix products per query head and block of {@link #BLOCKED_ROWS} rows:
     * <pre>
     *   P  = exp(scale * Q K^T + mask - lse)     the probabilities, recomputed
     *   dP = dO V^T
     *   dS = P * (dP - rowsum(dO * O)) * scale   the softmax backward, element by element
     *   dQ += dS K,  dK += dS^T Q,  dV += P^T dO
     * </pre>
     * P has the bits of the row path, because the scores do. Each task owns one key/value head
     * and adds the blocks of its query heads to dk and dv in a fixed order, so results do not
     * depend on the thread count.
     */
    private static void backwardBlocked(float[] q, int qOffset, float[] k, int kOffset, float[] v, int vOffset,
                                        float[] mask, int maskOffset, float[] out, int outOffset,
                                        float[] lse, int lseOffset, float[] dout, int doutOffset,
                                        float[] dq, int dqOffset, float[] dk, int dkOffset, float[] dv, int dvOffset,
                                        int b, int nh, int nkv, int tq, int tk, int hs, float scale) {
        int group = nh / nkv;
        Parallel.forRange(0, b * nkv, 1, (lo, hi) -> {
            float[] p = new float[Math.min(tq, BLOCKED_ROWS) * tk];
            float[] ds = new float[p.length];
            float[] row = new float[tk];
            for (int bkv = lo; bkv < hi; bkv++) {
                int bi = bkv / nkv;
                int kvBase = bkv * tk * hs;
                for (int h = (bkv % nkv) * group; h < (bkv % nkv + 1) * group; h++) {
                    for (int i0 = 0; i0 < tq; i0 += BLOCKED_ROWS) {
                        int rows = Math.min(BLOCKED_ROWS, tq - i0);
                        int keysMax = tk - tq + i0 + rows;
                        int first = (bi * nh + h) * tq + i0;
                        int qRow0 = qOffset + first * hs;
                        int doutRow0 = doutOffset + first * hs;

                        // scores S = scale * Q K^T and dP = dO V^T for the block, keysMax keys wide
                        Gemm.sgemm(false, true, rows, keysMax, hs, scale, q, qRow0, hs,
                                k, kOffset + kvBase, hs, 0f, p, 0, keysMax);
                        Gemm.sgemm(false, true, rows, keysMax, hs, 1f, dout, doutRow0, hs,
                                v, vOffset + kvBase, hs, 0f, ds, 0, keysMax);

                        // per row: P from the saved log-sum-exp, then dS; zeros past the causal limit
                        for (int r = 0; r < rows; r++) {
                            int i = i0 + r;
                            int so = r * keysMax;
                            float rowLse = lse[lseOffset + first + r];
                            if (rowLse == Float.NEGATIVE_INFINITY) {
                                // a fully masked row contributes nothing
                                Arrays.fill(p, so, so + keysMax, 0f);
                                Arrays.fill(ds, so, so + keysMax, 0f);
                                continue;
                            }
                            int keys = tk - tq + i + 1;
                            int mo = mask == null ? -1 : maskOffset + (bi * tq + i) * tk;
                            System.arraycopy(p, so, row, 0, keys);
                            maskAndMax(row, keys, mask, mo, true);
                            expShifted(row, keys, rowLse, true);
                            System.arraycopy(row, 0, p, so, keys);
                            float delta = Simd.dotVector(dout, doutRow0 + r * hs, out, outOffset + (first + r) * hs, hs);
                            for (int j = so; j < so + keys; j++) {
                                ds[j] = p[j] * (ds[j] - delta) * scale;
                            }
                            Arrays.fill(p, so + keys, so + keysMax, 0f);
                            Arrays.fill(ds, so + keys, so + keysMax, 0f);
                        }

                        // dQ += dS K, dK += dS^T Q, dV += P^T dO
                        Gemm.sgemm(false, false, rows, hs, keysMax, 1f, ds, 0, keysMax,
                                k, kOffset + kvBase, hs, 1f, dq, dqOffset + first * hs, hs);
                        Gemm.sgemm(true, false, keysMax, hs, rows, 1f, ds, 0, keysMax,
                                q, qRow0, hs, 1f, dk, dkOffset + kvBase, hs);
                        Gemm.sgemm(true, false, keysMax, hs, rows, 1f, p, 0, keysMax,
                                dout, doutRow0, hs, 1f, dv, dvOffset + kvBase, hs);
                    }
                }
            }
        });
    }

    /**
     * Checks the arguments common to forward and backward and returns the text of q's shape for
     * further messages. The shape texts are built only for a failure, so a decode step formats none.
     */
    private static Supplier<String> check(String op, float[] q, int qOffset, float[] k, int kOffset,
                                          float[] v, int vOffset, float[] mask, int maskOffset,
                                          float[] lse, int lseOffset, int b, int nh, int nkv, int tq, int tk,
                                          int capacity, boolean keysTransposed, int hs, float scale) {
        Supplier<String> qShape = () -> "[B=" + b + ", NH=" + nh + ", Tq=" + tq + ", HS=" + hs + "]";
        Supplier<String> kvShape = () -> capacity == tk && !keysTransposed
                ? "[B=" + b + ", NKV=" + nkv + ", Tk=" + tk + ", HS=" + hs + "]"
                : "[B=" + b + ", NKV=" + nkv + ", capacity=" + capacity + ", HS=" + hs + "] holding Tk=" + tk;
        Supplier<String> kShape = () -> keysTransposed
                ? "[B=" + b + ", NKV=" + nkv + ", HS=" + hs + ", capacity=" + capacity + "] holding Tk=" + tk
                : kvShape.get();
        Simd.checkPositive(op, () -> "q " + qShape.get() + ", k/v " + kvShape.get(), b, nh, nkv, tq, tk, hs);
        if (nh % nkv != 0) {
            throw new IllegalArgumentException(op + ": query heads NH=" + nh + " must be a multiple of key/value heads"
                    + " NKV=" + nkv + " (q " + qShape.get() + ", k/v " + kvShape.get() + ")");
        }
        if (tq > tk) {
            throw new IllegalArgumentException(op + ": more query steps than key steps (q " + qShape.get()
                    + ", k/v " + kvShape.get() + "); the queries must be the last Tq of the Tk key steps");
        }
        if (capacity < tk) {
            throw new IllegalArgumentException(op + ": KV cache capacity " + capacity + " is below the " + tk
                    + " key steps requested (k/v " + kvShape.get() + ")");
        }
        if (!Float.isFinite(scale)) {
            throw new IllegalArgumentException(op + ": scale must be finite, got " + scale);
        }
        Simd.checkRange(op, "q", q, qOffset, Simd.size(op, (long) b * nh * tq * hs), qShape);
        Simd.checkRange(op, "k", k, kOffset, Simd.size(op, (long) b * nkv * capacity * hs), kShape);
        Simd.checkRange(op, "v", v, vOffset, (long) b * nkv * capacity * hs, kvShape);
        Simd.checkRange(op, "lse", lse, lseOffset, (long) b * nh * tq, () -> "[B=" + b + ", NH=" + nh + ", Tq=" + tq + "]");
        if (mask != null) {
            Simd.checkRange(op, "mask", mask, maskOffset, Simd.size(op, (long) b * tq * tk),
                    () -> "[B=" + b + ", Tq=" + tq + ", Tk=" + tk + "]");
        }
        return qShape;
    }

    /** Writes {@code s[j] = scale * dot(a[ao..ao+hs), keys row j)} for {@code j < count}. */
    static void scoresScalar(float[] a, int ao, float[] keys, int ko, int count, int hs, float scale, float[] s) {
        for (int j = 0; j < count; j++) {
            s[j] = Simd.dotScalar(a, ao, keys, ko + j * hs, hs) * scale;
        }
    }

    /**
     * Maps a unit index to a query block so that contiguous ranges of units mix early (short)
     * and late (long) causal rows: 0, n-1, 1, n-2, ...
     */
    private static int balancedBlock(int index, int blocks) {
        return index % 2 == 0 ? index / 2 : blocks - 1 - index / 2;
    }

    /** Adds the mask row (when present) to {@code s[0..count)} and returns the maximum. */
    private static float maskAndMax(float[] s, int count, float[] mask, int mo, boolean simd) {
        if (mask != null) {
            for (int j = 0; j < count; j++) {
                s[j] += mask[mo + j];
            }
        }
        return simd ? Simd.maxVector(s, 0, count) : Simd.maxScalar(s, 0, count);
    }

    /** Replaces {@code s[j]} by {@code exp(s[j] - shift)} for {@code j < count} and returns their sum. */
    private static float expShifted(float[] s, int count, float shift, boolean simd) {
        int j = 0;
        float sum = 0f;
        if (simd) {
            // One exp per loop: each VectorMath.exp inlines about 25 lane-wise operations, and C2
            // gives up constant vector types, and with them store intrinsics, in a method that
            // inlines too many (see GemmKernel.microKernel).
            int len = SPECIES.length();
            int bound = SPECIES.loopBound(count);
            FloatVector vs = FloatVector.broadcast(SPECIES, shift);
            FloatVector acc = FloatVector.zero(SPECIES);
            for (; j < bound; j += len) {
                FloatVector e = VectorMath.exp(FloatVector.fromArray(SPECIES, s, j).sub(vs));
                e.intoArray(s, j);
                acc = acc.add(e);
            }
            sum = VectorMath.sumLanes(acc);
        }
        for (; j < count; j++) {
            float e = (float) Math.exp(s[j] - shift);
            s[j] = e;
            sum += e;
        }
        return sum;
    }

    /**
     * Computes {@code r = scale * sum_j w[j] * rows[j]} over {@code count} rows of length
     * {@code hs}, and stores it into {@code dst} or, with {@code accumulate}, adds it. On the
     * vector path each element sums the rows in order with one fused multiply-add each.
     */
    private static void weightedSum(float[] w, int count, float[] rows, int ro, int hs, float scale,
                                    float[] dst, int dstOffset, boolean accumulate, boolean simd) {
        int d = 0;
        if (simd) {
            int len = SPECIES.length();
            int bound = SPECIES.loopBound(hs);

            // four column chunks per pass over the rows, so that a head size of four vectors reads
            // each row as one run and the rows one after the other
            for (; d + 4 * len <= bound; d += 4 * len) {
                FloatVector acc0 = FloatVector.zero(SPECIES);
                FloatVector acc1 = FloatVector.zero(SPECIES);
                FloatVector acc2 = FloatVector.zero(SPECIES);
                FloatVector acc3 = FloatVector.zero(SPECIES);
                for (int j = 0; j < count; j++) {
                    FloatVector wj = FloatVector.broadcast(SPECIES, w[j]);
                    int r = ro + j * hs + d;
                    acc0 = FloatVector.fromArray(SPECIES, rows, r).fma(wj, acc0);
                    acc1 = FloatVector.fromArray(SPECIES, rows, r + len).fma(wj, acc1);
                    acc2 = FloatVector.fromArray(SPECIES, rows, r + 2 * len).fma(wj, acc2);
                    acc3 = FloatVector.fromArray(SPECIES, rows, r + 3 * len).fma(wj, acc3);
                }
                storeScaled(acc0, scale, dst, dstOffset + d, accumulate);
                storeScaled(acc1, scale, dst, dstOffset + d + len, accumulate);
                storeScaled(acc2, scale, dst, dstOffset + d + 2 * len, accumulate);
                storeScaled(acc3, scale, dst, dstOffset + d + 3 * len, accumulate);
            }
            for (; d < bound; d += len) {
                FloatVector acc = FloatVector.zero(SPECIES);
                for (int j = 0; j < count; j++) {
                    acc = FloatVector.fromArray(SPECIES, rows, ro + j * hs + d).fma(FloatVector.broadcast(SPECIES, w[j]), acc);
                }
                storeScaled(acc, scale, dst, dstOffset + d, accumulate);
            }
        }
        for (; d < hs; d++) {
            float acc = 0f;
            for (int j = 0; j < count; j++) {
                acc += w[j] * rows[ro + j * hs + d];
            }
            dst[dstOffset + d] = accumulate ? dst[dstOffset + d] + acc * scale : acc * scale;
        }
    }

    /** Stores {@code acc * scale} at {@code dst[offset]}, or adds it there with {@code accumulate}. */
    private static void storeScaled(FloatVector acc, float scale, float[] dst, int offset, boolean accumulate) {
        FloatVector r = acc.mul(scale);
        if (accumulate) {
            r = r.add(FloatVector.fromArray(SPECIES, dst, offset));
        }
        r.intoArray(dst, offset);
    }

    /**
     * Adds {@code sum_r w[r][j] * x[rows[r] .. rows[r]+hs)} to row j of {@code y} (rows of
     * length {@code hs} from {@code yo}) for {@code j < count}, over the {@value #ROW_BLOCK}
     * rows r. Each row of y is loaded and stored once for all rows r.
     */
    private static void blockUpdateVector(float[][] w, float[] x, int[] rows, float[] y, int yo, int count, int hs) {
        int len = SPECIES.length();
        int bound = SPECIES.loopBound(hs);
        float[] w0 = w[0];
        float[] w1 = w[1];
        float[] w2 = w[2];
        float[] w3 = w[3];
        int x0 = rows[0];
        int x1 = rows[1];
        int x2 = rows[2];
        int x3 = rows[3];
        for (int j = 0; j < count; j++) {
            FloatVector a0 = FloatVector.broadcast(SPECIES, w0[j]);
            FloatVector a1 = FloatVector.broadcast(SPECIES, w1[j]);
            FloatVector a2 = FloatVector.broadcast(SPECIES, w2[j]);
            FloatVector a3 = FloatVector.broadcast(SPECIES, w3[j]);
            int yj = yo + j * hs;
            int d = 0;
            for (; d < bound; d += len) {
                FloatVector acc = FloatVector.fromArray(SPECIES, y, yj + d);
                acc = FloatVector.fromArray(SPECIES, x, x0 + d).fma(a0, acc);
                acc = FloatVector.fromArray(SPECIES, x, x1 + d).fma(a1, acc);
                acc = FloatVector.fromArray(SPECIES, x, x2 + d).fma(a2, acc);
                acc = FloatVector.fromArray(SPECIES, x, x3 + d).fma(a3, acc);
                acc.intoArray(y, yj + d);
            }
            for (; d < hs; d++) {
                y[yj + d] += w0[j] * x[x0 + d] + w1[j] * x[x1 + d] + w2[j] * x[x2 + d] + w3[j] * x[x3 + d];
            }
        }
    }

    private static void blockUpdateScalar(float[][] w, float[] x, int[] rows, float[] y, int yo, int count, int hs) {
        for (int r = 0; r < ROW_BLOCK; r++) {
            for (int j = 0; j < count; j++) {
                float a = w[r][j];
                int yj = yo + j * hs;
                for (int d = 0; d < hs; d++) {
                    y[yj + d] += a * x[rows[r] + d];
                }
            }
        }
    }
}
