package dev.transact4j.llama;

import java.util.Arrays;

/**
 * The keys and values of every decoder layer for a batch of sequences that advance together, so
 * that each new token attends to the past without recomputing it.
 *
 * <p>Layout per layer: keys and values {@code [B, NKV, capacity, HS]}, the layout
 * {@link dev.transact4j.tensor.fused.CausalAttention#forwardKvCache} reads; the first
 * {@link #length()} steps of each head are filled. Keys are stored after the rotary embedding.
 * Memory: {@code 2 * layers * B * NKV * capacity * HS} floats, allocated up front.
 */
public final class LlamaKvCache {

    private final int batch;
    private final int capacity;
    private final int kvHeads;
    private final int headDim;
    private final float[][] keys;
    private final float[][] values;
    private int length;

    /**
     * Creates an empty cache for {@code batch} sequences of up to {@code capacity} tokens each.
     *
     * @throws IllegalArgumentException when batch or capacity is not positive, or the cache does
     *     not fit in a Java array per layer
     */
    public LlamaKvCache(LlamaConfig config, int batch, int capacity) {
        long perLayer = (long) batch * config.numKeyValueHeads() * capacity * config.headDim();
        if (batch <= 0 || capacity <= 0 || perLayer > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("LlamaKvCache: batch " + batch + " and capacity " + capacity
                    + " must be positive, and batch * num_key_value_heads * capacity * head_dim = " + perLayer
                    + " must fit in one array per layer; use a smaller batch or capacity");
        }
        this.batch = batch;
        this.capacity = capacity;
        this.kvHeads = config.numKeyValueHeads();
        this.headDim = config.headDim();
        this.keys = new float[config.numHiddenLayers()][(int) perLayer];
        this.values = new float[config.numHiddenLayers()][(int) perLayer];
    }

    /** Returns the number of sequences. */
    public int batch() {
        return batch;
    }

    /** Returns the maximum number of tokens per sequence. */
    public int capacity() {
        return capacity;
    }

    /** Returns the number of tokens cached per sequence, which is the position of the next token. */
    public int length() {
        return length;
    }

    /** Returns the number of tokens that still fit. */
    public int remaining() {
        return capacity - length;
    }

    /** Empties the cache, so the next prefill starts at position 0; the buffers are kept. */
    public void clear() {
        length = 0;
    }

    /**
     * Drops every token from position {@code newLength} on, for example to try another
     * continuation of a shared prompt.
     *
     * @throws IllegalArgumentException when newLength is negative or beyond the current length
     */
    public void truncate(int newLength) {
        if (newLength < 0 || newLength > length) {
            throw new IllegalArgumentException("LlamaKvCache.truncate: length " + newLength + " outside [0, " + length + "]");
        }
        length = newLength;
    }

    float[] keys(int layer) {
        return keys[layer];
    }

    float[] values(int layer) {
        return values[layer];
    }

    /**
     * Copies {@code steps} new keys and values {@code [B, NKV, steps, HS]} (from index 0 of each
     * array) of {@code layer} to positions {@code [length, length + steps)}.
     */
    void write(int layer, float[] k, int kOffset, float[] v, int vOffset, int steps) {
        int block = steps * headDim;
        for (int head = 0; head < batch * kvHeads; head++) {
            int at = (head * capacity + length) * headDim;
            System.arraycopy(k, kOffset + head * block, keys[layer], at, block);
            System.arraycopy(v, vOffset + head * block, values[layer], at, block);
        }
    }

    /** Checks that {@code steps} more tokens of {@code inputBatch} sequences fit. */
    void checkFits(int inputBatch, int steps) {
        if (inputBatch != batch) {
            throw new IllegalArgumentException("LlamaKvCache: the input has " + inputBatch
                    + " sequences but the cache was created for " + batch);
        }
        if (steps > remaining()) {
            throw new IllegalArgumentException("LlamaKvCache: " + steps + " more tokens do not fit; the cache holds "
                    + length + " of " + capacity + ". Create a cache with a larger capacity.");
        }
    }

    /** Advances the length after every layer has written {@code steps} tokens. */
    void advance(int steps) {
        length += steps;
    }

    @Override
    public String toString() {
        return "LlamaKvCache[batch " + batch + ", " + length + " of " + capacity + " tokens, layers " + keys.length
                + ", kv " + Arrays.toString(new int[] {kvHeads, headDim}) + "]";
    }
}
