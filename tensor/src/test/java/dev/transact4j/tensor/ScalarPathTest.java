package dev.transact4j.tensor;

import static dev.transact4j.tensor.TestSupport.assertClose;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * Runs the kernels with SIMD switched off, as {@code -Dtransact4j.simd=false} does: the nested
 * classes repeat the element-wise, reduction and softmax suites on the scalar twins, and the
 * direct tests compare both paths.
 */
class ScalarPathTest {

    private final boolean original = Simd.enabled();

    @BeforeEach
    void switchToScalar() {
        Simd.setEnabled(false);
    }

    @AfterEach
    void restore() {
        Simd.setEnabled(original);
    }

    @Test
    void switchIsOff() {
        assertFalse(Simd.enabled());
    }

    @Test
    void elementwiseTwinsAgreeBitForBit() {
        Rng rng = new Rng(61);
        Tensor x = Tensor.randn(rng, 33, 257).mul(30f);
        x.set(Float.NaN, 0, 0);
        x.set(Float.POSITIVE_INFINITY, 0, 1);
        x.set(Float.NEGATIVE_INFINITY, 0, 2);
        x.set(-0f, 0, 3);
        Tensor y = Tensor.randn(rng, 257);
        Tensor positive = x.abs();
        @SuppressWarnings("unchecked")
        Function<Tensor, Tensor>[] ops = new Function[] {
            (Function<Tensor, Tensor>) Tensor::exp, (Function<Tensor, Tensor>) Tensor::sigmoid,
            (Function<Tensor, Tensor>) Tensor::silu, (Function<Tensor, Tensor>) Tensor::tanh,
            (Function<Tensor, Tensor>) Tensor::neg, (Function<Tensor, Tensor>) Tensor::relu,
            (Function<Tensor, Tensor>) Tensor::abs, (Function<Tensor, Tensor>) t -> t.add(y),
            (Function<Tensor, Tensor>) t -> t.mul(y), (Function<Tensor, Tensor>) t -> t.div(y),
            (Function<Tensor, Tensor>) t -> t.sub(y), (Function<Tensor, Tensor>) t -> t.maximum(y),
            (Function<Tensor, Tensor>) t -> t.minimum(y),
        };
        for (int k = 0; k < ops.length; k++) {
            Function<Tensor, Tensor> op = ops[k];
            compare("op " + k, op.apply(x), simd(() -> op.apply(x)));
        }
        compare("log", positive.log(), simd(positive::log));
        compare("sqrt", positive.sqrt(), simd(positive::sqrt));
        compare("rsqrt", positive.rsqrt(), simd(positive::rsqrt));
    }

    @Test
    void reductionTwinsAgreeWithinRounding() {
        Rng rng = new Rng(62);
        Tensor x = Tensor.randn(rng, 17, 33, 257);
        for (int[] dims : new int[][] {{2}, {0}, {0, 1}, {1}, {0, 1, 2}}) {
            Tensor scalar = x.sum(dims, false);
            Tensor simd = simd(() -> x.sum(dims, false));
            assertClose(TestSupport.values(simd), scalar, 2e-4, 1e-5, "sum over " + java.util.Arrays.toString(dims));
        }
        assertClose(TestSupport.values(simd(x::softmax)), x.softmax(), 1e-7, 1e-5, "softmax");
    }

    private static Tensor simd(java.util.function.Supplier<Tensor> op) {
        Simd.setEnabled(true);
        try {
            return op.get();
        } finally {
            Simd.setEnabled(false);
        }
    }

    private static void compare(String what, Tensor scalar, Tensor simd) {
        float[] a = scalar.toArray();
        float[] b = simd.toArray();
        for (int i = 0; i < a.length; i++) {
            if (Float.floatToIntBits(a[i]) != Float.floatToIntBits(b[i])) {
                fail(what + ": element " + i + " is " + a[i] + " on the scalar path, " + b[i] + " with SIMD");
            }
        }
    }

    @Nested
    class ElementwiseOnScalarPath extends ElementwiseTest {
    }

    @Nested
    class ReductionsOnScalarPath extends ReductionTest {
    }

    @Nested
    class SoftmaxOnScalarPath extends SoftmaxTest {
    }
}
