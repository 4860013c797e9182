package dev.transact4j.train.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.transact4j.nn.Parameter;
import dev.transact4j.train.data.Batch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Micro-batches of unequal token counts accumulate the gradient of the mean over the global
 * batch's tokens, the gradient one big batch of the same rows gives.
 */
class GradientAccumulationTest {

    private static final int SEQ_LEN = 17;

    @Test
    void bigramMatchesOneBatch() {
        checkUnequalMicroBatches(new BigramModel(BrownBytes.VOCAB_SIZE, 15, 5));
    }

    @Test
    void llamaMatchesOneBatch() {
        checkUnequalMicroBatches(new LlamaTrainable(
                dev.transact4j.llama.LlamaForCausalLM.initialize(LlamaTrainingTest.tinyConfig(), 5)));
    }

    private static void checkUnequalMicroBatches(TrainableModel model) {
        // micro-batch A: 1 row, all 17 targets; B: 3 rows with 40 of 51 targets ignored
        Batch a = randomBatch(1, 0, 1);
        Batch b = randomBatch(3, 40, 2);
        long tokens = TrainableModel.countTargets(a) + TrainableModel.countTargets(b);
        assertEquals(17 + 11, tokens);

        double accumulatedLoss = Trainer.accumulateGradients(model, List.of(a, b), tokens, new TrainingRandom(0));
        List<float[]> accumulated = gradients(model);

        model.module().zeroGrad();
        Batch joined = join(a, b);
        double joinedLoss = Trainer.accumulateGradients(model, List.of(joined), tokens, new TrainingRandom(0));
        List<float[]> single = gradients(model);

        assertEquals(joinedLoss / tokens, accumulatedLoss / tokens, 1e-5);
        double difference = maxRelativeDifference(accumulated, single);
        assertTrue(difference < 1e-4, "accumulated and single-batch gradients differ by " + difference);

        // the mean of the two micro-batch means weighs B's 11 tokens like A's 17: a different gradient
        model.module().zeroGrad();
        Trainer.accumulateGradients(model, List.of(a), 2 * TrainableModel.countTargets(a), new TrainingRandom(0));
        Trainer.accumulateGradients(model, List.of(b), 2 * TrainableModel.countTargets(b), new TrainingRandom(0));
        double meanOfMeans = maxRelativeDifference(gradients(model), single);
        assertTrue(meanOfMeans > 1e-2, "averaging micro-batch means should differ, got " + meanOfMeans);
        model.module().zeroGrad();
    }

    /** A batch of Brown bytes with {@code ignored} targets set to the ignore index, spread by a seeded generator. */
    private static Batch randomBatch(int rows, int ignored, long seed) {
        byte[] text = dev.transact4j.train.corpus.BrownCorpus.validText().substring(1000 * (int) seed)
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        int n = rows * SEQ_LEN;
        int[] inputs = new int[n];
        int[] targets = new int[n];
        for (int i = 0; i < n; i++) {
            inputs[i] = Byte.toUnsignedInt(text[i]);
            targets[i] = Byte.toUnsignedInt(text[i + 1]);
        }
        SplittableRandom random = new SplittableRandom(seed);
        int done = 0;
        while (done < ignored) {
            int i = random.nextInt(n);
            if (targets[i] != TrainableModel.IGNORE_INDEX) {
                targets[i] = TrainableModel.IGNORE_INDEX;
                done++;
            }
        }
        return new Batch(rows, SEQ_LEN, inputs, targets);
    }

    private static Batch join(Batch first, Batch second) {
        int[] inputs = Arrays.copyOf(first.inputIds(), first.inputIds().length + second.inputIds().length);
        System.arraycopy(second.inputIds(), 0, inputs, first.inputIds().length, second.inputIds().length);
        int[] targets = Arrays.copyOf(first.targets(), first.targets().length + second.targets().length);
        System.arraycopy(second.targets(), 0, targets, first.targets().length, second.targets().length);
        return new Batch(first.batchSize() + second.batchSize(), SEQ_LEN, inputs, targets);
    }

    private static List<float[]> gradients(TrainableModel model) {
        List<float[]> out = new ArrayList<>();
        for (Parameter p : model.module().parameters()) {
            out.add(p.gradData().clone());
        }
        return out;
    }

    /** Returns the largest {@code |x - y| / max(|y|, 1e-3 * max|y|)} over all elements, max taken per tensor. */
    private static double maxRelativeDifference(List<float[]> xs, List<float[]> ys) {
        double worst = 0;
        for (int t = 0; t < xs.size(); t++) {
            float[] x = xs.get(t);
            float[] y = ys.get(t);
            double scale = 0;
            for (float v : y) {
                scale = Math.max(scale, Math.abs(v));
            }
            for (int i = 0; i < x.length; i++) {
                double denominator = Math.max(Math.abs(y[i]), 1e-3 * scale);
                if (denominator > 0) {
                    worst = Math.max(worst, Math.abs(x[i] - y[i]) / denominator);
                }
            }
        }
        return worst;
    }
}
