package dev.transact4j.transact;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.transact4j.llama.LlamaConfig;
import dev.transact4j.llama.RopeKeptFrequencies;
import org.junit.jupiter.api.Test;

class ModelDimsTest {

    @Test
    void rejectsHeadsNotMultipleOfKvHeads() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelDims.of(16, 6, 4, 8, 40, 2));
        assertEquals("ModelDims: num_attention_heads 6 is not a multiple of num_key_value_heads 4", e.getMessage());
    }

    @Test
    void rejectsInconsistentMhaInterSize() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ModelDims(16, 4, 2, 8, 30, 40, 2, null));
        assertEquals("ModelDims: mha_inter_size 30 differs from num_attention_heads * head_dim = 4 * 8", e.getMessage());
    }

    @Test
    void fromConfigExpandsKeptFrequencies() {
        // tiny: 4 layers; pruned to 8 heads over 4 kv heads of head_dim 4, one kept list for all layers
        LlamaConfig config = LlamaConfig.tiny().toBuilder().numKeyValueHeads(4).headDim(4)
                .ropeKeptFrequencies(RopeKeptFrequencies.global(32, new int[] {3, 11})).build();
        ModelDims dims = ModelDims.from(config);

        int[][][] expanded = new int[4][4][];
        for (int[][] layer : expanded) {
            java.util.Arrays.fill(layer, new int[] {3, 11});
        }
        assertEquals(new ModelDims(256, 8, 4, 4, 32, 688, 4, expanded), dims);
        assertArrayEquals(new int[] {3, 11}, dims.frequencies(3, 2));
        assertEquals(ModelDims.of(256, 8, 8, 32, 688, 4), ModelDims.from(LlamaConfig.tiny()));
    }

    @Test
    void rejectsZeroLayers() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelDims.of(16, 4, 2, 8, 40, 0));
        assertEquals("ModelDims: num_hidden_layers must be positive, got 0", e.getMessage());
    }

    @Test
    void rejectsFrequencyRowOfWrongLength() {
        int[][][] frequencies = {{{0, 1}, {2}}};
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ModelDims(16, 4, 2, 4, 16, 40, 1, frequencies));
        assertEquals("ModelDims: keptFrequencies of layer 0, kv head 1 must have head_dim / 2 = 2 entries", e.getMessage());
    }

    @Test
    void frequenciesDefaultToIdentity() {
        ModelDims standard = ModelDims.of(16, 4, 2, 6, 40, 1);
        ModelDims kept = new ModelDims(16, 4, 2, 6, 24, 40, 1, new int[][][] {{{0, 3, 5}, {1, 2, 7}}});

        assertArrayEquals(new int[] {0, 1, 2}, standard.frequencies(0, 1));
        assertArrayEquals(new int[] {1, 2, 7}, kept.frequencies(0, 1));
        assertNotEquals(standard, kept);
        assertEquals(kept, new ModelDims(16, 4, 2, 6, 24, 40, 1, new int[][][] {{{0, 3, 5}, {1, 2, 7}}}));
    }
}
