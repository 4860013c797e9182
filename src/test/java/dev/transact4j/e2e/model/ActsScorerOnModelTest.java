package dev.transact4j.e2e.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.transact4j.llama.ActivationObserver;
import dev.transact4j.llama.LlamaConfig;
import dev.transact4j.llama.LlamaForCausalLM;
import dev.transact4j.llama.checkpoint.LlamaCheckpoint;
import dev.transact4j.nn.safetensors.SafeTensors;
import dev.transact4j.tensor.GradMode;
import dev.transact4j.transact.ActsScorer;
import dev.transact4j.transact.ChannelScores;
import java.net.URISyntaxException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Feeds the activations a Llama model observes into TransAct's {@link ActsScorer} and compares the
 * channel scores with the norms of the PyTorch activations stored in the gqa fixture
 * ({@code src/test/python/make_llama_fixtures.py}): per layer, {@code max|diff| / max|ref|} below
 * 1e-4.
 */
class ActsScorerOnModelTest {

    @Test
    void scoresMatchTorchActivationNorms() throws Exception {
        Path directory = fixture("fixtures/llama/gqa/config.json").getParent();
        LlamaForCausalLM model = LlamaCheckpoint.load(directory).model();
        LlamaConfig config = model.config();
        ActsScorer scorer = new ActsScorer(config.numHiddenLayers(), config.attentionWidth(), config.intermediateSize());
        model.setObserver((layer, site, rows, offset, tokens, width) -> scorer.observe(layer,
                site == ActivationObserver.Site.ATTENTION_OUTPUT ? ActsScorer.Module.ATTENTION : ActsScorer.Module.MLP,
                rows, offset, tokens));

        try (SafeTensors reference = SafeTensors.open(fixture("fixtures/llama/gqa/reference.safetensors"))) {
            int[] ids = reference.readInts("input_ids");
            try (GradMode.Scope scope = GradMode.noGrad()) {
                model.logits(ids, 2, ids.length / 2);
            }

            ChannelScores scores = scorer.scores();
            for (int layer = 0; layer < config.numHiddenLayers(); layer++) {
                assertEquals(ids.length, scorer.tokens(layer, ActsScorer.Module.ATTENTION), "attention tokens");
                assertEquals(ids.length, scorer.tokens(layer, ActsScorer.Module.MLP), "mlp tokens");
                assertClose("attention layer " + layer, norms(reference.readFloat32("act.attention." + layer),
                        config.attentionWidth()), scores.attention()[layer]);
                assertClose("mlp layer " + layer, norms(reference.readFloat32("act.mlp." + layer),
                        config.intermediateSize()), scores.mlp()[layer]);
            }
        }
    }

    /** Returns the L2 norm of every column of row-major {@code [rows, width]} values, in double. */
    private static double[] norms(float[] values, int width) {
        double[] squares = new double[width];
        for (int i = 0; i < values.length; i++) {
            squares[i % width] += (double) values[i] * values[i];
        }
        for (int c = 0; c < width; c++) {
            squares[c] = Math.sqrt(squares[c]);
        }
        return squares;
    }

    private static void assertClose(String what, double[] expected, double[] actual) {
        assertEquals(expected.length, actual.length, what + " width");
        double maxDiff = 0;
        double maxRef = 0;
        for (int c = 0; c < expected.length; c++) {
            maxDiff = Math.max(maxDiff, Math.abs(expected[c] - actual[c]));
            maxRef = Math.max(maxRef, Math.abs(expected[c]));
        }
        assertTrue(maxDiff / maxRef < 1e-4, what + ": relative error " + maxDiff / maxRef);
    }

    private static Path fixture(String resource) throws URISyntaxException {
        var url = ActsScorerOnModelTest.class.getClassLoader().getResource(resource);
        if (url == null) {
            throw new IllegalStateException(resource + " not found on the test class path; regenerate it with "
                    + "/usr/bin/python3 src/test/python/make_llama_fixtures.py");
        }
        return Path.of(url.toURI());
    }
}
