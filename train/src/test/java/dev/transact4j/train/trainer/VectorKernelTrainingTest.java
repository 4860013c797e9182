package dev.transact4j.train.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.transact4j.llama.LlamaForCausalLM;
import dev.transact4j.nn.StateDicts;
import dev.transact4j.tensor.Tensor;
import dev.transact4j.train.data.TrainingData;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Training with the Vector API kernels, the default path: a second run in the same JVM, after the
 * JIT has compiled the kernels during the first, gives the same bits.
 */
class VectorKernelTrainingTest {

    private static final long STEPS = 12;

    @TempDir
    Path dir;

    @Test
    void warmRunRepeatsColdRunBitwise() throws IOException {
        TrainingData data = BrownBytes.prepare(dir.resolve("data"), TinyRuns.TRAIN_PARAGRAPHS,
                TinyRuns.VALID_PARAGRAPHS);

        run(data, dir.resolve("a"));
        run(data, dir.resolve("b"));

        List<double[]> a = MetricsLog.readTrainLosses(dir.resolve("a").resolve(Trainer.METRICS_FILE));
        List<double[]> b = MetricsLog.readTrainLosses(dir.resolve("b").resolve(Trainer.METRICS_FILE));
        assertEquals(STEPS, a.size());
        assertEquals(STEPS, b.size());
        for (int i = 0; i < a.size(); i++) {
            assertEquals(Double.doubleToLongBits(a.get(i)[1]), Double.doubleToLongBits(b.get(i)[1]),
                    "loss of step " + (i + 1) + ": " + a.get(i)[1] + " vs " + b.get(i)[1]);
        }
        assertTrue(a.get(a.size() - 1)[1] < a.get(0)[1] - 0.5,
                "loss should fall: " + a.get(0)[1] + " -> " + a.get(a.size() - 1)[1]);

        Map<String, Tensor> weightsA = StateDicts.load(dir.resolve("a/checkpoint/model.safetensors"));
        Map<String, Tensor> weightsB = StateDicts.load(dir.resolve("b/checkpoint/model.safetensors"));
        assertEquals(weightsA.keySet(), weightsB.keySet());
        for (Map.Entry<String, Tensor> e : weightsA.entrySet()) {
            float[] x = e.getValue().toArray();
            float[] y = weightsB.get(e.getKey()).toArray();
            for (int i = 0; i < x.length; i++) {
                assertEquals(Float.floatToIntBits(x[i]), Float.floatToIntBits(y[i]), e.getKey() + "[" + i + "]");
            }
        }
    }

    private static void run(TrainingData data, Path runDir) throws IOException {
        LlamaForCausalLM model = LlamaForCausalLM.initialize(LlamaTrainingTest.tinyConfig(), 3);
        TrainingConfig config = TinyRuns.config(STEPS).toBuilder().learningRate(1e-2).build();
        new Trainer(new LlamaTrainable(model), data.train(), data.validation(), config, runDir).progressBar(false).run();
    }
}
