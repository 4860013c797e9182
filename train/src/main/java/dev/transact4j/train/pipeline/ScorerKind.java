package dev.transact4j.train.pipeline;

/** The channel scorer of a pruning shot. */
public enum ScorerKind {
    /** TransAct's L2 norm of the transitional activations ({@code ActsScorer}), the default. */
    ACTS,
    /** First-order Taylor saliency {@code |grad| * |weight|} ({@code TaylorScorer}), the ablation. */
    TAYLOR
}
