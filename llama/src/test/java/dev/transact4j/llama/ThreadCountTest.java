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
 * Also checks that KV-cache prefill and decoding give the same bits on one, two and three threads.
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

    @Test
    void decodingIsBitwiseIndependentOfThreads() {
        // at 2 and 3 threads the shared q/k/v and gate/up loops split inside a weight matrix
        int previous = Parallel.threads();
        try {
            float[] one = decode(1);
            assertArrayEquals(one, decode(2), "prefill and decode logits at 2 threads");
            assertArrayEquals(one, decode(3), "prefill and decode logits at 3 threads");
        } finally {
            Parallel.setThreads(previous);
        }
    }

    /** Returns the last-position logits of a prefill of 40 tokens followed by those of 8 decode steps. */
    private static float[] decode(int threads) {
        Parallel.setThreads(threads);
        LlamaConfig config = LlamaConfig.tiny();
        LlamaForCausalLM model = LlamaForCausalLM.initialize(config, 6);
        SplittableRandom random = new SplittableRandom(10);
        int prompt = 40;
        int steps = 8;
        int[] ids = new int[prompt];
        for (int i = 0; i < prompt; i++) {
            ids[i] = random.nextInt(config.vocabSize());
        }
        LlamaKvCache cache = model.newCache(1, prompt + steps);
        int v = config.vocabSize();
        float[] logits = new float[(steps + 1) * v];
        System.arraycopy(model.forward(ids, 1, prompt, cache, false).toArray(), 0, logits, 0, v);
        for (int s = 0; s < steps; s++) {
            int[] token = {random.nextInt(v)};
            System.arraycopy(model.decode(token, cache).toArray(), 0, logits, (s + 1) * v, v);
        }
        return logits;
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
