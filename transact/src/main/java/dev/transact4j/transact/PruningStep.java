package dev.transact4j.transact;

import dev.transact4j.llama.LlamaConfig;
import dev.transact4j.llama.checkpoint.NamedArray;
import java.util.Map;

/**
 * One pruning shot on arrays, in one call: validate the target, plan, cut the state dict, derive
 * the new config and report.
 *
 * <p>Order of work: the config's dimensions, the target (explicit, or derived from a sparsity by
 * {@link SparsityTarget}), the plan ({@link KeepPlanner}, which validates the target and the scores),
 * the new config ({@link PrunedConfig}), then the cut ({@link StateDictSurgeon}, which checks every
 * tensor's shape before cutting it) and the report. An invalid target, sparsity or score table
 * therefore fails before any array is copied. The input map and its arrays are never modified.
 */
public final class PruningStep {

    /**
     * The target of one step and the settings of its report.
     *
     * @param target          explicit widths, or null when {@code sparsityPercent} is set
     * @param sparsityPercent the percentage of the current model's parameters this step removes, or
     *                        null when {@code target} is set
     * @param attention       the attention pruning mode for a sparsity target
     * @param rope            the rotary mode for a sparsity target
     * @param shot            the shot number recorded in the report, counted from 1
     * @param contextLength   the context length the report counts FLOPs at, or 0 for the config's
     *                        {@code max_position_embeddings}
     * @param histogramBins   the number of score histogram bins per layer and module
     */
    public record Options(PruneTarget target, Double sparsityPercent, AttentionPruning attention, RopeMode rope,
                          int shot, int contextLength, int histogramBins) {

        /**
         * Checks that exactly one of target and sparsity is set and that the counts are valid.
         *
         * @throws IllegalArgumentException naming the invalid option
         */
        public Options {
            if ((target == null) == (sparsityPercent == null)) {
                throw new IllegalArgumentException("PruningStep: set exactly one of explicit widths (target) and a"
                        + " sparsity percentage, got " + (target == null ? "neither" : "both"));
            }
            if (sparsityPercent != null && (attention == null || rope == null)) {
                throw new IllegalArgumentException("PruningStep: a sparsity target needs the attention pruning mode and"
                        + " the rope mode, got " + attention + " and " + rope);
            }
            if (shot < 1) {
                throw new IllegalArgumentException("PruningStep: shot is " + shot + " but shots are counted from 1");
            }
            if (contextLength < 0) {
                throw new IllegalArgumentException("PruningStep: context length is " + contextLength
                        + " but must be positive, or 0 for max_position_embeddings");
            }
            if (histogramBins < 1) {
                throw new IllegalArgumentException("PruningStep: histogram bins is " + histogramBins + " but must be at least 1");
            }
        }

        /** Returns options for explicit widths: shot 1, FLOPs at max_position_embeddings, 20 bins. */
        public static Options of(PruneTarget target) {
            return new Options(target, null, null, null, 1, 0, ScoreHistogram.DEFAULT_BINS);
        }

        /** Returns options for a sparsity ({@link SparsityTarget}): shot 1, FLOPs at max_position_embeddings, 20 bins. */
        public static Options sparsity(double percent, AttentionPruning attention, RopeMode rope) {
            return new Options(null, percent, attention, rope, 1, 0, ScoreHistogram.DEFAULT_BINS);
        }

        /** Returns these options with another shot number. */
        public Options withShot(int value) {
            return new Options(target, sparsityPercent, attention, rope, value, contextLength, histogramBins);
        }

        /** Returns these options counting FLOPs at {@code value} tokens of context. */
        public Options withContextLength(int value) {
            return new Options(target, sparsityPercent, attention, rope, shot, value, histogramBins);
        }

        /** Returns these options with {@code value} histogram bins. */
        public Options withHistogramBins(int value) {
            return new Options(target, sparsityPercent, attention, rope, shot, contextLength, value);
        }
    }

    /**
     * The outcome of one step.
     *
     * @param config   the pruned model's config
     * @param state    the pruned state dict; tensors that were not cut share their arrays with the input
     * @param plan     the plan that was applied
     * @param sparsity the sparsity conversion, or null for explicit widths
     * @param report   the report entry of this shot
     */
    public record Result(LlamaConfig config, Map<String, NamedArray> state, KeepPlan plan, SparsityTarget sparsity,
                         ShotReport report) {
    }

    private PruningStep() {
    }

    /**
     * Prunes {@code state}, the weights of the model {@code config} describes, by one shot.
     *
     * @param scores channel scores of every layer of the current model
     * @throws IllegalArgumentException when the target, the sparsity, the scores or the state dict do
     *     not fit the config, naming the value and the fix
     */
    public static Result run(LlamaConfig config, Map<String, NamedArray> state, ChannelScores scores, Options options) {
        ModelDims dims = ModelDims.from(config);

        // the target, from explicit widths or a sparsity
        SparsityTarget sparsity = null;
        PruneTarget target = options.target();
        if (target == null) {
            sparsity = SparsityTarget.resolve(config, options.sparsityPercent(), options.attention());
            target = sparsity.toPruneTarget(options.rope());
        }

        // validated plan and the config it leads to, before any array is touched
        KeepPlan plan = KeepPlanner.plan(dims, scores, target);
        LlamaConfig after = PrunedConfig.afterPlan(config, plan);

        // cut and report
        StateDictSurgeon.Result cut = StateDictSurgeon.apply(state, plan);
        int contextLength = options.contextLength() == 0 ? config.maxPositionEmbeddings() : options.contextLength();
        ShotReport report = ShotReport.of(options.shot(), config, after, plan, scores, state, cut.state(),
                options.sparsityPercent(), contextLength, options.histogramBins());
        return new Result(after, cut.state(), plan, sparsity, report);
    }
}
