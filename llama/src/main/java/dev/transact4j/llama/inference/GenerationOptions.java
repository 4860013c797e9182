package dev.transact4j.llama.inference;

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
