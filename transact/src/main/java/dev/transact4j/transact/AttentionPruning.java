package dev.transact4j.transact;

/** The way pruning reduces the attention's inner width. */
public enum AttentionPruning {
    /**
     * Remove whole heads (with grouped-query attention, whole groups of one kv head and its query
     * heads); head_dim stays. The TransAct default ({@code prune_head_num}).
     */
    HEADS,
    /**
     * Keep every head and remove dimensions inside each head, the same ones for q, k and v
     * ({@code prune_head_dim}).
     */
    HEAD_DIMS
}
