package dev.transact4j.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class RngTest {

    @Test
    void sameSeedSameTensors() {
        assertArrayEquals(Tensor.randn(new Rng(7), 33, 17).toArray(), Tensor.randn(new Rng(7), 33, 17).toArray());
        assertArrayEquals(Tensor.uniform(new Rng(7), -1f, 2f, 257).toArray(),
                Tensor.uniform(new Rng(7), -1f, 2f, 257).toArray());
        assertFalse(Arrays.equals(Tensor.randn(new Rng(7), 64).toArray(), Tensor.randn(new Rng(8), 64).toArray()));
    }

    @Test
    void randnHasUnitMoments() {
        float[] x = Tensor.randn(new Rng(1), 100_000).toArray();
        double mean = 0;
        double square = 0;
        for (float v : x) {
            mean += v;
            square += (double) v * v;
        }
        mean /= x.length;
        double variance = square / x.length - mean * mean;
        // standard error of the mean is 1/sqrt(1e5) ~ 0.003; of the variance ~ 0.0045
        assertEquals(0.0, mean, 0.015);
        assertEquals(1.0, variance, 0.025);
    }

    @Test
    void uniformStaysInRange() {
        float[] x = Tensor.uniform(new Rng(2), -0.5f, 0.25f, 10_000).toArray();
        double mean = 0;
        for (float v : x) {
            assertTrue(v >= -0.5f, "value " + v);
            assertTrue(v < 0.25f, "value " + v);
            mean += v;
        }
        assertEquals(-0.125, mean / x.length, 0.01);
    }

    @Test
    void splitGivesIndependentReproducibleStreams() {
        Rng a = new Rng(3);
        Rng b = new Rng(3);
        Rng childA = a.split();
        Rng childB = b.split();
        assertEquals(childA.nextDouble(), childB.nextDouble());
        assertEquals(a.nextDouble(), b.nextDouble());
    }
}
