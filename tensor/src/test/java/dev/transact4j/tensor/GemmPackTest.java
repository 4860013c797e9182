package dev.transact4j.tensor;

import static dev.transact4j.tensor.GemmBlocking.MR;
import static dev.transact4j.tensor.GemmBlocking.NR;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Checks the packing routines of {@link GemmKernel} element by element against the layout they
 * promise, with zeros past the edge. Interleaved panels hold, for each step p of K, the MR (or
 * NR) values of panel q's rows (or columns) at {@code dst[q * width * kc + p * width + i]}; a
 * row-major block holds row r at {@code dst[r * kc + p]}.
 * Packed values must be the same floats bit for bit, so the products do not change.
 */
class GemmPackTest {

    /** Block heights and widths: below, at and above the panel widths, and not multiples of 8. */
    private static final int[] EDGES = {1, 3, 8, 15, 17, 33, 40, 70};
    /** Block depths: fewer than 8 steps, not a multiple of 8, and a multiple of 8. */
    private static final int[] DEPTHS = {1, 7, 9, 17, 64, 257};

    /** Element source: value of row i (of the packed panel's rows) at step p of K. */
    private interface Source {
        float at(int i, int p);
    }

    private interface Packer {
        void pack(float[] x, int offset, int ld, int i0, int rows, int p0, int depth, float[] dst);
    }

    private static float[] randomArray(Random random, int length) {
        float[] x = new float[length];
        for (int i = 0; i < length; i++) {
            x[i] = random.nextFloat() * 2 - 1;
        }
        return x;
    }

    /**
     * Packs a block of {@code rows} x {@code depth} from a random stored matrix with offset and
     * a leading dimension above the row length, and compares every packed float with the
     * expected one, including the zero padding. The buffer starts as NaN, so a float never
     * written fails too.
     */
    private static void check(String name, Packer packer, int width, boolean transposedStorage,
                              boolean rowMajor, int rows, int depth, Random random) {
        int i0 = random.nextInt(5);
        int p0 = random.nextInt(5);
        int totalRows = i0 + rows + random.nextInt(3);
        int totalDepth = p0 + depth + random.nextInt(3);
        // Stored [totalRows, totalDepth] (rows side by side along K), or its transpose.
        int storedCols = transposedStorage ? totalRows : totalDepth;
        int storedRows = transposedStorage ? totalDepth : totalRows;
        int ld = storedCols + random.nextInt(4);
        int offset = random.nextInt(4);
        float[] x = randomArray(random, offset + storedRows * ld);
        Source source = transposedStorage
                ? (i, p) -> x[offset + (p0 + p) * ld + i0 + i]
                : (i, p) -> x[offset + (i0 + i) * ld + p0 + p];

        int panels = (rows + width - 1) / width;
        float[] dst = new float[panels * width * depth + 5];
        java.util.Arrays.fill(dst, Float.NaN);
        packer.pack(x, offset, ld, i0, rows, p0, depth, dst);

        for (int q = 0; q < panels; q++) {
            for (int p = 0; p < depth; p++) {
                for (int i = 0; i < width; i++) {
                    int row = q * width + i;
                    float expected = row < rows ? source.at(row, p) : 0f;
                    float actual = dst[rowMajor ? row * depth + p : q * width * depth + p * width + i];
                    if (Float.floatToRawIntBits(actual) != Float.floatToRawIntBits(expected)) {
                        fail(name + " rows=" + rows + " depth=" + depth + " ld=" + ld + ": panel " + q
                                + ", step " + p + ", lane " + i + " is " + actual + ", expected " + expected);
                    }
                }
            }
        }
    }

    private static void checkAll(String name, Packer packer, int width, boolean transposedStorage,
                                 boolean rowMajor, long seed) {
        Random random = new Random(seed);
        for (int rows : EDGES) {
            for (int depth : DEPTHS) {
                check(name, packer, width, transposedStorage, rowMajor, rows, depth, random);
            }
        }
        // A block as tall as a whole number of panels plus an edge panel, at full depth.
        check(name, packer, width, transposedStorage, rowMajor, 5 * width + 3, GemmBlocking.KC, random);
    }

    @Test
    void packAMatchesLayout() {
        checkAll("packA", GemmKernel::packA, MR, false, true, 21);
    }

    @Test
    void packATransposedMatchesLayout() {
        checkAll("packATransposed", GemmKernel::packATransposed, MR, true, false, 22);
    }

    @Test
    void packBMatchesLayout() {
        // B stored [K, N]: the panel's columns lie along a stored row.
        checkAll("packB", (x, offset, ld, j0, cols, p0, depth, dst) ->
                GemmKernel.packB(x, offset, ld, p0, depth, j0, cols, dst), NR, true, false, 23);
    }

    @Test
    void packBTransposedMatchesLayout() {
        // B stored [N, K]: each column of op(B) is a stored row.
        checkAll("packBTransposed", (x, offset, ld, j0, cols, p0, depth, dst) ->
                GemmKernel.packBTransposed(x, offset, ld, p0, depth, j0, cols, dst), NR, false, false, 24);
    }
}
