package dev.transact4j.tensor.fused;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The layout in which {@link CausalAttention} reads keys for its row-by-row scores: each head's
 * keys transposed to {@code [HS, capacity]} and cut along the steps into tiles of
 * {@value #TILE} steps, each tile {@code [HS, width]} contiguous. Every tile is {@value #TILE}
 * steps wide except the last, which contains the rest of the capacity. So a head takes
 * {@code HS x capacity} floats, and dimension {@code d} of step {@code t} sits at
 * {@code t0 * HS + d * width + (t - t0)} from the head's start, where {@code t0} is the tile's
 * first step ({@link #index}).
 *
 * <p>A score kernel broadcasts one query element per dimension and multiplies it into vectors of
 * consecutive keys, so it walks the key rows of a block of keys one after the other. In a plain
 * {@code [HS, capacity]} layout those rows lie {@code capacity} floats apart. In a tile they are
 * adjacent, so the scores of {@value #TILE} keys read one contiguous run of
 * {@code HS x 64 x 4} bytes, which the hardware prefetcher follows.
 */
public final class KeyTiles {

    /** Steps per tile: four vectors of 16 lanes, the widest species. */
    public static final int TILE = 64;

    private static final VectorSpecies<Float> SPECIES = Simd.SPECIES;

    private KeyTiles() {
    }

    /**
     * Returns the position of dimension {@code d} of step {@code step} in one head's tiled keys
     * of {@code capacity} steps.
     */
    public static int index(int step, int d, int capacity, int hs) {
        int t0 = step - step % TILE;
        return t0 * hs + d * width(t0, capacity) + step - t0;
    }

    /** Returns the width of the tile that starts at step {@code t0}. */
    private static int width(int t0, int capacity) {
        return Math.min(TILE, capacity - t0);
    }

    /**
     * Copies row-major keys {@code [steps, HS]} from {@code so} into steps
     * {@code [start, start + steps)} of one head's tiled keys from {@code to}. Writes run along
     * each tile row, so they are contiguous.
     */
    static void store(float[] src, int so, int steps, int start, int hs, float[] dst, int to, int capacity) {
        int end = start + steps;
        for (int t = start; t < end; ) {
            int t0 = t - t % TILE;
            int width = width(t0, capacity);
            int stop = Math.min(end, t0 + width);
            for (int d = 0; d < hs; d++) {
                int row = to + t0 * hs + d * width - t0;
                for (int s = t; s < stop; s++) {
                    dst[row + s] = src[so + (s - start) * hs + d];
                }
            }
            t = stop;
        }
    }

    /**
     * Copies the first {@code count} steps of one head's tiled keys from {@code from} into
     * {@code dst} as plain {@code [HS, count]}, the operand layout of a matrix product.
     */
    static void untile(float[] src, int from, int capacity, int count, int hs, float[] dst) {
        for (int t0 = 0; t0 < count; t0 += TILE) {
            int width = width(t0, capacity);
            int n = Math.min(width, count - t0);
            for (int d = 0; d < hs; d++) {
                System.arraycopy(src, from + t0 * hs + d * width, dst, d * count + t0, n);
            }
        }
    }

    /**
     * Writes {@code s[j] = scale * sum_d a[ao + d] * key(j, d)} for {@code j < count}, where the
     * keys are one head's tiles of {@code capacity} steps from {@code ko}. Vectorising over keys
     * instead of over the head size needs no lane reduction per key. Every score sums
     * d = 0 .. HS-1 with one fused multiply-add each, in the vector body and in the tail alike,
     * so its bits do not depend on where the tiles cut the keys.
     */
    static void scores(float[] a, int ao, float[] k, int ko, int capacity, int count, int hs, float scale,
                       float[] s) {
        for (int t0 = 0; t0 < count; t0 += TILE) {
            scoresOfTile(a, ao, k, ko + t0 * hs, width(t0, capacity), Math.min(TILE, count - t0), hs, scale,
                    s, t0);
        }
    }

    /**
     * Writes the scores of the first {@code count} keys of one tile {@code [HS, width]} from
     * {@code ko} into {@code s[so .. so + count)}: each step broadcasts one query element and
     * multiplies it into four vectors of keys.
     */
    private static void scoresOfTile(float[] a, int ao, float[] k, int ko, int width, int count, int hs,
                                     float scale, float[] s, int so) {
        int len = SPECIES.length();
        int j = 0;

        for (; j + 4 * len <= count; j += 4 * len) {
            FloatVector acc0 = FloatVector.zero(SPECIES);
            FloatVector acc1 = FloatVector.zero(SPECIES);
            FloatVector acc2 = FloatVector.zero(SPECIES);
            FloatVector acc3 = FloatVector.zero(SPECIES);
            for (int d = 0; d < hs; d++) {
                FloatVector ad = FloatVector.broadcast(SPECIES, a[ao + d]);
                int base = ko + d * width + j;
                acc0 = FloatVector.fromArray(SPECIES, k, base).fma(ad, acc0);
                acc1 = FloatVector.fromArray(SPECIES, k, base + len).fma(ad, acc1);
                acc2 = FloatVector.fromArray(SPECIES, k, base + 2 * len).fma(ad, acc2);
                acc3 = FloatVector.fromArray(SPECIES, k, base + 3 * len).fma(ad, acc3);
            }
            acc0.mul(scale).intoArray(s, so + j);
            acc1.mul(scale).intoArray(s, so + j + len);
            acc2.mul(scale).intoArray(s, so + j + 2 * len);
            acc3.mul(scale).intoArray(s, so + j + 3 * len);
        }
        for (; j + len <= count; j += len) {
            FloatVector acc = FloatVector.zero(SPECIES);
            for (int d = 0; d < hs; d++) {
                FloatVector ad = FloatVector.broadcast(SPECIES, a[ao + d]);
                acc = FloatVector.fromArray(SPECIES, k, ko + d * width + j).fma(ad, acc);
            }
            acc.mul(scale).intoArray(s, so + j);
        }
        for (; j < count; j++) {
            float acc = 0f;
            for (int d = 0; d < hs; d++) {
                acc = Math.fma(a[ao + d], k[ko + d * width + j], acc);
            }
            s[so + j] = acc * scale;
        }
    }

    /**
     * The scalar twin of {@link #scores}: the arithmetic of {@link CausalAttention#scoresScalar}
     * (a multiply and an add per d) on tiled keys, so the scalar path gives the same bits on a key
     * cache as on row-major keys.
     */
    static void scoresScalar(float[] a, int ao, float[] k, int ko, int capacity, int count, int hs, float scale,
                             float[] s) {
        for (int j = 0; j < count; j++) {
            float acc = 0f;
            for (int d = 0; d < hs; d++) {
                acc += a[ao + d] * k[ko + index(j, d, capacity, hs)];
            }
            s[j] = acc * scale;
        }
    }
}
