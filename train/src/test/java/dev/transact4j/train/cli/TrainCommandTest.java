package dev.transact4j.train.cli;

import static dev.transact4j.train.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.transact4j.llama.LlamaConfig;
import dev.transact4j.llama.checkpoint.LlamaCheckpoint;
import dev.transact4j.train.cli.CliRun.Run;
import dev.transact4j.train.corpus.BrownCorpus;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code transact train} on Brown paragraphs with the demo tokenizer and a small Llama config. */
class TrainCommandTest {

    @TempDir
    Path dir;

    private Path tokenizerFile;
    private Path configFile;
    private Path corpus;

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
    void resumeOfFinishedRunTrainsNothing() throws Exception {
        Path out = dir.resolve("run");
        assertEquals(0, run(trainArgs(out)).code());
        List<String> logged = Files.readAllLines(out.resolve("metrics.jsonl"));

        Run again = run(trainArgs(out, "--resume"));

        assertEquals(0, again.code(), again.err());
        assertTrue(again.out().startsWith("steps 4, tokens " + (4 * 2 * 2 * 32) + ", "), again.out());
        assertEquals(logged, Files.readAllLines(out.resolve("metrics.jsonl")), "no record logged twice");
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

    /** Returns {@code args} with the value of {@code option} replaced, or with the option added when it is absent. */
    private static String[] withOption(String[] args, String option, String value) {
        List<String> list = new java.util.ArrayList<>(List.of(args));
        int index = list.indexOf(option);
        if (index >= 0) {
            list.set(index + 1, value);
        } else {
            list.add(option);
            list.add(value);
        }
        return list.toArray(new String[0]);
    }

    /** Runs {@code args} and returns the one stderr line after checking the usage exit code and the line count. */
    private static String usageError(String... args) {
        Run run = run(args);
        assertEquals(TransactCommand.EXIT_USAGE, run.code(), String.join(" ", args) + ": " + run.err());
        List<String> lines = run.err().strip().lines().toList();
        assertEquals(1, lines.size(), "one line expected, got: " + run.err());
        return lines.get(0);
    }

    @Test
    void numericOptionsNameTheOption() {
        String[][] cases = {
            {"--steps", "0", "--steps must be at least 1, got 0"},
            {"--micro-batch", "0", "--micro-batch must be at least 1, got 0"},
            {"--accumulation", "0", "--accumulation must be at least 1, got 0"},
            {"--seq-len", "0", "--seq-len must be at least 1, got 0"},
            {"--lr", "-1", "--lr must be a positive finite number, got -1.0"},
            {"--lr", "0", "--lr must be a positive finite number, got 0.0"},
            {"--lr", "Infinity", "--lr must be a positive finite number, got Infinity"},
            {"--lr", "NaN", "--lr must be a positive finite number, got NaN"},
            {"--min-lr-ratio", "1.5", "--min-lr-ratio must be in [0, 1], got 1.5"},
            {"--min-lr-ratio", "-0.1", "--min-lr-ratio must be in [0, 1], got -0.1"},
            {"--warmup", "-5", "--warmup must be 0 or more, got -5"},
            {"--weight-decay", "-0.1", "--weight-decay must be a finite number of 0 or more, got -0.1"},
            {"--max-grad-norm", "-1", "--max-grad-norm must be a finite number of 0 or more (0 turns clipping off),"
                    + " got -1.0"},
            {"--eval-every", "-1", "--eval-every must be 0 or more, got -1"},
            {"--eval-batches", "-1", "--eval-batches must be 0 or more, got -1"},
            {"--checkpoint-every", "-1", "--checkpoint-every must be 0 or more, got -1"},
        };
        Path out = dir.resolve("numeric");
        for (String[] c : cases) {
            String line = usageError(withOption(trainArgs(out), c[0], c[1]));

            assertEquals("transact train: " + c[2] + " (see --help)", line);
            assertFalse(Files.exists(out), c[0] + " " + c[1] + " must fail before --out is created");
        }
    }

    @Test
    void boundaryValuesAccepted() {
        // the lowest value of each range trains: no warm-up, no clipping, no decay, checkpoints at the end only
        Path out = dir.resolve("boundaries");
        String[] args = trainArgs(out, "--min-lr-ratio", "0", "--weight-decay", "0", "--max-grad-norm", "0",
                "--eval-batches", "0");
        args = withOption(withOption(withOption(args, "--warmup", "0"), "--steps", "1"), "--checkpoint-every", "0");

        Run run = run(args);

        assertEquals(0, run.code(), run.err());
        assertTrue(run.out().startsWith("steps 1, "), run.out());
    }

    @Test
    void invalidModelLeavesNoOutDirectory() {
        Path out = dir.resolve("no-model");

        String line = usageError(withOption(trainArgs(out), "--model", "huge"));

        assertEquals("transact train: --model huge is not a preset (tiny, small), a config.json or a model directory"
                + " (see --help)", line);
        assertFalse(Files.exists(out), "--out must not be created for an invalid --model");

        String tooLong = usageError(withOption(trainArgs(out), "--seq-len", "65"));
        assertTrue(tooLong.contains("--seq-len must be in [1, 64]"), tooLong);
        assertFalse(Files.exists(out), "--out must not be created for a --seq-len beyond the model");
    }

    @Test
    void dataErrorRemovesOnlyCreatedOut() throws Exception {
        Path missing = dir.resolve("no-such-corpus");
        Path out = dir.resolve("created");

        String line = usageError(withOption(trainArgs(out), "--train", missing.toString()));

        assertTrue(line.contains("Dataset path not found: " + missing), line);
        assertFalse(Files.exists(out), "the empty --out this run created must be removed");

        Path existing = Files.createDirectories(dir.resolve("existing"));
        usageError(withOption(trainArgs(existing), "--train", missing.toString()));
        assertTrue(Files.isDirectory(existing), "a --out directory that existed before must be kept");
    }

    @Test
    void emptyDirectorySuggestsFormat() {
        Path out = dir.resolve("format");

        String line = usageError(withOption(trainArgs(out), "--format", "jsonl"));

        assertEquals("transact train: Dataset directory " + corpus + " contains no file matching *.jsonl (searched"
                + " recursively). Add files, or set --format to the format of the files there (text for *.txt, jsonl"
                + " for *.jsonl, tokens for *.bin). (see --help)", line);
    }

    @Test
    void jsonlWithoutTextFieldNamed() throws Exception {
        Path file = Files.writeString(dir.resolve("docs.jsonl"), "{\"body\": \"The jury said.\"}\n");

        String line = usageError(withOption(withOption(trainArgs(dir.resolve("jsonl")), "--train", file.toString()),
                "--format", "jsonl"));

        assertEquals("transact train: Line 1 of " + file + " has no \"text\" field. Give every line a \"text\" field"
                + " that contains the document. (see --help)", line);
    }

    @Test
    void tinyTextNamesInputAndSeqLen() throws Exception {
        Path tiny = Files.writeString(dir.resolve("tiny.txt"), "The jury said");

        String line = usageError(withOption(trainArgs(dir.resolve("tiny")), "--train", tiny.toString()));

        assertTrue(line.matches("transact train: Dataset \\Q" + tiny + "\\E has \\d+ tokens, but a sequence length"
                + " of 32 needs at least 33 tokens for one block\\. Add data or lower --seq-len\\. \\(see --help\\)"),
                line);
        assertFalse(line.contains("token-cache"), line);
        assertFalse(line.contains("seq_len"), line);
    }

    @Test
    void validationTakingEveryBlockNamesOptions() throws Exception {
        // two blocks of 33 tokens; a fraction of 0.9 puts both into validation
        Path ids = dir.resolve("ids.bin");
        byte[] bytes = new byte[2 * 66];
        for (int i = 0; i < 66; i++) {
            bytes[2 * i] = (byte) (1 + i % 50);
        }
        Files.write(ids, bytes);
        String[] args = withOption(withOption(withOption(trainArgs(dir.resolve("split")), "--train", ids.toString()),
                "--format", "tokens"), "--validation-fraction", "0.9");

        String line = usageError(args);

        assertEquals("transact train: Dataset " + ids + " has 2 blocks of 33 tokens; a validation fraction of 0.9"
                + " takes 2 of them and leaves none for training. Add data, lower --seq-len or lower"
                + " --validation-fraction. (see --help)", line);
    }

    @Test
    void microBatchLargerThanDataNamed() {
        String line = usageError(withOption(trainArgs(dir.resolve("batch")), "--micro-batch", "1000"));

        assertTrue(line.contains("fewer than the micro-batch size 1000. Add data, lower --seq-len or lower"
                + " --micro-batch. (see --help)"), line);
        assertTrue(line.startsWith("transact train: Dataset " + corpus + " has "), line);
    }

    @Test
    void idOutsideVocabularyNamesSourceFile() {
        Path smallVocab = dir.resolve("small-vocab.json");
        LlamaConfig.load(configFile).toBuilder().vocabSize(100).build().save(smallVocab);

        String line = usageError(withOption(trainArgs(dir.resolve("vocab")), "--model", smallVocab.toString()));

        assertTrue(line.startsWith("transact train: Token id "), line);
        assertTrue(line.contains(" of source " + corpus.toAbsolutePath().normalize().resolve("00.txt")
                + " is outside the vocabulary of size 100"), line);
        assertFalse(line.contains("token-cache"), line);
    }
}
