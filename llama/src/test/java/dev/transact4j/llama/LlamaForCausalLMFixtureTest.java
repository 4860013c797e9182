package dev.transact4j.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.transact4j.nn.Parameter;
import dev.transact4j.tensor.Tensor;
import dev.transact4j.tensor.testing.Fixture;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Compares the model with the float64 PyTorch reference of every Llama fixture config.
 *
 * <p>Relative error is {@code max|actual - reference| / max|reference|} over a whole tensor: below
 * 1e-5 for the logits of all 2 x 70 positions, 1e-6 for the loss, and 1e-4 for the gradient of
 * every parameter. The errors measured with float32 arithmetic are about 5e-7, 5e-8 and 1e-6.
 */
class LlamaForCausalLMFixtureTest {

    static Iterable<String> names() {
        return LlamaFixtures.NAMES;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("names")
    void logitsLossAndGradientsMatchTorch(String name) {
        LlamaForCausalLM model = LlamaFixtures.load(name).model();
        Fixture reference = LlamaFixtures.reference(name);
        int[] ids = reference.get("input_ids").ints();
        int[] labels = reference.get("labels").ints();

        LlamaForCausalLM.Output out = model.forward(ids, labels, LlamaFixtures.BATCH, LlamaFixtures.SEQ_LEN);
        Fixture.Array logits = reference.get("logits");
        assertArrayEquals(logits.shape(), out.logits().shape(), "logits shape");
        double logitsError = LlamaFixtures.relativeError(out.logits().toArray(), logits.values());
        assertTrue(logitsError < 1e-5, name + ": logits relative error " + logitsError);

        double loss = reference.get("loss").scalar();
        assertEquals(loss, out.loss().item(), 1e-6 * Math.abs(loss), name + ": loss");
        // 2 x 69 shifted labels, minus the 4 ignored in row 0 (positions 5..8) and 1 in row 1 (the last)
        assertEquals(2 * 69 - 4 - 1, out.tokenCount(), "labels counted");

        out.loss().backward();
        for (Map.Entry<String, Parameter> entry : model.namedParameters().entrySet()) {
            Tensor grad = entry.getValue().grad();
            assertNotNull(grad, name + ": no gradient for " + entry.getKey());
            Fixture.Array expected = reference.get("grad." + entry.getKey());
            assertArrayEquals(expected.shape(), grad.shape(), "shape of grad." + entry.getKey());
            double error = LlamaFixtures.relativeError(grad.toArray(), expected.values());
            assertTrue(error < 1e-4, name + ": grad." + entry.getKey() + " relative error " + error);
        }
    }
}
