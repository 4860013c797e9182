package dev.transact4j.llama;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * Parameter counts, forward FLOPs, KV-cache and weight sizes of a Llama model, derived from its
 * {@link LlamaConfig} alone. Pruned shapes are taken into account: the attention's inner width is
 * {@code num_attention_heads * head_dim} ({@code mha_inter_size}), which may differ from hidden_size.
 *
 * <p>FLOP convention: one multiply-add is 2 FLOPs. A forward pass over one token at context length
 * {@code T} (the token attends to {@code T} positions, itself included) costs
 * <ul>
 *   <li>2 FLOPs per weight of every linear layer, including lm_head, which is a matrix product even
 *       when its weight is tied to the embeddings;</li>
 *   <li>per layer {@code 2 * T * attention_width} for the scores {@code q k^T} and as much for the
 *       weighted sum of values, {@code 4 * T * attention_width} in total.</li>
 * </ul>
 * The embedding lookup, biases, RMSNorm, SiLU, the gating product, RoPE and softmax are not counted.
 * Each costs a few FLOPs per element, little next to the matrix products.
 */
public final class ModelStats {

    /** Bytes per element of float32, the dtype transact4j computes and stores in. */
    public static final int FLOAT32_BYTES = 4;

    /** Parameter counts of one decoder layer, each including its bias when the config has one. */
    public record LayerStats(int index, long query, long key, long value, long output, long gate, long up, long down,
            long norms, long attentionWidth, long matmulWeights) {

        /** Returns the q/k/v/o projection parameters. */
        public long attentionParameters() {
            return query + key + value + output;
        }

        /** Returns the gate/up/down projection parameters. */
        public long mlpParameters() {
            return gate + up + down;
        }

        /** Returns all parameters of the layer, its two RMSNorm weights included. */
        public long parameters() {
            return attentionParameters() + mlpParameters() + norms;
        }

        /** Returns the forward FLOPs of this layer for one token at context length {@code contextLength}. */
        public long forwardFlopsPerToken(int contextLength) {
            return 2 * matmulWeights + 4L * contextLength * attentionWidth;
        }
    }

    private final LlamaConfig config;
    private final List<LayerStats> layers;

    private ModelStats(LlamaConfig config) {
        this.config = config;
        List<LayerStats> list = new ArrayList<>();
        for (int layer = 0; layer < config.numHiddenLayers(); layer++) {
            list.add(layerStats(config, layer));
        }
        this.layers = Collections.unmodifiableList(list);
    }

    /** Returns the statistics of the model {@code config} describes. */
    public static ModelStats of(LlamaConfig config) {
        return new ModelStats(config);
    }

    // Every layer has the same shape because LlamaConfig has one head_dim and one intermediate_size.
    // Layers with differing shapes would show up in the per-layer list.
    private static LayerStats layerStats(LlamaConfig c, int index) {
        long hidden = c.hiddenSize();
        long attention = c.attentionWidth();
        long keyValue = c.keyValueWidth();
        long intermediate = c.intermediateSize();
        long attentionBias = c.attentionBias() ? 1 : 0;
        long mlpBias = c.mlpBias() ? 1 : 0;

        long query = hidden * attention + attentionBias * attention;
        long key = hidden * keyValue + attentionBias * keyValue;
        long value = hidden * keyValue + attentionBias * keyValue;
        long output = attention * hidden + attentionBias * hidden;
        long gate = hidden * intermediate + mlpBias * intermediate;
        long up = hidden * intermediate + mlpBias * intermediate;
        long down = intermediate * hidden + mlpBias * hidden;
        long norms = 2 * hidden;
        long matmulWeights = hidden * attention + 2 * hidden * keyValue + attention * hidden + 3 * hidden * intermediate;
        return new LayerStats(index, query, key, value, output, gate, up, down, norms, attention, matmulWeights);
    }

    /** Returns the config these statistics describe. */
    public LlamaConfig config() {
        return config;
    }

    /** Returns the statistics of every decoder layer, in order. */
    public List<LayerStats> layers() {
        return layers;
    }

    /** Returns the token embedding parameters, {@code vocab_size * hidden_size}. */
    public long embeddingParameters() {
        return (long) config.vocabSize() * config.hiddenSize();
    }

    /** Returns the lm_head parameters: 0 when tied to the embeddings, else {@code vocab_size * hidden_size}. */
    public long lmHeadParameters() {
        return config.tieWordEmbeddings() ? 0 : embeddingParameters();
    }

    /** Returns the final RMSNorm parameters, {@code hidden_size}. */
    public long finalNormParameters() {
        return config.hiddenSize();
    }

    /** Returns the parameters of all decoder layers. */
    public long layerParameters() {
        long sum = 0;
        for (LayerStats layer : layers) {
            sum += layer.parameters();
        }
        return sum;
    }

    /** Returns all parameters, as {@code sum(p.numel() for p in model.parameters())} counts them in PyTorch. */
    public long totalParameters() {
        return embeddingParameters() + layerParameters() + finalNormParameters() + lmHeadParameters();
    }

    /**
     * Returns the forward FLOPs for one token at context length {@code contextLength}, lm_head included.
     *
     * @throws IllegalArgumentException when contextLength is not positive
     */
    public long forwardFlopsPerToken(int contextLength) {
        if (contextLength <= 0) {
            throw new IllegalArgumentException("ModelStats: context length " + contextLength + " must be positive");
        }
        long flops = 2 * (long) config.vocabSize() * config.hiddenSize();
        for (LayerStats layer : layers) {
            flops += layer.forwardFlopsPerToken(contextLength);
        }
        return flops;
    }

    /** Returns the KV-cache bytes per token in float32. */
    public long kvCacheBytesPerToken() {
        return kvCacheBytesPerToken(FLOAT32_BYTES);
    }

    /**
     * Returns the KV-cache bytes per token: {@code 2 * layers * num_key_value_heads * head_dim * bytesPerElement}
     * (a key and a value vector per layer).
     */
    public long kvCacheBytesPerToken(int bytesPerElement) {
        checkBytes(bytesPerElement);
        return 2L * layers.size() * config.keyValueWidth() * bytesPerElement;
    }

    /** Returns the bytes of all weights in float32. */
    public long weightBytes() {
        return weightBytes(FLOAT32_BYTES);
    }

    /** Returns the bytes of all weights at {@code bytesPerElement}; tied embeddings are stored once. */
    public long weightBytes(int bytesPerElement) {
        checkBytes(bytesPerElement);
        return totalParameters() * bytesPerElement;
    }

    /**
     * Returns the element size of a {@code torch_dtype} name: float32 4, float16 and bfloat16 2, float64 8.
     *
     * @throws IllegalArgumentException for any other name
     */
    public static int bytesPerElement(String torchDtype) {
        return switch (torchDtype.toLowerCase(Locale.ROOT)) {
            case "float32", "float" -> 4;
            case "float16", "half", "bfloat16" -> 2;
            case "float64", "double" -> 8;
            default -> throw new IllegalArgumentException("ModelStats: unknown torch_dtype '" + torchDtype
                    + "'; expected float32, float16, bfloat16 or float64");
        };
    }

    private static void checkBytes(int bytesPerElement) {
        if (bytesPerElement <= 0) {
            throw new IllegalArgumentException("ModelStats: bytes per element " + bytesPerElement + " must be positive");
        }
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%,d parameters (%,d embedding, %,d in %d layers, %,d lm_head)",
                totalParameters(), embeddingParameters(), layerParameters(), layers.size(), lmHeadParameters());
    }
}
