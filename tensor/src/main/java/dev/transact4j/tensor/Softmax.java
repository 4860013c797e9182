package dev.transact4j.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Softmax and log-softmax over the last dim, row by row.
 *
 * <p>Dimension letters: {@code R} rows (every dim but the last), {@code C} columns (the last dim).
 * Each row subtracts its max before exponentiating, so no exp overflows. A row whose entries are
 * all {@code -inf} (every position masked) has no defined distribution: softmax returns zeros for
 * it and log-softmax returns {@code -inf} everywhere (the log of those zeros), never NaN. A row
 * containing NaN or {@code +inf} gives NaN, as in PyTorch. Rows are independent, so splitting them
 * over threads does not change any value.
 */
final class Softmax {

    private static final VectorSpecies<Float> S = Simd.SPECIES;

    private Softmax() {
    }

    /**
     * Writes softmax (or log-softmax when {@code log}) of the rows of contiguous {@code x} into
     * contiguous {@code out}; both hold {@code rows x columns} elements from their offsets.
     */
    static void rows(boolean log, float[] x, int xOffset, float[] out, int outOffset, int rows, int columns) {
        if (columns == 0) {
            return;
        }
        boolean simd = Simd.enabled();
        int grain = Math.max(1, Elementwise.PARALLEL_MIN / columns);
        Parallel.forRange(0, rows, grain, (lo, hi) -> {
            for (int r = lo; r < hi; r++) {
                int xi = xOffset + r * columns;
                int oi = outOffset + r * columns;
                if (simd) {
                    rowVector(log, x, xi, out, oi, columns);
                } else {
                    rowScalar(log, x, xi, out, oi, columns);
                }
            }
        });
    }

    /** SIMD kernel for one row of C elements. */
    static void rowVector(boolean log, float[] x, int xi, float[] out, int oi, int n) {
        int step = S.length();
        int bound = S.loopBound(n);

        // 1. row max, for stability
        float max = Reductions.max(x, xi, n);
        if (max == Float.NEGATIVE_INFINITY) {
            java.util.Arrays.fill(out, oi, oi + n, log ? Float.NEGATIVE_INFINITY : 0f);
            return;
        }

        // 2. out = exp(x - max), and its sum
        FloatVector vmax = FloatVector.broadcast(S, max);
        FloatVector acc = FloatVector.zero(S);
        int i = 0;
        for (; i < bound; i += step) {
            FloatVector e = VectorMath.exp(FloatVector.fromArray(S, x, xi + i).sub(vmax));
            e.intoArray(out, oi + i);
            acc = acc.add(e);
        }
        float sum = VectorMath.sumLanes(acc);
        for (; i < n; i++) {
            float e = VectorMath.exp(x[xi + i] - max);
            out[oi + i] = e;
            sum += e;
        }

        // 3. normalise: out = e / sum, or log form out = x - max - log(sum)
        i = 0;
        if (log) {
            FloatVector shift = FloatVector.broadcast(S, max + (float) Math.log(sum));
            for (; i < bound; i += step) {
                FloatVector.fromArray(S, x, xi + i).sub(shift).intoArray(out, oi + i);
            }
            float s = max + (float) Math.log(sum);
            for (; i < n; i++) {
                out[oi + i] = x[xi + i] - s;
            }
        } else {
            float inv = 1f / sum;
            for (; i < bound; i += step) {
                FloatVector.fromArray(S, out, oi + i).mul(inv).intoArray(out, oi + i);
            }
            for (; i < n; i++) {
                out[oi + i] *= inv;
            }
        }
    }

    /** Scalar twin of {@link #rowVector}; sums in double. */
    static void rowScalar(boolean log, float[] x, int xi, float[] out, int oi, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, x[xi + i]);
        }
        if (max == Float.NEGATIVE_INFINITY) {
            java.util.Arrays.fill(out, oi, oi + n, log ? Float.NEGATIVE_INFINITY : 0f);
            return;
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float e = VectorMath.exp(x[xi + i] - max);
            out[oi + i] = e;
            sum += e;
        }
        if (log) {
            float s = max + (float) Math.log(sum);
            for (int i = 0; i < n; i++) {
                out[oi + i] = x[xi + i] - s;
            }
        } else {
            float inv = (float) (1.0 / sum);
            for (int i = 0; i < n; i++) {
                out[oi + i] *= inv;
            }
        }
    }
}
