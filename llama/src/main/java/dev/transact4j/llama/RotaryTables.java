package dev.transact4j.llama;

import dev.transact4j.tensor.Functional;
import dev.transact4j.tensor.Tensor;

/**
 * The cos/sin tables of every decoder layer as tensors {@code [P, HS]}, the layout
 * {@link Functional#rope} reads, grown when a longer sequence needs more positions.
 *
 * <p>A layer has one table, or one per key/value head when its kept rotary frequencies differ
 * per head ({@link RopeKeptFrequencies#isPerHead()}); then each key head and the query heads of
 * its group rotate with that head's table. Without kept frequencies all layers share one table.
 */
final class RotaryTables {

    /** Rows of the first table, so short prompts and decoding do not rebuild the tables at every step. */
    private static final int MIN_ROWS = 64;

    private final LlamaConfig config;
    private int rows;
    private Tensor[][] cos;
    private Tensor[][] sin;

    RotaryTables(LlamaConfig config) {
        this.config = config;
    }

    /**
     * Makes the tables cover positions {@code [0, positions)}. Up to max_position_embeddings the row
     * count at least doubles, so a growing sequence rebuilds them a logarithmic number of times.
     * Beyond it the tables are rebuilt for exactly {@code positions}, because dynamic scaling
     * computes its frequencies from the sequence length.
     * NOTE: keys already in a KV cache keep the rotation of the tables they were computed with.
     */
    synchronized void ensure(int positions) {
        if (positions <= rows) {
            return;
        }
        int max = config.maxPositionEmbeddings();
        int target = positions > max ? positions : Math.min(max, Math.max(positions, Math.max(MIN_ROWS, 2 * rows)));
        int layers = config.numHiddenLayers();
        Tensor[][] newCos = new Tensor[layers][];
        Tensor[][] newSin = new Tensor[layers][];
        RopeKeptFrequencies kept = config.ropeKeptFrequencies();
        int tablesPerLayer = kept != null && kept.isPerHead() ? config.numKeyValueHeads() : 1;
        for (int layer = 0; layer < layers; layer++) {
            if (kept == null && layer > 0) {
                newCos[layer] = newCos[0];
                newSin[layer] = newSin[0];
                continue;
            }
            newCos[layer] = new Tensor[tablesPerLayer];
            newSin[layer] = new Tensor[tablesPerLayer];
            for (int head = 0; head < tablesPerLayer; head++) {
                Rotary.Table table = Rotary.forHead(config, layer, head, target).table(0, target);
                newCos[layer][head] = Tensor.wrap(table.cos(), target, table.width());
                newSin[layer][head] = Tensor.wrap(table.sin(), target, table.width());
            }
        }
        cos = newCos;
        sin = newSin;
        rows = target;
    }

    /**
     * Rotates x {@code [B, H, T, HS]} (query or key heads of {@code layer}) with time step
     * {@code t} at position {@code positionOffset + t}; the tables must cover those positions.
     */
    Tensor apply(int layer, Tensor x, int positionOffset) {
        Tensor[] layerCos;
        Tensor[] layerSin;
        synchronized (this) {
            layerCos = cos[layer];
            layerSin = sin[layer];
        }
        return apply(x, layerCos, layerSin, positionOffset);
    }

    /**
     * Rotates x {@code [B, H, T, HS]} with one table per group of {@code H / tables} consecutive
     * heads. For query heads, group {@code g} is the heads that read key/value head {@code g}.
     */
    static Tensor apply(Tensor x, Tensor[] cos, Tensor[] sin, int positionOffset) {
        if (cos.length == 1) {
            return Functional.rope(x, cos[0], sin[0], positionOffset);
        }
        int heads = x.size(1);
        if (heads % cos.length != 0) {
            throw new IllegalArgumentException("RotaryTables.apply: " + heads + " heads cannot be split into "
                    + cos.length + " groups of equal size");
        }
        int perGroup = heads / cos.length;
        Tensor[] parts = new Tensor[cos.length];
        for (int g = 0; g < parts.length; g++) {
            parts[g] = Functional.rope(x.narrow(1, g * perGroup, perGroup), cos[g], sin[g], positionOffset);
        }
        return Tensor.concat(1, parts);
    }
}
