package dev.transact4j.train.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.transact4j.llama.LlamaConfig;
import dev.transact4j.llama.LlamaForCausalLM;
import dev.transact4j.nn.StateDicts;
import dev.transact4j.tensor.Tensor;
import dev.transact4j.train.data.TrainingData;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A tiny Llama (2 layers, hidden 32, 4 query and 2 key/value heads) trained on Brown bytes.
 *
 * <p>Tagged {@code scalar-kernels}: it compares losses bitwise between runs in one JVM, so the
 * build runs it on the Vector API kernels and again with {@code -Dtransact4j.simd=false}.
 */
@Tag("scalar-kernels")
class LlamaTrainingTest {

    private static final long STEPS = 24;

    @TempDir
    Path dir;

    private TrainingData data;

    @BeforeEach
    void prepareData() throws IOException {
        data = BrownBytes.prepare(dir.resolve("data"), TinyRuns.TRAIN_PARAGRAPHS, TinyRuns.VALID_PARAGRAPHS);
    }

    static LlamaConfig tinyConfig() {
        return LlamaConfig.builder()
                .vocabSize(BrownBytes.VOCAB_SIZE)
                .hiddenSize(32)
                .intermediateSize(48)
                .numHiddenLayers(2)
                .numAttentionHeads(4)
                .numKeyValueHeads(2)
                .maxPositionEmbeddings(64)
                .rmsNormEps(1e-5)
                .ropeTheta(10000)
                .torchDtype("float32")
                .build();
    }

    private Trainer trainer(Path run) {
        LlamaForCausalLM model = LlamaForCausalLM.initialize(tinyConfig(), 3);
        TrainingConfig config = TinyRuns.config(STEPS).toBuilder().learningRate(1e-2).build();
        return new Trainer(new LlamaTrainable(model), data.train(), data.validation(), config, run).progressBar(false);
    }

    @Test
    void lossFallsAndResumesExactly() throws IOException {
        Path reference = dir.resolve("reference");
        TrainingResult result = trainer(reference).run();

        List<double[]> losses = MetricsLog.readTrainLosses(reference.resolve(Trainer.METRICS_FILE));
        double first = losses.get(0)[1];
        double last = losses.get(losses.size() - 1)[1];
        assertTrue(Math.abs(first - Math.log(BrownBytes.VOCAB_SIZE)) < 0.3, "first loss " + first);
        assertTrue(last < first - 1.5, "loss should fall: " + first + " -> " + last);
        assertTrue(result.validation().loss() < first - 1.5, "validation loss " + result.validation().loss());

        // a run stopped after step 13 (checkpoint of step 10), resumed by a new model
        Path run = dir.resolve("run");
        Trainer stopped = trainer(run).listener(new TrainingListener() {
            @Override
            public void onStep(StepMetrics metrics) {
                if (metrics.step() == 13) {
                    throw new IllegalStateException("stop after step 13");
                }
            }
        });
        assertThrows(IllegalStateException.class, stopped::run);
        trainer(run).resume();

        CheckpointTest.assertSameLosses(reference, run);
    }

    @Test
    void checkpointLoadsIntoHuggingFaceNames() throws IOException {
        Path run = dir.resolve("run");
        LlamaForCausalLM model = LlamaForCausalLM.initialize(tinyConfig(), 3);
        TrainingConfig config = TinyRuns.config(2);
        new Trainer(new LlamaTrainable(model), data.train(), data.validation(), config, run).progressBar(false).run();

        Map<String, Tensor> saved = StateDicts.load(run.resolve("checkpoint/model.safetensors"));
        LlamaForCausalLM loaded = new LlamaForCausalLM(tinyConfig(), false);
        loaded.loadStateDict(saved, true);

        assertTrue(saved.containsKey("model.layers.1.self_attn.k_proj.weight"), saved.keySet().toString());
        assertEquals(model.stateDict().keySet(), saved.keySet());
        for (Map.Entry<String, Tensor> e : model.stateDict().entrySet()) {
            assertEquals(List.of(), mismatches(e.getValue().toArray(), loaded.stateDict().get(e.getKey()).toArray()),
                    e.getKey());
        }
    }

    private static List<Integer> mismatches(float[] expected, float[] actual) {
        java.util.ArrayList<Integer> out = new java.util.ArrayList<>();
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToIntBits(expected[i]) != Float.floatToIntBits(actual[i])) {
                out.add(i);
            }
        }
        return out;
    }
}
