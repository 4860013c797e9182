package dev.transact4j.transact;

import java.util.Arrays;

/**
 * Per-layer importance scores of the channels pruning may remove: the attention's inner channels
 * ({@code heads * head_dim}, the input of {@code o_proj}) and the MLP channels
 * ({@code intermediate_size}, the input of {@code down_proj}). Higher means more important.
 *
 * @param attention {@code [layers][heads * head_dim]}
 * @param mlp       {@code [layers][intermediate_size]}
 */
public record ChannelScores(double[][] attention, double[][] mlp) {

    /**
     * Checks that both tables have the same number of layers.
     *
     * @throws IllegalArgumentException when they differ or a row is null
     */
    public ChannelScores {
        if (attention == null || mlp == null || attention.length != mlp.length) {
            throw new IllegalArgumentException("ChannelScores: attention and mlp must have one row per layer, got "
                    + (attention == null ? "null" : attention.length) + " and " + (mlp == null ? "null" : mlp.length));
        }
        for (int layer = 0; layer < attention.length; layer++) {
            if (attention[layer] == null || mlp[layer] == null) {
                throw new IllegalArgumentException("ChannelScores: missing scores for layer " + layer);
            }
        }
    }

    /** Returns the number of layers scored. */
    public int layers() {
        return attention.length;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof ChannelScores that
                && Arrays.deepEquals(attention, that.attention) && Arrays.deepEquals(mlp, that.mlp);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.deepHashCode(attention) + Arrays.deepHashCode(mlp);
    }

    @Override
    public String toString() {
        return "ChannelScores[" + layers() + " layers, attention width "
                + (layers() == 0 ? 0 : attention[0].length) + ", mlp width " + (layers() == 0 ? 0 : mlp[0].length) + "]";
    }
}
