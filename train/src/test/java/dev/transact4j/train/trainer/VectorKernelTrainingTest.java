package dev.transact4j.train.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.transact4j.train.data.TrainingData;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Training with the Vector API kernels, the default path, which the scalar-kernel tests do not run. */
class VectorKernelTrainingTest {

    @TempDir
    Path dir;

    @Test
    void sameSeedGivesCloseLosses() throws IOException {
        TrainingData data = BrownBytes.prepare(dir.resolve("data"), TinyRuns.TRAIN_PARAGRAPHS,
                TinyRuns.VALID_PARAGRAPHS);

        TinyRuns.trainer(data, TinyRuns.config(20), dir.resolve("a")).run();
        TinyRuns.trainer(data, TinyRuns.config(20), dir.resolve("b")).run();

        List<double[]> a = MetricsLog.readTrainLosses(dir.resolve("a").resolve(Trainer.METRICS_FILE));
        List<double[]> b = MetricsLog.readTrainLosses(dir.resolve("b").resolve(Trainer.METRICS_FILE));
        assertEquals(20, a.size());
        assertEquals(20, b.size());
        // NOTE: not bitwise. The fused kernels' VectorOperators.EXP changes its last bits once C2
        // compiles it, so the second run, in a warmer JVM, can differ slightly from the first.
        for (int i = 0; i < a.size(); i++) {
            assertEquals(a.get(i)[1], b.get(i)[1], 1e-4 * a.get(i)[1], "loss of step " + (i + 1));
        }
        assertTrue(a.get(19)[1] < a.get(0)[1] - 1.0, "loss should fall: " + a.get(0)[1] + " -> " + a.get(19)[1]);
    }
}
