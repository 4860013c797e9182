package dev.transact4j.llama.inference;

/**
 * Settings of {@link Sampler}, with the meanings of the Hugging Face generation parameters of the
 * same names.
 *
 * @param temperature       divides the logits before sampling; 0 selects greedy decoding (argmax)
 * @param topK              keeps the tokens whose logit is at least the k-th largest; 0 turns it off
 * @param topP              keeps the smallest set of most probable tokens whose probability sums to
 *                          at least {@code topP}; 1 turns it off
 * @param minP              removes tokens less probable than {@code minP} times the most probable
 *                          one; 0 turns it off
 * @param repetitionPenalty divides positive logits of tokens already in the sequence by this value
 *                          and multiplies negative ones by it; 1 turns it off
 * @param seed              seed of the random draws, so the same options give the same tokens
 */
public record SamplingOptions(float temperature, int topK, double topP, double minP, float repetitionPenalty,
                              long seed) {

    /**
     * Checks every field.
     *
     * @throws IllegalArgumentException naming the field, its value and the valid range
     */
    public SamplingOptions {
        if (!(temperature >= 0) || Float.isInfinite(temperature)) {
            throw new IllegalArgumentException("SamplingOptions: temperature is " + temperature
                    + " but must be 0 (greedy) or a positive finite number such as 0.7");
        }
        if (topK < 0) {
            throw new IllegalArgumentException("SamplingOptions: top_k is " + topK + " but must be 0 (off) or positive");
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("SamplingOptions: top_p is " + topP
                    + " but must be in (0, 1]; use 1 to turn nucleus sampling off");
        }
        if (!(minP >= 0 && minP <= 1)) {
            throw new IllegalArgumentException("SamplingOptions: min_p is " + minP
                    + " but must be in [0, 1]; use 0 to turn it off");
        }
        if (!(repetitionPenalty > 0) || Float.isInfinite(repetitionPenalty)) {
            throw new IllegalArgumentException("SamplingOptions: repetition_penalty is " + repetitionPenalty
                    + " but must be a positive finite number; use 1 to turn it off");
        }
    }

    /** Returns options for greedy decoding: always the most probable token. */
    public static SamplingOptions greedy() {
        return new SamplingOptions(0f, 0, 1.0, 0.0, 1f, 0L);
    }

    /** Returns options that sample from the softmax of the logits divided by {@code temperature}. */
    public static SamplingOptions sample(float temperature, long seed) {
        return new SamplingOptions(temperature, 0, 1.0, 0.0, 1f, seed);
    }

    /** Returns whether these options select the argmax instead of drawing. */
    public boolean isGreedy() {
        return temperature == 0f;
    }

    /** Returns a copy with {@code top_k} set. */
    public SamplingOptions withTopK(int value) {
        return new SamplingOptions(temperature, value, topP, minP, repetitionPenalty, seed);
    }

    /** Returns a copy with {@code top_p} set. */
    public SamplingOptions withTopP(double value) {
        return new SamplingOptions(temperature, topK, value, minP, repetitionPenalty, seed);
    }

    /** Returns a copy with {@code min_p} set. */
    public SamplingOptions withMinP(double value) {
        return new SamplingOptions(temperature, topK, topP, value, repetitionPenalty, seed);
    }

    /** Returns a copy with {@code repetition_penalty} set. */
    public SamplingOptions withRepetitionPenalty(float value) {
        return new SamplingOptions(temperature, topK, topP, minP, value, seed);
    }

    /** Returns a copy with the seed set. */
    public SamplingOptions withSeed(long value) {
        return new SamplingOptions(temperature, topK, topP, minP, repetitionPenalty, value);
    }
}
