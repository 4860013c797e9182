package dev.transact4j.llama;

import dev.transact4j.nn.Linear;
import dev.transact4j.nn.Module;
import dev.transact4j.tensor.Functional;
import dev.transact4j.tensor.Tensor;
import dev.transact4j.tensor.fused.CausalAttention;

/**
 * Llama's grouped-query self-attention ({@code self_attn}): projections {@code q_proj},
 * {@code k_proj}, {@code v_proj} and {@code o_proj}, rotary embedding of queries and keys, and
 * causal softmax attention in which query head {@code h} reads key/value head
 * {@code h / (NH / NKV)}.
 *
 * <p>Dimensions: {@code B} batch, {@code T} time, {@code C} hidden_size, {@code NH} query heads,
 * {@code NKV} key/value heads, {@code HS} head_dim, {@code W = NH * HS} (mha_inter_size, which may
 * differ from C).
 */
public final class LlamaAttention extends Module {

    private final int heads;
    private final int kvHeads;
    private final int headDim;
    private final float scale;
    private final Linear qProj;
    private final Linear kProj;
    private final Linear vProj;
    private final Linear oProj;

    /** Creates the block for {@code config}, with biases when {@code attention_bias}. */
    public LlamaAttention(LlamaConfig config) {
        this.heads = config.numAttentionHeads();
        this.kvHeads = config.numKeyValueHeads();
        this.headDim = config.headDim();
        this.scale = CausalAttention.defaultScale(headDim);
        int c = config.hiddenSize();
        boolean bias = config.attentionBias();
        this.qProj = registerModule("q_proj", new Linear(c, config.attentionWidth(), bias));
        this.kProj = registerModule("k_proj", new Linear(c, config.keyValueWidth(), bias));
        this.vProj = registerModule("v_proj", new Linear(c, config.keyValueWidth(), bias));
        this.oProj = registerModule("o_proj", new Linear(config.attentionWidth(), c, bias));
    }

    /**
     * Returns the attention output before {@code o_proj}, {@code [B * T, W]} with heads
     * concatenated, for the normalised input h {@code [B * T, C]} (rows batch-major). Time step
     * {@code t} sits at position {@code positionOffset + t}. Without a cache, attention covers the
     * T steps with autograd. With one, the new keys and values are appended to it, and the queries
     * attend to every cached step.
     */
    Tensor attend(Tensor h, int b, int t, int layer, RotaryTables rotary, int positionOffset, AttentionCache cache) {
        // projections split into heads: [B, T, H * HS] -> [B, H, T, HS]
        Tensor[] qkv = Linear.forwardAll(h, qProj, kProj, vProj);
        Tensor q = qkv[0].view(b, t, heads, headDim).transpose(1, 2);
        Tensor k = qkv[1].view(b, t, kvHeads, headDim).transpose(1, 2);
        Tensor v = qkv[2].view(b, t, kvHeads, headDim).transpose(1, 2);

        // rotary embedding of queries and keys at their absolute positions
        q = rotary.apply(layer, q, positionOffset);
        k = rotary.apply(layer, k, positionOffset);

        // softmax(q k^T / sqrt(HS) + causal) v, heads concatenated back into [B * T, W]
        Tensor out = cache == null
                ? Functional.causalAttention(q, k, v, scale)
                : attendCached(q, k, v, b, t, layer, cache);
        return out.transpose(1, 2).reshape(b * t, heads * headDim);
    }

    /** Returns {@code o_proj(attention)}, {@code [B * T, C]}. */
    Tensor project(Tensor attention) {
        return oProj.forward(attention);
    }

    /**
     * Appends k and v {@code [B, NKV, T, HS]} to the cache and returns the attention of q
     * {@code [B, NH, T, HS]} over every cached step, {@code [B, NH, T, HS]}.
     */
    private Tensor attendCached(Tensor q, Tensor k, Tensor v, int b, int t, int layer, AttentionCache cache) {
        Tensor qc = q.contiguous();
        Tensor kc = k.contiguous();
        Tensor vc = v.contiguous();
        int keySteps = cache.append(layer, kc.data(), kc.offset(), vc.data(), vc.offset(), t);
        Tensor out = Tensor.zeros(b, heads, t, headDim);
        float[] lse = new float[b * heads * t];
        CausalAttention.forwardKvCache(qc.data(), qc.offset(), cache.keys(layer), 0, cache.values(layer), 0,
                null, 0, out.data(), 0, lse, 0, b, heads, kvHeads, t, keySteps, cache.capacity(), headDim, scale);
        return out;
    }

    public Linear qProj() {
        return qProj;
    }

    public Linear kProj() {
        return kProj;
    }

    public Linear vProj() {
        return vProj;
    }

    public Linear oProj() {
        return oProj;
    }
}
