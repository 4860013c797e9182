package dev.transact4j.tensor.fused;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class KeyTilesTest {

    @Test
    void indexFollowsTiles() {
        // capacity 150 with HS 3: tiles of 64, 64 and 22 steps
        assertEquals(0, KeyTiles.index(0, 0, 150, 3));
        assertEquals(63, KeyTiles.index(63, 0, 150, 3));
        assertEquals(64 + 5, KeyTiles.index(5, 1, 150, 3));
        assertEquals(2 * 64 + 63, KeyTiles.index(63, 2, 150, 3));
        assertEquals(64 * 3, KeyTiles.index(64, 0, 150, 3));
        assertEquals(128 * 3 + 2 * 22 + 21, KeyTiles.index(149, 2, 150, 3));
        // a capacity below one tile is the plain transposed layout
        assertEquals(2 * 40 + 17, KeyTiles.index(17, 2, 40, 3));
    }

    @Test
    void storeAcrossTilesThenUntile() {
        // appends of 60, 10 and 1 steps, the second across a tile boundary, into a capacity of 150
        Random random = new Random(80);
        int hs = 5;
        int capacity = 150;
        int steps = 71;
        float[] keys = FusedTesting.randn(random, steps * hs, 1.0);
        float[] tiles = new float[3 + capacity * hs];
        Arrays.fill(tiles, Float.NaN);
        KeyTiles.store(keys, 0, 60, 0, hs, tiles, 3, capacity);
        KeyTiles.store(keys, 60 * hs, 10, 60, hs, tiles, 3, capacity);
        KeyTiles.store(keys, 70 * hs, 1, 70, hs, tiles, 3, capacity);
        for (int t = 0; t < steps; t++) {
            for (int d = 0; d < hs; d++) {
                assertEquals(keys[t * hs + d], tiles[3 + KeyTiles.index(t, d, capacity, hs)],
                        "step " + t + ", dimension " + d);
            }
        }

        float[] plain = new float[hs * steps];
        KeyTiles.untile(tiles, 3, capacity, steps, hs, plain);
        for (int t = 0; t < steps; t++) {
            for (int d = 0; d < hs; d++) {
                assertEquals(keys[t * hs + d], plain[d * steps + t], "untiled step " + t + ", dimension " + d);
            }
        }
    }

    @Test
    void scoresMatchFusedAndScalarSums() {
        // The counts end in the four-vector body, the one-vector loop and the scalar tail of a
        // full or a last tile. The vector kernel has the bits of an fma chain, and the scalar
        // twin those of a multiply and an add per dimension.
        Random random = new Random(81);
        int hs = 19;
        for (int capacity : new int[] {7, 64, 100, 200}) {
            float[] keys = FusedTesting.randn(random, capacity * hs, 1.0);
            float[] tiles = new float[capacity * hs];
            KeyTiles.store(keys, 0, capacity, 0, hs, tiles, 0, capacity);
            float[] a = FusedTesting.randn(random, hs + 2, 1.0);
            for (int count : new int[] {1, 7, 16, 17, 63, 64, 65, 99, 100, 129, 200}) {
                if (count > capacity) {
                    continue;
                }
                float[] fused = new float[count];
                float[] plain = new float[count];
                for (int j = 0; j < count; j++) {
                    float f = 0f;
                    float p = 0f;
                    for (int d = 0; d < hs; d++) {
                        f = Math.fma(a[2 + d], keys[j * hs + d], f);
                        p += a[2 + d] * keys[j * hs + d];
                    }
                    fused[j] = f * 0.3f;
                    plain[j] = p * 0.3f;
                }
                float[] s = new float[count];
                KeyTiles.scores(a, 2, tiles, 0, capacity, count, hs, 0.3f, s);
                assertArrayEquals(fused, s, "vector scores, capacity " + capacity + ", count " + count);
                KeyTiles.scoresScalar(a, 2, tiles, 0, capacity, count, hs, 0.3f, s);
                assertArrayEquals(plain, s, "scalar scores, capacity " + capacity + ", count " + count);
            }
        }
    }
}
