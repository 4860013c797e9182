package dev.transact4j.tensor;

import static dev.transact4j.tensor.TestSupport.assertClose;
import static dev.transact4j.tensor.TestSupport.make;
import static dev.transact4j.tensor.TestSupport.sameAtOneAndTwoThreads;
import static dev.transact4j.tensor.TestSupport.values;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.transact4j.tensor.TestSupport.Layout;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class SoftmaxTest {

    /** Reference softmax (or log-softmax) over the last dim, in double. */
    private static double[] reference(double[] x, int columns, boolean log) {
        double[] out = new double[x.length];
        for (int r = 0; r < x.length / columns; r++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < columns; c++) {
                max = Math.max(max, x[r * columns + c]);
            }
            double sum = 0;
            for (int c = 0; c < columns; c++) {
                sum += Math.exp(x[r * columns + c] - max);
            }
            for (int c = 0; c < columns; c++) {
                double z = x[r * columns + c] - max;
                out[r * columns + c] = log ? z - Math.log(sum) : Math.exp(z) / sum;
            }
        }
        return out;
    }

    @Test
    void softmaxAndLogSoftmaxMatchReference() {
        Rng rng = new Rng(31);
        for (int[] shape : TestSupport.shapes(rng, 8, 100_000)) {
            for (Layout layout : Layout.values()) {
                // scaled so that exp would overflow without the max subtraction
                Tensor x = make(rng, layout, shape).mul(40f);
                double[] xv = values(x);
                int columns = shape[shape.length - 1];
                String what = Arrays.toString(shape) + " " + layout;
                Tensor soft = sameAtOneAndTwoThreads(x::softmax, "softmax " + what);
                assertArrayEquals(shape, soft.shape());
                assertClose(reference(xv, columns, false), soft, 1e-6, 1e-5, "softmax " + what);
                Tensor logSoft = sameAtOneAndTwoThreads(x::logSoftmax, "logSoftmax " + what);
                assertClose(reference(xv, columns, true), logSoft, 1e-5, 1e-5, "logSoftmax " + what);
            }
        }
    }

    @Test
    void maskedRowsGiveZerosNotNaN() {
        float ninf = Float.NEGATIVE_INFINITY;
        for (int columns : new int[] {1, 3, 17, 33}) {
            float[] data = new float[2 * columns];
            Arrays.fill(data, 0, columns, ninf);
            for (int c = 0; c < columns; c++) {
                data[columns + c] = c % 2 == 0 ? ninf : c;
            }
            Tensor x = Tensor.of(data, 2, columns);
            double[] soft = values(x.softmax());
            double[] logSoft = values(x.logSoftmax());
            for (int c = 0; c < columns; c++) {
                assertEquals(0.0, soft[c], "all -inf row: softmax is 0");
                assertEquals(Double.NEGATIVE_INFINITY, logSoft[c], "all -inf row: logSoftmax is -inf");
                if (c % 2 == 0) {
                    assertEquals(0.0, soft[columns + c], "masked entry");
                    assertEquals(Double.NEGATIVE_INFINITY, logSoft[columns + c], "masked entry");
                }
            }
            if (columns > 1) {
                double rowSum = 0;
                for (int c = 0; c < columns; c++) {
                    rowSum += soft[columns + c];
                }
                assertEquals(1.0, rowSum, 1e-6);
            }
        }
    }

    @Test
    void rejectsZeroDimTensor() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tensor.scalar(1f).softmax());
        assertEquals("softmax: needs at least one dim, got a 0-d tensor", e.getMessage());
    }
}
