package dev.transact4j.nn.optim;

import dev.transact4j.tensor.Parallel;
import java.util.List;

/** Gradient clipping by the global L2 norm, as torch.nn.utils.clip_grad_norm_ does. */
public final class GradientClipping {

    /** Torch's guard against division by zero in the clip coefficient {@code max / (norm + 1e-6)}. */
    public static final double EPSILON = 1e-6;

    /** Elements per block of the norm; fixed, so the sum does not depend on the thread count. */
    private static final int BLOCK = 1 << 16;

    private GradientClipping() {
    }

    /**
     * Returns the L2 norm of all {@code grads} taken together, accumulated in double. Blocks of
     * {@value #BLOCK} elements are summed in parallel and their sums added in order.
     */
    public static double globalNorm(List<float[]> grads) {
        double sum = 0;
        for (float[] g : grads) {
            int blocks = (g.length + BLOCK - 1) / BLOCK;
            double[] partial = new double[blocks];
            Parallel.forRange(0, blocks, 1, (first, last) -> {
                for (int b = first; b < last; b++) {
                    int from = b * BLOCK;
                    partial[b] = OptimizerKernels.sumOfSquares(g, from, Math.min(g.length, from + BLOCK));
                }
            });
            for (double s : partial) {
                sum += s;
            }
        }
        return Math.sqrt(sum);
    }

    /**
     * Scales {@code grads} in place so their global L2 norm is at most {@code maxNorm}, and returns
     * the norm before clipping. The factor is {@code maxNorm / (norm + 1e-6)} in float32 when that
     * is below 1, as in torch. When the norm is NaN or infinite the gradients are left unchanged (torch would
     * fill them with NaN or zeros), so the caller can check the returned norm and skip the step.
     *
     * @throws IllegalArgumentException when {@code maxNorm} is not positive
     */
    public static double clipGradNorm(List<float[]> grads, double maxNorm) {
        if (!(maxNorm > 0)) {
            throw new IllegalArgumentException("clipGradNorm: maxNorm must be positive, got " + maxNorm);
        }
        double norm = globalNorm(grads);
        if (!Double.isFinite(norm)) {
            return norm;
        }
        // Torch forms the coefficient from float32 tensors, so it is rounded the same way here.
        float factor = (float) maxNorm / ((float) norm + (float) EPSILON);
        if (factor < 1f) {
            for (float[] g : grads) {
                Parallel.forRange(0, g.length, BLOCK, (from, to) -> OptimizerKernels.scale(g, from, to, factor));
            }
        }
        return norm;
    }
}
