package dev.transact4j.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.transact4j.tensor.testing.Fixture;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class HalfFloatsTest {

    private static final float HALF_MAX = 65504f;
    private static final float SMALLEST_HALF_SUBNORMAL = 0x1p-24f;

    /** Value of binary16 bits from the IEEE 754 definition, computed in double. */
    private static double halfValue(int h) {
        int sign = (h >>> 15) & 1;
        int exponent = (h >>> 10) & 0x1F;
        int mantissa = h & 0x3FF;
        double magnitude;
        if (exponent == 0x1F) {
            magnitude = mantissa == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
        } else if (exponent == 0) {
            magnitude = Math.scalb((double) mantissa, -24);
        } else {
            magnitude = Math.scalb(1.0 + mantissa / 1024.0, exponent - 15);
        }
        return sign == 1 ? -magnitude : magnitude;
    }

    /**
     * Rounds {@code x} to binary16 by searching the finite binary16 values, which increase with
     * their bit patterns from 0x0000 to 0x7BFF, for the two that bracket |x|.
     */
    private static int halfOracle(float x) {
        int sign = Float.floatToRawIntBits(x) < 0 ? 0x8000 : 0;
        double a = Math.abs((double) x);
        if (Double.isInfinite(a) || a >= HALF_MAX + 16.0) {
            return sign | 0x7C00;
        }
        if (a >= HALF_MAX) {
            return sign | 0x7BFF;
        }
        int lo = 0;
        int hi = 0x7BFF;
        while (hi - lo > 1) {
            int mid = (lo + hi) >>> 1;
            if (halfValue(mid) <= a) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        double below = a - halfValue(lo);
        double above = halfValue(hi) - a;
        int nearest;
        if (below < above) {
            nearest = lo;
        } else if (above < below) {
            nearest = hi;
        } else {
            nearest = (lo & 1) == 0 ? lo : hi;
        }
        return sign | nearest;
    }

    /** Rounds {@code x} to bfloat16 by comparing the two bfloat16 values that bracket it. */
    private static int bf16Oracle(float x) {
        int bits = Float.floatToRawIntBits(x);
        int truncated = bits & 0xFFFF0000;
        if ((bits & 0xFFFF) == 0) {
            return truncated >>> 16;
        }
        int next = truncated + 0x10000;
        double t = Float.intBitsToFloat(truncated);
        double n = Float.intBitsToFloat(next);
        double below = Math.abs(x - t);
        double above = Math.abs(n - x);
        if (Double.isInfinite(n)) {
            // Past the largest finite bfloat16 the next value up is infinity; IEEE rounds to it when
            // x is at least halfway to the next power of the unbounded format, 2^128.
            above = Math.abs(Math.scalb(1.0, 128) - Math.abs((double) x));
        }
        if (below < above) {
            return truncated >>> 16;
        }
        if (above < below) {
            return next >>> 16;
        }
        return ((truncated >>> 16) & 1) == 0 ? truncated >>> 16 : next >>> 16;
    }

    private static int bits(short s) {
        return s & 0xFFFF;
    }

    @Test
    void halfSpecialValues() {
        assertEquals(0x0000, bits(HalfFloats.floatToHalf(0f)));
        assertEquals(0x8000, bits(HalfFloats.floatToHalf(-0f)));
        assertEquals(0x7C00, bits(HalfFloats.floatToHalf(Float.POSITIVE_INFINITY)));
        assertEquals(0xFC00, bits(HalfFloats.floatToHalf(Float.NEGATIVE_INFINITY)));
        assertEquals(0x3C00, bits(HalfFloats.floatToHalf(1f)));
        assertEquals(0x7BFF, bits(HalfFloats.floatToHalf(HALF_MAX)));
        assertEquals(0x0400, bits(HalfFloats.floatToHalf(0x1p-14f)), "smallest normal");
        assertEquals(0x0001, bits(HalfFloats.floatToHalf(SMALLEST_HALF_SUBNORMAL)), "smallest subnormal");
        assertEquals(0x03FF, bits(HalfFloats.floatToHalf(1023 * SMALLEST_HALF_SUBNORMAL)), "largest subnormal");
        assertEquals(0x0000, bits(HalfFloats.floatToHalf(Float.MIN_VALUE)), "float32 subnormal underflows");
    }

    @Test
    void halfRoundsTiesToEven() {
        // 65520 lies halfway between 65504 (odd mantissa) and 65536, which overflows.
        assertEquals(0x7C00, bits(HalfFloats.floatToHalf(65520f)));
        assertEquals(0x7BFF, bits(HalfFloats.floatToHalf(Math.nextDown(65520f))));
        assertEquals(0xFC00, bits(HalfFloats.floatToHalf(-65520f)));
        // 2^-25 lies halfway between 0 and the smallest subnormal: ties go to 0.
        assertEquals(0x0000, bits(HalfFloats.floatToHalf(0x1p-25f)));
        assertEquals(0x0001, bits(HalfFloats.floatToHalf(Math.nextUp(0x1p-25f))));
        // 1.5 and 2.5 subnormal units round to 2; 3.5 rounds to 4.
        assertEquals(0x0002, bits(HalfFloats.floatToHalf(1.5f * SMALLEST_HALF_SUBNORMAL)));
        assertEquals(0x0002, bits(HalfFloats.floatToHalf(2.5f * SMALLEST_HALF_SUBNORMAL)));
        assertEquals(0x0004, bits(HalfFloats.floatToHalf(3.5f * SMALLEST_HALF_SUBNORMAL)));
        // 1023.5 subnormal units round up into the smallest normal.
        assertEquals(0x0400, bits(HalfFloats.floatToHalf(1023.5f * SMALLEST_HALF_SUBNORMAL)));
        // Between 1 and 1 + 2^-10: the tie goes down to 1, the tie above 1 + 2^-10 goes up to 1 + 2^-9.
        assertEquals(0x3C00, bits(HalfFloats.floatToHalf(1f + 0x1p-11f)));
        assertEquals(0x3C02, bits(HalfFloats.floatToHalf(1f + 3 * 0x1p-11f)));
    }

    @Test
    void halfNaNStaysQuietNaN() {
        short h = HalfFloats.floatToHalf(Float.NaN);
        assertTrue(Float.isNaN(HalfFloats.halfToFloat(h)));
        assertEquals(0x7E00, bits(h) & 0x7E00, "exponent all ones and quiet bit set");
        // A float32 NaN whose payload sits only in the low 13 bits must not become infinity.
        short low = HalfFloats.floatToHalf(Float.intBitsToFloat(0xFF800001));
        assertEquals(0xFE00, bits(low));
    }

    @Test
    void bf16SpecialValues() {
        assertEquals(0x0000, bits(HalfFloats.floatToBf16(0f)));
        assertEquals(0x8000, bits(HalfFloats.floatToBf16(-0f)));
        assertEquals(0x7F80, bits(HalfFloats.floatToBf16(Float.POSITIVE_INFINITY)));
        assertEquals(0xFF80, bits(HalfFloats.floatToBf16(Float.NEGATIVE_INFINITY)));
        assertEquals(0x3F80, bits(HalfFloats.floatToBf16(1f)));
        assertEquals(0x0080, bits(HalfFloats.floatToBf16(Float.MIN_NORMAL)));
        assertEquals(0x0001, bits(HalfFloats.floatToBf16(Float.intBitsToFloat(0x00010000))), "smallest subnormal");
        assertEquals(0x0000, bits(HalfFloats.floatToBf16(Float.MIN_VALUE)));
        // The largest float32 is above the halfway point between bf16's max and 2^128.
        assertEquals(0x7F80, bits(HalfFloats.floatToBf16(Float.MAX_VALUE)));
        assertEquals(0x7F7F, bits(HalfFloats.floatToBf16(Float.intBitsToFloat(0x7F7F7FFF))));
        assertEquals(Float.intBitsToFloat(0x7F7F0000), HalfFloats.bf16ToFloat((short) 0x7F7F), "largest finite");
    }

    @Test
    void bf16RoundsTiesToEven() {
        // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7; 1 + 3 * 2^-8 halfway between 1 + 2^-7 and 1 + 2^-6.
        assertEquals(0x3F80, bits(HalfFloats.floatToBf16(1f + 0x1p-8f)));
        assertEquals(0x3F82, bits(HalfFloats.floatToBf16(1f + 3 * 0x1p-8f)));
        assertEquals(0x3F81, bits(HalfFloats.floatToBf16(Math.nextUp(1f + 0x1p-8f))));
        assertEquals(0xBF80, bits(HalfFloats.floatToBf16(-(1f + 0x1p-8f))));
    }

    @Test
    void bf16NaNStaysQuietNaN() {
        // Payload only in the low 16 bits: truncation alone would give infinity.
        short low = HalfFloats.floatToBf16(Float.intBitsToFloat(0x7F800001));
        assertEquals(0x7FC0, bits(low));
        short negative = HalfFloats.floatToBf16(Float.intBitsToFloat(0xFFC00000));
        assertEquals(0xFFC0, bits(negative));
        assertTrue(Float.isNaN(HalfFloats.bf16ToFloat(low)));
    }

    @Test
    void halfToFloatMatchesDefinition() {
        for (int h = 0; h < 0x10000; h++) {
            float f = HalfFloats.halfToFloat((short) h);
            double expected = halfValue(h);
            if (Double.isNaN(expected)) {
                assertTrue(Float.isNaN(f), "NaN pattern " + Integer.toHexString(h));
            } else {
                assertEquals(Double.doubleToRawLongBits(expected), Double.doubleToRawLongBits(f),
                        "half bits " + Integer.toHexString(h));
            }
        }
    }

    @Test
    void halfRoundTripsAllPatterns() {
        for (int h = 0; h < 0x10000; h++) {
            int back = bits(HalfFloats.floatToHalf(HalfFloats.halfToFloat((short) h)));
            boolean nan = (h & 0x7C00) == 0x7C00 && (h & 0x3FF) != 0;
            // A NaN keeps its sign and payload and comes back quiet.
            int expected = nan ? h | 0x0200 : h;
            assertEquals(expected, back, "half bits " + Integer.toHexString(h));
        }
    }

    @Test
    void bf16RoundTripsAllPatterns() {
        for (int b = 0; b < 0x10000; b++) {
            float f = HalfFloats.bf16ToFloat((short) b);
            assertEquals(b << 16, Float.floatToRawIntBits(f), "widening is a shift");
            int back = bits(HalfFloats.floatToBf16(f));
            boolean nan = (b & 0x7F80) == 0x7F80 && (b & 0x7F) != 0;
            int expected = nan ? b | 0x0040 : b;
            assertEquals(expected, back, "bf16 bits " + Integer.toHexString(b));
        }
    }

    @Test
    void roundingMatchesOracleOnRandomFloats() {
        SplittableRandom random = new SplittableRandom(42);
        for (int i = 0; i < 200_000; i++) {
            // Half the samples are arbitrary bit patterns, half lie in binary16's range.
            float sample = i % 2 == 0
                    ? Float.intBitsToFloat(random.nextInt())
                    : (float) Math.scalb(random.nextDouble(-1.0, 1.0), random.nextInt(-27, 18));
            if (Float.isNaN(sample)) {
                continue;
            }
            float x = sample;
            int fx = Float.floatToRawIntBits(x);
            assertEquals(halfOracle(x), bits(HalfFloats.floatToHalf(x)), () -> "half of " + Integer.toHexString(fx));
            assertEquals(bf16Oracle(x), bits(HalfFloats.floatToBf16(x)), () -> "bf16 of " + Integer.toHexString(fx));
        }
    }

    @Test
    void roundingMatchesTorch() {
        Fixture fixture = Fixture.load("halffloat");
        int[] inputs = fixture.get("input").ints();
        int[] bf16 = fixture.get("bf16").ints();
        int[] f16 = fixture.get("f16").ints();
        assertTrue(inputs.length > 3000, "fixture holds " + inputs.length + " values");
        for (int i = 0; i < inputs.length; i++) {
            float x = Float.intBitsToFloat(inputs[i]);
            String where = "input bits " + Integer.toHexString(inputs[i]);
            assertEquals(bf16[i], bits(HalfFloats.floatToBf16(x)), "bf16 of " + where);
            assertEquals(f16[i], bits(HalfFloats.floatToHalf(x)), "f16 of " + where);
        }
    }

    @Test
    void bulkConversionsMatchScalar() {
        SplittableRandom random = new SplittableRandom(7);
        for (int n : new int[] {0, 1, 3, 15, 17, 33, 257}) {
            float[] src = new float[n];
            for (int i = 0; i < n; i++) {
                src[i] = (float) Math.scalb(random.nextDouble(-1.0, 1.0), random.nextInt(-30, 20));
            }
            short[] half = HalfFloats.floatToHalf(src);
            short[] bf16 = HalfFloats.floatToBf16(src);
            float[] halfBack = HalfFloats.halfToFloat(half);
            float[] bf16Back = HalfFloats.bf16ToFloat(bf16);
            for (int i = 0; i < n; i++) {
                assertEquals(HalfFloats.floatToHalf(src[i]), half[i]);
                assertEquals(HalfFloats.floatToBf16(src[i]), bf16[i]);
                assertEquals(HalfFloats.halfToFloat(half[i]), halfBack[i]);
                assertEquals(HalfFloats.bf16ToFloat(bf16[i]), bf16Back[i]);
            }
        }
    }

    @Test
    void bf16VectorMatchesScalarTwin() {
        SplittableRandom random = new SplittableRandom(8);
        for (int n : new int[] {0, 1, 3, 15, 17, 33, 257, 1000}) {
            // Arbitrary bit patterns, including NaNs with payloads, infinities and subnormals.
            float[] src = new float[n + 3];
            short[] bits = new short[n + 3];
            for (int i = 0; i < src.length; i++) {
                src[i] = Float.intBitsToFloat(random.nextInt());
                bits[i] = (short) random.nextInt();
            }
            short[] vectorBits = new short[n + 2];
            short[] scalarBits = new short[n + 2];
            HalfFloats.floatToBf16Vector(src, 3, vectorBits, 1, n);
            HalfFloats.floatToBf16Scalar(src, 3, scalarBits, 1, n);
            assertArrayEquals(scalarBits, vectorBits, "floatToBf16, n = " + n);

            float[] vectorFloats = new float[n + 1];
            float[] scalarFloats = new float[n + 1];
            HalfFloats.bf16ToFloatVector(bits, 2, vectorFloats, 1, n);
            HalfFloats.bf16ToFloatScalar(bits, 2, scalarFloats, 1, n);
            for (int i = 0; i <= n; i++) {
                assertEquals(Float.floatToRawIntBits(scalarFloats[i]), Float.floatToRawIntBits(vectorFloats[i]),
                        "bf16ToFloat, n = " + n + ", i = " + i);
            }
        }
    }

    @Test
    void halfVectorMatchesScalarForAllPatterns() {
        short[] all = new short[0x10000 + 5];
        for (int h = 0; h < all.length; h++) {
            all[h] = (short) h;
        }
        float[] vector = new float[all.length];
        float[] scalar = new float[all.length];
        HalfFloats.halfToFloatVector(all, 0, vector, 0, all.length);
        HalfFloats.halfToFloatScalar(all, 0, scalar, 0, all.length);
        for (int h = 0; h < all.length; h++) {
            assertEquals(Float.floatToRawIntBits(scalar[h]), Float.floatToRawIntBits(vector[h]),
                    "half bits " + Integer.toHexString(h & 0xFFFF));
        }

        // Offsets and lengths that leave a scalar tail.
        float[] tail = new float[20];
        HalfFloats.halfToFloatVector(all, 0x3C00, tail, 1, 17);
        for (int i = 0; i < 17; i++) {
            assertEquals(HalfFloats.halfToFloat((short) (0x3C00 + i)), tail[1 + i]);
        }
        assertEquals(0f, tail[0]);
        assertEquals(0f, tail[18]);
    }

    @Test
    void simdPropertyParsing() {
        assertTrue(Simd.parseProperty(null));
        assertTrue(Simd.parseProperty(" TRUE "));
        assertEquals(false, Simd.parseProperty("false"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Simd.parseProperty("no"));
        assertTrue(e.getMessage().contains("transact4j.simd=no"), e.getMessage());
    }

    @Test
    void bulkConversionHonoursOffsets() {
        float[] src = {1f, 2f, 3f, 4f, 5f};
        short[] dst = new short[6];
        HalfFloats.floatToBf16(src, 1, dst, 2, 3);
        float[] back = new float[4];
        HalfFloats.bf16ToFloat(dst, 2, back, 1, 3);
        assertArrayEquals(new float[] {0f, 2f, 3f, 4f}, back);
        assertEquals(0, dst[0]);
        assertEquals(0, dst[5]);
    }

    @Test
    void bulkConversionRejectsBadRange() {
        IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
                () -> HalfFloats.halfToFloat(new short[4], 2, new float[4], 0, 3));
        assertTrue(e.getMessage().contains("halfToFloat"), e.getMessage());
        assertTrue(e.getMessage().contains("offset 2 of an array of 4"), e.getMessage());
    }
}
