package dev.transact4j.nn.optim;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.transact4j.nn.Parameter;
import dev.transact4j.nn.safetensors.SafeTensors;
import dev.transact4j.nn.safetensors.SafeTensorsFile;
import dev.transact4j.nn.safetensors.SafeTensorsWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An optimiser over named {@link Parameter}s in {@link ParameterGroup}s, on top of the array
 * kernels of this package.
 *
 * <p>Each step updates every parameter that requires grad and has a gradient; the others are
 * skipped and keep their state, as in torch. State is kept per parameter name and allocated at
 * the parameter's first update. {@link #save} writes the state of every parameter and the step
 * count to one safetensors file, whose {@code __metadata__} entry {@value #METADATA_KEY} contains
 * JSON with the optimiser type, its hyperparameters and the parameter names of each group;
 * {@link #load} restores it exactly, so a resumed run continues bit for bit.
 */
public abstract class Optimizer {

    /** The {@code __metadata__} key of the JSON description in a saved state file. */
    public static final String METADATA_KEY = "optimizer";

    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<ParameterGroup> groups;
    private long steps;

    /**
     * Creates an optimiser over {@code groups}.
     *
     * @throws IllegalArgumentException when a name or a parameter appears in more than one place
     */
    protected Optimizer(List<ParameterGroup> groups) {
        Set<String> names = new LinkedHashSet<>();
        Set<Parameter> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (ParameterGroup group : groups) {
            for (Map.Entry<String, Parameter> e : group.parameters().entrySet()) {
                if (!names.add(e.getKey()) || !seen.add(e.getValue())) {
                    throw new IllegalArgumentException(type() + ": parameter '" + e.getKey()
                            + "' appears more than once across the parameter groups; list each parameter once");
                }
            }
        }
        this.groups = List.copyOf(groups);
    }

    /** Returns the name stored in a state file, such as {@code "AdamW"}. */
    protected abstract String type();

    /** Updates one parameter from its gradient. */
    protected abstract void update(String name, Parameter parameter, float[] grad, ParameterGroup group, double lr);

    /** Adds the hyperparameters (not the weight decay, which is per group) to the saved JSON. */
    protected abstract void describe(ObjectNode json);

    /** Adds the state of every parameter that has one to {@code writer}. */
    protected abstract void writeState(SafeTensorsWriter writer);

    /**
     * Reads the state of each of {@code names} that {@code source} stores into a staging area,
     * leaving the current state alone, and returns the element count of each state read.
     */
    protected abstract Map<String, Integer> stageState(SafeTensors source, Collection<String> names) throws IOException;

    /** Replaces the current state by the staged one ({@code commit}) or drops the staged one. */
    protected abstract void finishStaging(boolean commit);

    /** Drops the state of one parameter, for example after pruning replaced its value. */
    public abstract void resetState(String name);

    /** Returns the parameter groups. */
    public List<ParameterGroup> groups() {
        return groups;
    }

    /** Returns every parameter by name, across groups, in group order. */
    public Map<String, Parameter> parameters() {
        Map<String, Parameter> all = new LinkedHashMap<>();
        for (ParameterGroup group : groups) {
            all.putAll(group.parameters());
        }
        return all;
    }

    /** Returns the number of steps taken (the step index that the next step's schedule factor uses). */
    public long steps() {
        return steps;
    }

    /**
     * Takes one step with learning rate {@code lr}.
     *
     * @throws IllegalArgumentException when lr is negative or not finite
     * @throws IllegalStateException when a parameter's value no longer fits its state (call
     *                               {@link #resetState} after replacing a parameter)
     */
    public void step(double lr) {
        if (!(lr >= 0) || Double.isInfinite(lr)) {
            throw new IllegalArgumentException(type() + ".step: the learning rate must be finite and 0 or more, got " + lr);
        }
        for (ParameterGroup group : groups) {
            for (Map.Entry<String, Parameter> e : group.parameters().entrySet()) {
                Parameter p = e.getValue();
                float[] grad = p.requiresGrad() ? p.gradData() : null;
                if (grad != null) {
                    update(e.getKey(), p, grad, group, lr);
                }
            }
        }
        steps++;
    }

    /**
     * Takes one step with the learning rate {@code schedule} gives for {@link #steps()} and
     * {@code baseLr}, and returns that rate.
     */
    public double step(LrSchedule schedule, double baseLr) {
        double lr = schedule.lr(baseLr, steps);
        step(lr);
        return lr;
    }

    /** Drops the gradients of all parameters of this optimiser. */
    public void zeroGrad() {
        for (Parameter p : parameters().values()) {
            p.zeroGrad();
        }
    }

    /**
     * Scales the gradients of this optimiser's parameters so their global L2 norm is at most
     * {@code maxNorm}, and returns the norm before clipping; see {@link #clipGradNorm(Collection, double)}.
     */
    public double clipGradNorm(double maxNorm) {
        return clipGradNorm(parameters().values(), maxNorm);
    }

    /**
     * Scales the gradients of {@code parameters} (those that have one) so their global L2 norm is
     * at most {@code maxNorm}, and returns the norm before clipping, as
     * {@code torch.nn.utils.clip_grad_norm_}; see {@link GradientClipping#clipGradNorm}.
     */
    public static double clipGradNorm(Collection<Parameter> parameters, double maxNorm) {
        List<float[]> grads = new ArrayList<>();
        for (Parameter p : parameters) {
            float[] g = p.gradData();
            if (g != null) {
                grads.add(g);
            }
        }
        return GradientClipping.clipGradNorm(grads, maxNorm);
    }

    /** Writes the state and the step count to {@code file} (temporary file, then rename). */
    public void save(Path file) throws IOException {
        ObjectNode json = JSON.createObjectNode();
        json.put("type", type());
        json.put("steps", steps);
        describe(json);
        ArrayNode groupsJson = json.putArray("groups");
        for (ParameterGroup group : groups) {
            ObjectNode g = groupsJson.addObject();
            g.put("weight_decay", group.weightDecay());
            ArrayNode names = g.putArray("parameters");
            group.parameters().keySet().forEach(names::add);
        }
        SafeTensorsWriter writer = new SafeTensorsWriter().metadata(METADATA_KEY, JSON.writeValueAsString(json));
        writeState(writer);
        writer.write(file);
    }

    /**
     * Restores the state and step count that {@link #save} wrote. The file must come from an
     * optimiser of the same type over parameters of the same names and sizes. Hyperparameters
     * and weight decays stay this optimiser's own, not the file's.
     *
     * A failed load leaves the current state and step count as they were.
     *
     * @throws IllegalArgumentException starting with the file name, when the type differs or
     *                                  listing every parameter that is missing, unexpected or of
     *                                  another size
     */
    public void load(Path file) throws IOException {
        try (SafeTensorsFile source = SafeTensorsFile.open(file)) {
            String text = source.metadata().get(METADATA_KEY);
            if (text == null) {
                throw new IllegalArgumentException(file + ": no '" + METADATA_KEY
                        + "' metadata; this is not an optimiser state written by Optimizer.save");
            }
            JsonNode json = JSON.readTree(text);
            String savedType = json.path("type").asText();
            if (!type().equals(savedType)) {
                throw new IllegalArgumentException(file + ": contains " + savedType + " state, but this optimiser is "
                        + type());
            }

            // the saved parameter names must be exactly this optimiser's
            Map<String, Parameter> params = parameters();
            List<String> savedNames = new ArrayList<>();
            for (JsonNode g : json.path("groups")) {
                for (JsonNode n : g.path("parameters")) {
                    savedNames.add(n.asText());
                }
            }
            List<String> problems = new ArrayList<>();
            for (String name : params.keySet()) {
                if (!savedNames.contains(name)) {
                    problems.add("missing: " + name);
                }
            }
            for (String name : savedNames) {
                if (!params.containsKey(name)) {
                    problems.add("unexpected: " + name);
                }
            }
            if (problems.isEmpty()) {
                Map<String, Integer> sizes;
                try {
                    sizes = stageState(source, params.keySet());
                } catch (IOException | RuntimeException e) {
                    finishStaging(false);
                    throw e;
                }
                for (Map.Entry<String, Integer> e : sizes.entrySet()) {
                    int numel = params.get(e.getKey()).numel();
                    if (e.getValue() != numel) {
                        problems.add("size mismatch: " + e.getKey() + " has state of " + e.getValue()
                                + " elements, parameter " + numel);
                    }
                }
            }
            if (!problems.isEmpty()) {
                finishStaging(false);
                throw new IllegalArgumentException(file + ": the saved " + type()
                        + " state does not fit this optimiser's parameters:\n  " + String.join("\n  ", problems));
            }
            finishStaging(true);
            steps = json.path("steps").asLong();
        }
    }

    /** Throws when a state array no longer fits its parameter. */
    protected void checkStateSize(String name, Parameter parameter, int stateSize) {
        if (stateSize != parameter.numel()) {
            throw new IllegalStateException(type() + ": parameter '" + name + "' has " + parameter.numel()
                    + " elements but its state has " + stateSize + "; call resetState(\"" + name
                    + "\") after replacing a parameter");
        }
    }
}
