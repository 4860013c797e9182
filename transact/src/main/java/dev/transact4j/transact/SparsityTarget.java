package dev.transact4j.transact;

import dev.transact4j.llama.LlamaConfig;
import dev.transact4j.llama.ModelStats;
import java.util.Locale;

/**
 * Pruning widths derived from a sparsity: the percentage of a model's parameters to remove.
 *
 * <p>The rule, for a config with {@code P} parameters ({@link ModelStats#totalParameters()}):
 * <ol>
 *   <li>{@code C} is the count of parameters that do not depend on the attention and MLP widths:
 *       the embeddings, lm_head (when untied), the final norm, and per layer the two RMSNorm
 *       weights and the o_proj and down_proj biases. The remaining {@code W = P - C} parameters
 *       (q/k/v/o and gate/up/down weights, q/k/v and gate/up biases) scale linearly with the
 *       widths, because k and v shrink with the attention width in both attention modes.</li>
 *   <li>Removing the fraction {@code f} of both widths removes {@code f * W} parameters, so a
 *       sparsity of {@code s} percent needs {@code f = (s / 100) * P / W}.</li>
 *   <li>The attention keeps {@code round(U * (1 - f))} units, rounding halves up, where a unit is a
 *       group of one kv head and its query heads ({@link AttentionPruning#HEADS}, {@code U} =
 *       num_key_value_heads) or one rotary pair in every head ({@link AttentionPruning#HEAD_DIMS},
 *       {@code U} = head_dim / 2). The MLP keeps {@code round(M * (1 - f))} of its {@code M}
 *       channels. Layers are not removed.</li>
 * </ol>
 * Rounding to whole units moves the sparsity reached away from the request, by up to half a unit
 * of attention parameters and half an MLP channel; {@link #reachedPercent()} reports the exact
 * value, counted with {@link ModelStats} on the pruned shape.
 *
 * <p>For a multi-shot run, resolve the sparsity once on the unpruned config and pass
 * {@link #sizes()} to a {@link PruningSchedule}; each shot then moves part of the way.
 *
 * @param requestedPercent  the sparsity requested, in percent of {@code parametersBefore}
 * @param attention         the attention pruning mode the widths are rounded for
 * @param widthFraction     {@code f}, the fraction removed from both widths before rounding
 * @param attentionWidth    the attention inner width to reach, {@code heads * head_dim}
 * @param intermediateSize  the MLP width to reach
 * @param layers            the layer count, unchanged
 * @param parametersBefore  {@code P}
 * @param parametersAfter   the parameters of the pruned shape
 */
public record SparsityTarget(double requestedPercent, AttentionPruning attention, double widthFraction,
                             int attentionWidth, int intermediateSize, int layers,
                             long parametersBefore, long parametersAfter) {

    /**
     * Converts a sparsity into widths for {@code config}.
     *
     * @param percent the percentage of parameters to remove, in {@code [0, 100)}
     * @throws IllegalArgumentException when the percentage is outside {@code [0, 100)} or so high
     *     that the rule would remove every head or every MLP channel; the message names the
     *     largest reachable sparsity
     */
    public static SparsityTarget resolve(LlamaConfig config, double percent, AttentionPruning attention) {
        if (attention == null) {
            throw new IllegalArgumentException("Invalid sparsity target: the attention pruning mode must be set");
        }
        if (!(percent >= 0 && percent < 100)) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                    "Invalid sparsity %s%%: expected a percentage of parameters to remove in [0, 100), such as 30",
                    percent));
        }
        long total = ModelStats.of(config).totalParameters();
        long scaling = total - fixedParameters(config);
        int units = attentionUnits(config, attention);
        int mlp = config.intermediateSize();

        // fraction of both widths to remove, then whole units
        double fraction = percent / 100.0 * total / scaling;
        long keptUnits = Math.round(units * (1 - fraction));
        long keptMlp = Math.round(mlp * (1 - fraction));
        if (fraction >= 1 || keptUnits < 1 || keptMlp < 1) {
            double maxFraction = Math.min(1 - 0.5 / units, 1 - 0.5 / mlp);
            double maxPercent = 100.0 * maxFraction * scaling / total;
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                    "Invalid sparsity %s%%: it needs %.1f%% of the attention and MLP widths removed, which leaves %d of %d "
                            + "attention %s and %d of %d MLP channels. %,d of the %,d parameters (embeddings, lm_head, "
                            + "norms) are never pruned, so request at most about %.1f%%.",
                    percent, 100 * fraction, Math.max(keptUnits, 0), units, unitName(attention), Math.max(keptMlp, 0), mlp,
                    total - scaling, total, maxPercent));
        }

        int attentionWidth = (int) keptUnits * unitWidth(config, attention);
        int intermediate = (int) keptMlp;
        long after = ModelStats.of(shape(config, attention, (int) keptUnits, intermediate)).totalParameters();
        return new SparsityTarget(percent, attention, fraction, attentionWidth, intermediate, config.numHiddenLayers(),
                total, after);
    }

    /** Returns the sparsity reached: the percentage of {@code parametersBefore} the pruned shape removes. */
    public double reachedPercent() {
        return 100.0 * (parametersBefore - parametersAfter) / parametersBefore;
    }

    /**
     * Returns the target that prunes to these widths in one shot, keeping every layer. The width
     * is a whole number of units, so the planner reaches it exactly.
     */
    public PruneTarget toPruneTarget(RopeMode rope) {
        return new PruneTarget(attentionWidth, intermediateSize, null, attention, rope);
    }

    /** Returns the widths as the final sizes of a {@link PruningSchedule}. */
    public PruningSchedule.Sizes sizes() {
        return new PruningSchedule.Sizes(attentionWidth, intermediateSize, layers);
    }

    /** Returns the parameters that do not depend on the attention and MLP widths. */
    static long fixedParameters(LlamaConfig config) {
        ModelStats stats = ModelStats.of(config);
        long hidden = config.hiddenSize();
        long perLayer = 2 * hidden + (config.attentionBias() ? hidden : 0) + (config.mlpBias() ? hidden : 0);
        return stats.embeddingParameters() + stats.lmHeadParameters() + stats.finalNormParameters()
                + perLayer * config.numHiddenLayers();
    }

    private static int attentionUnits(LlamaConfig config, AttentionPruning attention) {
        return attention == AttentionPruning.HEADS ? config.numKeyValueHeads() : config.headDim() / 2;
    }

    private static int unitWidth(LlamaConfig config, AttentionPruning attention) {
        return attention == AttentionPruning.HEADS
                ? config.queriesPerKeyValueHead() * config.headDim()
                : 2 * config.numAttentionHeads();
    }

    private static String unitName(AttentionPruning attention) {
        return attention == AttentionPruning.HEADS ? "head groups" : "rotary pairs per head";
    }

    /** Returns the config's shape with {@code keptUnits} attention units and {@code intermediate} MLP channels. */
    private static LlamaConfig shape(LlamaConfig config, AttentionPruning attention, int keptUnits, int intermediate) {
        LlamaConfig.Builder b = config.toBuilder().intermediateSize(intermediate).ropeKeptFrequencies(null);
        if (attention == AttentionPruning.HEADS) {
            b.numAttentionHeads(keptUnits * config.queriesPerKeyValueHead()).numKeyValueHeads(keptUnits)
                    .headDim(config.headDim());
        } else {
            b.headDim(2 * keptUnits);
        }
        return b.build();
    }
}
