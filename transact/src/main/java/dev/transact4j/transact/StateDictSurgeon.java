package dev.transact4j.transact;

import dev.transact4j.llama.checkpoint.NamedArray;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Applies a {@link KeepPlan} to a state dict with Hugging Face Llama names, giving the weights of
 * a dense, smaller Llama.
 *
 * <p>Cuts: rows of q_proj, k_proj, v_proj, gate_proj and up_proj (and of their biases), columns
 * of o_proj and down_proj. o_proj and down_proj biases, layer norms, embeddings, the final norm
 * and lm_head are not cut. Layers the plan drops are removed and the kept ones renumbered
 * {@code 0..n-1}. Every tensor is checked against the shape the plan's {@code before} dimensions
 * give it before the cut, and against {@code after} once cut.
 *
 * <p>The returned map is new, but tensors that are not cut share their arrays with the input.
 */
public final class StateDictSurgeon {

    private static final Pattern LAYER_KEY = Pattern.compile("model\\.layers\\.(\\d+)\\.(.+)");

    /**
     * The pruned weights and the dimensions of the pruned model.
     *
     * @param state the pruned state dict, in the input's key order
     * @param dims  the pruned model's dimensions (the plan's {@code after})
     */
    public record Result(Map<String, NamedArray> state, ModelDims dims) {
    }

    private StateDictSurgeon() {
    }

    /**
     * Cuts {@code state} to the channels and layers {@code plan} keeps.
     *
     * @throws IllegalArgumentException when a projection weight is missing, a tensor has a shape
     *                                  other than the plan expects (naming the tensor and both
     *                                  shapes), or a layer contains a tensor the surgeon cannot cut
     */
    public static Result apply(Map<String, NamedArray> state, KeepPlan plan) {
        ModelDims before = plan.before();
        ModelDims after = plan.after();
        int[] newIndex = new int[before.layers()];
        Arrays.fill(newIndex, -1);
        for (int i = 0; i < plan.keptLayers().length; i++) {
            newIndex[plan.keptLayers()[i]] = i;
        }
        requireProjections(state, before);

        Map<String, NamedArray> out = new LinkedHashMap<>();
        for (Map.Entry<String, NamedArray> entry : state.entrySet()) {
            String key = entry.getKey();
            Matcher m = LAYER_KEY.matcher(key);
            if (!m.matches()) {
                out.put(key, entry.getValue());
                continue;
            }

            // a layer tensor: drop it with its layer, or cut it and renumber
            int layer = Integer.parseInt(m.group(1));
            String suffix = m.group(2);
            if (layer >= before.layers()) {
                throw new IllegalArgumentException("StateDictSurgeon: " + key + " belongs to layer " + layer
                        + ", but the plan's model has " + before.layers() + " layers; the plan does not match this state dict");
            }
            if (newIndex[layer] < 0) {
                continue;
            }
            LayerKeep keep = plan.layers().get(newIndex[layer]);
            String newKey = "model.layers." + newIndex[layer] + "." + suffix;
            out.put(newKey, cut(key, suffix, entry.getValue(), keep, before, after));
        }
        return new Result(out, after);
    }

    private static NamedArray cut(String key, String suffix, NamedArray array, LayerKeep keep,
                                  ModelDims before, ModelDims after) {
        for (Projection projection : Projection.values()) {
            boolean isWeight = suffix.equals(projection.path() + ".weight");
            boolean isBias = suffix.equals(projection.path() + ".bias");
            if (!isWeight && !isBias) {
                continue;
            }
            int[] index = channels(projection, keep, before);
            int[] shapeBefore = projection.weightShape(before);
            int[] shapeAfter = projection.weightShape(after);
            if (isBias) {
                int length = shapeBefore[0];
                checkShape(key, "before the cut", array.shape(), new int[] {length});
                if (!projection.rowsArePruned()) {
                    return array;
                }
                NamedArray cut = new NamedArray(gather(array.data(), length, 1, index, true), new int[] {index.length});
                checkShape(key, "after the cut", cut.shape(), new int[] {shapeAfter[0]});
                return cut;
            }
            checkShape(key, "before the cut", array.shape(), shapeBefore);
            int rows = shapeBefore[0];
            int cols = shapeBefore[1];
            int[] newShape = projection.rowsArePruned() ? new int[] {index.length, cols} : new int[] {rows, index.length};
            NamedArray cut = new NamedArray(gather(array.data(), rows, cols, index, projection.rowsArePruned()), newShape);
            checkShape(key, "after the cut", cut.shape(), shapeAfter);
            return cut;
        }
        if (suffix.startsWith("self_attn.") || suffix.startsWith("mlp.")) {
            throw new IllegalArgumentException("StateDictSurgeon: " + key + " is not a tensor the surgeon knows how to cut"
                    + " (expected the weights and biases of q/k/v/o_proj and gate/up/down_proj); remove it from the"
                    + " state dict, for example a stored rotary inv_freq buffer, which the model rebuilds");
        }
        return array;
    }

    /** Returns the kept channel indices on the pruned side of {@code projection}. */
    private static int[] channels(Projection projection, LayerKeep keep, ModelDims before) {
        int headDim = before.headDim();
        int group = before.groupSize();
        switch (projection) {
            case Q_PROJ, O_PROJ -> {
                // query head h keeps the dims of its kv head h / group
                List<Integer> rows = new ArrayList<>();
                for (int q = 0; q < keep.queryHeads().length; q++) {
                    int head = keep.queryHeads()[q];
                    for (int d : keep.headDims()[q / group]) {
                        rows.add(head * headDim + d);
                    }
                }
                return rows.stream().mapToInt(Integer::intValue).toArray();
            }
            case K_PROJ, V_PROJ -> {
                List<Integer> rows = new ArrayList<>();
                for (int j = 0; j < keep.kvHeads().length; j++) {
                    for (int d : keep.headDims()[j]) {
                        rows.add(keep.kvHeads()[j] * headDim + d);
                    }
                }
                return rows.stream().mapToInt(Integer::intValue).toArray();
            }
            default -> {
                return keep.mlpChannels();
            }
        }
    }

    /** Copies the rows (or columns) {@code index} of a row-major {@code [rows, cols]} matrix. */
    private static float[] gather(float[] data, int rows, int cols, int[] index, boolean byRows) {
        if (byRows) {
            float[] out = new float[index.length * cols];
            for (int i = 0; i < index.length; i++) {
                System.arraycopy(data, index[i] * cols, out, i * cols, cols);
            }
            return out;
        }
        float[] out = new float[rows * index.length];
        for (int r = 0; r < rows; r++) {
            int base = r * cols;
            int outBase = r * index.length;
            for (int i = 0; i < index.length; i++) {
                out[outBase + i] = data[base + index[i]];
            }
        }
        return out;
    }

    private static void requireProjections(Map<String, NamedArray> state, ModelDims before) {
        List<String> missing = new ArrayList<>();
        for (int layer = 0; layer < before.layers(); layer++) {
            for (Projection projection : Projection.values()) {
                if (!state.containsKey(projection.weightName(layer))) {
                    missing.add(projection.weightName(layer));
                }
            }
        }
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException("StateDictSurgeon: the state dict lacks " + missing
                    + "; pass the full state dict of the model the plan was made for");
        }
    }

    private static void checkShape(String key, String when, int[] actual, int[] expected) {
        if (!Arrays.equals(actual, expected)) {
            throw new IllegalArgumentException("StateDictSurgeon: " + key + " has shape " + Arrays.toString(actual) + " "
                    + when + ", but the plan expects " + Arrays.toString(expected));
        }
    }
}
