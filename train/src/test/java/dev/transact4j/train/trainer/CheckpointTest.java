package dev.transact4j.train.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.transact4j.train.data.TrainingData;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoints: exact resume, and a complete checkpoint after a save that did not finish.
 *
 * <p>Tagged {@code scalar-kernels}: it compares losses bitwise between runs in one JVM, so the
 * build runs it on the Vector API kernels and again with {@code -Dtransact4j.simd=false}.
 */
@Tag("scalar-kernels")
class CheckpointTest {

    private static final long STEPS = 14;

    @TempDir
    Path dir;

    private TrainingData data;

    @BeforeEach
    void prepareData() throws IOException {
        data = BrownBytes.prepare(dir.resolve("data"), TinyRuns.TRAIN_PARAGRAPHS, TinyRuns.VALID_PARAGRAPHS);
    }

    @Test
    void resumeContinuesExactly() throws IOException {
        Path reference = dir.resolve("reference");
        TinyRuns.trainer(data, TinyRuns.config(STEPS), reference).run();

        // a run stopped after step 7, whose checkpoint is of step 5, continued by a new trainer and model
        Path run = dir.resolve("run");
        Trainer first = TinyRuns.trainer(data, TinyRuns.config(STEPS), run).listener(stopAfter(7));
        assertThrows(StopRun.class, first::run);
        TrainingResult result = TinyRuns.trainer(data, TinyRuns.config(STEPS), run).resume();

        assertEquals(STEPS, result.steps());
        assertSameLosses(reference, run);
    }

    @Test
    void crashDuringSaveKeepsPreviousCheckpoint() throws IOException {
        Path reference = dir.resolve("reference");
        TinyRuns.trainer(data, TinyRuns.config(STEPS), reference).run();

        // the save of step 10 fails after the model file: step 5's checkpoint must stay usable
        Path run = dir.resolve("run");
        Trainer first = TinyRuns.trainer(data, TinyRuns.config(STEPS), run);
        first.checkpoints().setSaveHook(name -> {
            if (name.equals(CheckpointStore.MODEL_FILE) && Files.exists(run.resolve("checkpoint"))
                    && CheckpointStore.readState(run.resolve("checkpoint/trainer_state.json")).step() == 5) {
                throw new IOException("disk full (simulated)");
            }
        });
        UncheckedIOException e = assertThrows(UncheckedIOException.class, first::run);
        assertTrue(e.getMessage().startsWith("Cannot write the checkpoint of step 10 to " + run.resolve("checkpoint")
                + ": disk full (simulated). The previous checkpoint is kept"), e.getMessage());
        assertTrue(Files.exists(run.resolve("checkpoint.tmp/model.safetensors")));
        assertEquals(5, CheckpointStore.readState(run.resolve("checkpoint/trainer_state.json")).step());

        TrainingResult result = TinyRuns.trainer(data, TinyRuns.config(STEPS), run).resume();

        assertEquals(STEPS, result.steps());
        assertFalse(Files.exists(run.resolve("checkpoint.tmp")));
        assertSameLosses(reference, run);
    }

    @Test
    void crashBetweenRenamesResumesPrevious() throws IOException {
        Path reference = dir.resolve("reference");
        TinyRuns.trainer(data, TinyRuns.config(STEPS), reference).run();

        // state after "rename checkpoint to checkpoint.previous" and before "rename checkpoint.tmp"
        Path run = dir.resolve("run");
        Trainer first = TinyRuns.trainer(data, TinyRuns.config(STEPS), run).listener(stopAfter(7));
        assertThrows(StopRun.class, first::run);
        Files.move(run.resolve("checkpoint"), run.resolve("checkpoint.previous"));
        Files.createDirectory(run.resolve("checkpoint.tmp"));
        Files.writeString(run.resolve("checkpoint.tmp/model.safetensors"), "cut short");

        assertEquals(run.resolve("checkpoint.previous"), first.checkpoints().completeCheckpoint());
        TrainingResult result = TinyRuns.trainer(data, TinyRuns.config(STEPS), run).resume();

        assertEquals(STEPS, result.steps());
        assertFalse(Files.exists(run.resolve("checkpoint.previous")));
        assertSameLosses(reference, run);
    }

    @Test
    void stateJsonRoundTrip() throws IOException {
        TrainerState state = new TrainerState(42, new dev.transact4j.train.data.DataPosition(3, 18), -7L, 9000,
                2.5);
        Path file = dir.resolve("trainer_state.json");
        Files.writeString(file, CheckpointStore.stateJson(state));

        assertEquals(state, CheckpointStore.readState(file));
    }

    @Test
    void stateJsonMissingFieldIsNamed() throws IOException {
        Path file = dir.resolve("trainer_state.json");
        Files.writeString(file, "{\"format_version\": 1, \"step\": 3}");

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CheckpointStore.readState(file));

        assertEquals(file + ": the field 'data_position' is missing", e.getMessage());
    }

    static void assertSameLosses(Path reference, Path run) throws IOException {
        List<double[]> expected = MetricsLog.readTrainLosses(reference.resolve(Trainer.METRICS_FILE));
        List<double[]> actual = MetricsLog.readTrainLosses(run.resolve(Trainer.METRICS_FILE));
        assertEquals(expected.size(), actual.size(), "steps in " + run);
        for (int i = 0; i < expected.size(); i++) {
            assertEquals((long) expected.get(i)[0], (long) actual.get(i)[0], "step number of line " + i);
            assertEquals(Double.doubleToLongBits(expected.get(i)[1]), Double.doubleToLongBits(actual.get(i)[1]),
                    "loss of step " + (i + 1) + ": " + expected.get(i)[1] + " vs " + actual.get(i)[1]);
        }
    }

    /** Stops a run by throwing after step {@code last}, as a kill after that step would. */
    private static TrainingListener stopAfter(long last) {
        return new TrainingListener() {
            @Override
            public void onStep(StepMetrics metrics) {
                if (metrics.step() == last) {
                    throw new StopRun();
                }
            }
        };
    }

    private static final class StopRun extends RuntimeException {
        private static final long serialVersionUID = 1L;
    }
}
