package dev.transact4j.transact;

import dev.transact4j.llama.checkpoint.NamedArray;
import java.util.Arrays;

/**
 * The TransAct activation scorer: per layer and channel, the L2 norm of a transitional activation
 * over every calibration token, {@code sqrt(sum over batch and positions of x^2)}.
 *
 * <p>The two transitional activations are the attention output before {@code o_proj} (the
 * softmax-weighted sum of values, reshaped to {@code [tokens, heads * head_dim]}) and the MLP's
 * {@code act(gate(x)) * up(x)} before {@code down_proj} ({@code [tokens, intermediate_size]}).
 * Sums of squares are accumulated in double.
 *
 * <p>Thread safety: {@link #observe} may be called from several threads at once. Each call sums
 * its rows into a local buffer and adds that buffer under the lock of its (layer, module), so
 * concurrent calls for one layer give the same scores up to the rounding of the addition order.
 */
public final class ActsScorer implements ChannelScorer {

    /** The transitional activation an observation belongs to. */
    public enum Module {
        /** The attention output before {@code o_proj}. */
        ATTENTION,
        /** {@code act(gate(x)) * up(x)} before {@code down_proj}. */
        MLP
    }

    private final int layers;
    private final int attentionWidth;
    private final int mlpWidth;
    private final double[][][] squares;
    private final long[][] tokens;

    /**
     * Creates a scorer for {@code layers} layers of the given widths.
     *
     * @param attentionWidth {@code heads * head_dim}
     * @param mlpWidth       {@code intermediate_size}
     */
    public ActsScorer(int layers, int attentionWidth, int mlpWidth) {
        if (layers < 1 || attentionWidth < 1 || mlpWidth < 1) {
            throw new IllegalArgumentException("ActsScorer: layers, attention width and mlp width must be positive, got "
                    + layers + ", " + attentionWidth + ", " + mlpWidth);
        }
        this.layers = layers;
        this.attentionWidth = attentionWidth;
        this.mlpWidth = mlpWidth;
        this.squares = new double[layers][2][];
        this.tokens = new long[layers][2];
        for (int layer = 0; layer < layers; layer++) {
            squares[layer][Module.ATTENTION.ordinal()] = new double[attentionWidth];
            squares[layer][Module.MLP.ordinal()] = new double[mlpWidth];
        }
    }

    /** Creates a scorer sized for a model. */
    public static ActsScorer forModel(ModelDims dims) {
        return new ActsScorer(dims.layers(), dims.mhaInterSize(), dims.intermediateSize());
    }

    /**
     * Adds the squares of {@code tokenCount} activation rows of one layer.
     *
     * @param rows       row-major {@code [tokenCount, width]} values starting at {@code offset},
     *                   where width is the module's width
     * @throws IllegalArgumentException when the layer is out of range or the rows do not fit
     */
    public void observe(int layer, Module module, float[] rows, int offset, int tokenCount) {
        int width = width(module);
        if (layer < 0 || layer >= layers) {
            throw new IllegalArgumentException("ActsScorer.observe: layer " + layer + " out of range [0, " + layers + ")");
        }
        if (offset < 0 || tokenCount < 0 || (long) offset + (long) tokenCount * width > rows.length) {
            throw new IllegalArgumentException("ActsScorer.observe: " + tokenCount + " rows of width " + width
                    + " from offset " + offset + " do not fit in an array of " + rows.length + " values ("
                    + module + ", layer " + layer + ")");
        }

        // sum this call's rows locally, so the lock is held only for one pass over the width
        double[] local = new double[width];
        for (int t = 0; t < tokenCount; t++) {
            int base = offset + t * width;
            for (int c = 0; c < width; c++) {
                double x = rows[base + c];
                local[c] += x * x;
            }
        }

        double[] target = squares[layer][module.ordinal()];
        synchronized (target) {
            for (int c = 0; c < width; c++) {
                target[c] += local[c];
            }
            tokens[layer][module.ordinal()] += tokenCount;
        }
    }

    /**
     * Adds an activation whose last dimension is the module's width, such as
     * {@code [batch, seq, width]}.
     */
    public void observe(int layer, Module module, NamedArray activation) {
        int[] shape = activation.shape();
        int width = width(module);
        if (shape.length == 0 || shape[shape.length - 1] != width) {
            throw new IllegalArgumentException("ActsScorer.observe: " + module + " activation of layer " + layer
                    + " has shape " + activation.shapeText() + ", expected last dimension " + width);
        }
        observe(layer, module, activation.data(), 0, activation.data().length / width);
    }

    /** Returns how many token rows of {@code module} have been observed for {@code layer}. */
    public long tokens(int layer, Module module) {
        double[] lock = squares[layer][module.ordinal()];
        synchronized (lock) {
            return tokens[layer][module.ordinal()];
        }
    }

    @Override
    public ChannelScores scores() {
        double[][] attention = new double[layers][];
        double[][] mlp = new double[layers][];
        for (int layer = 0; layer < layers; layer++) {
            for (Module module : Module.values()) {
                if (tokens(layer, module) == 0) {
                    throw new IllegalStateException("ActsScorer.scores: no " + module + " activations observed for layer "
                            + layer + "; run the calibration batches through every layer first");
                }
            }
            attention[layer] = norms(squares[layer][Module.ATTENTION.ordinal()]);
            mlp[layer] = norms(squares[layer][Module.MLP.ordinal()]);
        }
        return new ChannelScores(attention, mlp);
    }

    @Override
    public void reset() {
        for (int layer = 0; layer < layers; layer++) {
            for (Module module : Module.values()) {
                double[] target = squares[layer][module.ordinal()];
                synchronized (target) {
                    Arrays.fill(target, 0.0);
                    tokens[layer][module.ordinal()] = 0;
                }
            }
        }
    }

    private int width(Module module) {
        return module == Module.ATTENTION ? attentionWidth : mlpWidth;
    }

    private static double[] norms(double[] sumsOfSquares) {
        double[] out = new double[sumsOfSquares.length];
        synchronized (sumsOfSquares) {
            for (int c = 0; c < out.length; c++) {
                out[c] = Math.sqrt(sumsOfSquares[c]);
            }
        }
        return out;
    }
}
