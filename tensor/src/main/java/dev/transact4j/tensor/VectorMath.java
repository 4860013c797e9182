package dev.transact4j.tensor;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * exp, log and tanh on float lanes from adds, multiplies and fused multiply-adds only, each with a
 * scalar twin that performs the same IEEE operations in the same order.
 *
 * <p>The Vector API's own {@code EXP}, {@code LOG} and {@code TANH} give different last bits when
 * the JIT has intrinsified them and when it has not, so a result would depend on how warm the JVM
 * is. These functions give the same bits in every case, in SIMD lanes and in scalar tails, on
 * every machine. Accuracy: within a few ulp of the correctly rounded result over the whole float
 * range (the tests compare against double-precision {@link Math}); results below the smallest
 * normal float are subnormal or zero.
 *
 * <p>{@link #sumLanes} likewise adds lanes in a fixed order, which {@code reduceLanes(ADD)} does not
 * promise once compiled. Kernels in other packages use these functions for the same reason.
 */
public final class VectorMath {

    private static final VectorSpecies<Float> S = Simd.SPECIES;

    // exp: x = n ln2 + r with |r| <= ln2 / 2, exp(x) = 2^n * exp(r)
    private static final float EXP_LOW = -104f;        // exp(-104) rounds to 0 in float
    private static final float EXP_HIGH = 89f;         // exp(89) overflows to +inf in float
    private static final float LOG2E = 1.44269504f;
    private static final float ROUND = 12582912f;      // 1.5 * 2^23: adding it rounds to an integer
    private static final int ROUND_BITS = Float.floatToRawIntBits(ROUND);
    private static final float LN2_HIGH = 0.693145751953125f;     // ln 2, first 16 bits, so n * LN2_HIGH is exact
    private static final float LN2_LOW = 1.42860677e-6f;          // ln 2 - LN2_HIGH
    // exp(r) ~ sum r^k / k! for k <= 7; the first dropped term is below 6e-9 for |r| <= ln2 / 2
    private static final float E2 = 1f / 2;
    private static final float E3 = 1f / 6;
    private static final float E4 = 1f / 24;
    private static final float E5 = 1f / 120;
    private static final float E6 = 1f / 720;
    private static final float E7 = 1f / 5040;

    // log: x = m 2^e with m in [sqrt(1/2), sqrt(2)), log m = 2 atanh(s), s = (m - 1) / (m + 1), |s| <= 0.1716
    private static final float SQRT2 = 1.41421356f;
    private static final float LN2 = 0.693147181f;
    private static final float TWO_POW_23 = 8388608f;

    // tanh: for |x| < 1/4 the series x - x^3/3 + 2x^5/15 - 17x^7/315 + 62x^9/2835 (error below 3e-9)
    private static final float TANH_SERIES_LIMIT = 0.25f;
    private static final float T3 = -1f / 3;
    private static final float T5 = 2f / 15;
    private static final float T7 = -17f / 315;
    private static final float T9 = 62f / 2835;

    private VectorMath() {
    }

    // ---------------------------------------------------------------- exp

    public static FloatVector exp(FloatVector x) {
        FloatVector c = x.max(EXP_LOW).min(EXP_HIGH);
        FloatVector t = c.mul(LOG2E).add(ROUND);
        FloatVector n = t.sub(ROUND);
        FloatVector r = n.fma(FloatVector.broadcast(S, -LN2_HIGH), c);
        r = n.fma(FloatVector.broadcast(S, -LN2_LOW), r);
        FloatVector p = r.fma(E7, E6);
        p = p.fma(r, FloatVector.broadcast(S, E5));
        p = p.fma(r, FloatVector.broadcast(S, E4));
        p = p.fma(r, FloatVector.broadcast(S, E3));
        p = p.fma(r, FloatVector.broadcast(S, E2));
        p = p.fma(r, FloatVector.broadcast(S, 1f));
        p = p.fma(r, FloatVector.broadcast(S, 1f));

        // t lies in [2^23, 2^24), where the float step is 1, so its bits minus those of ROUND are n as an
        // int; this avoids the float-to-int conversion, which the JIT of JDK 17 does not vectorize
        IntVector ni = t.reinterpretAsInts().sub(ROUND_BITS);

        // 2^n as two normal powers 2^h * 2^(n - h), so n up to 128 and down to -150 stay exact
        IntVector h = ni.lanewise(VectorOperators.ASHR, 1);
        FloatVector s1 = h.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector s2 = ni.sub(h).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return p.mul(s1).mul(s2);
    }

    public static float exp(float x) {
        float c = Math.min(Math.max(x, EXP_LOW), EXP_HIGH);
        float t = c * LOG2E + ROUND;
        float n = t - ROUND;
        float r = Math.fma(n, -LN2_HIGH, c);
        r = Math.fma(n, -LN2_LOW, r);
        float p = Math.fma(r, E7, E6);
        p = Math.fma(p, r, E5);
        p = Math.fma(p, r, E4);
        p = Math.fma(p, r, E3);
        p = Math.fma(p, r, E2);
        p = Math.fma(p, r, 1f);
        p = Math.fma(p, r, 1f);
        int ni = Float.floatToRawIntBits(t) - ROUND_BITS;
        int h = ni >> 1;
        float s1 = Float.intBitsToFloat((h + 127) << 23);
        float s2 = Float.intBitsToFloat((ni - h + 127) << 23);
        return p * s1 * s2;
    }

    // ---------------------------------------------------------------- log

    public static FloatVector log(FloatVector x) {
        // scale subnormals into the normal range first
        VectorMask<Float> subnormal = x.compare(VectorOperators.LT, Float.MIN_NORMAL).and(x.compare(VectorOperators.GT, 0f));
        FloatVector xs = x.blend(x.mul(TWO_POW_23), subnormal);
        FloatVector eAdjust = FloatVector.zero(S).blend(-23f, subnormal);

        IntVector bits = xs.reinterpretAsInts();
        // the exponent as a float through the same ROUND bits, again without a conversion
        FloatVector e = bits.lanewise(VectorOperators.LSHR, 23).sub(127).add(ROUND_BITS).reinterpretAsFloats()
                .sub(ROUND).add(eAdjust);
        FloatVector m = bits.and(0x007fffff).or(0x3f800000).reinterpretAsFloats();
        VectorMask<Float> high = m.compare(VectorOperators.GT, SQRT2);
        m = m.blend(m.mul(0.5f), high);
        e = e.blend(e.add(1f), high);

        FloatVector s = m.sub(1f).div(m.add(1f));
        FloatVector z = s.mul(s);
        FloatVector p = z.fma(1f / 9, 1f / 7);
        p = p.fma(z, FloatVector.broadcast(S, 1f / 5));
        p = p.fma(z, FloatVector.broadcast(S, 1f / 3));
        p = p.fma(z, FloatVector.broadcast(S, 1f));
        FloatVector result = e.fma(FloatVector.broadcast(S, LN2), s.mul(2f).mul(p));

        // special values: log(0) = -inf, log(+inf) = +inf, log(negative or NaN) = NaN
        result = result.blend(Float.NEGATIVE_INFINITY, x.compare(VectorOperators.EQ, 0f));
        result = result.blend(Float.POSITIVE_INFINITY, x.compare(VectorOperators.EQ, Float.POSITIVE_INFINITY));
        return result.blend(Float.NaN, x.compare(VectorOperators.LT, 0f).or(x.compare(VectorOperators.NE, x)));
    }

    public static float log(float x) {
        if (x == 0f) {
            return Float.NEGATIVE_INFINITY;
        }
        if (x == Float.POSITIVE_INFINITY) {
            return x;
        }
        if (x < 0f || x != x) {
            return Float.NaN;
        }
        boolean subnormal = x < Float.MIN_NORMAL;
        float xs = subnormal ? x * TWO_POW_23 : x;
        float eAdjust = subnormal ? -23f : 0f;
        int bits = Float.floatToRawIntBits(xs);
        float e = Float.intBitsToFloat((bits >>> 23) - 127 + ROUND_BITS) - ROUND + eAdjust;
        float m = Float.intBitsToFloat((bits & 0x007fffff) | 0x3f800000);
        if (m > SQRT2) {
            m = m * 0.5f;
            e = e + 1f;
        }
        float s = (m - 1f) / (m + 1f);
        float z = s * s;
        float p = Math.fma(z, 1f / 9, 1f / 7);
        p = Math.fma(p, z, 1f / 5);
        p = Math.fma(p, z, 1f / 3);
        p = Math.fma(p, z, 1f);
        return Math.fma(e, LN2, s * 2f * p);
    }

    // ---------------------------------------------------------------- tanh

    public static FloatVector tanh(FloatVector x) {
        FloatVector a = x.abs();
        // large |x|: 1 - 2 / (exp(2|x|) + 1), which tends to 1 without overflow trouble
        FloatVector large = FloatVector.broadcast(S, 1f).sub(FloatVector.broadcast(S, 2f).div(exp(a.mul(2f)).add(1f)));
        FloatVector z = a.mul(a);
        FloatVector p = z.fma(T9, T7);
        p = p.fma(z, FloatVector.broadcast(S, T5));
        p = p.fma(z, FloatVector.broadcast(S, T3));
        FloatVector small = p.mul(z).fma(a, a);
        FloatVector t = large.blend(small, a.compare(VectorOperators.LT, TANH_SERIES_LIMIT));
        return t.blend(t.neg(), x.compare(VectorOperators.LT, 0f));
    }

    public static float tanh(float x) {
        float a = Math.abs(x);
        float t;
        if (a < TANH_SERIES_LIMIT) {
            float z = a * a;
            float p = Math.fma(z, T9, T7);
            p = Math.fma(p, z, T5);
            p = Math.fma(p, z, T3);
            t = Math.fma(p * z, a, a);
        } else {
            t = 1f - 2f / (exp(a * 2f) + 1f);
        }
        return x < 0f ? -t : t;
    }

    // ---------------------------------------------------------------- lane sums

    /**
     * Adds the lanes of {@code v} in lane order. {@code reduceLanes(ADD)} may add them in another
     * order once the JIT has compiled it (JDK 25 does), which would tie the last bits of a sum to
     * how warm the JVM is.
     */
    public static float sumLanes(FloatVector v) {
        float s = 0f;
        for (int i = 0; i < v.length(); i++) {
            s += v.lane(i);
        }
        return s;
    }

    /** Adds the lanes of {@code v} in lane order, for the same reason as {@link #sumLanes(FloatVector)}. */
    public static double sumLanes(DoubleVector v) {
        double s = 0;
        for (int i = 0; i < v.length(); i++) {
            s += v.lane(i);
        }
        return s;
    }
}
