package dev.transact4j.transact;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.transact4j.llama.LlamaConfig;
import dev.transact4j.transact.PruningSchedule.Sizes;
import java.util.List;
import org.junit.jupiter.api.Test;

class PruningScheduleTest {

    @Test
    void evenSplitOverFourShots() {
        // 688 -> 344 over 4 shots: 344/4 = 86, 258/3 = 86, 172/2 = 86, 86/1 = 86.
        int current = 688;
        int[] expected = {602, 516, 430, 344};
        for (int shot = 1; shot <= 4; shot++) {
            current = PruningSchedule.nextSize("intermediate_size", current, 344, 4, shot);
            assertEquals(expected[shot - 1], current, "after shot " + shot);
        }
    }

    @Test
    void unevenSplitFloorsEachStep() {
        // 10 -> 3 over 3 shots: 7/3 = 2 -> 8, 5/2 = 2 -> 6, 3/1 = 3 -> 3.
        assertEquals(8, PruningSchedule.nextSize("x", 10, 3, 3, 1));
        assertEquals(6, PruningSchedule.nextSize("x", 8, 3, 3, 2));
        assertEquals(3, PruningSchedule.nextSize("x", 6, 3, 3, 3));

        // 17 -> 1 over 5 shots: 16/5 = 3 -> 14, 13/4 = 3 -> 11, 10/3 = 3 -> 8, 7/2 = 3 -> 5, 4/1 -> 1.
        int current = 17;
        int[] expected = {14, 11, 8, 5, 1};
        for (int shot = 1; shot <= 5; shot++) {
            current = PruningSchedule.nextSize("x", current, 1, 5, shot);
            assertEquals(expected[shot - 1], current, "after shot " + shot);
        }
    }

    @Test
    void smallGapStaysUntilLaterShots() {
        // 5 -> 3 over 4 shots: 2/4 = 0, 2/3 = 0, 2/2 = 1 -> 4, 1/1 = 1 -> 3.
        PruningSchedule schedule = new PruningSchedule(4, new Sizes(3, 3, 3));
        List<Sizes> plan = schedule.plan(new Sizes(5, 5, 5));

        assertEquals(List.of(new Sizes(5, 5, 5), new Sizes(5, 5, 5), new Sizes(4, 4, 4), new Sizes(3, 3, 3)), plan);
    }

    @Test
    void singleShotReachesTarget() {
        assertEquals(100, PruningSchedule.nextSize("x", 4096, 100, 1, 1));
        assertEquals(7, PruningSchedule.nextSize("x", 7, 7, 1, 1), "already at the target");
    }

    @Test
    void planFromTinyConfigEndsAtTarget() {
        LlamaConfig tiny = LlamaConfig.tiny();
        Sizes start = Sizes.of(tiny);
        assertEquals(new Sizes(256, 688, 4), start);

        PruningSchedule schedule = new PruningSchedule(3, new Sizes(128, 172, 3));
        List<Sizes> plan = schedule.plan(start);

        // attention 256 -> 128: 128/3 = 42 -> 214, 86/2 = 43 -> 171, 43 -> 128.
        // mlp 688 -> 172: 516/3 = 172 -> 516, 344/2 = 172 -> 344, 172 -> 172.
        // layers 4 -> 3: 1/3 = 0, 1/2 = 0, 1 -> 3.
        assertEquals(List.of(new Sizes(214, 516, 4), new Sizes(171, 344, 4), new Sizes(128, 172, 3)), plan);
        assertEquals(schedule.target(), plan.get(plan.size() - 1));
    }

    @Test
    void nextStartsFromActualSizes() {
        PruningSchedule schedule = new PruningSchedule(3, new Sizes(128, 172, 3));
        // A caller rounded the attention width of shot 1 (214) down to whole heads of 32 (192).
        Sizes afterSecond = schedule.next(new Sizes(192, 516, 4), 2);

        assertEquals(new Sizes(160, 344, 4), afterSecond);
    }

    @Test
    void invalidInputsAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PruningSchedule.nextSize("intermediate_size", 300, 400, 3, 1));
        assertTrue(e.getMessage().contains("target intermediate_size 400 is larger than the current 300"), e.getMessage());

        e = assertThrows(IllegalArgumentException.class, () -> PruningSchedule.nextSize("num_hidden_layers", 4, 0, 3, 1));
        assertTrue(e.getMessage().contains("target num_hidden_layers is 0 but must be positive"), e.getMessage());

        e = assertThrows(IllegalArgumentException.class, () -> new PruningSchedule(2, new Sizes(64, -1, 2)));
        assertTrue(e.getMessage().contains("target intermediate_size is -1 but must be positive"), e.getMessage());

        e = assertThrows(IllegalArgumentException.class, () -> new PruningSchedule(0, new Sizes(64, 64, 2)));
        assertTrue(e.getMessage().contains("prune_shots is 0 but must be at least 1"), e.getMessage());

        PruningSchedule schedule = new PruningSchedule(2, new Sizes(64, 64, 2));
        e = assertThrows(IllegalArgumentException.class, () -> schedule.next(new Sizes(128, 128, 4), 3));
        assertTrue(e.getMessage().contains("shot 3 is outside [1, 2]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> schedule.next(new Sizes(128, 128, 4), 0));
        assertTrue(e.getMessage().contains("shot 0 is outside [1, 2]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> schedule.plan(new Sizes(32, 128, 4)));
        assertTrue(e.getMessage().contains("target attention width 64 is larger than the current 32"), e.getMessage());
    }
}
