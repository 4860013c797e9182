package dev.transact4j.train.trainer;

import dev.transact4j.llama.LlamaForCausalLM;
import dev.transact4j.nn.Module;
import dev.transact4j.tensor.Functional;
import dev.transact4j.tensor.Tensor;
import dev.transact4j.train.data.Batch;
import java.nio.file.Path;

/**
 * A {@link LlamaForCausalLM} as a {@link TrainableModel}.
 *
 * <p>A {@link Batch} already pairs each input with the token that follows it, so the loss is the
 * cross entropy of the logits against {@code batch.targets()} at every position. This adapter does
 * not use the model's Hugging Face-style {@code forward(inputIds, labels, ...)}, which shifts the
 * labels itself and would lose the last target of each row.
 *
 * <p>Each checkpoint also receives the model's {@code config.json}, so the checkpoint directory
 * is a Hugging Face model directory that {@code LlamaCheckpoint.load} and transformers read.
 */
public final class LlamaTrainable implements TrainableModel {

    private final LlamaForCausalLM model;

    /** Wraps {@code model}; training updates its parameters in place. */
    public LlamaTrainable(LlamaForCausalLM model) {
        if (LlamaForCausalLM.IGNORE_INDEX != IGNORE_INDEX) {
            throw new IllegalStateException("LlamaTrainable: the model ignores target " + LlamaForCausalLM.IGNORE_INDEX
                    + " but the trainer uses " + IGNORE_INDEX);
        }
        this.model = model;
    }

    /** Returns the wrapped model. */
    public LlamaForCausalLM model() {
        return model;
    }

    @Override
    public Module module() {
        return model;
    }

    @Override
    public void writeCheckpointFiles(Path directory) {
        model.config().save(directory.resolve("config.json"));
    }

    @Override
    public LossSum lossSum(Batch batch, TrainingRandom random) {
        int rows = batch.batchSize() * batch.seqLen();
        Tensor logits = model.logits(batch.inputIds(), batch.batchSize(), batch.seqLen());
        Tensor flat = logits.view(rows, model.config().vocabSize());
        Tensor sum = Functional.crossEntropy(flat, batch.targets(), IGNORE_INDEX, 1f);
        return new LossSum(sum, TrainableModel.countTargets(batch));
    }
}
