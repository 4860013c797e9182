package dev.transact4j.tensor.testing;

import dev.transact4j.tensor.GradMode;
import dev.transact4j.tensor.Tensor;
import java.util.Arrays;
import java.util.Random;
import java.util.function.Function;

/**
 * Checks an analytic gradient against central finite differences.
 *
 * <p>The function under test maps input arrays to output arrays. The check draws a fixed random
 * weight {@code w} (uniform in [-1, 1), seeded) for every output element, evaluates the scalar
 * objective {@code L = sum(out * w)} accumulated in double, and compares the analytic gradient
 * {@code dL/dx}, which the caller computes from the inputs and the upstream gradient {@code w}, with
 * {@code (L(x + h) - L(x - h)) / (2h)} for every element of every checked input. An element passes
 * when {@code |analytic - numeric| <= atol + rtol * |numeric|}. Output elements that are not finite
 * at the unperturbed inputs (such as the {@code -Infinity} log-sum-exp of a fully masked row) get
 * weight 0 and are left out of L.
 *
 * <p>The step is relative: {@code h = step * max(1, |x|)}. For float32 functions the perturbed
 * input is rounded to float and the difference quotient divides by the step actually taken.
 *
 * <p>Float32 defaults ({@link #FLOAT_STEP}, {@link #FLOAT_ATOL}, {@link #FLOAT_RTOL}): a step of
 * 1e-2 balances the truncation error of the central difference (about {@code h^2 / 6 * f'''},
 * 2e-5 for third derivatives of order 1) against float32 rounding in the outputs (about
 * {@code 6e-8 * |out| / (2h)} per affected output element, 3e-6 for outputs of order 1), so
 * 1e-3 absolute plus 1e-2 relative holds for inputs and outputs of order 1 with a margin for
 * outputs that depend on many inputs. Double defaults use a step of 1e-6 and tolerances of 1e-7
 * absolute and 1e-6 relative.
 *
 * <p>Tensor ops are checked through an instance ({@link #standard()} or {@link #of}) whose
 * {@link #check(String, Function, Tensor...)} runs the op forward and through
 * {@link Tensor#backward(Tensor)}, and compares with the same finite differences.
 */
public final class GradCheck {

    /** Default relative step for float32 functions. */
    public static final double FLOAT_STEP = 1e-2;
    /** Default absolute tolerance for float32 functions. */
    public static final double FLOAT_ATOL = 1e-3;
    /** Default relative tolerance for float32 functions. */
    public static final double FLOAT_RTOL = 1e-2;
    /** Default relative step for double functions. */
    public static final double DOUBLE_STEP = 1e-6;
    /** Default absolute tolerance for double functions. */
    public static final double DOUBLE_ATOL = 1e-7;
    /** Default relative tolerance for double functions. */
    public static final double DOUBLE_RTOL = 1e-6;


    private final double step;
    private final double atol;
    private final double rtol;

    private GradCheck(double step, double atol, double rtol) {
        this.step = step;
        this.atol = atol;
        this.rtol = rtol;
    }

    /** Returns a tensor checker with relative step {@code step} and tolerance {@code atol + rtol * |numeric|}. */
    public static GradCheck of(double step, double atol, double rtol) {
        return new GradCheck(step, atol, rtol);
    }

    /** Returns the tensor checker with the float32 defaults. */
    public static GradCheck standard() {
        return new GradCheck(FLOAT_STEP, FLOAT_ATOL, FLOAT_RTOL);
    }

    /**
     * Checks the gradient that autograd computes for every input of {@code f}. The inputs must be
     * contiguous tensors; they are copied, so the caller's tensors are left unchanged.
     *
     * @throws AssertionError naming the op, input, element, analytic and numeric values of the
     *                        first element outside the tolerance
     */
    public Result check(String what, Function<Tensor[], Tensor> f, Tensor... inputs) {
        int[][] shapes = new int[inputs.length][];
        float[][] values = new float[inputs.length][];
        for (int i = 0; i < inputs.length; i++) {
            if (!inputs[i].isContiguous()) {
                throw new IllegalArgumentException("GradCheck " + what + ": input " + i + " of shape "
                        + Arrays.toString(inputs[i].shape()) + " must be contiguous; call contiguous() first");
            }
            shapes[i] = inputs[i].shape();
            values[i] = inputs[i].toArray();
        }
        FloatFunction forward = xs -> {
            try (GradMode.Scope scope = GradMode.noGrad()) {
                return new float[][] {f.apply(leaves(xs, shapes, false)).toArray()};
            }
        };
        FloatGradient backward = (xs, upstream) -> {
            Tensor[] leaves = leaves(xs, shapes, true);
            Tensor out = f.apply(leaves);
            out.backward(Tensor.of(upstream[0], out.shape()));
            float[][] grads = new float[leaves.length][];
            for (int i = 0; i < leaves.length; i++) {
                grads[i] = leaves[i].grad() == null ? new float[xs[i].length] : leaves[i].grad().toArray();
            }
            return grads;
        };
        return checkFloat(what, forward, backward, values, 0x5eedL, step, atol, rtol);
    }

    private static Tensor[] leaves(float[][] values, int[][] shapes, boolean requiresGrad) {
        Tensor[] leaves = new Tensor[values.length];
        for (int i = 0; i < values.length; i++) {
            leaves[i] = Tensor.of(values[i].clone(), shapes[i]).requiresGrad(requiresGrad);
        }
        return leaves;
    }

    /** A float32 function under test; it must not modify its inputs. */
    @FunctionalInterface
    public interface FloatFunction {
        float[][] apply(float[][] inputs);
    }

    /**
     * The analytic gradient of a {@link FloatFunction}: given the inputs and one upstream gradient
     * per output (same shapes as the outputs), returns one gradient per input, or null for an
     * input that is not checked (such as an index array passed as floats or a constant table).
     */
    @FunctionalInterface
    public interface FloatGradient {
        float[][] apply(float[][] inputs, float[][] upstream);
    }

    /** A double-precision function under test; it must not modify its inputs. */
    @FunctionalInterface
    public interface DoubleFunction {
        double[][] apply(double[][] inputs);
    }

    /** The analytic gradient of a {@link DoubleFunction}, as {@link FloatGradient}. */
    @FunctionalInterface
    public interface DoubleGradient {
        double[][] apply(double[][] inputs, double[][] upstream);
    }

    /**
     * Summary of a passed check: how many elements were compared, the largest absolute error and
     * the largest error as a fraction of the allowed error (below 1 when passed).
     */
    public record Result(int checked, double maxAbsError, double maxErrorRatio) {
    }

    /** Checks a float32 function with the float32 default step and tolerances. */
    public static Result checkFloat(String name, FloatFunction f, FloatGradient gradient, float[][] inputs, long seed) {
        return checkFloat(name, f, gradient, inputs, seed, FLOAT_STEP, FLOAT_ATOL, FLOAT_RTOL);
    }

    /**
     * Checks a float32 function.
     *
     * @throws AssertionError naming the function, input, element, analytic and numeric values of
     *                        the first element outside the tolerance
     */
    public static Result checkFloat(String name, FloatFunction f, FloatGradient gradient, float[][] inputs, long seed,
                                    double step, double atol, double rtol) {
        float[][] x = copy(inputs);
        float[][] out = f.apply(copy(x));
        double[][] w = weights(out, seed);
        float[][] upstream = new float[w.length][];
        for (int o = 0; o < w.length; o++) {
            upstream[o] = new float[w[o].length];
            for (int e = 0; e < w[o].length; e++) {
                upstream[o][e] = (float) w[o][e];
            }
        }
        float[][] analytic = gradient.apply(copy(x), upstream);
        checkGradientShapes(name, analytic, x.length);

        Stats stats = new Stats();
        for (int a = 0; a < x.length; a++) {
            if (analytic[a] == null) {
                continue;
            }
            requireLength(name, a, analytic[a].length, x[a].length);
            for (int e = 0; e < x[a].length; e++) {
                float original = x[a][e];
                double h = step * Math.max(1.0, Math.abs(original));
                float plus = (float) (original + h);
                float minus = (float) (original - h);
                x[a][e] = plus;
                double lp = objective(f.apply(copy(x)), w);
                x[a][e] = minus;
                double lm = objective(f.apply(copy(x)), w);
                x[a][e] = original;
                double numeric = (lp - lm) / ((double) plus - (double) minus);
                stats.compare(name, a, e, analytic[a][e], numeric, atol, rtol);
            }
        }
        return stats.result();
    }

    /** Checks a double function with the double default step and tolerances. */
    public static Result checkDouble(String name, DoubleFunction f, DoubleGradient gradient, double[][] inputs,
                                     long seed) {
        return checkDouble(name, f, gradient, inputs, seed, DOUBLE_STEP, DOUBLE_ATOL, DOUBLE_RTOL);
    }

    /**
     * Checks a double function.
     *
     * @throws AssertionError as {@link #checkFloat}
     */
    public static Result checkDouble(String name, DoubleFunction f, DoubleGradient gradient, double[][] inputs,
                                     long seed, double step, double atol, double rtol) {
        double[][] x = copy(inputs);
        double[][] out = f.apply(copy(x));
        double[][] w = weights(out, seed);
        double[][] analytic = gradient.apply(copy(x), copy(w));
        if (analytic == null || analytic.length != x.length) {
            throw new AssertionError(name + ": the gradient function must return one array (or null) per input, "
                    + x.length + " in all");
        }

        Stats stats = new Stats();
        for (int a = 0; a < x.length; a++) {
            if (analytic[a] == null) {
                continue;
            }
            requireLength(name, a, analytic[a].length, x[a].length);
            for (int e = 0; e < x[a].length; e++) {
                double original = x[a][e];
                double h = step * Math.max(1.0, Math.abs(original));
                x[a][e] = original + h;
                double lp = objective(f.apply(copy(x)), w);
                x[a][e] = original - h;
                double lm = objective(f.apply(copy(x)), w);
                x[a][e] = original;
                double numeric = (lp - lm) / (2 * h);
                stats.compare(name, a, e, analytic[a][e], numeric, atol, rtol);
            }
        }
        return stats.result();
    }

    private static final class Stats {
        private int checked;
        private double maxAbs;
        private double maxRatio;

        void compare(String name, int input, int element, double analytic, double numeric, double atol, double rtol) {
            double error = Math.abs(analytic - numeric);
            double allowed = atol + rtol * Math.abs(numeric);
            if (!(error <= allowed)) {
                throw new AssertionError(String.format(
                        "%s: gradient of input %d, element %d: analytic %.9g, central difference %.9g, "
                                + "error %.3g > allowed %.3g (atol + rtol * |numeric|)",
                        name, input, element, analytic, numeric, error, allowed));
            }
            checked++;
            maxAbs = Math.max(maxAbs, error);
            maxRatio = Math.max(maxRatio, error / allowed);
        }

        Result result() {
            return new Result(checked, maxAbs, maxRatio);
        }
    }

    private static double[][] weights(float[][] out, long seed) {
        double[][] w = new double[out.length][];
        Random random = new Random(seed);
        for (int o = 0; o < out.length; o++) {
            w[o] = new double[out[o].length];
            for (int e = 0; e < w[o].length; e++) {
                double r = 2 * random.nextDouble() - 1;
                w[o][e] = Float.isFinite(out[o][e]) ? r : 0.0;
            }
        }
        return w;
    }

    private static double[][] weights(double[][] out, long seed) {
        double[][] w = new double[out.length][];
        Random random = new Random(seed);
        for (int o = 0; o < out.length; o++) {
            w[o] = new double[out[o].length];
            for (int e = 0; e < w[o].length; e++) {
                double r = 2 * random.nextDouble() - 1;
                w[o][e] = Double.isFinite(out[o][e]) ? r : 0.0;
            }
        }
        return w;
    }

    private static double objective(float[][] out, double[][] w) {
        double sum = 0.0;
        for (int o = 0; o < w.length; o++) {
            for (int e = 0; e < w[o].length; e++) {
                if (w[o][e] != 0.0) {
                    sum += out[o][e] * w[o][e];
                }
            }
        }
        return sum;
    }

    private static double objective(double[][] out, double[][] w) {
        double sum = 0.0;
        for (int o = 0; o < w.length; o++) {
            for (int e = 0; e < w[o].length; e++) {
                if (w[o][e] != 0.0) {
                    sum += out[o][e] * w[o][e];
                }
            }
        }
        return sum;
    }

    private static void checkGradientShapes(String name, float[][] analytic, int inputs) {
        if (analytic == null || analytic.length != inputs) {
            throw new AssertionError(name + ": the gradient function must return one array (or null) per input, "
                    + inputs + " in all");
        }
    }

    private static void requireLength(String name, int input, int gradientLength, int inputLength) {
        if (gradientLength != inputLength) {
            throw new AssertionError(name + ": gradient of input " + input + " has " + gradientLength
                    + " elements but the input has " + inputLength);
        }
    }

    private static float[][] copy(float[][] arrays) {
        float[][] out = new float[arrays.length][];
        for (int i = 0; i < arrays.length; i++) {
            out[i] = arrays[i] == null ? null : arrays[i].clone();
        }
        return out;
    }

    private static double[][] copy(double[][] arrays) {
        double[][] out = new double[arrays.length][];
        for (int i = 0; i < arrays.length; i++) {
            out[i] = arrays[i] == null ? null : arrays[i].clone();
        }
        return out;
    }
}
