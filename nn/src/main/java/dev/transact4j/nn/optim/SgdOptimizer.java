package dev.transact4j.nn.optim;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.transact4j.nn.Parameter;
import dev.transact4j.nn.safetensors.SafeTensors;
import dev.transact4j.nn.safetensors.SafeTensorsWriter;
import java.io.IOException;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
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
public final class SgdOptimizer extends Optimizer {

    private final double momentum;
    private final double dampening;
    private final boolean nesterov;
    private final Map<ParameterGroup, Sgd> kernels = new IdentityHashMap<>();
    private final Map<String, SgdState> states = new LinkedHashMap<>();
    private Map<String, SgdState> staged;

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
        SgdState state = states.computeIfAbsent(name, n -> SgdState.zerosLike(List.of(new float[parameter.numel()])));
        checkStateSize(name, parameter, state.momentumBuffer(0).length);
        kernels.get(group).step(List.of(parameter.data()), List.of(grad), state, lr);
    }

    /** Returns the state of parameter {@code name}, or null before its first update. */
    public SgdState state(String name) {
        return states.get(name);
    }

    @Override
    public void resetState(String name) {
        states.remove(name);
    }

    @Override
    protected void describe(ObjectNode json) {
        json.put("momentum", momentum);
        json.put("dampening", dampening);
        json.put("nesterov", nesterov);
    }

    @Override
    protected void writeState(SafeTensorsWriter writer) {
        for (Map.Entry<String, SgdState> e : states.entrySet()) {
            e.getValue().addTo(writer, e.getKey() + ".");
        }
    }

    @Override
    protected Map<String, Integer> stageState(SafeTensors source, Collection<String> names) throws IOException {
        staged = new LinkedHashMap<>();
        Map<String, Integer> sizes = new LinkedHashMap<>();
        for (String name : names) {
            if (source.contains(name + ".step")) {
                SgdState state = SgdState.readFrom(source, name + ".");
                if (state.size() != 1) {
                    throw new IllegalArgumentException(source + ": parameter '" + name + "' has " + state.size()
                            + " momentum buffers, expected 1");
                }
                staged.put(name, state);
                sizes.put(name, state.momentumBuffer(0).length);
            }
        }
        return sizes;
    }

    @Override
    protected void finishStaging(boolean commit) {
        if (commit && staged != null) {
            states.clear();
            states.putAll(staged);
        }
        staged = null;
    }
}
