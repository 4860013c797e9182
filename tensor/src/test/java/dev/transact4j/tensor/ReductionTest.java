package dev.transact4j.tensor;

import static dev.transact4j.tensor.TestSupport.assertClose;
import static dev.transact4j.tensor.TestSupport.coords;
import static dev.transact4j.tensor.TestSupport.make;
import static dev.transact4j.tensor.TestSupport.sameAtOneAndTwoThreads;
import static dev.transact4j.tensor.TestSupport.values;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.transact4j.tensor.TestSupport.Layout;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class ReductionTest {

    private enum Ref { SUM, MEAN, MAX, MIN, NORM }

    /** Reference reduction in double: groups elements by their kept coordinates. */
    private static double[] reference(Ref kind, double[] x, int[] shape, boolean[] reduced) {
        int[] kept = Reductions.keptShape(shape, reduced);
        int outCount = Shapes.numel(kept);
        double[] acc = new double[outCount];
        int[] count = new int[outCount];
        if (kind == Ref.MAX) {
            Arrays.fill(acc, Double.NEGATIVE_INFINITY);
        } else if (kind == Ref.MIN) {
            Arrays.fill(acc, Double.POSITIVE_INFINITY);
        }
        for (int i = 0; i < x.length; i++) {
            int[] c = coords(i, shape);
            int o = 0;
            for (int d = 0; d < shape.length; d++) {
                if (!reduced[d]) {
                    o = o * shape[d] + c[d];
                }
            }
            switch (kind) {
                case MAX -> acc[o] = Math.max(acc[o], x[i]);
                case MIN -> acc[o] = Math.min(acc[o], x[i]);
                case NORM -> acc[o] += x[i] * x[i];
                default -> acc[o] += x[i];
            }
            count[o]++;
        }
        for (int o = 0; o < outCount; o++) {
            if (kind == Ref.MEAN) {
                acc[o] /= count[o];
            } else if (kind == Ref.NORM) {
                acc[o] = Math.sqrt(acc[o]);
            }
        }
        return acc;
    }

    /** Every non-empty subset of the dims of a rank-3 tensor, plus negative dims. */
    private static final int[][] DIM_SETS = {{0}, {1}, {2}, {0, 1}, {0, 2}, {1, 2}, {0, 1, 2}, {-1}, {-2, 0}};

    @Test
    void reductionsOverDimSetsMatchReference() {
        Rng rng = new Rng(21);
        int[][] shapes = {{3, 17, 33}, {15, 1, 257}, {257, 3, 17}, {1, 1, 1}, {33, 257, 3}, {17, 33, 257}};
        for (int[] shape : shapes) {
            for (Layout layout : Layout.values()) {
                Tensor x = make(rng, layout, shape);
                double[] xv = values(x);
                for (int[] dims : DIM_SETS) {
                    boolean[] mask = Shapes.dimMask("test", dims, 3);
                    for (boolean keepdim : new boolean[] {false, true}) {
                        String what = Arrays.toString(shape) + " " + layout + " dims " + Arrays.toString(dims)
                                + " keepdim " + keepdim;
                        int[] expectedShape = keepdim ? keep(shape, mask) : Reductions.keptShape(shape, mask);
                        double scale = Math.sqrt(x.numel());

                        Tensor sum = sameAtOneAndTwoThreads(() -> x.sum(dims, keepdim), "sum " + what);
                        assertArrayEquals(expectedShape, sum.shape(), "sum " + what);
                        assertClose(reference(Ref.SUM, xv, shape, mask), sum, 1e-5 * scale, 1e-5, "sum " + what);

                        Tensor mean = sameAtOneAndTwoThreads(() -> x.mean(dims, keepdim), "mean " + what);
                        assertClose(reference(Ref.MEAN, xv, shape, mask), mean, 1e-5, 1e-5, "mean " + what);

                        Tensor max = sameAtOneAndTwoThreads(() -> x.amax(dims, keepdim), "amax " + what);
                        assertClose(reference(Ref.MAX, xv, shape, mask), max, 0, 0, "amax " + what);

                        Tensor norm = sameAtOneAndTwoThreads(() -> x.norm(dims, keepdim), "norm " + what);
                        assertClose(reference(Ref.NORM, xv, shape, mask), norm, 1e-6, 1e-5, "norm " + what);
                    }
                }
            }
        }
    }

    @Test
    void fullReductionsReturnScalars() {
        Rng rng = new Rng(22);
        for (int[] shape : TestSupport.shapes(rng, 5, 100_000)) {
            Tensor x = make(rng, Layout.NARROWED, shape);
            double[] xv = values(x);
            boolean[] all = new boolean[shape.length];
            Arrays.fill(all, true);
            String what = Arrays.toString(shape);
            assertEquals(0, x.sum().dim());
            assertClose(reference(Ref.SUM, xv, shape, all), x.sum(), 1e-5 * Math.sqrt(xv.length), 1e-5, "sum " + what);
            assertClose(reference(Ref.MEAN, xv, shape, all), x.mean(), 1e-5, 1e-5, "mean " + what);
            assertClose(reference(Ref.MAX, xv, shape, all), x.max(), 0, 0, "max " + what);
            assertClose(reference(Ref.MIN, xv, shape, all), x.min(), 0, 0, "min " + what);
            assertClose(reference(Ref.NORM, xv, shape, all), x.norm(), 1e-6, 1e-5, "norm " + what);
        }
    }

    @Test
    void maxWithIndicesAlongEachDim() {
        Rng rng = new Rng(23);
        for (Layout layout : Layout.values()) {
            int[] shape = {15, 17, 33};
            Tensor x = make(rng, layout, shape);
            for (int dim = 0; dim < 3; dim++) {
                int d = dim;
                Tensor.MaxResult result = x.max(d, false);
                IndexTensor arg = x.argmax(d, true);
                int[] kept = Reductions.keptShape(shape, Shapes.dimMask("test", new int[] {d}, 3));
                assertArrayEquals(kept, result.values().shape());
                assertArrayEquals(kept, result.indices().shape());
                int[] keptDims = keep(shape, Shapes.dimMask("test", new int[] {d}, 3));
                assertArrayEquals(keptDims, arg.shape());
                for (int o = 0; o < Shapes.numel(kept); o++) {
                    int[] c = coords(o, kept);
                    int[] full = new int[3];
                    for (int k = 0, j = 0; k < 3; k++) {
                        full[k] = k == d ? 0 : c[j++];
                    }
                    float best = Float.NEGATIVE_INFINITY;
                    int bestIndex = -1;
                    for (int i = 0; i < shape[d]; i++) {
                        full[d] = i;
                        if (x.get(full) > best) {
                            best = x.get(full);
                            bestIndex = i;
                        }
                    }
                    assertEquals(best, result.values().get(c), "max value " + layout + " dim " + d);
                    assertEquals(bestIndex, result.indices().get(c), "max index " + layout + " dim " + d);
                    assertEquals(bestIndex, arg.data()[o], "argmax " + layout + " dim " + d);
                }
            }
        }
    }

    @Test
    void maxTiesAndNaN() {
        Tensor x = Tensor.of(new float[] {1, 3, 3, Float.NaN, 2, 0}, 2, 3);
        Tensor.MaxResult r = x.max(1, false);
        assertEquals(3f, r.values().get(0));
        assertEquals(1, r.indices().get(0), "first of two equal maxima");
        assertTrue(Float.isNaN(r.values().get(1)));
        assertEquals(0, r.indices().get(1), "NaN counts as the max");
        assertTrue(Float.isNaN(x.max().item()));
        assertTrue(Float.isNaN(x.amax(new int[] {0}, false).get(0)));
    }

    @Test
    void badDimsAreNamed() {
        Tensor x = Tensor.zeros(2, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> x.sum(2, false));
        assertEquals("sum: dim 2 is out of range for a tensor of rank 2 (valid: -2 to 1)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> x.mean(new int[] {1, -1}, true));
        assertEquals("mean: dim -1 appears twice in [1, -1]", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(0, 3).max(0, false));
        assertEquals("max: dim 0 of shape [0, 3] is empty", e.getMessage());
        assertEquals(0f, Tensor.zeros(0, 3).sum().item());
    }

    private static int[] keep(int[] shape, boolean[] mask) {
        int[] s = shape.clone();
        for (int d = 0; d < s.length; d++) {
            if (mask[d]) {
                s[d] = 1;
            }
        }
        return s;
    }
}
