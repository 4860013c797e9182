package dev.transact4j.train.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run killed with SIGKILL in a child JVM after it wrote a checkpoint, then resumed in a second
 * child, gives bitwise the losses of an uninterrupted run in a third.
 *
 * <p>The children run the kernels this JVM runs (its {@code transact4j.simd} property), by default
 * the Vector API ones. A resumed JVM starts cold at the checkpoint while the uninterrupted one is
 * warm there, so the test also checks that no kernel's bits depend on whether the JIT has compiled
 * it.
 */
class ResumeAfterKillTest {

    private static final long STEPS = 30;
    private static final long KILL_AFTER_CHECKPOINT = 10;

    @TempDir
    Path dir;

    @Test
    void killedRunResumesExactly() throws Exception {
        Path run = dir.resolve("run");
        Process child = startChild("run", dir.resolve("data-a"), run, 150, dir.resolve("killed.log"));
        try {
            waitForCheckpoint(child, run, dir.resolve("killed.log"));
            assertTrue(child.isAlive(), "the child finished before it could be killed");
            child.destroyForcibly();
            child.waitFor();
        } finally {
            child.destroyForcibly();
        }
        long linesAtKill = MetricsLog.readTrainLosses(run.resolve(Trainer.METRICS_FILE)).size();
        assertTrue(linesAtKill >= KILL_AFTER_CHECKPOINT, "steps logged at the kill: " + linesAtKill);
        assertTrue(linesAtKill < STEPS, "steps logged at the kill: " + linesAtKill);

        runToEnd(startChild("resume", dir.resolve("data-b"), run, 0, dir.resolve("resumed.log")),
                dir.resolve("resumed.log"));
        Path reference = dir.resolve("reference");
        runToEnd(startChild("run", dir.resolve("data-c"), reference, 0, dir.resolve("reference.log")),
                dir.resolve("reference.log"));

        assertEquals(STEPS, MetricsLog.readTrainLosses(run.resolve(Trainer.METRICS_FILE)).size());
        CheckpointTest.assertSameLosses(reference, run);
        assertTrue(Files.readString(dir.resolve("resumed.log")).contains("Resuming from " + run.resolve("checkpoint")));
    }

    /**
     * Starts {@link ResumeChildMain} with this JVM's java binary, classpath and kernel choice, and
     * {@code sleepMillis} of sleep after each step.
     */
    private static Process startChild(String mode, Path dataDir, Path runDir, long sleepMillis, Path log)
            throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>();
        command.add(java);
        command.add("--add-modules");
        command.add("jdk.incubator.vector");
        command.add("-Dtransact4j.simd=" + System.getProperty("transact4j.simd", "true"));
        command.add("-Xmx512m");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(ResumeChildMain.class.getName());
        command.add(mode);
        command.add(dataDir.toString());
        command.add(runDir.toString());
        command.add(Long.toString(STEPS));
        command.add(Long.toString(sleepMillis));
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    private static void runToEnd(Process child, Path log) throws Exception {
        if (!child.waitFor(120, TimeUnit.SECONDS)) {
            child.destroyForcibly();
            throw new AssertionError("the child did not finish within 120 s:\n" + Files.readString(log));
        }
        assertEquals(0, child.exitValue(), () -> "the child failed:\n" + readQuietly(log));
    }

    private static String readQuietly(Path log) {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e.getMessage() + ")";
        }
    }

    /** Waits until the child's checkpoint is of at least {@link #KILL_AFTER_CHECKPOINT} steps. */
    private static void waitForCheckpoint(Process child, Path runDir, Path log) throws Exception {
        Path state = runDir.resolve("checkpoint/trainer_state.json");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (!child.isAlive()) {
                throw new AssertionError("the child exited with " + child.exitValue() + ":\n" + Files.readString(log));
            }
            if (Files.exists(state)) {
                try {
                    if (CheckpointStore.readState(state).step() >= KILL_AFTER_CHECKPOINT) {
                        return;
                    }
                } catch (IOException | IllegalArgumentException e) {
                    // the checkpoint is being swapped in; read it again
                }
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no checkpoint of step " + KILL_AFTER_CHECKPOINT + " within 60 s:\n"
                + Files.readString(log));
    }
}
