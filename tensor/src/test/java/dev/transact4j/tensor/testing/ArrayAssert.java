package dev.transact4j.tensor.testing;

/**
 * Element-wise comparisons with explicit tolerances that name the first failing index.
 *
 * <p>An element passes when {@code |actual - expected| <= atol + rtol * |expected|}. Two NaNs
 * match, and two infinities of the same sign match.
 */
public final class ArrayAssert {

    private ArrayAssert() {
    }

    /** Asserts that float32 results match double reference values. */
    public static void assertClose(String what, double[] expected, float[] actual, double atol, double rtol) {
        if (expected.length != actual.length) {
            throw new AssertionError(what + ": expected " + expected.length + " elements, got " + actual.length);
        }
        for (int i = 0; i < expected.length; i++) {
            check(what, i, expected[i], actual[i], atol, rtol);
        }
    }

    /** Asserts that double results match double reference values. */
    public static void assertClose(String what, double[] expected, double[] actual, double atol, double rtol) {
        if (expected.length != actual.length) {
            throw new AssertionError(what + ": expected " + expected.length + " elements, got " + actual.length);
        }
        for (int i = 0; i < expected.length; i++) {
            check(what, i, expected[i], actual[i], atol, rtol);
        }
    }

    /** Asserts that two float32 arrays match within the tolerances. */
    public static void assertClose(String what, float[] expected, float[] actual, double atol, double rtol) {
        assertClose(what, toDouble(expected), actual, atol, rtol);
    }

    /** Asserts that two float32 arrays are bitwise identical, element by element. */
    public static void assertBitwiseEqual(String what, float[] expected, float[] actual) {
        if (expected.length != actual.length) {
            throw new AssertionError(what + ": expected " + expected.length + " elements, got " + actual.length);
        }
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
                throw new AssertionError(what + ": element " + i + " differs: " + expected[i] + " vs " + actual[i]);
            }
        }
    }

    /** Returns the values widened to double. */
    public static double[] toDouble(float[] values) {
        double[] out = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = values[i];
        }
        return out;
    }

    private static void check(String what, int index, double expected, double actual, double atol, double rtol) {
        if (Double.isNaN(expected) && Double.isNaN(actual)) {
            return;
        }
        if (Double.isInfinite(expected) && expected == actual) {
            return;
        }
        double error = Math.abs(actual - expected);
        double allowed = atol + rtol * Math.abs(expected);
        if (!(error <= allowed)) {
            throw new AssertionError(String.format("%s: element %d: expected %.9g, got %.9g, error %.3g > allowed %.3g",
                    what, index, expected, actual, error, allowed));
        }
    }
}
