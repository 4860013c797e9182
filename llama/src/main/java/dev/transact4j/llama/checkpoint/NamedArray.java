package dev.transact4j.llama.checkpoint;

import java.util.Arrays;

/**
 * A float32 array in row-major order with its shape, as one entry of a state dict.
 *
 * @param data  the values, {@code product(shape)} of them
 * @param shape the dimensions, outermost first
 */
public record NamedArray(float[] data, int[] shape) {

    /**
     * Checks that {@code data} contains exactly {@code product(shape)} values.
     *
     * @throws IllegalArgumentException when a dimension is negative or the sizes differ
     */
    public NamedArray {
        if (data == null || shape == null) {
            throw new IllegalArgumentException("NamedArray: data and shape must not be null");
        }
        long count = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("NamedArray: negative dimension in shape " + Arrays.toString(shape));
            }
            count *= d;
        }
        if (count != data.length) {
            throw new IllegalArgumentException("NamedArray: shape " + Arrays.toString(shape) + " needs " + count
                    + " values but data has " + data.length);
        }
        shape = shape.clone();
    }

    /** Returns the shape as text, such as {@code [24, 16]}. */
    public String shapeText() {
        return Arrays.toString(shape);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof NamedArray that && Arrays.equals(shape, that.shape) && Arrays.equals(data, that.data);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(shape) + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return "NamedArray" + shapeText();
    }
}
