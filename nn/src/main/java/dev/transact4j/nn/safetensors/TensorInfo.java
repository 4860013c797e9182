package dev.transact4j.nn.safetensors;

import java.util.Arrays;

/**
 * Header entry of one stored tensor: its name, element type, shape and byte range.
 *
 * <p>{@code begin} and {@code end} are the {@code data_offsets} of the header, relative to the start
 * of the data section that follows the header, with {@code end} exclusive.
 */
public record TensorInfo(String name, DType dtype, long[] shape, long begin, long end) {

    public TensorInfo {
        shape = shape.clone();
    }

    /** Returns the shape; the caller gets a copy. */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Returns the number of elements, the product of the shape (1 for a scalar). */
    public long numel() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /** Returns the number of bytes the data takes. */
    public long byteLength() {
        return end - begin;
    }

    /**
     * Returns the shape as ints, for tensors of this engine.
     *
     * @throws IllegalStateException when a dimension does not fit an int
     */
    public int[] intShape() {
        int[] out = new int[shape.length];
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] > Integer.MAX_VALUE) {
                throw new IllegalStateException("Tensor '" + name + "' has shape " + Arrays.toString(shape)
                        + ", whose dimension " + i + " does not fit an int");
            }
            out[i] = (int) shape[i];
        }
        return out;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof TensorInfo that && name.equals(that.name) && dtype == that.dtype
                && Arrays.equals(shape, that.shape) && begin == that.begin && end == that.end;
    }

    @Override
    public int hashCode() {
        return 31 * (31 * name.hashCode() + dtype.hashCode()) + Arrays.hashCode(shape) + Long.hashCode(begin);
    }

    @Override
    public String toString() {
        return name + " " + dtype + " " + Arrays.toString(shape) + " [" + begin + ", " + end + ")";
    }
}
