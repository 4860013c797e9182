package dev.transact4j.llama.inference;

import dev.transact4j.llama.LlamaConfig;

/**
 * A causal language model as {@link Generator} drives it: the logits of the next token after a
 * block of ids, with the keys and values of earlier positions kept in a {@link KvCache}.
 *
 * <p>Contract: each call processes its ids at the positions after {@code cache.length()}, appends
 * their keys and values to every layer of the cache (so the length grows by the number of ids),
 * and returns the logits of the last position, one per vocabulary entry, in a new array.
 */
public interface CausalLm {

    /** Returns the configuration: vocabulary size, EOS ids, layer and head counts of the cache. */
    LlamaConfig config();

    /**
     * Processes {@code ids} (at least one) in one pass and returns the logits after the last one.
     *
     * @throws IllegalStateException when the cache has no room for {@code ids.length} positions
     */
    float[] prefill(int[] ids, KvCache cache);

    /**
     * Processes one id and returns the logits of the next position.
     *
     * @throws IllegalStateException when the cache is full
     */
    float[] decodeStep(int id, KvCache cache);
}
