package dev.transact4j.train.pipeline;

import dev.transact4j.transact.AttentionPruning;
import dev.transact4j.transact.RopeMode;
import dev.transact4j.transact.ScorerKind;

/**
 * Settings of a prune-train-finetune run, with the meaning of the original TransAct
 * {@code run_trainer.sh} options. A run that only fine-tunes needs no pruning target, so the
 * widths and the sparsity may all be null; {@link TransActPipeline} rejects that for the modes that prune.
 *
 * @param targetAttentionWidth the final attention inner width {@code heads * head_dim}
 *     ({@code next_mha_dim}), or null when {@code sparsityPercent} sets it
 * @param targetMlpWidth       the final MLP width ({@code next_mlp_dim}), or null when
 *     {@code sparsityPercent} sets it
 * @param targetLayers         the final layer count, or null to keep every layer
 * @param sparsityPercent      percentage of the dense model's parameters to remove, the alternative
 *     to explicit widths, or null
 * @param shots                pruning shots {@code K} ({@code prune_shots})
 * @param calibrationSamples   sequences of {@code seqLen} tokens scored before each shot
 * @param scorer               the channel scorer
 * @param seqLen               tokens per training sequence
 * @param pruneTokens          training tokens spread over the shots ({@code prune_tokens} in total)
 * @param fineTuneTokens       training tokens of the fine-tuning run
 * @param globalBatch          sequences per optimiser step
 * @param microBatch           sequences per forward pass; divides {@code globalBatch}
 * @param learningRate         peak learning rate of fine-tuning; shot {@code i} trains at {@code lr * 2i / K}
 * @param attention            whole heads or dimensions inside heads
 * @param rope                 rotary treatment of pruned head dimensions
 * @param seed                 seeds data order and calibration sample choice
 * @param evalBatches          validation micro-batches per evaluation, 0 for every block
 */
public record PipelineOptions(Integer targetAttentionWidth, Integer targetMlpWidth, Integer targetLayers,
                              Double sparsityPercent, int shots, int calibrationSamples, ScorerKind scorer, int seqLen,
                              long pruneTokens, long fineTuneTokens, int globalBatch, int microBatch,
                              double learningRate, AttentionPruning attention, RopeMode rope, long seed,
                              int evalBatches) {

    /** @throws IllegalArgumentException naming the first invalid option and what to set instead */
    public PipelineOptions {
        boolean widths = targetAttentionWidth != null || targetMlpWidth != null;
        if (widths && sparsityPercent != null) {
            throw new IllegalArgumentException("set either the target widths or a sparsity percentage, not both");
        }
        if (widths && (targetAttentionWidth == null || targetMlpWidth == null)) {
            throw new IllegalArgumentException("set both the target attention width and the target MLP width");
        }
        if (widths) {
            requirePositive("target attention width", targetAttentionWidth);
            requirePositive("target MLP width", targetMlpWidth);
        }
        if (targetLayers != null) {
            requirePositive("target layers", targetLayers);
        }
        if (sparsityPercent != null && !(sparsityPercent > 0 && sparsityPercent < 100)) {
            throw new IllegalArgumentException("sparsity " + sparsityPercent
                    + "% must be a percentage of parameters to remove in (0, 100), such as 30");
        }
        requirePositive("shots", shots);
        requirePositive("calibration samples", calibrationSamples);
        requirePositive("sequence length", seqLen);
        requirePositive("global batch", globalBatch);
        requirePositive("micro batch", microBatch);
        if (globalBatch % microBatch != 0) {
            throw new IllegalArgumentException("global batch " + globalBatch + " is not a multiple of micro batch "
                    + microBatch + "; choose a micro batch that divides it");
        }
        if (pruneTokens < 0 || fineTuneTokens < 0) {
            throw new IllegalArgumentException("token budgets must be 0 or more, got prune " + pruneTokens
                    + " and fine-tune " + fineTuneTokens);
        }
        if (!(learningRate > 0) || Double.isInfinite(learningRate)) {
            throw new IllegalArgumentException("learning rate must be a positive number, got " + learningRate);
        }
        if (evalBatches < 0) {
            throw new IllegalArgumentException("eval batches must be 0 or more, got " + evalBatches);
        }
    }

    /** Returns true when the widths or the sparsity are set, which the modes that prune need. */
    public boolean hasPruningTarget() {
        return targetAttentionWidth != null || sparsityPercent != null;
    }

    private static void requirePositive(String name, long value) {
        if (value < 1) {
            throw new IllegalArgumentException(name + " must be at least 1, got " + value);
        }
    }

    /** Returns the training tokens of one shot's share, {@code prune_tokens / K}. */
    public long tokensPerShot() {
        return pruneTokens / shots;
    }

    /**
     * Returns the training tokens after shot {@code shot} (1-based):
     * {@code p/2 + p * (shot - 1) / (K - 1)} with {@code p = prune_tokens / K}, so later shots, which
     * cut a model that has less left to lose, train longer. With one shot there is no training.
     */
    public long trainTokensAfterShot(int shot) {
        if (shots == 1) {
            return 0;
        }
        long p = tokensPerShot();
        return p / 2 + p * (shot - 1) / (shots - 1);
    }

    /** Returns the peak learning rate after shot {@code shot}: {@code lr * 2 * shot / K}. */
    public double learningRateAfterShot(int shot) {
        return learningRate * 2.0 * shot / shots;
    }

    /** Returns the optimiser steps that cover {@code tokens} training tokens, at least 1. */
    public long stepsFor(long tokens) {
        long perStep = (long) globalBatch * seqLen;
        return Math.max(1, Math.round((double) tokens / perStep));
    }
}
