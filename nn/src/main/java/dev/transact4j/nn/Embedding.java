package dev.transact4j.nn;

import dev.transact4j.tensor.Functional;
import dev.transact4j.tensor.Rng;
import dev.transact4j.tensor.Tensor;

/** A lookup table {@code weight [num, dim]} whose rows embed token ids, as {@code torch.nn.Embedding}. */
public final class Embedding extends Module {

    private final Parameter weight;

    /**
     * Creates a table of zeros (call {@link Initialization} or load a state dict).
     *
     * @throws IllegalArgumentException when a size is not positive
     */
    public Embedding(int numEmbeddings, int embeddingDim) {
        if (numEmbeddings <= 0 || embeddingDim <= 0) {
            throw new IllegalArgumentException("Embedding: sizes must be positive, got " + numEmbeddings
                    + " embeddings of dim " + embeddingDim);
        }
        this.weight = registerParameter("weight", Tensor.zeros(numEmbeddings, embeddingDim));
    }

    /**
     * Returns the rows of the table at {@code ids}, shaped {@code [idsShape..., dim]}; an empty
     * {@code idsShape} means {@code [ids.length]}.
     *
     * @throws IllegalArgumentException when an id is out of range or the shape does not hold the ids
     */
    public Tensor forward(int[] ids, int... idsShape) {
        return Functional.embedding(weight.value(), ids, idsShape);
    }

    public Parameter weight() {
        return weight;
    }

    /** Hugging Face Llama's {@code _init_weights}: normal(0, std). */
    @Override
    protected void initParameters(Rng rng, double std) {
        fillNormal(weight, rng, std);
    }
}
