package dev.transact4j.transact;

/**
 * Accumulates per-layer channel statistics over calibration batches and turns them into
 * {@link ChannelScores}. Implementations: {@link ActsScorer} (L2 norm of the transitional
 * activations, the TransAct default) and {@link TaylorScorer} (first-order Taylor saliency).
 */
public interface ChannelScorer {

    /**
     * Returns the scores of everything observed since construction or the last {@link #reset()}.
     *
     * @throws IllegalStateException when a layer has not been observed yet
     */
    ChannelScores scores();

    /** Discards every accumulated statistic, so the scorer can serve the next shot. */
    void reset();
}
