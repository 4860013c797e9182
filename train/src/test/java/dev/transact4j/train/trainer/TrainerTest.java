package dev.transact4j.train.trainer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.transact4j.nn.StateDicts;
import dev.transact4j.tensor.Tensor;
import dev.transact4j.train.data.TrainingData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Whole runs of the bigram model on Brown paragraphs.
 *
 * <p>Tagged {@code scalar-kernels}: it compares losses bitwise between runs in one JVM, so the
 * build runs it on the Vector API kernels and again with {@code -Dtransact4j.simd=false}.
 */
@Tag("scalar-kernels")
class TrainerTest {

    @TempDir
    Path dir;

    private TrainingData data;

    @BeforeEach
    void prepareData() throws IOException {
        data = BrownBytes.prepare(dir.resolve("data"), TinyRuns.TRAIN_PARAGRAPHS, TinyRuns.VALID_PARAGRAPHS);
    }

    @Test
    void lossFallsOnBrownText() throws IOException {
        Path run = dir.resolve("run");
        List<EvalMetrics> evals = new ArrayList<>();
        Trainer trainer = TinyRuns.trainer(data, TinyRuns.config(40), run).listener(new TrainingListener() {
            @Override
            public void onEval(EvalMetrics metrics) {
                evals.add(metrics);
            }
        });

        TrainingResult result = trainer.run();

        List<double[]> losses = MetricsLog.readTrainLosses(run.resolve(Trainer.METRICS_FILE));
        assertEquals(40, losses.size());
        double uniform = Math.log(BrownBytes.VOCAB_SIZE);
        double first = losses.get(0)[1];
        double lastFive = losses.subList(35, 40).stream().mapToDouble(l -> l[1]).average().orElseThrow();
        assertTrue(Math.abs(first - uniform) < 0.5, "first loss " + first + " should be near ln(257) = " + uniform);
        assertTrue(lastFive < first - 1.5, "mean of the last five losses " + lastFive + " vs first " + first);
        assertEquals(List.of(10L, 20L, 30L, 40L), evals.stream().map(EvalMetrics::step).toList());
        assertTrue(evals.get(3).loss() < evals.get(0).loss(), "validation loss should fall: " + evals);
        assertEquals(40, result.steps());
        assertNotNull(result.validation());
        assertEquals(4L * 3 * BrownBytes.SEQ_LEN, result.validation().tokens());
        assertEquals(40L * 6 * BrownBytes.SEQ_LEN, result.tokensSeen());
        assertTrue(result.peakHeapBytes() > 0);
        assertTrue(Files.isRegularFile(run.resolve("checkpoint/model.safetensors")));
        assertFalse(Files.exists(run.resolve("checkpoint.tmp")));
        assertFalse(Files.exists(run.resolve("checkpoint.previous")));
    }

    @Test
    void sameSeedGivesSameLosses() throws IOException {
        TinyRuns.trainer(data, TinyRuns.config(12), dir.resolve("a")).run();
        TinyRuns.trainer(data, TinyRuns.config(12), dir.resolve("b")).run();

        List<double[]> a = MetricsLog.readTrainLosses(dir.resolve("a").resolve(Trainer.METRICS_FILE));
        List<double[]> b = MetricsLog.readTrainLosses(dir.resolve("b").resolve(Trainer.METRICS_FILE));
        assertEquals(12, a.size());
        for (int i = 0; i < a.size(); i++) {
            assertEquals(Double.doubleToLongBits(a.get(i)[1]), Double.doubleToLongBits(b.get(i)[1]), "step " + (i + 1));
        }
    }

    @Test
    void nanLossStopsAndKeepsCheckpoint() throws IOException {
        Path run = dir.resolve("run");
        BigramModel model = TinyRuns.model();
        float[][] weightsAtCheckpoint = new float[1][];
        Trainer trainer = new Trainer(model, data.train(), data.validation(), TinyRuns.config(20), run)
                .progressBar(false)
                .listener(new TrainingListener() {
                    @Override
                    public void onStep(StepMetrics metrics) {
                        // poison one weight after step 6, so step 7's forward pass gives NaN
                        if (metrics.step() == 6) {
                            model.lmHead.bias().data()[3] = Float.NaN;
                        }
                    }

                    @Override
                    public void onCheckpoint(long step, Path directory) {
                        weightsAtCheckpoint[0] = model.lmHead.weight().data().clone();
                    }
                });

        TrainingDivergedException e = assertThrows(TrainingDivergedException.class, trainer::run);

        assertEquals(7, e.step());
        assertTrue(e.getMessage().startsWith("Training stopped at step 7: the loss is NaN."), e.getMessage());
        assertTrue(e.getMessage().contains("The last good checkpoint, of step 5, is unchanged in "
                + run.resolve("checkpoint")), e.getMessage());
        TrainerState state = CheckpointStore.readState(run.resolve("checkpoint/trainer_state.json"));
        assertEquals(5, state.step());
        Map<String, Tensor> saved = StateDicts.load(run.resolve("checkpoint/model.safetensors"));
        assertArrayEquals(weightsAtCheckpoint[0], saved.get("lm_head.weight").toArray());
        for (float v : saved.get("lm_head.bias").toArray()) {
            assertTrue(Float.isFinite(v));
        }
        String log = Files.readString(run.resolve(Trainer.METRICS_FILE));
        assertTrue(log.contains("{\"type\":\"stopped\",\"step\":7,\"reason\":\"the loss is NaN\"}"), log);
    }

    @Test
    void runRejectsDirectoryWithCheckpoint() throws IOException {
        Path run = dir.resolve("run");
        TinyRuns.trainer(data, TinyRuns.config(2), run).run();

        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> TinyRuns.trainer(data, TinyRuns.config(4), run).run());

        assertTrue(e.getMessage().startsWith("Run directory " + run + " already contains a checkpoint"), e.getMessage());
    }

    @Test
    void resumeRejectsChangedArithmetic() throws IOException {
        Path run = dir.resolve("run");
        TinyRuns.trainer(data, TinyRuns.config(2), run).run();
        TrainingConfig changed = TinyRuns.config(2).toBuilder().learningRate(1e-3).evalEvery(1).build();

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TinyRuns.trainer(data, changed, run).resume());

        assertEquals("Cannot resume " + run.resolve("checkpoint") + " with a different config: learning_rate: 0.03"
                + " -> 0.001. Only eval_every, eval_batches and checkpoint_every may change.", e.getMessage());
    }

    @Test
    void resumeWithoutCheckpointFails() {
        Path run = dir.resolve("empty");

        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> TinyRuns.trainer(data, TinyRuns.config(2), run).resume());

        assertTrue(e.getMessage().startsWith("No checkpoint to resume in " + run), e.getMessage());
    }
}
