package dev.transact4j.tensor;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The worker threads behind {@link Parallel}: one fixed worker per extra thread, each handed at
 * most one chunk per parallel loop.
 *
 * <p>A decode step of a small model runs dozens of parallel loops of a few microseconds each.
 * Waking a parked thread takes tens of microseconds on a virtual machine, as long as the loop
 * itself. So a worker that finished a chunk spins a while before it parks, and the caller spins
 * for the workers to finish before it parks. A queue-based executor parks and wakes on every
 * loop; this pool does only when a pause is longer than the spin.
 *
 * <p>Spinning pays only while the thread being waited for is running. When other processes take
 * the cores, a spin that waits for a descheduled thread burns its whole time for nothing, once per
 * loop, and keeps that thread off the core. So each waiting side sets its spin from how long
 * its waits last ({@link Spin}): a wait shorter than {@code spinNanos} gets a spin that covers the
 * next one like it, and a longer wait halves the spin.
 *
 * <p>One caller at a time owns the workers. A loop started while another thread owns them runs
 * on its own calling thread, which gives the same results because kernels never depend on how
 * their range is split.
 */
final class WorkerPool {

    private final Worker[] workers;
    private final long spinNanos;

    /** The spin of the owner waiting for its workers, used only by the owner of the pool. */
    private final Spin ownerSpin;
    private final ReentrantLock owner = new ReentrantLock();

    /** Chunks of the current loop not finished yet, not counting the caller's own. */
    private final AtomicInteger pending = new AtomicInteger();

    /** The first exception a worker threw in the current loop. */
    private final AtomicReference<Throwable> failure = new AtomicReference<>();

    /** The caller while it is parked waiting for the workers, otherwise null. */
    private volatile Thread waiter;


    private boolean closed;

    WorkerPool(int workerCount, long spinNanos, String namePrefix) {
        this.spinNanos = spinNanos;
        this.ownerSpin = new Spin(spinNanos);
        this.workers = new Worker[workerCount];
        for (int w = 0; w < workerCount; w++) {
            workers[w] = new Worker(namePrefix + (w + 1));
            workers[w].start();
        }
    }

    /**
     * Runs {@code body} over {@code [start, start + n)} split into {@code chunks} contiguous
     * chunks, the first on the calling thread and one on each of {@code chunks - 1} workers, and
     * returns once all are done. Returns false without running anything when another thread owns
     * the workers, the pool is shut down, or it has fewer than {@code chunks - 1} workers.
     */
    boolean tryRun(int start, int n, int chunks, Parallel.RangeBody body) {
        if (chunks - 1 > workers.length || !owner.tryLock()) {
            return false;
        }
        try {
            if (closed) {
                return false;
            }
            failure.set(null);
            pending.set(chunks - 1);
            for (int c = 1; c < chunks; c++) {
                int lo = start + (int) ((long) n * c / chunks);
                int hi = start + (int) ((long) n * (c + 1) / chunks);
                workers[c - 1].post(body, lo, hi);
            }

            Throwable first = null;
            try {
                Parallel.runSerial(body, start, start + n / chunks);
            } catch (RuntimeException | Error e) {
                first = e;
            }
            awaitWorkers();

            if (first == null) {
                first = failure.getAndSet(null);
            }
            if (first instanceof RuntimeException) {
                throw (RuntimeException) first;
            }
            if (first instanceof Error) {
                throw (Error) first;
            }
            if (first != null) {
                throw new IllegalStateException("Parallel.forRange: a worker failed", first);
            }
            return true;
        } finally {
            owner.unlock();
        }
    }

    /** Returns whether the thread is a worker of some pool. */
    static boolean isWorker(Thread thread) {
        return thread instanceof Worker;
    }

    /** Stops the workers once the loop running now, if any, has finished. */
    void shutdown() {
        owner.lock();
        try {
            closed = true;
            for (Worker worker : workers) {
                worker.requestStop();
            }
        } finally {
            owner.unlock();
        }
    }

    /** Waits, without giving up on an interrupt, until every posted chunk has finished. */
    private void awaitWorkers() {
        long deadline = ownerSpin.start();
        boolean parked = false;
        while (pending.get() != 0) {
            if (!parked && System.nanoTime() < deadline) {
                Thread.onSpinWait();
                continue;
            }
            parked = true;
            // Publish the waiter before reading pending again: the last worker decrements
            // pending and then reads waiter, so one of the two reads the other's write.
            waiter = Thread.currentThread();
            if (pending.get() != 0) {
                LockSupport.park(this);
            }
            waiter = null;
        }
        ownerSpin.end();
    }

    private void finished(Throwable thrown) {
        if (thrown != null) {
            failure.compareAndSet(null, thrown);
        }
        if (pending.decrementAndGet() == 0) {
            Thread w = waiter;
            if (w != null) {
                LockSupport.unpark(w);
            }
        }
    }

    private final class Worker extends Thread {

        /** Number of chunks posted to this worker, written only by the owner of the pool. */
        private volatile int posted;
        private volatile boolean sleeping;
        private volatile boolean stopping;
        private final Spin spin = new Spin(spinNanos);

        /** The chunk to run, written before {@code posted} is incremented. */
        private Parallel.RangeBody body;
        private int lo;
        private int hi;

        Worker(String name) {
            super(name);
            setDaemon(true);
        }

        void post(Parallel.RangeBody chunkBody, int chunkLo, int chunkHi) {
            body = chunkBody;
            lo = chunkLo;
            hi = chunkHi;
            posted = posted + 1;
            if (sleeping) {
                LockSupport.unpark(this);
            }
        }

        void requestStop() {
            stopping = true;
            LockSupport.unpark(this);
        }

        @Override
        public void run() {
            // Loops started from inside a chunk stay on this thread.
            Parallel.markSerial();
            int chunksRun = 0;
            while (awaitPost(chunksRun)) {
                chunksRun++;
                Parallel.RangeBody chunkBody = body;
                body = null;
                Throwable thrown = null;
                try {
                    chunkBody.run(lo, hi);
                } catch (Throwable t) {
                    thrown = t;
                }
                finished(thrown);
            }
        }

        /** Waits until more than {@code chunksRun} chunks are posted and returns true, or false once stopping. */
        private boolean awaitPost(int chunksRun) {
            long deadline = spin.start();
            boolean parked = false;
            while (posted == chunksRun) {
                if (stopping) {
                    return false;
                }
                if (!parked && System.nanoTime() < deadline) {
                    Thread.onSpinWait();
                    continue;
                }
                parked = true;
                // Same handshake as awaitWorkers: post writes posted, then reads sleeping.
                sleeping = true;
                if (posted == chunksRun && !stopping) {
                    LockSupport.park(this);
                }
                sleeping = false;
            }
            spin.end();
            return true;
        }
    }

    /** The spin time of one waiting side, set from how long its waits last. */
    private static final class Spin {
        private final long maxNanos;
        private long nanos;
        private long start;

        Spin(long maxNanos) {
            this.maxNanos = maxNanos;
            this.nanos = maxNanos;
        }

        /** Starts a wait and returns the time its spin ends. */
        long start() {
            start = System.nanoTime();
            return start + nanos;
        }

        /**
         * Ends a wait. A wait the spin served doubles the spin, and a longer wait that ended within
         * the longest spin sets the spin to four times its length, so the next waits like it are
         * served by spinning. A wait longer than that halves the spin.
         */
        void end() {
            long waited = System.nanoTime() - start;
            if (waited <= nanos) {
                nanos = Math.min(maxNanos, 2 * nanos);
            } else if (waited <= maxNanos) {
                nanos = Math.min(maxNanos, 4 * waited);
            } else {
                nanos = nanos / 2;
            }
        }
    }
}
