package dev.transact4j.tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The one thread pool that every kernel shares.
 *
 * <p>Its size comes from the system property {@code transact4j.threads} when set, otherwise from
 * {@link Runtime#availableProcessors()}, and {@link #setThreads(int)} changes it at run time. Work
 * is split over independent outer ranges only (rows, heads, blocks), and the calling thread runs
 * the first chunk itself, so a pool of N threads keeps N - 1 workers.
 *
 * <p>A call made from inside a pool task, or inside {@link #serial(Runnable)}, runs on the calling
 * thread alone: nested parallel loops never wait on the pool they are running in.
 */
public final class Parallel {

    /** System property that sets the number of threads at start-up. */
    public static final String THREADS_PROPERTY = "transact4j.threads";

    private static final ThreadLocal<Boolean> SERIAL = ThreadLocal.withInitial(() -> Boolean.FALSE);

    private static volatile int threads = initialThreads();
    private static ExecutorService pool;

    private Parallel() {
    }

    /** Body of a parallel loop: handles the half-open range {@code [start, end)}. */
    @FunctionalInterface
    public interface RangeBody {
        void run(int start, int end);
    }

    /** Returns the number of threads parallel loops use. */
    public static int threads() {
        return threads;
    }

    /**
     * Sets the number of threads parallel loops use, from 1 up.
     *
     * @throws IllegalArgumentException when {@code n} is below 1
     */
    public static synchronized void setThreads(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("Parallel.setThreads: thread count must be at least 1, got " + n);
        }
        if (n != threads && pool != null) {
            pool.shutdown();
            pool = null;
        }
        threads = n;
    }

    /** Runs {@code body} with every parallel loop it starts kept on the calling thread. */
    public static void serial(Runnable body) {
        boolean previous = SERIAL.get();
        SERIAL.set(Boolean.TRUE);
        try {
            body.run();
        } finally {
            SERIAL.set(previous);
        }
    }

    /** Returns whether a parallel loop started now would stay on the calling thread. */
    public static boolean isSerial() {
        return SERIAL.get() || threads == 1;
    }

    /**
     * Runs {@code body} over {@code [start, end)} split into at most {@link #threads()} contiguous
     * chunks of at least {@code grain} elements each. Chunk boundaries depend only on the range,
     * the grain and the thread count.
     */
    public static void forRange(int start, int end, int grain, RangeBody body) {
        int n = end - start;
        if (n <= 0) {
            return;
        }
        int chunks = chunkCount(n, grain);
        if (chunks == 1) {
            body.run(start, end);
            return;
        }
        ExecutorService executor = executor();
        List<Future<?>> pending = new ArrayList<>(chunks - 1);
        for (int c = 1; c < chunks; c++) {
            int lo = start + (int) ((long) n * c / chunks);
            int hi = start + (int) ((long) n * (c + 1) / chunks);
            pending.add(executor.submit(() -> runSerial(body, lo, hi)));
        }
        Throwable failure = null;
        try {
            runSerial(body, start, start + n / chunks);
        } catch (RuntimeException | Error e) {
            failure = e;
        }
        for (Future<?> f : pending) {
            try {
                f.get();
            } catch (ExecutionException e) {
                if (failure == null) {
                    failure = e.getCause();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                if (failure == null) {
                    failure = e;
                }
            }
        }
        if (failure instanceof RuntimeException) {
            throw (RuntimeException) failure;
        }
        if (failure instanceof Error) {
            throw (Error) failure;
        }
        if (failure != null) {
            throw new IllegalStateException("Parallel.forRange: interrupted", failure);
        }
    }

    /** Returns how many chunks {@link #forRange} splits {@code n} elements into. */
    public static int chunkCount(int n, int grain) {
        if (isSerial()) {
            return 1;
        }
        long byGrain = Math.max(1, n / (long) Math.max(1, grain));
        return (int) Math.min(threads, byGrain);
    }

    private static void runSerial(RangeBody body, int lo, int hi) {
        boolean previous = SERIAL.get();
        SERIAL.set(Boolean.TRUE);
        try {
            body.run(lo, hi);
        } finally {
            SERIAL.set(previous);
        }
    }

    private static synchronized ExecutorService executor() {
        if (pool == null) {
            AtomicInteger count = new AtomicInteger();
            ThreadFactory factory = r -> {
                Thread t = new Thread(r, "transact4j-worker-" + count.incrementAndGet());
                t.setDaemon(true);
                return t;
            };
            pool = Executors.newFixedThreadPool(Math.max(1, threads - 1), factory);
        }
        return pool;
    }

    private static int initialThreads() {
        String value = System.getProperty(THREADS_PROPERTY);
        if (value == null || value.isBlank()) {
            return Runtime.getRuntime().availableProcessors();
        }
        try {
            int n = Integer.parseInt(value.trim());
            if (n >= 1) {
                return n;
            }
        } catch (NumberFormatException ignored) {
            // falls through to the error below
        }
        throw new IllegalArgumentException("Invalid system property " + THREADS_PROPERTY + "=" + value
                + ": expected a whole number of threads, 1 or more");
    }
}
