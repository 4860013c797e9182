package dev.transact4j.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Reduction kernels: sum, sum of squares, max and min over any set of dims, and max with its index
 * over one dim.
 *
 * <p>Dimension letters: {@code O} output elements (the kept dims), {@code K} reduced elements per
 * output; after merging adjacent dims that are contiguous, the kept dims end in an inner run of
 * {@code C} elements and the reduced dims in an inner run of {@code L} elements.
 *
 * <p>Three paths, chosen by layout: when the reduced run is unit-stride each output is a SIMD sum
 * over its runs; when instead the kept run is unit-stride, whole rows of outputs are accumulated
 * lane by lane (the gradient of a broadcast, summed over batch dims, takes this path); otherwise a
 * scalar loop visits every element. Work is split over outputs only, and each output sums its
 * elements in a fixed order, so results do not depend on the thread count.
 */
final class Reductions {

    private static final VectorSpecies<Float> S = Simd.SPECIES;
    private static final int PARALLEL_MIN = Elementwise.PARALLEL_MIN;
    private static final int COLUMN_BLOCK = 1024;

    private Reductions() {
    }

    /** Reductions that {@link #reduce} computes. */
    enum Kind {
        SUM(0f), SUM_SQUARES(0f), MAX(Float.NEGATIVE_INFINITY), MIN(Float.POSITIVE_INFINITY);

        final float identity;

        Kind(float identity) {
            this.identity = identity;
        }

        float combine(float acc, float x) {
            switch (this) {
                case SUM:
                    return acc + x;
                case SUM_SQUARES:
                    return acc + x * x;
                case MAX:
                    return Math.max(acc, x);
                case MIN:
                    return Math.min(acc, x);
                default:
                    throw new AssertionError(this);
            }
        }
    }

    /** Dims of one group (kept or reduced) after merging: sizes and strides, innermost last. */
    private static final class Group {
        final int[] sizes;
        final int[] strides;
        final int count;

        Group(int[] shape, int[] strides, boolean[] pick, boolean want) {
            int[] sz = new int[shape.length];
            int[] st = new int[shape.length];
            int m = 0;
            long total = 1;
            for (int d = 0; d < shape.length; d++) {
                if (pick[d] != want) {
                    continue;
                }
                total *= shape[d];
                if (shape[d] == 1) {
                    continue;
                }
                if (m > 0 && st[m - 1] == strides[d] * shape[d]) {
                    sz[m - 1] *= shape[d];
                    st[m - 1] = strides[d];
                } else {
                    sz[m] = shape[d];
                    st[m] = strides[d];
                    m++;
                }
            }
            if (m == 0) {
                this.sizes = new int[] {1};
                this.strides = new int[] {1};
            } else {
                this.sizes = java.util.Arrays.copyOf(sz, m);
                this.strides = java.util.Arrays.copyOf(st, m);
            }
            this.count = (int) total;
        }

        int inner() {
            return sizes[sizes.length - 1];
        }

        int innerStride() {
            return strides[strides.length - 1];
        }

        /** Returns the offset of the start of the {@code index}-th inner run. */
        int outerOffset(int index) {
            int off = 0;
            for (int d = sizes.length - 2; d >= 0; d--) {
                off += (index % sizes[d]) * strides[d];
                index /= sizes[d];
            }
            return off;
        }

        /** Returns the offset of the {@code index}-th element. */
        int offset(int index) {
            int off = 0;
            for (int d = sizes.length - 1; d >= 0; d--) {
                off += (index % sizes[d]) * strides[d];
                index /= sizes[d];
            }
            return off;
        }
    }

    /**
     * Reduces {@code x} over the dims flagged in {@code reduced} and returns a contiguous tensor
     * of the kept dims, in order (no size-1 dims kept in their place).
     */
    static Tensor reduce(Kind kind, Tensor x, boolean[] reduced) {
        Group kept = new Group(x.shape, x.strides, reduced, false);
        Group red = new Group(x.shape, x.strides, reduced, true);
        int[] outShape = keptShape(x.shape, reduced);
        float[] out = new float[kept.count];
        if (red.count == 0 || kept.count == 0) {
            java.util.Arrays.fill(out, kind.identity);
            return Tensor.wrap(out, outShape);
        }
        boolean simd = Simd.enabled();
        if (red.innerStride() == 1 && red.inner() > 1) {
            reduceRuns(kind, simd, x, kept, red, out);
        } else if (kept.innerStride() == 1 && kept.inner() > 1) {
            reduceColumns(kind, simd, x, kept, red, out);
        } else {
            reduceScalar(kind, x, kept, red, out);
        }
        return Tensor.wrap(out, outShape);
    }

    static int[] keptShape(int[] shape, boolean[] reduced) {
        int n = 0;
        for (boolean r : reduced) {
            n += r ? 0 : 1;
        }
        int[] out = new int[n];
        for (int d = 0, j = 0; d < shape.length; d++) {
            if (!reduced[d]) {
                out[j++] = shape[d];
            }
        }
        return out;
    }

    /** Each output: its reduced elements form unit-stride runs of L, each reduced by a SIMD loop. */
    private static void reduceRuns(Kind kind, boolean simd, Tensor x, Group kept, Group red, float[] out) {
        float[] data = x.data;
        int runLength = red.inner();
        int runs = red.count / runLength;
        int grain = Math.max(1, PARALLEL_MIN / red.count);
        Parallel.forRange(0, out.length, grain, (lo, hi) -> {
            for (int o = lo; o < hi; o++) {
                int base = x.offset + kept.offset(o);
                float acc = kind.identity;
                for (int r = 0; r < runs; r++) {
                    int at = base + red.outerOffset(r);
                    acc = kind == Kind.SUM || kind == Kind.SUM_SQUARES
                            ? acc + run(kind, simd, data, at, runLength)
                            : kind.combine(acc, run(kind, simd, data, at, runLength));
                }
                out[o] = acc;
            }
        });
    }

    /** Rows of C outputs with unit stride: accumulate whole rows, lane by lane, over the K elements. */
    private static void reduceColumns(Kind kind, boolean simd, Tensor x, Group kept, Group red, float[] out) {
        float[] data = x.data;
        int columns = kept.inner();
        int blocksPerRow = (columns + COLUMN_BLOCK - 1) / COLUMN_BLOCK;
        int rows = kept.count / columns;
        int tasks = rows * blocksPerRow;
        int grain = Math.max(1, PARALLEL_MIN / Math.max(1, Math.min(columns, COLUMN_BLOCK) * red.count));
        Parallel.forRange(0, tasks, grain, (lo, hi) -> {
            for (int t = lo; t < hi; t++) {
                int row = t / blocksPerRow;
                int start = (t % blocksPerRow) * COLUMN_BLOCK;
                int len = Math.min(COLUMN_BLOCK, columns - start);
                int outAt = row * columns + start;
                java.util.Arrays.fill(out, outAt, outAt + len, kind.identity);
                int base = x.offset + kept.outerOffset(row) + start;
                for (int k = 0; k < red.count; k++) {
                    accumulate(kind, simd, data, base + red.offset(k), out, outAt, len);
                }
            }
        });
    }

    /** Any layout: a scalar loop per output over all its elements, sums in double. */
    private static void reduceScalar(Kind kind, Tensor x, Group kept, Group red, float[] out) {
        float[] data = x.data;
        int grain = Math.max(1, PARALLEL_MIN / red.count);
        Parallel.forRange(0, out.length, grain, (lo, hi) -> {
            for (int o = lo; o < hi; o++) {
                int base = x.offset + kept.offset(o);
                if (kind == Kind.SUM || kind == Kind.SUM_SQUARES) {
                    double acc = 0;
                    for (int k = 0; k < red.count; k++) {
                        double v = data[base + red.offset(k)];
                        acc += kind == Kind.SUM ? v : v * v;
                    }
                    out[o] = (float) acc;
                } else {
                    float acc = kind.identity;
                    for (int k = 0; k < red.count; k++) {
                        acc = kind.combine(acc, data[base + red.offset(k)]);
                    }
                    out[o] = acc;
                }
            }
        });
    }

    /** Reduces the unit-stride run {@code x[xi, xi + n)}. */
    static float run(Kind kind, boolean simd, float[] x, int xi, int n) {
        if (!simd) {
            return runScalar(kind, x, xi, n);
        }
        switch (kind) {
            case SUM:
                return sum(x, xi, n);
            case SUM_SQUARES:
                return sumSquares(x, xi, n);
            case MAX:
                return max(x, xi, n);
            default:
                return runScalar(kind, x, xi, n);
        }
    }

    /** Scalar twin of the run kernels; sums in double. */
    static float runScalar(Kind kind, float[] x, int xi, int n) {
        if (kind == Kind.SUM || kind == Kind.SUM_SQUARES) {
            double acc = 0;
            for (int i = 0; i < n; i++) {
                double v = x[xi + i];
                acc += kind == Kind.SUM ? v : v * v;
            }
            return (float) acc;
        }
        float acc = kind.identity;
        for (int i = 0; i < n; i++) {
            acc = kind.combine(acc, x[xi + i]);
        }
        return acc;
    }

    /** Sums a unit-stride run with four independent vector accumulators. */
    static float sum(float[] x, int xi, int n) {
        int step = S.length();
        FloatVector a0 = FloatVector.zero(S);
        FloatVector a1 = FloatVector.zero(S);
        FloatVector a2 = FloatVector.zero(S);
        FloatVector a3 = FloatVector.zero(S);
        int i = 0;
        for (; i + 4 * step <= n; i += 4 * step) {
            a0 = a0.add(FloatVector.fromArray(S, x, xi + i));
            a1 = a1.add(FloatVector.fromArray(S, x, xi + i + step));
            a2 = a2.add(FloatVector.fromArray(S, x, xi + i + 2 * step));
            a3 = a3.add(FloatVector.fromArray(S, x, xi + i + 3 * step));
        }
        for (; i + step <= n; i += step) {
            a0 = a0.add(FloatVector.fromArray(S, x, xi + i));
        }
        float s = VectorMath.sumLanes(a0.add(a1).add(a2.add(a3)));
        for (; i < n; i++) {
            s += x[xi + i];
        }
        return s;
    }

    /** Sums the squares of a unit-stride run with four independent vector accumulators. */
    static float sumSquares(float[] x, int xi, int n) {
        int step = S.length();
        FloatVector a0 = FloatVector.zero(S);
        FloatVector a1 = FloatVector.zero(S);
        FloatVector a2 = FloatVector.zero(S);
        FloatVector a3 = FloatVector.zero(S);
        int i = 0;
        for (; i + 4 * step <= n; i += 4 * step) {
            FloatVector v0 = FloatVector.fromArray(S, x, xi + i);
            FloatVector v1 = FloatVector.fromArray(S, x, xi + i + step);
            FloatVector v2 = FloatVector.fromArray(S, x, xi + i + 2 * step);
            FloatVector v3 = FloatVector.fromArray(S, x, xi + i + 3 * step);
            a0 = v0.fma(v0, a0);
            a1 = v1.fma(v1, a1);
            a2 = v2.fma(v2, a2);
            a3 = v3.fma(v3, a3);
        }
        for (; i + step <= n; i += step) {
            FloatVector v = FloatVector.fromArray(S, x, xi + i);
            a0 = v.fma(v, a0);
        }
        float s = VectorMath.sumLanes(a0.add(a1).add(a2.add(a3)));
        for (; i < n; i++) {
            s += x[xi + i] * x[xi + i];
        }
        return s;
    }

    /** Returns the max of a unit-stride run (NaN when the run has one), with two vector accumulators. */
    static float max(float[] x, int xi, int n) {
        int step = S.length();
        FloatVector m0 = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        FloatVector m1 = m0;
        int i = 0;
        for (; i + 2 * step <= n; i += 2 * step) {
            m0 = m0.max(FloatVector.fromArray(S, x, xi + i));
            m1 = m1.max(FloatVector.fromArray(S, x, xi + i + step));
        }
        for (; i + step <= n; i += step) {
            m0 = m0.max(FloatVector.fromArray(S, x, xi + i));
        }
        float m = m0.max(m1).reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) {
            m = Math.max(m, x[xi + i]);
        }
        return m;
    }

    /** {@code acc[ai, ai + n) = combine(acc, x[xi, xi + n))}, lane by lane. */
    private static void accumulate(Kind kind, boolean simd, float[] x, int xi, float[] acc, int ai, int n) {
        int i = 0;
        if (simd) {
            int step = S.length();
            int bound = S.loopBound(n);
            for (; i < bound; i += step) {
                FloatVector v = FloatVector.fromArray(S, x, xi + i);
                FloatVector a = FloatVector.fromArray(S, acc, ai + i);
                switch (kind) {
                    case SUM:
                        a.add(v).intoArray(acc, ai + i);
                        break;
                    case SUM_SQUARES:
                        v.fma(v, a).intoArray(acc, ai + i);
                        break;
                    case MAX:
                        a.max(v).intoArray(acc, ai + i);
                        break;
                    default:
                        a.min(v).intoArray(acc, ai + i);
                        break;
                }
            }
        }
        for (; i < n; i++) {
            acc[ai + i] = kind.combine(acc[ai + i], x[xi + i]);
        }
    }

    /**
     * Returns the max over {@code dim} and the index of its first occurrence, as two contiguous
     * arrays over the other dims in order. A NaN counts as larger than every number, as in PyTorch.
     */
    static Object[] maxWithIndex(Tensor x, int dim) {
        boolean[] reduced = new boolean[x.shape.length];
        reduced[dim] = true;
        Group kept = new Group(x.shape, x.strides, reduced, false);
        int size = x.shape[dim];
        int stride = x.strides[dim];
        float[] values = new float[kept.count];
        int[] indices = new int[kept.count];
        float[] data = x.data;
        int grain = Math.max(1, PARALLEL_MIN / Math.max(1, size));
        Parallel.forRange(0, kept.count, grain, (lo, hi) -> {
            for (int o = lo; o < hi; o++) {
                int base = x.offset + kept.offset(o);
                float best = data[base];
                int bestIndex = 0;
                for (int i = 1; i < size && best == best; i++) {
                    float v = data[base + i * stride];
                    if (v > best || v != v) {
                        best = v;
                        bestIndex = i;
                    }
                }
                values[o] = best;
                indices[o] = bestIndex;
            }
        });
        return new Object[] {values, indices};
    }
}
