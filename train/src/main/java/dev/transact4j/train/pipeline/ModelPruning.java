package dev.transact4j.train.pipeline;

import dev.transact4j.llama.LlamaForCausalLM;
import dev.transact4j.nn.Parameter;
import dev.transact4j.tensor.Tensor;
import dev.transact4j.transact.ChannelScores;
import dev.transact4j.transact.NamedArray;
import dev.transact4j.transact.PruningStep;
import java.util.LinkedHashMap;
import java.util.Map;

/** Applies one {@link PruningStep} to a live model and builds the pruned model. */
public final class ModelPruning {

    /** The pruned model and the step that produced it (plan, config, report). */
    public record Result(LlamaForCausalLM model, PruningStep.Result step) {
    }

    private ModelPruning() {
    }

    /**
     * Prunes {@code model} by one shot. The input model is not modified: its parameters are read as
     * a state dict, the surgeon cuts copies, and the new model takes the cut arrays.
     */
    public static Result prune(LlamaForCausalLM model, ChannelScores scores, PruningStep.Options options) {
        Map<String, NamedArray> state = new LinkedHashMap<>();
        for (Map.Entry<String, Parameter> entry : model.namedParameters().entrySet()) {
            state.put(entry.getKey(), new NamedArray(entry.getValue().data(), entry.getValue().shape()));
        }
        PruningStep.Result step = PruningStep.run(model.config(), state, scores, options);

        LlamaForCausalLM pruned = new LlamaForCausalLM(step.config(), model.tied());
        for (Map.Entry<String, Parameter> entry : pruned.namedParameters().entrySet()) {
            NamedArray array = step.state().get(entry.getKey());
            if (array == null) {
                throw new IllegalStateException("ModelPruning: the pruned state dict has no " + entry.getKey());
            }
            // copy, because tensors the surgeon did not cut share their arrays with the input model
            entry.getValue().set(Tensor.wrap(array.data().clone(), array.shape()));
        }
        return new Result(pruned, step);
    }
}
