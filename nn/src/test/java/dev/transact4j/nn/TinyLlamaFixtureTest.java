package dev.transact4j.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.transact4j.nn.optim.AdamWOptimizer;
import dev.transact4j.nn.optim.ParameterGroup;
import dev.transact4j.tensor.Functional;
import dev.transact4j.tensor.Tensor;
import dev.transact4j.tensor.testing.ArrayAssert;
import dev.transact4j.tensor.testing.Fixture;
import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A tiny Llama built from nn modules, loaded from a PyTorch-written checkpoint, against the
 * logits, loss, gradients and three AdamW steps that PyTorch computed
 * ({@code src/test/python/make_nn_fixtures.py}).
 */
class TinyLlamaFixtureTest {

    private static final int B = 2;
    private static final int T = 7;
    private static final int IGNORE = -100;

    private final Fixture fixture = Fixture.load("nn_tiny_llama");
    private final int[] ids = fixture.get("ids").ints();
    private final int[] targets = fixture.get("targets").ints();
    private final Tensor cos = Tensor.of(fixture.get("cos").floats(), T, 4);
    private final Tensor sin = Tensor.of(fixture.get("sin").floats(), T, 4);

    private static TinyModels.LanguageModel loadModel() throws IOException, URISyntaxException {
        URL url = TinyLlamaFixtureTest.class.getClassLoader().getResource("fixtures/nn/tiny_llama.safetensors");
        assertNotNull(url, "fixtures/nn/tiny_llama.safetensors is missing; run src/test/python/make_nn_fixtures.py");
        TinyModels.LanguageModel model = new TinyModels.LanguageModel(19, 16, 33, 1, 4, 2);
        StateDicts.loadInto(model, Path.of(url.toURI()), true);
        return model;
    }

    private Tensor loss(TinyModels.LanguageModel model) {
        return Functional.crossEntropy(model.forward(ids, B, T, cos, sin), targets, IGNORE);
    }

    @Test
    void logitsLossAndGradientsMatchTorch() throws Exception {
        TinyModels.LanguageModel model = loadModel();
        Tensor logits = model.forward(ids, B, T, cos, sin);
        ArrayAssert.assertClose("logits", fixture.get("logits").values(), logits.toArray(), 1e-5, 1e-4);

        Tensor loss = Functional.crossEntropy(logits, targets, IGNORE);
        assertEquals(fixture.get("loss").scalar(), loss.item(), 1e-5);
        loss.backward();
        for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
            ArrayAssert.assertClose("gradient of " + e.getKey(), fixture.get("grad/" + e.getKey()).values(),
                    e.getValue().gradData(), 1e-6, 1e-4);
        }
    }

    @Test
    void adamwStepsMatchTorch() throws Exception {
        TinyModels.LanguageModel model = loadModel();
        AdamWOptimizer optimizer = new AdamWOptimizer(ParameterGroup.decayMatricesOnly(model.namedParameters(), 0.1),
                0.9, 0.999, 1e-8);
        double[] losses = fixture.get("step_loss").values();
        double[] norms = fixture.get("step_norm").values();
        for (int step = 0; step < 3; step++) {
            model.zeroGrad();
            Tensor loss = loss(model);
            loss.backward();
            double norm = optimizer.clipGradNorm(1.0);
            optimizer.step(1e-2);
            assertEquals(losses[step], loss.item(), 1e-5, "loss before step " + step);
            assertEquals(norms[step], norm, 1e-5 * norms[step], "gradient norm at step " + step);
        }
        for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
            ArrayAssert.assertClose("parameter " + e.getKey() + " after 3 steps",
                    fixture.get("final/" + e.getKey()).values(), e.getValue().data(), 1e-5, 1e-4);
        }
    }
}
