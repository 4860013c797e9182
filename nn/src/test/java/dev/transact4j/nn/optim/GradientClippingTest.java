package dev.transact4j.nn.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.transact4j.tensor.Parallel;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class GradientClippingTest {

    @Test
    void clipsToMaxNorm() {
        // Norm of (3, 4) and (12) is 13.
        float[] a = {3f, 4f};
        float[] b = {12f};
        double norm = GradientClipping.clipGradNorm(List.of(a, b), 1.0);
        assertEquals(13.0, norm);
        double coefficient = 1.0 / (13.0 + 1e-6);
        assertArrayEquals(new float[] {(float) (3 * coefficient), (float) (4 * coefficient)}, a, 1e-7f);
        assertEquals((float) (12 * coefficient), b[0], 1e-7f);
        assertEquals(1.0, GradientClipping.globalNorm(List.of(a, b)), 1e-6);
    }

    @Test
    void leavesSmallGradientsUnchanged() {
        float[] a = {0.3f, -0.4f};
        double norm = GradientClipping.clipGradNorm(List.of(a), 1.0);
        assertEquals(0.5, norm, 1e-7);
        assertArrayEquals(new float[] {0.3f, -0.4f}, a);
    }

    @Test
    void nonFiniteNormLeavesGradients() {
        float[] a = {Float.POSITIVE_INFINITY, 1f};
        float[] b = {Float.NaN};
        assertEquals(Double.POSITIVE_INFINITY, GradientClipping.clipGradNorm(List.of(a), 1.0));
        assertArrayEquals(new float[] {Float.POSITIVE_INFINITY, 1f}, a);
        assertTrue(Double.isNaN(GradientClipping.clipGradNorm(List.of(b), 1.0)));
    }

    @Test
    void normIndependentOfThreadCount() {
        SplittableRandom random = new SplittableRandom(9);
        float[] big = new float[300_001];
        for (int i = 0; i < big.length; i++) {
            big[i] = (float) random.nextGaussian();
        }
        int threads = Parallel.threads();
        try {
            Parallel.setThreads(1);
            double one = GradientClipping.globalNorm(List.of(big));
            Parallel.setThreads(3);
            double three = GradientClipping.globalNorm(List.of(big));
            assertEquals(one, three, 0.0);
        } finally {
            Parallel.setThreads(threads);
        }
    }

    @Test
    void rejectsNonPositiveMaxNorm() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GradientClipping.clipGradNorm(List.of(new float[1]), 0));
        assertTrue(e.getMessage().contains("maxNorm must be positive, got 0.0"), e.getMessage());
    }
}
