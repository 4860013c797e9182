package dev.transact4j.transact;

/** The treatment of rotary position embedding for the dims that head-dimension pruning keeps. */
public enum RopeMode {
    /**
     * Keep the top dimensions one by one, in ascending order, and rebuild the rotary frequencies
     * for the new head_dim, as the original TransAct does. Kept dims generally change frequency.
     */
    RECOMPUTE,
    /**
     * Keep whole rotary pairs {@code (i, i + head_dim/2)}, ranked by the sum of their two scores,
     * laid out as {@code [kept firsts..., kept seconds...]} so the rotate-half convention pairs
     * them again, each pair keeping its original frequency.
     */
    KEEP
}
