package dev.transact4j.llama;

/**
 * Storage for the keys and values of past positions that {@link LlamaForCausalLM} appends to and
 * attends over during inference.
 *
 * <p>Layout per layer: keys {@code [B, NKV, HS, capacity]}, transposed and cut into tiles of
 * {@value dev.transact4j.tensor.fused.KeyTiles#TILE} positions, each {@code [HS, 64]} contiguous
 * ({@link dev.transact4j.tensor.fused.KeyTiles}), and values {@code [B, NKV, capacity, HS]} ({@code B} sequences,
 * {@code NKV} key/value heads, {@code HS} head_dim). This is the layout
 * {@link dev.transact4j.tensor.fused.CausalAttention#forwardKvCache} reads without copying, and
 * {@link dev.transact4j.tensor.fused.CausalAttention#storeKeysTransposed} writes the keys. Keys are
 * stored after the rotary embedding. A forward pass appends the same number of positions to every
 * layer, in layer order.
 */
public interface AttentionCache {

    /** Returns the number of sequences {@code B}. */
    int batch();

    /** Returns the number of layers the cache stores keys and values for. */
    int layers();

    /** Returns the number of positions every layer stores, which is the position of the next token. */
    int length();

    /** Returns the maximum number of positions per sequence. */
    int capacity();

    /** Returns the key array of {@code layer}, {@code [B, NKV, HS, capacity]}. */
    float[] keys(int layer);

    /** Returns the value array of {@code layer}, {@code [B, NKV, capacity, HS]}. */
    float[] values(int layer);

    /**
     * Copies {@code steps} new positions of {@code layer}, keys and values
     * {@code [B, NKV, steps, HS]} from their offsets, behind the ones the layer stores. The keys
     * are written transposed, one tile column per position and head.
     *
     * @return the number of positions the layer stores afterwards
     * @throws IllegalStateException when the layer has no room for them
     */
    int append(int layer, float[] newKeys, int keysOffset, float[] newValues, int valuesOffset, int steps);
}
