package dev.transact4j.llama;

/**
 * Receives the transitional activations of each decoder layer during a forward pass, such as a
 * pruning scorer that sums their squares per channel.
 *
 * <p>The rows are the model's own buffers, passed without a copy: row-major
 * {@code [tokens, width]} from {@code offset}, one row per token of the batch ({@code B * T} rows,
 * batch-major). They are valid only during the call and must not be modified. A model without an
 * observer neither copies nor visits them. Calls come from the thread that runs the forward pass,
 * layer by layer in order.
 */
@FunctionalInterface
public interface ActivationObserver {

    /** The point in a decoder layer at which an activation is taken. */
    enum Site {
        /**
         * The attention output before {@code o_proj}: the softmax-weighted sums of the values, heads
         * concatenated, width {@code num_attention_heads * head_dim}.
         */
        ATTENTION_OUTPUT,
        /** The MLP's {@code silu(gate_proj(x)) * up_proj(x)} before {@code down_proj}, width {@code intermediate_size}. */
        MLP_ACTIVATION
    }

    /**
     * Observes one activation of decoder layer {@code layer} (0-based).
     *
     * @param rows   the values, row-major {@code [tokens, width]} starting at {@code offset}
     * @param tokens the number of rows
     * @param width  the number of channels per row
     */
    void observe(int layer, Site site, float[] rows, int offset, int tokens, int width);
}
