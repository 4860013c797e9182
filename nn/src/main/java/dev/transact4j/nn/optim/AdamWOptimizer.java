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
 * AdamW over parameters, as {@code torch.optim.AdamW}: decoupled weight decay per group, bias
 * correction, and a step count per parameter. Each update runs {@link AdamW#step} on the
 * parameter's arrays.
 *
 * <p>Saved state: {@code <name>.step} and {@code <name>.0.exp_avg}, {@code <name>.0.exp_avg_sq}
 * per parameter (the layout of {@link AdamWState#addTo} with prefix {@code <name>.}).
 */
public final class AdamWOptimizer extends PerParameterOptimizer<AdamWState> {

    private final double beta1;
    private final double beta2;
    private final double eps;
    private final Map<ParameterGroup, AdamW> kernels = new IdentityHashMap<>();

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
        AdamWState state = stateFor(name, parameter);
        kernels.get(group).step(List.of(parameter.data()), List.of(grad), state, lr);
    }

    @Override
    protected void describe(ObjectNode json) {
        json.put("beta1", beta1);
        json.put("beta2", beta2);
        json.put("eps", eps);
    }

    @Override
    AdamWState newState(int numel) {
        return AdamWState.zeros(numel);
    }

    @Override
    int stateLength(AdamWState state) {
        return state.expAvg(0).length;
    }

    @Override
    int arraySets(AdamWState state) {
        return state.size();
    }

    @Override
    String arraySetName() {
        return "moment pairs";
    }

    @Override
    void addState(AdamWState state, SafeTensorsWriter writer, String prefix) {
        state.addTo(writer, prefix);
    }

    @Override
    AdamWState readState(SafeTensors source, String prefix) throws IOException {
        return AdamWState.readFrom(source, prefix);
    }
}
