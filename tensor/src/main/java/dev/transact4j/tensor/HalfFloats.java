package dev.transact4j.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Conversions between float32 and the two 16-bit float formats that checkpoints use.
 *
 * <p>bfloat16 is the upper half of a float32: 1 sign bit, 8 exponent bits (bias 127) and 7
 * mantissa bits, so it has the range of float32 with less precision. IEEE 754 binary16 ("half",
 * torch.float16) has 1 sign bit, 5 exponent bits (bias 15) and 10 mantissa bits: its largest
 * finite value is 65504, its smallest normal 2^-14 and its smallest subnormal 2^-24.
 *
 * <p>Narrowing rounds to nearest, ties to even, as torch's {@code .to(torch.bfloat16)} and
 * {@code .half()} do. A NaN stays a NaN with the same sign, keeps the top bits of its payload and
 * gets the quiet bit set. Widening is exact. The 16-bit values travel as the raw bits in a
 * {@code short}.
 *
 * <p>The bulk bfloat16 conversions and the bulk binary16 widening have a Vector API path and a
 * scalar twin with the same results, and the system property {@code transact4j.simd=false} selects
 * the twin. The bulk binary16 narrowing is scalar.
 */
public final class HalfFloats {

    /** System property that turns the Vector API paths on ({@code true}, default) or off. */
    public static final String SIMD_PROPERTY = Simd.PROPERTY;

    private static final boolean SIMD = Simd.parseProperty(System.getProperty(SIMD_PROPERTY));
    private static final VectorSpecies<Integer> INTS = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_PREFERRED;
    /** Shorts with one lane per int lane, half the bit size. */
    private static final VectorSpecies<Short> SHORTS =
            VectorSpecies.of(short.class, VectorShape.forBitSize(INTS.vectorBitSize() / 2));

    private HalfFloats() {
    }

    /** Float32 bit pattern of binary16's smallest normal, 2^-14. */
    private static final int HALF_MIN_NORMAL_AS_FLOAT = 0x38800000;
    /** Float32 bit pattern of 65520, halfway between 65504 and 65536: from here up, binary16 rounds to infinity. */
    private static final int HALF_OVERFLOW_AS_FLOAT = 0x477FF000;
    /** Float32 bit pattern of 2^-25, half the smallest binary16 subnormal: up to here, binary16 rounds to zero. */
    private static final int HALF_UNDERFLOW_AS_FLOAT = 0x33000000;
    /** Difference of the exponent biases, 127 - 15, placed in the float32 exponent field. */
    private static final int REBIAS = 112 << 23;

    /** Converts {@code f} to bfloat16 bits, rounding to nearest even. */
    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7FFFFFFF) > 0x7F800000) {
            // NaN: truncate and set the quiet bit, so a payload in the low 16 bits cannot turn it into infinity.
            return (short) ((bits >>> 16) | 0x0040);
        }
        // Adding 0x7FFF plus the lowest kept bit rounds ties to even. A carry out of the mantissa
        // raises the exponent, which is the correct result, up to infinity for the largest floats.
        int rounded = bits + 0x7FFF + ((bits >>> 16) & 1);
        return (short) (rounded >>> 16);
    }

    /** Converts bfloat16 bits to the float32 with the same value (exact). */
    public static float bf16ToFloat(short bf16) {
        return Float.intBitsToFloat((bf16 & 0xFFFF) << 16);
    }

    /** Converts {@code f} to IEEE binary16 bits, rounding to nearest even, so overflow gives infinity. */
    public static short floatToHalf(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int abs = bits & 0x7FFFFFFF;

        // Infinity and NaN. A NaN keeps the top 10 payload bits and gets the quiet bit.
        if (abs >= 0x7F800000) {
            if (abs == 0x7F800000) {
                return (short) (sign | 0x7C00);
            }
            return (short) (sign | 0x7E00 | ((abs >>> 13) & 0x3FF));
        }

        // Too large for the finite range after rounding.
        if (abs >= HALF_OVERFLOW_AS_FLOAT) {
            return (short) (sign | 0x7C00);
        }

        // Normal result: rebias the exponent and round away the low 13 mantissa bits, ties to even.
        // A carry out of the mantissa moves to the next binade, which is the correct result.
        if (abs >= HALF_MIN_NORMAL_AS_FLOAT) {
            int r = abs - REBIAS;
            r += 0x0FFF + ((r >>> 13) & 1);
            return (short) (sign | (r >>> 13));
        }

        // Zero result: at most half the smallest subnormal; the tie at exactly 2^-25 goes to even, 0.
        if (abs <= HALF_UNDERFLOW_AS_FLOAT) {
            return (short) sign;
        }

        // Subnormal result q * 2^-24. The input is m * 2^(e - 150) with the implicit bit in m, so
        // q = m * 2^(e - 126), a right shift by 126 - e (14 to 24 bits here) rounded to nearest even.
        // Rounding up from 1023 gives 1024, the bit pattern of the smallest normal, as it should.
        int e = abs >>> 23;
        int m = (abs & 0x007FFFFF) | 0x00800000;
        int shift = 126 - e;
        int q = m >>> shift;
        int remainder = m & ((1 << shift) - 1);
        int halfway = 1 << (shift - 1);
        if (remainder > halfway || (remainder == halfway && (q & 1) != 0)) {
            q++;
        }
        return (short) (sign | q);
    }

    /** Converts IEEE binary16 bits to the float32 with the same value (exact). */
    public static float halfToFloat(short half) {
        int h = half & 0xFFFF;
        int sign = (h & 0x8000) << 16;
        int exponent = (h >>> 10) & 0x1F;
        int mantissa = h & 0x3FF;
        if (exponent == 0x1F) {
            // Infinity, or NaN with its payload moved to the top of the float32 mantissa.
            return Float.intBitsToFloat(sign | 0x7F800000 | (mantissa << 13));
        }
        if (exponent == 0) {
            // Zero or subnormal: mantissa * 2^-24 is exact in float32.
            return Float.intBitsToFloat(sign | Float.floatToRawIntBits(mantissa * 0x1p-24f));
        }
        return Float.intBitsToFloat(sign | (((exponent << 10 | mantissa) << 13) + REBIAS));
    }

    /** Converts {@code n} floats from {@code src[srcOffset]} to bfloat16 bits at {@code dst[dstOffset]}. */
    public static void floatToBf16(float[] src, int srcOffset, short[] dst, int dstOffset, int n) {
        checkRange("floatToBf16", src.length, srcOffset, dst.length, dstOffset, n);
        if (SIMD) {
            floatToBf16Vector(src, srcOffset, dst, dstOffset, n);
        } else {
            floatToBf16Scalar(src, srcOffset, dst, dstOffset, n);
        }
    }

    static void floatToBf16Vector(float[] src, int srcOffset, short[] dst, int dstOffset, int n) {
        int i = 0;
        int bound = INTS.loopBound(n);
        for (; i < bound; i += INTS.length()) {
            IntVector bits = FloatVector.fromArray(FLOATS, src, srcOffset + i).reinterpretAsInts();
            IntVector high = bits.lanewise(VectorOperators.LSHR, 16);

            // Same rounding as the scalar floatToBf16, with NaN lanes replaced by their quiet truncation.
            IntVector rounded = bits.add(0x7FFF).add(high.and(1)).lanewise(VectorOperators.LSHR, 16);
            VectorMask<Integer> nan = bits.and(0x7FFFFFFF).compare(VectorOperators.GT, 0x7F800000);
            IntVector result = rounded.blend(high.or(0x0040), nan);

            // I2S keeps the low 16 bits of each lane.
            ((ShortVector) result.convertShape(VectorOperators.I2S, SHORTS, 0)).intoArray(dst, dstOffset + i);
        }
        floatToBf16Scalar(src, srcOffset + i, dst, dstOffset + i, n - i);
    }

    static void floatToBf16Scalar(float[] src, int srcOffset, short[] dst, int dstOffset, int n) {
        for (int i = 0; i < n; i++) {
            dst[dstOffset + i] = floatToBf16(src[srcOffset + i]);
        }
    }

    /** Converts {@code n} bfloat16 values from {@code src[srcOffset]} to floats at {@code dst[dstOffset]}. */
    public static void bf16ToFloat(short[] src, int srcOffset, float[] dst, int dstOffset, int n) {
        checkRange("bf16ToFloat", src.length, srcOffset, dst.length, dstOffset, n);
        if (SIMD) {
            bf16ToFloatVector(src, srcOffset, dst, dstOffset, n);
        } else {
            bf16ToFloatScalar(src, srcOffset, dst, dstOffset, n);
        }
    }

    static void bf16ToFloatVector(short[] src, int srcOffset, float[] dst, int dstOffset, int n) {
        int i = 0;
        int bound = INTS.loopBound(n);
        for (; i < bound; i += INTS.length()) {
            // S2I sign-extends, and the shift by 16 pushes the extension bits out.
            IntVector wide = (IntVector) ShortVector.fromArray(SHORTS, src, srcOffset + i)
                    .convertShape(VectorOperators.S2I, INTS, 0);
            wide.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(dst, dstOffset + i);
        }
        bf16ToFloatScalar(src, srcOffset + i, dst, dstOffset + i, n - i);
    }

    static void bf16ToFloatScalar(short[] src, int srcOffset, float[] dst, int dstOffset, int n) {
        for (int i = 0; i < n; i++) {
            dst[dstOffset + i] = Float.intBitsToFloat((src[srcOffset + i] & 0xFFFF) << 16);
        }
    }

    /** Converts {@code n} floats from {@code src[srcOffset]} to binary16 bits at {@code dst[dstOffset]}. */
    public static void floatToHalf(float[] src, int srcOffset, short[] dst, int dstOffset, int n) {
        checkRange("floatToHalf", src.length, srcOffset, dst.length, dstOffset, n);
        for (int i = 0; i < n; i++) {
            dst[dstOffset + i] = floatToHalf(src[srcOffset + i]);
        }
    }

    /** Converts {@code n} binary16 values from {@code src[srcOffset]} to floats at {@code dst[dstOffset]}. */
    public static void halfToFloat(short[] src, int srcOffset, float[] dst, int dstOffset, int n) {
        checkRange("halfToFloat", src.length, srcOffset, dst.length, dstOffset, n);
        if (SIMD) {
            halfToFloatVector(src, srcOffset, dst, dstOffset, n);
        } else {
            halfToFloatScalar(src, srcOffset, dst, dstOffset, n);
        }
    }

    static void halfToFloatVector(short[] src, int srcOffset, float[] dst, int dstOffset, int n) {
        int i = 0;
        int bound = INTS.loopBound(n);
        for (; i < bound; i += INTS.length()) {
            IntVector h = (IntVector) ShortVector.fromArray(SHORTS, src, srcOffset + i)
                    .convertShape(VectorOperators.S2I, INTS, 0);
            IntVector sign = h.and(0x8000).lanewise(VectorOperators.LSHL, 16);
            IntVector shifted = h.and(0x7FFF).lanewise(VectorOperators.LSHL, 13);

            // Exponent and mantissa in float32 position read as a float that is the value times
            // 2^-112, subnormals included, so one exact multiplication by 2^112 rebiases every
            // finite value. Infinity and NaN instead get the float32 all-ones exponent.
            IntVector finite = shifted.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
            VectorMask<Integer> special = shifted.compare(VectorOperators.GE, 0x7C00 << 13);
            IntVector bits = finite.blend(shifted.or(0x7F800000), special);

            bits.or(sign).reinterpretAsFloats().intoArray(dst, dstOffset + i);
        }
        halfToFloatScalar(src, srcOffset + i, dst, dstOffset + i, n - i);
    }

    static void halfToFloatScalar(short[] src, int srcOffset, float[] dst, int dstOffset, int n) {
        for (int i = 0; i < n; i++) {
            dst[dstOffset + i] = halfToFloat(src[srcOffset + i]);
        }
    }

    /** Returns all of {@code src} converted to bfloat16 bits. */
    public static short[] floatToBf16(float[] src) {
        short[] dst = new short[src.length];
        floatToBf16(src, 0, dst, 0, src.length);
        return dst;
    }

    /** Returns all of {@code src} converted from bfloat16 bits to floats. */
    public static float[] bf16ToFloat(short[] src) {
        float[] dst = new float[src.length];
        bf16ToFloat(src, 0, dst, 0, src.length);
        return dst;
    }

    /** Returns all of {@code src} converted to binary16 bits. */
    public static short[] floatToHalf(float[] src) {
        short[] dst = new short[src.length];
        floatToHalf(src, 0, dst, 0, src.length);
        return dst;
    }

    /** Returns all of {@code src} converted from binary16 bits to floats. */
    public static float[] halfToFloat(short[] src) {
        float[] dst = new float[src.length];
        halfToFloat(src, 0, dst, 0, src.length);
        return dst;
    }

    private static void checkRange(String op, int srcLength, int srcOffset, int dstLength, int dstOffset, int n) {
        if (n < 0 || srcOffset < 0 || dstOffset < 0 || srcOffset > srcLength - n || dstOffset > dstLength - n) {
            throw new IndexOutOfBoundsException("HalfFloats." + op + ": cannot convert " + n + " values from offset "
                    + srcOffset + " of an array of " + srcLength + " to offset " + dstOffset + " of an array of "
                    + dstLength);
        }
    }
}
