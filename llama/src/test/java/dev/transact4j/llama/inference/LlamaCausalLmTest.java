package dev.transact4j.llama.inference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.transact4j.llama.checkpoint.LlamaCheckpoint;
import dev.transact4j.llama.LlamaConfig;
import dev.transact4j.llama.LlamaForCausalLM;
import dev.transact4j.llama.LlamaKvCache;
import dev.transact4j.tensor.GradMode;
import dev.transact4j.tensor.testing.Fixture;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Runs the generator and perplexity on the gqa fixture model and checks them against full forward
 * passes of the same model.
 */
class LlamaCausalLmTest {

    private static LlamaForCausalLM model;
    private static int[] ids;

    @BeforeAll
    static void load() throws IOException, URISyntaxException {
        Path directory = Path.of(LlamaCausalLmTest.class.getClassLoader()
                .getResource("fixtures/llama/gqa/config.json").toURI()).getParent();
        model = LlamaCheckpoint.load(directory).model();
        Fixture reference = Fixture.load("llama/gqa/reference");
        ids = Arrays.copyOf(reference.get("input_ids").ints(), 70);
    }

    @Test
    void greedyGenerationFollowsFullForwardArgmax() {
        int[] prompt = Arrays.copyOf(ids, 11);
        Generator generator = new Generator(new LlamaCausalLm(model), null, 64);
        GenerationResult result = generator.generate(prompt, GenerationOptions.greedy(20).withStopAtEos(false), null);
        assertEquals(20, result.generatedIds().length, "generated tokens");

        // each generated token is the argmax of the full forward pass over everything before it
        int[] sequence = Arrays.copyOf(prompt, prompt.length + result.generatedIds().length);
        System.arraycopy(result.generatedIds(), 0, sequence, prompt.length, result.generatedIds().length);
        int v = model.config().vocabSize();
        float[] logits;
        try (GradMode.Scope scope = GradMode.noGrad()) {
            logits = model.logits(sequence, 1, sequence.length).toArray();
        }
        for (int i = 0; i < result.generatedIds().length; i++) {
            int position = prompt.length - 1 + i;
            assertEquals(argmax(logits, position * v, v), result.generatedIds()[i], "token " + i);
        }
    }

    @Test
    void kvCacheServesModelDecode() {
        // the single-sequence KvCache and a LlamaKvCache of batch 1 give the model's decode the same bits
        KvCache single = KvCache.forConfig(model.config(), 32);
        LlamaKvCache batched = model.newCache(1, 32);
        int[] prompt = Arrays.copyOf(ids, 9);
        assertArrayEquals(model.forward(prompt, 1, prompt.length, batched, false).toArray(),
                model.forward(prompt, 1, prompt.length, single, false).toArray(), "prefill logits");
        for (int step = 0; step < 3; step++) {
            int[] token = {ids[9 + step]};
            assertArrayEquals(model.decode(token, batched).toArray(), model.decode(token, single).toArray(),
                    "decode step " + step);
        }
        assertEquals(12, single.length());
        assertEquals(1, single.batch());
        assertEquals(32, single.capacity());
    }

    @Test
    void cacheOfAnotherGeometryRejected() {
        LlamaConfig config = model.config();
        int[] prompt = Arrays.copyOf(ids, 3);
        KvCache wrongHeadDim = new KvCache(config.numHiddenLayers(), config.numKeyValueHeads(), 16,
                config.headDim() * 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> model.forward(prompt, 1, prompt.length, wrongHeadDim, false));
        assertTrue(e.getMessage().contains("the KV cache does not fit this model"), e.getMessage());
        assertTrue(e.getMessage().contains("head_dim " + config.headDim()), e.getMessage());
        KvCache fewerLayers = new KvCache(config.numHiddenLayers() - 1, config.numKeyValueHeads(), 16,
                config.headDim());
        e = assertThrows(IllegalArgumentException.class, () -> model.decode(new int[] {ids[0]}, fewerLayers));
        assertTrue(e.getMessage().contains("It has " + (config.numHiddenLayers() - 1) + " layers"), e.getMessage());
        assertEquals(0, fewerLayers.length(), "nothing appended");
    }

    @Test
    void decodeStepMatchesPrefillOfWholePrefix() {
        LlamaCausalLm lm = new LlamaCausalLm(model);
        KvCache stepwise = KvCache.forConfig(model.config(), 40);
        lm.prefill(Arrays.copyOf(ids, 5), stepwise);
        float[] stepped = null;
        for (int t = 5; t < 30; t++) {
            stepped = lm.decodeStep(ids[t], stepwise);
        }
        assertEquals(30, stepwise.length(), "cache length");

        float[] whole = lm.prefill(Arrays.copyOf(ids, 30), KvCache.forConfig(model.config(), 40));
        double maxDiff = 0;
        double maxRef = 0;
        for (int j = 0; j < whole.length; j++) {
            maxDiff = Math.max(maxDiff, Math.abs(whole[j] - stepped[j]));
            maxRef = Math.max(maxRef, Math.abs(whole[j]));
        }
        assertTrue(maxDiff / maxRef < 1e-5, "relative error " + maxDiff / maxRef);
    }

    @Test
    void fullCacheIsRejected() {
        LlamaCausalLm lm = new LlamaCausalLm(model);
        KvCache cache = KvCache.forConfig(model.config(), 4);
        lm.prefill(Arrays.copyOf(ids, 4), cache);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> lm.decodeStep(ids[4], cache));
        assertTrue(e.getMessage().contains("1 more token does not fit in the KV cache, which stores 4 of 4 positions"),
                e.getMessage());
    }

    @Test
    void perplexityOfOneWindowMatchesLoss() {
        // the model's mean loss over all 69 next-token targets, which the fixture test checks against PyTorch
        LlamaForCausalLM.Output out;
        try (GradMode.Scope scope = GradMode.noGrad()) {
            out = model.forward(ids, ids, 1, 70);
        }
        Perplexity.Result result = Perplexity.evaluate(new LlamaCausalLm(model), ids, 70, 70);
        assertEquals(69, result.tokensEvaluated(), "tokens");
        assertEquals(out.loss().item(), result.meanNll(), 1e-5 * result.meanNll(), "mean NLL");
        assertEquals(Math.exp(result.meanNll()), result.perplexity(), 1e-9 * result.perplexity(), "perplexity");
    }

    private static int argmax(float[] values, int offset, int n) {
        int best = 0;
        for (int j = 1; j < n; j++) {
            if (values[offset + j] > values[offset + best]) {
                best = j;
            }
        }
        return best;
    }
}
