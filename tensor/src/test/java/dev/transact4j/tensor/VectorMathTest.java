package dev.transact4j.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.function.DoubleUnaryOperator;
import java.util.function.UnaryOperator;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

class VectorMathTest {

    private static final VectorSpecies<Float> S = Simd.SPECIES;

    /** Inputs: special values, the edges of each function's range, and a log-spaced sweep of both signs. */
    private static float[] inputs() {
        float[] special = {0f, -0f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MIN_VALUE,
            Float.MIN_NORMAL, 1e-39f, Float.MAX_VALUE, -Float.MAX_VALUE, 88.72f, 88.73f, -87.3f, -103.9f, -104.5f,
            0.2499f, 0.25f, 1f, -1f, 1.4142135f, 1.4142137f, 0.5f, 2f, 100f, -100f};
        int sweep = 20_000;
        int padded = special.length + 2 * sweep;
        float[] out = new float[padded + (S.length() - padded % S.length()) % S.length()];
        System.arraycopy(special, 0, out, 0, special.length);
        for (int i = 0; i < sweep; i++) {
            float v = (float) Math.pow(10, -40 + 80.0 * i / sweep);
            out[special.length + 2 * i] = v;
            out[special.length + 2 * i + 1] = -v;
        }
        for (int i = special.length + 2 * sweep; i < out.length; i++) {
            out[i] = i * 0.01f;
        }
        return out;
    }

    private static void check(String name, UnaryOperator<FloatVector> vector, java.util.function.Function<Float, Float> scalar,
                              DoubleUnaryOperator reference, double maxUlp) {
        float[] x = inputs();
        float[] v = new float[x.length];
        for (int i = 0; i < x.length; i += S.length()) {
            vector.apply(FloatVector.fromArray(S, x, i)).intoArray(v, i);
        }
        for (int i = 0; i < x.length; i++) {
            float s = scalar.apply(x[i]);
            if (Float.floatToIntBits(s) != Float.floatToIntBits(v[i])) {
                fail(name + "(" + x[i] + "): SIMD lane gives " + v[i] + ", scalar twin gives " + s);
            }
            double r = reference.applyAsDouble(x[i]);
            float expected = (float) r;
            if (Float.isNaN(expected) || Float.isInfinite(expected)) {
                assertEquals(expected, s, name + "(" + x[i] + ")");
                continue;
            }
            if (Math.abs(expected) < Float.MIN_NORMAL) {
                // subnormal results keep only an absolute accuracy
                assertEquals(expected, s, Float.MIN_NORMAL, name + "(" + x[i] + ")");
                continue;
            }
            double ulps = Math.abs(s - r) / Math.ulp(expected);
            if (ulps > maxUlp) {
                fail(name + "(" + x[i] + ") = " + s + ", reference " + r + ": " + ulps + " ulp off");
            }
        }
    }

    @Test
    void expLanesMatchScalarAndMath() {
        check("exp", VectorMath::exp, VectorMath::exp, Math::exp, 2);
    }

    @Test
    void logLanesMatchScalarAndMath() {
        check("log", VectorMath::log, VectorMath::log, Math::log, 2);
    }

    @Test
    void tanhLanesMatchScalarAndMath() {
        check("tanh", VectorMath::tanh, VectorMath::tanh, Math::tanh, 4);
    }

    @Test
    void sumLanesAddsInLaneOrder() {
        // magnitudes far apart, so another order of the adds gives other bits
        java.util.Random random = new java.util.Random(5);
        float[] f = new float[S.length()];
        double[] d = new double[DoubleVector.SPECIES_PREFERRED.length()];
        for (int trial = 0; trial < 1000; trial++) {
            float fs = 0f;
            for (int i = 0; i < f.length; i++) {
                f[i] = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(8)));
                fs += f[i];
            }
            double ds = 0;
            for (int i = 0; i < d.length; i++) {
                d[i] = random.nextGaussian() * Math.pow(10, random.nextInt(16));
                ds += d[i];
            }
            assertEquals(fs, VectorMath.sumLanes(FloatVector.fromArray(S, f, 0)), 0f, "float trial " + trial);
            assertEquals(ds, VectorMath.sumLanes(DoubleVector.fromArray(DoubleVector.SPECIES_PREFERRED, d, 0)), 0.0,
                    "double trial " + trial);
        }
    }
}
