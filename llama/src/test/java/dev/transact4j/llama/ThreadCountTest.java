package dev.transact4j.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.transact4j.nn.Parameter;
import dev.transact4j.tensor.Parallel;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Checks that a training step gives the same bits on one thread and on three, on the tiny preset
 * with two sequences of 65 tokens: large enough that the GEMMs and attention split their work.
 */
class ThreadCountTest {

    private static final int B = 2;
    private static final int T = 65;

    /** Logits, loss and every gradient of one step. */
    private record Step(float[] logits, float loss, Map<String, float[]> grads) {
    }

    @Test
    void trainingStepIsBitwiseIndependentOfThreads() {
        int previous = Parallel.threads();
        try {
            Step one = step(1);
            Step three = step(3);
            assertArrayEquals(one.logits(), three.logits(), "logits");
            assertEquals(Float.floatToIntBits(one.loss()), Float.floatToIntBits(three.loss()), "loss");
            for (Map.Entry<String, float[]> entry : one.grads().entrySet()) {
                assertArrayEquals(entry.getValue(), three.grads().get(entry.getKey()), "grad " + entry.getKey());
            }
        } finally {
            Parallel.setThreads(previous);
        }
    }

    private static Step step(int threads) {
        Parallel.setThreads(threads);
        LlamaConfig config = LlamaConfig.tiny();
        LlamaForCausalLM model = LlamaForCausalLM.initialize(config, 5);
        SplittableRandom random = new SplittableRandom(9);
        int[] ids = new int[B * T];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = random.nextInt(config.vocabSize());
        }
        LlamaForCausalLM.Output out = model.forward(ids, ids, B, T);
        out.loss().backward();
        Map<String, float[]> grads = new LinkedHashMap<>();
        for (Map.Entry<String, Parameter> entry : model.namedParameters().entrySet()) {
            grads.put(entry.getKey(), entry.getValue().gradData().clone());
        }
        return new Step(out.logits().toArray(), out.loss().item(), grads);
    }
}
