package dev.transact4j.transact;

import dev.transact4j.llama.LlamaConfig;
import dev.transact4j.llama.RopeKeptFrequencies;
import java.util.Arrays;

/**
 * The dimensions of a Llama model that pruning reads and changes, with Hugging Face meanings.
 *
 * <p>{@code keptFrequencies} is null when every head uses the standard rotary frequencies for
 * {@code headDim}. After head-dimension pruning with {@link RopeMode#KEEP} it holds, per layer and
 * per kv head, the indices into the original model's rotary frequencies ({@code theta^(-2i/d)}
 * of the original {@code head_dim d}) of the pairs the head kept: new dims {@code j} and
 * {@code j + headDim/2} rotate with original frequency {@code keptFrequencies[layer][kvHead][j]}.
 * The query heads of a group use their kv head's frequencies.
 *
 * @param hiddenSize       {@code hidden_size}, never pruned
 * @param heads            {@code num_attention_heads}
 * @param kvHeads          {@code num_key_value_heads}, a divisor of {@code heads}
 * @param headDim          {@code head_dim}
 * @param mhaInterSize     {@code mha_inter_size}, the attention's inner width, {@code heads * headDim}
 * @param intermediateSize {@code intermediate_size}, the MLP width
 * @param layers           {@code num_hidden_layers}
 * @param keptFrequencies  {@code [layers][kvHeads][headDim / 2]} original frequency indices, or null
 */
public record ModelDims(int hiddenSize, int heads, int kvHeads, int headDim, int mhaInterSize,
                        int intermediateSize, int layers, int[][][] keptFrequencies) {

    /**
     * Checks that the dimensions are positive and consistent.
     *
     * @throws IllegalArgumentException naming the first invalid field
     */
    public ModelDims {
        requirePositive("hidden_size", hiddenSize);
        requirePositive("num_attention_heads", heads);
        requirePositive("num_key_value_heads", kvHeads);
        requirePositive("head_dim", headDim);
        requirePositive("intermediate_size", intermediateSize);
        requirePositive("num_hidden_layers", layers);
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException("ModelDims: num_attention_heads " + heads
                    + " is not a multiple of num_key_value_heads " + kvHeads);
        }
        if (mhaInterSize != heads * headDim) {
            throw new IllegalArgumentException("ModelDims: mha_inter_size " + mhaInterSize
                    + " differs from num_attention_heads * head_dim = " + heads + " * " + headDim);
        }
        if (keptFrequencies != null) {
            keptFrequencies = checkFrequencies(keptFrequencies, layers, kvHeads, headDim);
        }
    }

    /** Returns the dimensions of a model with standard rotary frequencies. */
    public static ModelDims of(int hiddenSize, int heads, int kvHeads, int headDim, int intermediateSize, int layers) {
        return new ModelDims(hiddenSize, heads, kvHeads, headDim, heads * headDim, intermediateSize, layers, null);
    }

    /**
     * Returns the dimensions of the model {@code config} describes. Kept rotary frequencies, in any
     * of the config's forms, are expanded to one row per layer and kv head.
     */
    public static ModelDims from(LlamaConfig config) {
        int layers = config.numHiddenLayers();
        int kvHeads = config.numKeyValueHeads();
        RopeKeptFrequencies kept = config.ropeKeptFrequencies();
        int[][][] frequencies = null;
        if (kept != null) {
            frequencies = new int[layers][kvHeads][];
            for (int layer = 0; layer < layers; layer++) {
                for (int head = 0; head < kvHeads; head++) {
                    frequencies[layer][head] = kept.forHead(layer, head);
                }
            }
        }
        return new ModelDims(config.hiddenSize(), config.numAttentionHeads(), kvHeads, config.headDim(),
                config.attentionWidth(), config.intermediateSize(), layers, frequencies);
    }

    /** Returns the number of query heads that share one kv head. */
    public int groupSize() {
        return heads / kvHeads;
    }

    /** Returns the original rotary frequency indices used by {@code kvHead} of {@code layer}. */
    public int[] frequencies(int layer, int kvHead) {
        if (keptFrequencies == null) {
            int[] identity = new int[headDim / 2];
            Arrays.setAll(identity, i -> i);
            return identity;
        }
        return keptFrequencies[layer][kvHead].clone();
    }

    private static void requirePositive(String field, int value) {
        if (value < 1) {
            throw new IllegalArgumentException("ModelDims: " + field + " must be positive, got " + value);
        }
    }

    private static int[][][] checkFrequencies(int[][][] frequencies, int layers, int kvHeads, int headDim) {
        if (frequencies.length != layers) {
            throw new IllegalArgumentException("ModelDims: keptFrequencies has " + frequencies.length
                    + " layers, expected num_hidden_layers = " + layers);
        }
        int[][][] copy = new int[layers][][];
        for (int layer = 0; layer < layers; layer++) {
            if (frequencies[layer] == null || frequencies[layer].length != kvHeads) {
                throw new IllegalArgumentException("ModelDims: keptFrequencies of layer " + layer
                        + " must have one row per kv head (" + kvHeads + ")");
            }
            copy[layer] = new int[kvHeads][];
            for (int g = 0; g < kvHeads; g++) {
                int[] row = frequencies[layer][g];
                if (row == null || row.length != headDim / 2) {
                    throw new IllegalArgumentException("ModelDims: keptFrequencies of layer " + layer + ", kv head "
                            + g + " must have head_dim / 2 = " + headDim / 2 + " entries");
                }
                for (int f : row) {
                    if (f < 0) {
                        throw new IllegalArgumentException("ModelDims: negative frequency index " + f + " in layer "
                                + layer + ", kv head " + g);
                    }
                }
                copy[layer][g] = row.clone();
            }
        }
        return copy;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof ModelDims that
                && hiddenSize == that.hiddenSize && heads == that.heads && kvHeads == that.kvHeads
                && headDim == that.headDim && mhaInterSize == that.mhaInterSize
                && intermediateSize == that.intermediateSize && layers == that.layers
                && Arrays.deepEquals(keptFrequencies, that.keptFrequencies);
    }

    @Override
    public int hashCode() {
        int h = Arrays.hashCode(new int[] {hiddenSize, heads, kvHeads, headDim, mhaInterSize, intermediateSize, layers});
        return 31 * h + Arrays.deepHashCode(keptFrequencies);
    }

    @Override
    public String toString() {
        return "hidden_size " + hiddenSize + ", heads " + heads + " (kv " + kvHeads + ") x head_dim " + headDim
                + " = mha width " + mhaInterSize + ", intermediate_size " + intermediateSize + ", layers " + layers
                + (keptFrequencies == null ? ", standard rotary frequencies" : ", kept rotary frequencies");
    }
}
