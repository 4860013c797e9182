package dev.transact4j.tensor;

import java.util.SplittableRandom;

/**
 * A seeded random number generator for tensor initialisation and sampling.
 *
 * <p>Built on {@link SplittableRandom}, whose output sequence for a seed is fixed by its
 * specification, and on {@link StrictMath} for the Gaussian transform, so a seed gives the same
 * numbers on every JDK and machine. Not thread-safe: use one instance per thread, or
 * {@link #split()} one off for each.
 */
public final class Rng {

    private final SplittableRandom random;
    private double spareGaussian;
    private boolean hasSpare;

    /** Creates a generator whose whole output is fixed by {@code seed}. */
    public Rng(long seed) {
        this(new SplittableRandom(seed));
    }

    private Rng(SplittableRandom random) {
        this.random = random;
    }

    /** Returns a new, independent generator whose sequence is fixed by this one's state. */
    public Rng split() {
        return new Rng(random.split());
    }

    /** Returns a uniform float in {@code [0, 1)}. */
    public float nextFloat() {
        // 24 random bits: every float in [0, 1) that this can return is exactly representable.
        return (random.nextInt() >>> 8) * 0x1.0p-24f;
    }

    /** Returns a uniform double in {@code [0, 1)}. */
    public double nextDouble() {
        return random.nextDouble();
    }

    /** Returns a uniform int in {@code [0, bound)}. */
    public int nextInt(int bound) {
        return random.nextInt(bound);
    }

    /** Returns a standard normal sample, by the Box-Muller transform (two samples per two uniforms). */
    public double nextGaussian() {
        if (hasSpare) {
            hasSpare = false;
            return spareGaussian;
        }
        double u1 = 1.0 - random.nextDouble(); // in (0, 1], so the log is finite
        double u2 = random.nextDouble();
        double radius = StrictMath.sqrt(-2.0 * StrictMath.log(u1));
        double angle = 2.0 * Math.PI * u2;
        spareGaussian = radius * StrictMath.sin(angle);
        hasSpare = true;
        return radius * StrictMath.cos(angle);
    }
}
