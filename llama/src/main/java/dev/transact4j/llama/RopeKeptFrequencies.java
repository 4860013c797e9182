package dev.transact4j.llama;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The rotary frequencies a head-dimension-pruned model keeps (the {@code rope=keep} pruning mode),
 * stored in config.json as {@code rope_kept_frequencies}.
 *
 * <p>Frequency {@code i} of the unpruned model rotates the pair of head dimensions
 * {@code (i, i + original_head_dim / 2)} with inverse frequency {@code theta^(-2i/original_head_dim)}
 * (before scaling). Pruning keeps whole pairs, so a pruned head has {@code 2 * count} dimensions and
 * every kept pair keeps its original frequency. Three JSON forms:
 *
 * <pre>
 * {"original_head_dim": 64, "indices": [0, 1, 5, ...]}                  one list for every layer
 * {"original_head_dim": 64, "per_layer": [[0, 1, ...], [2, 3, ...]]}     one list per layer
 * {"original_head_dim": 64, "per_layer_per_head": [[[0, 1, ...], [1, 4, ...]], ...]}
 *                                                                        one list per layer and kv head
 * </pre>
 *
 * <p>{@code rope=keep} pruning ranks the rotary pairs of each kv head separately, so its models
 * generally need the per-layer, per-kv-head form: entry
 * {@code [layer][kvHead]} lists the pairs kv head {@code kvHead} kept, and every query head of its
 * group rotates with the same frequencies. The global and per-layer forms describe models whose kv
 * heads share their pairs. All lists have {@code head_dim / 2} entries, because {@link LlamaConfig}
 * has one {@code head_dim} for all layers. Indices are strictly increasing, so the columns of a
 * cos/sin table follow the original order.
 *
 * <p>Such a model is not a standard Llama: transformers ignores this field and would rotate every
 * head with the standard frequencies of the pruned head_dim. {@link LlamaConfig} therefore also
 * writes {@code "transact4j_rope": "keep"} next to it.
 */
public final class RopeKeptFrequencies {

    /** The JSON form, which is also the granularity at which the kept pairs may differ. */
    public enum Form {
        /** {@code indices}: one list shared by every layer and kv head. */
        GLOBAL("indices"),
        /** {@code per_layer}: one list per layer, shared by the layer's kv heads. */
        PER_LAYER("per_layer"),
        /** {@code per_layer_per_head}: one list per layer and kv head. */
        PER_LAYER_PER_HEAD("per_layer_per_head");

        private final String field;

        Form(String field) {
            this.field = field;
        }

        /** Returns the JSON field that contains the lists of this form. */
        public String field() {
            return field;
        }
    }

    private final int originalHeadDim;
    // [layer][kvHead][pair]; GLOBAL stores one layer with one head, PER_LAYER one head per layer.
    private final int[][][] lists;
    private final Form form;

    private RopeKeptFrequencies(int originalHeadDim, int[][][] lists, Form form) {
        this.originalHeadDim = originalHeadDim;
        this.lists = lists;
        this.form = form;
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
        return new RopeKeptFrequencies(originalHeadDim, new int[][][] {{indices.clone()}}, Form.GLOBAL);
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
        int[][][] copy = new int[indicesPerLayer.size()][][];
        for (int layer = 0; layer < copy.length; layer++) {
            int[] indices = indicesPerLayer.get(layer);
            check(indices, originalHeadDim, "rope_kept_frequencies.per_layer[" + layer + "]");
            copy[layer] = new int[][] {indices.clone()};
        }
        return new RopeKeptFrequencies(originalHeadDim, copy, Form.PER_LAYER);
    }

    /**
     * Returns kept frequency indices for each layer and kv head: {@code indices[layer][kvHead]}.
     *
     * @throws IllegalArgumentException as {@link #global}, for any list, when there are no layers,
     *     or when the layers list different numbers of kv heads
     */
    public static RopeKeptFrequencies perLayerPerHead(int originalHeadDim, int[][][] indices) {
        checkHeadDim(originalHeadDim, "rope_kept_frequencies");
        String field = "rope_kept_frequencies.per_layer_per_head";
        if (indices.length == 0) {
            throw new IllegalArgumentException(field + " is empty; give one list of kv heads per layer");
        }
        int[][][] copy = new int[indices.length][][];
        for (int layer = 0; layer < indices.length; layer++) {
            if (indices[layer] == null || indices[layer].length == 0) {
                throw new IllegalArgumentException(field + "[" + layer + "] is empty; give one list per kv head");
            }
            if (indices[layer].length != indices[0].length) {
                throw new IllegalArgumentException(field + "[" + layer + "] has " + indices[layer].length
                        + " kv heads but layer 0 has " + indices[0].length + "; every layer has num_key_value_heads lists");
            }
            copy[layer] = new int[indices[layer].length][];
            for (int head = 0; head < indices[layer].length; head++) {
                check(indices[layer][head], originalHeadDim, field + "[" + layer + "][" + head + "]");
                copy[layer][head] = indices[layer][head].clone();
            }
        }
        return new RopeKeptFrequencies(originalHeadDim, copy, Form.PER_LAYER_PER_HEAD);
    }

    static RopeKeptFrequencies parse(JsonNode node, String source) {
        String field = "rope_kept_frequencies";
        if (!node.isObject()) {
            throw new IllegalArgumentException(source + ": field '" + field + "' must be an object with "
                    + "'original_head_dim' and one of 'indices', 'per_layer' or 'per_layer_per_head', found " + node + ".");
        }
        ConfigFields fields = new ConfigFields((ObjectNode) node, source, field + ".");
        int originalHeadDim = fields.requireInt("original_head_dim",
                "Give the head_dim of the unpruned model, from which the kept frequencies are indexed.");
        List<Form> present = new ArrayList<>();
        for (Form form : Form.values()) {
            if (fields.has(form.field())) {
                present.add(form);
            }
        }
        if (present.size() != 1) {
            throw new IllegalArgumentException(source + ": field '" + field + "' must contain exactly one of "
                    + "'indices' (one list for all layers), 'per_layer' (a list per layer) and 'per_layer_per_head' "
                    + "(a list per layer and kv head), found " + (present.isEmpty() ? "none" : present.size()) + ".");
        }
        try {
            return switch (present.get(0)) {
                case GLOBAL -> global(originalHeadDim, readIndices(fields.get("indices"), fields, "indices"));
                case PER_LAYER -> {
                    JsonNode lists = requireArray(fields, "per_layer", "a list of lists of integers");
                    List<int[]> layers = new ArrayList<>();
                    for (int layer = 0; layer < lists.size(); layer++) {
                        layers.add(readIndices(lists.get(layer), fields, "per_layer[" + layer + "]"));
                    }
                    yield perLayer(originalHeadDim, layers);
                }
                case PER_LAYER_PER_HEAD -> {
                    String name = "per_layer_per_head";
                    JsonNode layers = requireArray(fields, name, "a list (per layer) of lists (per kv head) of integers");
                    int[][][] indices = new int[layers.size()][][];
                    for (int layer = 0; layer < indices.length; layer++) {
                        JsonNode heads = layers.get(layer);
                        if (!heads.isArray()) {
                            throw fields.wrongType(name + "[" + layer + "]", "a list (per kv head) of lists of integers", heads);
                        }
                        indices[layer] = new int[heads.size()][];
                        for (int head = 0; head < heads.size(); head++) {
                            indices[layer][head] = readIndices(heads.get(head), fields,
                                    name + "[" + layer + "][" + head + "]");
                        }
                    }
                    yield perLayerPerHead(originalHeadDim, indices);
                }
            };
        } catch (IllegalArgumentException e) {
            if (e.getMessage().startsWith(source)) {
                throw e;
            }
            throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
        }
    }

    private static JsonNode requireArray(ConfigFields fields, String name, String expected) {
        JsonNode node = fields.get(name);
        if (!node.isArray()) {
            throw fields.wrongType(name, expected, node);
        }
        return node;
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
        if (indices == null) {
            throw new IllegalArgumentException(field + " is missing; give the kept rotary frequency indices");
        }
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

    /** Returns the JSON form, which shows at which granularity the kept pairs may differ. */
    public Form form() {
        return form;
    }

    /** Returns whether each layer has its own list or lists ({@link Form#PER_LAYER} or {@link Form#PER_LAYER_PER_HEAD}). */
    public boolean isPerLayer() {
        return form != Form.GLOBAL;
    }

    /** Returns whether each kv head has its own list ({@link Form#PER_LAYER_PER_HEAD}). */
    public boolean isPerHead() {
        return form == Form.PER_LAYER_PER_HEAD;
    }

    /** Returns the number of layers listed, or 1 for the global form. */
    public int layerCount() {
        return lists.length;
    }

    /** Returns the number of kv heads listed per layer, or 1 unless the form is per head. */
    public int headCount() {
        return lists[0].length;
    }

    /**
     * Returns a copy of the kept indices of {@code layer} (0-based); the global form ignores the layer.
     *
     * @throws IllegalStateException for the per-head form, whose kv heads may differ; use {@link #forHead}
     * @throws IndexOutOfBoundsException when a per-layer form has no such layer
     */
    public int[] forLayer(int layer) {
        if (form == Form.PER_LAYER_PER_HEAD) {
            throw new IllegalStateException("rope_kept_frequencies lists the kept pairs per kv head; call forHead(layer, kvHead)");
        }
        return forHead(layer, 0);
    }

    /**
     * Returns a copy of the kept indices of kv head {@code kvHead} in {@code layer} (both 0-based).
     * The global form ignores both arguments and the per-layer form ignores {@code kvHead}, because
     * their lists are shared.
     *
     * @throws IndexOutOfBoundsException when the form lists separate layers or heads and there is no such one
     */
    public int[] forHead(int layer, int kvHead) {
        int layerRow = form == Form.GLOBAL ? 0 : layer;
        int headRow = form == Form.PER_LAYER_PER_HEAD ? kvHead : 0;
        if (layerRow < 0 || layerRow >= lists.length) {
            throw new IndexOutOfBoundsException("rope_kept_frequencies: layer " + layer + " out of range [0, "
                    + lists.length + ")");
        }
        if (headRow < 0 || headRow >= lists[layerRow].length) {
            throw new IndexOutOfBoundsException("rope_kept_frequencies: kv head " + kvHead + " out of range [0, "
                    + lists[layerRow].length + ")");
        }
        return lists[layerRow][headRow].clone();
    }

    JsonNode toJson() {
        ObjectNode node = JsonNodeFactory.instance.objectNode();
        node.put("original_head_dim", originalHeadDim);
        ArrayNode out = node.putArray(form.field());
        switch (form) {
            case GLOBAL -> addList(out, lists[0][0]);
            case PER_LAYER -> {
                for (int[][] layer : lists) {
                    addList(out.addArray(), layer[0]);
                }
            }
            case PER_LAYER_PER_HEAD -> {
                for (int[][] layer : lists) {
                    ArrayNode heads = out.addArray();
                    for (int[] head : layer) {
                        addList(heads.addArray(), head);
                    }
                }
            }
        }
        return node;
    }

    private static void addList(ArrayNode target, int[] indices) {
        Arrays.stream(indices).forEach(target::add);
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
