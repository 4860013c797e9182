package dev.transact4j.nn;

import dev.transact4j.tensor.Rng;

/** Weight initialisation schemes applied to a whole module tree. */
public final class Initialization {

    /** Hugging Face Llama's default {@code initializer_range}. */
    public static final double LLAMA_INITIALIZER_RANGE = 0.02;

    private Initialization() {
    }

    /**
     * Initialises {@code model} as Hugging Face's {@code LlamaPreTrainedModel._init_weights} does:
     * Linear and Embedding weights normal with mean 0 and standard deviation
     * {@code initializerRange}, biases zero, RMSNorm weights one. Modules are visited in walk order
     * ({@link Module#namedModules()}) and draw from one generator seeded with {@code seed}, so a
     * seed gives the same weights on every machine. The values do not match PyTorch's generator.
     *
     * <p>NOTE: Hugging Face also zeroes the embedding row of {@code pad_token_id}; this does not,
     * because {@link Embedding} has no padding index.
     *
     * @throws IllegalArgumentException when {@code initializerRange} is negative or not finite
     */
    public static void llama(Module model, double initializerRange, long seed) {
        if (!(initializerRange >= 0) || Double.isInfinite(initializerRange)) {
            throw new IllegalArgumentException("Initialization.llama: initializer_range must be finite and 0 or more, got "
                    + initializerRange);
        }
        Rng rng = new Rng(seed);
        for (Module m : model.namedModules().values()) {
            m.initParameters(rng, initializerRange);
        }
    }
}
