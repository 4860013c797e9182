package dev.transact4j.tensor.fused;

import dev.transact4j.tensor.Parallel;
import dev.transact4j.tensor.VectorMath;
import java.util.Arrays;
import java.util.function.Supplier;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Softmax cross entropy over a vocabulary, fused with its gradient.
 *
 * <p>Dimensions: {@code N} rows (batch x time, flattened), {@code V} vocabulary size.
 *
 * <p>The loss is {@code sum over counted rows of (lse[r] - logits[r, target[r]])} divided by a
 * {@code normalizer}, where {@code lse[r] = log(sum_j exp(logits[r, j]))} and a row is counted
 * when its target differs from {@code ignoreIndex}. {@link #forwardMean} and {@link #backwardMean}
 * use the number of counted rows as the normalizer, which is PyTorch's
 * {@code F.cross_entropy(logits, targets, ignore_index=-100)}: with every row ignored the loss is
 * NaN (0 / 0) and the gradient is zero, as in PyTorch 1.13. A normalizer of 1 gives the sum
 * reduction, and a trainer that averages over the tokens of several micro-batches passes the
 * global token count.
 *
 * <p>Forward saves only {@code lse [N]}; backward recomputes the softmax from the logits and lse.
 */
public final class CrossEntropy {

    private static final VectorSpecies<Float> SPECIES = Simd.SPECIES;

    /** PyTorch's default {@code ignore_index}. */
    public static final int DEFAULT_IGNORE_INDEX = -100;

    private CrossEntropy() {
    }

    /** Returns how many of {@code targets [N]} differ from {@code ignoreIndex}. */
    public static int countTargets(int[] targets, int targetsOffset, int n, int ignoreIndex) {
        Simd.checkRange("CrossEntropy", "targets", targets, targetsOffset, n, "[N=" + n + "]");
        int count = 0;
        for (int r = 0; r < n; r++) {
            if (targets[targetsOffset + r] != ignoreIndex) {
                count++;
            }
        }
        return count;
    }

    /**
     * Computes the loss and the per-row log-sum-exp.
     *
     * <p>Shapes: logits {@code [N, V]}, targets {@code [N]}, lse {@code [N]} (written for every
     * row, ignored rows too).
     *
     * @param normalizer divisor of the summed loss. It must be positive, except that 0 is allowed
     *                   when no row is counted and then gives NaN, like PyTorch's mean
     * @return the loss, summed in double in row order
     * @throws IllegalArgumentException when a shape does not fit its array, a target lies
     *                                  outside {@code [0, V)} and is not {@code ignoreIndex}, or
     *                                  the normalizer is invalid
     */
    public static double forward(float[] logits, int logitsOffset, int[] targets, int targetsOffset,
                                 float[] lse, int lseOffset, int n, int v, int ignoreIndex, float normalizer) {
        return forward(logits, logitsOffset, targets, targetsOffset, lse, lseOffset, n, v, ignoreIndex,
                normalizer, Simd.ENABLED);
    }

    /**
     * Computes dlogits = (softmax(logits) - onehot(target)) * dloss / normalizer for counted rows.
     *
     * <p>Shapes: logits {@code [N, V]}, targets {@code [N]}, lse {@code [N]} from {@link #forward},
     * dlogits {@code [N, V]}. With {@code accumulate} the gradient is added to dlogits and ignored
     * rows are left as they are; without it dlogits is overwritten and ignored rows get zeros.
     * Without {@code accumulate}, dlogits may be the logits buffer itself at the same offset, so
     * the gradient replaces the logits in place and no second {@code [N, V]} buffer is needed.
     *
     * @throws IllegalArgumentException on a shape mismatch, an invalid target, or dlogits
     *                                  overlapping logits other than exactly in place without
     *                                  accumulation
     */
    public static void backward(float[] logits, int logitsOffset, int[] targets, int targetsOffset,
                                float[] lse, int lseOffset, float dloss, float[] dlogits, int dlogitsOffset,
                                int n, int v, int ignoreIndex, float normalizer, boolean accumulate) {
        backward(logits, logitsOffset, targets, targetsOffset, lse, lseOffset, dloss, dlogits, dlogitsOffset,
                n, v, ignoreIndex, normalizer, accumulate, Simd.ENABLED);
    }

    /** {@link #forward} with the number of counted rows as the normalizer (PyTorch's mean). */
    public static double forwardMean(float[] logits, int logitsOffset, int[] targets, int targetsOffset,
                                     float[] lse, int lseOffset, int n, int v, int ignoreIndex) {
        int count = countTargets(targets, targetsOffset, n, ignoreIndex);
        return forward(logits, logitsOffset, targets, targetsOffset, lse, lseOffset, n, v, ignoreIndex, count);
    }

    /** {@link #backward} with the number of counted rows as the normalizer (PyTorch's mean). */
    public static void backwardMean(float[] logits, int logitsOffset, int[] targets, int targetsOffset,
                                    float[] lse, int lseOffset, float dloss, float[] dlogits, int dlogitsOffset,
                                    int n, int v, int ignoreIndex, boolean accumulate) {
        int count = countTargets(targets, targetsOffset, n, ignoreIndex);
        backward(logits, logitsOffset, targets, targetsOffset, lse, lseOffset, dloss, dlogits, dlogitsOffset,
                n, v, ignoreIndex, count, accumulate);
    }

    static double forward(float[] logits, int logitsOffset, int[] targets, int targetsOffset,
                          float[] lse, int lseOffset, int n, int v, int ignoreIndex, float normalizer,
                          boolean simd) {
        int count = check(logits, logitsOffset, targets, targetsOffset, lse, lseOffset, n, v, ignoreIndex,
                normalizer);

        // per-row log-sum-exp, rows in parallel
        Parallel.forRange(0, n, Simd.grain(v), (lo, hi) -> {
            for (int r = lo; r < hi; r++) {
                int row = logitsOffset + r * v;
                lse[lseOffset + r] = simd ? logSumExpVector(logits, row, v) : logSumExpScalar(logits, row, v);
            }
        });

        // the loss sum in row order, so the result does not depend on the thread count
        double sum = 0.0;
        for (int r = 0; r < n; r++) {
            int t = targets[targetsOffset + r];
            if (t != ignoreIndex) {
                sum += (double) lse[lseOffset + r] - logits[logitsOffset + r * v + t];
            }
        }
        return sum / normalizer;
    }

    static void backward(float[] logits, int logitsOffset, int[] targets, int targetsOffset,
                         float[] lse, int lseOffset, float dloss, float[] dlogits, int dlogitsOffset,
                         int n, int v, int ignoreIndex, float normalizer, boolean accumulate, boolean simd) {
        check(logits, logitsOffset, targets, targetsOffset, lse, lseOffset, n, v, ignoreIndex, normalizer);
        Supplier<String> shape = () -> "[N=" + n + ", V=" + v + "]";
        Simd.checkRange("CrossEntropy.backward", "dlogits", dlogits, dlogitsOffset, (long) n * v, shape);
        if (dlogits == logits) {
            boolean inPlace = dlogitsOffset == logitsOffset;
            boolean disjoint = dlogitsOffset + (long) n * v <= logitsOffset
                    || logitsOffset + (long) n * v <= dlogitsOffset;
            if ((inPlace && accumulate) || (!inPlace && !disjoint)) {
                throw new IllegalArgumentException("CrossEntropy.backward: dlogits " + shape.get() + " at offset "
                        + dlogitsOffset + " overlaps logits at offset " + logitsOffset
                        + "; pass a separate buffer, or the same offset with accumulate=false to work in place");
            }
        }
        float g = dloss / normalizer;

        Parallel.forRange(0, n, Simd.grain(v), (lo, hi) -> {
            for (int r = lo; r < hi; r++) {
                int t = targets[targetsOffset + r];
                int in = logitsOffset + r * v;
                int out = dlogitsOffset + r * v;
                if (t == ignoreIndex) {
                    if (!accumulate) {
                        Arrays.fill(dlogits, out, out + v, 0f);
                    }
                    continue;
                }
                float m = lse[lseOffset + r];
                if (simd) {
                    softmaxGradVector(logits, in, m, g, dlogits, out, v, accumulate);
                } else {
                    softmaxGradScalar(logits, in, m, g, dlogits, out, v, accumulate);
                }
                // the one-hot term, also correct in place because the pass above wrote p * g over the logit
                dlogits[out + t] -= g;
            }
        });
    }

    private static int check(float[] logits, int logitsOffset, int[] targets, int targetsOffset,
                             float[] lse, int lseOffset, int n, int v, int ignoreIndex, float normalizer) {
        Supplier<String> shape = () -> "[N=" + n + ", V=" + v + "]";
        Simd.checkPositive("CrossEntropy", shape, n, v);
        Simd.checkRange("CrossEntropy", "logits", logits, logitsOffset, Simd.size("CrossEntropy", (long) n * v), shape);
        Simd.checkRange("CrossEntropy", "targets", targets, targetsOffset, n, "[N=" + n + "]");
        Simd.checkRange("CrossEntropy", "lse", lse, lseOffset, n, () -> "[N=" + n + "]");
        int count = 0;
        for (int r = 0; r < n; r++) {
            int t = targets[targetsOffset + r];
            if (t == ignoreIndex) {
                continue;
            }
            if (t < 0 || t >= v) {
                throw new IllegalArgumentException("CrossEntropy: target " + t + " of row " + r + " lies outside [0, "
                        + v + ") for logits " + shape.get() + " and is not the ignore index " + ignoreIndex);
            }
            count++;
        }
        if (!(normalizer > 0f && Float.isFinite(normalizer)) && !(normalizer == 0f && count == 0)) {
            throw new IllegalArgumentException("CrossEntropy: normalizer must be a positive finite number, got "
                    + normalizer + " with " + count + " counted rows of " + n);
        }
        return count;
    }

    static float logSumExpVector(float[] x, int off, int n) {
        float m = Simd.maxVector(x, off, n);
        if (m == Float.NEGATIVE_INFINITY) {
            return m;
        }
        int len = SPECIES.length();
        FloatVector vm = FloatVector.broadcast(SPECIES, m);
        FloatVector s0 = FloatVector.zero(SPECIES);
        FloatVector s1 = FloatVector.zero(SPECIES);
        int bound2 = n - n % (2 * len);
        int i = 0;
        for (; i < bound2; i += 2 * len) {
            s0 = s0.add(VectorMath.exp(FloatVector.fromArray(SPECIES, x, off + i).sub(vm)));
            s1 = s1.add(VectorMath.exp(FloatVector.fromArray(SPECIES, x, off + i + len).sub(vm)));
        }
        int bound = SPECIES.loopBound(n);
        for (; i < bound; i += len) {
            s0 = s0.add(VectorMath.exp(FloatVector.fromArray(SPECIES, x, off + i).sub(vm)));
        }
        float s = VectorMath.sumLanes(s0.add(s1));
        for (; i < n; i++) {
            s += (float) Math.exp(x[off + i] - m);
        }
        return m + (float) Math.log(s);
    }

    static float logSumExpScalar(float[] x, int off, int n) {
        float m = Simd.maxScalar(x, off, n);
        if (m == Float.NEGATIVE_INFINITY) {
            return m;
        }
        float s = 0f;
        for (int i = 0; i < n; i++) {
            s += (float) Math.exp(x[off + i] - m);
        }
        return m + (float) Math.log(s);
    }

    private static void softmaxGradVector(float[] x, int in, float lse, float g, float[] d, int out, int n,
                                          boolean accumulate) {
        int len = SPECIES.length();
        FloatVector vlse = FloatVector.broadcast(SPECIES, lse);
        int bound = SPECIES.loopBound(n);
        int i = 0;
        for (; i < bound; i += len) {
            FloatVector p = VectorMath.exp(FloatVector.fromArray(SPECIES, x, in + i).sub(vlse));
            FloatVector grad = p.mul(g);
            if (accumulate) {
                grad = grad.add(FloatVector.fromArray(SPECIES, d, out + i));
            }
            grad.intoArray(d, out + i);
        }
        for (; i < n; i++) {
            float grad = (float) Math.exp(x[in + i] - lse) * g;
            d[out + i] = accumulate ? d[out + i] + grad : grad;
        }
    }

    private static void softmaxGradScalar(float[] x, int in, float lse, float g, float[] d, int out, int n,
                                          boolean accumulate) {
        for (int i = 0; i < n; i++) {
            float grad = (float) Math.exp(x[in + i] - lse) * g;
            d[out + i] = accumulate ? d[out + i] + grad : grad;
        }
    }
}
