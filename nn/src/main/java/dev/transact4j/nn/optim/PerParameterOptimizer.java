package dev.transact4j.nn.optim;

import dev.transact4j.nn.Parameter;
import dev.transact4j.nn.safetensors.SafeTensors;
import dev.transact4j.nn.safetensors.SafeTensorsWriter;
import java.io.IOException;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The state bookkeeping of {@link AdamWOptimizer} and {@link SgdOptimizer}: one state of type
 * {@code S} per parameter name, allocated at the parameter's first update, saved under the prefix
 * {@code <name>.} and loaded through a staging area.
 */
abstract class PerParameterOptimizer<S> extends Optimizer {

    private final Map<String, S> states = new LinkedHashMap<>();
    private Map<String, S> staged;

    PerParameterOptimizer(List<ParameterGroup> groups) {
        super(groups);
    }

    /** Returns a zero state for one parameter of {@code numel} elements. */
    abstract S newState(int numel);

    /** Returns the element count of each array of {@code state}. */
    abstract int stateLength(S state);

    /** Returns how many parameters' arrays {@code state} holds; a saved state must hold one. */
    abstract int arraySets(S state);

    /** Names the arrays of one parameter's state in an error, such as {@code "momentum buffers"}. */
    abstract String arraySetName();

    /** Adds {@code state} to {@code writer} under {@code prefix}. */
    abstract void addState(S state, SafeTensorsWriter writer, String prefix);

    /** Reads one state saved under {@code prefix}. */
    abstract S readState(SafeTensors source, String prefix) throws IOException;

    /** Returns the state of {@code name}, allocated at its first update, after checking its size. */
    final S stateFor(String name, Parameter parameter) {
        S state = states.computeIfAbsent(name, n -> newState(parameter.numel()));
        checkStateSize(name, parameter, stateLength(state));
        return state;
    }

    /** Returns the state of parameter {@code name}, or null before its first update. */
    public S state(String name) {
        return states.get(name);
    }

    @Override
    public void resetState(String name) {
        states.remove(name);
    }

    @Override
    protected void writeState(SafeTensorsWriter writer) {
        for (Map.Entry<String, S> e : states.entrySet()) {
            addState(e.getValue(), writer, e.getKey() + ".");
        }
    }

    @Override
    protected Map<String, Integer> stageState(SafeTensors source, Collection<String> names) throws IOException {
        staged = new LinkedHashMap<>();
        Map<String, Integer> sizes = new LinkedHashMap<>();
        for (String name : names) {
            if (source.contains(name + ".step")) {
                S state = readState(source, name + ".");
                if (arraySets(state) != 1) {
                    throw new IllegalArgumentException(source + ": parameter '" + name + "' has " + arraySets(state)
                            + " " + arraySetName() + ", expected 1");
                }
                staged.put(name, state);
                sizes.put(name, stateLength(state));
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
