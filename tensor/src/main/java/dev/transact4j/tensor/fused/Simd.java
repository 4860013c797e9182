package dev.transact4j.tensor.fused;

import dev.transact4j.tensor.VectorMath;
import java.util.function.Supplier;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector species and the SIMD switch shared by the fused kernels, plus the row primitives
 * several of them need, each with its scalar twin.
 *
 * <p>The system property {@code transact4j.simd} selects the path at start-up: {@code false} runs
 * every kernel on its scalar twin, {@code true} (the default) on the Vector API.
 */
final class Simd {

    /** System property that turns the Vector API paths on ({@code true}, default) or off. */
    static final String PROPERTY = "transact4j.simd";

    static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;

    /** Whether the public kernel entry points take their vectorised path. */
    static final boolean ENABLED = parseEnabled(System.getProperty(PROPERTY));

    private Simd() {
    }

    static boolean parseEnabled(String value) {
        if (value == null || value.isBlank()) {
            return true;
        }
        String v = value.trim();
        if (v.equalsIgnoreCase("true")) {
            return true;
        }
        if (v.equalsIgnoreCase("false")) {
            return false;
        }
        throw new IllegalArgumentException("Invalid system property " + PROPERTY + "=" + value
                + ": expected true (Vector API kernels) or false (scalar kernels)");
    }

    /** Returns the maximum of {@code x[off .. off+n)}; {@code -Infinity} when {@code n == 0}. */
    static float maxVector(float[] x, int off, int n) {
        int len = SPECIES.length();
        int bound4 = n - n % (4 * len);
        FloatVector m0 = FloatVector.broadcast(SPECIES, Float.NEGATIVE_INFINITY);
        FloatVector m1 = m0;
        FloatVector m2 = m0;
        FloatVector m3 = m0;
        int i = 0;
        for (; i < bound4; i += 4 * len) {
            m0 = m0.max(FloatVector.fromArray(SPECIES, x, off + i));
            m1 = m1.max(FloatVector.fromArray(SPECIES, x, off + i + len));
            m2 = m2.max(FloatVector.fromArray(SPECIES, x, off + i + 2 * len));
            m3 = m3.max(FloatVector.fromArray(SPECIES, x, off + i + 3 * len));
        }
        int bound = SPECIES.loopBound(n);
        for (; i < bound; i += len) {
            m0 = m0.max(FloatVector.fromArray(SPECIES, x, off + i));
        }
        float m = m0.max(m1).max(m2.max(m3)).reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) {
            m = Math.max(m, x[off + i]);
        }
        return m;
    }

    static float maxScalar(float[] x, int off, int n) {
        float m = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            m = Math.max(m, x[off + i]);
        }
        return m;
    }

    /** Returns the dot product of {@code a[ao .. ao+n)} and {@code b[bo .. bo+n)}. */
    static float dotVector(float[] a, int ao, float[] b, int bo, int n) {
        int len = SPECIES.length();
        int bound2 = n - n % (2 * len);
        FloatVector s0 = FloatVector.zero(SPECIES);
        FloatVector s1 = FloatVector.zero(SPECIES);
        int i = 0;
        for (; i < bound2; i += 2 * len) {
            s0 = FloatVector.fromArray(SPECIES, a, ao + i).fma(FloatVector.fromArray(SPECIES, b, bo + i), s0);
            s1 = FloatVector.fromArray(SPECIES, a, ao + i + len)
                    .fma(FloatVector.fromArray(SPECIES, b, bo + i + len), s1);
        }
        int bound = SPECIES.loopBound(n);
        for (; i < bound; i += len) {
            s0 = FloatVector.fromArray(SPECIES, a, ao + i).fma(FloatVector.fromArray(SPECIES, b, bo + i), s0);
        }
        float s = VectorMath.sumLanes(s0.add(s1));
        for (; i < n; i++) {
            s += a[ao + i] * b[bo + i];
        }
        return s;
    }

    static float dotScalar(float[] a, int ao, float[] b, int bo, int n) {
        float s = 0f;
        for (int i = 0; i < n; i++) {
            s += a[ao + i] * b[bo + i];
        }
        return s;
    }

    /** Returns the number of elements in an array range, or throws when it overflows an int. */
    static int size(String op, long count) {
        if (count > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(op + ": " + count
                    + " elements exceed the largest Java array; split the batch into smaller calls");
        }
        return (int) count;
    }

    /**
     * Checks that {@code array[offset .. offset+count)} exists.
     *
     * @throws IllegalArgumentException naming the operation, the argument and the shape
     */
    static void checkRange(String op, String name, float[] array, int offset, long count, String shape) {
        if (array == null) {
            throw new IllegalArgumentException(op + ": " + name + " " + shape + " is null");
        }
        if (offset < 0 || offset + count > array.length) {
            throw new IllegalArgumentException(op + ": " + name + " " + shape + " needs " + count
                    + " floats from offset " + offset + " but the array has length " + array.length);
        }
    }

    /**
     * Checks as {@link #checkRange(String, String, float[], int, long, String)} does, building the
     * shape text only when the check fails, so that a kernel called per decode step formats no
     * strings.
     */
    static void checkRange(String op, String name, float[] array, int offset, long count, Supplier<String> shape) {
        if (array == null || offset < 0 || offset + count > array.length) {
            checkRange(op, name, array, offset, count, shape.get());
        }
    }

    static void checkRange(String op, String name, int[] array, int offset, long count, String shape) {
        if (array == null) {
            throw new IllegalArgumentException(op + ": " + name + " " + shape + " is null");
        }
        if (offset < 0 || offset + count > array.length) {
            throw new IllegalArgumentException(op + ": " + name + " " + shape + " needs " + count
                    + " ints from offset " + offset + " but the array has length " + array.length);
        }
    }

    /** Checks as {@link #checkPositive(String, String, int...)} does, building the dims text only on failure. */
    static void checkPositive(String op, Supplier<String> dims, int... values) {
        for (int value : values) {
            if (value < 1) {
                checkPositive(op, dims.get(), values);
            }
        }
    }

    static void checkPositive(String op, String dims, int... values) {
        for (int value : values) {
            if (value < 1) {
                throw new IllegalArgumentException(op + ": every dimension must be at least 1, got " + dims);
            }
        }
    }

    /** Returns the grain (rows per chunk) that gives each task roughly 16K elements of work. */
    static int grain(int rowLength) {
        return Math.max(1, 16384 / Math.max(1, rowLength));
    }
}
