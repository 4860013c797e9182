package dev.transact4j.train.cli;

import static dev.transact4j.train.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.transact4j.llama.LlamaConfig;
import dev.transact4j.llama.LlamaForCausalLM;
import dev.transact4j.nn.safetensors.DType;
import dev.transact4j.train.cli.CliRun.Run;
import dev.transact4j.train.pipeline.CorpusData;
import dev.transact4j.train.pipeline.DemoRunner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Option checks that must fail with exit code 2 and one line on stderr, before a command does any
 * work or writes any file, and help text that keeps file names whole.
 */
class CommandOptionChecksTest {

    @TempDir
    static Path dir;
    private static Path modelDir;

    @BeforeAll
    static void saveModel() throws IOException {
        Map<String, Path> files = CorpusData.writeDemoTokenizer(dir.resolve("tokenizer"));
        LlamaConfig config = DemoRunner.config("demo").toBuilder().hiddenSize(32).numHiddenLayers(1)
                .numAttentionHeads(2).numKeyValueHeads(2).intermediateSize(48).maxPositionEmbeddings(128).build();
        LlamaForCausalLM model = LlamaForCausalLM.initialize(config, 17);
        modelDir = dir.resolve("model");
        DemoRunner.withTokenizer(model, files).save(modelDir, DType.F32);
    }

    /** Runs {@code args} and returns the one stderr line after checking the exit code and line count. */
    private static String usageError(String... args) {
        Run run = run(args);
        assertEquals(2, run.code(), String.join(" ", args) + ": " + run.err());
        List<String> lines = run.err().strip().lines().toList();
        assertEquals(1, lines.size(), "one line expected, got: " + run.err());
        return lines.get(0);
    }

    private static void assertContains(String expected, String line) {
        assertTrue(line.contains(expected), "'" + expected + "' expected in: " + line);
    }

    private static List<Path> filesUnder(Path root) throws IOException {
        if (!Files.exists(root)) {
            return List.of();
        }
        try (Stream<Path> walk = Files.walk(root)) {
            return walk.filter(p -> !p.equals(root)).toList();
        }
    }

    @Test
    void pruneFtModeNeedsNoWidths() {
        Path out = dir.resolve("ft-out");
        String line = usageError("prune", "--output", out.toString(), "--mode", "ft", "--ft-tokens", "5000");
        assertContains("--mode ft needs the last shot's model", line);
        assertFalse(line.contains("widths"), line);
    }

    @Test
    void pruneModesThatPruneNeedWidths() {
        String out = dir.resolve("widths-out").toString();
        for (String mode : List.of("prune", "all")) {
            String line = usageError("prune", "--model", modelDir.toString(), "--output", out, "--mode", mode);
            assertContains("--mode " + mode + " prunes, so set --attn-width and --mlp-width, or --sparsity", line);
        }
    }

    @Test
    void pruneRangesCheckedBeforeWork() throws IOException {
        Path out = dir.resolve("range-out");
        String model = modelDir.toString();
        assertContains("--sparsity 150.0 must be a percentage of parameters to remove in (0, 100)",
                usageError("prune", "--model", model, "--output", out.toString(), "--sparsity", "150"));
        assertContains("--sparsity 0.0 must be",
                usageError("prune", "--model", model, "--output", out.toString(), "--sparsity", "0"));
        assertContains("--attn-width must be at least 1, got 0", usageError("prune", "--model", model, "--output",
                out.toString(), "--attn-width", "0", "--mlp-width", "16"));
        assertContains("--mlp-width must be at least 1, got -4", usageError("prune", "--model", model, "--output",
                out.toString(), "--attn-width", "16", "--mlp-width", "-4"));
        assertContains("--layers must be at least 1, got 0", usageError("prune", "--model", model, "--output",
                out.toString(), "--sparsity", "30", "--layers", "0"));
        assertContains("--shots must be at least 1, got 0", usageError("prune", "--model", model, "--output",
                out.toString(), "--sparsity", "30", "--shots", "0"));
        assertContains("--calib-samples must be at least 1, got 0", usageError("prune", "--model", model,
                "--output", out.toString(), "--sparsity", "30", "--calib-samples", "0"));
        assertContains("--ft-tokens must be 0 or more, got -1", usageError("prune", "--model", model, "--output",
                out.toString(), "--sparsity", "30", "--ft-tokens", "-1"));
        assertContains("--valid-fraction 2.0 must be between 0 and 1", usageError("prune", "--model", model,
                "--output", out.toString(), "--sparsity", "30", "--valid-fraction", "2"));
        assertContains("--eval-batches must be 0 or more, got -1", usageError("pretrain", "--output",
                out.toString(), "--eval-batches", "-1"));
        assertEquals(List.of(), filesUnder(out), "nothing may be written for invalid options");
    }

    @Test
    void demoRejectsExistingDemoFolder() throws IOException {
        Path out = dir.resolve("old-demo");
        Path checkpoint = Files.createDirectories(out.resolve("dense").resolve("run").resolve("checkpoint"));
        Files.writeString(checkpoint.resolve("trainer_state.json"), "{}");
        List<Path> before = filesUnder(out);

        String line = usageError("demo", "--output", out.toString());
        assertContains("--output " + out + " already contains a training run (" + out.resolve("dense/run")
                + "); choose a new --output folder", line);
        assertEquals(before, filesUnder(out), "the check must come before any work");
    }

    @Test
    void demoRejectsPretrainFolder() throws IOException {
        Path out = dir.resolve("old-pretrain");
        Path checkpoint = Files.createDirectories(out.resolve("run").resolve("checkpoint"));
        Files.writeString(checkpoint.resolve("trainer_state.json"), "{}");
        List<Path> before = filesUnder(out);

        String line = usageError("demo", "--output", out.toString());
        assertContains("already contains a training run (" + out.resolve("run") + ")", line);
        assertEquals(before, filesUnder(out), "the check must come before any work");
    }

    @Test
    void demoRejectsFileAsOutput() throws IOException {
        Path file = Files.writeString(dir.resolve("demo-file"), "x");
        assertContains("is a file, not a directory; choose a new --output folder",
                usageError("demo", "--output", file.toString()));
    }

    @Test
    void outputFolderThatIsFileRejected() throws IOException {
        Path file = Files.writeString(dir.resolve("output-file"), "x");
        assertContains("--output " + file + " is a file, not a directory", usageError("prune", "--model",
                modelDir.toString(), "--output", file.toString(), "--sparsity", "30"));
        assertContains("--output " + file + " is a file, not a directory", usageError("pretrain", "--output",
                file.toString()));
    }

    @Test
    void logitsOutputFolderChecked() throws IOException {
        String model = modelDir.toString();
        Path missing = dir.resolve("no-such-dir").resolve("z.safetensors");
        String line = usageError("logits", "--model", model, "--ids", "1,2", "--output", missing.toString());
        assertContains("directory " + missing.getParent().toAbsolutePath() + " of --output does not exist", line);
        assertFalse(line.contains(".tmp"), line);

        Path notDir = Files.writeString(dir.resolve("plain-file"), "x");
        assertContains(notDir.toAbsolutePath() + " in --output is a file, not a directory",
                usageError("logits", "--model", model, "--ids", "1,2", "--output",
                        notDir.resolve("z.safetensors").toString()));

        Path isDir = Files.createDirectories(dir.resolve("logits-dir"));
        assertContains("--output " + isDir + " is a directory; name a file to write",
                usageError("logits", "--model", model, "--ids", "1,2", "--output", isDir.toString()));
    }

    @Test
    void generateErrorsNameTheOption() {
        String model = modelDir.toString();
        String[][] cases = {
            {"--temperature", "-1", "--temperature must be 0 (greedy) or a positive number"},
            {"--top-k", "-2", "--top-k must be 0 (off) or positive, got -2"},
            {"--top-p", "0", "--top-p must be in (0, 1]"},
            {"--min-p", "1.5", "--min-p must be in [0, 1]"},
            {"--repetition-penalty", "0", "--repetition-penalty must be a positive number"},
        };
        for (String[] c : cases) {
            String line = usageError("generate", "--model", model, "hi", c[0], c[1]);
            assertContains(c[2], line);
            assertFalse(line.contains("SamplingOptions"), line);
        }
    }

    @Test
    void helpKeepsFileNamesWhole() {
        String pretrain = run("pretrain", "--help").out();
        for (String name : List.of("metrics.jsonl", "(*.jsonl,", "(*.bin)", "*.txt", "OUTPUT/loss-curves.png")) {
            assertTrue(pretrain.contains(name), name + " expected in: " + pretrain);
        }
        String prune = run("prune", "--help").out();
        for (String name : List.of("OUTPUT/pruning-report.md", "OUTPUT/pruning-report.json", "loss-curves-ft.png")) {
            assertTrue(prune.contains(name), name + " expected in: " + prune);
        }
        for (String original : List.of("run_trainer", "next_mha_dim", "next_mlp_dim", "prune_shots")) {
            assertFalse(prune.contains(original), original + " in: " + prune);
        }
        String train = run("train", "--help").out();
        assertTrue(train.contains("metrics.jsonl"), train);
        for (String help : List.of(pretrain, prune, train)) {
            assertFalse(help.contains("\uE000"), "placeholder left in: " + help);
            assertFalse(help.contains(". sh") || help.contains("*. "), help);
        }
    }

    @Test
    void protectPeriodsKeepsSentenceEnds() {
        assertEquals("a\uE000b. C \uE000txt.", FileNameSafeHelp.protectPeriods("a.b. C .txt."));
    }
}
