package dev.transact4j.train.pipeline;

import dev.transact4j.llama.LlamaForCausalLM;
import dev.transact4j.nn.Module;
import dev.transact4j.tensor.Functional;
import dev.transact4j.tensor.Tensor;
import dev.transact4j.train.data.Batch;
import dev.transact4j.train.trainer.LossSum;
import dev.transact4j.train.trainer.TrainableModel;
import dev.transact4j.train.trainer.TrainingRandom;

/**
 * Adapts a {@link LlamaForCausalLM} to the {@link dev.transact4j.train.trainer.Trainer}. A batch's
 * targets are already shifted by one position, so the loss is the cross entropy of the logits of
 * every position against its target, summed.
 */
public record LlamaTrainable(LlamaForCausalLM model) implements TrainableModel {

    @Override
    public Module module() {
        return model;
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
