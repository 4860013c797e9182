package dev.transact4j.train.trainer;

/**
 * The outcome of {@link Trainer#run()} or {@link Trainer#resume()}.
 *
 * @param steps optimiser steps taken in total, including those before a resume
 * @param trainLoss the loss of the last step
 * @param validation the last evaluation, or null when there are no validation blocks
 * @param tokensSeen target tokens trained on in total
 * @param peakHeapBytes the peak heap use of this run, see {@link PeakMemory}
 */
public record TrainingResult(long steps, double trainLoss, EvalMetrics validation, long tokensSeen,
                             long peakHeapBytes) {
}
