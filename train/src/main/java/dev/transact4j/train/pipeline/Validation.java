package dev.transact4j.train.pipeline;

import dev.transact4j.llama.LlamaForCausalLM;
import dev.transact4j.tensor.GradMode;
import dev.transact4j.train.data.Batch;
import dev.transact4j.train.data.DataLoader;
import dev.transact4j.train.data.PackedBlocks;
import dev.transact4j.train.trainer.EvalMetrics;
import dev.transact4j.train.trainer.LlamaTrainable;
import dev.transact4j.train.trainer.LossSum;
import dev.transact4j.train.trainer.TrainingResult;
import dev.transact4j.train.trainer.TrainingRandom;

/** The mean next-token loss of a model on validation blocks, read in file order. */
public final class Validation {

    /** A mean loss over {@code tokens} target tokens. */
    public record Loss(double meanLoss, long tokens) {
        public double perplexity() {
            return Math.exp(meanLoss);
        }
    }

    private Validation() {
    }

    /**
     * Returns the final evaluation of a training run, which the trainer computes over the same
     * validation micro-batches as {@link #loss}.
     */
    public static Loss of(TrainingResult result) {
        EvalMetrics eval = result.validation();
        if (eval == null) {
            throw new IllegalArgumentException("Validation: the training run had no validation set");
        }
        return new Loss(eval.loss(), eval.tokens());
    }

    /**
     * Returns the mean loss over the first {@code maxBatches} micro-batches of {@code blocks}
     * (every block when 0), summing in double.
     */
    public static Loss loss(LlamaForCausalLM model, PackedBlocks blocks, int microBatch, int maxBatches) {
        LlamaTrainable trainable = new LlamaTrainable(model);
        TrainingRandom random = new TrainingRandom(0);
        double sum = 0;
        long tokens = 0;
        int batches = 0;
        try (GradMode.Scope scope = GradMode.noGrad()) {
            for (Batch batch : DataLoader.inOrder(blocks, microBatch)) {
                if (maxBatches > 0 && batches == maxBatches) {
                    break;
                }
                LossSum loss = trainable.lossSum(batch, random);
                sum += loss.sum().item();
                tokens += loss.tokens();
                batches++;
            }
        }
        if (tokens == 0) {
            throw new IllegalArgumentException("Validation: no validation tokens; the validation set is empty");
        }
        return new Loss(sum / tokens, tokens);
    }
}
