package dev.transact4j.tensor;

import java.util.Arrays;

/** Shape arithmetic shared by the tensor ops: element counts, strides, broadcasting, dim checks. */
final class Shapes {

    private Shapes() {
    }

    /** Returns the number of elements of {@code shape}, rejecting negative sizes and overflow. */
    static int numel(int[] shape) {
        long n = 1;
        for (int size : shape) {
            if (size < 0) {
                throw new IllegalArgumentException("shape " + str(shape) + " has a negative size");
            }
            n *= size;
            if (n > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("shape " + str(shape) + " has more than "
                        + Integer.MAX_VALUE + " elements, the limit of one float[] storage");
            }
        }
        return (int) n;
    }

    /** Returns the row-major strides of a contiguous tensor of {@code shape}. */
    static int[] contiguousStrides(int[] shape) {
        int[] strides = new int[shape.length];
        int stride = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            strides[d] = stride;
            stride *= Math.max(shape[d], 1);
        }
        return strides;
    }

    /**
     * Returns the shape that {@code a} and {@code b} broadcast to under the NumPy rule: align the
     * shapes at the right, and each pair of sizes must be equal or contain a 1.
     */
    static int[] broadcast(String op, int[] a, int[] b) {
        int rank = Math.max(a.length, b.length);
        int[] out = new int[rank];
        for (int i = 0; i < rank; i++) {
            int sa = i < rank - a.length ? 1 : a[i - (rank - a.length)];
            int sb = i < rank - b.length ? 1 : b[i - (rank - b.length)];
            if (sa != sb && sa != 1 && sb != 1) {
                throw new IllegalArgumentException(op + ": shapes " + str(a) + " and " + str(b) + " cannot be broadcast");
            }
            out[i] = sa == 1 ? sb : sa;
        }
        return out;
    }

    /** Returns the shape that all {@code shapes} broadcast to. */
    static int[] broadcast(String op, int[]... shapes) {
        int[] out = shapes[0];
        for (int i = 1; i < shapes.length; i++) {
            try {
                out = broadcast(op, out, shapes[i]);
            } catch (IllegalArgumentException e) {
                StringBuilder all = new StringBuilder();
                for (int[] s : shapes) {
                    all.append(all.length() == 0 ? "" : ", ").append(str(s));
                }
                throw new IllegalArgumentException(op + ": shapes " + all + " cannot be broadcast", e);
            }
        }
        return out;
    }

    /** Returns whether two shapes are equal. */
    static boolean same(int[] a, int[] b) {
        return Arrays.equals(a, b);
    }

    /**
     * Returns {@code dim} counted from the front, accepting negative dims counted from the back as
     * in PyTorch.
     */
    static int dim(String op, int dim, int rank) {
        if (rank == 0) {
            throw new IllegalArgumentException(op + ": dim " + dim + " is out of range for a 0-d tensor, which has no dims");
        }
        int d = dim < 0 ? dim + rank : dim;
        if (d < 0 || d >= rank) {
            throw new IllegalArgumentException(op + ": dim " + dim + " is out of range for a tensor of rank " + rank
                    + " (valid: " + (-rank) + " to " + (rank - 1) + ")");
        }
        return d;
    }

    /** Returns the set of dims as a sorted boolean mask, rejecting repeats. */
    static boolean[] dimMask(String op, int[] dims, int rank) {
        boolean[] mask = new boolean[rank];
        for (int dim : dims) {
            int d = dim(op, dim, rank);
            if (mask[d]) {
                throw new IllegalArgumentException(op + ": dim " + dim + " appears twice in " + Arrays.toString(dims));
            }
            mask[d] = true;
        }
        return mask;
    }

    /** Formats a shape as {@code [2, 3]}. */
    static String str(int[] shape) {
        return Arrays.toString(shape);
    }
}
