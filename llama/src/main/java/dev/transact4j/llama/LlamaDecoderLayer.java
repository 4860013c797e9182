package dev.transact4j.llama;

import dev.transact4j.tensor.Functional;
import dev.transact4j.tensor.Tensor;
import dev.transact4j.tensor.fused.CausalAttention;
import java.util.Map;

/**
 * One Llama decoder layer: pre-norm grouped-query attention with rotary embedding, then a pre-norm
 * SwiGLU MLP, each added to the residual stream.
 *
 * <p>Dimensions: {@code B} batch, {@code T} time, {@code C} hidden_size, {@code NH} query heads,
 * {@code NKV} key/value heads, {@code HS} head_dim, {@code W = NH * HS}, {@code I}
 * intermediate_size.
 */
final class LlamaDecoderLayer {

    private final int index;
    private final int heads;
    private final int kvHeads;
    private final int headDim;
    private final float eps;
    private final float scale;

    final Tensor inputNorm;
    final Tensor qWeight;
    final Tensor qBias;
    final Tensor kWeight;
    final Tensor kBias;
    final Tensor vWeight;
    final Tensor vBias;
    final Tensor oWeight;
    final Tensor oBias;
    final Tensor postAttentionNorm;
    final Tensor gateWeight;
    final Tensor gateBias;
    final Tensor upWeight;
    final Tensor upBias;
    final Tensor downWeight;
    final Tensor downBias;

    /** Takes the layer's tensors from {@code parameters}, named as {@link LlamaParameters} lists them. */
    LlamaDecoderLayer(LlamaConfig config, int index, Map<String, Tensor> parameters) {
        this.index = index;
        this.heads = config.numAttentionHeads();
        this.kvHeads = config.numKeyValueHeads();
        this.headDim = config.headDim();
        this.eps = (float) config.rmsNormEps();
        this.scale = CausalAttention.defaultScale(headDim);
        String p = LlamaParameters.layerPrefix(index);
        inputNorm = parameters.get(p + "input_layernorm.weight");
        qWeight = parameters.get(p + "self_attn.q_proj.weight");
        qBias = parameters.get(p + "self_attn.q_proj.bias");
        kWeight = parameters.get(p + "self_attn.k_proj.weight");
        kBias = parameters.get(p + "self_attn.k_proj.bias");
        vWeight = parameters.get(p + "self_attn.v_proj.weight");
        vBias = parameters.get(p + "self_attn.v_proj.bias");
        oWeight = parameters.get(p + "self_attn.o_proj.weight");
        oBias = parameters.get(p + "self_attn.o_proj.bias");
        postAttentionNorm = parameters.get(p + "post_attention_layernorm.weight");
        gateWeight = parameters.get(p + "mlp.gate_proj.weight");
        gateBias = parameters.get(p + "mlp.gate_proj.bias");
        upWeight = parameters.get(p + "mlp.up_proj.weight");
        upBias = parameters.get(p + "mlp.up_proj.bias");
        downWeight = parameters.get(p + "mlp.down_proj.weight");
        downBias = parameters.get(p + "mlp.down_proj.bias");
    }

    /**
     * Returns the residual stream after this layer.
     *
     * <p>Shapes: x {@code [B * T, C]} with rows batch-major; the result has the same shape. Time
     * step {@code t} sits at position {@code positionOffset + t}. Without a cache, attention runs
     * over the T steps with autograd ({@code positionOffset} must be 0); with one, the new keys and
     * values are appended to it and the queries attend to everything cached so far, without
     * autograd.
     */
    Tensor forward(Tensor x, int b, int t, RotaryTables rotary, int positionOffset, LlamaKvCache cache,
                   ActivationObserver observer) {
        int rows = b * t;

        // attention block: h = rmsnorm(x); q, k, v projections split into heads [B, H, T, HS]
        Tensor h = Functional.rmsNorm(x, inputNorm, eps);
        Tensor q = Functional.linear(h, qWeight, qBias).view(b, t, heads, headDim).transpose(1, 2);
        Tensor k = Functional.linear(h, kWeight, kBias).view(b, t, kvHeads, headDim).transpose(1, 2);
        Tensor v = Functional.linear(h, vWeight, vBias).view(b, t, kvHeads, headDim).transpose(1, 2);

        // rotary embedding of queries and keys at their absolute positions
        q = rotary.apply(index, q, positionOffset);
        k = rotary.apply(index, k, positionOffset);

        // softmax(q k^T / sqrt(HS) + causal) v, then heads concatenated back: [B * T, W]
        Tensor attention = cache == null
                ? Functional.causalAttention(q, k, v, scale)
                : attendCached(q, k, v, b, t, cache);
        attention = attention.transpose(1, 2).reshape(rows, heads * headDim);
        if (observer != null) {
            observer.observe(index, ActivationObserver.Site.ATTENTION_OUTPUT, attention.data(), attention.offset(),
                    rows, heads * headDim);
        }
        x = x.add(Functional.linear(attention, oWeight, oBias));

        // mlp block: x + down(silu(gate(h)) * up(h)) with h = rmsnorm(x)
        h = Functional.rmsNorm(x, postAttentionNorm, eps);
        Tensor act = Functional.swiglu(Functional.linear(h, gateWeight, gateBias), Functional.linear(h, upWeight, upBias));
        if (observer != null) {
            Tensor rowsView = act.contiguous();
            observer.observe(index, ActivationObserver.Site.MLP_ACTIVATION, rowsView.data(), rowsView.offset(),
                    rows, act.size(-1));
        }
        return x.add(Functional.linear(act, downWeight, downBias));
    }

    /**
     * Appends k and v {@code [B, NKV, T, HS]} to the cache and returns the attention of q
     * {@code [B, NH, T, HS]} over every cached step, {@code [B, NH, T, HS]}.
     */
    private Tensor attendCached(Tensor q, Tensor k, Tensor v, int b, int t, LlamaKvCache cache) {
        Tensor qc = q.contiguous();
        Tensor kc = k.contiguous();
        Tensor vc = v.contiguous();
        cache.write(index, kc.data(), kc.offset(), vc.data(), vc.offset(), t);
        int keySteps = cache.length() + t;
        Tensor out = Tensor.zeros(b, heads, t, headDim);
        float[] lse = new float[b * heads * t];
        CausalAttention.forwardKvCache(qc.data(), qc.offset(), cache.keys(index), 0, cache.values(index), 0,
                null, 0, out.data(), 0, lse, 0, b, heads, kvHeads, t, keySteps, cache.capacity(), headDim, scale);
        return out;
    }
}
