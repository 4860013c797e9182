package dev.transact4j.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ParallelTest {

    private final int original = Parallel.threads();

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(original);
    }

    @Test
    void forRangeCoversEveryIndexOnce() {
        for (int threads : new int[] {1, 2, 3}) {
            Parallel.setThreads(threads);
            for (int n : new int[] {0, 1, 2, 7, 100, 1001}) {
                AtomicIntegerArray hits = new AtomicIntegerArray(n);
                Parallel.forRange(0, n, 1, (lo, hi) -> {
                    for (int i = lo; i < hi; i++) {
                        hits.incrementAndGet(i);
                    }
                });
                for (int i = 0; i < n; i++) {
                    assertEquals(1, hits.get(i), "index " + i + " of " + n + " with " + threads + " threads");
                }
            }
        }
    }

    @Test
    void chunkCountRespectsGrainAndThreads() {
        Parallel.setThreads(2);
        assertEquals(1, Parallel.chunkCount(100, 1000));
        assertEquals(2, Parallel.chunkCount(5000, 1000));
        Parallel.setThreads(1);
        assertEquals(1, Parallel.chunkCount(5000, 1000));
    }

    @Test
    void nestedLoopRunsOnCallingThread() {
        Parallel.setThreads(2);
        Parallel.forRange(0, 2, 1, (lo, hi) -> assertTrue(Parallel.isSerial()));
        Parallel.serial(() -> assertEquals(1, Parallel.chunkCount(1_000_000, 1)));
    }

    @Test
    void workerExceptionReachesCaller() {
        Parallel.setThreads(2);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Parallel.forRange(0, 10, 1, (lo, hi) -> {
                    if (lo > 0) {
                        throw new IllegalStateException("boom in chunk " + lo);
                    }
                }));
        assertEquals("boom in chunk 5", e.getMessage());
    }

    @Test
    void invalidThreadCountRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Parallel.setThreads(0));
        assertTrue(e.getMessage().contains("got 0"), e.getMessage());
    }
}
