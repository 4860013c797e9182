package dev.transact4j.transact;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class ScoreHistogramTest {

    @Test
    void countsKeptAndRemovedPerDecade() {
        // 1 .. 1000 in 3 bins: decades. 1 -> bin 0, 20 -> 1, 200 -> 2, 1000 (the maximum) -> last bin.
        double[] scores = {0, 1, 20, 200, 1000};
        boolean[] kept = {false, true, false, true, true};
        ScoreHistogram h = ScoreHistogram.of(scores, kept, 3);

        assertEquals(3, h.bins());
        assertArrayEquals(new double[] {1, 10, 100, 1000}, h.edges(), 1e-9);
        assertArrayEquals(new int[] {1, 0, 2}, h.kept());
        assertArrayEquals(new int[] {0, 1, 0}, h.removed());
        assertEquals(0, h.zeroKept());
        assertEquals(1, h.zeroRemoved());
    }

    @Test
    void equalScoresShareOneBin() {
        ScoreHistogram h = ScoreHistogram.of(new double[] {3, 3, 0, 3}, new boolean[] {true, false, true, true}, 20);
        assertEquals(1, h.bins());
        assertArrayEquals(new double[] {3, 3}, h.edges());
        assertArrayEquals(new int[] {2}, h.kept());
        assertArrayEquals(new int[] {1}, h.removed());
        assertEquals(1, h.zeroKept());
    }

    @Test
    void allZeroScoresHaveNoBins() {
        ScoreHistogram h = ScoreHistogram.of(new double[] {0, 0, 0}, new boolean[] {true, false, false}, 20);
        assertEquals(0, h.bins());
        assertEquals(1, h.zeroKept());
        assertEquals(2, h.zeroRemoved());
    }

    @Test
    void rejectsNegativeScore() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ScoreHistogram.of(new double[] {1, -2}, new boolean[] {true, true}, 4));
        assertEquals("ScoreHistogram: channel 1 scores -2.0; scores must be finite and non-negative", e.getMessage());
    }
}
