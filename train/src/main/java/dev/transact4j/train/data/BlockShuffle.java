package dev.transact4j.train.data;

/**
 * The order in which an epoch visits the blocks: a Fisher-Yates permutation of {@code [0, n)} drawn
 * from a SplitMix64 stream whose seed mixes the run's seed with the epoch. The generator is written
 * out here rather than taken from {@code java.util}, so the same seed and epoch give the same order
 * on every JDK, and a data position saved in a checkpoint resumes exactly.
 */
public final class BlockShuffle {

    private static final long GOLDEN_GAMMA = 0x9E37_79B9_7F4A_7C15L;

    private BlockShuffle() {
    }

    /** Returns the block order of {@code epoch} for {@code seed}. */
    public static int[] permutation(int n, long seed, long epoch) {
        if (n < 0) {
            throw new IllegalArgumentException("BlockShuffle.permutation: n must be non-negative, got " + n);
        }
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        long[] state = {mix(seed ^ mix(epoch + GOLDEN_GAMMA))};
        for (int i = n - 1; i > 0; i--) {
            int j = (int) nextBelow(state, i + 1L);
            int swap = order[i];
            order[i] = order[j];
            order[j] = swap;
        }
        return order;
    }

    /** Returns a uniform value in {@code [0, bound)}, rejecting draws from the incomplete last range. */
    private static long nextBelow(long[] state, long bound) {
        while (true) {
            long bits = next(state) >>> 1;
            long value = bits % bound;
            if (bits - value + (bound - 1) >= 0) {
                return value;
            }
        }
    }

    private static long next(long[] state) {
        state[0] += GOLDEN_GAMMA;
        return mix(state[0]);
    }

    /** SplitMix64 finalizer (Steele, Lea and Flood, "Fast splittable pseudorandom number generators", 2014). */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58_476D_1CE4_E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D0_49BB_1331_11EBL;
        return z ^ (z >>> 31);
    }
}
