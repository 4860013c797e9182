package dev.transact4j.transact;

import dev.transact4j.llama.checkpoint.NamedArray;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * First-order Taylor saliency, the ablation scorer of TransAct: per projection weight the
 * accumulated {@code |grad|} over calibration batches times {@code |weight|}, summed per channel.
 *
 * <p>The score of attention channel {@code c = h * head_dim + d} adds row {@code c} of q_proj,
 * row {@code kv(c) = (h / group) * head_dim + d} of k_proj and v_proj, and column {@code c} of
 * o_proj. With grouped-query attention a kv row is therefore counted once for every query head of
 * its group, so group scores (sums over query heads) weigh k and v by the group size. The score
 * of MLP channel {@code c} adds row {@code c} of gate_proj and up_proj and column {@code c} of
 * down_proj.
 *
 * <p>Thread safety: single-threaded. Callers observe the gradients of one batch at a time.
 */
public final class TaylorScorer implements ChannelScorer {

    private final ModelDims dims;
    private final double[][][] gradientSums;
    private final float[][][] weights;
    private final int[][] observations;

    /** Creates a scorer for a model of these dimensions. */
    public TaylorScorer(ModelDims dims) {
        this.dims = dims;
        int projections = Projection.values().length;
        this.gradientSums = new double[dims.layers()][projections][];
        this.weights = new float[dims.layers()][projections][];
        this.observations = new int[dims.layers()][projections];
    }

    /**
     * Adds {@code |gradient|} of one projection weight and records its current weight.
     *
     * @param weight   {@code [out_features, in_features]}, the value the gradient was taken at
     * @param gradient the gradient of the calibration loss with respect to {@code weight}
     * @throws IllegalArgumentException when a shape differs from the one {@link ModelDims} implies
     */
    public void observe(int layer, Projection projection, NamedArray weight, NamedArray gradient) {
        if (layer < 0 || layer >= dims.layers()) {
            throw new IllegalArgumentException("TaylorScorer.observe: layer " + layer + " out of range [0, "
                    + dims.layers() + ")");
        }
        int[] expected = projection.weightShape(dims);
        String name = projection.weightName(layer);
        checkShape(name, "weight", weight, expected);
        checkShape(name, "gradient", gradient, expected);

        int p = projection.ordinal();
        if (gradientSums[layer][p] == null) {
            gradientSums[layer][p] = new double[gradient.data().length];
        }
        double[] sums = gradientSums[layer][p];
        float[] g = gradient.data();
        for (int i = 0; i < g.length; i++) {
            sums[i] += Math.abs((double) g[i]);
        }
        weights[layer][p] = weight.data().clone();
        observations[layer][p]++;
    }

    @Override
    public ChannelScores scores() {
        int headDim = dims.headDim();
        int group = dims.groupSize();
        double[][] attention = new double[dims.layers()][];
        double[][] mlp = new double[dims.layers()][];

        for (int layer = 0; layer < dims.layers(); layer++) {
            requireObserved(layer);
            double[] q = channelSums(layer, Projection.Q_PROJ);
            double[] k = channelSums(layer, Projection.K_PROJ);
            double[] v = channelSums(layer, Projection.V_PROJ);
            double[] o = channelSums(layer, Projection.O_PROJ);
            attention[layer] = new double[dims.mhaInterSize()];
            for (int c = 0; c < dims.mhaInterSize(); c++) {
                int kvChannel = (c / headDim / group) * headDim + c % headDim;
                attention[layer][c] = q[c] + k[kvChannel] + v[kvChannel] + o[c];
            }

            double[] gate = channelSums(layer, Projection.GATE_PROJ);
            double[] up = channelSums(layer, Projection.UP_PROJ);
            double[] down = channelSums(layer, Projection.DOWN_PROJ);
            mlp[layer] = new double[dims.intermediateSize()];
            for (int c = 0; c < dims.intermediateSize(); c++) {
                mlp[layer][c] = gate[c] + up[c] + down[c];
            }
        }
        return new ChannelScores(attention, mlp);
    }

    @Override
    public void reset() {
        for (int layer = 0; layer < dims.layers(); layer++) {
            Arrays.fill(gradientSums[layer], null);
            Arrays.fill(weights[layer], null);
            Arrays.fill(observations[layer], 0);
        }
    }

    /** Sums {@code accumulated |grad| * |weight|} over the pruned side's other dimension. */
    private double[] channelSums(int layer, Projection projection) {
        int[] shape = projection.weightShape(dims);
        int rows = shape[0];
        int cols = shape[1];
        double[] sums = gradientSums[layer][projection.ordinal()];
        float[] w = weights[layer][projection.ordinal()];
        double[] out = new double[projection.rowsArePruned() ? rows : cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                double saliency = sums[r * cols + c] * Math.abs((double) w[r * cols + c]);
                out[projection.rowsArePruned() ? r : c] += saliency;
            }
        }
        return out;
    }

    private void requireObserved(int layer) {
        List<String> missing = new ArrayList<>();
        for (Projection projection : Projection.values()) {
            if (observations[layer][projection.ordinal()] == 0) {
                missing.add(projection.weightName(layer));
            }
        }
        if (!missing.isEmpty()) {
            throw new IllegalStateException("TaylorScorer.scores: no gradient observed for " + missing
                    + "; observe every projection of every layer before scoring");
        }
    }

    private static void checkShape(String name, String role, NamedArray array, int[] expected) {
        if (!Arrays.equals(array.shape(), expected)) {
            throw new IllegalArgumentException("TaylorScorer.observe: " + role + " of " + name + " has shape "
                    + array.shapeText() + ", expected " + Arrays.toString(expected));
        }
    }
}
