package dev.transact4j.nn;

import dev.transact4j.tensor.Tensor;

/** Small module trees with Hugging Face Llama's names, shared by the nn tests. */
final class TinyModels {

    private TinyModels() {
    }

    /** A decoder layer without attention: {@code input_layernorm}, {@code mlp}, {@code post_attention_layernorm}. */
    static final class Layer extends Module {
        final RmsNorm inputLayernorm;
        final Mlp mlp;
        final RmsNorm postAttentionLayernorm;

        Layer(int hidden, int intermediate) {
            inputLayernorm = registerModule("input_layernorm", new RmsNorm(hidden, 1e-6f));
            mlp = registerModule("mlp", new Mlp(hidden, intermediate, false));
            postAttentionLayernorm = registerModule("post_attention_layernorm", new RmsNorm(hidden, 1e-6f));
        }

        Tensor forward(Tensor x) {
            return x.add(mlp.forward(inputLayernorm.forward(x)));
        }
    }

    /** {@code model.embed_tokens}, {@code model.layers.<i>}, {@code model.norm}. */
    static final class Body extends Module {
        final Embedding embedTokens;
        final ModuleList<Layer> layers;
        final RmsNorm norm;

        Body(int vocab, int hidden, int intermediate, int layerCount) {
            embedTokens = registerModule("embed_tokens", new Embedding(vocab, hidden));
            layers = registerModule("layers", new ModuleList<>());
            for (int i = 0; i < layerCount; i++) {
                layers.add(new Layer(hidden, intermediate));
            }
            norm = registerModule("norm", new RmsNorm(hidden, 1e-6f));
        }
    }

    /** A causal language model without attention: {@code model} and {@code lm_head}. */
    static final class LanguageModel extends Module {
        final Body model;
        final Linear lmHead;

        LanguageModel(int vocab, int hidden, int intermediate, int layerCount) {
            model = registerModule("model", new Body(vocab, hidden, intermediate, layerCount));
            lmHead = registerModule("lm_head", new Linear(hidden, vocab, false));
        }

        Tensor forward(int[] ids) {
            Tensor h = model.embedTokens.forward(ids);
            for (Layer layer : model.layers) {
                h = layer.forward(h);
            }
            return lmHead.forward(model.norm.forward(h));
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
