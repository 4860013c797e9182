package dev.transact4j.llama.inference;

/**
 * A causal language model as {@link Perplexity} uses it: the log-probability of each token of a
 * window given the tokens before it in the same window.
 */
public interface SequenceScorer {

    /**
     * Returns {@code ids.length - 1} natural-log probabilities: element {@code i} is
     * {@code log p(ids[i + 1] | ids[0..i])}, computed in one pass over the window with no state
     * carried from earlier calls. {@code -Infinity} is allowed for a token the model rules out.
     */
    double[] nextTokenLogProbabilities(int[] ids);

    /** Returns the longest window the model accepts, such as {@code max_position_embeddings}. */
    int maxLength();
}
