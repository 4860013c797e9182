package dev.transact4j.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.transact4j.tensor.testing.ArrayAssert;
import dev.transact4j.tensor.testing.GradCheck;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Checks every {@link Functional} op twice: its gradient against central finite differences, and
 * its output and gradients against the same function composed of primitive tensor ops.
 */
class FunctionalTest {

    private static final float EPS = 1e-5f;
    private static final int IGNORE = -100;

    // ---------------------------------------------------------------- linear

    @Test
    void linearMatchesComposition() {
        Rng rng = new Rng(1);
        Tensor x = Tensor.randn(rng, 2, 3, 17);
        Tensor w = Tensor.randn(rng, 5, 17);
        Tensor b = Tensor.randn(rng, 5);
        assertFusedMatchesComposition("linear with bias",
                in -> Functional.linear(in[0], in[1], in[2]),
                in -> in[0].matmul(in[1].t()).add(in[2]), 1e-5, 1e-5, x, w, b);
        assertFusedMatchesComposition("linear without bias",
                in -> Functional.linear(in[0], in[1], null),
                in -> in[0].matmul(in[1].t()), 1e-5, 1e-5, x, w);
    }

    @Test
    void linearOnTransposedViews() {
        Rng rng = new Rng(2);
        Tensor x = Tensor.randn(rng, 15, 4);
        Tensor w = Tensor.randn(rng, 15, 3);
        assertFusedMatchesComposition("linear on transposed x and weight",
                in -> Functional.linear(in[0].t(), in[1].t(), null),
                in -> in[0].t().matmul(in[1]), 1e-5, 1e-5, x, w);
    }

    @Test
    void linearMatchesDoubleReference() {
        Rng rng = new Rng(21);
        int rows = 17;
        int in = 33;
        int out = 15;
        Tensor x = Tensor.randn(rng, rows, in).requiresGrad(true);
        Tensor w = Tensor.randn(rng, out, in).requiresGrad(true);
        Tensor b = Tensor.randn(rng, out).requiresGrad(true);
        Tensor dy = Tensor.randn(rng, rows, out);
        Tensor y = Functional.linear(x, w, b);
        y.backward(dy);

        // y = x W^T + b, dx = dy W, dW = dy^T x, db = column sums of dy, all in double
        double[] yRef = new double[rows * out];
        double[] dxRef = new double[rows * in];
        double[] dwRef = new double[out * in];
        double[] dbRef = new double[out];
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                double sum = b.get(o);
                double g = dy.get(r, o);
                for (int i = 0; i < in; i++) {
                    sum += (double) x.get(r, i) * w.get(o, i);
                    dxRef[r * in + i] += g * w.get(o, i);
                    dwRef[o * in + i] += g * x.get(r, i);
                }
                yRef[r * out + o] = sum;
                dbRef[o] += g;
            }
        }
        ArrayAssert.assertClose("linear output", yRef, y.toArray(), 1e-5, 1e-5);
        ArrayAssert.assertClose("linear dx", dxRef, x.grad().toArray(), 1e-5, 1e-5);
        ArrayAssert.assertClose("linear dW", dwRef, w.grad().toArray(), 1e-5, 1e-5);
        ArrayAssert.assertClose("linear db", dbRef, b.grad().toArray(), 1e-5, 1e-5);
    }

    @Test
    void linearOnVector() {
        Rng rng = new Rng(20);
        assertFusedMatchesComposition("linear on a 1-D input",
                in -> Functional.linear(in[0], in[1], in[2]),
                in -> in[1].matmul(in[0]).add(in[2]), 1e-5, 1e-5,
                Tensor.randn(rng, 33), Tensor.randn(rng, 3, 33), Tensor.randn(rng, 3));
    }

    @Test
    void linearGradient() {
        Rng rng = new Rng(3);
        GradCheck.standard().check("linear", in -> Functional.linear(in[0], in[1], in[2]),
                Tensor.randn(rng, 3, 2, 15), Tensor.randn(rng, 4, 15), Tensor.randn(rng, 4));
    }

    @Test
    void linearRejectsShapes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Functional.linear(Tensor.zeros(2, 3), Tensor.zeros(4, 5), null));
        assertTrue(e.getMessage().startsWith("linear"), e.getMessage());
        assertTrue(e.getMessage().contains("[2, 3]"), e.getMessage());
        assertTrue(e.getMessage().contains("[4, 5]"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> Functional.linear(Tensor.zeros(2, 3), Tensor.zeros(4, 3), Tensor.zeros(3)));
    }

    @Test
    void linearsMatchSeparateLinears() {
        // with K = 257 the 575 output rows split into 2 or 3 chunks across the weights, and with
        // K = 33 they stay on one thread
        Rng rng = new Rng(22);
        int originalThreads = Parallel.threads();
        try (GradMode.Scope scope = GradMode.noGrad()) {
            for (int in : new int[] {33, 257}) {
                Tensor[] weights = {Tensor.randn(rng, 1, in), Tensor.randn(rng, 300, in), Tensor.randn(rng, 17, in),
                        Tensor.randn(rng, 257, in)};
                Tensor[] biases = {Tensor.randn(rng, 1), null, Tensor.randn(rng, 17), Tensor.randn(rng, 257)};
                for (int[] xShape : new int[][] {{1, in}, {in}, {1, 1, in}, {3, in}}) {
                    Tensor x = Tensor.randn(rng, xShape);
                    for (int threads : new int[] {1, 2, 3}) {
                        Parallel.setThreads(threads);
                        for (Tensor[] b : new Tensor[][] {biases, null}) {
                            Tensor[] fused = Functional.linears(x, weights, b);
                            assertEquals(weights.length, fused.length, "one result per weight");
                            for (int i = 0; i < weights.length; i++) {
                                Tensor expected = Functional.linear(x, weights[i], b == null ? null : b[i]);
                                String label = "weight " + i + " of K = " + in + ", x " + Shapes.str(xShape) + ", "
                                        + threads + " threads" + (b == null ? ", no biases" : "");
                                assertEquals(Shapes.str(expected.shape()), Shapes.str(fused[i].shape()), label);
                                ArrayAssert.assertBitwiseEqual(label, expected.toArray(), fused[i].toArray());
                            }
                        }
                    }
                }
            }
        } finally {
            Parallel.setThreads(originalThreads);
        }
    }

    @Test
    void linearsRecordAutograd() {
        Rng rng = new Rng(23);
        Tensor x = Tensor.randn(rng, 1, 17).requiresGrad(true);
        Tensor w0 = Tensor.randn(rng, 5, 17).requiresGrad(true);
        Tensor w1 = Tensor.randn(rng, 3, 17).requiresGrad(true);
        Tensor[] y = Functional.linears(x, new Tensor[] {w0, w1}, null);
        y[0].sum().add(y[1].sum()).backward();
        float[] dx = x.grad().toArray();

        Tensor x2 = x.detach().requiresGrad(true);
        Functional.linear(x2, w0.detach(), null).sum().add(Functional.linear(x2, w1.detach(), null).sum()).backward();
        ArrayAssert.assertBitwiseEqual("dx through both weights", x2.grad().toArray(), dx);
        assertEquals(Shapes.str(new int[] {5, 17}), Shapes.str(w0.grad().shape()), "w0 gets a gradient");
        assertEquals(Shapes.str(new int[] {3, 17}), Shapes.str(w1.grad().shape()), "w1 gets a gradient");
    }

    @Test
    void linearsRejectShapes() {
        Tensor x = Tensor.zeros(1, 3);
        IllegalArgumentException weight = assertThrows(IllegalArgumentException.class,
                () -> Functional.linears(x, new Tensor[] {Tensor.zeros(2, 3), Tensor.zeros(4, 5)}, null));
        assertTrue(weight.getMessage().contains("weight 1 [4, 5]"), weight.getMessage());
        IllegalArgumentException bias = assertThrows(IllegalArgumentException.class,
                () -> Functional.linears(x, new Tensor[] {Tensor.zeros(2, 3)}, new Tensor[] {Tensor.zeros(3)}));
        assertTrue(bias.getMessage().contains("bias 0 [3]"), bias.getMessage());
        IllegalArgumentException count = assertThrows(IllegalArgumentException.class,
                () -> Functional.linears(x, new Tensor[] {Tensor.zeros(2, 3)}, new Tensor[0]));
        assertTrue(count.getMessage().contains("1 weights but 0 biases"), count.getMessage());
    }

    // ---------------------------------------------------------------- rmsNorm and swiglu

    @Test
    void rmsNormMatchesComposition() {
        Rng rng = new Rng(4);
        Tensor x = Tensor.randn(rng, 3, 5, 33);
        Tensor w = Tensor.randn(rng, 33);
        assertFusedMatchesComposition("rmsNorm",
                in -> Functional.rmsNorm(in[0], in[1], EPS),
                in -> in[0].mul(in[0].mul(in[0]).mean(-1, true).add(EPS).rsqrt()).mul(in[1]),
                1e-5, 1e-4, x, w);
    }

    @Test
    void rmsNormGradient() {
        Rng rng = new Rng(5);
        GradCheck.standard().check("rmsNorm", in -> Functional.rmsNorm(in[0], in[1], EPS),
                Tensor.randn(rng, 3, 17), Tensor.randn(rng, 17));
    }

    @Test
    void swigluMatchesComposition() {
        Rng rng = new Rng(6);
        assertFusedMatchesComposition("swiglu",
                in -> Functional.swiglu(in[0], in[1]),
                in -> in[0].silu().mul(in[1]), 1e-6, 1e-5, Tensor.randn(rng, 3, 257), Tensor.randn(rng, 3, 257));
    }

    @Test
    void swigluGradient() {
        Rng rng = new Rng(7);
        GradCheck.standard().check("swiglu", in -> Functional.swiglu(in[0], in[1]),
                Tensor.randn(rng, 2, 15), Tensor.randn(rng, 2, 15));
    }

    // ---------------------------------------------------------------- crossEntropy

    @Test
    void crossEntropyMatchesComposition() {
        Rng rng = new Rng(8);
        int[] targets = {3, IGNORE, 0, 16, 7};
        Tensor logits = Tensor.randn(rng, 5, 17).mul(3f);
        assertFusedMatchesComposition("crossEntropy mean",
                in -> Functional.crossEntropy(in[0], targets, IGNORE),
                in -> composedCrossEntropy(in[0], targets, 4f), 1e-5, 1e-5, logits);
        assertFusedMatchesComposition("crossEntropy with normaliser",
                in -> Functional.crossEntropy(in[0], targets, IGNORE, 10f),
                in -> composedCrossEntropy(in[0], targets, 10f), 1e-5, 1e-5, logits);
    }

    @Test
    void crossEntropyNormaliserScalesSum() {
        Rng rng = new Rng(9);
        Tensor logits = Tensor.randn(rng, 4, 3);
        int[] targets = {0, 2, 1, IGNORE};
        float mean = Functional.crossEntropy(logits, targets, IGNORE).item();
        float sum = Functional.crossEntropy(logits, targets, IGNORE, 1f).item();
        assertEquals(3 * mean, sum, 1e-5);
    }

    @Test
    void crossEntropyGradient() {
        Rng rng = new Rng(10);
        int[] targets = {2, 0, IGNORE, 14};
        GradCheck.standard().check("crossEntropy", in -> Functional.crossEntropy(in[0], targets, IGNORE),
                Tensor.randn(rng, 4, 15));
        GradCheck.standard().check("crossEntropy normaliser",
                in -> Functional.crossEntropy(in[0], targets, IGNORE, 7f), Tensor.randn(rng, 4, 15));
    }

    @Test
    void crossEntropyRejectsShapesAndTargets() {
        IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                () -> Functional.crossEntropy(Tensor.zeros(3, 4), new int[] {0, 1}, IGNORE));
        assertTrue(shape.getMessage().contains("[3, 4]"), shape.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> Functional.crossEntropy(Tensor.zeros(2, 4), new int[] {0, 4}, IGNORE));
    }

    /** -sum(log_softmax(logits)[r, target[r]]) / normaliser over non-ignored rows, through a one-hot mask. */
    private static Tensor composedCrossEntropy(Tensor logits, int[] targets, float normaliser) {
        Tensor oneHot = Tensor.zeros(logits.shape());
        for (int r = 0; r < targets.length; r++) {
            if (targets[r] != IGNORE) {
                oneHot.set(1f, r, targets[r]);
            }
        }
        return logits.logSoftmax().mul(oneHot).sum().neg().div(normaliser);
    }

    // ---------------------------------------------------------------- rope

    @Test
    void ropeMatchesComposition() {
        Rng rng = new Rng(11);
        int b = 2;
        int nh = 3;
        int t = 5;
        int hs = 8;
        Tensor[] tables = ropeTables(9, hs);
        int offset = 3;
        assertFusedMatchesComposition("rope with offset",
                in -> Functional.rope(in[0], tables[0], tables[1], offset),
                in -> composedRope(in[0], tables[0].narrow(0, offset, t), tables[1].narrow(0, offset, t)),
                1e-6, 1e-5, Tensor.randn(rng, b, nh, t, hs));

        int[] ids = {0, 4, 1, 8, 2, 7, 7, 3, 5, 6};
        Tensor cosRows = tables[0].indexSelect(0, ids).view(b, 1, t, hs);
        Tensor sinRows = tables[1].indexSelect(0, ids).view(b, 1, t, hs);
        assertFusedMatchesComposition("rope with position ids",
                in -> Functional.rope(in[0], tables[0], tables[1], ids),
                in -> composedRope(in[0], cosRows, sinRows), 1e-6, 1e-5, Tensor.randn(rng, b, nh, t, hs));
    }

    @Test
    void ropeGradient() {
        Rng rng = new Rng(12);
        Tensor[] tables = ropeTables(6, 6);
        GradCheck.standard().check("rope", in -> Functional.rope(in[0], tables[0], tables[1], 1),
                Tensor.randn(rng, 1, 2, 4, 6));
    }

    @Test
    void ropeRejectsPositionIdsOfWrongLength() {
        Tensor[] tables = ropeTables(4, 4);
        assertThrows(IllegalArgumentException.class,
                () -> Functional.rope(Tensor.zeros(1, 1, 3, 4), tables[0], tables[1], new int[] {0, 1}));
        assertThrows(IllegalArgumentException.class,
                () -> Functional.rope(Tensor.zeros(1, 1, 2, 4), tables[0], tables[1], new int[] {0, 4}));
    }

    @Test
    void ropeRejectsTablesRequiringGrad() {
        Tensor[] tables = ropeTables(4, 4);
        tables[0].requiresGrad(true);
        assertThrows(IllegalArgumentException.class,
                () -> Functional.rope(Tensor.zeros(1, 1, 2, 4), tables[0], tables[1], 0));
        assertThrows(IllegalArgumentException.class,
                () -> Functional.rope(Tensor.zeros(1, 1, 2, 4), tables[1], tables[1], 3));
    }

    /** Returns Hugging Face's default rotary cos and sin tables {@code [positions, hs]} with base 10000. */
    private static Tensor[] ropeTables(int positions, int hs) {
        Tensor cos = Tensor.zeros(positions, hs);
        Tensor sin = Tensor.zeros(positions, hs);
        for (int p = 0; p < positions; p++) {
            for (int j = 0; j < hs; j++) {
                double angle = p * Math.pow(10000, -2.0 * (j % (hs / 2)) / hs);
                cos.set((float) Math.cos(angle), p, j);
                sin.set((float) Math.sin(angle), p, j);
            }
        }
        return new Tensor[] {cos, sin};
    }

    /** x * cos + rotate_half(x) * sin, with rotate_half(x) = cat(-x2, x1) over the last dim. */
    private static Tensor composedRope(Tensor x, Tensor cos, Tensor sin) {
        int half = x.size(-1) / 2;
        Tensor rotated = Tensor.concat(-1, x.narrow(-1, half, half).neg(), x.narrow(-1, 0, half));
        return x.mul(cos).add(rotated.mul(sin));
    }

    // ---------------------------------------------------------------- attention

    @Test
    void causalAttentionMatchesComposition() {
        Rng rng = new Rng(13);
        int b = 2;
        int nh = 4;
        int nkv = 2;
        int tq = 5;
        int tk = 7;
        int hs = 6;
        float scale = (float) (1 / Math.sqrt(hs));
        Tensor q = Tensor.randn(rng, b, nh, tq, hs);
        Tensor k = Tensor.randn(rng, b, nkv, tk, hs);
        Tensor v = Tensor.randn(rng, b, nkv, tk, hs);
        assertFusedMatchesComposition("causalAttention",
                in -> Functional.causalAttention(in[0], in[1], in[2], scale),
                in -> composedAttention(in[0], in[1], in[2], null, scale), 1e-5, 1e-4, q, k, v);

        // a key-padding mask: batch 1 never attends its first two keys
        Tensor mask = Tensor.zeros(b, tq, tk);
        mask.select(0, 1).narrow(1, 0, 2).fill(Float.NEGATIVE_INFINITY);
        assertFusedMatchesComposition("causalAttention with mask",
                in -> Functional.causalAttention(in[0], in[1], in[2], mask, scale),
                in -> composedAttention(in[0], in[1], in[2], mask, scale), 1e-5, 1e-4, q, k, v);
    }

    @Test
    void causalAttentionGradient() {
        Rng rng = new Rng(14);
        GradCheck.standard().check("causalAttention",
                in -> Functional.causalAttention(in[0], in[1], in[2], 0.5f),
                Tensor.randn(rng, 1, 2, 3, 3), Tensor.randn(rng, 1, 1, 4, 3), Tensor.randn(rng, 1, 1, 4, 3));
    }

    @Test
    void causalAttentionRejectsShapes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Functional.causalAttention(Tensor.zeros(1, 2, 3, 4), Tensor.zeros(1, 1, 3, 5),
                        Tensor.zeros(1, 1, 3, 5), 1f));
        assertTrue(e.getMessage().contains("causalAttention"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> Functional.causalAttention(Tensor.zeros(1, 3, 3, 4), Tensor.zeros(1, 2, 3, 4),
                        Tensor.zeros(1, 2, 3, 4), 1f));
    }

    /** softmax(q k^T * scale + mask + causal) v with each key/value head repeated for its query heads. */
    private static Tensor composedAttention(Tensor q, Tensor k, Tensor v, Tensor mask, float scale) {
        int b = q.size(0);
        int nh = q.size(1);
        int tq = q.size(2);
        int nkv = k.size(1);
        int tk = k.size(2);
        int hs = k.size(3);
        int group = nh / nkv;
        Tensor kr = k.unsqueeze(2).expand(b, nkv, group, tk, hs).reshape(b, nh, tk, hs);
        Tensor vr = v.unsqueeze(2).expand(b, nkv, group, tk, hs).reshape(b, nh, tk, hs);
        Tensor scores = q.matmul(kr.transpose(-1, -2)).mul(scale);
        if (mask != null) {
            scores = scores.add(mask.unsqueeze(1));
        }
        Tensor future = Tensor.ones(tq, tk).triu(tk - tq + 1);
        return scores.maskedFill(future, Float.NEGATIVE_INFINITY).softmax().matmul(vr);
    }

    // ---------------------------------------------------------------- embedding

    @Test
    void embeddingMatchesOneHotProduct() {
        Rng rng = new Rng(15);
        int[] ids = {3, 0, 3, 6, 1, 3};
        Tensor oneHot = Tensor.zeros(ids.length, 7);
        for (int i = 0; i < ids.length; i++) {
            oneHot.set(1f, i, ids[i]);
        }
        assertFusedMatchesComposition("embedding",
                in -> Functional.embedding(in[0], ids, 2, 3),
                in -> oneHot.matmul(in[0]).view(2, 3, 5), 0, 0, Tensor.randn(rng, 7, 5));
    }

    @Test
    void embeddingGradient() {
        Rng rng = new Rng(16);
        int[] ids = {2, 2, 0, 4};
        GradCheck.standard().check("embedding", in -> Functional.embedding(in[0], ids), Tensor.randn(rng, 5, 3));
    }

    @Test
    void embeddingRejectsIds() {
        assertThrows(IllegalArgumentException.class, () -> Functional.embedding(Tensor.zeros(4, 2), new int[] {4}));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Functional.embedding(Tensor.zeros(4, 2), new int[] {1, 2, 3}, 2, 2));
        assertTrue(e.getMessage().contains("[2, 2]"), e.getMessage());
    }

    // ---------------------------------------------------------------- recording

    @Test
    void noNodeWithoutGrad() {
        Rng rng = new Rng(17);
        Tensor y = Functional.linear(Tensor.randn(rng, 2, 3), Tensor.randn(rng, 4, 3), null);
        assertNull(y.gradFn());
        Tensor w = Tensor.randn(rng, 4, 3).requiresGrad(true);
        try (GradMode.Scope scope = GradMode.noGrad()) {
            assertNull(Functional.linear(Tensor.randn(rng, 2, 3), w, null).gradFn());
        }
        assertEquals("linear", Functional.linear(Tensor.randn(rng, 2, 3), w, null).gradFn().op());
    }

    /**
     * Runs {@code fused} and {@code composed} on separate leaf copies of the inputs, back-propagates
     * the same random upstream gradient through both, and compares the outputs and every input's
     * gradient within {@code atol + rtol * |expected|}.
     */
    private static void assertFusedMatchesComposition(String what, Function<Tensor[], Tensor> fused,
                                                      Function<Tensor[], Tensor> composed,
                                                      double atol, double rtol, Tensor... inputs) {
        Tensor[] a = leafCopies(inputs);
        Tensor[] b = leafCopies(inputs);
        Tensor outFused = fused.apply(a);
        Tensor outComposed = composed.apply(b);
        assertEquals(java.util.Arrays.toString(outComposed.shape()), java.util.Arrays.toString(outFused.shape()),
                what + ": output shape");
        ArrayAssert.assertClose(what + ": output", outComposed.toArray(), outFused.toArray(), atol, rtol);

        Tensor upstream = Tensor.randn(new Rng(99), outFused.shape());
        outFused.backward(upstream);
        outComposed.backward(upstream);
        for (int i = 0; i < inputs.length; i++) {
            ArrayAssert.assertClose(what + ": gradient of input " + i, b[i].grad().toArray(), a[i].grad().toArray(),
                    atol, rtol);
        }
    }

    private static Tensor[] leafCopies(Tensor[] inputs) {
        Tensor[] copies = new Tensor[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            copies[i] = Tensor.of(inputs[i].toArray(), inputs[i].shape()).requiresGrad(true);
        }
        return copies;
    }
}
