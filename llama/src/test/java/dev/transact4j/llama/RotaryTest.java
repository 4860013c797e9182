package dev.transact4j.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.transact4j.tensor.testing.Fixture;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Checks rotary frequencies and tables against {@code fixtures/rope.safetensors}, written by
 * {@code src/test/python/make_rope_fixtures.py} with PyTorch in float64 and float32.
 */
class RotaryTest {

    private static final Fixture ROPE = Fixture.load("rope");

    /** One fixture case: its config and the sequence length for dynamic scaling. */
    private record Case(String name, LlamaConfig config, int sequenceLength) {
    }

    private static List<Case> cases() {
        List<Case> cases = new ArrayList<>();
        for (Map.Entry<String, String> entry : ROPE.metadata().entrySet()) {
            if (!entry.getKey().startsWith("config.")) {
                continue;
            }
            String name = entry.getKey().substring("config.".length());
            LlamaConfig config = LlamaConfig.parse(entry.getValue(), "fixture case " + name);
            String length = ROPE.metadata().get("seq_len." + name);
            cases.add(new Case(name, config, length == null ? config.maxPositionEmbeddings() : Integer.parseInt(length)));
        }
        assertEquals(11, cases.size(), "fixture cases");
        return cases;
    }

    @Test
    void inverseFrequenciesMatchFloat64Reference() {
        for (Case c : cases()) {
            double[] expected = ROPE.get(c.name + ".inv_freq_f64").values();
            double[] actual = Rotary.forLayer(c.config, 0, c.sequenceLength).inverseFrequencies();

            assertEquals(expected.length, actual.length, c.name + ": pairs");
            for (int i = 0; i < expected.length; i++) {
                assertEquals(expected[i], actual[i], 1e-12 * expected[i], c.name + ": inv_freq[" + i + "]");
            }
        }
    }

    @Test
    void inverseFrequenciesMatchFloat32Reference() {
        for (Case c : cases()) {
            double[] expected = ROPE.get(c.name + ".inv_freq_f32").values();
            double[] actual = Rotary.inverseFrequencies(c.config, c.sequenceLength);

            for (int i = 0; i < expected.length; i++) {
                assertEquals(expected[i], actual[i], 2e-6 * expected[i], c.name + ": inv_freq[" + i + "]");
            }
        }
    }

    @Test
    void attentionScalingMatchesReference() {
        for (Case c : cases()) {
            double expected = ROPE.get(c.name + ".attention_scaling").scalar();
            assertEquals(expected, Rotary.attentionScaling(c.config), 1e-14, c.name);
        }
        assertTrue(ROPE.get("yarn_f16_d128.attention_scaling").scalar() > 1.27, "YaRN factor 16 scales by 0.1 ln 16 + 1");
    }

    @Test
    void tablesMatchFloat64Reference() {
        int[] positions = ROPE.get("positions").ints();
        for (Case c : cases()) {
            Rotary rotary = Rotary.forLayer(c.config, 1, c.sequenceLength);
            int half = rotary.pairs();
            double[] cos = ROPE.get(c.name + ".cos_half_f64").values();
            double[] sin = ROPE.get(c.name + ".sin_half_f64").values();

            for (int row = 0; row < positions.length; row++) {
                Rotary.Table table = rotary.table(positions[row], 1);
                for (int j = 0; j < half; j++) {
                    String where = c.name + " position " + positions[row] + " column " + j;
                    assertEquals(cos[row * half + j], table.cos(0, j), 2e-7, where + " cos");
                    assertEquals(sin[row * half + j], table.sin(0, j), 2e-7, where + " sin");
                    assertEquals(table.cos(0, j), table.cos(0, j + half), where + " cos second half");
                    assertEquals(table.sin(0, j), table.sin(0, j + half), where + " sin second half");
                }
            }
        }
    }

    /**
     * The float32 reference follows transformers, whose angle error grows with the position: allow
     * 2e-6 plus 1e-6 of the angle, which still catches a wrong frequency or layout.
     */
    @Test
    void tablesMatchFloat32ReferenceWithinAngleError() {
        int[] positions = ROPE.get("positions").ints();
        for (Case c : cases()) {
            Rotary rotary = Rotary.forLayer(c.config, 0, c.sequenceLength);
            double[] inv = rotary.inverseFrequencies();
            int half = rotary.pairs();
            double[] cos = ROPE.get(c.name + ".cos_half_f32").values();
            double[] sin = ROPE.get(c.name + ".sin_half_f32").values();

            for (int row = 0; row < positions.length; row++) {
                Rotary.Table table = rotary.table(positions[row], 1);
                for (int j = 0; j < half; j++) {
                    double tolerance = 2e-6 + 1e-6 * positions[row] * inv[j];
                    String where = c.name + " position " + positions[row] + " column " + j;
                    assertEquals(cos[row * half + j], table.cos(0, j), tolerance, where + " cos");
                    assertEquals(sin[row * half + j], table.sin(0, j), tolerance, where + " sin");
                }
            }
        }
    }

    @Test
    void doubleAnglesStayAccurateWhereFloat32Drifts() {
        // At position 500000 the float32 path of transformers is off by about 0.01, the double path is not.
        int[] positions = ROPE.get("positions").ints();
        int last = positions.length - 1;
        assertEquals(500000, positions[last]);
        double[] cos64 = ROPE.get("default_theta1e4_d64.cos_half_f64").values();
        double[] cos32 = ROPE.get("default_theta1e4_d64.cos_half_f32").values();
        Rotary.Table table = Rotary.forLayer(LlamaConfig.parse(ROPE.metadata().get("config.default_theta1e4_d64"), "d64"), 0)
                .table(500000, 1);

        double float32Error = 0;
        double tableError = 0;
        for (int j = 0; j < 32; j++) {
            float32Error = Math.max(float32Error, Math.abs(cos64[last * 32 + j] - cos32[last * 32 + j]));
            tableError = Math.max(tableError, Math.abs(cos64[last * 32 + j] - table.cos(0, j)));
        }
        assertTrue(float32Error > 1e-3, "float32 reference error " + float32Error);
        assertTrue(tableError < 1e-7, "table error " + tableError);
    }

    @Test
    void dynamicScalingDependsOnLengthBeyondMaximum() {
        LlamaConfig config = LlamaConfig.tiny().toBuilder().ropeScaling(RopeScaling.dynamic(2.0)).build();
        double[] plain = Rotary.inverseFrequencies(LlamaConfig.tiny(), 1);

        assertArrayEquals(plain, Rotary.inverseFrequencies(config, 1));
        assertArrayEquals(plain, Rotary.inverseFrequencies(config, 1024));
        double[] longer = Rotary.inverseFrequencies(config, 4096);
        assertEquals(plain[0], longer[0], "frequency 0 is always 1");
        for (int i = 1; i < plain.length; i++) {
            assertTrue(longer[i] < plain[i], "a larger base lowers frequency " + i);
        }
    }

    @Test
    void keptFrequenciesSelectColumns() {
        LlamaConfig full = LlamaConfig.tiny();
        int[] kept = {0, 3, 4, 9, 10, 11, 14, 15};
        LlamaConfig pruned = full.withAttentionHeads(8, 8, 16).withRopeKeptFrequencies(RopeKeptFrequencies.global(32, kept));
        Rotary.Table fullTable = Rotary.forLayer(full, 0).table(0, 37);
        Rotary.Table prunedTable = Rotary.forLayer(pruned, 2).table(0, 37);

        assertEquals(16, prunedTable.width());
        for (int row = 0; row < 37; row++) {
            for (int j = 0; j < kept.length; j++) {
                assertEquals(fullTable.cos(row, kept[j]), prunedTable.cos(row, j), "cos row " + row + " kept " + j);
                assertEquals(fullTable.sin(row, kept[j]), prunedTable.sin(row, j), "sin row " + row + " kept " + j);
                assertEquals(fullTable.cos(row, 16 + kept[j]), prunedTable.cos(row, 8 + j), "second half " + row);
            }
        }
    }

    @Test
    void perLayerKeptFrequenciesDiffer() {
        LlamaConfig config = LlamaConfig.tiny().withAttentionHeads(8, 8, 4).withRopeKeptFrequencies(
                RopeKeptFrequencies.perLayer(32, List.of(new int[] {0, 1}, new int[] {5, 15}, new int[] {2, 3}, new int[] {0, 9})));
        double[] all = Rotary.inverseFrequencies(config, 1);

        assertArrayEquals(new double[] {all[5], all[15]}, Rotary.forLayer(config, 1).inverseFrequencies());
        assertArrayEquals(new double[] {all[0], all[9]}, Rotary.forLayer(config, 3).inverseFrequencies());
    }

    @Test
    void perHeadKeptFrequenciesDiffer() {
        // tiny has 4 layers; keep 2 kv heads of 4 dims, each kv head with its own pairs of the original 16
        int[][][] indices = {
            {{0, 1}, {2, 9}}, {{5, 15}, {0, 3}}, {{2, 3}, {4, 5}}, {{0, 9}, {1, 14}},
        };
        LlamaConfig config = LlamaConfig.tiny().toBuilder().numAttentionHeads(4).numKeyValueHeads(2).headDim(4)
                .ropeKeptFrequencies(RopeKeptFrequencies.perLayerPerHead(32, indices)).build();
        double[] all = Rotary.inverseFrequencies(config, 1);
        Rotary.Table full = Rotary.forLayer(LlamaConfig.tiny(), 0).table(0, 17);

        assertArrayEquals(new double[] {all[0], all[3]}, Rotary.forHead(config, 1, 1).inverseFrequencies());
        assertArrayEquals(new double[] {all[1], all[14]}, Rotary.forHead(config, 3, 1).inverseFrequencies());
        Rotary.Table head = Rotary.forHead(config, 1, 0).table(0, 17);
        for (int row = 0; row < 17; row++) {
            assertEquals(full.cos(row, 5), head.cos(row, 0), "cos row " + row);
            assertEquals(full.sin(row, 15), head.sin(row, 1), "sin row " + row);
            assertEquals(full.sin(row, 16 + 15), head.sin(row, 3), "second half row " + row);
        }

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Rotary.forLayer(config, 0));
        assertTrue(e.getMessage().contains("build one table per kv head with Rotary.forHead"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Rotary.forHead(config, 0, 2));
        assertEquals("Rotary: kv head 2 out of range [0, 2)", e.getMessage());
    }

    @Test
    void forHeadEqualsForLayerWithoutKeptFrequencies() {
        LlamaConfig config = LlamaConfig.small();
        assertArrayEquals(Rotary.forLayer(config, 3).inverseFrequencies(), Rotary.forHead(config, 3, 7).inverseFrequencies());
    }

    @Test
    void tableOffsetMatchesRowsFromZero() {
        Rotary rotary = Rotary.forLayer(LlamaConfig.small(), 0);
        Rotary.Table whole = rotary.table(0, 33);
        Rotary.Table tail = rotary.table(17, 16);

        assertEquals(17, tail.startPosition());
        for (int row = 0; row < 16; row++) {
            for (int column = 0; column < whole.width(); column++) {
                assertEquals(whole.cos(17 + row, column), tail.cos(row, column));
                assertEquals(whole.sin(17 + row, column), tail.sin(row, column));
            }
        }
        assertEquals(1f, whole.cos(0, 5));
        assertEquals(0f, whole.sin(0, 5));
    }

    @Test
    void invalidArgumentsAreRejected() {
        Rotary rotary = Rotary.forLayer(LlamaConfig.tiny(), 0);

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> rotary.fill(0, 3, new float[95], new float[96]));
        assertTrue(e.getMessage().contains("need arrays of 96 floats, found cos 95 and sin 96"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> rotary.table(-1, 3));
        assertTrue(e.getMessage().contains("invalid range start -1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Rotary.forLayer(LlamaConfig.tiny(), 4));
        assertTrue(e.getMessage().contains("layer 4 out of range [0, 4)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Rotary.inverseFrequencies(LlamaConfig.tiny(), 0));
        assertTrue(e.getMessage().contains("sequence length 0 must be positive"), e.getMessage());

        LlamaConfig narrow = LlamaConfig.tiny().toBuilder().ropeScaling(RopeScaling.dynamic(2)).headDim(2).build();
        e = assertThrows(IllegalArgumentException.class, () -> Rotary.forLayer(narrow, 0));
        assertTrue(e.getMessage().contains("dynamic scaling needs a rotary dimension above 2"), e.getMessage());
    }
}
