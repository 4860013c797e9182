package dev.transact4j.transact;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.PrimitiveIterator;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class CalibrationDataTest {

    @Test
    void fromTokensSplitsConsecutiveSamples() {
        int[] tokens = IntStream.range(100, 140).toArray();
        CalibrationData data = CalibrationData.fromTokens(tokens, 5, 3, 2);

        assertEquals(3, data.batches().size());
        assertEquals(15, data.tokens());
        assertArrayEquals(IntStream.range(100, 106).toArray(), data.batches().get(0).ids());
        assertArrayEquals(IntStream.range(106, 112).toArray(), data.batches().get(1).ids());
        assertArrayEquals(IntStream.range(112, 115).toArray(), data.batches().get(2).ids());
        assertEquals(2, data.batches().get(1).rows());
        assertEquals(1, data.batches().get(2).rows(), "the last batch holds the remainder");
        assertEquals(3, data.batches().get(2).seqLen());
    }

    @Test
    void fromStreamReadsNoFurther() {
        PrimitiveIterator.OfInt stream = IntStream.iterate(0, i -> i + 1).iterator();
        CalibrationData data = CalibrationData.fromStream(stream, 2, 17, 4);

        assertEquals(1, data.batches().size());
        assertArrayEquals(IntStream.range(0, 34).toArray(), data.batches().get(0).ids());
        assertEquals(34, stream.nextInt());
    }

    @Test
    void shortInputRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CalibrationData.fromTokens(new int[33], 4, 10, 2));
        assertEquals("CalibrationData: 4 samples of 10 tokens need 40 tokens but the token array has 33; use fewer or"
                + " shorter samples, or more text", e.getMessage());

        e = assertThrows(IllegalArgumentException.class,
                () -> CalibrationData.fromStream(IntStream.range(0, 15).iterator(), 2, 8, 1));
        assertEquals("CalibrationData: the token stream ended after 15 tokens, but 2 samples of 8 tokens need 16; use"
                + " fewer or shorter samples, or more text", e.getMessage());

        e = assertThrows(IllegalArgumentException.class, () -> CalibrationData.fromTokens(new int[10], 1, 0, 1));
        assertEquals("CalibrationData: samples, sequence length and batch size must be positive, got 1, 0 and 1",
                e.getMessage());
    }
}
