package dev.transact4j.llama.inference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.transact4j.llama.LlamaConfig;
import dev.transact4j.tensor.Rng;
import dev.transact4j.tensor.fused.CausalAttention;
import dev.transact4j.tensor.fused.KeyTiles;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class KvCacheTest {

    private static float[] random(int size, Rng rng) {
        float[] x = new float[size];
        for (int i = 0; i < size; i++) {
            x[i] = (float) rng.nextGaussian();
        }
        return x;
    }

    /** Returns positions {@code [from, to)} of a {@code [heads, seq, hs]} array as {@code [heads, to - from, hs]}. */
    private static float[] positions(float[] x, int heads, int seq, int hs, int from, int to) {
        float[] out = new float[heads * (to - from) * hs];
        for (int h = 0; h < heads; h++) {
            System.arraycopy(x, (h * seq + from) * hs, out, h * (to - from) * hs, (to - from) * hs);
        }
        return out;
    }

    @Test
    void prefillThenTokensLandInPlace() {
        int layers = 2;
        int heads = 3;
        // 70 of 80 positions fill a tile of 64 and part of a last tile 16 wide
        int maxSeq = 80;
        int hs = 6;
        int seq = 70;
        Rng rng = new Rng(1);
        KvCache cache = new KvCache(layers, heads, maxSeq, hs);
        float[][] k = new float[layers][];
        float[][] v = new float[layers][];
        for (int l = 0; l < layers; l++) {
            k[l] = random(heads * seq * hs, rng);
            v[l] = random(heads * seq * hs, rng);
        }

        // a prefill of 13 positions, then two single tokens
        for (int l = 0; l < layers; l++) {
            assertEquals(13, cache.append(l, positions(k[l], heads, seq, hs, 0, 13), 0,
                    positions(v[l], heads, seq, hs, 0, 13), 0, 13));
        }
        assertEquals(13, cache.length());
        for (int t = 13; t < seq; t++) {
            for (int l = 0; l < layers; l++) {
                assertEquals(t + 1, cache.append(l, positions(k[l], heads, seq, hs, t, t + 1), 0,
                        positions(v[l], heads, seq, hs, t, t + 1), 0, 1));
            }
        }
        assertEquals(seq, cache.length());
        assertEquals(maxSeq - seq, cache.remaining());

        // keys transposed to [NKV, HS, maxSeq] in tiles, values [NKV, maxSeq, HS]
        for (int l = 0; l < layers; l++) {
            for (int h = 0; h < heads; h++) {
                int offset = cache.headOffset(h);
                for (int t = 0; t < seq; t++) {
                    for (int d = 0; d < hs; d++) {
                        assertEquals(k[l][(h * seq + t) * hs + d], cache.keys(l)[offset + KeyTiles.index(t, d, maxSeq, hs)],
                                "key of layer " + l + " head " + h + " position " + t + " dimension " + d);
                    }
                }
                assertArrayEquals(Arrays.copyOfRange(v[l], h * seq * hs, (h + 1) * seq * hs),
                        Arrays.copyOfRange(cache.values(l), offset, offset + seq * hs), "values of layer " + l + " head " + h);
            }
        }
    }

    @Test
    void lengthCountsCompletedLayers() {
        KvCache cache = new KvCache(3, 1, 8, 2);
        float[] block = new float[4];
        cache.append(0, block, 0, block, 0, 2);
        cache.append(1, block, 0, block, 0, 2);
        assertEquals(0, cache.length(), "layer 2 has not been appended to");
        assertEquals(2, cache.length(1));
        cache.append(2, block, 0, block, 0, 2);
        assertEquals(2, cache.length());
    }

    @Test
    void decodeStepMatchesFullAttention() {
        // The last query row attending to cached keys gives the bits of a full causal forward of
        // 15 rows, which also runs row by row. A forward of 33 rows adds the weighted values in
        // matrix products, so it matches to rounding.
        for (int seq : new int[] {15, 33}) {
            int nh = 4;
            int nkv = 2;
            int hs = 8;
            Rng rng = new Rng(2);
            float[] q = random(nh * seq * hs, rng);
            float[] k = random(nkv * seq * hs, rng);
            float[] v = random(nkv * seq * hs, rng);
            float scale = CausalAttention.defaultScale(hs);
            float[] full = new float[nh * seq * hs];
            CausalAttention.forward(q, 0, k, 0, v, 0, null, 0, full, 0, new float[nh * seq], 0, 1, nh, nkv, seq, seq,
                    hs, scale);

            KvCache cache = new KvCache(1, nkv, 40, hs);
            cache.append(0, positions(k, nkv, seq, hs, 0, seq - 1), 0, positions(v, nkv, seq, hs, 0, seq - 1), 0,
                    seq - 1);
            int keys = cache.append(0, positions(k, nkv, seq, hs, seq - 1, seq), 0,
                    positions(v, nkv, seq, hs, seq - 1, seq), 0, 1);
            float[] lastQuery = positions(q, nh, seq, hs, seq - 1, seq);
            float[] out = new float[nh * hs];
            CausalAttention.forwardKvCache(lastQuery, 0, cache.keys(0), 0, cache.values(0), 0, null, 0, out, 0,
                    new float[nh], 0, 1, nh, nkv, 1, keys, cache.maxSeq(), hs, scale);
            float[] expected = positions(full, nh, seq, hs, seq - 1, seq);
            if (seq < 16) {
                assertArrayEquals(expected, out, "last row of " + seq + " steps");
            } else {
                for (int e = 0; e < out.length; e++) {
                    assertEquals(expected[e], out[e], 1e-6 + 1e-5 * Math.abs(expected[e]),
                            "last row of " + seq + " steps, element " + e);
                }
            }
        }
    }

    @Test
    void fullCacheNamesLimit() {
        KvCache cache = new KvCache(2, 1, 5, 2);
        float[] block = new float[8];
        cache.append(0, block, 0, block, 0, 4);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> cache.append(0, block, 0, block, 0, 2));
        assertTrue(e.getMessage().contains("layer 0 stores 4 of its 5 positions (max_seq)"), e.getMessage());
        assertTrue(e.getMessage().contains("cannot take 2 more"), e.getMessage());
        assertTrue(e.getMessage().contains("reset()"), e.getMessage());
        assertEquals(4, cache.length(0), "a rejected append changes nothing");
        cache.append(0, block, 0, block, 0, 1);
        assertEquals(5, cache.length(0));
    }

    @Test
    void resetStartsOver() {
        KvCache cache = new KvCache(1, 2, 4, 2);
        float[] block = new float[16];
        cache.append(0, block, 0, block, 0, 4);
        assertEquals(0, cache.remaining());
        cache.reset();
        assertEquals(0, cache.length());
        assertEquals(4, cache.remaining());
        float[] ones = new float[16];
        Arrays.fill(ones, 1f);
        cache.append(0, ones, 0, ones, 0, 4);
        assertEquals(1f, cache.keys(0)[0]);
    }

    @Test
    void bytesFollowConfig() {
        LlamaConfig config = LlamaConfig.tiny();
        KvCache cache = KvCache.forConfig(config, 100);
        long perPosition = 2L * config.numHiddenLayers() * config.numKeyValueHeads() * config.headDim() * 4;
        assertEquals(perPosition, cache.bytesPerPosition());
        assertEquals(100 * perPosition, cache.bytesReserved());
        assertEquals(0, cache.bytesUsed());
        float[] block = new float[config.numKeyValueHeads() * 3 * config.headDim()];
        for (int l = 0; l < config.numHiddenLayers(); l++) {
            cache.append(l, block, 0, block, 0, 3);
        }
        assertEquals(3 * perPosition, cache.bytesUsed());
        assertTrue(cache.memoryReport().startsWith("KV cache: 3 of 100 positions"), cache.memoryReport());
    }

    @Test
    void forConfigRejectsLongerThanTrained() {
        LlamaConfig config = LlamaConfig.tiny();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> KvCache.forConfig(config, 4096));
        assertTrue(e.getMessage().contains("max_position_embeddings 1024"), e.getMessage());
        assertEquals(1024, KvCache.forConfig(config).maxSeq());
    }

    @Test
    void invalidArgumentsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new KvCache(0, 1, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new KvCache(1, 64, 1 << 20, 128));
        KvCache cache = new KvCache(2, 2, 4, 2);
        assertThrows(IllegalArgumentException.class, () -> cache.append(2, new float[4], 0, new float[4], 0, 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> cache.append(0, new float[3], 0, new float[4], 0, 1));
        assertTrue(e.getMessage().contains("keys [2, 1, 2] from offset 0 do not fit an array of 3 floats"),
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> cache.headOffset(2));
    }
}
