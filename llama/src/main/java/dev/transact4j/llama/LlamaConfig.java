package dev.transact4j.llama;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.transact4j.nn.io.AtomicFiles;
import dev.transact4j.nn.io.JsonErrors;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * The shape and hyperparameters of a Hugging Face Llama model, read from and written to its
 * {@code config.json}. Immutable: pruning produces a new config through {@link #toBuilder()} or the
 * {@code with...} methods.
 *
 * <p>Field names and defaults follow transformers' {@code LlamaConfig}, except that the five sizes
 * and {@code max_position_embeddings} are required here instead of defaulting to Llama-2-7B values.
 * Two fields are transact4j's own, for pruned models:
 * <ul>
 *   <li>{@code mha_inter_size}: the attention's inner width, {@code num_attention_heads * head_dim},
 *       which differs from {@code hidden_size} once heads or head dimensions are pruned. The pruned
 *       config also writes {@code head_dim}, so transformers builds the same projections. NOTE:
 *       transformers 5.18 still requires hidden_size to be a multiple of num_attention_heads, so it
 *       loads a head-pruned config only when the remaining head count divides hidden_size.</li>
 *   <li>{@code rope_kept_frequencies}: the rotary frequency pairs each layer and kv head kept
 *       after head-dimension pruning in {@code rope=keep} mode; see {@link RopeKeptFrequencies}.
 *       A config with this field also carries {@code "transact4j_rope": "keep"}
 *       ({@link #ROPE_MARKER_FIELD}). Such a model is not a standard Llama: transformers loads the
 *       weights, since every shape is standard, but ignores both fields and rotates every head with
 *       the standard frequencies of the pruned head_dim, which gives wrong outputs. Only transact4j
 *       ({@link Rotary#forHead}) rotates it as it was trained.</li>
 * </ul>
 * A model pruned by whole heads, or by head dimensions with rebuilt frequencies
 * ({@code rope=recompute}), has neither field and is a plain Llama config.
 *
 * <p>Both rotary layouts are read: {@code rope_theta} and {@code rope_scaling} at the top level
 * (transformers 4), or one {@code rope_parameters} object (transformers 5, which also renames
 * {@code torch_dtype} to {@code dtype}). A config is written back in the layout it was read in.
 *
 * <p>Fields this class does not interpret ({@code architectures}, {@code model_type},
 * {@code transformers_version}, ...) are kept and written back unchanged. Every invalid value is
 * rejected with an {@link IllegalArgumentException} naming the file, the field and the fix.
 */
public final class LlamaConfig {

    /** The file name Hugging Face uses for a model's configuration. */
    public static final String FILE_NAME = "config.json";

    /**
     * The field that marks a model whose heads rotate with kept, non-standard frequencies; its only
     * value is {@value #ROPE_MARKER_KEEP}. Written whenever {@code rope_kept_frequencies} is.
     */
    public static final String ROPE_MARKER_FIELD = "transact4j_rope";

    /** The value of {@value #ROPE_MARKER_FIELD}: rotary pairs kept their original frequencies. */
    public static final String ROPE_MARKER_KEEP = "keep";

    private static final String BUILT = "LlamaConfig";
    private static final Set<String> KNOWN_FIELDS = Set.of("vocab_size", "hidden_size", "intermediate_size",
            "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "head_dim", "mha_inter_size",
            "max_position_embeddings", "rms_norm_eps", "rope_theta", "rope_scaling", "tie_word_embeddings",
            "attention_bias", "mlp_bias", "hidden_act", "initializer_range", "bos_token_id", "eos_token_id",
            "pad_token_id", "torch_dtype", "rope_kept_frequencies", "rope_parameters", ROPE_MARKER_FIELD);
    private static final ObjectMapper MAPPER = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private final int vocabSize;
    private final int hiddenSize;
    private final int intermediateSize;
    private final int numHiddenLayers;
    private final int numAttentionHeads;
    private final int numKeyValueHeads;
    private final int headDim;
    private final boolean writeHeadDim;
    private final boolean writeMhaInterSize;
    private final int maxPositionEmbeddings;
    private final double rmsNormEps;
    private final double ropeTheta;
    private final RopeScaling ropeScaling;
    private final boolean tieWordEmbeddings;
    private final boolean attentionBias;
    private final boolean mlpBias;
    private final String hiddenAct;
    private final double initializerRange;
    private final int[] bosTokenIds;
    private final boolean bosIsList;
    private final int[] eosTokenIds;
    private final boolean eosIsList;
    private final Integer padTokenId;
    private final String torchDtype;
    private final boolean dtypeField;
    private final boolean ropeParametersLayout;
    private final RopeKeptFrequencies ropeKeptFrequencies;
    private final Map<String, JsonNode> extraFields;

    private LlamaConfig(Builder b, String source) {
        vocabSize = b.vocabSize;
        hiddenSize = b.hiddenSize;
        intermediateSize = b.intermediateSize;
        numHiddenLayers = b.numHiddenLayers;
        numAttentionHeads = b.numAttentionHeads;
        numKeyValueHeads = b.numKeyValueHeads != null ? b.numKeyValueHeads : b.numAttentionHeads;
        maxPositionEmbeddings = b.maxPositionEmbeddings;
        rmsNormEps = b.rmsNormEps;
        ropeTheta = b.ropeTheta;
        ropeScaling = b.ropeScaling;
        tieWordEmbeddings = b.tieWordEmbeddings;
        attentionBias = b.attentionBias;
        mlpBias = b.mlpBias;
        hiddenAct = b.hiddenAct;
        initializerRange = b.initializerRange;
        bosTokenIds = b.bosTokenIds.clone();
        bosIsList = b.bosIsList;
        eosTokenIds = b.eosTokenIds.clone();
        eosIsList = b.eosIsList;
        padTokenId = b.padTokenId;
        torchDtype = b.torchDtype;
        dtypeField = b.dtypeField;
        ropeParametersLayout = b.ropeParametersLayout;
        ropeKeptFrequencies = b.ropeKeptFrequencies;
        extraFields = Collections.unmodifiableMap(copyOf(b.extraFields));

        // Sizes first, because the head geometry divides by them.
        positive(source, "vocab_size", vocabSize);
        positive(source, "hidden_size", hiddenSize);
        positive(source, "intermediate_size", intermediateSize);
        positive(source, "num_hidden_layers", numHiddenLayers);
        positive(source, "num_attention_heads", numAttentionHeads);
        positive(source, "num_key_value_heads", numKeyValueHeads);
        positive(source, "max_position_embeddings", maxPositionEmbeddings);
        if (b.headDim != null) {
            positive(source, "head_dim", b.headDim);
        }
        if (b.mhaInterSize != null) {
            positive(source, "mha_inter_size", b.mhaInterSize);
        }

        headDim = deriveHeadDim(b, source);
        writeHeadDim = b.headDim != null || headDim * numAttentionHeads != hiddenSize;
        writeMhaInterSize = b.mhaInterSize != null || b.writeMhaInterSize || headDim * numAttentionHeads != hiddenSize;
        validateHeads(source);
        validateNumbers(source);
        validateRope(source);
    }

    private int deriveHeadDim(Builder b, String source) {
        int dim;
        if (b.headDim != null) {
            dim = b.headDim;
        } else if (b.mhaInterSize != null) {
            if (b.mhaInterSize % numAttentionHeads != 0) {
                throw new IllegalArgumentException(source + ": mha_inter_size " + b.mhaInterSize
                        + " is not divisible by num_attention_heads " + numAttentionHeads
                        + ". Set mha_inter_size to num_attention_heads * head_dim.");
            }
            dim = b.mhaInterSize / numAttentionHeads;
        } else {
            if (hiddenSize % numAttentionHeads != 0) {
                throw new IllegalArgumentException(source + ": hidden_size " + hiddenSize
                        + " is not divisible by num_attention_heads " + numAttentionHeads
                        + ". Set head_dim explicitly or fix one of the two fields.");
            }
            dim = hiddenSize / numAttentionHeads;
        }
        if (b.mhaInterSize != null && b.mhaInterSize != (long) dim * numAttentionHeads) {
            throw new IllegalArgumentException(source + ": mha_inter_size " + b.mhaInterSize
                    + " does not equal num_attention_heads * head_dim = " + numAttentionHeads + " * " + dim
                    + ". Fix one of the fields or remove mha_inter_size.");
        }
        return dim;
    }

    private void validateHeads(String source) {
        if (headDim % 2 != 0) {
            throw new IllegalArgumentException(source + ": head_dim " + headDim
                    + " is odd, but rotary embedding rotates pairs of dimensions. Use an even head_dim.");
        }
        if (numAttentionHeads % numKeyValueHeads != 0) {
            throw new IllegalArgumentException(source + ": num_attention_heads " + numAttentionHeads
                    + " is not a multiple of num_key_value_heads " + numKeyValueHeads
                    + ", so query heads cannot be grouped over key/value heads. Fix one of the two fields.");
        }
        if ((long) numAttentionHeads * headDim > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(source + ": num_attention_heads * head_dim = " + numAttentionHeads
                    + " * " + headDim + " overflows a 32-bit int");
        }
    }

    private void validateNumbers(String source) {
        if (!(rmsNormEps > 0) || Double.isInfinite(rmsNormEps)) {
            throw new IllegalArgumentException(source + ": rms_norm_eps is " + rmsNormEps
                    + " but must be a positive number such as 1e-05.");
        }
        if (!(initializerRange >= 0) || Double.isInfinite(initializerRange)) {
            throw new IllegalArgumentException(source + ": initializer_range is " + initializerRange
                    + " but must be zero or positive, such as 0.02.");
        }
        if (!hiddenAct.equals("silu")) {
            throw new IllegalArgumentException(source + ": hidden_act is '" + hiddenAct
                    + "' but transact4j implements only 'silu' (the SwiGLU MLP of Llama). Use a model with hidden_act silu.");
        }
        for (int id : bosTokenIds) {
            tokenId(source, "bos_token_id", id);
        }
        for (int id : eosTokenIds) {
            tokenId(source, "eos_token_id", id);
        }
        // pad_token_id is not checked: older conversions store -1 or an id past the vocabulary.
        JsonNode partial = extraFields.get("partial_rotary_factor");
        if (partial != null && !(partial.isNumber() && partial.doubleValue() == 1.0)) {
            throw new IllegalArgumentException(source + ": partial_rotary_factor is " + partial
                    + " but transact4j rotates the whole head (factor 1.0). Remove the field or use a model without it.");
        }
    }

    private void tokenId(String source, String field, int id) {
        if (id < 0 || id >= vocabSize) {
            throw new IllegalArgumentException(source + ": " + field + " " + id + " is outside the vocabulary [0, "
                    + vocabSize + "). Fix the token id or vocab_size.");
        }
    }

    private void validateRope(String source) {
        if (!(ropeTheta > 0) || Double.isInfinite(ropeTheta)) {
            throw new IllegalArgumentException(source + ": rope_theta is " + ropeTheta
                    + " but must be a positive number such as 10000.0.");
        }
        if (ropeScaling.type() == RopeScaling.Type.YARN && !ropeScaling.hasFactor()
                && !ropeScaling.hasOriginalMaxPositionEmbeddings()) {
            throw new IllegalArgumentException(source + ": rope_scaling of type yarn needs 'factor' or "
                    + "'original_max_position_embeddings' (the factor is then max_position_embeddings divided by it).");
        }
        if (ropeKeptFrequencies == null) {
            return;
        }
        RopeKeptFrequencies kept = ropeKeptFrequencies;
        String listField = "rope_kept_frequencies." + kept.form().field();
        if (kept.isPerLayer() && kept.layerCount() != numHiddenLayers) {
            throw new IllegalArgumentException(source + ": " + listField + " has " + kept.layerCount()
                    + " lists but num_hidden_layers is " + numHiddenLayers + ". Give one list per layer.");
        }
        if (kept.isPerHead() && kept.headCount() != numKeyValueHeads) {
            throw new IllegalArgumentException(source + ": " + listField + " has " + kept.headCount()
                    + " lists per layer but num_key_value_heads is " + numKeyValueHeads + ". Give one list per kv head.");
        }
        if (kept.originalHeadDim() < headDim) {
            throw new IllegalArgumentException(source + ": rope_kept_frequencies.original_head_dim "
                    + kept.originalHeadDim() + " is smaller than head_dim " + headDim
                    + "; it must be the head_dim of the unpruned model.");
        }
        for (int layer = 0; layer < kept.layerCount(); layer++) {
            for (int head = 0; head < kept.headCount(); head++) {
                int count = kept.forHead(layer, head).length;
                if (2 * count != headDim) {
                    String where = switch (kept.form()) {
                        case GLOBAL -> "";
                        case PER_LAYER -> "[" + layer + "]";
                        case PER_LAYER_PER_HEAD -> "[" + layer + "][" + head + "]";
                    };
                    throw new IllegalArgumentException(source + ": " + listField + where + " keeps " + count
                            + " frequencies, which rotate " + (2 * count) + " dimensions, but head_dim is " + headDim
                            + ". Keep head_dim / 2 frequencies.");
                }
            }
        }
    }

    private static void positive(String source, String field, long value) {
        if (value <= 0) {
            throw new IllegalArgumentException(source + ": " + field + " is " + value + " but must be positive.");
        }
    }

    private static Map<String, JsonNode> copyOf(Map<String, JsonNode> fields) {
        Map<String, JsonNode> copy = new LinkedHashMap<>();
        fields.forEach((name, value) -> copy.put(name, value.deepCopy()));
        return copy;
    }

    // ---------------------------------------------------------------- presets

    /**
     * Returns the "tiny" model of the demo and benchmarks: hidden 256, 4 layers, 8 heads of 32,
     * MLP 688, vocabulary 8192, 1024 positions: 7,358,720 parameters with untied embeddings.
     */
    public static LlamaConfig tiny() {
        return preset(256, 4, 8, 688);
    }

    /**
     * Returns the "small" model of the demo and benchmarks: hidden 512, 8 layers, 8 heads of 64,
     * MLP 1376, vocabulary 8192, 1024 positions: 33,694,208 parameters with untied embeddings.
     */
    public static LlamaConfig small() {
        return preset(512, 8, 8, 1376);
    }

    private static LlamaConfig preset(int hidden, int layers, int heads, int intermediate) {
        JsonNodeFactory json = JsonNodeFactory.instance;
        return builder()
                .vocabSize(8192)
                .hiddenSize(hidden)
                .intermediateSize(intermediate)
                .numHiddenLayers(layers)
                .numAttentionHeads(heads)
                .numKeyValueHeads(heads)
                .maxPositionEmbeddings(1024)
                .rmsNormEps(1e-5)
                .ropeTheta(10000)
                .torchDtype("float32")
                .extraField("architectures", json.arrayNode().add("LlamaForCausalLM"))
                .extraField("model_type", json.textNode("llama"))
                .build();
    }

    // ---------------------------------------------------------------- reading and writing

    /**
     * Reads a config from {@code path}: a config.json file or a model directory that contains one.
     *
     * @throws IllegalArgumentException when the file is missing, is not valid JSON or contains an
     *     invalid config; the message names the file and field
     * @throws UncheckedIOException when reading fails for another reason
     */
    public static LlamaConfig load(Path path) {
        Path file = Files.isDirectory(path) ? path.resolve(FILE_NAME) : path;
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("Llama config " + file + " not found. Pass a config.json file or the "
                    + "model directory that contains it.", e);
        } catch (IOException e) {
            throw new UncheckedIOException("Failed to read Llama config " + file, e);
        }
        return parse(text, file.toString());
    }

    /**
     * Parses config.json text. {@code source} names the origin (usually the file path) in error messages.
     *
     * @throws IllegalArgumentException when the text is not valid JSON or contains an invalid config
     */
    public static LlamaConfig parse(String json, String source) {
        JsonNode root;
        try {
            root = MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(source + ": invalid JSON" + JsonErrors.locationAndReason(e)
                    + ". Fix the file or restore it from the original checkpoint.", e);
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException(source + ": a Llama config must be a JSON object, found "
                    + (root == null || root.isMissingNode() ? "an empty file" : root.getNodeType().toString().toLowerCase(
                            java.util.Locale.ROOT)) + ".");
        }
        return fromJson((ObjectNode) root, source);
    }

    private static LlamaConfig fromJson(ObjectNode root, String source) {
        ConfigFields f = new ConfigFields(root, source, "");
        String sizeHint = "Every Llama config.json states the model's sizes; copy the file from the checkpoint.";
        Builder b = builder()
                .vocabSize(f.requireInt("vocab_size", sizeHint))
                .hiddenSize(f.requireInt("hidden_size", sizeHint))
                .intermediateSize(f.requireInt("intermediate_size", sizeHint))
                .numHiddenLayers(f.requireInt("num_hidden_layers", sizeHint))
                .numAttentionHeads(f.requireInt("num_attention_heads", sizeHint))
                .maxPositionEmbeddings(f.requireInt("max_position_embeddings",
                        "Set it to the context length the model was trained for, such as 4096."))
                .rmsNormEps(f.optionalDouble("rms_norm_eps", 1e-6))
                .tieWordEmbeddings(f.optionalBoolean("tie_word_embeddings", false))
                .attentionBias(f.optionalBoolean("attention_bias", false))
                .mlpBias(f.optionalBoolean("mlp_bias", false))
                .hiddenAct(f.optionalString("hidden_act", "silu"))
                .initializerRange(f.optionalDouble("initializer_range", 0.02))
                .padTokenId(f.optionalInteger("pad_token_id"));
        readRope(b, f, source);

        // transformers 5 writes the weight dtype as "dtype"; earlier versions as "torch_dtype".
        if (f.has("torch_dtype") || !f.has("dtype")) {
            b.torchDtype(f.optionalString("torch_dtype", null));
        } else {
            b.torchDtype(f.optionalString("dtype", null));
            b.dtypeField = true;
        }
        b.numKeyValueHeads = f.optionalInteger("num_key_value_heads");
        b.headDim = f.optionalInteger("head_dim");
        b.mhaInterSize = f.optionalInteger("mha_inter_size");
        // An absent token id takes the transformers default; an explicit null means the model has none.
        b.bosTokenIds = isNull(root, "bos_token_id") ? new int[0] : f.optionalIntOrList("bos_token_id", new int[] {1});
        b.bosIsList = f.has("bos_token_id") && f.get("bos_token_id").isArray();
        b.eosTokenIds = isNull(root, "eos_token_id") ? new int[0] : f.optionalIntOrList("eos_token_id", new int[] {2});
        b.eosIsList = f.has("eos_token_id") && f.get("eos_token_id").isArray();
        if (f.has("rope_kept_frequencies")) {
            b.ropeKeptFrequencies = RopeKeptFrequencies.parse(f.get("rope_kept_frequencies"), source);
        }
        readRopeMarker(f, b.ropeKeptFrequencies != null, source);
        root.fields().forEachRemaining(entry -> {
            if (!KNOWN_FIELDS.contains(entry.getKey()) && !(b.dtypeField && entry.getKey().equals("dtype"))) {
                b.extraFields.put(entry.getKey(), entry.getValue());
            }
        });
        return new LlamaConfig(b, source);
    }

    /**
     * Checks {@code transact4j_rope} against {@code rope_kept_frequencies}. The marker may be absent
     * (configs written before it existed); it is written back whenever kept frequencies are present.
     */
    private static void readRopeMarker(ConfigFields f, boolean hasKeptFrequencies, String source) {
        String marker = f.optionalString(ROPE_MARKER_FIELD, null);
        if (marker == null) {
            return;
        }
        if (!marker.equals(ROPE_MARKER_KEEP)) {
            throw new IllegalArgumentException(source + ": " + ROPE_MARKER_FIELD + " is '" + marker + "' but the only"
                    + " value is '" + ROPE_MARKER_KEEP + "'. Remove the field or set it to '" + ROPE_MARKER_KEEP + "'.");
        }
        if (!hasKeptFrequencies) {
            throw new IllegalArgumentException(source + ": " + ROPE_MARKER_FIELD + " is '" + ROPE_MARKER_KEEP
                    + "' but rope_kept_frequencies is missing, so the kept rotary frequencies are unknown. Restore "
                    + "rope_kept_frequencies from the pruning run, or remove " + ROPE_MARKER_FIELD + ".");
        }
    }

    /**
     * Reads rope_theta and the scaling from either layout: top-level {@code rope_theta} and
     * {@code rope_scaling} (transformers 4), or one {@code rope_parameters} object that contains
     * rope_theta, rope_type and the scaling fields (transformers 5). The layout read is the one written.
     */
    private static void readRope(Builder b, ConfigFields f, String source) {
        if (!f.has("rope_parameters")) {
            b.ropeTheta(f.optionalDouble("rope_theta", 10000.0));
            b.ropeScaling(RopeScaling.parse(f.get("rope_scaling"), source, "rope_scaling"));
            return;
        }
        if (f.has("rope_scaling")) {
            throw new IllegalArgumentException(source + ": both 'rope_scaling' and 'rope_parameters' are set. Keep "
                    + "one: rope_parameters (transformers 5) replaces rope_scaling and rope_theta.");
        }
        JsonNode parameters = f.get("rope_parameters");
        RopeScaling scaling = RopeScaling.parse(parameters, source, "rope_parameters");
        ConfigFields inner = new ConfigFields((ObjectNode) parameters, source, "rope_parameters.");
        double topLevelTheta = f.optionalDouble("rope_theta", 10000.0);
        b.ropeTheta(inner.optionalDouble("rope_theta", topLevelTheta));
        b.ropeScaling(scaling);
        b.ropeParametersLayout = true;
    }

    /**
     * Returns the config as a JSON object with keys in alphabetical order, as transformers writes
     * them. Optional fields that are absent ({@code pad_token_id}, {@code torch_dtype}) are left out;
     * {@code head_dim} and {@code mha_inter_size} are written when read or when the attention width
     * differs from hidden_size.
     */
    public ObjectNode toJson() {
        JsonNodeFactory json = JsonNodeFactory.instance;
        Map<String, JsonNode> fields = new TreeMap<>(copyOf(extraFields));

        fields.put("vocab_size", json.numberNode(vocabSize));
        fields.put("hidden_size", json.numberNode(hiddenSize));
        fields.put("intermediate_size", json.numberNode(intermediateSize));
        fields.put("num_hidden_layers", json.numberNode(numHiddenLayers));
        fields.put("num_attention_heads", json.numberNode(numAttentionHeads));
        fields.put("num_key_value_heads", json.numberNode(numKeyValueHeads));
        if (writeHeadDim) {
            fields.put("head_dim", json.numberNode(headDim));
        }
        if (writeMhaInterSize) {
            fields.put("mha_inter_size", json.numberNode(attentionWidth()));
        }

        fields.put("max_position_embeddings", json.numberNode(maxPositionEmbeddings));
        fields.put("rms_norm_eps", json.numberNode(rmsNormEps));

        JsonNode scaling = ropeScaling.toJson();
        if (ropeParametersLayout) {
            ObjectNode parameters = scaling == null ? json.objectNode().put("rope_type", "default") : (ObjectNode) scaling;
            parameters.put("rope_theta", ropeTheta);
            fields.put("rope_parameters", parameters);
        } else {
            fields.put("rope_theta", json.numberNode(ropeTheta));
            fields.put("rope_scaling", scaling == null ? json.nullNode() : scaling);
        }

        fields.put("tie_word_embeddings", json.booleanNode(tieWordEmbeddings));
        fields.put("attention_bias", json.booleanNode(attentionBias));
        fields.put("mlp_bias", json.booleanNode(mlpBias));
        fields.put("hidden_act", json.textNode(hiddenAct));
        fields.put("initializer_range", json.numberNode(initializerRange));

        fields.put("bos_token_id", tokenIds(bosTokenIds, bosIsList));
        fields.put("eos_token_id", tokenIds(eosTokenIds, eosIsList));
        if (padTokenId != null) {
            fields.put("pad_token_id", json.numberNode(padTokenId));
        }

        if (torchDtype != null) {
            fields.put(dtypeField ? "dtype" : "torch_dtype", json.textNode(torchDtype));
        }
        if (ropeKeptFrequencies != null) {
            fields.put("rope_kept_frequencies", ropeKeptFrequencies.toJson());
            fields.put(ROPE_MARKER_FIELD, json.textNode(ROPE_MARKER_KEEP));
        }

        ObjectNode node = json.objectNode();
        node.setAll(fields);
        return node;
    }

    private static boolean isNull(ObjectNode root, String field) {
        return root.has(field) && root.get(field).isNull();
    }

    private static JsonNode tokenIds(int[] ids, boolean asList) {
        if (!asList && ids.length == 0) {
            return JsonNodeFactory.instance.nullNode();
        }
        if (!asList && ids.length == 1) {
            return JsonNodeFactory.instance.numberNode(ids[0]);
        }
        ArrayNode list = JsonNodeFactory.instance.arrayNode();
        Arrays.stream(ids).forEach(list::add);
        return list;
    }

    /** Returns the config.json text: two-space indentation, keys in alphabetical order, a final newline. */
    public String toJsonString() {
        DefaultPrettyPrinter printer = new DefaultPrettyPrinter()
                .withSeparators(Separators.createDefaultInstance().withObjectFieldValueSpacing(Separators.Spacing.AFTER))
                .withArrayIndenter(DefaultIndenter.SYSTEM_LINEFEED_INSTANCE.withLinefeed("\n"))
                .withObjectIndenter(DefaultIndenter.SYSTEM_LINEFEED_INSTANCE.withLinefeed("\n"));
        try {
            return MAPPER.writer(printer).writeValueAsString(toJson()) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("Failed to serialize a Llama config", e);
        }
    }

    /**
     * Writes the config to {@code path} (a file, or a directory that receives config.json) through a
     * temporary file in the same directory that is then renamed, so readers never see a partial file.
     *
     * @return the file written
     * @throws UncheckedIOException when writing fails; no partial file is left behind
     */
    public Path save(Path path) {
        Path file = Files.isDirectory(path) ? path.resolve(FILE_NAME) : path;
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            AtomicFiles.write(file, toJsonString().getBytes(StandardCharsets.UTF_8));
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException("Failed to write Llama config " + file, e);
        }
    }

    // ---------------------------------------------------------------- accessors

    /** Returns {@code vocab_size}, the number of token embeddings. */
    public int vocabSize() {
        return vocabSize;
    }

    /** Returns {@code hidden_size}, the width of the residual stream. */
    public int hiddenSize() {
        return hiddenSize;
    }

    /** Returns {@code intermediate_size}, the width of the MLP's gate and up projections. */
    public int intermediateSize() {
        return intermediateSize;
    }

    /** Returns {@code num_hidden_layers}, the number of decoder layers. */
    public int numHiddenLayers() {
        return numHiddenLayers;
    }

    /** Returns {@code num_attention_heads}, the number of query heads. */
    public int numAttentionHeads() {
        return numAttentionHeads;
    }

    /** Returns {@code num_key_value_heads}; equal to the query heads unless attention is grouped. */
    public int numKeyValueHeads() {
        return numKeyValueHeads;
    }

    /** Returns the number of query heads that share one key/value head. */
    public int queriesPerKeyValueHead() {
        return numAttentionHeads / numKeyValueHeads;
    }

    /** Returns the dimension of one head: {@code head_dim} when stored, else derived from the widths. */
    public int headDim() {
        return headDim;
    }

    /**
     * Returns the attention's inner width {@code num_attention_heads * head_dim}: the output width of
     * q_proj and the input width of o_proj. Stored as {@code mha_inter_size} when it differs from
     * hidden_size.
     */
    public int attentionWidth() {
        return numAttentionHeads * headDim;
    }

    /** Returns {@code num_key_value_heads * head_dim}, the output width of k_proj and v_proj. */
    public int keyValueWidth() {
        return numKeyValueHeads * headDim;
    }

    /** Returns {@code max_position_embeddings}, the context length the model was built for. */
    public int maxPositionEmbeddings() {
        return maxPositionEmbeddings;
    }

    /** Returns {@code rms_norm_eps}, added to the mean square in RMSNorm. */
    public double rmsNormEps() {
        return rmsNormEps;
    }

    /** Returns {@code rope_theta}, the base of the rotary frequencies. */
    public double ropeTheta() {
        return ropeTheta;
    }

    /**
     * Returns {@code rope_scaling} (the scaling entries of {@code rope_parameters} in transformers 5);
     * {@link RopeScaling#NONE} when the config has none.
     */
    public RopeScaling ropeScaling() {
        return ropeScaling;
    }

    /** Returns {@code tie_word_embeddings}: whether lm_head reuses the token embedding matrix. */
    public boolean tieWordEmbeddings() {
        return tieWordEmbeddings;
    }

    /** Returns {@code attention_bias}: whether q/k/v/o projections have biases. */
    public boolean attentionBias() {
        return attentionBias;
    }

    /** Returns {@code mlp_bias}: whether gate/up/down projections have biases. */
    public boolean mlpBias() {
        return mlpBias;
    }

    /** Returns {@code hidden_act}; always "silu", the only activation supported. */
    public String hiddenAct() {
        return hiddenAct;
    }

    /** Returns {@code initializer_range}, the standard deviation of the normal weight initialization. */
    public double initializerRange() {
        return initializerRange;
    }

    /** Returns the beginning-of-sequence token ids: usually one, none when the config stores null. */
    public int[] bosTokenIds() {
        return bosTokenIds.clone();
    }

    /** Returns the end-of-sequence token ids: Llama 3 instruct models list several, none when the config stores null. */
    public int[] eosTokenIds() {
        return eosTokenIds.clone();
    }

    /** Returns {@code pad_token_id}, or null when the config has none. */
    public Integer padTokenId() {
        return padTokenId;
    }

    /** Returns {@code torch_dtype} ({@code dtype} in transformers 5), the dtype of the stored weights, or null. */
    public String torchDtype() {
        return torchDtype;
    }

    /** Returns the rotary frequencies kept by head-dimension pruning, or null when all are kept. */
    public RopeKeptFrequencies ropeKeptFrequencies() {
        return ropeKeptFrequencies;
    }

    /** Returns the fields this class does not interpret, in file order; written back unchanged. */
    public Map<String, JsonNode> extraFields() {
        return copyOf(extraFields);
    }

    // ---------------------------------------------------------------- copies

    /** Returns a builder that starts from this config, including its extra fields. */
    public Builder toBuilder() {
        Builder b = builder()
                .vocabSize(vocabSize)
                .hiddenSize(hiddenSize)
                .intermediateSize(intermediateSize)
                .numHiddenLayers(numHiddenLayers)
                .numAttentionHeads(numAttentionHeads)
                .numKeyValueHeads(numKeyValueHeads)
                .maxPositionEmbeddings(maxPositionEmbeddings)
                .rmsNormEps(rmsNormEps)
                .ropeTheta(ropeTheta)
                .ropeScaling(ropeScaling)
                .tieWordEmbeddings(tieWordEmbeddings)
                .attentionBias(attentionBias)
                .mlpBias(mlpBias)
                .hiddenAct(hiddenAct)
                .initializerRange(initializerRange)
                .padTokenId(padTokenId)
                .torchDtype(torchDtype)
                .ropeKeptFrequencies(ropeKeptFrequencies);
        b.dtypeField = dtypeField;
        b.ropeParametersLayout = ropeParametersLayout;
        b.headDim = writeHeadDim ? headDim : null;
        b.writeMhaInterSize = writeMhaInterSize;
        b.bosTokenIds = bosTokenIds.clone();
        b.bosIsList = bosIsList;
        b.eosTokenIds = eosTokenIds.clone();
        b.eosIsList = eosIsList;
        b.extraFields.putAll(copyOf(extraFields));
        return b;
    }

    /** Returns a copy with another MLP width, as after pruning MLP channels. */
    public LlamaConfig withIntermediateSize(int intermediateSize) {
        return toBuilder().intermediateSize(intermediateSize).build();
    }

    /**
     * Returns a copy with another layer count, as after removing layers. A per-layer
     * {@code rope_kept_frequencies} must be replaced as well, through {@link #toBuilder()}.
     */
    public LlamaConfig withNumHiddenLayers(int numHiddenLayers) {
        return toBuilder().numHiddenLayers(numHiddenLayers).build();
    }

    /**
     * Returns a copy with another attention geometry, as after pruning heads or head dimensions.
     * The new inner width {@code heads * headDim} is written as {@code mha_inter_size}. When the
     * head_dim changes, set a matching {@code rope_kept_frequencies} through {@link #toBuilder()}.
     */
    public LlamaConfig withAttentionHeads(int numAttentionHeads, int numKeyValueHeads, int headDim) {
        Builder b = toBuilder().numAttentionHeads(numAttentionHeads).numKeyValueHeads(numKeyValueHeads).headDim(headDim);
        b.mhaInterSize = null;
        return b.build();
    }

    /** Returns a copy with other kept rotary frequencies, or none when {@code kept} is null. */
    public LlamaConfig withRopeKeptFrequencies(RopeKeptFrequencies kept) {
        return toBuilder().ropeKeptFrequencies(kept).build();
    }

    /** Returns a builder with the transformers defaults for every optional field and no sizes set. */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof LlamaConfig that && toJson().equals(that.toJson());
    }

    @Override
    public int hashCode() {
        return toJson().hashCode();
    }

    @Override
    public String toString() {
        return "LlamaConfig" + toJson();
    }

    /**
     * Builds a {@link LlamaConfig}. Optional fields start at the transformers defaults:
     * rms_norm_eps 1e-6, rope_theta 10000, no rope scaling, untied embeddings, no biases, silu,
     * initializer_range 0.02, bos 1, eos 2, no pad token, num_key_value_heads = num_attention_heads
     * and head_dim = hidden_size / num_attention_heads.
     */
    public static final class Builder {
        private int vocabSize;
        private int hiddenSize;
        private int intermediateSize;
        private int numHiddenLayers;
        private int numAttentionHeads;
        private Integer numKeyValueHeads;
        private Integer headDim;
        private Integer mhaInterSize;
        private boolean writeMhaInterSize;
        private int maxPositionEmbeddings;
        private double rmsNormEps = 1e-6;
        private double ropeTheta = 10000.0;
        private RopeScaling ropeScaling = RopeScaling.NONE;
        private boolean tieWordEmbeddings;
        private boolean attentionBias;
        private boolean mlpBias;
        private String hiddenAct = "silu";
        private double initializerRange = 0.02;
        private int[] bosTokenIds = {1};
        private boolean bosIsList;
        private int[] eosTokenIds = {2};
        private boolean eosIsList;
        private Integer padTokenId;
        private String torchDtype;
        private boolean dtypeField;
        private boolean ropeParametersLayout;
        private RopeKeptFrequencies ropeKeptFrequencies;
        private final Map<String, JsonNode> extraFields = new LinkedHashMap<>();

        private Builder() {
        }

        public Builder vocabSize(int value) {
            vocabSize = value;
            return this;
        }

        public Builder hiddenSize(int value) {
            hiddenSize = value;
            return this;
        }

        public Builder intermediateSize(int value) {
            intermediateSize = value;
            return this;
        }

        public Builder numHiddenLayers(int value) {
            numHiddenLayers = value;
            return this;
        }

        public Builder numAttentionHeads(int value) {
            numAttentionHeads = value;
            return this;
        }

        public Builder numKeyValueHeads(int value) {
            numKeyValueHeads = value;
            return this;
        }

        /** Sets {@code head_dim} explicitly, which overrides hidden_size / num_attention_heads. */
        public Builder headDim(int value) {
            headDim = value;
            return this;
        }

        /** Sets {@code mha_inter_size}; it must equal num_attention_heads * head_dim. */
        public Builder mhaInterSize(int value) {
            mhaInterSize = value;
            return this;
        }

        public Builder maxPositionEmbeddings(int value) {
            maxPositionEmbeddings = value;
            return this;
        }

        public Builder rmsNormEps(double value) {
            rmsNormEps = value;
            return this;
        }

        public Builder ropeTheta(double value) {
            ropeTheta = value;
            return this;
        }

        public Builder ropeScaling(RopeScaling value) {
            ropeScaling = Objects.requireNonNull(value, "ropeScaling; use RopeScaling.NONE for no scaling");
            return this;
        }

        public Builder tieWordEmbeddings(boolean value) {
            tieWordEmbeddings = value;
            return this;
        }

        public Builder attentionBias(boolean value) {
            attentionBias = value;
            return this;
        }

        public Builder mlpBias(boolean value) {
            mlpBias = value;
            return this;
        }

        public Builder hiddenAct(String value) {
            hiddenAct = Objects.requireNonNull(value, "hiddenAct");
            return this;
        }

        public Builder initializerRange(double value) {
            initializerRange = value;
            return this;
        }

        /** Sets one beginning-of-sequence token, written as a number. */
        public Builder bosTokenId(int value) {
            bosTokenIds = new int[] {value};
            bosIsList = false;
            return this;
        }

        /** Sets several beginning-of-sequence tokens, written as a list. */
        public Builder bosTokenIds(int... values) {
            if (values.length == 0) {
                throw new IllegalArgumentException("bos_token_id list is empty; give at least one token id");
            }
            bosTokenIds = values.clone();
            bosIsList = true;
            return this;
        }

        /** Sets one end-of-sequence token, written as a number. */
        public Builder eosTokenId(int value) {
            eosTokenIds = new int[] {value};
            eosIsList = false;
            return this;
        }

        /** Sets several end-of-sequence tokens, written as a list. */
        public Builder eosTokenIds(int... values) {
            if (values.length == 0) {
                throw new IllegalArgumentException("eos_token_id list is empty; give at least one token id");
            }
            eosTokenIds = values.clone();
            eosIsList = true;
            return this;
        }

        /** Sets {@code pad_token_id}, or removes it when null. */
        public Builder padTokenId(Integer value) {
            padTokenId = value;
            return this;
        }

        /** Sets {@code torch_dtype}, or removes it when null. */
        public Builder torchDtype(String value) {
            torchDtype = value;
            return this;
        }

        /** Sets the kept rotary frequencies of a head-dimension-pruned model, or removes them when null. */
        public Builder ropeKeptFrequencies(RopeKeptFrequencies value) {
            ropeKeptFrequencies = value;
            return this;
        }

        /**
         * Adds a field this class does not interpret, written back as given.
         *
         * @throws IllegalArgumentException when {@code name} is a field LlamaConfig reads itself
         */
        public Builder extraField(String name, JsonNode value) {
            if (KNOWN_FIELDS.contains(name)) {
                throw new IllegalArgumentException("'" + name + "' is a LlamaConfig field; set it with its builder method");
            }
            extraFields.put(name, value.deepCopy());
            return this;
        }

        /**
         * Builds and validates the config.
         *
         * @throws IllegalArgumentException naming the invalid field and value
         */
        public LlamaConfig build() {
            return new LlamaConfig(this, BUILT);
        }
    }
}
