package dev.transact4j.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.transact4j.tensor.testing.GradCheck;
import org.junit.jupiter.api.Test;

class AutogradTest {

    private final GradCheck check = GradCheck.standard();

    private static Tensor randn(long seed, int... shape) {
        return Tensor.randn(new Rng(seed), shape);
    }

    /** Random values with |x| in [0.2, 2.2), away from the kinks of abs, relu, max and min. */
    private static Tensor awayFromZero(long seed, int... shape) {
        Tensor u = Tensor.uniform(new Rng(seed), 0.2f, 2.2f, shape);
        Tensor sign = Tensor.uniform(new Rng(seed + 1), -1f, 1f, shape).sign();
        return u.mul(sign);
    }

    /** Distinct values 0.1 apart in shuffled order, so no max or min is within a finite-difference step of a tie. */
    private static Tensor distinct(long seed, int... shape) {
        int n = Shapes.numel(shape);
        float[] v = new float[n];
        Rng rng = new Rng(seed);
        for (int i = 0; i < n; i++) {
            int j = rng.nextInt(i + 1);
            v[i] = v[j];
            v[j] = (i - n / 2) * 0.1f;
        }
        return Tensor.of(v, shape);
    }

    private static Tensor positive(long seed, int... shape) {
        return Tensor.uniform(new Rng(seed), 0.5f, 2f, shape);
    }

    // ---------------------------------------------------------------- rules, by finite differences

    @Test
    void unaryOpGradients() {
        check.check("neg", x -> x[0].neg(), randn(1, 3, 17));
        check.check("exp", x -> x[0].exp(), randn(2, 3, 17));
        check.check("log", x -> x[0].log(), positive(3, 17));
        check.check("sqrt", x -> x[0].sqrt(), positive(4, 17));
        check.check("rsqrt", x -> x[0].rsqrt(), positive(5, 17));
        check.check("abs", x -> x[0].abs(), awayFromZero(6, 15));
        check.check("sigmoid", x -> x[0].sigmoid(), randn(7, 33));
        check.check("silu", x -> x[0].silu(), randn(8, 33));
        check.check("tanh", x -> x[0].tanh(), randn(9, 33));
        check.check("relu", x -> x[0].relu(), awayFromZero(10, 33));
        check.check("pow scalar", x -> x[0].pow(2.5f), positive(11, 15));
        check.check("add scalar", x -> x[0].add(3f).mul(-2f).div(4f).sub(1f), randn(12, 15));
    }

    @Test
    void binaryOpGradientsWithBroadcasting() {
        int[][][] pairs = {{{3, 17}, {17}}, {{3, 1}, {1, 5}}, {{2, 3, 4}, {3, 1}}, {{}, {3, 3}}, {{15}, {15}}};
        for (int[][] p : pairs) {
            String shapes = java.util.Arrays.toString(p[0]) + " " + java.util.Arrays.toString(p[1]);
            check.check("add " + shapes, x -> x[0].add(x[1]), randn(20, p[0]), randn(21, p[1]));
            check.check("sub " + shapes, x -> x[0].sub(x[1]), randn(22, p[0]), randn(23, p[1]));
            check.check("mul " + shapes, x -> x[0].mul(x[1]), randn(24, p[0]), randn(25, p[1]));
            check.check("div " + shapes, x -> x[0].div(x[1]), randn(26, p[0]), positive(27, p[1]));
            check.check("pow " + shapes, x -> x[0].pow(x[1]), positive(28, p[0]), randn(29, p[1]));
            check.check("maximum " + shapes, x -> x[0].maximum(x[1]), randn(30, p[0]), randn(31, p[1]));
            check.check("minimum " + shapes, x -> x[0].minimum(x[1]), randn(32, p[0]), randn(33, p[1]));
        }
    }

    @Test
    void maximumSplitsTiesEvenly() {
        Tensor a = Tensor.of(new float[] {1f, 2f}, 2).requiresGrad(true);
        Tensor b = Tensor.of(new float[] {1f, 3f}, 2).requiresGrad(true);
        a.maximum(b).sum().backward();
        assertArrayEquals(new float[] {0.5f, 0f}, a.grad().toArray());
        assertArrayEquals(new float[] {0.5f, 1f}, b.grad().toArray());
    }

    @Test
    void viewGradients() {
        check.check("view", x -> x[0].view(4, 6).mul(x[0].view(4, 6)), randn(40, 2, 3, 4));
        check.check("reshape of transpose", x -> x[0].transpose(0, 2).reshape(-1).exp(), randn(41, 2, 3, 4));
        check.check("permute", x -> x[0].permute(2, 0, 1).contiguous().sigmoid(), randn(42, 2, 3, 4));
        check.check("narrow", x -> x[0].narrow(1, 1, 2).tanh(), randn(43, 2, 3, 4));
        check.check("slice", x -> x[0].slice(2, 1, -1).mul(2f), randn(44, 2, 3, 4));
        check.check("select", x -> x[0].select(0, 1).exp(), randn(45, 2, 3, 4));
        check.check("unsqueeze squeeze", x -> x[0].unsqueeze(1).squeeze().unsqueeze(-1).squeeze(-1), randn(46, 3, 4));
        check.check("expand", x -> x[0].expand(5, 3, 4).exp(), randn(47, 3, 1));
        check.check("t", x -> x[0].t().matmul(x[0]), randn(48, 3, 4));
        check.check("copy", x -> x[0].copy().mul(x[0]), randn(49, 5));
    }

    @Test
    void reductionGradients() {
        int[][] dimSets = {{0}, {1}, {2}, {0, 2}, {0, 1, 2}, {-1}};
        for (int[] dims : dimSets) {
            String d = java.util.Arrays.toString(dims);
            for (boolean keepdim : new boolean[] {false, true}) {
                check.check("sum " + d, x -> x[0].sum(dims, keepdim), randn(50, 3, 4, 5));
                check.check("mean " + d, x -> x[0].mean(dims, keepdim), randn(51, 3, 4, 5));
                check.check("amax " + d, x -> x[0].amax(dims, keepdim), distinct(52, 3, 4, 5));
                check.check("norm " + d, x -> x[0].norm(dims, keepdim), randn(53, 3, 4, 5));
            }
        }
        check.check("sum all", x -> x[0].sum(), randn(54, 3, 4));
        check.check("mean all", x -> x[0].mean(), randn(55, 3, 4));
        check.check("max all", x -> x[0].max(), distinct(56, 3, 4));
        check.check("min all", x -> x[0].min(), distinct(57, 3, 4));
        check.check("norm all", x -> x[0].norm(), randn(58, 3, 4));
        for (int dim = 0; dim < 3; dim++) {
            int d = dim;
            check.check("max along " + d, x -> x[0].max(d, false).values(), distinct(59, 3, 4, 5));
            check.check("max along keepdim " + d, x -> x[0].max(d, true).values(), distinct(60, 3, 4, 5));
        }
    }

    @Test
    void tiedMaximaShareTheGradient() {
        Tensor x = Tensor.of(new float[] {2f, 1f, 2f}, 3).requiresGrad(true);
        x.max().backward();
        assertArrayEquals(new float[] {0.5f, 0f, 0.5f}, x.grad().toArray());
        Tensor zero = Tensor.zeros(3).requiresGrad(true);
        zero.norm().backward();
        assertArrayEquals(new float[] {0f, 0f, 0f}, zero.grad().toArray(), "norm at 0 has gradient 0");
    }

    @Test
    void softmaxGradients() {
        check.check("softmax", x -> x[0].softmax(), randn(70, 3, 17));
        check.check("logSoftmax", x -> x[0].logSoftmax(), randn(71, 3, 17));
        check.check("softmax of transposed", x -> x[0].t().softmax(), randn(72, 5, 3));
        Tensor mask = Tensor.ones(4, 4).triu(1);
        check.check("masked softmax", x -> x[0].maskedFill(mask, Float.NEGATIVE_INFINITY).softmax(), randn(73, 4, 4));
    }

    @Test
    void indexingGradients() {
        int[] ids = {3, 0, 3, 1, 4, 3};
        check.check("indexSelect rows", x -> x[0].indexSelect(0, ids), randn(80, 5, 3));
        check.check("indexSelect columns", x -> x[0].indexSelect(1, new int[] {2, 2, 0}), randn(81, 4, 3));
        IndexTensor index = IndexTensor.of(new int[] {0, 2, 2, 1, 1, 0}, 3, 2);
        check.check("gather", x -> x[0].gather(1, index), randn(82, 3, 4));
        check.check("scatterAdd", x -> x[0].scatterAdd(1, index, x[1]), randn(83, 3, 4), randn(84, 3, 3));
        check.check("concat", x -> Tensor.concat(1, x[0], x[1], x[0]), randn(85, 2, 3), randn(86, 2, 5));
        check.check("stack", x -> Tensor.stack(0, x[0], x[1]).exp(), randn(87, 2, 3), randn(88, 2, 3));
        Tensor cond = Tensor.of(new float[] {1, 0, 0, 1, 1, 0}, 2, 3);
        check.check("where", x -> Tensor.where(cond, x[0], x[1]), randn(89, 2, 3), randn(90, 3));
        check.check("maskedFill", x -> x[0].maskedFill(cond, 5f), randn(91, 2, 3));
        check.check("triu", x -> x[0].triu(0), randn(92, 2, 3, 3));
        check.check("tril", x -> x[0].tril(-1), randn(93, 3, 4));
    }

    @Test
    void matmulGradients() {
        check.check("2-D", x -> x[0].matmul(x[1]), randn(100, 3, 5), randn(101, 5, 4));
        check.check("batched broadcast", x -> x[0].matmul(x[1]), randn(102, 2, 1, 3, 5), randn(103, 3, 5, 4));
        check.check("shared weight", x -> x[0].matmul(x[1]), randn(104, 2, 3, 5), randn(105, 5, 4));
        check.check("transposed view", x -> x[0].matmul(x[1].t()), randn(106, 3, 5), randn(107, 4, 5));
        check.check("vector vector", x -> x[0].matmul(x[1]), randn(108, 5), randn(109, 5));
        check.check("vector matrix", x -> x[0].matmul(x[1]), randn(110, 5), randn(111, 2, 5, 3));
        check.check("matrix vector", x -> x[0].matmul(x[1]), randn(112, 2, 3, 5), randn(113, 5));
    }

    @Test
    void smallNetworkGradient() {
        // a two-layer perceptron with a log-softmax loss: many rules chained, one input used twice
        int[] targets = {1, 0, 2, 2};
        IndexTensor target = IndexTensor.of(targets, 4, 1);
        check.check("mlp", x -> {
            Tensor hidden = x[0].matmul(x[1]).add(x[2]).silu();
            Tensor logits = hidden.matmul(x[1].t().narrow(1, 0, 3));
            return logits.logSoftmax().gather(1, target).mean().neg().add(x[2].norm());
        }, randn(120, 4, 6), randn(121, 6, 6), randn(122, 6));
    }

    // ---------------------------------------------------------------- the engine

    @Test
    void gradientsAccumulateUntilZeroGrad() {
        Tensor x = Tensor.of(new float[] {1f, 2f, 3f}, 3).requiresGrad(true);
        x.mul(x).sum().backward();
        assertArrayEquals(new float[] {2f, 4f, 6f}, x.grad().toArray(), "x * x uses x twice");
        x.mul(x).sum().backward();
        assertArrayEquals(new float[] {4f, 8f, 12f}, x.grad().toArray());
        x.zeroGrad();
        assertNull(x.grad());
        x.sum().backward();
        assertArrayEquals(new float[] {1f, 1f, 1f}, x.grad().toArray());
    }

    @Test
    void leafGradDoesNotAliasOtherGradients() {
        Tensor a = Tensor.zeros(3).requiresGrad(true);
        Tensor b = Tensor.zeros(3).requiresGrad(true);
        a.add(b).sum().backward();
        a.grad().addInPlace(Tensor.ones(3));
        assertArrayEquals(new float[] {1f, 1f, 1f}, b.grad().toArray());
    }

    @Test
    void noGradScopeRecordsNothing() {
        Tensor x = Tensor.ones(3).requiresGrad(true);
        Tensor y;
        try (GradMode.Scope scope = GradMode.noGrad()) {
            assertFalse(GradMode.isEnabled());
            y = x.mul(2f);
            try (GradMode.Scope inner = GradMode.noGrad()) {
                assertFalse(GradMode.isEnabled());
            }
            assertFalse(GradMode.isEnabled(), "closing a nested scope keeps the outer one");
            x.addInPlace(1f);
        }
        assertTrue(GradMode.isEnabled());
        assertFalse(y.requiresGrad());
        assertNull(y.gradFn());
        assertEquals(2f, x.get(0));
        Tensor z = x.mul(2f);
        assertTrue(z.requiresGrad());
        assertEquals("mul", z.gradFn().op());
    }

    @Test
    void detachCutsTheGraph() {
        Tensor x = Tensor.ones(3).requiresGrad(true);
        Tensor d = x.mul(3f).detach();
        assertTrue(d.isLeaf());
        assertFalse(d.requiresGrad());
        Tensor y = x.mul(d).sum();
        y.backward();
        assertArrayEquals(new float[] {3f, 3f, 3f}, x.grad().toArray(), "the detached factor counts as a constant");
    }

    @Test
    void secondBackwardNeedsRetainedGraph() {
        Tensor x = Tensor.of(new float[] {1f, 2f}, 2).requiresGrad(true);
        Tensor loss = x.exp().sum();
        loss.backward(Tensor.scalar(1f), true);
        loss.backward(Tensor.scalar(1f), true);
        assertEquals(2 * Math.exp(1), x.grad().get(0), 1e-5);
        loss.backward();
        assertTrue(loss.gradFn().isReleased(), "saved tensors are released after a backward without retainGraph");
        IllegalStateException e = assertThrows(IllegalStateException.class, loss::backward);
        assertEquals("backward: the graph through op 'sum' was freed by an earlier backward; pass retainGraph = true "
                + "to the first backward to run backward twice", e.getMessage());
    }

    @Test
    void backwardErrorsAreNamed() {
        Tensor x = Tensor.ones(2, 3).requiresGrad(true);
        IllegalArgumentException notScalar = assertThrows(IllegalArgumentException.class, () -> x.mul(2f).backward());
        assertEquals("backward: the output of shape [2, 3] is not a scalar; pass a gradient of that shape to "
                + "backward(gradient)", notScalar.getMessage());
        IllegalArgumentException badGradient = assertThrows(IllegalArgumentException.class,
                () -> x.mul(2f).backward(Tensor.ones(3)));
        assertEquals("backward: gradient of shape [3] does not match the output's shape [2, 3]", badGradient.getMessage());
        IllegalStateException noGrad = assertThrows(IllegalStateException.class, () -> Tensor.ones(2).sum().backward());
        assertEquals("backward: this tensor of shape [] does not require grad; call requiresGrad(true) on an input "
                + "before computing it", noGrad.getMessage());

        Tensor custom = Autograd.record(Tensor.zeros(3), "custom", null, new Tensor[] {x});
        IllegalStateException noRule = assertThrows(IllegalStateException.class, () -> custom.sum().backward());
        assertEquals("backward: op 'custom' has no backward; compute it inside GradMode.noGrad() or detach() its inputs",
                noRule.getMessage());

        IllegalStateException inPlace = assertThrows(IllegalStateException.class, () -> x.addInPlace(1f));
        assertEquals("addInPlace: this tensor requires grad, and changing it in place would corrupt the gradients; use "
                + "the out-of-place op, or update it inside GradMode.noGrad()", inPlace.getMessage());
        IllegalStateException intoBuffer = assertThrows(IllegalStateException.class, () -> Tensor.zeros(2, 3).copyFrom(x));
        assertEquals("copyFrom: the operand requires grad, but in-place results are not recorded; use the out-of-place "
                + "op, or detach() the operand", intoBuffer.getMessage());
        IllegalStateException nonLeaf = assertThrows(IllegalStateException.class, () -> x.mul(2f).requiresGrad(false));
        assertEquals("requiresGrad: only leaf tensors can change it, and this one was computed by 'mul'; call detach() "
                + "for a leaf that shares its storage", nonLeaf.getMessage());
    }

    @Test
    void deepChainDoesNotOverflowTheStack() {
        Tensor x = Tensor.ones(1).requiresGrad(true);
        Tensor y = x;
        for (int i = 0; i < 20_000; i++) {
            y = y.mul(1f);
        }
        y.sum().backward();
        assertEquals(1f, x.grad().get(0));
    }

    @Test
    void recordedOpsNameTheirNode() {
        Tensor x = Tensor.ones(2, 3).requiresGrad(true);
        assertEquals("matmul", x.matmul(x.t()).gradFn().op());
        assertEquals("permute", x.t().gradFn().op());
        assertEquals("softmax", x.softmax().gradFn().op());
        assertEquals("sum", x.sum().gradFn().op());
        assertTrue(x.isLeaf());
        assertEquals("tensor([[1.0000, 1.0000, 1.0000],\n        [1.0000, 1.0000, 1.0000]], shape=[2, 3], requiresGrad=true)",
                x.toString());
    }
}
