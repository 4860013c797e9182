package dev.transact4j.llama;

import dev.transact4j.nn.Embedding;
import dev.transact4j.nn.Module;
import dev.transact4j.nn.ModuleList;
import dev.transact4j.nn.RmsNorm;

/**
 * The body of a Llama model ({@code model} in Hugging Face's names): {@code embed_tokens},
 * {@code layers} and the final {@code norm}. {@link LlamaForCausalLM} runs it.
 */
public final class LlamaModel extends Module {

    private final Embedding embedTokens;
    private final ModuleList<LlamaDecoderLayer> layers;
    private final RmsNorm norm;

    /** Creates the body of {@code config}'s sizes with zero weights (initialise or load them). */
    public LlamaModel(LlamaConfig config) {
        this.embedTokens = registerModule("embed_tokens", new Embedding(config.vocabSize(), config.hiddenSize()));
        this.layers = registerModule("layers", new ModuleList<>());
        for (int layer = 0; layer < config.numHiddenLayers(); layer++) {
            layers.add(new LlamaDecoderLayer(config));
        }
        this.norm = registerModule("norm", new RmsNorm(config.hiddenSize(), (float) config.rmsNormEps()));
    }

    public Embedding embedTokens() {
        return embedTokens;
    }

    public ModuleList<LlamaDecoderLayer> layers() {
        return layers;
    }

    public RmsNorm norm() {
        return norm;
    }
}
