package dev.transact4j.tensor;

import static dev.transact4j.tensor.TestSupport.assertClose;
import static dev.transact4j.tensor.TestSupport.broadcastIndex;
import static dev.transact4j.tensor.TestSupport.coords;
import static dev.transact4j.tensor.TestSupport.make;
import static dev.transact4j.tensor.TestSupport.sameAtOneAndTwoThreads;
import static dev.transact4j.tensor.TestSupport.values;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.transact4j.tensor.TestSupport.Layout;
import java.util.Arrays;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class ElementwiseTest {

    private record UnaryCase(String name, Function<Tensor, Tensor> op, DoubleUnaryOperator ref, boolean positiveInput) {
    }

    private record BinaryCase(String name, java.util.function.BiFunction<Tensor, Tensor, Tensor> op,
                              DoubleBinaryOperator ref, boolean positiveBase) {
    }

    private static final UnaryCase[] UNARY = {
        new UnaryCase("neg", Tensor::neg, x -> -x, false),
        new UnaryCase("exp", Tensor::exp, Math::exp, false),
        new UnaryCase("log", Tensor::log, Math::log, true),
        new UnaryCase("sqrt", Tensor::sqrt, Math::sqrt, true),
        new UnaryCase("rsqrt", Tensor::rsqrt, x -> 1 / Math.sqrt(x), true),
        new UnaryCase("abs", Tensor::abs, Math::abs, false),
        new UnaryCase("sigmoid", Tensor::sigmoid, x -> 1 / (1 + Math.exp(-x)), false),
        new UnaryCase("silu", Tensor::silu, x -> x / (1 + Math.exp(-x)), false),
        new UnaryCase("tanh", Tensor::tanh, Math::tanh, false),
        new UnaryCase("relu", Tensor::relu, x -> Math.max(x, 0), false),
        new UnaryCase("add scalar", t -> t.add(0.75f), x -> x + 0.75, false),
        new UnaryCase("mul scalar", t -> t.mul(-1.5f), x -> x * -1.5, false),
        new UnaryCase("pow scalar", t -> t.pow(1.5f), x -> Math.pow(x, 1.5), true),
        new UnaryCase("maximum scalar", t -> t.maximum(0.25f), x -> Math.max(x, 0.25), false),
        new UnaryCase("minimum scalar", t -> t.minimum(0.25f), x -> Math.min(x, 0.25), false),
    };

    private static final BinaryCase[] BINARY = {
        new BinaryCase("add", Tensor::add, Double::sum, false),
        new BinaryCase("sub", Tensor::sub, (a, b) -> a - b, false),
        new BinaryCase("mul", Tensor::mul, (a, b) -> a * b, false),
        new BinaryCase("div", Tensor::div, (a, b) -> a / b, false),
        new BinaryCase("pow", Tensor::pow, Math::pow, true),
        new BinaryCase("maximum", Tensor::maximum, Math::max, false),
        new BinaryCase("minimum", Tensor::minimum, Math::min, false),
    };

    @Test
    void unaryOpsMatchReferenceOnEveryLayout() {
        Rng rng = new Rng(11);
        for (int[] shape : TestSupport.shapes(rng, 6, 70_000)) {
            for (Layout layout : Layout.values()) {
                Tensor x = make(rng, layout, shape);
                Tensor positive = x.abs().add(0.1f);
                for (UnaryCase c : UNARY) {
                    Tensor in = c.positiveInput ? positive : x;
                    String what = c.name + " " + Arrays.toString(shape) + " " + layout;
                    Tensor out = sameAtOneAndTwoThreads(() -> c.op.apply(in), what);
                    double[] expected = Arrays.stream(values(in)).map(c.ref).toArray();
                    assertArrayEquals(shape, out.shape(), what);
                    assertClose(expected, out, 1e-6, 1e-5, what);
                }
            }
        }
    }

    @Test
    void binaryOpsBroadcastAndMatchReference() {
        Rng rng = new Rng(12);
        int[][][] pairs = {
            {{257}, {257}}, {{17, 33}, {33}}, {{17, 33}, {17, 1}}, {{3, 1, 15}, {1, 257, 1}},
            {{1}, {3, 17}}, {{}, {15, 3}}, {{33, 257}, {33, 257}}, {{257, 257}, {257, 1}},
            {{2, 3, 17}, {3, 1}}, {{1, 1}, {1}},
        };
        for (int[][] pair : pairs) {
            for (Layout layout : Layout.values()) {
                Tensor a = make(rng, layout, pair[0]);
                Tensor b = make(rng, Layout.values()[(layout.ordinal() + 1) % 4], pair[1]);
                int[] outShape = Shapes.broadcast("test", pair[0], pair[1]);
                for (BinaryCase c : BINARY) {
                    Tensor base = c.positiveBase ? a.abs().add(0.1f) : a;
                    String what = c.name + " " + Arrays.toString(pair[0]) + " " + Arrays.toString(pair[1]) + " " + layout;
                    Tensor out = sameAtOneAndTwoThreads(() -> c.op.apply(base, b), what);
                    assertArrayEquals(outShape, out.shape(), what);
                    double[] av = values(base);
                    double[] bv = values(b);
                    double[] expected = new double[Shapes.numel(outShape)];
                    for (int i = 0; i < expected.length; i++) {
                        int[] coord = coords(i, outShape);
                        expected[i] = c.ref.applyAsDouble(av[broadcastIndex(coord, pair[0])], bv[broadcastIndex(coord, pair[1])]);
                    }
                    assertClose(expected, out, 1e-6, 1e-5, what);
                }
            }
        }
    }

    @Test
    void inPlaceOpsWriteThroughViews() {
        Rng rng = new Rng(13);
        Tensor base = Tensor.randn(rng, 17, 33);
        Tensor view = base.transpose(0, 1).narrow(0, 3, 15);
        double[] before = values(view);
        Tensor other = Tensor.randn(rng, 17);
        double[] ov = values(other);

        assertSame(view, view.addInPlace(other));
        double[] expected = new double[before.length];
        for (int i = 0; i < expected.length; i++) {
            expected[i] = before[i] + ov[i % 17];
        }
        assertClose(expected, view, 1e-6, 1e-6, "addInPlace on a transposed view");
        // the write reached the storage shared with base
        assertEquals(view.get(0, 0), base.get(0, 3));

        view.mulInPlace(2f).subInPlace(other).divInPlace(Tensor.full(4f, 15, 1));
        for (int i = 0; i < expected.length; i++) {
            expected[i] = (expected[i] * 2 - ov[i % 17]) / 4;
        }
        assertClose(expected, view, 1e-6, 1e-5, "mulInPlace, subInPlace, divInPlace");

        view.fill(0.5f);
        assertClose(new double[before.length], view.sub(0.5f), 0, 0, "fill");
    }

    @Test
    void inPlaceRejectsShapeGrowthAndExpandedViews() {
        Tensor x = Tensor.zeros(3, 1);
        IllegalArgumentException grow = assertThrows(IllegalArgumentException.class, () -> x.addInPlace(Tensor.ones(3, 4)));
        assertEquals("addInPlace: shapes [3, 1] and [3, 4] broadcast to [3, 4], but the result must keep this "
                + "tensor's shape [3, 1]", grow.getMessage());
        Tensor expanded = Tensor.zeros(1, 4).expand(3, 4);
        IllegalArgumentException shared = assertThrows(IllegalArgumentException.class, () -> expanded.mulInPlace(2f));
        assertEquals("mulInPlace: this tensor of shape [3, 4] is an expanded view (dim 0 has stride 0), so several "
                + "elements share one storage location; call contiguous() first", shared.getMessage());
    }

    @Test
    void mismatchedShapesNameOpAndShapes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Tensor.zeros(2, 3).add(Tensor.zeros(4)));
        assertEquals("add: shapes [2, 3] and [4] cannot be broadcast", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(5, 3).mul(Tensor.zeros(4, 1, 2)));
        assertEquals("mul: shapes [5, 3] and [4, 1, 2] cannot be broadcast", e.getMessage());
    }

    @Test
    void specialValuesFollowJavaSemantics() {
        Tensor x = Tensor.of(new float[] {Float.NaN, Float.NEGATIVE_INFINITY, -0f, 0f, Float.POSITIVE_INFINITY, -2f}, 6);
        assertClose(new double[] {Double.NaN, 0, 0, 0, Double.POSITIVE_INFINITY, 0}, x.relu(), 0, 0, "relu");
        assertClose(new double[] {Double.NaN, 0, 0.5, 0.5, 1, 1 / (1 + Math.exp(2))}, x.sigmoid(), 1e-7, 1e-6, "sigmoid");
        assertClose(new double[] {Double.NaN, 0, 1, 1, Double.POSITIVE_INFINITY, Math.exp(-2)}, x.exp(), 1e-7, 1e-6, "exp");
        assertClose(new double[] {Double.NaN, -1, 0, 0, Double.POSITIVE_INFINITY, -1},
                x.maximum(-1f), 0, 0, "maximum keeps NaN");
    }

    @Test
    void whereAndMaskedFillBroadcast() {
        Rng rng = new Rng(14);
        for (Layout layout : Layout.values()) {
            Tensor a = make(rng, layout, 17, 33);
            Tensor b = make(rng, layout, 33);
            Tensor cond = Tensor.randn(rng, 17, 1).maximum(0f);
            Tensor out = sameAtOneAndTwoThreads(() -> Tensor.where(cond, a, b), "where " + layout);
            double[] av = values(a);
            double[] bv = values(b);
            double[] cv = values(cond);
            double[] expected = new double[17 * 33];
            for (int i = 0; i < expected.length; i++) {
                expected[i] = cv[i / 33] != 0 ? av[i] : bv[i % 33];
            }
            assertClose(expected, out, 0, 0, "where " + layout);

            Tensor filled = a.maskedFill(cond, Float.NEGATIVE_INFINITY);
            for (int i = 0; i < expected.length; i++) {
                expected[i] = cv[i / 33] != 0 ? Double.NEGATIVE_INFINITY : av[i];
            }
            assertClose(expected, filled, 0, 0, "maskedFill " + layout);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Tensor.zeros(2, 3).maskedFill(Tensor.zeros(4, 3), 1f));
        assertEquals("maskedFill: shapes [2, 3] and [4, 3] cannot be broadcast", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(3).maskedFill(Tensor.zeros(2, 3), 1f));
        assertEquals("maskedFill: mask of shape [2, 3] cannot be broadcast to the tensor's shape [3]", e.getMessage());
    }
}
