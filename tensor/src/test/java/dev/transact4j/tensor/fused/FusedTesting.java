package dev.transact4j.tensor.fused;

import dev.transact4j.tensor.Parallel;
import java.util.Random;
import java.util.function.Supplier;

/** Seeded inputs and thread-count control shared by the fused kernel tests. */
final class FusedTesting {

    private FusedTesting() {
    }

    /** Returns {@code n} normal samples times {@code scale}. */
    static float[] randn(Random random, int n, double scale) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = (float) (random.nextGaussian() * scale);
        }
        return out;
    }

    /** Returns the values widened to double. */
    static double[] wide(float[] values) {
        double[] out = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = values[i];
        }
        return out;
    }

    /** Runs {@code body} with the pool set to {@code threads} threads, then restores the count. */
    static <T> T withThreads(int threads, Supplier<T> body) {
        int previous = Parallel.threads();
        Parallel.setThreads(threads);
        try {
            return body.get();
        } finally {
            Parallel.setThreads(previous);
        }
    }
}
