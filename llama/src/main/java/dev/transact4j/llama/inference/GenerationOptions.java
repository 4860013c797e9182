package dev.transact4j.llama.inference;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import java.util.Arrays;

/**
 * Settings of one {@link Generator} run.
 *
 * @param maxNewTokens      the maximum number of tokens to generate ({@code max_new_tokens})
 * @param sampling          how each token is chosen
 * @param stopAtEos         stop when the model generates one of the config's {@code eos_token_id}s
 * @param stopIds           further ids that stop the generation, such as an end-of-turn token
 * @param addSpecialTokens  let the tokenizer add its template tokens (BOS) to a text prompt
 * @param skipSpecialTokens leave special tokens out of the streamed text
 */
public record GenerationOptions(int maxNewTokens, SamplingOptions sampling, boolean stopAtEos, int[] stopIds,
                                boolean addSpecialTokens, boolean skipSpecialTokens) {

    /**
     * Checks the fields and copies {@code stopIds}.
     *
     * @throws IllegalArgumentException when maxNewTokens is not positive or sampling is null
     */
    public GenerationOptions {
        if (maxNewTokens <= 0) {
            throw new IllegalArgumentException("GenerationOptions: max_new_tokens is " + maxNewTokens
                    + " but must be positive");
        }
        if (sampling == null) {
            throw new IllegalArgumentException("GenerationOptions: sampling options are missing; "
                    + "use SamplingOptions.greedy() for argmax decoding");
        }
        stopIds = stopIds == null ? new int[0] : stopIds.clone();
    }

    /** Returns options that generate up to {@code maxNewTokens} tokens greedily and stop at EOS. */
    public static GenerationOptions greedy(int maxNewTokens) {
        return new GenerationOptions(maxNewTokens, SamplingOptions.greedy(), true, new int[0], true, true);
    }

    /** Returns options that generate up to {@code maxNewTokens} tokens with {@code sampling} and stop at EOS. */
    public static GenerationOptions of(int maxNewTokens, SamplingOptions sampling) {
        return new GenerationOptions(maxNewTokens, sampling, true, new int[0], true, true);
    }

    /**
     * Returns options from a model's {@code generation_config.json} with the defaults of
     * transformers' {@code GenerationConfig}: greedy unless {@code do_sample} is true, temperature
     * 1.0, top_k 50, top_p 1.0, min_p off and repetition_penalty 1.0. {@code max_new_tokens}
     * comes from the file when set. An {@code eos_token_id} in the file (an id or a list) is added
     * to the stop ids, as transformers stops at the generation config's EOS ids.
     *
     * @param generationConfig the parsed file, or null for all defaults
     * @param maxNewTokens     the token limit when the file sets none
     * @param seed             the seed of the random draws
     * @throws IllegalArgumentException when a field has the wrong type or an invalid value
     */
    public static GenerationOptions fromGenerationConfig(JsonNode generationConfig, int maxNewTokens, long seed) {
        JsonNode config = generationConfig == null ? NullNode.getInstance() : generationConfig;
        boolean doSample = bool(config, "do_sample", false);
        float temperature = (float) number(config, "temperature", 1.0);
        int topK = (int) number(config, "top_k", 50);
        double topP = number(config, "top_p", 1.0);
        double minP = number(config, "min_p", 0.0);
        float penalty = (float) number(config, "repetition_penalty", 1.0);
        int limit = (int) number(config, "max_new_tokens", maxNewTokens);

        SamplingOptions sampling = doSample
                ? new SamplingOptions(temperature, topK, topP, minP, penalty, seed)
                : SamplingOptions.greedy().withRepetitionPenalty(penalty).withSeed(seed);
        int[] stop = new int[0];
        JsonNode eos = config.get("eos_token_id");
        if (eos != null && eos.isArray()) {
            stop = new int[eos.size()];
            for (int i = 0; i < stop.length; i++) {
                stop[i] = integer(eos.get(i), "eos_token_id[" + i + "]");
            }
        } else if (eos != null && !eos.isNull()) {
            stop = new int[] {integer(eos, "eos_token_id")};
        }
        return new GenerationOptions(limit, sampling, true, stop, true, true);
    }

    private static double number(JsonNode config, String field, double fallback) {
        JsonNode value = config.get(field);
        if (value == null || value.isNull()) {
            return fallback;
        }
        if (!value.isNumber()) {
            throw new IllegalArgumentException("generation config: " + field + " is " + value
                    + " but must be a number");
        }
        return value.asDouble();
    }

    private static boolean bool(JsonNode config, String field, boolean fallback) {
        JsonNode value = config.get(field);
        if (value == null || value.isNull()) {
            return fallback;
        }
        if (!value.isBoolean()) {
            throw new IllegalArgumentException("generation config: " + field + " is " + value
                    + " but must be true or false");
        }
        return value.asBoolean();
    }

    private static int integer(JsonNode value, String field) {
        if (!value.canConvertToInt() || !value.isIntegralNumber()) {
            throw new IllegalArgumentException("generation config: " + field + " is " + value
                    + " but must be a token id");
        }
        return value.asInt();
    }

    @Override
    public int[] stopIds() {
        return stopIds.clone();
    }

    /** Returns a copy with {@code max_new_tokens} set. */
    public GenerationOptions withMaxNewTokens(int value) {
        return new GenerationOptions(value, sampling, stopAtEos, stopIds, addSpecialTokens, skipSpecialTokens);
    }

    /** Returns a copy with the sampling options set. */
    public GenerationOptions withSampling(SamplingOptions value) {
        return new GenerationOptions(maxNewTokens, value, stopAtEos, stopIds, addSpecialTokens, skipSpecialTokens);
    }

    /** Returns a copy that stops at EOS or not. */
    public GenerationOptions withStopAtEos(boolean value) {
        return new GenerationOptions(maxNewTokens, sampling, value, stopIds, addSpecialTokens, skipSpecialTokens);
    }

    /** Returns a copy with further stop ids. */
    public GenerationOptions withStopIds(int... value) {
        return new GenerationOptions(maxNewTokens, sampling, stopAtEos, value, addSpecialTokens, skipSpecialTokens);
    }

    /** Returns a copy that adds the tokenizer's template tokens to a text prompt or not. */
    public GenerationOptions withAddSpecialTokens(boolean value) {
        return new GenerationOptions(maxNewTokens, sampling, stopAtEos, stopIds, value, skipSpecialTokens);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof GenerationOptions that && maxNewTokens == that.maxNewTokens
                && sampling.equals(that.sampling) && stopAtEos == that.stopAtEos && Arrays.equals(stopIds, that.stopIds)
                && addSpecialTokens == that.addSpecialTokens && skipSpecialTokens == that.skipSpecialTokens;
    }

    @Override
    public int hashCode() {
        return 31 * sampling.hashCode() + 17 * maxNewTokens + Arrays.hashCode(stopIds);
    }

    @Override
    public String toString() {
        return "GenerationOptions[maxNewTokens=" + maxNewTokens + ", sampling=" + sampling + ", stopAtEos=" + stopAtEos
                + ", stopIds=" + Arrays.toString(stopIds) + "]";
    }
}
