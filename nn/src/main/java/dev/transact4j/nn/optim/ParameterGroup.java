package dev.transact4j.nn.optim;

import dev.transact4j.nn.Parameter;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Named parameters that share a weight decay, as a torch optimiser's {@code param_groups} entry.
 *
 * @param parameters  parameters by full name, in update order
 * @param weightDecay the group's decoupled (AdamW) or L2 (SGD) weight decay
 */
public record ParameterGroup(Map<String, Parameter> parameters, double weightDecay) {

    /**
     * Copies the map, keeping its order.
     *
     * @throws IllegalArgumentException when the weight decay is negative or not a number
     */
    public ParameterGroup {
        if (!(weightDecay >= 0)) {
            throw new IllegalArgumentException("ParameterGroup: weight decay must be 0 or more, got " + weightDecay);
        }
        parameters = Collections.unmodifiableMap(new LinkedHashMap<>(parameters));
    }

    /**
     * Splits {@code named} into two groups: parameters of two or more dims (the weight matrices
     * of linear and embedding layers) with {@code weightDecay}, and the rest (norm weights and
     * biases) without decay, the usual rule for training transformers.
     */
    public static List<ParameterGroup> decayMatricesOnly(Map<String, Parameter> named, double weightDecay) {
        Map<String, Parameter> decay = new LinkedHashMap<>();
        Map<String, Parameter> noDecay = new LinkedHashMap<>();
        for (Map.Entry<String, Parameter> e : named.entrySet()) {
            (e.getValue().shape().length >= 2 ? decay : noDecay).put(e.getKey(), e.getValue());
        }
        return List.of(new ParameterGroup(decay, weightDecay), new ParameterGroup(noDecay, 0));
    }
}
