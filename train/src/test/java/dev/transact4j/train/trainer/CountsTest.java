package dev.transact4j.train.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class CountsTest {

    @Test
    void unitAgreesWithCount() {
        assertEquals("1 step", Counts.of(1, "step"));
        assertEquals("0 steps", Counts.of(0, "step"));
        assertEquals("12 steps", Counts.of(12, "step"));
        assertEquals("1 micro-batch", Counts.of(1, "micro-batch", "micro-batches"));
        assertEquals("4 micro-batches", Counts.of(4, "micro-batch", "micro-batches"));
    }
}
