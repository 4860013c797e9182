package dev.transact4j.llama.inference;

import dev.transact4j.llama.AttentionCache;
import dev.transact4j.llama.LlamaConfig;
import dev.transact4j.tensor.fused.CausalAttention;
import dev.transact4j.tensor.fused.KeyTiles;
import java.util.Arrays;
import java.util.Locale;

/**
 * Keys and values of the positions processed so far, per layer, so a decoding step attends to the
 * whole sequence while computing projections for one new token only.
 *
 * <p>Dimensions: {@code L} layers, {@code NKV} key/value heads, {@code S} the capacity
 * ({@code maxSeq} positions), {@code HS} head size. Each layer owns one float32 array of keys,
 * {@code [NKV, HS, S]}, and one of values, {@code [NKV, S, HS]}, allocated once at construction.
 * Keys are stored transposed in tiles of {@value KeyTiles#TILE} positions: head {@code h} stores
 * dimension {@code d} of position {@code t} at {@code h * HS * S + KeyTiles.index(t, d, S, HS)},
 * and its value at {@code (h * S + t) * HS + d}. So {@code CausalAttention.forwardKvCache} reads
 * the first {@code length} positions of head {@code h} from offset {@link #headOffset(int)} of
 * both arrays, without a copy.
 *
 * <p>It is the {@link AttentionCache} of one sequence, so {@code LlamaForCausalLM.forward} and
 * {@code decode} take it as they take a {@code LlamaKvCache} of batch 1.
 *
 * <p>A forward pass appends the same number of positions to every layer, in layer order. Each
 * layer keeps its own length, and {@link #length()} is the number of positions that every layer
 * stores. Not thread-safe.
 */
public final class KvCache implements AttentionCache {

    private final int layers;
    private final int kvHeads;
    private final int maxSeq;
    private final int headDim;
    private final float[][] keys;
    private final float[][] values;
    private final int[] layerLength;

    /**
     * Allocates a cache of {@code maxSeq} positions for every layer.
     *
     * @throws IllegalArgumentException when a size is not positive or one layer's array would
     *                                  exceed the largest Java array
     */
    public KvCache(int layers, int kvHeads, int maxSeq, int headDim) {
        if (layers <= 0 || kvHeads <= 0 || maxSeq <= 0 || headDim <= 0) {
            throw new IllegalArgumentException("KvCache: layers " + layers + ", kv heads " + kvHeads + ", max_seq "
                    + maxSeq + " and head_dim " + headDim + " must all be positive");
        }
        long perLayer = (long) kvHeads * maxSeq * headDim;
        if (perLayer > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("KvCache: one layer needs kv heads " + kvHeads + " * max_seq " + maxSeq
                    + " * head_dim " + headDim + " = " + perLayer + " floats, more than a Java array can hold; "
                    + "use a smaller max_seq");
        }
        this.layers = layers;
        this.kvHeads = kvHeads;
        this.maxSeq = maxSeq;
        this.headDim = headDim;
        this.keys = new float[layers][(int) perLayer];
        this.values = new float[layers][(int) perLayer];
        this.layerLength = new int[layers];
    }

    /**
     * Allocates a cache for {@code config}'s layers and key/value heads with room for
     * {@code maxSeq} positions.
     *
     * @throws IllegalArgumentException when {@code maxSeq} exceeds {@code max_position_embeddings}
     */
    public static KvCache forConfig(LlamaConfig config, int maxSeq) {
        if (maxSeq > config.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("KvCache: max_seq " + maxSeq + " exceeds the model's "
                    + "max_position_embeddings " + config.maxPositionEmbeddings()
                    + "; the model was not trained for longer sequences. Use at most that many positions.");
        }
        return new KvCache(config.numHiddenLayers(), config.numKeyValueHeads(), maxSeq, config.headDim());
    }

    /** Allocates a cache for {@code config} with room for {@code max_position_embeddings} positions. */
    public static KvCache forConfig(LlamaConfig config) {
        return forConfig(config, config.maxPositionEmbeddings());
    }

    /**
     * Copies {@code tokens} new positions of one layer behind the ones it stores.
     *
     * <p>Shapes: keys and values {@code [NKV, tokens, HS]} from their offsets, the layout of
     * projections after RoPE in {@code [B, NH, T, HS]} order with {@code B = 1}.
     *
     * @return the layer's length after the append, the key count its attention reads
     * @throws IllegalStateException when the layer has no room for {@code tokens} more positions
     * @throws IllegalArgumentException when the layer index or an array range is invalid
     */
    @Override
    public int append(int layer, float[] newKeys, int keysOffset, float[] newValues, int valuesOffset, int tokens) {
        checkLayer(layer);
        if (tokens < 0) {
            throw new IllegalArgumentException("KvCache.append: token count " + tokens + " is negative");
        }
        long size = (long) kvHeads * tokens * headDim;
        checkRange("keys", newKeys, keysOffset, size, tokens);
        checkRange("values", newValues, valuesOffset, size, tokens);
        int start = layerLength[layer];
        if (tokens > maxSeq - start) {
            throw new IllegalStateException("KV cache is full: layer " + layer + " stores " + start + " of its "
                    + maxSeq + " positions (max_seq) and cannot take " + tokens + " more. Call reset() to start "
                    + "a new sequence, shorten the prompt or the generation, or create the cache with a larger "
                    + "max_seq (at most max_position_embeddings).");
        }

        // keys go into columns [start, start + tokens) of every head's tiles, and values into one
        // contiguous run of tokens * HS floats each
        CausalAttention.storeKeysTransposed(newKeys, keysOffset, keys[layer], 0, kvHeads, tokens, start, maxSeq,
                headDim);
        int run = tokens * headDim;
        for (int h = 0; h < kvHeads; h++) {
            int to = (h * maxSeq + start) * headDim;
            System.arraycopy(newValues, valuesOffset + h * run, values[layer], to, run);
        }
        layerLength[layer] = start + tokens;
        return layerLength[layer];
    }

    /** Returns the number of positions that every layer stores. */
    @Override
    public int length() {
        int min = layerLength[0];
        for (int l = 1; l < layers; l++) {
            min = Math.min(min, layerLength[l]);
        }
        return min;
    }

    /** Returns the number of positions {@code layer} stores. */
    public int length(int layer) {
        checkLayer(layer);
        return layerLength[layer];
    }

    /** Returns how many more positions fit behind {@link #length()}. */
    public int remaining() {
        return maxSeq - length();
    }

    /** Forgets every position, keeping the arrays, so the cache can serve a new sequence. */
    public void reset() {
        Arrays.fill(layerLength, 0);
    }

    /** Returns the key array of {@code layer}, {@code [NKV, HS, S]}; positions past its length are stale. */
    @Override
    public float[] keys(int layer) {
        checkLayer(layer);
        return keys[layer];
    }

    /** Returns the value array of {@code layer}, {@code [NKV, S, HS]}; positions past its length are stale. */
    @Override
    public float[] values(int layer) {
        checkLayer(layer);
        return values[layer];
    }

    /** Returns the offset of key/value head {@code head} in a layer's key and value arrays. */
    public int headOffset(int head) {
        if (head < 0 || head >= kvHeads) {
            throw new IllegalArgumentException("KvCache: head " + head + " is outside [0, " + kvHeads + ")");
        }
        return head * maxSeq * headDim;
    }

    @Override
    public int layers() {
        return layers;
    }

    public int kvHeads() {
        return kvHeads;
    }

    /** Returns the capacity in positions. */
    public int maxSeq() {
        return maxSeq;
    }

    /** Returns 1: the cache contains one sequence. */
    @Override
    public int batch() {
        return 1;
    }

    /** Returns the capacity in positions, {@link #maxSeq()}. */
    @Override
    public int capacity() {
        return maxSeq;
    }

    public int headDim() {
        return headDim;
    }

    /** Returns the bytes of keys and values stored for the current {@link #length()}. */
    public long bytesUsed() {
        return bytesPerPosition() * length();
    }

    /** Returns the bytes allocated for keys and values: the whole capacity. */
    public long bytesReserved() {
        return bytesPerPosition() * maxSeq;
    }

    /** Returns the float32 bytes one position takes over all layers: {@code 2 * L * NKV * HS * 4}. */
    public long bytesPerPosition() {
        return 2L * layers * kvHeads * headDim * Float.BYTES;
    }

    /** Returns a one-line memory report, such as {@code KV cache: 12 of 2048 positions, 0.4 MiB of 64.0 MiB}. */
    public String memoryReport() {
        return String.format(Locale.ROOT, "KV cache: %d of %d positions, %.1f MiB of %.1f MiB "
                        + "(%d layers x %d kv heads x %d head_dim, float32)", length(), maxSeq,
                bytesUsed() / 1048576.0, bytesReserved() / 1048576.0, layers, kvHeads, headDim);
    }

    @Override
    public String toString() {
        return memoryReport();
    }

    private void checkLayer(int layer) {
        if (layer < 0 || layer >= layers) {
            throw new IllegalArgumentException("KvCache: layer " + layer + " is outside [0, " + layers + ")");
        }
    }

    private void checkRange(String name, float[] array, int offset, long size, int tokens) {
        if (offset < 0 || offset + size > array.length) {
            throw new IllegalArgumentException("KvCache.append: " + name + " [" + kvHeads + ", " + tokens + ", "
                    + headDim + "] from offset " + offset + " do not fit an array of " + array.length + " floats");
        }
    }
}
