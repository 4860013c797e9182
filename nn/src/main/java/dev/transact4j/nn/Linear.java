package dev.transact4j.nn;

import dev.transact4j.tensor.Functional;
import dev.transact4j.tensor.Rng;
import dev.transact4j.tensor.Tensor;

/**
 * A fully connected layer {@code y = x W^T + b}, as {@code torch.nn.Linear}: parameters
 * {@code weight [out, in]} and, when enabled, {@code bias [out]}.
 */
public final class Linear extends Module {

    private final int inFeatures;
    private final int outFeatures;
    private Parameter weight;
    private final Parameter bias;

    /**
     * Creates a layer with zero weights (call {@link Initialization} or load a state dict).
     *
     * @throws IllegalArgumentException when a size is not positive
     */
    public Linear(int inFeatures, int outFeatures, boolean bias) {
        if (inFeatures <= 0 || outFeatures <= 0) {
            throw new IllegalArgumentException("Linear: sizes must be positive, got in " + inFeatures
                    + " and out " + outFeatures);
        }
        this.inFeatures = inFeatures;
        this.outFeatures = outFeatures;
        this.weight = registerParameter("weight", Tensor.zeros(outFeatures, inFeatures));
        this.bias = bias ? registerParameter("bias", Tensor.zeros(outFeatures)) : null;
    }

    /** Returns {@code x W^T + b} for x {@code [..., in]}, shaped {@code [..., out]}. */
    public Tensor forward(Tensor x) {
        return Functional.linear(x, weight.value(), bias == null ? null : bias.value());
    }

    /**
     * Returns {@code layers[i].forward(x)} for every i, the way {@link Functional#linears} computes
     * them: for one row outside autograd, all in one parallel loop.
     *
     * @throws IllegalArgumentException when x does not fit a layer's input size
     */
    public static Tensor[] forwardAll(Tensor x, Linear... layers) {
        Tensor[] weights = new Tensor[layers.length];
        Tensor[] biases = new Tensor[layers.length];
        for (int i = 0; i < layers.length; i++) {
            weights[i] = layers[i].weight.value();
            biases[i] = layers[i].bias == null ? null : layers[i].bias.value();
        }
        return Functional.linears(x, weights, biases);
    }

    /**
     * Makes this layer use {@code shared} as its weight, as a language-model head tied to the
     * input embedding does ({@code tie_word_embeddings}).
     *
     * @throws IllegalArgumentException when the shared parameter is not {@code [out, in]}
     */
    public void tieWeight(Parameter shared) {
        if (shared.shape().length != 2 || shared.shape()[0] != outFeatures || shared.shape()[1] != inFeatures) {
            throw new IllegalArgumentException("Linear.tieWeight: expected a parameter of shape [" + outFeatures
                    + ", " + inFeatures + "], got " + java.util.Arrays.toString(shared.shape()));
        }
        replaceParameter("weight", shared);
        weight = shared;
    }

    public Parameter weight() {
        return weight;
    }

    /** Returns the bias, or null when the layer has none. */
    public Parameter bias() {
        return bias;
    }

    public int inFeatures() {
        return inFeatures;
    }

    public int outFeatures() {
        return outFeatures;
    }

    /** Hugging Face Llama's {@code _init_weights}: weight normal(0, std), bias zero. */
    @Override
    protected void initParameters(Rng rng, double std) {
        fillNormal(weight, rng, std);
        if (bias != null) {
            java.util.Arrays.fill(bias.data(), 0f);
        }
    }
}
