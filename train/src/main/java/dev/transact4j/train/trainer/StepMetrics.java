package dev.transact4j.train.trainer;

/**
 * Measurements of one optimiser step.
 *
 * @param step the step number, from 1
 * @param loss the summed cross entropy of the global batch divided by its target tokens
 * @param learningRate the learning rate the step used
 * @param gradNorm the global L2 norm of the gradients before clipping
 * @param tokens the target tokens of the global batch
 * @param millis the wall time of the step
 */
public record StepMetrics(long step, double loss, double learningRate, double gradNorm, long tokens, double millis) {

    /** Returns the tokens per second of this step. */
    public double tokensPerSecond() {
        return millis > 0 ? tokens * 1000.0 / millis : 0;
    }
}
