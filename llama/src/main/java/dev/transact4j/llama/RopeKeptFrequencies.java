package dev.transact4j.llama;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * The rotary frequencies a head-dimension-pruned model keeps (TransAct's {@code rope=keep} mode),
 * stored in config.json as {@code rope_kept_frequencies}.
 *
 * <p>Frequency {@code i} of the unpruned model rotates the pair of head dimensions
 * {@code (i, i + original_head_dim / 2)} with inverse frequency {@code theta^(-2i/original_head_dim)}
 * (before scaling). Pruning keeps whole pairs, so a pruned head has {@code 2 * count} dimensions and
 * every kept pair keeps its original frequency. Two JSON forms:
 *
 * <pre>
 * {"original_head_dim": 64, "indices": [0, 1, 5, ...]}              one list for every layer
 * {"original_head_dim": 64, "per_layer": [[0, 1, ...], [2, 3, ...]]} one list per layer
 * </pre>
 *
 * <p>TransAct's default mode keeps the same number of heads and dimensions in every layer, which
 * the global form describes. The per-layer form lets each layer keep different pairs; its lists
 * must still have equal lengths while {@link LlamaConfig} has one {@code head_dim} for all layers.
 * Indices are strictly increasing, so the columns of a cos/sin table follow the original order.
 */
public final class RopeKeptFrequencies {

    private final int originalHeadDim;
    private final List<int[]> layers;
    private final boolean perLayer;

    private RopeKeptFrequencies(int originalHeadDim, List<int[]> layers, boolean perLayer) {
        this.originalHeadDim = originalHeadDim;
        this.layers = layers;
        this.perLayer = perLayer;
    }

    /**
     * Returns one set of kept frequency indices shared by every layer.
     *
     * @throws IllegalArgumentException when originalHeadDim is not a positive even number or an
     *     index is out of range, repeated or out of order
     */
    public static RopeKeptFrequencies global(int originalHeadDim, int[] indices) {
        checkHeadDim(originalHeadDim, "rope_kept_frequencies");
        check(indices, originalHeadDim, "rope_kept_frequencies.indices");
        return new RopeKeptFrequencies(originalHeadDim, List.of(indices.clone()), false);
    }

    /**
     * Returns kept frequency indices for each layer, in layer order.
     *
     * @throws IllegalArgumentException as {@link #global}, for any layer's list, or when the list is empty
     */
    public static RopeKeptFrequencies perLayer(int originalHeadDim, List<int[]> indicesPerLayer) {
        checkHeadDim(originalHeadDim, "rope_kept_frequencies");
        if (indicesPerLayer.isEmpty()) {
            throw new IllegalArgumentException("rope_kept_frequencies.per_layer is empty; give one list per layer");
        }
        List<int[]> copy = new ArrayList<>();
        for (int layer = 0; layer < indicesPerLayer.size(); layer++) {
            int[] indices = indicesPerLayer.get(layer);
            check(indices, originalHeadDim, "rope_kept_frequencies.per_layer[" + layer + "]");
            copy.add(indices.clone());
        }
        return new RopeKeptFrequencies(originalHeadDim, Collections.unmodifiableList(copy), true);
    }

    static RopeKeptFrequencies parse(JsonNode node, String source) {
        String field = "rope_kept_frequencies";
        if (!node.isObject()) {
            throw new IllegalArgumentException(source + ": field '" + field + "' must be an object with "
                    + "'original_head_dim' and 'indices' or 'per_layer', found " + node + ".");
        }
        ConfigFields fields = new ConfigFields((ObjectNode) node, source, field + ".");
        int originalHeadDim = fields.requireInt("original_head_dim",
                "Give the head_dim of the unpruned model, from which the kept frequencies are indexed.");
        boolean hasGlobal = fields.has("indices");
        boolean hasPerLayer = fields.has("per_layer");
        if (hasGlobal == hasPerLayer) {
            throw new IllegalArgumentException(source + ": field '" + field + "' must contain exactly one of "
                    + "'indices' (one list for all layers) and 'per_layer' (a list per layer).");
        }
        try {
            if (hasGlobal) {
                return global(originalHeadDim, readIndices(fields.get("indices"), fields, "indices"));
            }
            JsonNode lists = fields.get("per_layer");
            if (!lists.isArray()) {
                throw fields.wrongType("per_layer", "a list of lists of integers", lists);
            }
            List<int[]> layers = new ArrayList<>();
            for (int layer = 0; layer < lists.size(); layer++) {
                layers.add(readIndices(lists.get(layer), fields, "per_layer[" + layer + "]"));
            }
            return perLayer(originalHeadDim, layers);
        } catch (IllegalArgumentException e) {
            if (e.getMessage().startsWith(source)) {
                throw e;
            }
            throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
        }
    }

    private static int[] readIndices(JsonNode node, ConfigFields fields, String name) {
        if (!node.isArray()) {
            throw fields.wrongType(name, "a list of integers", node);
        }
        int[] out = new int[node.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode element = node.get(i);
            if (!element.isIntegralNumber() || !element.canConvertToInt()) {
                throw fields.wrongType(name + "[" + i + "]", "an integer", element);
            }
            out[i] = element.intValue();
        }
        return out;
    }

    private static void checkHeadDim(int originalHeadDim, String field) {
        if (originalHeadDim <= 0 || originalHeadDim % 2 != 0) {
            throw new IllegalArgumentException(field + ".original_head_dim is " + originalHeadDim
                    + " but must be a positive even number, because rotary embedding rotates pairs of dimensions");
        }
    }

    private static void check(int[] indices, int originalHeadDim, String field) {
        if (indices.length == 0) {
            throw new IllegalArgumentException(field + " is empty; keep at least one rotary frequency");
        }
        int pairs = originalHeadDim / 2;
        for (int i = 0; i < indices.length; i++) {
            if (indices[i] < 0 || indices[i] >= pairs) {
                throw new IllegalArgumentException(field + "[" + i + "] is " + indices[i] + " but must be in [0, "
                        + pairs + ") for original_head_dim " + originalHeadDim);
            }
            if (i > 0 && indices[i] <= indices[i - 1]) {
                throw new IllegalArgumentException(field + " must be strictly increasing, found " + indices[i - 1]
                        + " then " + indices[i] + " at position " + i);
            }
        }
    }

    /** Returns the head_dim of the unpruned model, which defines each index's frequency. */
    public int originalHeadDim() {
        return originalHeadDim;
    }

    /** Returns whether each layer has its own list. */
    public boolean isPerLayer() {
        return perLayer;
    }

    /** Returns the number of per-layer lists, or 1 for the global form. */
    public int layerCount() {
        return layers.size();
    }

    /** Returns a copy of the kept indices of {@code layer} (0-based); the global form ignores the layer. */
    public int[] forLayer(int layer) {
        if (!perLayer) {
            return layers.get(0).clone();
        }
        if (layer < 0 || layer >= layers.size()) {
            throw new IndexOutOfBoundsException("layer " + layer + " out of range [0, " + layers.size() + ")");
        }
        return layers.get(layer).clone();
    }

    JsonNode toJson() {
        ObjectNode node = JsonNodeFactory.instance.objectNode();
        node.put("original_head_dim", originalHeadDim);
        if (perLayer) {
            ArrayNode lists = node.putArray("per_layer");
            for (int[] indices : layers) {
                ArrayNode list = lists.addArray();
                Arrays.stream(indices).forEach(list::add);
            }
        } else {
            ArrayNode list = node.putArray("indices");
            Arrays.stream(layers.get(0)).forEach(list::add);
        }
        return node;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof RopeKeptFrequencies that && toJson().equals(that.toJson());
    }

    @Override
    public int hashCode() {
        return toJson().hashCode();
    }

    @Override
    public String toString() {
        return toJson().toString();
    }
}
