package dev.transact4j.train.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The carriage-return progress bar. */
class ConsoleProgressBarTest {

    @Test
    void drawsAndClearsInPlace() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ConsoleProgressBar bar = new ConsoleProgressBar(new PrintStream(bytes, true, StandardCharsets.UTF_8), true);

        bar.draw(15, 30, "loss 2.5000");
        String line = "\r[" + "=".repeat(15) + ">" + " ".repeat(14) + "] 15/30 loss 2.5000";
        assertEquals(line, bytes.toString(StandardCharsets.UTF_8));

        bar.clear();
        assertEquals(line + "\r" + " ".repeat(line.length()) + "\r", bytes.toString(StandardCharsets.UTF_8));
    }

    @Test
    void fullBarHasNoArrow() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ConsoleProgressBar bar = new ConsoleProgressBar(new PrintStream(bytes, true, StandardCharsets.UTF_8), true);

        bar.draw(3, 3, "done");

        assertEquals("\r[" + "=".repeat(30) + "] 3/3 done", bytes.toString(StandardCharsets.UTF_8));
    }

    @Test
    void disabledBarPrintsNothing() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ConsoleProgressBar bar = new ConsoleProgressBar(new PrintStream(bytes, true, StandardCharsets.UTF_8), false);

        bar.draw(1, 2, "x");
        bar.clear();

        assertEquals("", bytes.toString(StandardCharsets.UTF_8));
    }
}
