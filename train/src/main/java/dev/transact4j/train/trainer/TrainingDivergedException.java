package dev.transact4j.train.trainer;

/** Thrown when a step gives a NaN or infinite loss or gradient norm; the run stops without a checkpoint of that step. */
public final class TrainingDivergedException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final long step;

    TrainingDivergedException(long step, String message) {
        super(message);
        this.step = step;
    }

    /** Returns the step, from 1, whose loss or gradient norm was not finite. */
    public long step() {
        return step;
    }
}
