package dev.transact4j.llama;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The parameter names and shapes of a Hugging Face {@code LlamaForCausalLM}, in the order the
 * model defines them. This is the one place that maps checkpoint tensor names to their roles.
 *
 * <p>Dimensions: {@code V} vocab_size, {@code C} hidden_size, {@code I} intermediate_size,
 * {@code W} the attention width {@code num_attention_heads * head_dim} (mha_inter_size),
 * {@code KV} the key/value width {@code num_key_value_heads * head_dim}.
 *
 * <pre>
 * model.embed_tokens.weight                          [V, C]  token embedding
 * model.layers.{i}.input_layernorm.weight            [C]     RMSNorm before attention
 * model.layers.{i}.self_attn.q_proj.weight (.bias)   [W, C]  queries
 * model.layers.{i}.self_attn.k_proj.weight (.bias)   [KV, C] keys
 * model.layers.{i}.self_attn.v_proj.weight (.bias)   [KV, C] values
 * model.layers.{i}.self_attn.o_proj.weight (.bias)   [C, W]  attention output
 * model.layers.{i}.post_attention_layernorm.weight   [C]     RMSNorm before the MLP
 * model.layers.{i}.mlp.gate_proj.weight (.bias)      [I, C]  SwiGLU gate
 * model.layers.{i}.mlp.up_proj.weight (.bias)        [I, C]  SwiGLU up
 * model.layers.{i}.mlp.down_proj.weight (.bias)      [C, I]  MLP output
 * model.norm.weight                                  [C]     final RMSNorm
 * lm_head.weight                                     [V, C]  output projection, absent when tied
 * </pre>
 * Biases exist when {@code attention_bias} (the four attention projections) or {@code mlp_bias}
 * (the three MLP projections) is set.
 */
public final class LlamaParameters {

    /** Name of the token embedding. */
    public static final String EMBED_TOKENS = "model.embed_tokens.weight";
    /** Name of the final RMSNorm weight. */
    public static final String FINAL_NORM = "model.norm.weight";
    /** Name of the output projection, which a tied checkpoint does not store. */
    public static final String LM_HEAD = "lm_head.weight";

    /** Suffixes of a decoder layer's projections, in the order the layer defines them. */
    static final String[] ATTENTION_PROJECTIONS = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
            "self_attn.o_proj"};
    static final String[] MLP_PROJECTIONS = {"mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"};

    private LlamaParameters() {
    }

    /** Returns the name prefix of decoder layer {@code layer}: {@code model.layers.<layer>.}. */
    public static String layerPrefix(int layer) {
        return "model.layers." + layer + ".";
    }

    /**
     * Returns every parameter name of a model with {@code config} mapped to its shape, in
     * definition order. {@code lm_head.weight} is included unless {@code tied}.
     */
    public static Map<String, int[]> shapes(LlamaConfig config, boolean tied) {
        int v = config.vocabSize();
        int c = config.hiddenSize();
        int i = config.intermediateSize();
        int w = config.attentionWidth();
        int kv = config.keyValueWidth();
        Map<String, int[]> shapes = new LinkedHashMap<>();
        shapes.put(EMBED_TOKENS, new int[] {v, c});
        for (int layer = 0; layer < config.numHiddenLayers(); layer++) {
            String p = layerPrefix(layer);
            shapes.put(p + "input_layernorm.weight", new int[] {c});
            projection(shapes, p + "self_attn.q_proj", w, c, config.attentionBias());
            projection(shapes, p + "self_attn.k_proj", kv, c, config.attentionBias());
            projection(shapes, p + "self_attn.v_proj", kv, c, config.attentionBias());
            projection(shapes, p + "self_attn.o_proj", c, w, config.attentionBias());
            shapes.put(p + "post_attention_layernorm.weight", new int[] {c});
            projection(shapes, p + "mlp.gate_proj", i, c, config.mlpBias());
            projection(shapes, p + "mlp.up_proj", i, c, config.mlpBias());
            projection(shapes, p + "mlp.down_proj", c, i, config.mlpBias());
        }
        shapes.put(FINAL_NORM, new int[] {c});
        if (!tied) {
            shapes.put(LM_HEAD, new int[] {v, c});
        }
        return Collections.unmodifiableMap(shapes);
    }

    private static void projection(Map<String, int[]> shapes, String name, int out, int in, boolean bias) {
        shapes.put(name + ".weight", new int[] {out, in});
        if (bias) {
            shapes.put(name + ".bias", new int[] {out});
        }
    }

    /** Returns whether {@code name} is the weight of an RMSNorm, which Hugging Face initialises to ones. */
    static boolean isNormWeight(String name) {
        return name.endsWith("layernorm.weight") || name.equals(FINAL_NORM);
    }
}
