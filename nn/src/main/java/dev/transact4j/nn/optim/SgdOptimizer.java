package dev.transact4j.nn.optim;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.transact4j.nn.Parameter;
import dev.transact4j.nn.safetensors.SafeTensors;
import dev.transact4j.nn.safetensors.SafeTensorsWriter;
import java.io.IOException;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * SGD over parameters, as {@code torch.optim.SGD}: L2 weight decay per group, momentum with
 * dampening, optional Nesterov momentum. Each update runs {@link Sgd#step} on the parameter's
 * arrays.
 *
 * <p>Saved state: {@code <name>.step} and {@code <name>.0.momentum_buffer} per parameter (the
 * layout of {@link SgdState#addTo} with prefix {@code <name>.}).
 */
public final class SgdOptimizer extends PerParameterOptimizer<SgdState> {

    private final double momentum;
    private final double dampening;
    private final boolean nesterov;
    private final Map<ParameterGroup, Sgd> kernels = new IdentityHashMap<>();

    /**
     * Creates SGD.
     *
     * @throws IllegalArgumentException for a negative momentum, or Nesterov without momentum or
     *                                  with dampening
     */
    public SgdOptimizer(List<ParameterGroup> groups, double momentum, double dampening, boolean nesterov) {
        super(groups);
        this.momentum = momentum;
        this.dampening = dampening;
        this.nesterov = nesterov;
        for (ParameterGroup group : groups) {
            kernels.put(group, new Sgd(momentum, dampening, group.weightDecay(), nesterov));
        }
    }

    @Override
    protected String type() {
        return "SGD";
    }

    @Override
    protected void update(String name, Parameter parameter, float[] grad, ParameterGroup group, double lr) {
        SgdState state = stateFor(name, parameter);
        kernels.get(group).step(List.of(parameter.data()), List.of(grad), state, lr);
    }

    @Override
    protected void describe(ObjectNode json) {
        json.put("momentum", momentum);
        json.put("dampening", dampening);
        json.put("nesterov", nesterov);
    }

    @Override
    SgdState newState(int numel) {
        return SgdState.zerosLike(List.of(new float[numel]));
    }

    @Override
    int stateLength(SgdState state) {
        return state.momentumBuffer(0).length;
    }

    @Override
    int arraySets(SgdState state) {
        return state.size();
    }

    @Override
    String arraySetName() {
        return "momentum buffers";
    }

    @Override
    void addState(SgdState state, SafeTensorsWriter writer, String prefix) {
        state.addTo(writer, prefix);
    }

    @Override
    SgdState readState(SafeTensors source, String prefix) throws IOException {
        return SgdState.readFrom(source, prefix);
    }
}
