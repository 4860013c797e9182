package dev.transact4j.train.cli;

import static dev.transact4j.train.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.transact4j.nn.safetensors.SafeTensorsFile;
import dev.transact4j.train.cli.CliRun.Run;
import dev.transact4j.train.corpus.BrownCorpus;
import dev.transact4j.train.trainer.MetricsLog;
import dev.transact4j.train.trainer.Trainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code transact pretrain} killed with SIGKILL in a child JVM after a checkpoint, then continued
 * with {@code --resume}, gives bitwise the losses and weights of an uninterrupted run.
 */
class PretrainResumeTest {

    /** Checkpoint step after which the child is killed; the run has 80 steps. */
    private static final long KILL_AFTER_CHECKPOINT = 4;

    @TempDir
    Path dir;

    private List<String> pretrainArgs(Path output, Path data) {
        return new ArrayList<>(List.of("pretrain", "--output", output.toString(), "--data", data.toString(),
                "--tokens", "20480", "--seq-len", "64", "--global-batch", "4", "--micro-batch", "4",
                "--checkpoint-every", "2", "--eval-batches", "1", "--seed", "3"));
    }

    @Test
    void killedPretrainResumesExactly() throws Exception {
        Path data = dir.resolve("paragraphs.txt");
        Files.write(data, BrownCorpus.trainParagraphs().subList(0, 400));

        // a run killed after its checkpoint of step 4 or later
        Path killed = dir.resolve("killed");
        Path log = dir.resolve("killed.log");
        Process child = startChild(pretrainArgs(killed, data), log);
        try {
            waitForCheckpoint(child, killed.resolve("run/checkpoint/trainer_state.json"), log);
            assertTrue(child.isAlive(), "the child finished before it could be killed");
        } finally {
            child.destroyForcibly();
            child.waitFor();
        }
        long loggedAtKill = MetricsLog.readTrainLosses(killed.resolve("run").resolve(Trainer.METRICS_FILE)).size();
        assertTrue(loggedAtKill < 80, "steps logged at the kill: " + loggedAtKill);
        assertFalse(Files.exists(killed.resolve("model")), "no model before the run ends");

        // the same options with --resume, then an uninterrupted run
        List<String> resumeArgs = pretrainArgs(killed, data);
        resumeArgs.add("--resume");
        Run resumed = run(resumeArgs.toArray(new String[0]));
        assertEquals(0, resumed.code(), resumed.err());
        Path reference = dir.resolve("reference");
        Run uninterrupted = run(pretrainArgs(reference, data).toArray(new String[0]));
        assertEquals(0, uninterrupted.code(), uninterrupted.err());

        List<double[]> expected = MetricsLog.readTrainLosses(reference.resolve("run").resolve(Trainer.METRICS_FILE));
        List<double[]> actual = MetricsLog.readTrainLosses(killed.resolve("run").resolve(Trainer.METRICS_FILE));
        assertEquals(80, expected.size(), "steps of the uninterrupted run");
        assertEquals(expected.size(), actual.size(), "steps of the resumed run");
        for (int i = 0; i < expected.size(); i++) {
            assertArrayEquals(expected.get(i), actual.get(i), "step and loss of line " + i);
        }
        assertArrayEquals(SafeTensorsFile.open(reference.resolve("model/model.safetensors"))
                        .readFloat32("model.layers.0.mlp.down_proj.weight"),
                SafeTensorsFile.open(killed.resolve("model/model.safetensors"))
                        .readFloat32("model.layers.0.mlp.down_proj.weight"));
        assertTrue(Files.isRegularFile(killed.resolve("loss-curves.png")), "loss plot of the resumed run");
    }

    @Test
    void terminatedPretrainSaysHowToResume() throws Exception {
        Path data = dir.resolve("paragraphs.txt");
        Files.write(data, BrownCorpus.trainParagraphs().subList(0, 400));
        Path output = dir.resolve("terminated");
        Path log = dir.resolve("terminated.log");
        Process child = startChild(pretrainArgs(output, data), log);
        try {
            waitForCheckpoint(child, output.resolve("run/checkpoint/trainer_state.json"), log);
            child.destroy();   // SIGTERM, as a scheduler or Ctrl-C stops a run
            assertTrue(child.waitFor(60, TimeUnit.SECONDS), "the child did not stop within 60 s");
        } finally {
            child.destroyForcibly();
        }
        assertTrue(Files.readString(log).contains("transact pretrain: interrupted. The last checkpoint is in "
                + output.resolve("run/checkpoint") + "; run the same command with --resume to continue."),
                Files.readString(log));
    }

    @Test
    void resumeNeedsCheckpointAndSameOptions() throws Exception {
        Path data = dir.resolve("paragraphs.txt");
        Files.write(data, BrownCorpus.trainParagraphs().subList(0, 400));
        Path output = dir.resolve("short");
        List<String> args = pretrainArgs(output, data);
        args.set(args.indexOf("--tokens") + 1, "1024");

        // nothing to resume yet
        List<String> early = new ArrayList<>(args);
        early.add("--resume");
        Run none = run(early.toArray(new String[0]));
        assertEquals(TransactCommand.EXIT_USAGE, none.code());
        assertTrue(none.err().contains("no checkpoint to resume in " + output.resolve("run")), none.err());

        // a finished run: a second start is rejected, --resume trains nothing more
        assertEquals(0, run(args.toArray(new String[0])).code());
        Run again = run(args.toArray(new String[0]));
        assertEquals(TransactCommand.EXIT_USAGE, again.code());
        assertTrue(again.err().contains("already holds a training run; pass --resume to continue it"), again.err());
        assertEquals(0, run(early.toArray(new String[0])).code());

        // another learning rate changes the losses, so the checkpoint cannot continue with it
        List<String> otherRate = new ArrayList<>(early);
        otherRate.addAll(List.of("--lr", "1e-3"));
        Run changed = run(otherRate.toArray(new String[0]));
        assertEquals(TransactCommand.EXIT_USAGE, changed.code());
        assertTrue(changed.err().contains("used other settings: --lr 0.004 -> 0.001; pass the options of the"
                + " interrupted run"), changed.err());

        // another model shape is named in one line, before any weight is loaded
        List<String> otherShape = new ArrayList<>(early);
        otherShape.addAll(List.of("--config", "tiny"));
        Run shape = run(otherShape.toArray(new String[0]));
        assertEquals(TransactCommand.EXIT_USAGE, shape.code());
        assertEquals(1, shape.err().strip().lines().count(), shape.err());
        assertTrue(shape.err().contains("holds a model of hidden 128, 4 layers, 4 heads (4 key/value) x 32, MLP 384,"
                + " vocabulary 8192, and --config tiny gives hidden 256"), shape.err());
    }

    /** Starts the command line in a child JVM with this JVM's java binary, classpath and kernel choice. */
    private static Process startChild(List<String> args, Path log) throws IOException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector",
                "-Dtransact4j.simd=" + System.getProperty("transact4j.simd", "true"),
                "-Xmx1g", "-cp", System.getProperty("java.class.path"), TransactCommand.class.getName()));
        command.addAll(args);
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    /** Waits until the child's checkpoint is of at least {@link #KILL_AFTER_CHECKPOINT} steps. */
    private static void waitForCheckpoint(Process child, Path state, Path log) throws Exception {
        ObjectMapper json = new ObjectMapper();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            if (!child.isAlive()) {
                throw new AssertionError("the child exited with " + child.exitValue() + ":\n" + Files.readString(log));
            }
            if (Files.exists(state)) {
                try {
                    if (json.readTree(state.toFile()).path("step").asLong() >= KILL_AFTER_CHECKPOINT) {
                        return;
                    }
                } catch (IOException e) {
                    // the checkpoint is being swapped in; read it again
                }
            }
            Thread.sleep(10);
        }
        throw new AssertionError("no checkpoint of step " + KILL_AFTER_CHECKPOINT + " within 120 s:\n"
                + Files.readString(log));
    }
}
