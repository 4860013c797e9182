package dev.transact4j.tensor.testing;

import dev.transact4j.tensor.GradMode;
import dev.transact4j.tensor.Rng;
import dev.transact4j.tensor.Tensor;
import java.util.Arrays;
import java.util.function.Function;

/**
 * Checks the gradients that {@link Tensor#backward(Tensor)} computes against central finite
 * differences.
 *
 * <p>The objective is {@code L = sum(f(inputs) * w)} for a fixed random {@code w}, accumulated in
 * double, so that every output element contributes with its own weight. Each checked input element
 * {@code x} is moved to {@code x + eps} and {@code x - eps} (as rounded to float), and the slope
 * {@code (L+ - L-) / (x+ - x-)} must match the analytic gradient within {@code atol + rtol * |g|}.
 */
public final class GradCheck {

    /** Elements checked per input at most; larger inputs are sampled with a fixed seed. */
    private static final int MAX_CHECKED = 48;

    private final double eps;
    private final double atol;
    private final double rtol;

    private GradCheck(double eps, double atol, double rtol) {
        this.eps = eps;
        this.atol = atol;
        this.rtol = rtol;
    }

    /** Returns a checker with step {@code eps} and tolerance {@code atol + rtol * |gradient|}. */
    public static GradCheck of(double eps, double atol, double rtol) {
        return new GradCheck(eps, atol, rtol);
    }

    /** Returns the default checker: step 1e-2, tolerance 2e-3 + 1e-2 |gradient|, suited to float32 ops. */
    public static GradCheck standard() {
        return new GradCheck(1e-2, 2e-3, 1e-2);
    }

    /**
     * Checks every input of {@code f}. The inputs must be contiguous leaves; this sets their
     * {@code requiresGrad} and clears their gradients.
     *
     * @throws AssertionError naming the input, the element, both gradients and the tolerance
     */
    public void check(String what, Function<Tensor[], Tensor> f, Tensor... inputs) {
        for (Tensor x : inputs) {
            if (!x.isContiguous() || !x.isLeaf()) {
                throw new IllegalArgumentException("GradCheck: inputs must be contiguous leaves, got shape "
                        + Arrays.toString(x.shape()));
            }
            x.requiresGrad(true);
            x.zeroGrad();
        }

        // analytic: backward with the weights as the output gradient
        Tensor out = f.apply(inputs);
        Tensor weights = Tensor.randn(new Rng(0x5eed), out.shape());
        out.backward(weights);
        float[] w = weights.toArray();

        // numeric: central differences of the double objective
        Rng sampler = new Rng(7);
        for (int k = 0; k < inputs.length; k++) {
            Tensor x = inputs[k];
            float[] data = x.data();
            int n = x.numel();
            float[] grad = x.grad() == null ? new float[n] : x.grad().toArray();
            int checks = Math.min(n, MAX_CHECKED);
            for (int c = 0; c < checks; c++) {
                int e = n <= MAX_CHECKED ? c : sampler.nextInt(n);
                int at = x.offset() + e;
                float original = data[at];
                float up = (float) (original + eps);
                float down = (float) (original - eps);
                data[at] = up;
                double plus = objective(f, inputs, w);
                data[at] = down;
                double minus = objective(f, inputs, w);
                data[at] = original;
                double numeric = (plus - minus) / ((double) up - down);
                double analytic = grad[e];
                if (!(Math.abs(numeric - analytic) <= atol + rtol * Math.abs(numeric))) {
                    throw new AssertionError(what + ": gradient of input " + k + " (shape " + Arrays.toString(x.shape())
                            + ") at element " + e + " is " + analytic + " by backward, " + numeric
                            + " by finite differences (eps " + eps + ", atol " + atol + ", rtol " + rtol + ")");
                }
            }
        }
    }

    private static double objective(Function<Tensor[], Tensor> f, Tensor[] inputs, float[] w) {
        try (GradMode.Scope scope = GradMode.noGrad()) {
            float[] y = f.apply(inputs).toArray();
            double sum = 0;
            for (int i = 0; i < y.length; i++) {
                sum += (double) y[i] * w[i];
            }
            return sum;
        }
    }
}
