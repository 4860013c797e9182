package dev.transact4j.llama;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Locale;

/**
 * The {@code rope_scaling} entry of a Hugging Face Llama config: how rotary frequencies are
 * stretched for contexts longer than the pretraining length. {@link Rotary} turns it into inverse
 * frequencies.
 *
 * <p>The type is read from {@code rope_type} or, in configs written before transformers 4.43, from
 * {@code type}. A missing entry, JSON {@code null} and the type {@code default} all mean no scaling.
 * Unknown types are rejected, never ignored. The object as read, including fields this class does
 * not interpret, is written back unchanged.
 */
public final class RopeScaling {

    /** The scaling types transact4j implements, with their Hugging Face names. */
    public enum Type {
        /** No scaling: inverse frequencies {@code theta^(-2i/d)}. */
        DEFAULT("default"),
        /** Position interpolation: every inverse frequency divided by {@code factor}. */
        LINEAR("linear"),
        /** Dynamic NTK: the base grows with the current sequence length beyond the maximum. */
        DYNAMIC("dynamic"),
        /** Llama 3.1: low frequencies divided by {@code factor}, a smooth ramp between. */
        LLAMA3("llama3"),
        /** YaRN: interpolation blended with extrapolation per dimension, plus a cos/sin scale. */
        YARN("yarn");

        private final String jsonName;

        Type(String jsonName) {
            this.jsonName = jsonName;
        }

        /** Returns the name used in {@code rope_type}. */
        public String jsonName() {
            return jsonName;
        }
    }

    /** No scaling, written as {@code "rope_scaling": null}. */
    public static final RopeScaling NONE = new RopeScaling(Type.DEFAULT, null, 0, 0, null, null, null, null, null, null, true,
            null);

    private static final String SUPPORTED = "supported types: default, linear, dynamic, llama3, yarn";

    private final Type type;
    private final Double factor;
    private final double lowFreqFactor;
    private final double highFreqFactor;
    private final Integer originalMaxPositionEmbeddings;
    private final Double attentionFactor;
    private final Double betaFast;
    private final Double betaSlow;
    private final Double mscale;
    private final Double mscaleAllDim;
    private final boolean truncate;
    private final ObjectNode json;

    private RopeScaling(Type type, Double factor, double lowFreqFactor, double highFreqFactor,
            Integer originalMaxPositionEmbeddings, Double attentionFactor, Double betaFast, Double betaSlow, Double mscale,
            Double mscaleAllDim, boolean truncate, ObjectNode json) {
        this.type = type;
        this.factor = factor;
        this.lowFreqFactor = lowFreqFactor;
        this.highFreqFactor = highFreqFactor;
        this.originalMaxPositionEmbeddings = originalMaxPositionEmbeddings;
        this.attentionFactor = attentionFactor;
        this.betaFast = betaFast;
        this.betaSlow = betaSlow;
        this.mscale = mscale;
        this.mscaleAllDim = mscaleAllDim;
        this.truncate = truncate;
        this.json = json;
    }

    /** Returns linear scaling (position interpolation) by {@code factor}. */
    public static RopeScaling linear(double factor) {
        return parse(base("linear").put("factor", factor), "rope_scaling", "rope_scaling");
    }

    /** Returns dynamic NTK scaling with {@code factor}. */
    public static RopeScaling dynamic(double factor) {
        return parse(base("dynamic").put("factor", factor), "rope_scaling", "rope_scaling");
    }

    /** Returns Llama 3.1 scaling; Llama 3.1 itself uses factor 8, low 1, high 4, original length 8192. */
    public static RopeScaling llama3(double factor, double lowFreqFactor, double highFreqFactor,
            int originalMaxPositionEmbeddings) {
        ObjectNode node = base("llama3").put("factor", factor).put("low_freq_factor", lowFreqFactor)
                .put("high_freq_factor", highFreqFactor).put("original_max_position_embeddings", originalMaxPositionEmbeddings);
        return parse(node, "rope_scaling", "rope_scaling");
    }

    /** Returns YaRN scaling with the default beta_fast 32, beta_slow 1 and attention factor. */
    public static RopeScaling yarn(double factor, int originalMaxPositionEmbeddings) {
        ObjectNode node = base("yarn").put("factor", factor)
                .put("original_max_position_embeddings", originalMaxPositionEmbeddings);
        return parse(node, "rope_scaling", "rope_scaling");
    }

    private static ObjectNode base(String type) {
        return JsonNodeFactory.instance.objectNode().put("rope_type", type);
    }

    /**
     * Parses a {@code rope_scaling} value, or the {@code rope_parameters} value of the transformers 5
     * layout, which has the same entries plus {@code rope_theta}.
     *
     * @param node the value, or null when the config has no such field
     * @param source the file name, shown in error messages
     * @param fieldName the field the value was read from, shown in error messages
     * @throws IllegalArgumentException when the type is missing, unknown or unsupported, or a field
     *     the type needs is missing, has the wrong type or is out of range
     */
    static RopeScaling parse(JsonNode node, String source, String fieldName) {
        if (node == null || node.isNull()) {
            return NONE;
        }
        if (!node.isObject()) {
            throw new IllegalArgumentException(source + ": field '" + fieldName + "' must be an object or null, found "
                    + node + ". Fix the value in the file.");
        }
        ObjectNode object = ((ObjectNode) node).deepCopy();
        ConfigFields fields = new ConfigFields(object, source, fieldName + ".");
        if (fields.has("partial_rotary_factor") && fields.optionalDouble("partial_rotary_factor", 1.0) != 1.0) {
            throw fields.invalid("partial_rotary_factor", "is " + fields.get("partial_rotary_factor")
                    + " but transact4j rotates the whole head (factor 1.0). Use a model without partial rotation.");
        }
        String typeName = fields.has("rope_type") ? fields.optionalString("rope_type", null)
                : fields.optionalString("type", null);
        if (typeName == null) {
            throw fields.missing("rope_type", "Name the scaling type in 'rope_type' (or the older 'type'); " + SUPPORTED + ".");
        }
        Type type = typeOf(typeName, fields);

        String factorHint = "Rotary scaling of type '" + typeName + "' needs 'factor', the context extension ratio.";
        Double factor = null;
        if (type == Type.YARN) {
            factor = fields.optionalDoubleObject("factor");
        } else if (type != Type.DEFAULT) {
            factor = fields.requireDouble("factor", factorHint);
        }
        if (factor != null && !(factor > 0)) {
            throw fields.invalid("factor", "is " + factor + " but must be positive.");
        }

        double low = 0;
        double high = 0;
        if (type == Type.LLAMA3) {
            String hint = "Llama 3.1 scaling needs factor, low_freq_factor, high_freq_factor and "
                    + "original_max_position_embeddings (Llama 3.1 uses 8, 1, 4 and 8192).";
            low = fields.requireDouble("low_freq_factor", hint);
            high = fields.requireDouble("high_freq_factor", hint);
            if (!(low > 0)) {
                throw fields.invalid("low_freq_factor", "is " + low + " but must be positive.");
            }
            if (!(high > low)) {
                throw fields.invalid("high_freq_factor", "is " + high + " but must be greater than low_freq_factor "
                        + low + ", because the smoothing ramp divides by their difference.");
            }
        }
        Integer original = fields.optionalInteger("original_max_position_embeddings");
        if (original != null && original <= 0) {
            throw fields.invalid("original_max_position_embeddings", "is " + original + " but must be positive.");
        }

        Double attentionFactor = null;
        Double betaFast = null;
        Double betaSlow = null;
        Double mscale = null;
        Double mscaleAllDim = null;
        boolean truncate = true;
        if (type == Type.YARN) {
            attentionFactor = fields.optionalDoubleObject("attention_factor");
            if (attentionFactor != null && !(attentionFactor > 0)) {
                throw fields.invalid("attention_factor", "is " + attentionFactor + " but must be positive.");
            }
            betaFast = fields.optionalDoubleObject("beta_fast");
            betaSlow = fields.optionalDoubleObject("beta_slow");
            mscale = fields.optionalDoubleObject("mscale");
            mscaleAllDim = fields.optionalDoubleObject("mscale_all_dim");
            truncate = fields.optionalBoolean("truncate", true);
            if (!(effectiveBetaFast(betaFast) > 0) || !(effectiveBetaSlow(betaSlow) > 0)) {
                throw fields.invalid("beta_fast", "and beta_slow must be positive, found " + betaFast + " and "
                        + betaSlow + ".");
            }
        }
        return new RopeScaling(type, factor, low, high, original, attentionFactor, betaFast, betaSlow, mscale, mscaleAllDim,
                truncate, object);
    }

    private static Type typeOf(String name, ConfigFields fields) {
        for (Type type : Type.values()) {
            if (type.jsonName.equals(name)) {
                return type;
            }
        }
        String field = fields.has("rope_type") ? "rope_type" : "type";
        String lower = name.toLowerCase(Locale.ROOT);
        if (lower.equals("longrope") || lower.equals("su") || lower.equals("ntk")) {
            throw fields.invalid(field, "is '" + name + "', a rotary scaling type transact4j does not implement; "
                    + SUPPORTED + ".");
        }
        throw fields.invalid(field, "is '" + name + "', an unknown rotary scaling type; " + SUPPORTED + ".");
    }

    // Hugging Face reads these with `get(...) or default`, so a stored 0 also means the default.
    private static double effectiveBetaFast(Double value) {
        return value == null || value == 0 ? 32 : value;
    }

    private static double effectiveBetaSlow(Double value) {
        return value == null || value == 0 ? 1 : value;
    }

    /** Returns the scaling type; {@link Type#DEFAULT} when the config has none. */
    public Type type() {
        return type;
    }

    /** Returns whether this is no scaling at all. */
    public boolean isNone() {
        return type == Type.DEFAULT;
    }

    /**
     * Returns the scaling factor. For YaRN without a stored factor it is
     * {@code max_position_embeddings / original_max_position_embeddings}, as in transformers 5.
     *
     * @throws IllegalStateException for {@link Type#DEFAULT}, which has no factor
     */
    public double factor(int maxPositionEmbeddings) {
        if (factor != null) {
            return factor;
        }
        if (type == Type.YARN) {
            return (double) maxPositionEmbeddings / originalMaxPositionEmbeddings(maxPositionEmbeddings);
        }
        throw new IllegalStateException("rotary scaling of type " + type.jsonName + " has no factor");
    }

    /** Returns whether the config stores a factor; YaRN may omit it. */
    public boolean hasFactor() {
        return factor != null;
    }

    /** Returns the Llama 3.1 {@code low_freq_factor}. */
    public double lowFreqFactor() {
        return lowFreqFactor;
    }

    /** Returns the Llama 3.1 {@code high_freq_factor}. */
    public double highFreqFactor() {
        return highFreqFactor;
    }

    /**
     * Returns {@code original_max_position_embeddings}, the pretraining context length, or
     * {@code maxPositionEmbeddings} when the entry has none (the transformers fallback).
     */
    public int originalMaxPositionEmbeddings(int maxPositionEmbeddings) {
        return originalMaxPositionEmbeddings != null ? originalMaxPositionEmbeddings : maxPositionEmbeddings;
    }

    /** Returns whether the entry stores {@code original_max_position_embeddings}. */
    public boolean hasOriginalMaxPositionEmbeddings() {
        return originalMaxPositionEmbeddings != null;
    }

    /** Returns the YaRN {@code attention_factor} as stored, or null when it is derived from the factor. */
    public Double attentionFactor() {
        return attentionFactor;
    }

    /** Returns the YaRN {@code beta_fast}, 32 when absent or 0. */
    public double betaFast() {
        return effectiveBetaFast(betaFast);
    }

    /** Returns the YaRN {@code beta_slow}, 1 when absent or 0. */
    public double betaSlow() {
        return effectiveBetaSlow(betaSlow);
    }

    /** Returns the YaRN {@code mscale}, or null when absent. */
    public Double mscale() {
        return mscale;
    }

    /** Returns the YaRN {@code mscale_all_dim}, or null when absent. */
    public Double mscaleAllDim() {
        return mscaleAllDim;
    }

    /** Returns the YaRN {@code truncate} flag: whether the ramp bounds are rounded to whole dimensions. */
    public boolean truncate() {
        return truncate;
    }

    /** Returns the JSON value to write back: the object as read, or null for {@link #NONE}. */
    JsonNode toJson() {
        return json == null ? null : json.deepCopy();
    }

    @Override
    public boolean equals(Object other) {
        if (!(other instanceof RopeScaling that)) {
            return false;
        }
        return json == null ? that.json == null : json.equals(that.json);
    }

    @Override
    public int hashCode() {
        return json == null ? 0 : json.hashCode();
    }

    @Override
    public String toString() {
        return json == null ? "none" : json.toString();
    }
}
