package dev.transact4j.transact;

/**
 * The seven projections of a Llama layer that pruning cuts, with their Hugging Face names and the
 * side of the weight that carries the pruned channels.
 *
 * <p>Weights are {@code [out_features, in_features]}. Pruned channels are the rows (outputs) of
 * q, k, v, gate and up, and the columns (inputs) of o and down. For k and v a row is a kv channel
 * {@code g * head_dim + d}; the query channel {@code h * head_dim + d} reads kv channel
 * {@code (h / group) * head_dim + d}, where {@code group = heads / kv_heads}.
 */
public enum Projection {
    Q_PROJ("self_attn.q_proj", true),
    K_PROJ("self_attn.k_proj", true),
    V_PROJ("self_attn.v_proj", true),
    O_PROJ("self_attn.o_proj", false),
    GATE_PROJ("mlp.gate_proj", true),
    UP_PROJ("mlp.up_proj", true),
    DOWN_PROJ("mlp.down_proj", false);

    private final String path;
    private final boolean rowsArePruned;

    Projection(String path, boolean rowsArePruned) {
        this.path = path;
        this.rowsArePruned = rowsArePruned;
    }

    /** Returns the module path inside a layer, such as {@code self_attn.q_proj}. */
    public String path() {
        return path;
    }

    /** Returns whether pruning removes rows (output channels) rather than columns. */
    public boolean rowsArePruned() {
        return rowsArePruned;
    }

    /** Returns whether this projection belongs to the attention block. */
    public boolean isAttention() {
        return path.startsWith("self_attn.");
    }

    /** Returns {@code model.layers.<layer>.<path>.weight}. */
    public String weightName(int layer) {
        return "model.layers." + layer + "." + path + ".weight";
    }

    /** Returns {@code model.layers.<layer>.<path>.bias}. */
    public String biasName(int layer) {
        return "model.layers." + layer + "." + path + ".bias";
    }

    /** Returns the weight shape {@code [out_features, in_features]} for a model of these dimensions. */
    public int[] weightShape(ModelDims dims) {
        int kvWidth = dims.kvHeads() * dims.headDim();
        return switch (this) {
            case Q_PROJ -> new int[] {dims.mhaInterSize(), dims.hiddenSize()};
            case K_PROJ, V_PROJ -> new int[] {kvWidth, dims.hiddenSize()};
            case O_PROJ -> new int[] {dims.hiddenSize(), dims.mhaInterSize()};
            case GATE_PROJ, UP_PROJ -> new int[] {dims.intermediateSize(), dims.hiddenSize()};
            case DOWN_PROJ -> new int[] {dims.hiddenSize(), dims.intermediateSize()};
        };
    }
}
