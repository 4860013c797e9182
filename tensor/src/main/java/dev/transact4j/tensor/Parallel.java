package dev.transact4j.tensor;

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

    /**
     * System property that sets how long, in microseconds, an idle worker waits for the next loop
     * before it parks, and a caller waits for its workers before it parks (default 500).
     */
    public static final String SPIN_PROPERTY = "transact4j.spinMicros";

    private static final long SPIN_NANOS = 1000L * wholeNumber(SPIN_PROPERTY, 500, 0,
            "a whole number of microseconds, 0 or more");

    private static final ThreadLocal<Boolean> SERIAL = ThreadLocal.withInitial(() -> Boolean.FALSE);

    private static volatile int threads = initialThreads();
    private static WorkerPool pool;

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
        if (WorkerPool.isWorker(Thread.currentThread())) {
            throw new IllegalStateException("Parallel.setThreads: called from inside a parallel loop. "
                    + "Set the thread count before starting the loop");
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
        if (!pool().tryRun(start, n, chunks, body)) {
            // Another thread owns the workers: this loop runs on the calling thread alone.
            runSerial(body, start, end);
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

    /** Runs one chunk with the loops it starts kept on the calling thread. */
    static void runSerial(RangeBody body, int lo, int hi) {
        boolean previous = SERIAL.get();
        SERIAL.set(Boolean.TRUE);
        try {
            body.run(lo, hi);
        } finally {
            SERIAL.set(previous);
        }
    }

    /** Keeps every parallel loop the calling thread starts from now on that thread. */
    static void markSerial() {
        SERIAL.set(Boolean.TRUE);
    }

    private static synchronized WorkerPool pool() {
        if (pool == null) {
            pool = new WorkerPool(Math.max(1, threads - 1), SPIN_NANOS, "transact4j-worker-");
        }
        return pool;
    }

    private static int initialThreads() {
        return wholeNumber(THREADS_PROPERTY, Runtime.getRuntime().availableProcessors(), 1,
                "a whole number of threads, 1 or more");
    }

    private static int wholeNumber(String property, int fallback, int min, String expected) {
        String value = System.getProperty(property);
        if (value == null || value.isBlank()) {
            return fallback;
        }
        try {
            int n = Integer.parseInt(value.trim());
            if (n >= min) {
                return n;
            }
        } catch (NumberFormatException ignored) {
            // falls through to the error below
        }
        throw new IllegalArgumentException("Invalid system property " + property + "=" + value
                + ": expected " + expected);
    }
}
