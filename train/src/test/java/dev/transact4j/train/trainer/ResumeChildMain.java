package dev.transact4j.train.trainer;

import dev.transact4j.train.data.TrainingData;
import java.nio.file.Path;

/**
 * The child JVM of the resume test: trains the tiny run into a run directory, sleeping after each
 * step so that the parent can kill it between two checkpoints. Sleeping changes only the timing,
 * never the losses.
 *
 * <p>Arguments: {@code run} or {@code resume}, data directory, run directory, steps, milliseconds
 * to sleep after each step.
 */
public final class ResumeChildMain {

    private ResumeChildMain() {
    }

    public static void main(String[] args) throws Exception {
        boolean resume = args[0].equals("resume");
        Path dataDir = Path.of(args[1]);
        Path runDir = Path.of(args[2]);
        long steps = Long.parseLong(args[3]);
        long sleepMillis = Long.parseLong(args[4]);

        TrainingData data = BrownBytes.prepare(dataDir, TinyRuns.TRAIN_PARAGRAPHS, TinyRuns.VALID_PARAGRAPHS);
        Trainer trainer = TinyRuns.trainer(data, TinyRuns.config(steps), runDir);
        trainer.listener(new TrainingListener() {
            @Override
            public void onStep(StepMetrics metrics) {
                try {
                    Thread.sleep(sleepMillis);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        if (resume) {
            trainer.resume();
        } else {
            trainer.run();
        }
    }
}
