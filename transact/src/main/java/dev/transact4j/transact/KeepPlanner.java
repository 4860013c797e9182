package dev.transact4j.transact;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Selects the channels one pruning shot keeps, from channel scores, and returns a {@link KeepPlan}.
 *
 * <p>Rules (TransAct, Shen et al., Findings of ACL 2024, extended to grouped-query attention):
 * <ul>
 *   <li>Heads: a head scores {@code mean + (10 / head_dim) * max} of its channel scores. A group
 *       (one kv head and its query heads; a single head without grouping) scores the sum of its
 *       heads' scores, and {@code ceil(nextMhaDim / (group * head_dim))} groups are kept, so the
 *       width reached can exceed the request by less than one group.
 *   <li>Head dims: the new head_dim is {@code ceil(nextMhaDim / heads)} rounded up to even,
 *       because RoPE rotates pairs. Each kv head ranks its dims by their score summed over its
 *       query heads and keeps the same dims for q, k and v (see {@link RopeMode} for the order).
 *   <li>MLP: the top {@code nextMlpDim} channels. Layers: the first {@code nextLayers}.
 * </ul>
 * Every kept index set is ascending, except head dims under {@link RopeMode#KEEP}. Equal scores
 * rank the lower index first, so plans are deterministic.
 */
public final class KeepPlanner {

    private KeepPlanner() {
    }

    /**
     * Validates the target and selects what to keep.
     *
     * @param dims   the model as it is now
     * @param scores one row per layer of {@code dims}
     * @throws IllegalArgumentException when the target or the scores are invalid for {@code dims},
     *                                  before anything is selected
     */
    public static KeepPlan plan(ModelDims dims, ChannelScores scores, PruneTarget target) {
        validate(dims, scores, target);
        int layerCount = target.nextLayers() == null ? dims.layers() : target.nextLayers();

        // select per kept layer
        int[] keptLayers = new int[layerCount];
        List<LayerKeep> layers = new ArrayList<>(layerCount);
        for (int layer = 0; layer < layerCount; layer++) {
            keptLayers[layer] = layer;
            layers.add(target.attention() == AttentionPruning.HEADS
                    ? keepHeads(dims, layer, scores, target)
                    : keepHeadDims(dims, layer, scores, target));
        }

        // the dimensions reached, the same for every layer
        LayerKeep first = layers.get(0);
        int heads = first.queryHeads().length;
        int kvHeads = first.kvHeads().length;
        int headDim = first.headDims()[0].length;
        int[][][] frequencies = null;
        boolean standardRotary = dims.keptFrequencies() == null && target.attention() == AttentionPruning.HEADS
                || target.attention() == AttentionPruning.HEAD_DIMS && target.rope() == RopeMode.RECOMPUTE;
        if (!standardRotary) {
            frequencies = new int[layerCount][][];
            for (int layer = 0; layer < layerCount; layer++) {
                frequencies[layer] = layers.get(layer).frequencies();
            }
            // a standard model that kept every pair in order is still standard (ModelDims: null)
            if (dims.keptFrequencies() == null && headDim == dims.headDim() && allIdentity(frequencies)) {
                frequencies = null;
            }
        }
        ModelDims after = new ModelDims(dims.hiddenSize(), heads, kvHeads, headDim, heads * headDim,
                target.nextMlpDim(), layerCount, frequencies);
        return new KeepPlan(target, dims, after, keptLayers, layers);
    }

    /**
     * Checks a target and scores against the model, with a message that names the value and the fix.
     *
     * <p>A width that whole heads or groups cannot reach exactly is accepted and rounded up, as in
     * TransAct; a target that rounds up to the current width removes no head, and the plan's
     * {@code after} dimensions show it.
     *
     * @throws IllegalArgumentException on the first invalid value
     */
    public static void validate(ModelDims dims, ChannelScores scores, PruneTarget target) {
        int mha = dims.mhaInterSize();
        requireWidth("attention width (nextMhaDim)", target.nextMhaDim(), mha,
                dims.heads() + " heads x " + dims.headDim() + " dims");
        requireWidth("MLP width (nextMlpDim)", target.nextMlpDim(), dims.intermediateSize(), "intermediate_size");
        if (target.nextLayers() != null) {
            requireWidth("layer count (nextLayers)", target.nextLayers(), dims.layers(), "num_hidden_layers");
        }
        if (target.attention() == AttentionPruning.HEAD_DIMS) {
            if (dims.headDim() % 2 != 0) {
                throw new IllegalArgumentException("Invalid target: head-dimension pruning keeps rotary pairs, so it needs an even"
                        + " head_dim, but head_dim is " + dims.headDim() + "; prune whole heads (AttentionPruning.HEADS) instead");
            }
        }
        validateScores(dims, scores);
    }

    /** Returns {@code ceil(nextMhaDim / heads)} rounded up to an even number. */
    static int headDimFor(int nextMhaDim, int heads) {
        int dim = (nextMhaDim + heads - 1) / heads;
        return dim + (dim & 1);
    }

    private static void requireWidth(String what, int requested, int current, String currentMeaning) {
        if (requested < 1) {
            throw new IllegalArgumentException("Invalid target " + what + " " + requested
                    + ": expected a positive number, at most the current " + current + " (" + currentMeaning + ")");
        }
        if (requested > current) {
            throw new IllegalArgumentException("Invalid target " + what + " " + requested + ": larger than the current "
                    + current + " (" + currentMeaning + "); pruning only removes, so request at most " + current);
        }
    }

    private static void validateScores(ModelDims dims, ChannelScores scores) {
        if (scores.layers() != dims.layers()) {
            throw new IllegalArgumentException("Invalid scores: " + scores.layers() + " layers scored, but the model has "
                    + dims.layers() + "; score every layer of the current model");
        }
        for (int layer = 0; layer < dims.layers(); layer++) {
            checkScoreRow("attention", layer, scores.attention()[layer], dims.mhaInterSize());
            checkScoreRow("mlp", layer, scores.mlp()[layer], dims.intermediateSize());
        }
    }

    private static void checkScoreRow(String module, int layer, double[] row, int width) {
        if (row.length != width) {
            throw new IllegalArgumentException("Invalid scores: layer " + layer + " has " + row.length + " " + module
                    + " scores, but the model's " + module + " width is " + width + "; re-score the current model");
        }
        for (int c = 0; c < width; c++) {
            if (!(row[c] >= 0) || Double.isInfinite(row[c])) {
                throw new IllegalArgumentException("Invalid scores: layer " + layer + " " + module + " channel " + c
                        + " scores " + row[c] + "; scores must be finite and non-negative");
            }
        }
    }

    /** Keeps whole groups of heads, ranked by the sum of their query heads' scores. */
    private static LayerKeep keepHeads(ModelDims dims, int layer, ChannelScores scores, PruneTarget target) {
        int headDim = dims.headDim();
        int group = dims.groupSize();
        double[] channel = scores.attention()[layer];

        // score = mean + (10 / head_dim) * max over the head's channels
        double[] groupScores = new double[dims.kvHeads()];
        for (int h = 0; h < dims.heads(); h++) {
            double sum = 0;
            double max = Double.NEGATIVE_INFINITY;
            for (int d = 0; d < headDim; d++) {
                double s = channel[h * headDim + d];
                sum += s;
                max = Math.max(max, s);
            }
            groupScores[h / group] += sum / headDim + (10.0 / headDim) * max;
        }

        int groupWidth = group * headDim;
        int keptGroups = Math.min(dims.kvHeads(), (target.nextMhaDim() + groupWidth - 1) / groupWidth);
        int[] kvHeads = topAscending(groupScores, keptGroups);
        int[] queryHeads = new int[keptGroups * group];
        int[][] headDims = new int[keptGroups][];
        int[][] frequencies = new int[keptGroups][];
        for (int j = 0; j < keptGroups; j++) {
            for (int q = 0; q < group; q++) {
                queryHeads[j * group + q] = kvHeads[j] * group + q;
            }
            headDims[j] = identity(headDim);
            frequencies[j] = dims.frequencies(layer, kvHeads[j]);
        }
        int[] mlp = topAscending(scores.mlp()[layer], target.nextMlpDim());
        return new LayerKeep(layer, queryHeads, kvHeads, headDims, mlp, frequencies);
    }

    /** Keeps every head and the top dims inside each kv head, for q, k and v alike. */
    private static LayerKeep keepHeadDims(ModelDims dims, int layer, ChannelScores scores, PruneTarget target) {
        int headDim = dims.headDim();
        int group = dims.groupSize();
        int newHeadDim = headDimFor(target.nextMhaDim(), dims.heads());
        double[] channel = scores.attention()[layer];

        int[][] headDims = new int[dims.kvHeads()][];
        int[][] frequencies = new int[dims.kvHeads()][];
        for (int g = 0; g < dims.kvHeads(); g++) {
            // a kv head's dim scores the sum over the query heads that read it
            double[] perDim = new double[headDim];
            for (int q = 0; q < group; q++) {
                int head = g * group + q;
                for (int d = 0; d < headDim; d++) {
                    perDim[d] += channel[head * headDim + d];
                }
            }

            if (target.rope() == RopeMode.RECOMPUTE) {
                headDims[g] = topAscending(perDim, newHeadDim);
                frequencies[g] = identity(newHeadDim / 2);
            } else {
                // rotate-half pairs dim i with dim i + half; keep pairs, firsts then seconds
                int half = headDim / 2;
                double[] pairScores = new double[half];
                for (int i = 0; i < half; i++) {
                    pairScores[i] = perDim[i] + perDim[i + half];
                }
                int[] pairs = topAscending(pairScores, newHeadDim / 2);
                int[] current = dims.frequencies(layer, g);
                headDims[g] = new int[newHeadDim];
                frequencies[g] = new int[pairs.length];
                for (int j = 0; j < pairs.length; j++) {
                    headDims[g][j] = pairs[j];
                    headDims[g][j + pairs.length] = pairs[j] + half;
                    frequencies[g][j] = current[pairs[j]];
                }
            }
        }
        int[] mlp = topAscending(scores.mlp()[layer], target.nextMlpDim());
        return new LayerKeep(layer, identity(dims.heads()), identity(dims.kvHeads()), headDims, mlp, frequencies);
    }

    /**
     * Returns the indices of the {@code k} largest scores in ascending index order. Among equal
     * scores the lower index ranks first.
     */
    static int[] topAscending(double[] scores, int k) {
        Integer[] order = new Integer[scores.length];
        Arrays.setAll(order, i -> i);
        Arrays.sort(order, (a, b) -> {
            int byScore = Double.compare(scores[b], scores[a]);
            return byScore != 0 ? byScore : Integer.compare(a, b);
        });
        int[] top = new int[k];
        for (int i = 0; i < k; i++) {
            top[i] = order[i];
        }
        Arrays.sort(top);
        return top;
    }

    private static boolean allIdentity(int[][][] frequencies) {
        for (int[][] layer : frequencies) {
            for (int[] head : layer) {
                for (int j = 0; j < head.length; j++) {
                    if (head[j] != j) {
                        return false;
                    }
                }
            }
        }
        return true;
    }

    private static int[] identity(int n) {
        int[] out = new int[n];
        Arrays.setAll(out, i -> i);
        return out;
    }
}
