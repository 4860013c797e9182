package dev.transact4j.llama.checkpoint;

import dev.transact4j.llama.LlamaConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The tensor names and shapes of a Hugging Face {@code LlamaForCausalLM} state dict, derived from
 * its config, and the check of a checkpoint against them.
 *
 * <p>Names and shapes ({@code H} hidden_size, {@code I} intermediate_size, {@code V} vocab_size,
 * {@code NH} num_attention_heads, {@code NKV} num_key_value_heads, {@code HD} head_dim):
 * <pre>
 * model.embed_tokens.weight                          [V, H]
 * model.layers.N.input_layernorm.weight              [H]
 * model.layers.N.self_attn.q_proj.weight             [NH * HD, H]    .bias [NH * HD]   with attention_bias
 * model.layers.N.self_attn.k_proj.weight             [NKV * HD, H]   .bias [NKV * HD]  with attention_bias
 * model.layers.N.self_attn.v_proj.weight             [NKV * HD, H]   .bias [NKV * HD]  with attention_bias
 * model.layers.N.self_attn.o_proj.weight             [H, NH * HD]    .bias [H]         with attention_bias
 * model.layers.N.post_attention_layernorm.weight     [H]
 * model.layers.N.mlp.gate_proj.weight                [I, H]          .bias [I]         with mlp_bias
 * model.layers.N.mlp.up_proj.weight                  [I, H]          .bias [I]         with mlp_bias
 * model.layers.N.mlp.down_proj.weight                [H, I]          .bias [H]         with mlp_bias
 * model.norm.weight                                  [H]
 * lm_head.weight                                     [V, H]          unless tie_word_embeddings
 * </pre>
 * Older checkpoints also store the rotary buffer {@code model.layers.N.self_attn.rotary_emb.inv_freq},
 * which the config determines; the check ignores it, as transformers does.
 */
public final class LlamaWeights {

    /** Name of the output projection, absent from checkpoints with tied embeddings. */
    public static final String LM_HEAD = "lm_head.weight";
    /** Name of the token embedding. */
    public static final String EMBED_TOKENS = "model.embed_tokens.weight";

    private static final Pattern ROTARY_BUFFER = Pattern.compile("model\\.layers\\.\\d+\\.self_attn\\.rotary_emb\\.inv_freq");

    private LlamaWeights() {
    }

    /** An expected tensor: its shape and the config fields that give each dimension. */
    public record Expected(int[] shape, String dims) {

        /** Returns the shape with its meaning, such as {@code [16, 32] (num_key_value_heads * head_dim, hidden_size)}. */
        public String describe() {
            return Arrays.toString(shape) + " (" + dims + ")";
        }
    }

    /** Returns every tensor {@code config} implies, in the order of the table above. */
    public static Map<String, Expected> expected(LlamaConfig config) {
        int h = config.hiddenSize();
        int inter = config.intermediateSize();
        int q = config.attentionWidth();
        int kv = config.keyValueWidth();
        String qDims = "num_attention_heads * head_dim = " + config.numAttentionHeads() + " * " + config.headDim();
        String kvDims = "num_key_value_heads * head_dim = " + config.numKeyValueHeads() + " * " + config.headDim();

        Map<String, Expected> out = new LinkedHashMap<>();
        out.put(EMBED_TOKENS, new Expected(new int[] {config.vocabSize(), h}, "vocab_size, hidden_size"));
        for (int layer = 0; layer < config.numHiddenLayers(); layer++) {
            String p = "model.layers." + layer + ".";
            out.put(p + "input_layernorm.weight", new Expected(new int[] {h}, "hidden_size"));
            projection(out, p + "self_attn.q_proj", q, h, qDims, "hidden_size", config.attentionBias());
            projection(out, p + "self_attn.k_proj", kv, h, kvDims, "hidden_size", config.attentionBias());
            projection(out, p + "self_attn.v_proj", kv, h, kvDims, "hidden_size", config.attentionBias());
            projection(out, p + "self_attn.o_proj", h, q, "hidden_size", qDims, config.attentionBias());
            out.put(p + "post_attention_layernorm.weight", new Expected(new int[] {h}, "hidden_size"));
            projection(out, p + "mlp.gate_proj", inter, h, "intermediate_size", "hidden_size", config.mlpBias());
            projection(out, p + "mlp.up_proj", inter, h, "intermediate_size", "hidden_size", config.mlpBias());
            projection(out, p + "mlp.down_proj", h, inter, "hidden_size", "intermediate_size", config.mlpBias());
        }
        out.put("model.norm.weight", new Expected(new int[] {h}, "hidden_size"));
        if (!config.tieWordEmbeddings()) {
            out.put(LM_HEAD, new Expected(new int[] {config.vocabSize(), h}, "vocab_size, hidden_size"));
        }
        return out;
    }

    private static void projection(Map<String, Expected> out, String name, int rows, int columns, String rowDims,
                                   String columnDims, boolean bias) {
        out.put(name + ".weight", new Expected(new int[] {rows, columns}, rowDims + ", " + columnDims));
        if (bias) {
            out.put(name + ".bias", new Expected(new int[] {rows}, rowDims));
        }
    }

    /** Returns whether {@code name} is a buffer that checkpoints may store but the config determines. */
    public static boolean isIgnored(String name) {
        return ROTARY_BUFFER.matcher(name).matches();
    }

    /**
     * Checks tensor shapes against the ones {@code config} implies and reports every difference at
     * once.
     *
     * @param shapes       the shape of every stored tensor, by name
     * @param invalidTypes stored tensors that cannot be read as floats, with their dtype; may be empty
     * @param source       the weights file, named first in the message
     * @param configSource the config file, named in the message
     * @throws IllegalArgumentException listing every missing, unexpected, misshapen and non-float
     *                                  tensor
     */
    public static void check(LlamaConfig config, Map<String, int[]> shapes, Map<String, String> invalidTypes,
                             String source, String configSource) {
        Map<String, Expected> expected = expected(config);
        List<String> missing = new ArrayList<>();
        List<String> unexpected = new ArrayList<>();
        List<String> misshapen = new ArrayList<>();
        List<String> wrongType = new ArrayList<>();

        for (Map.Entry<String, Expected> entry : expected.entrySet()) {
            int[] actual = shapes.get(entry.getKey());
            if (actual == null) {
                missing.add(entry.getKey() + " " + entry.getValue().describe());
            } else if (!Arrays.equals(actual, entry.getValue().shape())) {
                misshapen.add(entry.getKey() + " is " + Arrays.toString(actual) + ", expected "
                        + entry.getValue().describe());
            }
        }
        for (String name : shapes.keySet()) {
            if (expected.containsKey(name) || isIgnored(name)) {
                continue;
            }
            String hint = name.equals(LM_HEAD) ? " (the config ties the embeddings: tie_word_embeddings is true)" : "";
            unexpected.add(name + " " + Arrays.toString(shapes.get(name)) + hint);
        }
        for (Map.Entry<String, String> entry : invalidTypes.entrySet()) {
            if (expected.containsKey(entry.getKey())) {
                wrongType.add(entry.getKey() + " is " + entry.getValue() + ", expected F32, F16, BF16 or F64");
            }
        }
        if (missing.isEmpty() && unexpected.isEmpty() && misshapen.isEmpty() && wrongType.isEmpty()) {
            return;
        }

        StringBuilder message = new StringBuilder(source).append(": the weights do not match the Llama config ")
                .append(configSource).append(": ").append(missing.size()).append(" missing, ")
                .append(unexpected.size()).append(" unexpected, ").append(misshapen.size()).append(" with the wrong shape");
        if (!wrongType.isEmpty()) {
            message.append(", ").append(wrongType.size()).append(" not floating point");
        }
        message.append('.');
        missing.forEach(line -> message.append("\n  missing: ").append(line));
        unexpected.forEach(line -> message.append("\n  unexpected: ").append(line));
        misshapen.forEach(line -> message.append("\n  wrong shape: ").append(line));
        wrongType.forEach(line -> message.append("\n  wrong dtype: ").append(line));
        message.append("\nUse the config.json saved with these weights; a pruned model needs the config written ")
                .append("with its pruned sizes.");
        throw new IllegalArgumentException(message.toString());
    }
}
