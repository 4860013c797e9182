package dev.transact4j.train.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** SplitMix64 with a one-long state. */
class TrainingRandomTest {

    @Test
    void matchesSplittableRandom() {
        // java.util.SplittableRandom(seed) without splits is SplitMix64 with the same gamma and mix
        for (long seed : new long[] {0, 1, -7, 0x123456789abcdefL}) {
            SplittableRandom oracle = new SplittableRandom(seed);
            TrainingRandom random = new TrainingRandom(seed);
            for (int i = 0; i < 17; i++) {
                assertEquals(oracle.nextLong(), random.nextLong(), "seed " + seed + ", draw " + i);
            }
        }
    }

    @Test
    void stateRestoresSequence() {
        TrainingRandom random = new TrainingRandom(42);
        for (int i = 0; i < 5; i++) {
            random.nextLong();
        }
        TrainingRandom restored = new TrainingRandom(random.state());

        for (int i = 0; i < 33; i++) {
            assertEquals(random.nextLong(), restored.nextLong(), "draw " + i);
        }
    }

    @Test
    void floatsInUnitInterval() {
        TrainingRandom random = new TrainingRandom(3);
        for (int i = 0; i < 1000; i++) {
            float f = random.nextFloat();
            assertTrue(f >= 0f, "draw " + i + ": " + f);
            assertTrue(f < 1f, "draw " + i + ": " + f);
        }
    }
}
