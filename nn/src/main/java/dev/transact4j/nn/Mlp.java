package dev.transact4j.nn;

import dev.transact4j.tensor.Functional;
import dev.transact4j.tensor.Tensor;

/**
 * The SwiGLU feed-forward block of Llama, {@code down_proj(silu(gate_proj(x)) * up_proj(x))}, with
 * Hugging Face's child names {@code gate_proj}, {@code up_proj} and {@code down_proj}.
 */
public final class Mlp extends Module {

    private final Linear gateProj;
    private final Linear upProj;
    private final Linear downProj;

    /** Creates the block for {@code hidden_size} and {@code intermediate_size}, with biases when {@code mlp_bias}. */
    public Mlp(int hiddenSize, int intermediateSize, boolean bias) {
        this.gateProj = registerModule("gate_proj", new Linear(hiddenSize, intermediateSize, bias));
        this.upProj = registerModule("up_proj", new Linear(hiddenSize, intermediateSize, bias));
        this.downProj = registerModule("down_proj", new Linear(intermediateSize, hiddenSize, bias));
    }

    /** Returns the block's output for x {@code [..., hidden]}, shaped like x. */
    public Tensor forward(Tensor x) {
        Tensor[] gateUp = Linear.forwardAll(x, gateProj, upProj);
        return downProj.forward(Functional.swiglu(gateUp[0], gateUp[1]));
    }

    public Linear gateProj() {
        return gateProj;
    }

    public Linear upProj() {
        return upProj;
    }

    public Linear downProj() {
        return downProj;
    }
}
