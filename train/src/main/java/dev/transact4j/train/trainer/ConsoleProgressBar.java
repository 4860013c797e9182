package dev.transact4j.train.trainer;

import java.io.Console;
import java.io.PrintStream;
import java.util.Locale;

/**
 * A one-line progress bar redrawn in place with a carriage return, for an interactive terminal.
 * It writes to the same stream as the log (standard error with slf4j-simple), and the trainer
 * clears it before each log line, so the two do not run into each other.
 */
final class ConsoleProgressBar {

    private static final int WIDTH = 30;

    private final PrintStream out;
    private final boolean enabled;
    private int lastLength;

    /** Creates a bar on {@code out}; a disabled bar prints nothing. */
    ConsoleProgressBar(PrintStream out, boolean enabled) {
        this.out = out;
        this.enabled = enabled;
    }

    /** Returns a bar on standard error, enabled only when the JVM runs in an interactive terminal. */
    static ConsoleProgressBar forConsole() {
        return new ConsoleProgressBar(System.err, isTerminal());
    }

    /**
     * Returns whether the JVM's console is a terminal. Before Java 22 a console exists only for a
     * terminal. From Java 22 one may exist when output is redirected, and {@code Console.isTerminal()}
     * returns which it is. It is called by reflection because this code compiles for Java 17.
     */
    private static boolean isTerminal() {
        Console console = System.console();
        if (console == null) {
            return false;
        }
        try {
            return (Boolean) Console.class.getMethod("isTerminal").invoke(console);
        } catch (ReflectiveOperationException e) {
            return true;
        }
    }

    /** Draws the bar for {@code done} of {@code total} steps with a short status after it. */
    void draw(long done, long total, String status) {
        if (!enabled) {
            return;
        }
        int filled = total > 0 ? (int) Math.min(WIDTH, done * WIDTH / total) : 0;
        StringBuilder line = new StringBuilder("\r[");
        line.append("=".repeat(filled));
        if (filled < WIDTH) {
            line.append('>').append(" ".repeat(WIDTH - filled - 1));
        }
        line.append("] ").append(String.format(Locale.ROOT, "%d/%d", done, total)).append(' ').append(status);
        int length = line.length();
        if (length < lastLength) {
            line.append(" ".repeat(lastLength - length));
        }
        lastLength = length;
        out.print(line);
        out.flush();
    }

    /** Erases the bar, leaving the cursor at the start of the empty line. */
    void clear() {
        if (!enabled || lastLength == 0) {
            return;
        }
        out.print("\r" + " ".repeat(lastLength) + "\r");
        out.flush();
        lastLength = 0;
    }
}
