package dev.transact4j.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.transact4j.tensor.Rng;
import dev.transact4j.tensor.Tensor;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ModuleTest {

    @Test
    void namesFollowHuggingFaceLlama() {
        TinyModels.LanguageModel lm = new TinyModels.LanguageModel(11, 6, 10, 2, 3, 1);
        List<String> expected = new java.util.ArrayList<>();
        expected.add("model.embed_tokens.weight");
        for (int layer = 0; layer < 2; layer++) {
            for (String part : List.of("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                    "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj", "input_layernorm", "post_attention_layernorm")) {
                expected.add("model.layers." + layer + "." + part + ".weight");
            }
        }
        expected.add("model.norm.weight");
        expected.add("lm_head.weight");
        assertEquals(expected, List.copyOf(lm.namedParameters().keySet()));
        assertEquals(expected, List.copyOf(lm.stateDict().keySet()));
        assertArrayEquals(new int[] {10, 6}, lm.stateDict().get("model.layers.1.mlp.up_proj.weight").shape());
        // per layer: q and o [6, 6], k and v [2, 6] (one kv head of dim 2), the MLP and two norms
        assertEquals(11 * 6 * 2 + 2 * (2 * 6 * 6 + 2 * 2 * 6 + 6 * 10 * 3 + 2 * 6) + 6, lm.parameterCount());
        assertArrayEquals(new int[] {2, 6}, lm.stateDict().get("model.layers.0.self_attn.k_proj.weight").shape());
    }

    @Test
    void ownParametersComeBeforeChildren() {
        Module m = new Module() {
            {
                registerModule("child", new Linear(2, 3, true));
                registerParameter("scale", Tensor.ones(1));
            }
        };
        assertEquals(List.of("scale", "child.weight", "child.bias"), List.copyOf(m.namedParameters().keySet()));
        assertEquals(List.of("", "child"), List.copyOf(m.namedModules().keySet()));
    }

    @Test
    void invalidAndDuplicateNamesRejected() {
        IllegalArgumentException dot = assertThrows(IllegalArgumentException.class, () -> new Module() {
            {
                registerParameter("a.b", Tensor.ones(1));
            }
        });
        assertTrue(dot.getMessage().contains("'a.b'"), dot.getMessage());
        IllegalArgumentException duplicate = assertThrows(IllegalArgumentException.class, () -> new Module() {
            {
                registerParameter("w", Tensor.ones(1));
                registerModule("w", new RmsNorm(2, 0f));
            }
        });
        assertTrue(duplicate.getMessage().contains("'w' is already registered"), duplicate.getMessage());
    }

    @Test
    void tiedWeightNamesInStateDict() {
        TinyModels.LanguageModel lm = new TinyModels.LanguageModel(7, 4, 5, 1);
        lm.lmHead.tieWeight(lm.model.embedTokens.weight());
        assertFalse(lm.namedParameters().containsKey("lm_head.weight"));
        assertTrue(lm.stateDict().containsKey("lm_head.weight"));
        assertSame(lm.model.embedTokens.weight(), lm.lmHead.weight());
        assertThrows(IllegalArgumentException.class, () -> lm.lmHead.tieWeight(new Parameter(Tensor.zeros(4, 7))));
    }

    @Test
    void trainAndEvalReachEveryModule() {
        TinyModels.LanguageModel lm = new TinyModels.LanguageModel(7, 4, 5, 2);
        assertTrue(lm.model.layers.get(1).mlp.isTraining());
        lm.eval();
        for (Module m : lm.namedModules().values()) {
            assertFalse(m.isTraining());
        }
        lm.train(true);
        assertTrue(lm.model.layers.get(1).mlp.downProj().isTraining());
    }

    @Test
    void parameterReplacementChangesShapeAndDropsGrad() {
        Linear linear = new Linear(4, 3, true);
        Tensor y = linear.forward(Tensor.ones(2, 4));
        y.sum().backward();
        assertNotNull(linear.weight().grad());

        // pruning surgery: keep two output rows
        linear.weight().set(Tensor.ones(2, 4).mul(0.5f));
        assertNull(linear.weight().grad());
        assertArrayEquals(new int[] {2, 4}, linear.stateDict().get("weight").shape());
        assertTrue(linear.weight().value().requiresGrad());
        assertEquals(4 * 2, linear.weight().data().length);
    }

    @Test
    void parameterCopiesViewsToDenseStorage() {
        Tensor wide = Tensor.arange(12).view(3, 4);
        Parameter p = new Parameter(wide.narrow(1, 1, 2));
        assertArrayEquals(new float[] {1, 2, 5, 6, 9, 10}, p.data());
        assertTrue(p.value().isLeaf());
    }

    @Test
    void frozenParameterGetsNoGradient() {
        Linear linear = new Linear(3, 2, false);
        linear.weight().requiresGrad(false);
        Tensor x = Tensor.ones(1, 3).requiresGrad(true);
        linear.forward(x).sum().backward();
        assertNull(linear.weight().grad());
        assertNotNull(x.grad());
    }

    @Test
    void moduleListRetainRenumbers() {
        TinyModels.Body body = new TinyModels.Body(5, 4, 6, 4, 1, 1);
        TinyModels.Layer third = body.layers.get(2);
        body.layers.retain(0, 2);
        assertEquals(2, body.layers.size());
        assertSame(third, body.layers.get(1));
        Map<String, Tensor> state = body.stateDict();
        assertTrue(state.containsKey("layers.1.mlp.gate_proj.weight"));
        assertFalse(state.containsKey("layers.2.mlp.gate_proj.weight"));
        assertThrows(IllegalArgumentException.class, () -> body.layers.retain(1, 0));
        assertThrows(IllegalArgumentException.class, () -> body.layers.retain(2));
    }

    @Test
    void mlpMatchesPrimitiveComposition() {
        Mlp mlp = new Mlp(5, 7, true);
        Initialization.llama(mlp, 0.5, 3);
        Tensor x = Tensor.randn(new Rng(4), 2, 3, 5);
        Tensor expected = x.matmul(mlp.gateProj().weight().value().t()).add(mlp.gateProj().bias().value()).silu()
                .mul(x.matmul(mlp.upProj().weight().value().t()).add(mlp.upProj().bias().value()))
                .matmul(mlp.downProj().weight().value().t()).add(mlp.downProj().bias().value());
        float[] actual = mlp.forward(x).toArray();
        float[] wanted = expected.toArray();
        for (int i = 0; i < wanted.length; i++) {
            assertEquals(wanted[i], actual[i], 1e-5 + 1e-5 * Math.abs(wanted[i]), "element " + i);
        }
    }

    @Test
    void llamaInitialisationDrawsFromTheSeed() {
        TinyModels.LanguageModel a = new TinyModels.LanguageModel(64, 32, 48, 2);
        TinyModels.LanguageModel b = new TinyModels.LanguageModel(64, 32, 48, 2);
        TinyModels.LanguageModel c = new TinyModels.LanguageModel(64, 32, 48, 2);
        Initialization.llama(a, 0.02, 7);
        Initialization.llama(b, 0.02, 7);
        Initialization.llama(c, 0.02, 8);
        Map<String, Tensor> sa = a.stateDict();
        Map<String, Tensor> sb = b.stateDict();
        for (String name : sa.keySet()) {
            assertArrayEquals(sa.get(name).toArray(), sb.get(name).toArray(), name);
        }
        assertFalse(java.util.Arrays.equals(sa.get("lm_head.weight").toArray(), c.stateDict().get("lm_head.weight").toArray()));

        // norms are one; weights have mean 0 and std 0.02 within sampling error (n = 2048 elements)
        for (float v : sa.get("model.layers.1.post_attention_layernorm.weight").toArray()) {
            assertEquals(1f, v);
        }
        float[] w = sa.get("lm_head.weight").toArray();
        double sum = 0;
        double sumSq = 0;
        for (float v : w) {
            sum += v;
            sumSq += (double) v * v;
        }
        double mean = sum / w.length;
        double std = Math.sqrt(sumSq / w.length - mean * mean);
        assertEquals(0, mean, 4 * 0.02 / Math.sqrt(w.length));
        assertEquals(0.02, std, 0.02 * 4 / Math.sqrt(2.0 * w.length));
    }

    @Test
    void linearInitialisationZeroesBias() {
        Linear linear = new Linear(8, 5, true);
        java.util.Arrays.fill(linear.bias().data(), 3f);
        Initialization.llama(linear, 0.02, 1);
        for (float v : linear.bias().data()) {
            assertEquals(0f, v);
        }
        assertThrows(IllegalArgumentException.class, () -> Initialization.llama(linear, -1, 1));
    }
}
