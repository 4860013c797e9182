package dev.transact4j.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.transact4j.llama.checkpoint.LlamaWeights;
import dev.transact4j.nn.Parameter;
import dev.transact4j.tensor.testing.Fixture;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Checks the summed and normalised losses, input validation and initialisation. */
class LlamaTrainingTest {

    private static final int B = LlamaFixtures.BATCH;
    private static final int T = LlamaFixtures.SEQ_LEN;

    private final Fixture reference = LlamaFixtures.reference("bias");
    private final int[] ids = reference.get("input_ids").ints();
    private final int[] labels = reference.get("labels").ints();

    @Test
    void summedLossIsMeanTimesCount() {
        LlamaForCausalLM model = LlamaFixtures.load("bias").model();
        LlamaForCausalLM.Output mean = model.forward(ids, labels, B, T);
        LlamaForCausalLM.Output sum = model.forwardSum(ids, labels, B, T);
        assertEquals(mean.tokenCount(), sum.tokenCount(), "token count");
        double expected = mean.loss().item() * mean.tokenCount();
        assertEquals(expected, sum.loss().item(), 1e-6 * expected, "summed loss");
    }

    @Test
    void microBatchGradientsAddUpToBatchMean() {
        // one batch of two sequences, mean loss
        LlamaForCausalLM whole = LlamaFixtures.load("bias").model();
        LlamaForCausalLM.Output full = whole.forward(ids, labels, B, T);
        full.loss().backward();

        // the same batch as two micro-batches, each normalised by the batch's label count
        LlamaForCausalLM split = LlamaFixtures.load("bias").model();
        float count = full.tokenCount();
        double lossSum = 0;
        for (int row = 0; row < B; row++) {
            int[] rowIds = Arrays.copyOfRange(ids, row * T, (row + 1) * T);
            int[] rowLabels = Arrays.copyOfRange(labels, row * T, (row + 1) * T);
            LlamaForCausalLM.Output part = split.forward(rowIds, rowLabels, 1, T, count);
            part.loss().backward();
            lossSum += part.loss().item();
        }

        assertEquals(full.loss().item(), lossSum, 1e-6 * full.loss().item(), "loss");
        Map<String, Parameter> splitParameters = split.namedParameters();
        for (Map.Entry<String, Parameter> entry : whole.namedParameters().entrySet()) {
            float[] expected = entry.getValue().gradData();
            float[] actual = splitParameters.get(entry.getKey()).gradData();
            double error = LlamaFixtures.relativeError(actual, toDoubles(expected));
            assertTrue(error < 1e-5, entry.getKey() + ": relative error " + error);
        }
    }

    @Test
    void allLabelsIgnoredGivesNaN() {
        LlamaForCausalLM model = LlamaFixtures.load("bias").model();
        int[] ignored = new int[B * T];
        Arrays.fill(ignored, LlamaForCausalLM.IGNORE_INDEX);
        LlamaForCausalLM.Output out = model.forward(ids, ignored, B, T);
        assertEquals(0, out.tokenCount(), "token count");
        assertTrue(Float.isNaN(out.loss().item()), "loss " + out.loss().item());
    }

    @Test
    void invalidInputsAreRejected() {
        LlamaForCausalLM model = LlamaFixtures.load("bias").model();
        int[] badId = ids.clone();
        badId[T + 3] = 97;
        String message = assertThrows(IllegalArgumentException.class, () -> model.logits(badId, B, T)).getMessage();
        assertEquals("LlamaForCausalLM: inputIds[1, 3] = 97 is outside the vocabulary [0, 97)", message);

        int[] badLabel = labels.clone();
        badLabel[2] = -1;
        message = assertThrows(IllegalArgumentException.class, () -> model.forward(ids, badLabel, B, T)).getMessage();
        assertEquals("LlamaForCausalLM: labels[0, 2] = -1 is outside the vocabulary [0, 97) and is not -100", message);

        message = assertThrows(IllegalArgumentException.class, () -> model.logits(ids, B, T - 1)).getMessage();
        assertEquals("LlamaForCausalLM: inputIds has 140 values, expected batch * seqLen = 2 * 69 (both positive)", message);

        message = assertThrows(IllegalArgumentException.class, () -> model.forward(ids, labels, B, T, 0f)).getMessage();
        assertTrue(message.startsWith("LlamaForCausalLM.forward: normalizer 0.0 must be a positive number"), message);
    }

    @Test
    void initializationFollowsHuggingFace() {
        LlamaConfig config = LlamaFixtures.load("bias").model().config();
        LlamaForCausalLM a = LlamaForCausalLM.initialize(config, 7);
        LlamaForCausalLM b = LlamaForCausalLM.initialize(config, 7);
        LlamaForCausalLM c = LlamaForCausalLM.initialize(config, 8);
        String qProj = "model.layers.0.self_attn.q_proj.weight";

        Map<String, Parameter> pa = a.namedParameters();
        for (Map.Entry<String, Parameter> entry : pa.entrySet()) {
            String name = entry.getKey();
            float[] values = entry.getValue().data();
            assertEquals(Arrays.toString(values), Arrays.toString(b.namedParameters().get(name).data()), name + " seeded");
            if (name.endsWith("layernorm.weight") || name.equals("model.norm.weight")) {
                assertTrue(allEqual(values, 1f), name + " is ones");
            } else if (name.endsWith(".bias")) {
                assertTrue(allEqual(values, 0f), name + " is zeros");
            } else {
                double std = standardDeviation(values);
                assertEquals(config.initializerRange(), std, 0.15 * config.initializerRange(), name + " std");
            }
        }
        assertNotEquals(Arrays.toString(pa.get(qProj).data()), Arrays.toString(c.namedParameters().get(qProj).data()),
                "another seed gives other weights");
    }

    @Test
    void tiedInitializationSharesEmbedding() {
        LlamaConfig config = LlamaFixtures.load("tied").model().config();
        LlamaForCausalLM model = LlamaForCausalLM.initialize(config, 1);
        assertTrue(model.tied(), "tied");
        assertSame(model.model().embedTokens().weight(), model.lmHead().weight(), "shared parameter");
        Map<String, Integer> counts = new HashMap<>();
        model.namedParameters().keySet().forEach(name -> counts.merge(name, 1, Integer::sum));
        assertTrue(!counts.containsKey(LlamaWeights.LM_HEAD), "lm_head listed: " + counts.keySet());
    }

    private static boolean allEqual(float[] values, float expected) {
        for (float value : values) {
            if (value != expected) {
                return false;
            }
        }
        return true;
    }

    private static double standardDeviation(float[] values) {
        double sum = 0;
        double squares = 0;
        for (float value : values) {
            sum += value;
            squares += (double) value * value;
        }
        double mean = sum / values.length;
        return Math.sqrt(squares / values.length - mean * mean);
    }

    private static double[] toDoubles(float[] values) {
        double[] out = new double[values.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = values[i];
        }
        return out;
    }
}
