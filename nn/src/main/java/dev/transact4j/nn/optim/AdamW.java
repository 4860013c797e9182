package dev.transact4j.nn.optim;

import dev.transact4j.tensor.Parallel;
import java.util.List;

/**
 * AdamW (Loshchilov and Hutter, "Decoupled Weight Decay Regularization") with torch.optim.AdamW's
 * semantics and defaults: betas (0.9, 0.999), eps 1e-8, weight decay 0.01, and bias correction.
 *
 * <p>The optimiser holds only hyperparameters; the moments and the step count live in an
 * {@link AdamWState}, and the learning rate is passed to each step, so a schedule can set it.
 */
public final class AdamW {

    public static final double DEFAULT_BETA1 = 0.9;
    public static final double DEFAULT_BETA2 = 0.999;
    public static final double DEFAULT_EPS = 1e-8;
    public static final double DEFAULT_WEIGHT_DECAY = 0.01;

    /** Elements per parallel chunk: below this a step stays on the calling thread. */
    private static final int GRAIN = 1 << 15;

    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;

    /** Creates AdamW with torch's defaults. */
    public AdamW() {
        this(DEFAULT_BETA1, DEFAULT_BETA2, DEFAULT_EPS, DEFAULT_WEIGHT_DECAY);
    }

    /**
     * Creates AdamW with the given hyperparameters.
     *
     * @throws IllegalArgumentException when a beta is outside [0, 1) or eps or the weight decay is
     *     negative, the values torch rejects
     */
    public AdamW(double beta1, double beta2, double eps, double weightDecay) {
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("AdamW: betas must be in [0, 1), got (" + beta1 + ", " + beta2 + ")");
        }
        if (!(eps >= 0)) {
            throw new IllegalArgumentException("AdamW: eps must be 0 or more, got " + eps);
        }
        if (!(weightDecay >= 0)) {
            throw new IllegalArgumentException("AdamW: weight decay must be 0 or more, got " + weightDecay);
        }
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
    }

    public double beta1() {
        return beta1;
    }

    public double beta2() {
        return beta2;
    }

    public double eps() {
        return eps;
    }

    public double weightDecay() {
        return weightDecay;
    }

    /**
     * Takes one step with learning rate {@code lr}: advances the step count, then updates every
     * parameter in place from its gradient and moments.
     *
     * @throws IllegalArgumentException when the lists or array lengths do not match the state
     */
    public void step(List<float[]> params, List<float[]> grads, AdamWState state, double lr) {
        checkSizes("AdamW", params, grads, state.size());
        for (int i = 0; i < params.size(); i++) {
            if (state.expAvg(i).length != params.get(i).length) {
                throw new IllegalArgumentException("AdamW.step: parameter " + i + " has " + params.get(i).length
                        + " elements but its state has " + state.expAvg(i).length);
            }
        }
        state.advance();
        OptimizerKernels.AdamWFactors factors =
                OptimizerKernels.AdamWFactors.of(state.step(), lr, beta1, beta2, eps, weightDecay);
        for (int i = 0; i < params.size(); i++) {
            float[] p = params.get(i);
            float[] g = grads.get(i);
            float[] m = state.expAvg(i);
            float[] v = state.expAvgSq(i);
            Parallel.forRange(0, p.length, GRAIN, (from, to) -> OptimizerKernels.adamw(p, g, m, v, from, to, factors));
        }
    }

    /** Checks that params and grads pair up, one per state entry, with equal lengths. */
    static void checkSizes(String optimizer, List<float[]> params, List<float[]> grads, int stateSize) {
        if (params.size() != grads.size() || params.size() != stateSize) {
            throw new IllegalArgumentException(optimizer + ".step: " + params.size() + " parameters, " + grads.size()
                    + " gradients and a state for " + stateSize + " parameters; all three must match");
        }
        for (int i = 0; i < params.size(); i++) {
            if (params.get(i).length != grads.get(i).length) {
                throw new IllegalArgumentException(optimizer + ".step: parameter " + i + " has " + params.get(i).length
                        + " elements but its gradient has " + grads.get(i).length);
            }
        }
    }
}
