package dev.transact4j.llama.inference;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Perplexity of a token sequence by the sliding-window method of the Hugging Face guide
 * "Perplexity of fixed-length models": windows of at most {@code maxLength} tokens start every
 * {@code stride} tokens, and each window scores only the tokens after the end of the previous
 * window, so every token is scored once with up to {@code maxLength - 1} tokens of context.
 *
 * <p>Window {@code w} covers {@code [begin, end)} with {@code begin = w * stride} and
 * {@code end = min(begin + maxLength, n)}; its target length is {@code end - previousEnd}. As in
 * the guide's causal-LM loss, a window's first token has no prediction, so a window scores its last
 * {@code min(targetLength, end - begin - 1)} tokens. The first token of the text is never scored,
 * and with {@code stride == maxLength} neither is the first token of any window. The loop stops
 * after the window that reaches the end of the sequence.
 *
 * <p>The mean NLL is the sum of the per-token NLLs (in double) over the number of scored tokens,
 * and the perplexity its exponential.
 */
public final class Perplexity {

    private Perplexity() {
    }

    /**
     * One window: the ids {@code [begin, end)} and the scored targets {@code [scoredFrom, end)}.
     *
     * @param nll the sum of the NLLs of the scored targets
     */
    public record Window(int begin, int end, int scoredFrom, double nll) {

        /** Returns the number of scored targets. */
        public int scored() {
            return end - scoredFrom;
        }
    }

    /**
     * The outcome of an evaluation.
     *
     * @param meanNll         the mean negative log-likelihood per scored token, in nats
     * @param perplexity      {@code exp(meanNll)}
     * @param tokensEvaluated the number of scored tokens
     * @param windows         every window, in order
     */
    public record Result(double meanNll, double perplexity, long tokensEvaluated, List<Window> windows) {

        /** Returns a one-line report, such as {@code perplexity 12.34 (mean NLL 2.5128 nats over 4095 tokens, 8 windows)}. */
        public String summary() {
            return String.format(Locale.ROOT, "perplexity %.4f (mean NLL %.6f nats over %d tokens, %d windows)",
                    perplexity, meanNll, tokensEvaluated, windows.size());
        }
    }

    /**
     * Returns a scorer that runs {@code model} one token at a time: a prompt pass over the window's
     * first id, then a decoding step per id, taking the log-softmax (in double) of each step's
     * logits. It gives what one pass over the window gives, at the cost of {@code n} calls, so it
     * serves models that only implement {@link CausalLm}. Not thread-safe: it reuses one cache.
     *
     * @param maxLength the longest window, which sizes the cache
     */
    public static SequenceScorer scorer(CausalLm model, int maxLength) {
        KvCache cache = KvCache.forConfig(model.config(), maxLength);
        int vocab = model.config().vocabSize();
        return new SequenceScorer() {
            @Override
            public double[] nextTokenLogProbabilities(int[] ids) {
                for (int i = 0; i < ids.length; i++) {
                    if (ids[i] < 0 || ids[i] >= vocab) {
                        throw new IllegalArgumentException("Perplexity: id " + ids[i] + " at window position " + i
                                + " is outside the vocabulary [0, " + vocab + ")");
                    }
                }
                cache.reset();
                double[] out = new double[ids.length - 1];
                float[] logits = model.prefill(new int[] {ids[0]}, cache);
                for (int i = 0; i + 1 < ids.length; i++) {
                    out[i] = logSoftmax(logits, ids[i + 1]);
                    if (i + 2 < ids.length) {
                        logits = model.decodeStep(ids[i + 1], cache);
                    }
                }
                return out;
            }

            @Override
            public int maxLength() {
                return maxLength;
            }
        };
    }

    /** Returns {@code log softmax(logits)[target]}, max-subtracted, in double. */
    private static double logSoftmax(float[] logits, int target) {
        double max = Double.NEGATIVE_INFINITY;
        for (float x : logits) {
            max = Math.max(max, x);
        }
        double sum = 0;
        for (float x : logits) {
            sum += Math.exp(x - max);
        }
        return logits[target] - max - Math.log(sum);
    }

    /**
     * Evaluates {@code ids} with windows of {@code maxLength} tokens every {@code stride} tokens.
     *
     * @throws IllegalArgumentException when ids has fewer than two tokens, maxLength is below 2 or
     *                                  above the scorer's maximum, or stride is outside
     *                                  {@code [1, maxLength]}
     * @throws IllegalStateException    when the scorer returns the wrong number of values, a NaN
     *                                  or a positive log-probability
     */
    public static Result evaluate(SequenceScorer scorer, int[] ids, int maxLength, int stride) {
        if (ids.length < 2) {
            throw new IllegalArgumentException("Perplexity: the sequence has " + ids.length
                    + " tokens, but at least two are needed to score one");
        }
        if (maxLength < 2 || maxLength > scorer.maxLength()) {
            throw new IllegalArgumentException("Perplexity: max_length " + maxLength + " must be in [2, "
                    + scorer.maxLength() + "], the longest window the model accepts");
        }
        if (stride < 1 || stride > maxLength) {
            throw new IllegalArgumentException("Perplexity: stride " + stride + " must be in [1, max_length "
                    + maxLength + "]");
        }

        List<Window> windows = new ArrayList<>();
        double total = 0;
        long count = 0;
        int previousEnd = 0;
        for (int begin = 0; begin < ids.length; begin += stride) {
            int end = Math.min(begin + maxLength, ids.length);
            int targetLength = end - previousEnd;
            int scored = Math.min(targetLength, end - begin - 1);
            int scoredFrom = end - scored;

            // window positions scoredFrom-begin .. end-begin-1 are predicted from the position before
            int[] window = Arrays.copyOfRange(ids, begin, end);
            double[] logProbabilities = scorer.nextTokenLogProbabilities(window);
            if (logProbabilities == null || logProbabilities.length != window.length - 1) {
                throw new IllegalStateException("Perplexity: the scorer returned " + (logProbabilities == null ? "null"
                        : logProbabilities.length + " values") + " for a window of " + window.length
                        + " ids; expected " + (window.length - 1));
            }
            double nll = 0;
            for (int t = scoredFrom; t < end; t++) {
                double logP = logProbabilities[t - begin - 1];
                if (Double.isNaN(logP) || logP > 0) {
                    throw new IllegalStateException("Perplexity: the scorer returned log-probability " + logP
                            + " for token " + t + " (window [" + begin + ", " + end + ")); a log-probability must "
                            + "be at most 0. Check the model's logits for non-finite values.");
                }
                nll -= logP;
            }
            windows.add(new Window(begin, end, scoredFrom, nll));
            total += nll;
            count += scored;
            previousEnd = end;
            if (end == ids.length) {
                break;
            }
        }

        double mean = total / count;
        return new Result(mean, Math.exp(mean), count, List.copyOf(windows));
    }
}
