package dev.transact4j.train.trainer;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;

/**
 * Peak heap use, from the JVM's memory pools ({@link MemoryPoolMXBean}).
 *
 * <p>The JVM records a peak per pool (eden, survivor, old generation), not for the heap as a
 * whole, and pools peak at different times. {@link #heapPeakBytes()} adds the pool peaks, so it is
 * an upper bound of the heap's true peak. The old generation's peak alone is a lower bound of the
 * live data, which {@link #oldGenerationPeakBytes()} returns.
 */
public final class PeakMemory {

    private PeakMemory() {
    }

    /** Resets the peak of every heap pool to its current use, so later peaks belong to what follows. */
    public static void reset() {
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP && pool.isValid()) {
                pool.resetPeakUsage();
            }
        }
    }

    /** Returns the sum of the heap pools' peak use since the JVM started or the last {@link #reset()}. */
    public static long heapPeakBytes() {
        long sum = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP && pool.isValid()) {
                sum += pool.getPeakUsage().getUsed();
            }
        }
        return sum;
    }

    /** Returns the largest peak among pools whose name marks a tenured or old generation, or 0 when none does. */
    public static long oldGenerationPeakBytes() {
        long max = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            String name = pool.getName().toLowerCase(java.util.Locale.ROOT);
            if (pool.getType() == MemoryType.HEAP && (name.contains("old") || name.contains("tenured"))) {
                max = Math.max(max, pool.getPeakUsage().getUsed());
            }
        }
        return max;
    }

    /** Formats a byte count in MiB with one decimal. */
    public static String mebibytes(long bytes) {
        return String.format(java.util.Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024.0));
    }
}
