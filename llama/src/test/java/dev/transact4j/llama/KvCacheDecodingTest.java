package dev.transact4j.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.transact4j.tensor.GradMode;
import dev.transact4j.tensor.Tensor;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Checks that prefill plus token-by-token decoding through a {@link LlamaKvCache} gives the logits
 * of a full forward pass at every position of both fixture sequences. Per position, the error is
 * {@code max|diff| / max|full|} over the vocabulary and must stay below 1e-5: the two paths sum in
 * different orders (matrix-vector products while decoding), so the bits may differ.
 */
class KvCacheDecodingTest {

    static Iterable<String> names() {
        return LlamaFixtures.NAMES;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("names")
    void decodingMatchesFullForward(String name) {
        LlamaForCausalLM model = LlamaFixtures.load(name).model();
        int[] ids = LlamaFixtures.reference(name).get("input_ids").ints();
        int b = LlamaFixtures.BATCH;
        int t = LlamaFixtures.SEQ_LEN;
        int v = model.config().vocabSize();
        float[] full;
        try (GradMode.Scope scope = GradMode.noGrad()) {
            full = model.logits(ids, b, t).toArray();
        }

        // prefill 17 tokens, a second chunk of 20, then one token at a time
        LlamaKvCache cache = model.newCache(b, t);
        int[] chunks = {17, 20};
        int position = 0;
        for (int steps : chunks) {
            Tensor logits = model.forward(slice(ids, b, t, position, steps), b, steps, cache, true);
            assertArrayEquals(new int[] {b, steps, v}, logits.shape(), "prefill logits shape");
            for (int s = 0; s < steps; s++) {
                assertPosition(name, full, logits.toArray(), b, t, steps, v, position + s, s);
            }
            position += steps;
            assertEquals(position, cache.length(), "cache length after prefill");
        }
        for (; position < t; position++) {
            Tensor logits = model.decode(slice(ids, b, t, position, 1), cache);
            assertArrayEquals(new int[] {b, v}, logits.shape(), "decode logits shape");
            assertPosition(name, full, logits.toArray(), b, t, 1, v, position, 0);
        }
        assertEquals(t, cache.length(), "cache full");
    }

    @Test
    void lastPositionLogitsOfPrefill() {
        LlamaForCausalLM model = LlamaFixtures.load("gqa").model();
        int[] ids = LlamaFixtures.reference("gqa").get("input_ids").ints();
        int b = LlamaFixtures.BATCH;
        int t = LlamaFixtures.SEQ_LEN;
        Tensor all = model.forward(ids, b, t, model.newCache(b, t), true);
        Tensor last = model.forward(ids, b, t, model.newCache(b, t), false);
        // The last-position pass multiplies 2 rows by lm_head, which GEMM routes to its batched
        // matrix-vector kernel, so the last bits may differ from the full pass.
        assertArrayEquals(all.narrow(1, t - 1, 1).contiguous().toArray(), last.toArray(), 1e-5f,
                "last-position logits");
    }

    @Test
    void truncatedCacheRepeatsContinuation() {
        LlamaForCausalLM model = LlamaFixtures.load("mha").model();
        int[] ids = Arrays.copyOf(LlamaFixtures.reference("mha").get("input_ids").ints(), 33);
        LlamaKvCache cache = model.newCache(1, 40);
        model.forward(Arrays.copyOf(ids, 32), 1, 32, cache, false);
        float[] first = model.decode(new int[] {ids[32]}, cache).toArray();
        cache.truncate(32);
        float[] again = model.decode(new int[] {ids[32]}, cache).toArray();
        assertArrayEquals(first, again, "same token after truncate");
    }

    @Test
    void cacheRejectsOverflowAndBatchMismatch() {
        LlamaForCausalLM model = LlamaFixtures.load("mha").model();
        LlamaKvCache cache = model.newCache(1, 4);
        IllegalStateException overflow = assertThrows(IllegalStateException.class,
                () -> model.forward(new int[] {1, 2, 3, 4, 5}, 1, 5, cache, false));
        assertTrue(overflow.getMessage().contains("5 more tokens do not fit in the KV cache, which stores 0 of 4 positions"),
                overflow.getMessage());
        IllegalArgumentException batch = assertThrows(IllegalArgumentException.class,
                () -> model.decode(new int[] {1, 2}, cache));
        assertTrue(batch.getMessage().contains("the input has 2 sequences but the cache was created for 1"),
                batch.getMessage());
        assertEquals(0, cache.length(), "a rejected call leaves the cache unchanged");
    }

    private static int[] slice(int[] ids, int b, int t, int start, int steps) {
        int[] out = new int[b * steps];
        for (int row = 0; row < b; row++) {
            System.arraycopy(ids, row * t + start, out, row * steps, steps);
        }
        return out;
    }

    /** Compares step {@code s} of cached logits {@code [B, steps, V]} with position {@code position} of the full ones. */
    private static void assertPosition(String name, float[] full, float[] cached, int b, int t, int steps, int v,
                                       int position, int s) {
        for (int row = 0; row < b; row++) {
            float[] actual = Arrays.copyOfRange(cached, (row * steps + s) * v, (row * steps + s + 1) * v);
            double[] expected = new double[v];
            for (int j = 0; j < v; j++) {
                expected[j] = full[(row * t + position) * v + j];
            }
            double error = LlamaFixtures.relativeError(actual, expected);
            assertTrue(error < 1e-5, name + ": sequence " + row + ", position " + position + ": relative error " + error);
        }
    }

}
