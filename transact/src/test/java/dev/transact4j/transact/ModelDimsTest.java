package dev.transact4j.transact;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

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
