package dev.transact4j.train.trainer;

import java.nio.file.Path;

/**
 * Receives the events of a run on the training thread, after the trainer has logged them. It
 * must not change the model, data or random state unless it means to change the run.
 */
public interface TrainingListener {

    TrainingListener NONE = new TrainingListener() {
    };

    /** Called after each optimiser step. */
    default void onStep(StepMetrics metrics) {
    }

    /** Called after each evaluation. */
    default void onEval(EvalMetrics metrics) {
    }

    /** Called after a checkpoint of {@code step} steps is complete in {@code directory}. */
    default void onCheckpoint(long step, Path directory) {
    }
}
