package dev.transact4j.tensor.fused;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class SimdTest {

    @Test
    void propertySelectsPath() {
        assertTrue(Simd.parseEnabled(null));
        assertTrue(Simd.parseEnabled(" "));
        assertTrue(Simd.parseEnabled("TRUE"));
        assertFalse(Simd.parseEnabled("false"));
        assertFalse(Simd.parseEnabled(" False "));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Simd.parseEnabled("no"));
        assertTrue(e.getMessage().contains("transact4j.simd=no"), e.getMessage());
    }

    @Test
    void rowPrimitivesMatchScalarTwins() {
        Random random = new Random(71);
        for (int n : new int[] {0, 1, 3, 15, 16, 17, 33, 257}) {
            float[] a = FusedTesting.randn(random, n + 2, 1.0);
            float[] b = FusedTesting.randn(random, n + 5, 1.0);
            assertEquals(Simd.dotScalar(a, 2, b, 5, n), Simd.dotVector(a, 2, b, 5, n), 1e-5f * (n + 1), "dot n=" + n);
            assertEquals(Simd.maxScalar(a, 1, n), Simd.maxVector(a, 1, n), "max n=" + n);
        }
    }
}
