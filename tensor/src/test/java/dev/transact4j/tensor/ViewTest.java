package dev.transact4j.tensor;

import static dev.transact4j.tensor.TestSupport.values;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class ViewTest {

    @Test
    void broadcastShapeTable() {
        // a, b, expected (null: error)
        int[][][] cases = {
            {{2, 3}, {3}, {2, 3}},
            {{2, 3}, {2, 1}, {2, 3}},
            {{1}, {5, 4}, {5, 4}},
            {{}, {2, 2}, {2, 2}},
            {{8, 1, 6, 1}, {7, 1, 5}, {8, 7, 6, 5}},
            {{3, 1}, {1, 4}, {3, 4}},
            {{0, 3}, {1, 3}, {0, 3}},
            {{2, 3}, {4}, null},
            {{2, 1}, {8, 4, 3}, null},
            {{0}, {2}, null},
        };
        for (int[][] c : cases) {
            String what = Arrays.toString(c[0]) + " with " + Arrays.toString(c[1]);
            if (c[2] == null) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> Tensor.zeros(c[0]).add(Tensor.zeros(c[1])), what);
                assertEquals("add: shapes " + Arrays.toString(c[0]) + " and " + Arrays.toString(c[1])
                        + " cannot be broadcast", e.getMessage());
            } else {
                assertArrayEquals(c[2], Tensor.zeros(c[0]).add(Tensor.zeros(c[1])).shape(), what);
                assertArrayEquals(c[2], Tensor.zeros(c[1]).sub(Tensor.zeros(c[0])).shape(), what);
            }
        }
    }

    @Test
    void viewTable() {
        // view of a layout: source shape, how it is made, target shape, whether a view is possible
        Tensor base = Tensor.arange(2 * 3 * 4).view(2, 3, 4);
        Object[][] cases = {
            {base, new int[] {6, 4}, true},
            {base, new int[] {-1}, true},
            {base, new int[] {2, -1}, true},
            {base, new int[] {4, 3, 2}, true},
            {base.transpose(1, 2), new int[] {2, 12}, false},
            {base.transpose(1, 2), new int[] {2, 4, 3}, true},
            {base.transpose(0, 1), new int[] {3, 2, 2, 2}, true},
            {base.transpose(0, 1), new int[] {3, 8}, false},
            {base.transpose(0, 1), new int[] {6, 4}, false},
            {base.narrow(2, 1, 2), new int[] {6, 2}, true},
            {base.narrow(2, 1, 2), new int[] {12}, false},
            {base.narrow(1, 0, 2), new int[] {2, 8}, true},
            {base.narrow(1, 0, 2), new int[] {4, 4}, false},
            {base.select(1, 2).unsqueeze(1), new int[] {2, 1, 2, 2}, true},
            {Tensor.arange(4).view(1, 4).expand(3, 4), new int[] {3, 2, 2}, true},
            {Tensor.arange(4).view(1, 4).expand(3, 4), new int[] {12}, false},
        };
        for (Object[] c : cases) {
            Tensor src = (Tensor) c[0];
            int[] target = (int[]) c[1];
            boolean possible = (boolean) c[2];
            String what = Arrays.toString(src.shape()) + " strides " + Arrays.toString(src.strides()) + " to "
                    + Arrays.toString(target);
            double[] expected = values(src);
            if (possible) {
                Tensor v = src.view(target);
                assertSame(src.data(), v.data(), what + " shares storage");
                assertArrayEquals(expected, values(v), what);
            } else {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> src.view(target), what);
                assertTrue(e.getMessage().startsWith("view: shape "), e.getMessage());
                assertTrue(e.getMessage().contains("call contiguous() first"), e.getMessage());
                Tensor r = src.reshape(target);
                assertNotSame(src.data(), r.data(), what + " reshape copies");
                assertArrayEquals(expected, values(r), what);
            }
        }
    }

    @Test
    void viewErrorsNameShapes() {
        Tensor x = Tensor.zeros(2, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> x.view(4, 2));
        assertEquals("view: shape [4, 2] is invalid for a tensor of shape [2, 3] (6 elements)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> x.view(-1, -1));
        assertEquals("view: shape [-1, -1] has more than one -1", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> x.t().view(6));
        assertEquals("view: shape [6] is not compatible with a tensor of shape [3, 2] and strides [1, 3]; "
                + "call contiguous() first, or use reshape(), which copies when it must", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> x.transpose(0, 2));
        assertEquals("transpose: dim 2 is out of range for a tensor of rank 2 (valid: -2 to 1)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> x.narrow(1, 2, 2));
        assertEquals("narrow: range [2, 4) is out of bounds for dim 1 of size 3 in shape [2, 3]", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> x.expand(3, 3));
        assertEquals("expand: shape [2, 3] cannot be expanded to [3, 3]", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> x.permute(0, 0));
        assertEquals("permute: dim 0 appears twice in [0, 0]", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> x.get(2, 0));
        assertEquals("get: index [2, 0] is out of bounds for shape [2, 3]", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.of(new float[5], 2, 3));
        assertEquals("Tensor.of: shape [2, 3] needs 6 values, got 5", e.getMessage());
    }

    @Test
    void viewsShareStorageAndIndexCorrectly() {
        Tensor x = Tensor.arange(24).view(2, 3, 4);
        Tensor p = x.permute(2, 0, 1);
        assertArrayEquals(new int[] {4, 2, 3}, p.shape());
        assertEquals(x.get(1, 2, 3), p.get(3, 1, 2));
        assertFalse(p.isContiguous());

        Tensor s = x.slice(2, 1, -1);
        assertArrayEquals(new int[] {2, 3, 2}, s.shape());
        assertEquals(x.get(1, 1, 2), s.get(1, 1, 1));

        Tensor sel = x.select(1, -1);
        assertArrayEquals(new int[] {2, 4}, sel.shape());
        assertEquals(x.get(1, 2, 0), sel.get(1, 0));

        Tensor u = x.unsqueeze(-1);
        assertArrayEquals(new int[] {2, 3, 4, 1}, u.shape());
        assertArrayEquals(new int[] {2, 3, 4}, u.squeeze().shape());
        assertArrayEquals(new int[] {2, 3, 4}, u.squeeze(3).shape());
        assertSame(x, x.squeeze(0), "squeeze of a dim of size 2 returns the tensor itself, as PyTorch");

        Tensor e = x.select(2, 0).unsqueeze(2).expand(-1, -1, 5);
        assertArrayEquals(new int[] {2, 3, 5}, e.shape());
        assertEquals(0, e.strides()[2]);
        assertEquals(x.get(1, 2, 0), e.get(1, 2, 4));

        Tensor c = p.contiguous();
        assertTrue(c.isContiguous());
        assertArrayEquals(values(p), values(c));
        assertSame(x, x.contiguous());

        x.set(100f, 0, 0, 0);
        assertEquals(100f, p.get(0, 0, 0));
        assertEquals(100f, e.get(0, 0, 3));
    }

    @Test
    void creationFunctions() {
        assertArrayEquals(new float[] {0, 1, 2, 3}, Tensor.arange(4).toArray());
        assertArrayEquals(new float[] {1f, 1.5f, 2f, 2.5f}, Tensor.arange(1f, 3f, 0.5f).toArray());
        assertArrayEquals(new float[] {3f, 2f, 1f}, Tensor.arange(3f, 0f, -1f).toArray());
        assertArrayEquals(new float[] {7f, 7f}, Tensor.full(7f, 2).toArray());
        assertArrayEquals(new float[] {1f, 1f, 1f}, Tensor.ones(3, 1).toArray());
        assertEquals(2.5f, Tensor.scalar(2.5f).item());
        assertArrayEquals(new int[0], Tensor.scalar(2.5f).shape());
        float[] raw = {1, 2, 3, 4};
        Tensor copied = Tensor.of(raw, 2, 2);
        Tensor wrapped = Tensor.wrap(raw, 2, 2);
        raw[0] = 9;
        assertEquals(1f, copied.get(0, 0));
        assertEquals(9f, wrapped.get(0, 0));
        assertArrayEquals(new float[] {1, 2, 3, 4}, Tensor.of(new float[][] {{1, 2}, {3, 4}}).toArray());
    }
}
