package dev.transact4j.train.trainer;

/**
 * The trainer's random generator, SplitMix64 (Steele, Lea and Flood, "Fast Splittable
 * Pseudorandom Number Generators", OOPSLA 2014), whose whole state is one {@code long}, so a
 * checkpoint stores it and a resumed run continues the same sequence.
 */
public final class TrainingRandom {

    private static final long GOLDEN_GAMMA = 0x9e3779b97f4a7c15L;

    private long state;

    /** Creates a generator whose state is {@code state}: a seed, or a value returned by {@link #state()}. */
    public TrainingRandom(long state) {
        this.state = state;
    }

    /** Returns the state, which {@link #TrainingRandom(long)} restores. */
    public long state() {
        return state;
    }

    /** Returns the next 64 random bits. */
    public long nextLong() {
        state += GOLDEN_GAMMA;
        long z = state;
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    /** Returns a float uniform in [0, 1), from the top 24 bits. */
    public float nextFloat() {
        return (nextLong() >>> 40) * 0x1.0p-24f;
    }
}
