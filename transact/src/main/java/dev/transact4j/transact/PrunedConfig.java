package dev.transact4j.transact;

import dev.transact4j.llama.LlamaConfig;
import dev.transact4j.llama.RopeKeptFrequencies;
import java.util.Arrays;

/**
 * Derives the {@link LlamaConfig} of a pruned model from the config before the cut and the
 * {@link KeepPlan} that cut it.
 *
 * <p>The new config keeps every field of the old one and changes {@code num_attention_heads},
 * {@code num_key_value_heads}, {@code head_dim} (always written), {@code mha_inter_size} (always
 * written, {@code heads * head_dim}), {@code intermediate_size}, {@code num_hidden_layers} and
 * {@code rope_kept_frequencies}. A model pruned by whole heads or with
 * {@link RopeMode#RECOMPUTE} is therefore a plain Llama config that transformers reads, because it
 * takes the projection shapes from {@code head_dim} and ignores {@code mha_inter_size}, provided
 * the remaining head count divides hidden_size ({@link #transformersCompatibility}).
 *
 * <p>After {@link RopeMode#KEEP} the kept frequencies are written in the most compact form that
 * states them exactly: one list when every layer and kv head kept the same pairs, one list per
 * layer when the kv heads of each layer agree, else one list per layer and kv head. Such a config
 * also carries {@code "transact4j_rope": "keep"}, and only transact4j rotates it correctly.
 */
public final class PrunedConfig {

    /** The treatment of a config by stock Hugging Face transformers, judged from its fields. */
    public enum Compatibility {
        /** A plain Llama config: transformers builds the same model. */
        STANDARD,
        /**
         * The shapes are standard, but transformers 5.18 rejects a config whose hidden_size is not
         * a multiple of num_attention_heads, even with an explicit head_dim.
         */
        HEADS_DO_NOT_DIVIDE_HIDDEN_SIZE,
        /**
         * The config keeps rotary frequencies ({@code transact4j_rope}); transformers loads the
         * weights but rotates with the standard frequencies, so its outputs are wrong.
         */
        KEPT_ROTARY_FREQUENCIES
    }

    private PrunedConfig() {
    }

    /** Returns how stock transformers treats {@code config}; kept frequencies take precedence. */
    public static Compatibility transformersCompatibility(LlamaConfig config) {
        if (config.ropeKeptFrequencies() != null) {
            return Compatibility.KEPT_ROTARY_FREQUENCIES;
        }
        if (config.hiddenSize() % config.numAttentionHeads() != 0) {
            return Compatibility.HEADS_DO_NOT_DIVIDE_HIDDEN_SIZE;
        }
        return Compatibility.STANDARD;
    }

    /**
     * Returns the config of the model {@code plan} leaves of the model {@code before} describes.
     *
     * @throws IllegalArgumentException when the plan was made for other dimensions than the config's
     */
    public static LlamaConfig afterPlan(LlamaConfig before, KeepPlan plan) {
        ModelDims dims = ModelDims.from(before);
        if (!dims.equals(plan.before())) {
            throw new IllegalArgumentException("PrunedConfig: the keep plan was made for a model with " + plan.before()
                    + ", but the config describes " + dims + "; plan the pruning from this config's model");
        }
        ModelDims after = plan.after();
        RopeKeptFrequencies beforeKept = before.ropeKeptFrequencies();
        int originalHeadDim = beforeKept != null ? beforeKept.originalHeadDim() : before.headDim();
        RopeKeptFrequencies kept = after.keptFrequencies() == null ? null
                : compact(originalHeadDim, after.keptFrequencies());

        return before.toBuilder()
                .numAttentionHeads(after.heads())
                .numKeyValueHeads(after.kvHeads())
                .headDim(after.headDim())
                .mhaInterSize(after.mhaInterSize())
                .intermediateSize(after.intermediateSize())
                .numHiddenLayers(after.layers())
                .ropeKeptFrequencies(kept)
                .build();
    }

    /**
     * Returns {@code frequencies[layer][kvHead]} in the most compact exact form, or null when every
     * head keeps all pairs of {@code originalHeadDim} in order, which are the standard frequencies.
     */
    static RopeKeptFrequencies compact(int originalHeadDim, int[][][] frequencies) {
        int[] first = frequencies[0][0];
        boolean shared = true;
        boolean sharedPerLayer = true;
        for (int[][] layer : frequencies) {
            for (int[] head : layer) {
                shared &= Arrays.equals(head, first);
                sharedPerLayer &= Arrays.equals(head, layer[0]);
            }
        }
        if (shared && isAllPairs(first, originalHeadDim)) {
            return null;
        }
        if (shared) {
            return RopeKeptFrequencies.global(originalHeadDim, first);
        }
        if (sharedPerLayer) {
            return RopeKeptFrequencies.perLayer(originalHeadDim, Arrays.stream(frequencies).map(layer -> layer[0]).toList());
        }
        return RopeKeptFrequencies.perLayerPerHead(originalHeadDim, frequencies);
    }

    private static boolean isAllPairs(int[] indices, int originalHeadDim) {
        if (indices.length != originalHeadDim / 2) {
            return false;
        }
        for (int i = 0; i < indices.length; i++) {
            if (indices[i] != i) {
                return false;
            }
        }
        return true;
    }
}
