package dev.transact4j.train.cli;

import dev.transact4j.train.trainer.CheckpointStore;
import java.io.PrintStream;
import java.nio.file.Path;

/**
 * Tells the user how to continue a training run that the JVM stops in the middle, as Ctrl-C or
 * SIGTERM do: a shutdown hook, registered for the duration of the run, prints whether a
 * checkpoint is there to resume from. SIGKILL runs no hook, and the checkpoint is kept all the same.
 */
final class InterruptNotice implements AutoCloseable {

    private final Thread hook;

    private InterruptNotice(Thread hook) {
        this.hook = hook;
    }

    /** Registers the notice for {@code transact <command>} training into {@code runDir}. */
    static InterruptNotice register(String command, Path runDir, PrintStream err) {
        Thread hook = new Thread(() -> {
            Path checkpoint = new CheckpointStore(runDir).completeCheckpoint();
            err.println("transact " + command + ": interrupted. " + (checkpoint == null
                    ? "No checkpoint was written yet, so nothing can be resumed; run the same command without"
                    + " --resume to start again."
                    : "The last checkpoint is in " + checkpoint + "; run the same command with --resume to continue."));
            err.flush();
        }, "transact-interrupt-notice");
        Runtime.getRuntime().addShutdownHook(hook);
        return new InterruptNotice(hook);
    }

    /** Removes the notice once the run has ended, normally or with an error. */
    @Override
    public void close() {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // the JVM is already shutting down, and the hook runs or has run
        }
    }
}
