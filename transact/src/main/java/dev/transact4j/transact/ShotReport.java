package dev.transact4j.transact;

import dev.transact4j.llama.LlamaConfig;
import dev.transact4j.llama.ModelStats;
import dev.transact4j.llama.checkpoint.NamedArray;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The record of one pruning shot: widths requested and reached, the model's cost before and after,
 * and per layer the cost, the kept index sets and histograms of the channel scores.
 *
 * <p>Costs come from {@link ModelStats} on the configs before and after the shot: parameters,
 * forward FLOPs per token at {@code contextLength} and float32 KV-cache bytes per token.
 * {@code stateDictParametersBefore} and {@code stateDictParametersAfter} count the elements of the
 * state dicts themselves, so a reader can check that the config and the weights agree.
 *
 * @param shot                      the shot number, counted from 1
 * @param attention                 the attention pruning mode
 * @param rope                      the rotary mode, which matters for {@link AttentionPruning#HEAD_DIMS} only
 * @param contextLength             the context length the FLOPs are counted at
 * @param sparsityRequestedPercent  the sparsity the widths were derived from, or null for explicit widths
 * @param requested                 the widths requested ({@code layers} is the current count when not set)
 * @param reached                   the widths reached
 * @param before                    the model's shape before the shot
 * @param after                     the model's shape after the shot
 * @param totalBefore               the whole model's cost before the shot
 * @param totalAfter                the whole model's cost after the shot
 * @param stateDictParametersBefore the number of elements in the state dict before the shot
 * @param stateDictParametersAfter  the number of elements in the state dict after the shot
 * @param layers                    one entry per layer before the shot, removed layers included
 * @param transformersCompatibility how stock transformers treats the config after the shot
 */
public record ShotReport(int shot, AttentionPruning attention, RopeMode rope, int contextLength,
                         Double sparsityRequestedPercent, Widths requested, Widths reached, Shape before, Shape after,
                         Cost totalBefore, Cost totalAfter, long stateDictParametersBefore, long stateDictParametersAfter,
                         List<LayerReport> layers, PrunedConfig.Compatibility transformersCompatibility) {

    /** The three widths pruning moves. */
    public record Widths(int attentionWidth, int intermediateSize, int layers) {
    }

    /** The attention and MLP shape of a model. */
    public record Shape(int heads, int kvHeads, int headDim, int attentionWidth, int intermediateSize, int layers) {

        static Shape of(LlamaConfig config) {
            return new Shape(config.numAttentionHeads(), config.numKeyValueHeads(), config.headDim(),
                    config.attentionWidth(), config.intermediateSize(), config.numHiddenLayers());
        }
    }

    /** Parameters, forward FLOPs per token and float32 KV-cache bytes per token of a model or a layer. */
    public record Cost(long parameters, long forwardFlopsPerToken, long kvCacheBytesPerToken) {
    }

    /**
     * One layer of the model before the shot.
     *
     * @param sourceLayer     the layer's index before the shot
     * @param newLayer        its index after the shot, or null when the shot removed it
     * @param before          its cost before the shot
     * @param after           its cost after the shot, or null when removed
     * @param queryHeads      kept query heads (empty when removed)
     * @param kvHeads         kept kv heads
     * @param headDims        per kept kv head, the kept dims in their new order
     * @param mlpChannels     kept MLP channels
     * @param ropeFrequencies per kept kv head, the original rotary frequency index of each kept pair
     * @param attentionScores histogram of the attention channel scores, split into kept and removed
     * @param mlpScores       histogram of the MLP channel scores, split into kept and removed
     */
    public record LayerReport(int sourceLayer, Integer newLayer, Cost before, Cost after, int[] queryHeads,
                              int[] kvHeads, int[][] headDims, int[] mlpChannels, int[][] ropeFrequencies,
                              ScoreHistogram attentionScores, ScoreHistogram mlpScores) {
    }

    /** Copies the layer list. */
    public ShotReport {
        layers = List.copyOf(layers);
    }

    /**
     * Builds the report of one shot.
     *
     * @param configBefore the config {@code plan} was made for
     * @param configAfter  the config after the shot ({@link PrunedConfig#afterPlan})
     * @param scores       the scores the plan was made from, one row per layer of {@code configBefore}
     * @param stateBefore  the state dict before the cut
     * @param stateAfter   the state dict after the cut
     * @param sparsityPercent the sparsity the target was derived from, or null
     * @throws IllegalArgumentException when contextLength or bins is not positive
     */
    public static ShotReport of(int shot, LlamaConfig configBefore, LlamaConfig configAfter, KeepPlan plan,
                                ChannelScores scores, Map<String, NamedArray> stateBefore,
                                Map<String, NamedArray> stateAfter, Double sparsityPercent, int contextLength, int bins) {
        ModelStats statsBefore = ModelStats.of(configBefore);
        ModelStats statsAfter = ModelStats.of(configAfter);
        ModelDims dims = plan.before();
        PruneTarget target = plan.target();

        // one entry per layer before the shot; kept layers are the first plan.layers().size()
        List<LayerReport> layers = new ArrayList<>();
        for (int layer = 0; layer < dims.layers(); layer++) {
            LayerKeep keep = null;
            int newIndex = -1;
            for (int i = 0; i < plan.keptLayers().length; i++) {
                if (plan.keptLayers()[i] == layer) {
                    keep = plan.layers().get(i);
                    newIndex = i;
                }
            }
            Cost before = layerCost(statsBefore, layer, contextLength);
            Cost after = keep == null ? null : layerCost(statsAfter, newIndex, contextLength);
            ScoreHistogram attentionScores = ScoreHistogram.of(scores.attention()[layer], keptAttention(dims, keep), bins);
            ScoreHistogram mlpScores = ScoreHistogram.of(scores.mlp()[layer], keptMlp(dims, keep), bins);
            if (keep == null) {
                layers.add(new LayerReport(layer, null, before, null, new int[0], new int[0], new int[0][],
                        new int[0], new int[0][], attentionScores, mlpScores));
            } else {
                layers.add(new LayerReport(layer, newIndex, before, after, keep.queryHeads(), keep.kvHeads(),
                        keep.headDims(), keep.mlpChannels(), keep.frequencies(), attentionScores, mlpScores));
            }
        }

        int requestedLayers = target.nextLayers() == null ? dims.layers() : target.nextLayers();
        return new ShotReport(shot, target.attention(), target.rope(), contextLength, sparsityPercent,
                new Widths(target.nextMhaDim(), target.nextMlpDim(), requestedLayers),
                new Widths(plan.mhaWidthReached(), plan.mlpWidthReached(), plan.after().layers()),
                Shape.of(configBefore), Shape.of(configAfter),
                totalCost(statsBefore, contextLength), totalCost(statsAfter, contextLength),
                elements(stateBefore), elements(stateAfter), layers, PrunedConfig.transformersCompatibility(configAfter));
    }

    /** Returns the percentage of parameters this shot removed. */
    public double parameterReductionPercent() {
        return 100.0 * (totalBefore.parameters() - totalAfter.parameters()) / totalBefore.parameters();
    }

    /** Returns the number of elements in all arrays of {@code state}. */
    public static long elements(Map<String, NamedArray> state) {
        long sum = 0;
        for (NamedArray array : state.values()) {
            sum += array.data().length;
        }
        return sum;
    }

    private static Cost totalCost(ModelStats stats, int contextLength) {
        return new Cost(stats.totalParameters(), stats.forwardFlopsPerToken(contextLength), stats.kvCacheBytesPerToken());
    }

    private static Cost layerCost(ModelStats stats, int layer, int contextLength) {
        ModelStats.LayerStats layerStats = stats.layers().get(layer);
        // every layer has the same kv width, so the cache splits evenly
        long kvBytes = stats.kvCacheBytesPerToken() / stats.layers().size();
        return new Cost(layerStats.parameters(), layerStats.forwardFlopsPerToken(contextLength), kvBytes);
    }

    /** Returns, per attention channel {@code head * head_dim + dim}, whether the plan keeps it. */
    private static boolean[] keptAttention(ModelDims dims, LayerKeep keep) {
        boolean[] kept = new boolean[dims.mhaInterSize()];
        if (keep == null) {
            return kept;
        }
        int group = dims.groupSize();
        for (int q = 0; q < keep.queryHeads().length; q++) {
            int head = keep.queryHeads()[q];
            for (int d : keep.headDims()[q / group]) {
                kept[head * dims.headDim() + d] = true;
            }
        }
        return kept;
    }

    private static boolean[] keptMlp(ModelDims dims, LayerKeep keep) {
        boolean[] kept = new boolean[dims.intermediateSize()];
        if (keep != null) {
            for (int c : keep.mlpChannels()) {
                kept[c] = true;
            }
        }
        return kept;
    }
}
