package dev.transact4j.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

/** Shared helpers of the tensor tests: element readers, layouts to test and tolerant comparisons. */
final class TestSupport {

    /** Sizes that are not multiples of any vector length, plus 1. */
    static final int[] SIZES = {1, 3, 15, 17, 33, 257};

    private TestSupport() {
    }

    /** Layouts in which an operand is presented to an op. */
    enum Layout { CONTIGUOUS, TRANSPOSED, NARROWED, EXPANDED }

    /** Returns the elements of {@code t} in row-major order, read one by one through {@link Tensor#get}. */
    static double[] values(Tensor t) {
        int n = t.numel();
        double[] out = new double[n];
        int[] coord = new int[t.dim()];
        for (int i = 0; i < n; i++) {
            out[i] = t.get(coord);
            Indexing.increment(coord, t.shape());
        }
        return out;
    }

    /** Returns the coordinates of the row-major position {@code flat} in {@code shape}. */
    static int[] coords(int flat, int[] shape) {
        int[] c = new int[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            c[d] = flat % shape[d];
            flat /= shape[d];
        }
        return c;
    }

    /** Returns the row-major position of {@code coord} in {@code shape}, broadcasting size-1 dims and missing leading dims. */
    static int broadcastIndex(int[] coord, int[] shape) {
        int lead = coord.length - shape.length;
        int flat = 0;
        for (int d = 0; d < shape.length; d++) {
            flat = flat * shape[d] + (shape[d] == 1 ? 0 : coord[d + lead]);
        }
        return flat;
    }

    /**
     * Returns a tensor of {@code shape} with random values, laid out as {@code layout}: a transposed
     * view of contiguous memory, a narrowed view of a wider tensor, or a size-1 dim expanded.
     */
    static Tensor make(Rng rng, Layout layout, int... shape) {
        int rank = shape.length;
        switch (layout) {
            case TRANSPOSED: {
                if (rank < 2) {
                    return Tensor.randn(rng, shape);
                }
                int[] swapped = shape.clone();
                swapped[rank - 1] = shape[rank - 2];
                swapped[rank - 2] = shape[rank - 1];
                return Tensor.randn(rng, swapped).transpose(-1, -2);
            }
            case NARROWED: {
                if (rank == 0) {
                    return Tensor.randn(rng, shape);
                }
                int[] wider = shape.clone();
                wider[rank - 1] += 3;
                return Tensor.randn(rng, wider).narrow(rank - 1, 2, shape[rank - 1]);
            }
            case EXPANDED: {
                if (rank == 0) {
                    return Tensor.randn(rng, shape);
                }
                int[] one = shape.clone();
                one[0] = 1;
                return Tensor.randn(rng, one).expand(shape);
            }
            default:
                return Tensor.randn(rng, shape);
        }
    }

    /** Returns random shapes of rank 1 to 3 from {@link #SIZES}, at most {@code maxElements} elements each. */
    static List<int[]> shapes(Rng rng, int count, int maxElements) {
        List<int[]> out = new ArrayList<>();
        for (int s : SIZES) {
            out.add(new int[] {s});
        }
        out.add(new int[] {257, 257});
        out.add(new int[] {3, 17, 257});
        while (out.size() < count + SIZES.length + 2) {
            int rank = 1 + rng.nextInt(3);
            int[] shape = new int[rank];
            long n = 1;
            for (int d = 0; d < rank; d++) {
                shape[d] = SIZES[rng.nextInt(SIZES.length)];
                n *= shape[d];
            }
            if (n <= maxElements) {
                out.add(shape);
            }
        }
        return out;
    }

    /** Asserts {@code |actual - expected| <= atol + rtol * |expected|} element by element (NaN matches NaN, inf matches inf). */
    static void assertClose(double[] expected, Tensor actual, double atol, double rtol, String what) {
        double[] got = values(actual);
        assertEquals(expected.length, got.length, what + ": element count");
        for (int i = 0; i < got.length; i++) {
            double e = expected[i];
            double g = got[i];
            if (Double.isNaN(e) || Double.isInfinite(e)) {
                if (Double.compare(e, g) != 0) {
                    fail(what + ": element " + i + " of shape " + Arrays.toString(actual.shape()) + " is " + g + ", expected " + e);
                }
                continue;
            }
            if (!(Math.abs(g - e) <= atol + rtol * Math.abs(e))) {
                fail(what + ": element " + i + " of shape " + Arrays.toString(actual.shape()) + " is " + g + ", expected " + e
                        + " (atol " + atol + ", rtol " + rtol + ")");
            }
        }
    }

    /** Runs {@code op} at 1 and at 2 threads, asserts both give bit-identical results, and returns the first. */
    static Tensor sameAtOneAndTwoThreads(Supplier<Tensor> op, String what) {
        int original = Parallel.threads();
        try {
            Parallel.setThreads(1);
            Tensor one = op.get();
            Parallel.setThreads(2);
            Tensor two = op.get();
            assertArrayEquals(Arrays.stream(one.shape()).toArray(), two.shape(), what + ": shape");
            float[] a = one.toArray();
            float[] b = two.toArray();
            for (int i = 0; i < a.length; i++) {
                if (Float.floatToIntBits(a[i]) != Float.floatToIntBits(b[i])) {
                    fail(what + ": element " + i + " is " + a[i] + " at 1 thread but " + b[i] + " at 2 threads");
                }
            }
            return one;
        } finally {
            Parallel.setThreads(original);
        }
    }
}
