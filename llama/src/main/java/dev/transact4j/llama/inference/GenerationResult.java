package dev.transact4j.llama.inference;

import java.util.Locale;

/**
 * The outcome of one {@link Generator} run.
 *
 * @param promptIds      the ids the model was prompted with
 * @param generatedIds   the generated ids, including the stop token when one ended the run
 * @param text           the streamed text of the generated ids, without an incomplete UTF-8
 *                       sequence at the end; empty when the generator has no tokenizer
 * @param stopReason     why the run ended
 * @param prefillNanos   time of the prompt pass
 * @param generationNanos time from the end of the prompt pass to the last chosen token
 */
public record GenerationResult(int[] promptIds, int[] generatedIds, String text, StopReason stopReason,
                               long prefillNanos, long generationNanos) {

    /** The cause that ended a generation. */
    public enum StopReason {
        /** The model generated an EOS id or another stop id. */
        EOS("end-of-sequence token"),
        /** {@code max_new_tokens} tokens were generated. */
        MAX_TOKENS("max_new_tokens reached"),
        /** The KV cache has no room for another position. */
        CONTEXT_FULL("context full");

        private final String description;

        StopReason(String description) {
            this.description = description;
        }

        /** Returns the reason in words, as {@link #summary()} prints it. */
        public String description() {
            return description;
        }
    }

    /** Returns the prompt ids processed per second in the prompt pass. */
    public double promptTokensPerSecond() {
        return prefillNanos == 0 ? Double.NaN : promptIds.length * 1e9 / prefillNanos;
    }

    /**
     * Returns the tokens generated per second after the first one. The first token comes from the
     * prompt pass, so each later token costs one decoding step plus its sampling and streaming.
     * NaN when only one token was generated.
     */
    public double generationTokensPerSecond() {
        int steps = generatedIds.length - 1;
        return steps <= 0 || generationNanos == 0 ? Double.NaN : steps * 1e9 / generationNanos;
    }

    /**
     * Returns a one-line report, such as {@code prompt: 12 tokens, 340.2 tokens/s; generation: 64
     * tokens, 21.7 tokens/s (stopped: end-of-sequence token)}.
     */
    public String summary() {
        return String.format(Locale.ROOT, "prompt: %d tokens, %.1f tokens/s; generation: %d tokens, %.1f tokens/s "
                        + "(stopped: %s)", promptIds.length, promptTokensPerSecond(), generatedIds.length,
                generationTokensPerSecond(), stopReason.description());
    }
}
