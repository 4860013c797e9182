package dev.transact4j.tensor;

import static dev.transact4j.tensor.TestSupport.assertClose;
import static dev.transact4j.tensor.TestSupport.coords;
import static dev.transact4j.tensor.TestSupport.make;
import static dev.transact4j.tensor.TestSupport.sameAtOneAndTwoThreads;
import static dev.transact4j.tensor.TestSupport.values;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.transact4j.tensor.TestSupport.Layout;
import org.junit.jupiter.api.Test;

class IndexingTest {

    @Test
    void indexSelectAlongEachDim() {
        Rng rng = new Rng(41);
        for (Layout layout : Layout.values()) {
            int[] shape = {17, 15, 33};
            Tensor x = make(rng, layout, shape);
            for (int dim = 0; dim < 3; dim++) {
                int[] index = new int[257];
                for (int i = 0; i < index.length; i++) {
                    index[i] = rng.nextInt(shape[dim]);
                }
                int d = dim;
                Tensor out = sameAtOneAndTwoThreads(() -> x.indexSelect(d, index), "indexSelect dim " + d);
                int[] outShape = shape.clone();
                outShape[d] = index.length;
                assertArrayEquals(outShape, out.shape());
                double[] expected = new double[Shapes.numel(outShape)];
                for (int i = 0; i < expected.length; i++) {
                    int[] c = coords(i, outShape);
                    c[d] = index[c[d]];
                    expected[i] = x.get(c);
                }
                assertClose(expected, out, 0, 0, "indexSelect " + layout + " dim " + d);
            }
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Tensor.zeros(4, 3).indexSelect(0, new int[] {1, 4}));
        assertEquals("indexSelect: index[1] = 4 is out of bounds for dim 0 of size 4 in shape [4, 3]", e.getMessage());
    }

    @Test
    void gatherAndScatterAddAreInverse() {
        Rng rng = new Rng(42);
        for (Layout layout : Layout.values()) {
            Tensor x = make(rng, layout, 15, 33);
            int[] idx = new int[15 * 17];
            for (int i = 0; i < idx.length; i++) {
                idx[i] = rng.nextInt(33);
            }
            IndexTensor index = IndexTensor.of(idx, 15, 17);
            Tensor g = x.gather(1, index);
            assertArrayEquals(new int[] {15, 17}, g.shape());
            double[] expected = new double[idx.length];
            for (int i = 0; i < idx.length; i++) {
                expected[i] = x.get(i / 17, idx[i]);
            }
            assertClose(expected, g, 0, 0, "gather " + layout);

            Tensor src = make(rng, layout, 15, 17);
            double[] sv = values(src);
            Tensor base = Tensor.ones(15, 33);
            Tensor scattered = base.scatterAdd(1, index, src);
            double[] want = new double[15 * 33];
            java.util.Arrays.fill(want, 1);
            for (int i = 0; i < idx.length; i++) {
                want[(i / 17) * 33 + idx[i]] += sv[i];
            }
            assertClose(want, scattered, 1e-6, 1e-6, "scatterAdd " + layout);
            assertClose(new double[15 * 33], base.sub(1f), 0, 0, "scatterAdd leaves its input unchanged");
        }
    }

    @Test
    void gatherAlongDimZeroAndErrors() {
        Tensor x = Tensor.arange(12).view(3, 4);
        Tensor g = x.gather(0, IndexTensor.of(new int[] {2, 0, 1, 2}, 1, 4));
        assertArrayEquals(new float[] {8, 1, 6, 11}, g.toArray());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> x.gather(1, IndexTensor.of(new int[] {0, 5, 0, 0}, 2, 2)));
        assertEquals("gather: index value 5 at [0, 1] is out of bounds for dim 1 of size 4 in shape [3, 4]", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> x.gather(1, IndexTensor.of(new int[5], 5, 1)));
        assertEquals("gather: index of shape [5, 1] does not fit input of shape [3, 4] (same rank, and no larger in every "
                + "dim but dim 1)", e.getMessage());
    }

    @Test
    void concatAndStack() {
        Rng rng = new Rng(43);
        Tensor a = make(rng, Layout.TRANSPOSED, 3, 17);
        Tensor b = make(rng, Layout.NARROWED, 3, 15);
        Tensor c = Tensor.concat(1, a, b, a);
        assertArrayEquals(new int[] {3, 49}, c.shape());
        for (int r = 0; r < 3; r++) {
            for (int k = 0; k < 49; k++) {
                float want = k < 17 ? a.get(r, k) : k < 32 ? b.get(r, k - 17) : a.get(r, k - 32);
                assertEquals(want, c.get(r, k));
            }
        }
        Tensor s = Tensor.stack(1, a, a.mul(2f));
        assertArrayEquals(new int[] {3, 2, 17}, s.shape());
        assertEquals(a.get(2, 5) * 2f, s.get(2, 1, 5));
        assertEquals(a.get(2, 5), s.get(2, 0, 5));
        Tensor s0 = Tensor.stack(-1, a, a);
        assertArrayEquals(new int[] {3, 17, 2}, s0.shape());

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tensor.concat(0, a, b));
        assertEquals("concat: shapes [3, 17] and [3, 15] differ outside dim 0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.stack(0, a, b));
        assertEquals("stack: shapes [3, 17] and [3, 15] differ; every tensor must have the same shape", e.getMessage());
    }

    @Test
    void triangularMasks() {
        Tensor x = Tensor.ones(2, 3, 4);
        for (int k = -3; k <= 4; k++) {
            Tensor upper = x.triu(k);
            Tensor lower = x.tril(k);
            for (int m = 0; m < 2; m++) {
                for (int r = 0; r < 3; r++) {
                    for (int c = 0; c < 4; c++) {
                        assertEquals(c - r >= k ? 1f : 0f, upper.get(m, r, c), "triu " + k);
                        assertEquals(c - r <= k ? 1f : 0f, lower.get(m, r, c), "tril " + k);
                    }
                }
            }
        }
        // the causal mask of attention: true strictly above the diagonal
        Tensor causal = Tensor.ones(4, 4).triu(1);
        Tensor scores = Tensor.zeros(4, 4).maskedFill(causal, Float.NEGATIVE_INFINITY).softmax();
        assertEquals(1f, scores.get(0, 0));
        assertEquals(0.25f, scores.get(3, 2));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tensor.ones(3).triu(0));
        assertEquals("triu: needs at least 2 dims, got shape [3]", e.getMessage());
    }
}
