package dev.transact4j.transact;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.transact4j.nn.io.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The outcome of one pruning shot's channel selection: which layers, heads, head dims and MLP
 * channels stay, and the model dimensions before and after. A {@link StateDictSurgeon} applies
 * it to the weights.
 *
 * <p>The constructor checks every index against {@code before} and every count against
 * {@code after}, so a plan loaded from JSON is as safe to apply as a fresh one.
 *
 * @param target     the widths requested
 * @param before     the model before the cut
 * @param after      the model after the cut, with the widths actually reached
 * @param keptLayers kept layer indices, ascending (a prefix of the layers)
 * @param layers     one entry per kept layer, in order
 */
public record KeepPlan(PruneTarget target, ModelDims before, ModelDims after, int[] keptLayers, List<LayerKeep> layers) {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /**
     * Checks the plan against both model dimensions.
     *
     * @throws IllegalArgumentException naming the first index or count that does not fit
     */
    public KeepPlan {
        if (target == null || before == null || after == null || keptLayers == null || layers == null) {
            throw new IllegalArgumentException("KeepPlan: target, before, after, keptLayers and layers must all be present");
        }
        keptLayers = keptLayers.clone();
        layers = List.copyOf(layers);
        if (after.hiddenSize() != before.hiddenSize()) {
            throw new IllegalArgumentException("KeepPlan: hidden_size changes from " + before.hiddenSize() + " to "
                    + after.hiddenSize() + ", but pruning never cuts the residual stream");
        }
        if (after.groupSize() != before.groupSize()) {
            throw new IllegalArgumentException("KeepPlan: query heads per kv head change from " + before.groupSize()
                    + " to " + after.groupSize() + "; pruning keeps whole groups");
        }
        checkIndices("kept layers", keptLayers, before.layers(), after.layers(), true);
        if (layers.size() != keptLayers.length) {
            throw new IllegalArgumentException("KeepPlan: " + layers.size() + " layer entries for "
                    + keptLayers.length + " kept layers");
        }
        for (int i = 0; i < keptLayers.length; i++) {
            checkLayer(i, keptLayers[i], layers.get(i), before, after);
        }
    }

    /** Returns the attention inner width reached, {@code after.heads * after.headDim}. */
    public int mhaWidthReached() {
        return after.mhaInterSize();
    }

    /** Returns the MLP width reached. */
    public int mlpWidthReached() {
        return after.intermediateSize();
    }

    /** Returns the plan as indented JSON. */
    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("KeepPlan.toJson: failed to serialise the plan", e);
        }
    }

    /**
     * Reads a plan from JSON written by {@link #toJson()}.
     *
     * @throws IllegalArgumentException when the text is not a valid plan, with the reason
     */
    public static KeepPlan fromJson(String json) {
        try {
            return JSON.readValue(json, KeepPlan.class);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("Invalid keep plan JSON: " + e.getOriginalMessage(), e);
        }
    }

    /** Writes the plan as JSON to {@code file}, through a temporary file renamed into place. */
    public void save(Path file) {
        try {
            AtomicFiles.write(file, toJson().getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("Failed to write keep plan " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Reads a plan saved by {@link #save(Path)}.
     *
     * @throws IllegalArgumentException when the file is missing or is not a valid plan, naming the file
     */
    public static KeepPlan load(Path file) {
        String json;
        try {
            json = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("Keep plan file " + file + " not found; write it with KeepPlan.save first", e);
        } catch (IOException e) {
            throw new UncheckedIOException("Failed to read keep plan " + file + ": " + e.getMessage(), e);
        }
        try {
            return fromJson(json);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("Keep plan file " + file + ": " + e.getMessage(), e);
        }
    }

    private static void checkLayer(int position, int sourceLayer, LayerKeep keep, ModelDims before, ModelDims after) {
        String where = "layer " + sourceLayer;
        if (keep.sourceLayer() != sourceLayer) {
            throw new IllegalArgumentException("KeepPlan: entry " + position + " is for layer " + keep.sourceLayer()
                    + " but kept layer " + position + " is " + sourceLayer);
        }
        checkIndices(where + " kv heads", keep.kvHeads(), before.kvHeads(), after.kvHeads(), true);
        checkIndices(where + " query heads", keep.queryHeads(), before.heads(), after.heads(), true);
        checkIndices(where + " mlp channels", keep.mlpChannels(), before.intermediateSize(), after.intermediateSize(), true);

        // the query heads are exactly the groups of the kept kv heads
        int group = before.groupSize();
        for (int q = 0; q < keep.queryHeads().length; q++) {
            int expected = keep.kvHeads()[q / group] * group + q % group;
            if (keep.queryHeads()[q] != expected) {
                throw new IllegalArgumentException("KeepPlan: " + where + " keeps query heads "
                        + Arrays.toString(keep.queryHeads()) + ", which are not the whole groups of kv heads "
                        + Arrays.toString(keep.kvHeads()));
            }
        }

        int[][] headDims = keep.headDims();
        int[][] frequencies = keep.frequencies();
        if (headDims.length != after.kvHeads() || frequencies.length != after.kvHeads()) {
            throw new IllegalArgumentException("KeepPlan: " + where + " needs head dims and frequencies for "
                    + after.kvHeads() + " kv heads, has " + headDims.length + " and " + frequencies.length);
        }
        for (int j = 0; j < headDims.length; j++) {
            checkIndices(where + " head dims of kv head " + keep.kvHeads()[j], headDims[j], before.headDim(),
                    after.headDim(), false);
            int[] expected = after.frequencies(position, j);
            if (!Arrays.equals(frequencies[j], expected)) {
                throw new IllegalArgumentException("KeepPlan: " + where + " kv head " + keep.kvHeads()[j]
                        + " records rotary frequencies " + Arrays.toString(frequencies[j]) + " but the pruned model uses "
                        + Arrays.toString(expected));
            }
        }
    }

    private static void checkIndices(String what, int[] indices, int bound, int expectedCount, boolean ascending) {
        if (indices.length != expectedCount) {
            throw new IllegalArgumentException("KeepPlan: " + what + " has " + indices.length + " entries, expected "
                    + expectedCount);
        }
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < indices.length; i++) {
            int index = indices[i];
            if (index < 0 || index >= bound) {
                throw new IllegalArgumentException("KeepPlan: " + what + " contains " + index + ", outside [0, " + bound + ")");
            }
            if (!seen.add(index)) {
                throw new IllegalArgumentException("KeepPlan: " + what + " contains " + index + " twice");
            }
            if (ascending && i > 0 && indices[i - 1] > index) {
                throw new IllegalArgumentException("KeepPlan: " + what + " must be ascending, got " + Arrays.toString(indices));
            }
        }
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof KeepPlan that && target.equals(that.target) && before.equals(that.before)
                && after.equals(that.after) && Arrays.equals(keptLayers, that.keptLayers) && layers.equals(that.layers);
    }

    @Override
    public int hashCode() {
        int h = target.hashCode();
        h = 31 * h + before.hashCode();
        h = 31 * h + after.hashCode();
        h = 31 * h + Arrays.hashCode(keptLayers);
        return 31 * h + layers.hashCode();
    }

    @Override
    public String toString() {
        StringBuilder out = new StringBuilder();
        out.append("KeepPlan (").append(target.attention());
        if (target.attention() == AttentionPruning.HEAD_DIMS) {
            out.append(", rope ").append(target.rope());
        }
        out.append(")\n");
        out.append("  heads ").append(before.heads()).append(" -> ").append(after.heads())
                .append(", kv heads ").append(before.kvHeads()).append(" -> ").append(after.kvHeads())
                .append(", head_dim ").append(before.headDim()).append(" -> ").append(after.headDim()).append('\n');
        out.append("  mha width ").append(before.mhaInterSize()).append(" -> ").append(after.mhaInterSize())
                .append(" (requested ").append(target.nextMhaDim()).append(")\n");
        out.append("  mlp width ").append(before.intermediateSize()).append(" -> ").append(after.intermediateSize())
                .append(" (requested ").append(target.nextMlpDim()).append(")\n");
        out.append("  layers ").append(before.layers()).append(" -> ").append(after.layers())
                .append(", kept ").append(Arrays.toString(keptLayers)).append('\n');
        for (LayerKeep keep : layers) {
            out.append("  ").append(keep).append('\n');
        }
        return out.toString();
    }
}
