package dev.transact4j.train.trainer;

import dev.transact4j.nn.Module;
import dev.transact4j.train.data.Batch;
import java.io.IOException;
import java.nio.file.Path;

/**
 * A model the {@link Trainer} can train: a module tree holding the parameters, and a forward pass
 * that returns the summed next-token cross entropy of a micro-batch.
 *
 * <p>The loss is a sum, not a mean, so that the trainer can divide the micro-batches of one
 * optimiser step by the target tokens of the whole step: a mean per micro-batch would weigh a
 * token of a short micro-batch more than a token of a long one.
 */
public interface TrainableModel {

    /** Target id that marks a position without a target, as PyTorch's default {@code ignore_index}. */
    int IGNORE_INDEX = -100;

    /** Returns the module whose parameters are trained and whose state dict is checkpointed. */
    Module module();

    /**
     * Runs the forward pass on {@code batch} and returns the cross entropy summed over every
     * position whose target is not {@link #IGNORE_INDEX}, with autograd recorded when
     * {@code GradMode} is on, and the number of positions summed.
     *
     * @param random the trainer's generator, for dropout or sampling; a model that draws from it
     *     gets the same draws after a resume
     */
    LossSum lossSum(Batch batch, TrainingRandom random);

    /**
     * Writes files that belong beside {@code model.safetensors} in every checkpoint, such as a
     * Hugging Face {@code config.json}, into {@code directory}. The default writes nothing.
     */
    default void writeCheckpointFiles(Path directory) throws IOException {
    }

    /** Returns the number of targets of {@code batch} that are not {@link #IGNORE_INDEX}. */
    static long countTargets(Batch batch) {
        long count = 0;
        for (int target : batch.targets()) {
            if (target != IGNORE_INDEX) {
                count++;
            }
        }
        return count;
    }
}
