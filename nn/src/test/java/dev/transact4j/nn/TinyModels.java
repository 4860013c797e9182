package dev.transact4j.nn;

import dev.transact4j.tensor.Functional;
import dev.transact4j.tensor.Tensor;

/**
 * A small Llama with Hugging Face's module names and registration order
 * ({@code LlamaForCausalLM}, {@code LlamaDecoderLayer}, ...), and a two-layer perceptron, shared
 * by the nn tests.
 */
final class TinyModels {

    private TinyModels() {
    }

    /** Grouped-query self-attention with rotary positions: {@code q_proj}, {@code k_proj}, {@code v_proj}, {@code o_proj}. */
    static final class SelfAttention extends Module {
        final int heads;
        final int kvHeads;
        final int headDim;
        final Linear qProj;
        final Linear kProj;
        final Linear vProj;
        final Linear oProj;

        SelfAttention(int hidden, int heads, int kvHeads) {
            this.heads = heads;
            this.kvHeads = kvHeads;
            this.headDim = hidden / heads;
            qProj = registerModule("q_proj", new Linear(hidden, heads * headDim, false));
            kProj = registerModule("k_proj", new Linear(hidden, kvHeads * headDim, false));
            vProj = registerModule("v_proj", new Linear(hidden, kvHeads * headDim, false));
            oProj = registerModule("o_proj", new Linear(heads * headDim, hidden, false));
        }

        /** x {@code [B, T, hidden]}, cos and sin {@code [P, headDim]} with {@code P >= T}. */
        Tensor forward(Tensor x, Tensor cos, Tensor sin) {
            int b = x.size(0);
            int t = x.size(1);
            Tensor q = qProj.forward(x).view(b, t, heads, headDim).transpose(1, 2);
            Tensor k = kProj.forward(x).view(b, t, kvHeads, headDim).transpose(1, 2);
            Tensor v = vProj.forward(x).view(b, t, kvHeads, headDim).transpose(1, 2);
            q = Functional.rope(q, cos, sin, 0);
            k = Functional.rope(k, cos, sin, 0);
            Tensor a = Functional.causalAttention(q, k, v, (float) (1 / Math.sqrt(headDim)));
            return oProj.forward(a.transpose(1, 2).reshape(b, t, heads * headDim));
        }
    }

    /** A pre-norm decoder layer: {@code self_attn}, {@code mlp}, {@code input_layernorm}, {@code post_attention_layernorm}. */
    static final class Layer extends Module {
        final SelfAttention selfAttn;
        final Mlp mlp;
        final RmsNorm inputLayernorm;
        final RmsNorm postAttentionLayernorm;

        Layer(int hidden, int intermediate, int heads, int kvHeads) {
            selfAttn = registerModule("self_attn", new SelfAttention(hidden, heads, kvHeads));
            mlp = registerModule("mlp", new Mlp(hidden, intermediate, false));
            inputLayernorm = registerModule("input_layernorm", new RmsNorm(hidden, 1e-6f));
            postAttentionLayernorm = registerModule("post_attention_layernorm", new RmsNorm(hidden, 1e-6f));
        }

        Tensor forward(Tensor x, Tensor cos, Tensor sin) {
            Tensor h = x.add(selfAttn.forward(inputLayernorm.forward(x), cos, sin));
            return h.add(mlp.forward(postAttentionLayernorm.forward(h)));
        }
    }

    /** {@code embed_tokens}, {@code layers.<i>}, {@code norm}. */
    static final class Body extends Module {
        final Embedding embedTokens;
        final ModuleList<Layer> layers;
        final RmsNorm norm;

        Body(int vocab, int hidden, int intermediate, int layerCount, int heads, int kvHeads) {
            embedTokens = registerModule("embed_tokens", new Embedding(vocab, hidden));
            layers = registerModule("layers", new ModuleList<>());
            for (int i = 0; i < layerCount; i++) {
                layers.add(new Layer(hidden, intermediate, heads, kvHeads));
            }
            norm = registerModule("norm", new RmsNorm(hidden, 1e-6f));
        }
    }

    /** A causal language model: {@code model} and {@code lm_head}. */
    static final class LanguageModel extends Module {
        final Body model;
        final Linear lmHead;

        LanguageModel(int vocab, int hidden, int intermediate, int layerCount, int heads, int kvHeads) {
            model = registerModule("model", new Body(vocab, hidden, intermediate, layerCount, heads, kvHeads));
            lmHead = registerModule("lm_head", new Linear(hidden, vocab, false));
        }

        /** A model with one attention head, for tests that never run forward. */
        LanguageModel(int vocab, int hidden, int intermediate, int layerCount) {
            this(vocab, hidden, intermediate, layerCount, 1, 1);
        }

        /** Returns the logits {@code [B * T, vocab]} for ids {@code [B, T]} (row-major). */
        Tensor forward(int[] ids, int b, int t, Tensor cos, Tensor sin) {
            Tensor h = model.embedTokens.forward(ids, b, t);
            for (Layer layer : model.layers) {
                h = layer.forward(h, cos, sin);
            }
            return lmHead.forward(model.norm.forward(h)).reshape(b * t, -1);
        }
    }

    /** A two-layer perceptron {@code fc2(tanh(fc1(x)))} for the regression tests. */
    static final class TwoLayer extends Module {
        final Linear fc1;
        final Linear fc2;

        TwoLayer(int in, int hidden, int out) {
            fc1 = registerModule("fc1", new Linear(in, hidden, true));
            fc2 = registerModule("fc2", new Linear(hidden, out, true));
        }

        Tensor forward(Tensor x) {
            return fc2.forward(fc1.forward(x).tanh());
        }
    }
}
