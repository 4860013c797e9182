package dev.transact4j.nn.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LrScheduleTest {

    @Test
    void warmupRisesLinearlyFromZero() {
        LrSchedule schedule = LrSchedule.cosine(4, 20);
        assertEquals(0.0, schedule.factor(0));
        assertEquals(0.25, schedule.factor(1));
        assertEquals(0.75, schedule.factor(3));
        assertEquals(1.0, schedule.factor(4));
    }

    @Test
    void decaysReachTheirEnds() {
        assertEquals(0.0, LrSchedule.linear(2, 10).factor(10));
        assertEquals(0.0, LrSchedule.linear(2, 10).factor(15), "clamped at zero after the end");
        assertEquals(0.5, LrSchedule.linear(2, 10).factor(6));
        assertEquals(0.0, LrSchedule.cosine(2, 10).factor(10), 1e-16);
        assertEquals(0.5, LrSchedule.cosine(2, 10).factor(6), 1e-15);
        assertEquals(1.0, LrSchedule.constant(3).factor(1000));
    }

    @Test
    void minLrRatioIsTheFloor() {
        assertEquals(0.1, LrSchedule.cosine(0, 10).withMinLrRatio(0.1).factor(10), 1e-15);
        assertEquals(0.1, LrSchedule.linear(0, 10).withMinLrRatio(0.1).factor(12), 1e-15);
        assertEquals(0.55, LrSchedule.linear(0, 10).withMinLrRatio(0.1).factor(5), 1e-15);
        assertEquals(1.0, LrSchedule.constant(0).withMinLrRatio(0.1).factor(5));
    }

    @Test
    void warmupStepsFromRatioRoundsUp() {
        assertEquals(3, LrSchedule.warmupStepsFromRatio(0.1, 21));
        assertEquals(0, LrSchedule.warmupStepsFromRatio(0.0, 100));
        assertEquals(100, LrSchedule.warmupStepsFromRatio(1.0, 100));
    }

    @Test
    void rejectsInvalidArguments() {
        IllegalArgumentException step = assertThrows(IllegalArgumentException.class, () -> LrSchedule.constant(0).factor(-1));
        assertTrue(step.getMessage().contains("step must be 0 or more, got -1"), step.getMessage());
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.linear(-1, 10));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.cosine(0, 10).withMinLrRatio(1.5));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.warmupStepsFromRatio(-0.1, 10));
    }
}
