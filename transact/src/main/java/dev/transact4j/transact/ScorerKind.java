package dev.transact4j.transact;

/** The channel scorer a {@link TransAct} shot uses. */
public enum ScorerKind {
    /** {@link ActsScorer}: the L2 norm of the transitional activations, the TransAct default. */
    ACTS,
    /** {@link TaylorScorer}: first-order Taylor saliency from the gradients of the LM loss, the ablation. */
    TAYLOR
}
