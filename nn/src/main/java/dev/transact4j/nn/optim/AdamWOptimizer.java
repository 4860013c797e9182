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
 * AdamW over parameters, as {@code torch.optim.AdamW}: decoupled weight decay per group, bias
 * correction, and a step count per parameter. Each update runs {@link AdamW#step} on the
 * parameter's arrays.
 *
 * <p>Saved state: {@code <name>.step} and {@code <name>.0.exp_avg}, {@code <name>.0.exp_avg_sq}
 * per parameter (the layout of {@link AdamWState#addTo} with prefix {@code <name>.}).
 */
public final class AdamWOptimizer extends Optimizer {

    private final double beta1;
    private final double beta2;
    private final double eps;
    private final Map<ParameterGroup, AdamW> kernels = new IdentityHashMap<>();
    private final Map<String, AdamWState> states = new LinkedHashMap<>();
    private Map<String, AdamWState> staged;

    /** Creates AdamW with torch's default betas and eps. */
    public AdamWOptimizer(List<ParameterGroup> groups) {
        this(groups, AdamW.DEFAULT_BETA1, AdamW.DEFAULT_BETA2, AdamW.DEFAULT_EPS);
    }

    /**
     * Creates AdamW.
     *
     * @throws IllegalArgumentException for betas outside [0, 1) or a negative eps
     */
    public AdamWOptimizer(List<ParameterGroup> groups, double beta1, double beta2, double eps) {
        super(groups);
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        for (ParameterGroup group : groups) {
            kernels.put(group, new AdamW(beta1, beta2, eps, group.weightDecay()));
        }
    }

    @Override
    protected String type() {
        return "AdamW";
    }

    @Override
    protected void update(String name, Parameter parameter, float[] grad, ParameterGroup group, double lr) {
        AdamWState state = states.computeIfAbsent(name, n -> AdamWState.zeros(parameter.numel()));
        checkStateSize(name, parameter, state.expAvg(0).length);
        kernels.get(group).step(List.of(parameter.data()), List.of(grad), state, lr);
    }

    /** Returns the state of parameter {@code name}, or null before its first update. */
    public AdamWState state(String name) {
        return states.get(name);
    }

    @Override
    public void resetState(String name) {
        states.remove(name);
    }

    @Override
    protected void describe(ObjectNode json) {
        json.put("beta1", beta1);
        json.put("beta2", beta2);
        json.put("eps", eps);
    }

    @Override
    protected void writeState(SafeTensorsWriter writer) {
        for (Map.Entry<String, AdamWState> e : states.entrySet()) {
            e.getValue().addTo(writer, e.getKey() + ".");
        }
    }

    @Override
    protected Map<String, Integer> stageState(SafeTensors source, Collection<String> names) throws IOException {
        staged = new LinkedHashMap<>();
        Map<String, Integer> sizes = new LinkedHashMap<>();
        for (String name : names) {
            if (source.contains(name + ".step")) {
                AdamWState state = AdamWState.readFrom(source, name + ".");
                if (state.size() != 1) {
                    throw new IllegalArgumentException(source + ": parameter '" + name + "' has " + state.size()
                            + " moment pairs, expected 1");
                }
                staged.put(name, state);
                sizes.put(name, state.expAvg(0).length);
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
