package dev.transact4j.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.transact4j.tensor.GradMode;
import dev.transact4j.tensor.testing.Fixture;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Compares the activations an {@link ActivationObserver} receives with the {@code act.*} arrays of
 * the PyTorch reference ({@code max|diff| / max|ref|} below 1e-4), in training, without autograd
 * and during KV-cache prefill.
 */
class ActivationObserverTest {

    /** Copies every observation, keyed as the reference names them. */
    private static final class Recorder implements ActivationObserver {
        final Map<String, float[]> seen = new LinkedHashMap<>();
        final List<String> order = new ArrayList<>();

        @Override
        public void observe(int layer, Site site, float[] rows, int offset, int tokens, int width) {
            String key = (site == Site.ATTENTION_OUTPUT ? "act.attention." : "act.mlp.") + layer;
            order.add(key);
            seen.put(key, Arrays.copyOfRange(rows, offset, offset + tokens * width));
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"gqa", "head_dim"})
    void trainingForwardMatchesTorch(String name) {
        LlamaForCausalLM model = LlamaFixtures.load(name).model();
        Fixture reference = LlamaFixtures.reference(name);
        Recorder recorder = new Recorder();
        model.setObserver(recorder);
        model.forward(reference.get("input_ids").ints(), reference.get("labels").ints(), LlamaFixtures.BATCH,
                LlamaFixtures.SEQ_LEN);

        assertEquals(List.of("act.attention.0", "act.mlp.0", "act.attention.1", "act.mlp.1"), recorder.order, "order");
        assertMatches(name, reference, recorder);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"gqa", "head_dim"})
    void noGradAndPrefillMatchTorch(String name) {
        LlamaForCausalLM model = LlamaFixtures.load(name).model();
        Fixture reference = LlamaFixtures.reference(name);
        int[] ids = reference.get("input_ids").ints();

        Recorder withoutGrad = new Recorder();
        model.setObserver(withoutGrad);
        try (GradMode.Scope scope = GradMode.noGrad()) {
            model.logits(ids, LlamaFixtures.BATCH, LlamaFixtures.SEQ_LEN);
        }
        assertMatches(name, reference, withoutGrad);

        Recorder prefill = new Recorder();
        model.setObserver(prefill);
        model.forward(ids, LlamaFixtures.BATCH, LlamaFixtures.SEQ_LEN,
                model.newCache(LlamaFixtures.BATCH, LlamaFixtures.SEQ_LEN), false);
        assertMatches(name, reference, prefill);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"gqa"})
    void removedObserverSeesNothing(String name) {
        LlamaForCausalLM model = LlamaFixtures.load(name).model();
        Fixture reference = LlamaFixtures.reference(name);
        Recorder recorder = new Recorder();
        model.setObserver(recorder);
        model.setObserver(null);
        model.logits(reference.get("input_ids").ints(), LlamaFixtures.BATCH, LlamaFixtures.SEQ_LEN);
        assertTrue(recorder.seen.isEmpty(), "observations after removal: " + recorder.order);
    }

    private static void assertMatches(String name, Fixture reference, Recorder recorder) {
        assertEquals(4, recorder.seen.size(), "observations");
        for (Map.Entry<String, float[]> entry : recorder.seen.entrySet()) {
            Fixture.Array expected = reference.get(entry.getKey());
            assertEquals(expected.values().length, entry.getValue().length, entry.getKey() + " size");
            double error = LlamaFixtures.relativeError(entry.getValue(), expected.values());
            assertTrue(error < 1e-4, name + ": " + entry.getKey() + " relative error " + error);
        }
        int[] attentionShape = reference.get("act.attention.0").shape();
        assertArrayEquals(new int[] {LlamaFixtures.BATCH * LlamaFixtures.SEQ_LEN, 
                LlamaFixtures.load(name).model().config().attentionWidth()}, attentionShape, "reference shape");
    }
}
