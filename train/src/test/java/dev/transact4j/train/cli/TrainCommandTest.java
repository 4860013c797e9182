package dev.transact4j.train.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.transact4j.llama.LlamaConfig;
import dev.transact4j.llama.checkpoint.LlamaCheckpoint;
import dev.transact4j.train.corpus.BrownCorpus;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code transact train} on Brown paragraphs with the demo tokenizer and a small Llama config. */
class TrainCommandTest {

    @TempDir
    Path dir;

    private Path tokenizerFile;
    private Path configFile;
    private Path corpus;

    record Run(int code, String out, String err) {
    }

    @BeforeEach
    void writeInputs() throws Exception {
        tokenizerFile = dir.resolve("tokenizer/tokenizer.json");
        Files.createDirectories(tokenizerFile.getParent());
        try (InputStream in = BrownCorpus.class.getResourceAsStream(BrownCorpus.TOKENIZER_RESOURCE)) {
            Files.copy(in, tokenizerFile, StandardCopyOption.REPLACE_EXISTING);
        }
        configFile = dir.resolve("config.json");
        LlamaConfig.tiny().toBuilder().hiddenSize(32).intermediateSize(48).numHiddenLayers(1).numAttentionHeads(2)
                .numKeyValueHeads(2).maxPositionEmbeddings(64).build().save(configFile);
        corpus = dir.resolve("corpus");
        Files.createDirectories(corpus);
        List<String> paragraphs = BrownCorpus.trainParagraphs();
        for (int i = 0; i < 40; i++) {
            Files.writeString(corpus.resolve(String.format("%02d.txt", i)), paragraphs.get(i));
        }
    }

    private static Run run(String... args) {
        CommandLine cli = TransactCommand.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int code = cli.execute(args);
        cli.getOut().flush();
        return new Run(code, out.toString(), err.toString());
    }

    private String[] trainArgs(Path out, String... extra) {
        List<String> args = new java.util.ArrayList<>(List.of("train", "--out", out.toString(),
                "--model", configFile.toString(), "--tokenizer", tokenizerFile.toString(),
                "--train", corpus.toString(), "--validation-fraction", "0.1", "--seq-len", "32",
                "--micro-batch", "2", "--accumulation", "2", "--steps", "4", "--warmup", "1", "--lr", "1e-2",
                "--eval-every", "0", "--checkpoint-every", "2"));
        args.addAll(List.of(extra));
        return args.toArray(new String[0]);
    }

    @Test
    void trainWritesHuggingFaceCheckpoint() throws Exception {
        Path out = dir.resolve("run");

        Run run = run(trainArgs(out));

        assertEquals(0, run.code(), run.err());
        assertTrue(run.out().startsWith("steps 4, tokens " + (4 * 2 * 2 * 32) + ", final loss "), run.out());
        assertTrue(run.out().contains("validation loss"), run.out());
        assertEquals(4, Files.readAllLines(out.resolve("metrics.jsonl")).stream()
                .filter(line -> line.contains("\"type\":\"train\"")).count());
        LlamaCheckpoint.Loaded loaded = LlamaCheckpoint.load(out.resolve("checkpoint"));
        assertEquals(32, loaded.model().config().hiddenSize());
    }

    @Test
    void pretrainOptionNamesAccepted() throws Exception {
        // the data and output options of pretrain and prune work here too
        Path out = dir.resolve("run");
        String[] args = trainArgs(out);
        List<String> renamed = new java.util.ArrayList<>(List.of(args));
        renamed.set(renamed.indexOf("--out"), "--output");
        renamed.set(renamed.indexOf("--train"), "--data");
        renamed.set(renamed.indexOf("--validation-fraction"), "--valid-fraction");

        Run run = run(renamed.toArray(new String[0]));

        assertEquals(0, run.code(), run.err());
        assertTrue(Files.isRegularFile(out.resolve("metrics.jsonl")), "metrics.jsonl in the --output folder");
    }

    @Test
    void resumeOfFinishedRunTrainsNothing() {
        Path out = dir.resolve("run");
        assertEquals(0, run(trainArgs(out)).code());

        Run again = run(trainArgs(out, "--resume"));

        assertEquals(0, again.code(), again.err());
        assertTrue(again.out().startsWith("steps 4, tokens " + (4 * 2 * 2 * 32) + ", "), again.out());
    }

    @Test
    void secondRunWithoutResumeIsRejected() {
        Path out = dir.resolve("run");
        assertEquals(0, run(trainArgs(out)).code());

        Run again = run(trainArgs(out));

        assertEquals(TransactCommand.EXIT_USAGE, again.code());
        assertTrue(again.err().startsWith("transact train: Run directory " + out + " already contains a checkpoint"),
                again.err());
    }

    @Test
    void unknownEosTokenIsNamed() {
        Run run = run(trainArgs(dir.resolve("run"), "--eos-token", "</s>"));

        assertEquals(TransactCommand.EXIT_USAGE, run.code());
        assertEquals("transact train: the tokenizer has no token </s>; name the end-of-document token with"
                + " --eos-token (see --help)", run.err().strip());
    }

    @Test
    void sequenceLongerThanModelIsRejected() {
        String[] args = trainArgs(dir.resolve("run"));
        args[List.of(args).indexOf("--seq-len") + 1] = "65";

        Run run = run(args);

        assertEquals(TransactCommand.EXIT_USAGE, run.code());
        assertTrue(run.err().contains("--seq-len must be in [1, 64]"), run.err());
    }

    @Test
    void validationFractionOutOfRangeRejected() {
        String[] args = trainArgs(dir.resolve("fraction"));
        args[List.of(args).indexOf("--validation-fraction") + 1] = "1.5";

        Run run = run(args);

        assertEquals(TransactCommand.EXIT_USAGE, run.code());
        assertEquals("transact train: --validation-fraction must be at least 0 and below 1, got 1.5 (see --help)",
                run.err().strip());
    }
}
