package dev.transact4j.tensor;

import static dev.transact4j.tensor.TestSupport.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.transact4j.tensor.testing.Fixture;
import dev.transact4j.tensor.testing.GradCheck;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Checks the output and every input gradient of each differentiable op twice: against PyTorch,
 * from the fixture that src/test/python/make_autograd_fixtures.py writes, and by central finite
 * differences ({@link GradCheck}) on the same inputs.
 *
 * <p>For case {@code NAME} the fixture stores inputs {@code NAME.x0..}, constants
 * {@code NAME.c0..}, index arrays {@code NAME.i0..}, an upstream gradient {@code NAME.upstream},
 * and the float64 reference output {@code NAME.out} and input gradients {@code NAME.dx0..}. The
 * table below builds the same computation in Java; its case names match the script's.
 *
 * <p>Tolerances: the reference is float64 from the same float32 inputs, so the only error is
 * float32 rounding in the kernels. An element passes when
 * {@code |actual - expected| <= ATOL + RTOL * |expected|}, the same for every case. Every case
 * also passed at half these tolerances on the Vector API and the scalar path (JDK 17); the largest
 * error seen was 8e-7, on a batched matmul output of 0.61. The factor 2 leaves room for other
 * summation orders.
 */
class AutogradTorchFixtureTest {

    private static final Fixture FIXTURE = Fixture.load("autograd_ops");

    /** Absolute tolerance for outputs and gradients of order 1. */
    private static final double ATOL = 2e-6;
    /** Relative tolerance, about 170 times the float32 machine epsilon (1.2e-7). */
    private static final double RTOL = 2e-5;

    /** One op: a function from the leaf inputs to the output, with the case's constants bound. */
    private record Case(String name, Function<Tensor[], Tensor> op) {
        @Override
        public String toString() {
            return name;
        }
    }

    /** The constants and index arrays that the fixture stores for one case. */
    private record Constants(String name) {
        Tensor tensor(int k) {
            Fixture.Array a = FIXTURE.get(name + ".c" + k);
            return Tensor.of(a.floats(), a.shape());
        }

        int[] ints(int k) {
            return FIXTURE.get(name + ".i" + k).ints();
        }

        IndexTensor index(int k) {
            Fixture.Array a = FIXTURE.get(name + ".i" + k);
            return IndexTensor.of(a.ints(), a.shape());
        }
    }

    private static final Map<String, Case> CASES = new LinkedHashMap<>();

    private static void add(String name, Function<Tensor[], Tensor> op) {
        if (CASES.put(name, new Case(name, op)) != null) {
            throw new IllegalStateException("duplicate case " + name);
        }
    }

    private static Constants constants(String name) {
        return new Constants(name);
    }

    static {
        // element-wise, binary with broadcasting
        add("add", x -> x[0].add(x[1]));
        add("add size 1", x -> x[0].add(x[1]));
        add("sub", x -> x[0].sub(x[1]));
        add("mul", x -> x[0].mul(x[1]));
        add("div", x -> x[0].div(x[1]));
        add("pow", x -> x[0].pow(x[1]));
        add("maximum", x -> x[0].maximum(x[1]));
        add("minimum", x -> x[0].minimum(x[1]));

        // element-wise with a scalar
        add("add scalar", x -> x[0].add(0.75f));
        add("sub scalar", x -> x[0].sub(1.25f));
        add("mul scalar", x -> x[0].mul(-1.5f));
        add("div scalar", x -> x[0].div(3f));
        add("pow scalar", x -> x[0].pow(2.5f));
        add("pow scalar negative", x -> x[0].pow(-1.5f));
        add("maximum scalar", x -> x[0].maximum(0.25f));
        add("minimum scalar", x -> x[0].minimum(-0.25f));

        // element-wise, unary
        add("neg", x -> x[0].neg());
        add("exp", x -> x[0].exp());
        add("log", x -> x[0].log());
        add("sqrt", x -> x[0].sqrt());
        add("rsqrt", x -> x[0].rsqrt());
        add("abs", x -> x[0].abs());
        add("sigmoid", x -> x[0].sigmoid());
        add("silu", x -> x[0].silu());
        add("tanh", x -> x[0].tanh());
        add("relu", x -> x[0].relu());

        // views
        add("view", x -> x[0].view(17, 3));
        add("reshape", x -> x[0].reshape(-1, 3, 1));
        add("reshape of transpose", x -> x[0].transpose(0, 1).reshape(51));
        add("transpose", x -> x[0].transpose(0, 2));
        add("permute", x -> x[0].permute(2, 0, 1));
        add("narrow", x -> x[0].narrow(1, 4, 9));
        add("slice", x -> x[0].slice(1, 1, -1));
        add("select", x -> x[0].select(1, 2));
        add("unsqueeze", x -> x[0].unsqueeze(1));
        add("squeeze", x -> x[0].squeeze());
        add("squeeze dim", x -> x[0].squeeze(1));
        add("expand", x -> x[0].expand(2, 3, 17));
        add("flatten of permute", x -> x[0].permute(1, 0, 2).flatten());
        add("contiguous of transpose", x -> x[0].t().contiguous());
        add("copy", x -> x[0].copy().mul(x[0]));
        add("view of a view", x -> x[0].transpose(0, 1).narrow(0, 2, 11).select(2, 1).unsqueeze(0));

        // reductions
        add("sum dims keepdim", x -> x[0].sum(new int[] {0, 2}, true));
        add("sum dim", x -> x[0].sum(1, false));
        add("sum all", x -> x[0].sum());
        add("mean dims keepdim", x -> x[0].mean(new int[] {1, 2}, true));
        add("mean dim", x -> x[0].mean(-1, false));
        add("mean all", x -> x[0].mean());
        add("amax dims", x -> x[0].amax(new int[] {0, 2}, false));
        add("amax dim keepdim", x -> x[0].amax(new int[] {1}, true));
        add("max values", x -> x[0].max(1, false).values());
        add("max values keepdim", x -> x[0].max(0, true).values());
        add("max all", x -> x[0].max());
        add("min all", x -> x[0].min());
        add("norm dims keepdim", x -> x[0].norm(new int[] {0, 2}, true));
        add("norm dim", x -> x[0].norm(new int[] {1}, false));
        add("norm all", x -> x[0].norm());

        // softmax
        add("softmax", x -> x[0].softmax());
        add("logSoftmax", x -> x[0].logSoftmax());
        Tensor softmaxMask = constants("softmax masked").tensor(0);
        add("softmax masked", x -> x[0].maskedFill(softmaxMask, Float.NEGATIVE_INFINITY).softmax());
        Tensor logSoftmaxMask = constants("logSoftmax masked").tensor(0);
        add("logSoftmax masked", x -> x[0].maskedFill(logSoftmaxMask, Float.NEGATIVE_INFINITY).logSoftmax());

        // indexing and joining
        int[] rows = constants("indexSelect rows").ints(0);
        add("indexSelect rows", x -> x[0].indexSelect(0, rows));
        int[] columns = constants("indexSelect columns").ints(0);
        add("indexSelect columns", x -> x[0].indexSelect(1, columns));
        IndexTensor gatherIndex = constants("gather").index(0);
        add("gather", x -> x[0].gather(1, gatherIndex));
        IndexTensor gatherIndex0 = constants("gather dim 0").index(0);
        add("gather dim 0", x -> x[0].gather(0, gatherIndex0));
        IndexTensor scatterIndex = constants("scatterAdd").index(0);
        add("scatterAdd", x -> x[0].scatterAdd(1, scatterIndex, x[1]));
        add("concat", x -> Tensor.concat(1, x[0], x[1], x[0]));
        add("stack", x -> Tensor.stack(1, x[0], x[1], x[2]));
        Tensor whereCondition = constants("where").tensor(0);
        add("where", x -> Tensor.where(whereCondition, x[0], x[1]));
        Tensor fillMask = constants("maskedFill").tensor(0);
        add("maskedFill", x -> x[0].maskedFill(fillMask, 2.5f));
        add("triu", x -> x[0].triu(1));
        add("tril", x -> x[0].tril(-1));

        // matmul
        add("matmul 2-D", x -> x[0].matmul(x[1]));
        add("matmul batched broadcast", x -> x[0].matmul(x[1]));
        add("matmul vector vector", x -> x[0].matmul(x[1]));
        add("matmul vector matrix", x -> x[0].matmul(x[1]));
        add("matmul matrix vector", x -> x[0].matmul(x[1]));
        add("matmul transposed", x -> x[0].t().matmul(x[1].t()));

        // Functional
        add("linear", x -> Functional.linear(x[0], x[1], x[2]));
        add("linear vector input", x -> Functional.linear(x[0], x[1], x[2]));
        add("linear without bias", x -> Functional.linear(x[0], x[1], null));
        add("rmsNorm", x -> Functional.rmsNorm(x[0], x[1], 1e-5f));
        add("swiglu", x -> Functional.swiglu(x[0], x[1]));
        int[] targets = constants("crossEntropy").ints(0);
        add("crossEntropy", x -> Functional.crossEntropy(x[0], targets, -100));
        int[] normalizedTargets = constants("crossEntropy normaliser").ints(0);
        add("crossEntropy normaliser", x -> Functional.crossEntropy(x[0], normalizedTargets, -100, 7f));
        int[] ignoredTargets = constants("crossEntropy all ignored").ints(0);
        add("crossEntropy all ignored", x -> Functional.crossEntropy(x[0], ignoredTargets, -100));
        Constants offset = constants("rope offset");
        Tensor cos = offset.tensor(0);
        Tensor sin = offset.tensor(1);
        add("rope offset", x -> Functional.rope(x[0], cos, sin, 2));
        int[] positionIds = constants("rope positionIds").ints(0);
        add("rope positionIds", x -> Functional.rope(x[0], cos, sin, positionIds));
        float scale = (float) (1 / Math.sqrt(5));
        add("causalAttention", x -> Functional.causalAttention(x[0], x[1], x[2], scale));
        Tensor padding = constants("causalAttention masked").tensor(0);
        add("causalAttention masked", x -> Functional.causalAttention(x[0], x[1], x[2], padding, scale));
        add("causalAttention square", x -> Functional.causalAttention(x[0], x[1], x[2], 0.5f));
        Fixture.Array ids = FIXTURE.get("embedding.i0");
        add("embedding", x -> Functional.embedding(x[0], ids.ints(), ids.shape()));
    }

    static Stream<Case> cases() {
        return CASES.values().stream();
    }

    /** Returns the fixture's inputs of a case as fresh float32 tensors. */
    private static Tensor[] inputs(String name) {
        List<Tensor> out = new ArrayList<>();
        for (int k = 0; FIXTURE.has(name + ".x" + k); k++) {
            Fixture.Array a = FIXTURE.get(name + ".x" + k);
            out.add(Tensor.of(a.floats(), a.shape()));
        }
        assertFalse(out.isEmpty(), name + ": the fixture stores no inputs; regenerate it with make_autograd_fixtures.py");
        return out.toArray(new Tensor[0]);
    }

    /** Returns the shape under which the fixture stores t: numpy writes a 0-d array as shape [1]. */
    private static int[] storedShape(Tensor t) {
        return t.dim() == 0 ? new int[] {1} : t.shape();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesTorch(Case c) {
        Tensor[] leaves = inputs(c.name());
        for (Tensor leaf : leaves) {
            leaf.requiresGrad(true);
        }
        Tensor out = c.op().apply(leaves);

        Fixture.Array expected = FIXTURE.get(c.name() + ".out");
        assertArrayEquals(expected.shape(), storedShape(out), c.name() + ": output shape");
        assertClose(expected.values(), out, ATOL, RTOL, c.name() + ": output");

        Fixture.Array upstream = FIXTURE.get(c.name() + ".upstream");
        assertArrayEquals(upstream.shape(), storedShape(out), c.name() + ": upstream gradient shape");
        out.backward(Tensor.of(upstream.floats(), out.shape()));
        for (int k = 0; k < leaves.length; k++) {
            String what = c.name() + ": gradient of input " + k;
            Fixture.Array dx = FIXTURE.get(c.name() + ".dx" + k);
            assertNotNull(leaves[k].grad(), what + " is missing");
            assertArrayEquals(dx.shape(), leaves[k].grad().shape(), what + ": shape");
            assertClose(dx.values(), leaves[k].grad(), ATOL, RTOL, what);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesFiniteDifferences(Case c) {
        GradCheck.standard().check(c.name(), c.op(), inputs(c.name()));
    }

    @Test
    void everyFixtureCaseIsInTheTable() {
        Set<String> stored = new HashSet<>();
        for (String key : FIXTURE.keys()) {
            if (key.endsWith(".out")) {
                stored.add(key.substring(0, key.length() - ".out".length()));
            }
        }
        assertEquals(stored, CASES.keySet(), "fixture cases and table cases");
        assertEquals(String.valueOf(CASES.size()), FIXTURE.metadata().get("cases"), "case count in the metadata");
    }
}
