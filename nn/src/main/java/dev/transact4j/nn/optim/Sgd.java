package dev.transact4j.nn.optim;

import dev.transact4j.tensor.Parallel;
import java.util.List;

/**
 * Stochastic gradient descent with torch.optim.SGD's semantics: L2 weight decay added to the
 * gradient, optional momentum with dampening, and optional Nesterov momentum.
 */
public final class Sgd {

    private static final int GRAIN = 1 << 15;

    private final double momentum;
    private final double dampening;
    private final double weightDecay;
    private final boolean nesterov;

    /**
     * Creates SGD.
     *
     * @throws IllegalArgumentException for a negative momentum or weight decay, or Nesterov
     *     without momentum or with dampening, which torch rejects
     */
    public Sgd(double momentum, double dampening, double weightDecay, boolean nesterov) {
        if (!(momentum >= 0)) {
            throw new IllegalArgumentException("Sgd: momentum must be 0 or more, got " + momentum);
        }
        if (!(weightDecay >= 0)) {
            throw new IllegalArgumentException("Sgd: weight decay must be 0 or more, got " + weightDecay);
        }
        if (nesterov && (momentum <= 0 || dampening != 0)) {
            throw new IllegalArgumentException("Sgd: Nesterov momentum requires momentum > 0 and dampening 0, got momentum "
                    + momentum + " and dampening " + dampening);
        }
        this.momentum = momentum;
        this.dampening = dampening;
        this.weightDecay = weightDecay;
        this.nesterov = nesterov;
    }

    /** Creates plain SGD: no momentum and no weight decay. */
    public Sgd() {
        this(0, 0, 0, false);
    }

    /**
     * Takes one step with learning rate {@code lr}, updating every parameter in place.
     *
     * @throws IllegalArgumentException when the lists or array lengths do not match the state
     */
    public void step(List<float[]> params, List<float[]> grads, SgdState state, double lr) {
        AdamW.checkSizes("Sgd", params, grads, state.size());
        if (momentum != 0) {
            for (int i = 0; i < params.size(); i++) {
                if (state.momentumBuffer(i).length != params.get(i).length) {
                    throw new IllegalArgumentException("Sgd.step: parameter " + i + " has " + params.get(i).length
                            + " elements but its momentum buffer has " + state.momentumBuffer(i).length);
                }
            }
        }
        boolean firstStep = state.step() == 0;
        state.advance();
        for (int i = 0; i < params.size(); i++) {
            float[] p = params.get(i);
            float[] g = grads.get(i);
            float[] buf = state.momentumBuffer(i);
            Parallel.forRange(0, p.length, GRAIN, (from, to) -> OptimizerKernels.sgd(p, g, buf, from, to,
                    (float) lr, (float) momentum, (float) dampening, (float) weightDecay, nesterov, firstStep));
        }
    }
}
