package dev.transact4j.train.trainer;

/**
 * The result of one evaluation on the validation blocks.
 *
 * @param step optimiser steps taken when it ran
 * @param loss the summed cross entropy over the validation targets divided by their number
 * @param tokens the validation targets evaluated
 */
public record EvalMetrics(long step, double loss, long tokens) {

    /** Returns {@code exp(loss)}. */
    public double perplexity() {
        return Math.exp(loss);
    }
}
