package dev.transact4j.transact;

/**
 * The widths one pruning shot should reach.
 *
 * @param nextMhaDim  requested attention inner width ({@code heads * head_dim}); heads or head
 *                    dims are rounded up, so the width reached can be larger
 * @param nextMlpDim  requested MLP width ({@code intermediate_size}), reached exactly
 * @param nextLayers  number of layers to keep (the first ones), or null to keep all
 * @param attention   whether attention loses whole heads or dimensions inside heads
 * @param rope        how head-dimension pruning treats rotary pairs; ignored for {@link AttentionPruning#HEADS}
 */
public record PruneTarget(int nextMhaDim, int nextMlpDim, Integer nextLayers, AttentionPruning attention, RopeMode rope) {

    /** Checks that the modes are set; the widths are checked against a model by {@link KeepPlanner}. */
    public PruneTarget {
        if (attention == null || rope == null) {
            throw new IllegalArgumentException("PruneTarget: attention pruning mode and rope mode must be set, got "
                    + attention + " and " + rope);
        }
    }

    /** Returns a head-pruning target that keeps every layer, the TransAct default. */
    public static PruneTarget heads(int nextMhaDim, int nextMlpDim) {
        return new PruneTarget(nextMhaDim, nextMlpDim, null, AttentionPruning.HEADS, RopeMode.RECOMPUTE);
    }

    /** Returns a head-dimension pruning target that keeps every layer. */
    public static PruneTarget headDims(int nextMhaDim, int nextMlpDim, RopeMode rope) {
        return new PruneTarget(nextMhaDim, nextMlpDim, null, AttentionPruning.HEAD_DIMS, rope);
    }

    /** Returns this target keeping only the first {@code layers} layers. */
    public PruneTarget withLayers(int layers) {
        return new PruneTarget(nextMhaDim, nextMlpDim, layers, attention, rope);
    }
}
