package dev.transact4j.train.pipeline;

import dev.transact4j.llama.LlamaForCausalLM;
import dev.transact4j.train.data.TrainingData;
import dev.transact4j.train.trainer.EvalMetrics;
import dev.transact4j.train.trainer.LlamaTrainable;
import dev.transact4j.train.trainer.MetricsLog;
import dev.transact4j.train.trainer.StepMetrics;
import dev.transact4j.train.trainer.Trainer;
import dev.transact4j.train.trainer.TrainingConfig;
import dev.transact4j.train.trainer.TrainingListener;
import dev.transact4j.train.trainer.TrainingResult;
import java.io.IOException;
import java.nio.file.Path;

/** One training run of the pipeline (pretraining, a shot's recovery or fine-tuning) on the {@link Trainer}. */
public final class TrainingPhase {

    private TrainingPhase() {
    }

    /**
     * Trains {@code model} in place for {@code steps} optimiser steps with a peak learning rate of
     * {@code learningRate}, writing the run (metrics and final checkpoint) to {@code runDir}, and
     * appends its losses to {@code curve}.
     *
     * <p>Warm-up takes a tenth of the steps (at most 100), then the rate follows a cosine to a tenth
     * of its peak, with AdamW (betas 0.9, 0.95, weight decay 0.1 on matrices) and clipping at 1.
     */
    public static TrainingResult train(LlamaForCausalLM model, TrainingData data, PipelineOptions options,
                                       long steps, double learningRate, long seed, Path runDir, LossCurve curve,
                                       boolean progressBar) throws IOException {
        return train(model, data, options.microBatch(), options.globalBatch(), options.evalBatches(), steps,
                learningRate, seed, runDir, curve, progressBar);
    }

    /**
     * Trains as {@link #train(LlamaForCausalLM, TrainingData, PipelineOptions, long, double, long, Path, LossCurve,
     * boolean)} with explicit batch sizes in sequences ({@code globalBatch} a multiple of {@code microBatch}) and
     * validation micro-batches per evaluation (0 for all).
     */
    public static TrainingResult train(LlamaForCausalLM model, TrainingData data, int microBatch, int globalBatch,
                                       int evalBatches, long steps, double learningRate, long seed, Path runDir,
                                       LossCurve curve, boolean progressBar) throws IOException {
        return train(model, data, microBatch, globalBatch, evalBatches, steps, learningRate, seed, runDir, curve,
                progressBar, 0, false);
    }

    /**
     * Trains as the method above, writing a checkpoint every {@code checkpointEvery} steps (0 for
     * the end only). With {@code resume}, it continues the run in {@code runDir} from its
     * checkpoint instead of starting it, and {@code curve} gets every step logged in the run's
     * metrics, before and after the checkpoint.
     *
     * @throws IllegalStateException    when {@code resume} is set and {@code runDir} has no checkpoint
     * @throws IllegalArgumentException when {@code resume} is set and a setting that the losses depend
     *                                  on differs from the checkpoint's
     */
    public static TrainingResult train(LlamaForCausalLM model, TrainingData data, int microBatch, int globalBatch,
                                       int evalBatches, long steps, double learningRate, long seed, Path runDir,
                                       LossCurve curve, boolean progressBar, int checkpointEvery, boolean resume)
            throws IOException {
        TrainingConfig config = TrainingConfig.builder()
                .seed(seed)
                .microBatchSize(microBatch)
                .gradientAccumulationSteps(globalBatch / microBatch)
                .maxSteps(steps)
                .learningRate(learningRate)
                .warmupSteps(Math.min(100, steps / 10))
                .evalEvery((int) Math.max(0, steps / 2))
                .evalBatches(evalBatches)
                .checkpointEvery(checkpointEvery)
                .build();
        model.train(true);
        Trainer trainer = new Trainer(new LlamaTrainable(model), data.train(), data.validation(), config, runDir)
                .progressBar(progressBar);
        if (resume) {
            TrainingResult result = trainer.resume();
            Path metrics = runDir.resolve(Trainer.METRICS_FILE);
            for (double[] point : MetricsLog.readTrainLosses(metrics)) {
                curve.addTrain((long) point[0], point[1]);
            }
            for (double[] point : MetricsLog.readValidationLosses(metrics)) {
                curve.addValidation((long) point[0], point[1]);
            }
            curve.endPhase(steps);
            model.eval();
            return result;
        }
        trainer.listener(new TrainingListener() {
                    @Override
                    public void onStep(StepMetrics metrics) {
                        curve.addTrain(metrics.step(), metrics.loss());
                    }

                    @Override
                    public void onEval(EvalMetrics metrics) {
                        curve.addValidation(metrics.step(), metrics.loss());
                    }
                });
        TrainingResult result = trainer.run();
        curve.endPhase(steps);
        model.eval();
        return result;
    }
}
