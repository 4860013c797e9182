package dev.transact4j.tensor;

import static dev.transact4j.tensor.TestSupport.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.transact4j.tensor.testing.Fixture;
import org.junit.jupiter.api.Test;

/** Compares ops and gradients with PyTorch, from the fixture that src/test/python/make_tensor_fixtures.py writes. */
class TorchFixtureTest {

    private static final Fixture FIXTURE = Fixture.load("tensor_ops");

    private static Tensor input(String key) {
        Fixture.Array a = FIXTURE.get(key);
        return Tensor.of(a.floats(), a.shape());
    }

    private static void assertMatches(String key, Tensor actual, double atol, double rtol) {
        Fixture.Array expected = FIXTURE.get(key);
        assertArrayEquals(expected.shape(), actual.shape(), key + ": shape");
        assertClose(expected.values(), actual, atol, rtol, key);
    }

    @Test
    void elementwiseAndReductions() {
        Tensor a = input("a");
        Tensor b = input("b");
        Tensor positive = input("positive");
        assertMatches("add", a.add(b), 1e-6, 1e-6);
        assertMatches("mul", a.mul(b), 1e-6, 1e-6);
        assertMatches("div", a.div(positive), 1e-6, 1e-6);
        assertMatches("pow", positive.pow(b), 1e-6, 1e-6);
        assertMatches("maximum", a.maximum(b), 0, 0);
        Tensor product = a.mul(b);
        assertMatches("sum_0_2", product.sum(new int[] {0, 2}, true), 1e-5, 1e-5);
        assertMatches("mean_1", product.mean(1, false), 1e-6, 1e-5);
        assertMatches("amax_0", product.amax(new int[] {0}, false), 1e-6, 1e-6);
        assertMatches("norm_2", product.norm(new int[] {2}, false), 1e-5, 1e-5);
    }

    @Test
    void softmaxWithMaskedRows() {
        Tensor logits = input("logits");
        assertMatches("softmax", logits.softmax(), 1e-7, 1e-5);
        assertMatches("log_softmax", logits.logSoftmax(), 1e-5, 1e-5);
    }

    @Test
    void batchedMatmul() {
        assertMatches("matmul", input("m1").matmul(input("m2")), 1e-5, 1e-5);
    }

    @Test
    void networkLossAndGradients() {
        Tensor emb = input("emb").requiresGrad(true);
        Tensor w1 = input("w1").requiresGrad(true);
        Tensor b1 = input("b1").requiresGrad(true);
        Tensor w2 = input("w2").requiresGrad(true);
        int[] ids = FIXTURE.get("ids").ints();
        Fixture.Array targets = FIXTURE.get("targets");

        Tensor hidden = emb.indexSelect(0, ids).matmul(w1).add(b1).silu();
        Tensor loss = hidden.matmul(w2).logSoftmax().gather(1, IndexTensor.of(targets.ints(), targets.shape())).mean().neg();
        loss.backward();

        // numpy stores a 0-d array as shape [1]
        assertMatches("loss", loss.reshape(1), 1e-6, 1e-5);
        assertMatches("d_emb", emb.grad(), 1e-6, 1e-4);
        assertMatches("d_w1", w1.grad(), 1e-6, 1e-4);
        assertMatches("d_b1", b1.grad(), 1e-6, 1e-4);
        assertMatches("d_w2", w2.grad(), 1e-6, 1e-4);
    }
}
