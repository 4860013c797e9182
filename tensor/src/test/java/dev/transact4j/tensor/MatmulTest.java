package dev.transact4j.tensor;

import static dev.transact4j.tensor.TestSupport.assertClose;
import static dev.transact4j.tensor.TestSupport.broadcastIndex;
import static dev.transact4j.tensor.TestSupport.coords;
import static dev.transact4j.tensor.TestSupport.make;
import static dev.transact4j.tensor.TestSupport.sameAtOneAndTwoThreads;
import static dev.transact4j.tensor.TestSupport.values;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.transact4j.tensor.TestSupport.Layout;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class MatmulTest {

    /** Reference batched product in double; a and b are already at least 2-D. */
    private static double[] reference(Tensor a, Tensor b, int[] outShape) {
        int[] as = a.shape();
        int[] bs = b.shape();
        int m = as[as.length - 2];
        int k = as[as.length - 1];
        int n = bs[bs.length - 1];
        double[] av = values(a);
        double[] bv = values(b);
        int[] batchShape = Arrays.copyOf(outShape, outShape.length - 2);
        int[] aBatch = Arrays.copyOf(as, as.length - 2);
        int[] bBatch = Arrays.copyOf(bs, bs.length - 2);
        int batches = Shapes.numel(batchShape);
        double[] out = new double[batches * m * n];
        for (int t = 0; t < batches; t++) {
            int[] c = coords(t, batchShape);
            int ao = broadcastIndex(c, aBatch) * m * k;
            int bo = broadcastIndex(c, bBatch) * k * n;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int p = 0; p < k; p++) {
                        s += av[ao + i * k + p] * bv[bo + p * n + j];
                    }
                    out[(t * m + i) * n + j] = s;
                }
            }
        }
        return out;
    }

    @Test
    void batchedBroadcastOnEveryLayout() {
        Rng rng = new Rng(51);
        int[][][] cases = {
            {{17, 33}, {33, 15}, {17, 15}},
            {{1, 3}, {3, 1}, {1, 1}},
            {{3, 17, 33}, {33, 15}, {3, 17, 15}},
            {{17, 33}, {3, 33, 15}, {3, 17, 15}},
            {{2, 1, 15, 3}, {3, 3, 17}, {2, 3, 15, 17}},
            {{3, 15, 17}, {3, 17, 33}, {3, 15, 33}},
            {{257, 17}, {17, 33}, {257, 33}},
        };
        for (int[][] c : cases) {
            for (Layout la : Layout.values()) {
                for (Layout lb : Layout.values()) {
                    Tensor a = make(rng, la, c[0]);
                    Tensor b = make(rng, lb, c[1]);
                    String what = Arrays.toString(c[0]) + " " + la + " x " + Arrays.toString(c[1]) + " " + lb;
                    Tensor out = sameAtOneAndTwoThreads(() -> a.matmul(b), what);
                    assertArrayEquals(c[2], out.shape(), what);
                    assertClose(reference(a, b, c[2]), out, 1e-5, 1e-5, what);
                }
            }
        }
    }

    @Test
    void vectorOperandsLoseTheirDim() {
        Rng rng = new Rng(52);
        Tensor v = Tensor.randn(rng, 17);
        Tensor w = Tensor.randn(rng, 17);
        Tensor m = Tensor.randn(rng, 17, 3);
        Tensor batch = Tensor.randn(rng, 2, 5, 17);

        Tensor dot = v.matmul(w);
        assertEquals(0, dot.dim());
        assertClose(reference(v.view(1, 17), w.view(17, 1), new int[] {1, 1}), dot, 1e-5, 1e-5, "dot");

        Tensor vm = v.matmul(m);
        assertArrayEquals(new int[] {3}, vm.shape());
        assertClose(reference(v.view(1, 17), m, new int[] {1, 3}), vm, 1e-5, 1e-5, "vector x matrix");

        Tensor mv = batch.matmul(w);
        assertArrayEquals(new int[] {2, 5}, mv.shape());
        assertClose(reference(batch, w.view(17, 1), new int[] {2, 5, 1}), mv, 1e-5, 1e-5, "batch x vector");

        Tensor vb = v.matmul(batch.transpose(-1, -2));
        assertArrayEquals(new int[] {2, 5}, vb.shape());
    }

    @Test
    void attentionShapedTransposedViews() {
        // q @ k^T over [batch, heads, time, headSize] where q and k are views of one projection
        Rng rng = new Rng(53);
        Tensor qkv = Tensor.randn(rng, 2, 17, 3 * 4 * 15);
        Tensor q = qkv.narrow(2, 0, 60).view(2, 17, 4, 15).transpose(1, 2);
        Tensor k = qkv.narrow(2, 60, 60).view(2, 17, 4, 15).transpose(1, 2);
        Tensor scores = sameAtOneAndTwoThreads(() -> q.matmul(k.transpose(-1, -2)), "q k^T");
        assertArrayEquals(new int[] {2, 4, 17, 17}, scores.shape());
        assertClose(reference(q.contiguous(), k.transpose(-1, -2).contiguous(), new int[] {2, 4, 17, 17}),
                scores, 1e-5, 1e-5, "q k^T");
    }

    @Test
    void emptyInnerDimGivesZeros() {
        Tensor out = Tensor.zeros(3, 0).matmul(Tensor.zeros(0, 2));
        assertArrayEquals(new int[] {3, 2}, out.shape());
        assertArrayEquals(new float[6], out.toArray());
    }

    @Test
    void mismatchesNameShapes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Tensor.zeros(2, 3).matmul(Tensor.zeros(4, 5)));
        assertEquals("matmul: shapes [2, 3] and [4, 5] cannot be multiplied: inner dims 3 and 4 differ", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(2, 2, 3).matmul(Tensor.zeros(3, 3, 5)));
        assertEquals("matmul: shapes [2, 2, 3] and [3, 3, 5] cannot be broadcast: batch dims [2] and [3] are incompatible",
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.scalar(1f).matmul(Tensor.zeros(3)));
        assertEquals("matmul: shapes [] and [3] include a 0-d tensor; multiply by a scalar with mul instead", e.getMessage());
    }
}
