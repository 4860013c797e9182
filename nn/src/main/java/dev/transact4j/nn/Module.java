package dev.transact4j.nn;

import dev.transact4j.tensor.Rng;
import dev.transact4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A layer or model: named {@link Parameter}s and named child modules, both kept in registration
 * order, as {@code torch.nn.Module}.
 *
 * <p>A parameter's full name is the path of names from this module down to it, joined by dots,
 * so a model whose fields are registered under Hugging Face's names gets a state dict whose keys
 * are those of the Hugging Face checkpoint, such as
 * {@code model.layers.0.self_attn.q_proj.weight}. Walks visit a module's own parameters first,
 * then its children in order, depth first, so the order is stable.
 *
 * <p>Subclasses register their parameters and children in their constructor and define their own
 * forward methods, whose signatures differ between layers.
 */
public abstract class Module {

    private final Map<String, Parameter> parameters = new LinkedHashMap<>();
    private final Map<String, Module> children = new LinkedHashMap<>();
    private boolean training = true;

    /**
     * Registers {@code value} as a new parameter named {@code name} and returns it.
     *
     * @throws IllegalArgumentException when the name is empty, contains a dot, or is taken
     */
    protected Parameter registerParameter(String name, Tensor value) {
        return registerParameter(name, new Parameter(value));
    }

    /**
     * Registers an existing parameter under {@code name}; registering one parameter in two places
     * ties them, as tied input and output embeddings are.
     */
    protected Parameter registerParameter(String name, Parameter parameter) {
        checkNewName(name);
        parameters.put(name, parameter);
        return parameter;
    }

    /** Replaces the parameter registered as {@code name}, keeping its place in the order. */
    protected void replaceParameter(String name, Parameter parameter) {
        if (!parameters.containsKey(name)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": no parameter named '" + name
                    + "' to replace; registered: " + parameters.keySet());
        }
        parameters.put(name, parameter);
    }

    /**
     * Registers {@code module} as a child named {@code name} and returns it.
     *
     * @throws IllegalArgumentException when the name is empty, contains a dot, or is taken
     */
    protected <M extends Module> M registerModule(String name, M module) {
        checkNewName(name);
        children.put(name, module);
        return module;
    }

    /** Removes every child, so a subclass can register a new sequence (as {@link ModuleList} does). */
    void clearModules() {
        children.clear();
    }

    private void checkNewName(String name) {
        if (name == null || name.isEmpty() || name.contains(".")) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": invalid name '" + name
                    + "'; a parameter or module name must be non-empty and contain no dot");
        }
        if (parameters.containsKey(name) || children.containsKey(name)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": the name '" + name
                    + "' is already registered");
        }
    }

    /** Returns the direct children by name, in registration order (read-only). */
    public Map<String, Module> children() {
        return Collections.unmodifiableMap(children);
    }

    /** Returns this module (under the empty name) and every descendant by full name, parents before children. */
    public Map<String, Module> namedModules() {
        Map<String, Module> out = new LinkedHashMap<>();
        collectModules("", out);
        return out;
    }

    private void collectModules(String prefix, Map<String, Module> out) {
        out.put(prefix, this);
        for (Map.Entry<String, Module> child : children.entrySet()) {
            child.getValue().collectModules(join(prefix, child.getKey()), out);
        }
    }

    /**
     * Returns every parameter by full name in walk order. A parameter registered in several places
     * (tied) is listed once, under the first name reached, so an optimiser updates it once.
     */
    public Map<String, Parameter> namedParameters() {
        Map<String, Parameter> all = new LinkedHashMap<>();
        collectParameters("", all);
        Map<String, Parameter> unique = new LinkedHashMap<>();
        Set<Parameter> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Map.Entry<String, Parameter> e : all.entrySet()) {
            if (seen.add(e.getValue())) {
                unique.put(e.getKey(), e.getValue());
            }
        }
        return unique;
    }

    /** Returns the parameters of {@link #namedParameters()} in the same order. */
    public List<Parameter> parameters() {
        return new ArrayList<>(namedParameters().values());
    }

    /** Returns the total number of elements of all parameters, tied ones counted once. */
    public long parameterCount() {
        long n = 0;
        for (Parameter p : namedParameters().values()) {
            n += p.numel();
        }
        return n;
    }

    private void collectParameters(String prefix, Map<String, Parameter> out) {
        for (Map.Entry<String, Parameter> e : parameters.entrySet()) {
            out.put(join(prefix, e.getKey()), e.getValue());
        }
        for (Map.Entry<String, Module> child : children.entrySet()) {
            child.getValue().collectParameters(join(prefix, child.getKey()), out);
        }
    }

    /**
     * Returns the state dict: every parameter's current value by full name, in walk order, tied
     * parameters under each of their names, as {@code torch.nn.Module.state_dict}. The tensors are
     * detached views of the parameters' storage, not copies.
     */
    public Map<String, Tensor> stateDict() {
        Map<String, Parameter> all = new LinkedHashMap<>();
        collectParameters("", all);
        Map<String, Tensor> state = new LinkedHashMap<>();
        for (Map.Entry<String, Parameter> e : all.entrySet()) {
            state.put(e.getKey(), e.getValue().value().detach());
        }
        return state;
    }

    /** The keys that {@link #loadStateDict} skipped without {@code strict}. */
    public record LoadResult(List<String> missingKeys, List<String> unexpectedKeys) {
    }

    /**
     * Copies the values of {@code state} into the parameters of the same names, as
     * {@code torch.nn.Module.load_state_dict}. Every key is checked before anything is copied, so
     * a failed load changes nothing.
     *
     * <p>With {@code strict}, a parameter without a key (missing), a key without a parameter
     * (unexpected) and a shape that differs from the parameter's all fail the load, and the
     * message lists every such problem by name. Without it, missing and unexpected keys are
     * returned and shape mismatches still fail. A tied parameter needs only one of its names.
     *
     * @throws IllegalArgumentException listing every missing key, unexpected key and shape mismatch
     */
    public LoadResult loadStateDict(Map<String, Tensor> state, boolean strict) {
        Map<String, Parameter> expected = new LinkedHashMap<>();
        collectParameters("", expected);
        List<String> missing = new ArrayList<>();
        List<String> unexpected = new ArrayList<>();
        List<String> mismatched = new ArrayList<>();
        // a tied parameter counts as present when any of its names is in the state dict, as in a
        // Hugging Face checkpoint that stores tied embeddings under one name only
        Set<Parameter> present = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Map.Entry<String, Parameter> e : expected.entrySet()) {
            if (state.containsKey(e.getKey())) {
                present.add(e.getValue());
            }
        }
        for (Map.Entry<String, Parameter> e : expected.entrySet()) {
            Tensor t = state.get(e.getKey());
            if (t == null) {
                if (!present.contains(e.getValue())) {
                    missing.add(e.getKey());
                }
            } else if (!Arrays.equals(t.shape(), e.getValue().shape())) {
                mismatched.add(e.getKey() + ": checkpoint " + Arrays.toString(t.shape()) + ", model "
                        + Arrays.toString(e.getValue().shape()));
            }
        }
        for (String key : state.keySet()) {
            if (!expected.containsKey(key)) {
                unexpected.add(key);
            }
        }

        if (!mismatched.isEmpty() || (strict && (!missing.isEmpty() || !unexpected.isEmpty()))) {
            StringBuilder message = new StringBuilder("loadStateDict: the state dict does not fit "
                    + getClass().getSimpleName() + ", nothing was loaded");
            appendProblems(message, "missing keys", strict ? missing : List.of());
            appendProblems(message, "unexpected keys", strict ? unexpected : List.of());
            appendProblems(message, "shape mismatches", mismatched);
            throw new IllegalArgumentException(message.toString());
        }

        for (Map.Entry<String, Parameter> e : expected.entrySet()) {
            Tensor t = state.get(e.getKey());
            if (t != null) {
                float[] values = t.toArray();
                System.arraycopy(values, 0, e.getValue().data(), 0, values.length);
            }
        }
        return new LoadResult(List.copyOf(missing), List.copyOf(unexpected));
    }

    private static void appendProblems(StringBuilder message, String what, List<String> items) {
        if (items.isEmpty()) {
            return;
        }
        message.append("\n  ").append(items.size()).append(' ').append(what).append(':');
        for (String item : items) {
            message.append("\n    ").append(item);
        }
    }

    /** Drops the gradients of all parameters. */
    public void zeroGrad() {
        for (Parameter p : namedParameters().values()) {
            p.zeroGrad();
        }
    }

    /** Sets training mode ({@code true}) or evaluation mode on this module and all descendants; returns this. */
    public Module train(boolean mode) {
        for (Module m : namedModules().values()) {
            m.training = mode;
        }
        return this;
    }

    /** Sets evaluation mode on this module and all descendants; returns this. */
    public Module eval() {
        return train(false);
    }

    /** Returns whether this module is in training mode (the default). */
    public boolean isTraining() {
        return training;
    }

    /**
     * Initialises this module's own parameters (not its children's) from {@code rng} with normal
     * standard deviation {@code std} where the layer draws random weights. Called by
     * {@link Initialization} on every module in walk order; the default leaves the parameters as
     * they are.
     */
    protected void initParameters(Rng rng, double std) {
    }

    /** Fills {@code p} with normal samples of mean 0 and standard deviation {@code std}, in element order. */
    protected static void fillNormal(Parameter p, Rng rng, double std) {
        float[] data = p.data();
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) (std * rng.nextGaussian());
        }
    }

    private static String join(String prefix, String name) {
        return prefix.isEmpty() ? name : prefix + "." + name;
    }

    @Override
    public String toString() {
        StringBuilder out = new StringBuilder();
        for (Map.Entry<String, Parameter> e : namedParameters().entrySet()) {
            out.append(e.getKey()).append(' ').append(Arrays.toString(e.getValue().shape())).append('\n');
        }
        return getClass().getSimpleName() + " (" + parameterCount() + " parameters)\n" + out;
    }
}
