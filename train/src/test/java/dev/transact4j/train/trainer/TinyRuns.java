package dev.transact4j.train.trainer;

import dev.transact4j.train.data.TrainingData;
import java.nio.file.Path;

/** The small run the trainer tests share: a bigram model on Brown paragraphs. */
final class TinyRuns {

    static final int TRAIN_PARAGRAPHS = 60;
    static final int VALID_PARAGRAPHS = 10;
    static final int HIDDEN = 16;
    static final long MODEL_SEED = 11;

    private TinyRuns() {
    }

    /** Returns the config of the tests' runs, {@code maxSteps} steps long. */
    static TrainingConfig config(long maxSteps) {
        return TrainingConfig.builder()
                .seed(7)
                .microBatchSize(3)
                .gradientAccumulationSteps(2)
                .maxSteps(maxSteps)
                .learningRate(3e-2)
                .warmupSteps(3)
                .minLrRatio(0.1)
                .weightDecay(0.1)
                .evalEvery(10)
                .evalBatches(4)
                .checkpointEvery(5)
                .build();
    }

    static BigramModel model() {
        return new BigramModel(BrownBytes.VOCAB_SIZE, HIDDEN, MODEL_SEED);
    }

    static Trainer trainer(TrainingData data, TrainingConfig config, Path runDir) {
        return new Trainer(model(), data.train(), data.validation(), config, runDir).progressBar(false);
    }
}
