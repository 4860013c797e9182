package dev.transact4j.nn;

import dev.transact4j.tensor.Functional;
import dev.transact4j.tensor.Rng;
import dev.transact4j.tensor.Tensor;
import java.util.Arrays;

/** Root-mean-square normalisation over the last dim with a learned scale, as Hugging Face's {@code LlamaRMSNorm}. */
public final class RmsNorm extends Module {

    private final Parameter weight;
    private final float eps;

    /**
     * Creates a norm whose weight {@code [dim]} starts at one.
     *
     * @throws IllegalArgumentException when dim is not positive or eps is negative
     */
    public RmsNorm(int dim, float eps) {
        if (dim <= 0 || !(eps >= 0)) {
            throw new IllegalArgumentException("RmsNorm: dim must be positive and eps 0 or more, got dim " + dim
                    + " and eps " + eps);
        }
        this.eps = eps;
        this.weight = registerParameter("weight", Tensor.ones(dim));
    }

    /** Returns {@code weight * x * rsqrt(mean(x^2) + eps)} for x {@code [..., dim]}. */
    public Tensor forward(Tensor x) {
        return Functional.rmsNorm(x, weight.value(), eps);
    }

    public Parameter weight() {
        return weight;
    }

    public float eps() {
        return eps;
    }

    /** Hugging Face initialises the scale to one. */
    @Override
    protected void initParameters(Rng rng, double std) {
        Arrays.fill(weight.data(), 1f);
    }
}
