package dev.transact4j.transact;

import dev.transact4j.llama.LlamaConfig;
import dev.transact4j.llama.LlamaForCausalLM;

/**
 * The outcome of one {@link TransAct#pruneStep} shot: a dense, smaller model with no masks.
 *
 * <p>The model shares the arrays of every tensor the shot does not cut (embedding, norms, lm_head,
 * o_proj and down_proj biases, and projections of layers that lose nothing) with the model it was
 * pruned from. Training either one in place therefore changes both; copy the input model first
 * when both must evolve separately. Every parameter of the pruned model is trainable and has no
 * gradient, whatever the input model's settings, and the model has no activation observer.
 *
 * @param model    the pruned model
 * @param config   its config, with head counts, {@code head_dim}, {@code mha_inter_size}, MLP width,
 *                 layer count and, after {@code rope=keep}, the kept rotary frequencies
 * @param plan     the kept heads, dims, channels and layers
 * @param sparsity the sparsity conversion when the shot was given a sparsity, else null
 * @param report   the report entry of this shot
 */
public record PrunedModel(LlamaForCausalLM model, LlamaConfig config, KeepPlan plan, SparsityTarget sparsity,
                          ShotReport report) {
}
