package dev.transact4j.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector species every tensor kernel uses, and the switch between the SIMD kernels and their
 * scalar twins.
 *
 * <p>The system property {@code transact4j.simd=false} sends every kernel down its scalar path, so
 * any machine can run (and any test can check) the code without the Vector API. Element-wise
 * kernels give the same bits on both paths, since {@link VectorMath} computes exp, log and tanh
 * with the same float operations in lanes and in scalars. Reductions agree up to rounding, because
 * the SIMD path adds partial sums in a different order.
 */
public final class Simd {

    /** System property that turns the SIMD kernels off when set to {@code false}. */
    public static final String PROPERTY = "transact4j.simd";

    /** The widest float species this CPU supports; every kernel loops in steps of its length. */
    static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;

    private static volatile boolean enabled = !"false".equalsIgnoreCase(System.getProperty(PROPERTY, "true").trim());

    private Simd() {
    }

    /**
     * Parses a value of {@link #PROPERTY}: null, blank or {@code true} (any case, trimmed) select the
     * Vector API kernels, {@code false} their scalar twins.
     *
     * @throws IllegalArgumentException for any other value, naming the property and the choices
     */
    public static boolean parseProperty(String value) {
        if (value == null || value.isBlank() || value.trim().equalsIgnoreCase("true")) {
            return true;
        }
        if (value.trim().equalsIgnoreCase("false")) {
            return false;
        }
        throw new IllegalArgumentException("Invalid system property " + PROPERTY + "=" + value
                + ": expected true (Vector API kernels) or false (scalar kernels)");
    }

    /** Returns whether kernels take their SIMD path. */
    public static boolean enabled() {
        return enabled;
    }

    /** Switches every kernel to its SIMD path ({@code true}) or its scalar twin; for tests. */
    static void setEnabled(boolean value) {
        enabled = value;
    }
}
