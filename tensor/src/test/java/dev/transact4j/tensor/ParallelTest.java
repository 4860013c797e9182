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
    void backToBackLoopsCoverEveryIndex() {
        // Back-to-back loops reuse workers that are still spinning from the previous loop.
        Parallel.setThreads(2);
        long[] sums = new long[2000];
        for (int round = 0; round < sums.length; round++) {
            java.util.concurrent.atomic.AtomicLong sum = new java.util.concurrent.atomic.AtomicLong();
            Parallel.forRange(0, 64, 1, (lo, hi) -> {
                for (int i = lo; i < hi; i++) {
                    sum.addAndGet(i);
                }
            });
            sums[round] = sum.get();
        }
        for (int round = 0; round < sums.length; round++) {
            assertEquals(64 * 63 / 2, sums[round], "round " + round);
        }
    }

    @Test
    void loopAfterWorkersParkRuns() throws InterruptedException {
        Parallel.setThreads(2);
        AtomicIntegerArray hits = new AtomicIntegerArray(2);
        Parallel.forRange(0, 2, 1, (lo, hi) -> hits.incrementAndGet(lo));
        // Longer than the default spin, so the worker has parked and must be woken.
        Thread.sleep(20);
        Parallel.forRange(0, 2, 1, (lo, hi) -> hits.incrementAndGet(lo));
        assertEquals(2, hits.get(0));
        assertEquals(2, hits.get(1));
    }

    @Test
    void concurrentCallersGetWholeRange() throws Exception {
        Parallel.setThreads(2);
        int callers = 4;
        AtomicIntegerArray[] hits = new AtomicIntegerArray[callers];
        Thread[] threads = new Thread[callers];
        Throwable[] failures = new Throwable[callers];
        for (int t = 0; t < callers; t++) {
            int id = t;
            hits[t] = new AtomicIntegerArray(1000);
            threads[t] = new Thread(() -> {
                try {
                    for (int round = 0; round < 200; round++) {
                        Parallel.forRange(0, 1000, 1, (lo, hi) -> {
                            for (int i = lo; i < hi; i++) {
                                hits[id].incrementAndGet(i);
                            }
                        });
                    }
                } catch (Throwable e) {
                    failures[id] = e;
                }
            });
            threads[t].start();
        }
        for (int t = 0; t < callers; t++) {
            threads[t].join();
            assertEquals(null, failures[t], "caller " + t);
            for (int i = 0; i < 1000; i++) {
                assertEquals(200, hits[t].get(i), "caller " + t + ", index " + i);
            }
        }
    }

    @Test
    void setThreadsInsideLoopRejected() {
        Parallel.setThreads(2);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Parallel.forRange(0, 2, 1, (lo, hi) -> {
                    if (lo == 1) {
                        Parallel.setThreads(3);
                    }
                }));
        assertTrue(e.getMessage().contains("inside a parallel loop"), e.getMessage());
    }

    @Test
    void invalidThreadCountRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Parallel.setThreads(0));
        assertTrue(e.getMessage().contains("got 0"), e.getMessage());
    }
}
