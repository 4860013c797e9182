package dev.transact4j.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class TensorFormatTest {

    @Test
    void smallTensorsPrintEveryValue() {
        assertEquals("tensor(2.5000, shape=[])", Tensor.scalar(2.5f).toString());
        assertEquals("tensor([0.0000, 1.0000, 2.0000], shape=[3])", Tensor.arange(3).toString());
        assertEquals("tensor([[ 0.0000, -1.5000],\n        [    nan,    -inf]], shape=[2, 2])",
                Tensor.of(new float[] {0f, -1.5f, Float.NaN, Float.NEGATIVE_INFINITY}, 2, 2).toString());
        assertEquals("tensor([[[0.0000, 1.0000]],\n\n        [[2.0000, 3.0000]]], shape=[2, 1, 2])",
                Tensor.arange(4).view(2, 1, 2).toString());
    }

    @Test
    void viewsPrintTheirLogicalOrder() {
        assertEquals("tensor([[0.0000, 2.0000],\n        [1.0000, 3.0000]], shape=[2, 2])",
                Tensor.arange(4).view(2, 2).t().toString());
    }

    @Test
    void largeTensorsAreSummarised() {
        String s = Tensor.arange(2000).view(40, 50).toString();
        assertEquals("tensor([[   0.0000,    1.0000,    2.0000, ...,   47.0000,   48.0000,   49.0000],\n"
                + "        [  50.0000,   51.0000,   52.0000, ...,   97.0000,   98.0000,   99.0000],\n"
                + "        [ 100.0000,  101.0000,  102.0000, ...,  147.0000,  148.0000,  149.0000],\n"
                + "        ...,\n"
                + "        [1850.0000, 1851.0000, 1852.0000, ..., 1897.0000, 1898.0000, 1899.0000],\n"
                + "        [1900.0000, 1901.0000, 1902.0000, ..., 1947.0000, 1948.0000, 1949.0000],\n"
                + "        [1950.0000, 1951.0000, 1952.0000, ..., 1997.0000, 1998.0000, 1999.0000]], shape=[40, 50])", s);
    }
}
