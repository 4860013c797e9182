package dev.transact4j.tensor;

import java.util.Arrays;

/**
 * A contiguous int tensor of indices, for {@link Tensor#gather}, {@link Tensor#scatterAdd} and the
 * indices that {@link Tensor#max(int, boolean)} and {@link Tensor#argmax} return.
 */
public final class IndexTensor {

    private final int[] data;
    private final int[] shape;

    private IndexTensor(int[] data, int[] shape) {
        this.data = data;
        this.shape = shape;
    }

    /**
     * Wraps {@code data} (row-major, not copied) as an index tensor of {@code shape}.
     *
     * @throws IllegalArgumentException when the element count does not match the shape
     */
    public static IndexTensor of(int[] data, int... shape) {
        int[] s = shape.clone();
        int n = Shapes.numel(s);
        if (n != data.length) {
            throw new IllegalArgumentException("IndexTensor.of: shape " + Shapes.str(s) + " needs " + n
                    + " values, got " + data.length);
        }
        return new IndexTensor(data, s);
    }

    /** Returns a copy of the shape. */
    public int[] shape() {
        return shape.clone();
    }

    /** Returns the size of dim {@code dim} (negative counts from the back). */
    public int size(int dim) {
        return shape[Shapes.dim("IndexTensor.size", dim, shape.length)];
    }

    /** Returns the rank. */
    public int dim() {
        return shape.length;
    }

    /** Returns the number of elements. */
    public int numel() {
        return data.length;
    }

    /** Returns the backing row-major array itself, not a copy. */
    public int[] data() {
        return data;
    }

    /** Returns the element at {@code index}, one coordinate per dim. */
    public int get(int... index) {
        if (index.length != shape.length) {
            throw new IllegalArgumentException("IndexTensor.get: " + index.length + " coordinates for shape "
                    + Shapes.str(shape));
        }
        int flat = 0;
        for (int d = 0; d < shape.length; d++) {
            if (index[d] < 0 || index[d] >= shape[d]) {
                throw new IllegalArgumentException("IndexTensor.get: index " + Arrays.toString(index)
                        + " is out of bounds for shape " + Shapes.str(shape));
            }
            flat = flat * shape[d] + index[d];
        }
        return data[flat];
    }

    @Override
    public String toString() {
        return "IndexTensor(shape=" + Shapes.str(shape) + ", data=" + (data.length <= 20
                ? Arrays.toString(data) : Arrays.toString(Arrays.copyOf(data, 20)).replace("]", ", ...]")) + ")";
    }
}
