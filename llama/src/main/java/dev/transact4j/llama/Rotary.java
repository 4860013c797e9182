package dev.transact4j.llama;

import java.util.Arrays;

/**
 * Rotary position embedding (RoPE) frequencies and cos/sin tables for one attention layer.
 *
 * <p>The inverse frequencies follow transformers' {@code modeling_rope_utils} for every
 * {@link RopeScaling.Type}, with {@code d} the rotary dimension (head_dim, or the unpruned head_dim
 * when frequencies were pruned) and {@code theta} = rope_theta:
 * <pre>
 * default  inv[i] = theta^(-2i/d),  i in [0, d/2)
 * linear   inv[i] / factor
 * dynamic  theta' = theta * (factor * L / max - (factor - 1))^(d / (d - 2)), L = max(seq_len, max)
 * llama3   wavelength 2 pi / inv[i] above original/low_freq_factor: inv / factor; below
 *          original/high_freq_factor: unchanged; between: a linear blend in original/wavelength
 * yarn     a ramp over the dimensions between the beta_fast and beta_slow rotation counts blends
 *          inv (extrapolation) with inv / factor (interpolation); cos and sin are multiplied by
 *          the attention factor 0.1 ln(factor) + 1 unless attention_factor or mscale set it
 * </pre>
 * Two details differ between transformers versions. Dynamic scaling always divides by
 * max_position_embeddings, even when rope_scaling stores original_max_position_embeddings (it is
 * ignored, as in transformers). YaRN uses the stored factor. Some transformers 4.x releases replaced
 * it by max_position_embeddings / original_max_position_embeddings when both were stored, which
 * gives the same value when the config is consistent.
 *
 * <p>Everything is computed in double, including {@code position * inv[i]}, and only the table
 * entries are rounded to float32. Transformers computes the angles in float32, which at position
 * 500,000 is off by up to 0.026 radians for the configs in make_rope_fixtures.py.
 *
 * <p>Tables use the rotate-half layout of Hugging Face Llama: head dimensions {@code j} and
 * {@code j + width/2} rotate together by angle {@code position * inv[j]}, so column {@code j} and
 * column {@code j + width/2} hold the same value. With kept frequencies ({@code rope=keep} pruning)
 * the table has {@code 2 * kept.length} columns and kept pair {@code j} rotates by
 * {@code inv[kept[j]]} of the unpruned model. When the kept pairs differ per kv head
 * ({@link RopeKeptFrequencies.Form#PER_LAYER_PER_HEAD}), build one table per kv head with
 * {@link #forHead}.
 */
public final class Rotary {

    /** Cos and sin tables, row-major {@code [positions, width]}, already multiplied by the attention scaling. */
    public record Table(int startPosition, int positions, int width, float[] cos, float[] sin) {

        /** Returns cos for absolute position {@code startPosition + row}, column {@code column}. */
        public float cos(int row, int column) {
            return cos[row * width + column];
        }

        /** Returns sin for absolute position {@code startPosition + row}, column {@code column}. */
        public float sin(int row, int column) {
            return sin[row * width + column];
        }
    }

    private final double[] inverseFrequencies;
    private final double attentionScaling;

    private Rotary(double[] inverseFrequencies, double attentionScaling) {
        this.inverseFrequencies = inverseFrequencies;
        this.attentionScaling = attentionScaling;
    }

    /**
     * Returns the rotary embedding of {@code layer} (0-based) at the default sequence length, which
     * only dynamic scaling depends on.
     */
    public static Rotary forLayer(LlamaConfig config, int layer) {
        return forLayer(config, layer, config.maxPositionEmbeddings());
    }

    /**
     * Returns the rotary embedding of {@code layer} for a sequence of {@code sequenceLength} tokens.
     * Only dynamic scaling depends on the length, and only beyond max_position_embeddings.
     * Transformers recomputes its frequencies from the longest length seen so far during generation,
     * so pass the total length (prompt plus generated tokens).
     *
     * @throws IllegalArgumentException when layer or sequenceLength is out of range, or when the
     *     config keeps different frequencies per kv head, which needs {@link #forHead}
     */
    public static Rotary forLayer(LlamaConfig config, int layer, int sequenceLength) {
        RopeKeptFrequencies kept = config.ropeKeptFrequencies();
        if (kept != null && kept.isPerHead()) {
            throw new IllegalArgumentException("Rotary: the config keeps different rotary frequencies per kv head "
                    + "(rope_kept_frequencies.per_layer_per_head); build one table per kv head with Rotary.forHead");
        }
        return forHead(config, layer, 0, sequenceLength);
    }

    /**
     * Returns the rotary embedding of kv head {@code kvHead} in {@code layer} (both 0-based) at the
     * default sequence length. The query heads of the kv head's group use the same embedding.
     */
    public static Rotary forHead(LlamaConfig config, int layer, int kvHead) {
        return forHead(config, layer, kvHead, config.maxPositionEmbeddings());
    }

    /**
     * Returns the rotary embedding of kv head {@code kvHead} in {@code layer} for a sequence of
     * {@code sequenceLength} tokens. With kept frequencies, pair {@code j} of the head rotates with
     * the unpruned model's frequency {@code kept[j]}; otherwise every head of every layer rotates
     * alike and the result equals {@link #forLayer}.
     *
     * @throws IllegalArgumentException when layer, kvHead or sequenceLength is out of range
     */
    public static Rotary forHead(LlamaConfig config, int layer, int kvHead, int sequenceLength) {
        if (layer < 0 || layer >= config.numHiddenLayers()) {
            throw new IllegalArgumentException("Rotary: layer " + layer + " out of range [0, " + config.numHiddenLayers() + ")");
        }
        if (kvHead < 0 || kvHead >= config.numKeyValueHeads()) {
            throw new IllegalArgumentException("Rotary: kv head " + kvHead + " out of range [0, "
                    + config.numKeyValueHeads() + ")");
        }
        double[] all = inverseFrequencies(config, sequenceLength);
        RopeKeptFrequencies kept = config.ropeKeptFrequencies();
        double[] selected = all;
        if (kept != null) {
            int[] indices = kept.forHead(layer, kvHead);
            selected = new double[indices.length];
            for (int j = 0; j < indices.length; j++) {
                selected[j] = all[indices[j]];
            }
        }
        return new Rotary(selected, attentionScaling(config));
    }

    /**
     * Returns the rotary dimension {@code d} the frequencies are defined over: the unpruned head_dim
     * when frequencies were pruned, else head_dim.
     */
    public static int rotaryDim(LlamaConfig config) {
        RopeKeptFrequencies kept = config.ropeKeptFrequencies();
        return kept != null ? kept.originalHeadDim() : config.headDim();
    }

    /**
     * Returns all {@code d/2} inverse frequencies of the unpruned rotary dimension, before any
     * frequency is dropped.
     *
     * @param sequenceLength the current sequence length, used by dynamic scaling only
     * @throws IllegalArgumentException when sequenceLength is not positive, or dynamic scaling is
     *     used with a rotary dimension of 2, where its exponent d/(d-2) is undefined
     */
    public static double[] inverseFrequencies(LlamaConfig config, int sequenceLength) {
        if (sequenceLength <= 0) {
            throw new IllegalArgumentException("Rotary: sequence length " + sequenceLength + " must be positive");
        }
        int dim = rotaryDim(config);
        double theta = config.ropeTheta();
        RopeScaling scaling = config.ropeScaling();
        int maxPositions = config.maxPositionEmbeddings();

        switch (scaling.type()) {
            case DEFAULT:
                return defaultFrequencies(theta, dim);
            case LINEAR: {
                double[] inv = defaultFrequencies(theta, dim);
                double factor = scaling.factor(maxPositions);
                for (int i = 0; i < inv.length; i++) {
                    inv[i] /= factor;
                }
                return inv;
            }
            case DYNAMIC:
                return dynamicFrequencies(theta, dim, scaling.factor(maxPositions), maxPositions, sequenceLength);
            case LLAMA3:
                return llama3Frequencies(theta, dim, scaling, maxPositions);
            case YARN:
                return yarnFrequencies(theta, dim, scaling, maxPositions);
            default:
                throw new IllegalStateException("unhandled rope type " + scaling.type());
        }
    }

    /**
     * Returns the factor cos and sin are multiplied by: YaRN's attention factor, else 1. Multiplying
     * both q and k by it scales attention logits by its square, as in transformers.
     */
    public static double attentionScaling(LlamaConfig config) {
        RopeScaling scaling = config.ropeScaling();
        if (scaling.type() != RopeScaling.Type.YARN) {
            return 1.0;
        }
        if (scaling.attentionFactor() != null) {
            return scaling.attentionFactor();
        }
        double factor = scaling.factor(config.maxPositionEmbeddings());
        Double mscale = scaling.mscale();
        Double mscaleAllDim = scaling.mscaleAllDim();
        // Transformers tests `if mscale and mscale_all_dim`, so a stored 0 counts as absent.
        if (mscale != null && mscale != 0 && mscaleAllDim != null && mscaleAllDim != 0) {
            return yarnMscale(factor, mscale) / yarnMscale(factor, mscaleAllDim);
        }
        return yarnMscale(factor, 1.0);
    }

    private static double yarnMscale(double scale, double mscale) {
        return scale <= 1 ? 1.0 : 0.1 * mscale * Math.log(scale) + 1.0;
    }

    private static double[] defaultFrequencies(double theta, int dim) {
        double[] inv = new double[dim / 2];
        for (int i = 0; i < inv.length; i++) {
            inv[i] = 1.0 / Math.pow(theta, (2.0 * i) / dim);
        }
        return inv;
    }

    private static double[] dynamicFrequencies(double theta, int dim, double factor, int maxPositions, int sequenceLength) {
        if (dim <= 2) {
            throw new IllegalArgumentException("Rotary: dynamic scaling needs a rotary dimension above 2, found " + dim
                    + ", because its exponent d / (d - 2) is undefined at 2");
        }
        double length = Math.max(sequenceLength, maxPositions);
        double base = theta * Math.pow(factor * length / maxPositions - (factor - 1), (double) dim / (dim - 2));
        return defaultFrequencies(base, dim);
    }

    private static double[] llama3Frequencies(double theta, int dim, RopeScaling scaling, int maxPositions) {
        double[] inv = defaultFrequencies(theta, dim);
        double factor = scaling.factor(maxPositions);
        double low = scaling.lowFreqFactor();
        double high = scaling.highFreqFactor();
        double originalContext = scaling.originalMaxPositionEmbeddings(maxPositions);
        double lowFreqWavelength = originalContext / low;
        double highFreqWavelength = originalContext / high;

        for (int i = 0; i < inv.length; i++) {
            double wavelength = 2 * Math.PI / inv[i];
            if (wavelength > lowFreqWavelength) {
                // Low frequencies: fully interpolated.
                inv[i] /= factor;
            } else if (wavelength >= highFreqWavelength) {
                // Medium frequencies: blend, from interpolated at lowFreqWavelength to unchanged at highFreqWavelength.
                double smooth = (originalContext / wavelength - low) / (high - low);
                inv[i] = (1 - smooth) * inv[i] / factor + smooth * inv[i];
            }
        }
        return inv;
    }

    private static double[] yarnFrequencies(double theta, int dim, RopeScaling scaling, int maxPositions) {
        double factor = scaling.factor(maxPositions);
        int originalContext = scaling.originalMaxPositionEmbeddings(maxPositions);

        // The dimensions where the pretraining context completes betaFast and betaSlow rotations bound the ramp.
        double low = correctionDim(scaling.betaFast(), dim, theta, originalContext);
        double high = correctionDim(scaling.betaSlow(), dim, theta, originalContext);
        if (scaling.truncate()) {
            low = Math.floor(low);
            high = Math.ceil(high);
        }
        low = Math.max(low, 0);
        high = Math.min(high, dim - 1);
        if (low == high) {
            high += 0.001;
        }

        // Below low: extrapolate (keep inv). Above high: interpolate (inv / factor). Linear between.
        double[] inv = defaultFrequencies(theta, dim);
        for (int i = 0; i < inv.length; i++) {
            double ramp = Math.min(1.0, Math.max(0.0, (i - low) / (high - low)));
            double extrapolationWeight = 1 - ramp;
            inv[i] = inv[i] / factor * (1 - extrapolationWeight) + inv[i] * extrapolationWeight;
        }
        return inv;
    }

    private static double correctionDim(double rotations, int dim, double theta, int originalContext) {
        return dim * Math.log(originalContext / (rotations * 2 * Math.PI)) / (2 * Math.log(theta));
    }

    /** Returns a copy of the inverse frequencies of this layer's rotated pairs, in column order. */
    public double[] inverseFrequencies() {
        return inverseFrequencies.clone();
    }

    /** Returns the number of rotated pairs: head_dim / 2. */
    public int pairs() {
        return inverseFrequencies.length;
    }

    /** Returns the factor the tables are multiplied by (YaRN's attention factor, else 1). */
    public double attentionScaling() {
        return attentionScaling;
    }

    /**
     * Returns cos and sin for positions {@code [startPosition, startPosition + positions)}.
     *
     * @throws IllegalArgumentException when startPosition is negative or positions is not positive
     */
    public Table table(int startPosition, int positions) {
        int width = 2 * inverseFrequencies.length;
        if (startPosition < 0 || positions <= 0 || (long) positions * width > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("Rotary.table: invalid range start " + startPosition + ", positions "
                    + positions + " for width " + width);
        }
        float[] cos = new float[positions * width];
        float[] sin = new float[positions * width];
        fill(startPosition, positions, cos, sin);
        return new Table(startPosition, positions, width, cos, sin);
    }

    /**
     * Writes cos and sin for positions {@code [startPosition, startPosition + positions)} into
     * row-major {@code [positions, 2 * pairs()]} arrays, for callers that reuse buffers.
     *
     * @throws IllegalArgumentException when the arrays are shorter than {@code positions * 2 * pairs()}
     */
    public void fill(int startPosition, int positions, float[] cos, float[] sin) {
        int half = inverseFrequencies.length;
        int width = 2 * half;
        long needed = (long) positions * width;
        if (startPosition < 0 || positions < 0 || cos.length < needed || sin.length < needed) {
            throw new IllegalArgumentException("Rotary.fill: start " + startPosition + ", positions " + positions
                    + " need arrays of " + needed + " floats, found cos " + cos.length + " and sin " + sin.length);
        }
        for (int row = 0; row < positions; row++) {
            double position = (double) startPosition + row;
            int offset = row * width;
            for (int j = 0; j < half; j++) {
                double angle = position * inverseFrequencies[j];
                float c = (float) (Math.cos(angle) * attentionScaling);
                float s = (float) (Math.sin(angle) * attentionScaling);
                cos[offset + j] = c;
                cos[offset + half + j] = c;
                sin[offset + j] = s;
                sin[offset + half + j] = s;
            }
        }
    }

    @Override
    public String toString() {
        return "Rotary" + Arrays.toString(inverseFrequencies) + " x " + attentionScaling;
    }
}
