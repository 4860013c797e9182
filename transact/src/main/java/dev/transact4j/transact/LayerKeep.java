package dev.transact4j.transact;

import java.util.Arrays;

/**
 * The index sets one kept layer keeps, as indices into the layer before the cut.
 *
 * @param sourceLayer the layer's index before the cut (it is renumbered to its position among the kept layers)
 * @param queryHeads  kept query heads, ascending; with grouped-query attention, whole groups
 * @param kvHeads     kept kv heads, ascending; equal to {@code queryHeads} without grouping
 * @param headDims    per kept kv head, the dims kept inside the head in their new order, shared by
 *                    q, k and v of that head and by every query head of its group
 * @param mlpChannels kept MLP channels, ascending
 * @param frequencies per kept kv head, the original rotary frequency index of each kept pair
 *                    (new dims {@code j} and {@code j + newHeadDim/2} use entry {@code j}); the
 *                    identity {@code 0..newHeadDim/2-1} when frequencies are rebuilt
 */
public record LayerKeep(int sourceLayer, int[] queryHeads, int[] kvHeads, int[][] headDims, int[] mlpChannels,
                        int[][] frequencies) {

    /** Checks that no field is null; {@link KeepPlan} checks the ranges against the model. */
    public LayerKeep {
        if (queryHeads == null || kvHeads == null || headDims == null || mlpChannels == null || frequencies == null) {
            throw new IllegalArgumentException("LayerKeep: every index set of layer " + sourceLayer + " must be present");
        }
        queryHeads = queryHeads.clone();
        kvHeads = kvHeads.clone();
        headDims = deepCopy(headDims);
        mlpChannels = mlpChannels.clone();
        frequencies = deepCopy(frequencies);
    }

    private static int[][] deepCopy(int[][] rows) {
        int[][] copy = new int[rows.length][];
        for (int i = 0; i < rows.length; i++) {
            if (rows[i] == null) {
                throw new IllegalArgumentException("LayerKeep: missing row " + i);
            }
            copy[i] = rows[i].clone();
        }
        return copy;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof LayerKeep that && sourceLayer == that.sourceLayer
                && Arrays.equals(queryHeads, that.queryHeads) && Arrays.equals(kvHeads, that.kvHeads)
                && Arrays.deepEquals(headDims, that.headDims) && Arrays.equals(mlpChannels, that.mlpChannels)
                && Arrays.deepEquals(frequencies, that.frequencies);
    }

    @Override
    public int hashCode() {
        int h = sourceLayer;
        h = 31 * h + Arrays.hashCode(queryHeads);
        h = 31 * h + Arrays.hashCode(kvHeads);
        h = 31 * h + Arrays.deepHashCode(headDims);
        h = 31 * h + Arrays.hashCode(mlpChannels);
        return 31 * h + Arrays.deepHashCode(frequencies);
    }

    /** Returns a multi-line summary; index lists longer than {@value #MAX_LISTED} are shortened. */
    @Override
    public String toString() {
        StringBuilder out = new StringBuilder();
        out.append("layer ").append(sourceLayer).append(": query heads ").append(list(queryHeads));
        out.append(", kv heads ").append(list(kvHeads));
        out.append("\n    head dims per kv head:");
        for (int j = 0; j < headDims.length; j++) {
            out.append(' ').append(kvHeads[j]).append('=').append(list(headDims[j]));
        }
        out.append("\n    rotary frequencies per kv head:");
        for (int j = 0; j < frequencies.length; j++) {
            out.append(' ').append(kvHeads[j]).append('=').append(list(frequencies[j]));
        }
        out.append("\n    mlp channels (").append(mlpChannels.length).append("): ").append(list(mlpChannels));
        return out.toString();
    }

    /** Maximum number of indices {@link #toString()} prints from one list; the JSON form has all. */
    static final int MAX_LISTED = 24;

    /** Lists up to {@link #MAX_LISTED} indices, or the first 16 and the last 4 of a longer list. */
    static String list(int[] indices) {
        if (indices.length <= MAX_LISTED) {
            return Arrays.toString(indices);
        }
        StringBuilder out = new StringBuilder("[");
        for (int i = 0; i < 16; i++) {
            out.append(indices[i]).append(", ");
        }
        out.append("... ").append(indices.length - 20).append(" more ...");
        for (int i = indices.length - 4; i < indices.length; i++) {
            out.append(", ").append(indices[i]);
        }
        return out.append(']').toString();
    }
}
