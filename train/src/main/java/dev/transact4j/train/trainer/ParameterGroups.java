package dev.transact4j.train.trainer;

import dev.transact4j.nn.Parameter;
import dev.transact4j.nn.optim.AdamW;
import dev.transact4j.nn.optim.AdamWState;
import dev.transact4j.nn.safetensors.SafeTensors;
import dev.transact4j.nn.safetensors.SafeTensorsWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The trainable parameters in two AdamW groups: matrices (two or more dimensions) with weight
 * decay, and vectors (norm weights, biases) without, as nanoGPT and the TransAct trainer group
 * them. Each group has its own moments; both step together.
 */
final class ParameterGroups {

    static final String DECAY_PREFIX = "decay.";
    static final String NO_DECAY_PREFIX = "no_decay.";

    private final List<String> names = new ArrayList<>();
    private final List<Parameter> decay = new ArrayList<>();
    private final List<Parameter> noDecay = new ArrayList<>();
    private final AdamW decayOptimizer;
    private final AdamW noDecayOptimizer;
    private AdamWState decayState;
    private AdamWState noDecayState;

    /** Groups the parameters of {@code named} that require grad, in their order. */
    ParameterGroups(Map<String, Parameter> named, TrainingConfig config) {
        for (Map.Entry<String, Parameter> e : named.entrySet()) {
            Parameter p = e.getValue();
            if (!p.requiresGrad()) {
                continue;
            }
            names.add(e.getKey());
            (p.shape().length >= 2 ? decay : noDecay).add(p);
        }
        if (names.isEmpty()) {
            throw new IllegalArgumentException("Trainer: the model has no parameter that requires grad");
        }
        decayOptimizer = new AdamW(config.beta1(), config.beta2(), config.eps(), config.weightDecay());
        noDecayOptimizer = new AdamW(config.beta1(), config.beta2(), config.eps(), 0);
        decayState = AdamWState.zerosLike(data(decay));
        noDecayState = AdamWState.zerosLike(data(noDecay));
    }

    /** Returns the names of the trained parameters, in order. */
    List<String> names() {
        return names;
    }

    /** Returns the number of trained elements. */
    long elementCount() {
        long n = 0;
        for (Parameter p : decay) {
            n += p.numel();
        }
        for (Parameter p : noDecay) {
            n += p.numel();
        }
        return n;
    }

    /** Drops every gradient. */
    void zeroGrad() {
        decay.forEach(Parameter::zeroGrad);
        noDecay.forEach(Parameter::zeroGrad);
    }

    /** Returns the gradients of both groups, live; a parameter that got none gets zeros. */
    List<float[]> gradients() {
        List<float[]> out = new ArrayList<>();
        out.addAll(grads(decay));
        out.addAll(grads(noDecay));
        return out;
    }

    /** Takes one AdamW step of both groups at learning rate {@code lr}. */
    void step(double lr) {
        decayOptimizer.step(data(decay), grads(decay), decayState, lr);
        noDecayOptimizer.step(data(noDecay), grads(noDecay), noDecayState, lr);
    }

    /** Returns the optimiser steps taken. */
    long stepCount() {
        return decayState.step();
    }

    /** Adds both groups' moments and step counts to {@code writer}. */
    void addTo(SafeTensorsWriter writer) {
        decayState.addTo(writer, DECAY_PREFIX);
        noDecayState.addTo(writer, NO_DECAY_PREFIX);
    }

    /**
     * Restores both groups' states from an optimiser file written by {@link #addTo}.
     *
     * @throws IllegalArgumentException naming the file when the stored moments do not fit the parameters
     */
    void restore(SafeTensors source, Path file) throws IOException {
        AdamWState restoredDecay = AdamWState.readFrom(source, DECAY_PREFIX);
        AdamWState restoredNoDecay = AdamWState.readFrom(source, NO_DECAY_PREFIX);
        checkFits(file, "decay", restoredDecay, decay);
        checkFits(file, "no_decay", restoredNoDecay, noDecay);
        decayState = restoredDecay;
        noDecayState = restoredNoDecay;
    }

    private static void checkFits(Path file, String group, AdamWState state, List<Parameter> params) {
        if (state.size() != params.size()) {
            throw new IllegalArgumentException(file + ": the " + group + " group stores moments for " + state.size()
                    + " parameters but the model has " + params.size() + "; the checkpoint belongs to another model");
        }
        for (int i = 0; i < params.size(); i++) {
            if (state.expAvg(i).length != params.get(i).numel()) {
                throw new IllegalArgumentException(file + ": parameter " + i + " of the " + group + " group has "
                        + state.expAvg(i).length + " stored moments but " + params.get(i).numel()
                        + " elements; the checkpoint belongs to another model");
            }
        }
    }

    private static List<float[]> data(List<Parameter> params) {
        List<float[]> out = new ArrayList<>(params.size());
        for (Parameter p : params) {
            out.add(p.data());
        }
        return out;
    }

    private static List<float[]> grads(List<Parameter> params) {
        List<float[]> out = new ArrayList<>(params.size());
        for (Parameter p : params) {
            float[] g = p.gradData();
            out.add(g != null ? g : new float[p.numel()]);
        }
        return out;
    }
}
