package dev.transact4j.llama;

import dev.transact4j.tensor.fused.CausalAttention;
import java.util.Arrays;

/**
 * An {@link AttentionCache} for a batch of sequences that advance together, such as several
 * prompts decoded side by side. For one sequence, {@link dev.transact4j.llama.inference.KvCache}
 * serves as well.
 *
 * <p>Memory: {@code 2 * layers * B * NKV * capacity * HS} floats, allocated up front. Each layer
 * keeps its own length, and {@link #length()} is the number of positions every layer stores. Not
 * thread-safe.
 */
public final class LlamaKvCache implements AttentionCache {

    private final int batch;
    private final int capacity;
    private final int kvHeads;
    private final int headDim;
    private final float[][] keys;
    private final float[][] values;
    private final int[] layerLength;

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
        this.layerLength = new int[config.numHiddenLayers()];
    }

    @Override
    public int batch() {
        return batch;
    }

    @Override
    public int capacity() {
        return capacity;
    }

    @Override
    public int layers() {
        return keys.length;
    }

    @Override
    public int length() {
        int min = capacity;
        for (int length : layerLength) {
            min = Math.min(min, length);
        }
        return min;
    }

    /** Returns the number of tokens that still fit. */
    public int remaining() {
        return capacity - length();
    }

    /** Empties the cache, so the next prefill starts at position 0; the buffers are kept. */
    public void clear() {
        Arrays.fill(layerLength, 0);
    }

    /**
     * Drops every position from {@code newLength} on, for example to try another continuation of
     * a shared prompt.
     *
     * @throws IllegalArgumentException when newLength is negative or beyond the current length
     */
    public void truncate(int newLength) {
        int length = length();
        if (newLength < 0 || newLength > length) {
            throw new IllegalArgumentException("LlamaKvCache.truncate: length " + newLength + " outside [0, " + length + "]");
        }
        Arrays.fill(layerLength, newLength);
    }

    @Override
    public float[] keys(int layer) {
        return keys[layer];
    }

    @Override
    public float[] values(int layer) {
        return values[layer];
    }

    @Override
    public int append(int layer, float[] newKeys, int keysOffset, float[] newValues, int valuesOffset, int steps) {
        int start = layerLength[layer];
        if (steps > capacity - start) {
            throw new IllegalStateException("LlamaKvCache: layer " + layer + " stores " + start + " of " + capacity
                    + " positions and cannot take " + steps + " more. Create a cache with a larger capacity.");
        }

        // keys go into columns [start, start + steps) of every (sequence, head)'s tiles, and values
        // into one contiguous run of steps * HS floats each
        int heads = batch * kvHeads;
        CausalAttention.storeKeysTransposed(newKeys, keysOffset, keys[layer], 0, heads, steps, start, capacity,
                headDim);
        int run = steps * headDim;
        for (int head = 0; head < heads; head++) {
            int to = (head * capacity + start) * headDim;
            System.arraycopy(newValues, valuesOffset + head * run, values[layer], to, run);
        }
        layerLength[layer] = start + steps;
        return layerLength[layer];
    }

    @Override
    public String toString() {
        return "LlamaKvCache[batch " + batch + ", " + length() + " of " + capacity + " positions, " + keys.length
                + " layers x " + kvHeads + " kv heads x " + headDim + " head_dim]";
    }
}
