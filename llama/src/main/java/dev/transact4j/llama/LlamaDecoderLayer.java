package dev.transact4j.llama;

import dev.transact4j.nn.Linear;
import dev.transact4j.nn.Mlp;
import dev.transact4j.nn.Module;
import dev.transact4j.nn.RmsNorm;
import dev.transact4j.tensor.Functional;
import dev.transact4j.tensor.Tensor;

/**
 * One Llama decoder layer: pre-norm grouped-query attention, then a pre-norm SwiGLU MLP, each
 * added to the residual stream. Children, as Hugging Face names them: {@code input_layernorm},
 * {@code self_attn}, {@code post_attention_layernorm}, {@code mlp}.
 *
 * <p>Dimensions: {@code B} batch, {@code T} time, {@code C} hidden_size, {@code W} the attention
 * width, {@code I} intermediate_size.
 */
public final class LlamaDecoderLayer extends Module {

    private final RmsNorm inputLayernorm;
    private final LlamaAttention selfAttn;
    private final RmsNorm postAttentionLayernorm;
    private final Mlp mlp;

    /** Creates a layer of {@code config}'s sizes with zero weights (initialise or load them). */
    public LlamaDecoderLayer(LlamaConfig config) {
        float eps = (float) config.rmsNormEps();
        this.inputLayernorm = registerModule("input_layernorm", new RmsNorm(config.hiddenSize(), eps));
        this.selfAttn = registerModule("self_attn", new LlamaAttention(config));
        this.postAttentionLayernorm = registerModule("post_attention_layernorm", new RmsNorm(config.hiddenSize(), eps));
        this.mlp = registerModule("mlp", new Mlp(config.hiddenSize(), config.intermediateSize(), config.mlpBias()));
    }

    /**
     * Returns the residual stream after this layer, which is layer {@code layer} of the model.
     *
     * <p>Shapes: x {@code [B * T, C]} with rows batch-major; the result has the same shape. Time
     * step {@code t} sits at position {@code positionOffset + t}. Without a cache the pass records
     * autograd (unless grad mode is off); with one, attention appends to and reads from the cache.
     */
    Tensor forward(Tensor x, int b, int t, int layer, RotaryTables rotary, int positionOffset, AttentionCache cache,
                   ActivationObserver observer) {
        int rows = b * t;

        // attention block: x + o_proj(attention(input_layernorm(x)))
        Tensor attention = selfAttn.attend(inputLayernorm.forward(x), b, t, layer, rotary, positionOffset, cache);
        if (observer != null) {
            // contiguous() returns the tensor itself when it is row-major already, as it is here
            Tensor dense = attention.contiguous();
            observer.observe(layer, ActivationObserver.Site.ATTENTION_OUTPUT, dense.data(), dense.offset(), rows,
                    dense.size(-1));
        }
        x = x.add(selfAttn.project(attention));

        // mlp block: x + down_proj(silu(gate_proj(h)) * up_proj(h)) with h = post_attention_layernorm(x)
        Tensor h = postAttentionLayernorm.forward(x);
        Tensor[] gateUp = Linear.forwardAll(h, mlp.gateProj(), mlp.upProj());
        Tensor act = Functional.swiglu(gateUp[0], gateUp[1]);
        if (observer != null) {
            Tensor dense = act.contiguous();
            observer.observe(layer, ActivationObserver.Site.MLP_ACTIVATION, dense.data(), dense.offset(), rows,
                    dense.size(-1));
        }
        return x.add(mlp.downProj().forward(act));
    }

    public RmsNorm inputLayernorm() {
        return inputLayernorm;
    }

    public LlamaAttention selfAttn() {
        return selfAttn;
    }

    public RmsNorm postAttentionLayernorm() {
        return postAttentionLayernorm;
    }

    public Mlp mlp() {
        return mlp;
    }
}
