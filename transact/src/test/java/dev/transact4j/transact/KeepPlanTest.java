package dev.transact4j.transact;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KeepPlanTest {

    @TempDir
    Path directory;

    @Test
    void jsonRoundTripEveryScenario() {
        for (String name : TransactFixtures.SCENARIOS) {
            for (TransactFixtures.Shot shot : TransactFixtures.run(name).shots()) {
                KeepPlan plan = shot.plan();
                Path file = directory.resolve(name + ".json");
                plan.save(file);
                KeepPlan loaded = KeepPlan.load(file);

                assertEquals(plan, loaded, name);
                assertEquals(plan.hashCode(), loaded.hashCode(), name);
                assertEquals(plan.toJson(), loaded.toJson(), name);
                assertFalse(Files.exists(directory.resolve(name + ".json.tmp")), "temporary file left behind");
            }
        }
    }

    @Test
    void keepModeFrequenciesSurviveJson() {
        KeepPlan plan = TransactFixtures.run("gqa_dim_keep_shots").shots().get(2).plan();
        KeepPlan loaded = KeepPlan.fromJson(plan.toJson());
        assertEquals(plan.after(), loaded.after());
        assertTrue(plan.toJson().contains("\"keptFrequencies\""), plan.toJson());
    }

    @Test
    void plansOfDifferentShotsDiffer() {
        List<TransactFixtures.Shot> shots = TransactFixtures.run("mha_shots").shots();
        assertNotEquals(shots.get(0).plan(), shots.get(1).plan());
    }

    @Test
    void toStringShowsWidthsAndIndices() {
        KeepPlan plan = TransactFixtures.run("mha_heads").shots().get(0).plan();
        String text = plan.toString();
        assertTrue(text.contains("heads 4 -> 3, kv heads 4 -> 3, head_dim 8 -> 8"), text);
        assertTrue(text.contains("mha width 32 -> 24 (requested 20)"), text);
        assertTrue(text.contains("layers 3 -> 3, kept [0, 1, 2]"), text);
        assertTrue(text.contains("layer 0: query heads " + Arrays.toString(plan.layers().get(0).queryHeads())), text);
    }

    @Test
    void toStringShortensLongLists() {
        int[] channels = new int[30];
        Arrays.setAll(channels, i -> 2 * i);
        assertEquals("[0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, ... 10 more ..., 52, 54, 56, 58]",
                LayerKeep.list(channels));
        assertEquals("[0, 2, 4]", LayerKeep.list(new int[] {0, 2, 4}));
    }

    @Test
    void loadRejectsIndexOutOfRange() throws IOException {
        KeepPlan plan = TransactFixtures.run("mha_mlp_layers").shots().get(0).plan();
        String json = plan.toJson().replaceFirst("\"mlpChannels\" : \\[ (\\d+)", "\"mlpChannels\" : [ 99");
        Path file = directory.resolve("broken.json");
        Files.writeString(file, json);

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KeepPlan.load(file));
        assertTrue(e.getMessage().startsWith("Keep plan file " + file + ": Invalid keep plan JSON"), e.getMessage());
        assertTrue(e.getMessage().contains("layer 0 mlp channels contains 99, outside [0, 40)"), e.getMessage());
    }

    @Test
    void loadRejectsMissingFile() {
        Path file = directory.resolve("absent.json");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KeepPlan.load(file));
        assertEquals("Keep plan file " + file + " not found; write it with KeepPlan.save first", e.getMessage());
    }

    @Test
    void rejectsQueryHeadsOutsideTheirGroups() {
        ModelDims before = ModelDims.of(4, 4, 2, 2, 3, 1);
        ModelDims after = ModelDims.of(4, 2, 1, 2, 3, 1);
        LayerKeep keep = new LayerKeep(0, new int[] {1, 2}, new int[] {0}, new int[][] {{0, 1}}, new int[] {0, 1, 2},
                new int[][] {{0}});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new KeepPlan(PruneTarget.heads(4, 3), before, after, new int[] {0}, List.of(keep)));
        assertEquals("KeepPlan: layer 0 keeps query heads [1, 2], which are not the whole groups of kv heads [0]",
                e.getMessage());
    }
}
