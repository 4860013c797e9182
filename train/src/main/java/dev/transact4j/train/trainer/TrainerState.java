package dev.transact4j.train.trainer;

import dev.transact4j.train.data.DataPosition;

/**
 * The state of a run after {@code step} optimiser steps, stored as {@code trainer_state.json} in
 * a checkpoint.
 *
 * @param step optimiser steps taken, which is also the step of the learning-rate schedule
 * @param dataPosition where the next training micro-batch starts
 * @param rngState the state of the trainer's {@link TrainingRandom}
 * @param tokensSeen target tokens trained on so far
 * @param trainLoss the loss of the last step, NaN before the first
 */
public record TrainerState(long step, DataPosition dataPosition, long rngState, long tokensSeen, double trainLoss) {

    /** Version of the checkpoint layout; a reader rejects other versions. */
    public static final int FORMAT_VERSION = 1;

    public TrainerState {
        if (step < 0 || tokensSeen < 0) {
            throw new IllegalArgumentException("TrainerState: step and tokens seen must be 0 or more, got step " + step
                    + ", tokens " + tokensSeen);
        }
        if (dataPosition == null) {
            throw new IllegalArgumentException("TrainerState: the data position is missing");
        }
    }
}
