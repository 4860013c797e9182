package dev.transact4j.train.cli;

import static dev.transact4j.train.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.transact4j.llama.tokenizer.Tokenizer;
import dev.transact4j.train.cli.CliRun.Run;
import dev.transact4j.train.corpus.BrownCorpus;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code transact tokenizer} commands run as a user would, on real files. */
class TransactCommandTest {
    @TempDir
    static Path dir;
    private static Path tokenizerFile;

    @BeforeAll
    static void copyDemoTokenizer() throws Exception {
        tokenizerFile = dir.resolve("demo/tokenizer.json");
        Files.createDirectories(tokenizerFile.getParent());
        try (InputStream in = BrownCorpus.class.getResourceAsStream(BrownCorpus.TOKENIZER_RESOURCE)) {
            Files.copy(in, tokenizerFile, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    @Test
    void encodeWritesIdsPerLine() throws Exception {
        Path input = dir.resolve("input.txt");
        Files.writeString(input, "Hello world\n{\"text\": \"The jury said\"}\n\n");
        Run run = run("tokenizer", "encode", "--tokenizer", tokenizerFile.getParent().toString(),
                "--input", input.toString());
        assertEquals(0, run.code(), run.err());
        Tokenizer tokenizer = Tokenizer.load(tokenizerFile);
        List<String> lines = run.out().lines().toList();
        assertEquals(3, lines.size());
        assertEquals(Arrays.toString(tokenizer.encodeIds("Hello world", true)).replace(" ", ""), lines.get(0));
        assertEquals(Arrays.toString(tokenizer.encodeIds("The jury said", true)).replace(" ", ""), lines.get(1));
        assertEquals("[0]", lines.get(2));
    }

    @Test
    void encodeWithoutSpecialTokensThenDecode() throws Exception {
        Path input = dir.resolve("round.txt");
        Files.writeString(input, "café, 12345 and 😀\n  spaces  \n");
        Run encoded = run("tokenizer", "encode", "--tokenizer", tokenizerFile.toString(), "--no-special-tokens",
                "--input", input.toString());
        assertEquals(0, encoded.code(), encoded.err());
        assertTrue(!encoded.out().startsWith("[0,"), encoded.out());
        Path ids = dir.resolve("ids.jsonl");
        Files.writeString(ids, encoded.out());
        Run decoded = run("tokenizer", "decode", "--tokenizer", tokenizerFile.toString(), "--input", ids.toString());
        assertEquals(0, decoded.code(), decoded.err());
        assertEquals("café, 12345 and 😀\n  spaces  \n", decoded.out());
    }

    @Test
    void missingTokenizerFailsInOneLine() {
        Run run = run("tokenizer", "encode", "--tokenizer", dir.resolve("nope.json").toString());
        assertEquals(2, run.code());
        assertEquals(1, run.err().lines().count(), run.err());
        assertTrue(run.err().contains("tokenizer not found"), run.err());
    }

    @Test
    void missingInputFailsInOneLine() {
        Run run = run("tokenizer", "decode", "--tokenizer", tokenizerFile.toString(), "--input", "/no/such/file");
        assertEquals(2, run.code());
        assertEquals(1, run.err().lines().count(), run.err());
    }

    @Test
    void invalidArgumentsFailInOneLine() {
        for (String[] args : new String[][] {
            {"tokenizer", "train", "--vocab-size", "ten", "x.txt"},
            {"tokenizer", "train", "--vocab-size", "100", dir.toString()},
            {"tokenizer", "encode"},
            {"tokenizer", "frobnicate"},
            {"nothing"},
        }) {
            Run run = run(args);
            assertEquals(2, run.code(), String.join(" ", args) + ": " + run.err());
            assertEquals(1, run.err().lines().count(), String.join(" ", args) + ": " + run.err());
        }
    }

    @Test
    void invalidIdFailsWithLineNumber() throws Exception {
        Path ids = dir.resolve("bad.jsonl");
        Files.writeString(ids, "[1,2]\n[99999999]\n");
        Run run = run("tokenizer", "decode", "--tokenizer", tokenizerFile.toString(), "--input", ids.toString());
        assertEquals(2, run.code());
        assertTrue(run.err().contains("line 2"), run.err());
    }

    @Test
    void helpShowsDefaultsAndUnits() {
        Run run = run("tokenizer", "train", "--help");
        assertEquals(0, run.code());
        assertTrue(run.out().contains("Default: 8192"), run.out());
        assertTrue(run.out().contains("in tokens"), run.out());
    }

    @Test
    void trainWritesLoadableTokenizer() throws Exception {
        Path corpus = dir.resolve("corpus.txt");
        Files.write(corpus, BrownCorpus.validParagraphs().subList(0, 200));
        Path output = dir.resolve("trained");
        Run run = run("tokenizer", "train", "--vocab-size", "600", "-o", output.toString(), corpus.toString());
        assertEquals(0, run.code(), run.err());
        assertTrue(run.err().contains("merge: 341/341 (100%)"), run.err());
        Tokenizer tokenizer = Tokenizer.load(output);
        assertEquals(600, tokenizer.vocabSize());
        assertTrue(Files.exists(output.resolve("tokenizer_config.json")));
    }

    @Test
    void fractionalIdRejected() throws Exception {
        Path ids = dir.resolve("fraction.jsonl");
        Files.writeString(ids, "[1.5]\n");
        Run run = run("tokenizer", "decode", "--tokenizer", tokenizerFile.toString(), "--input", ids.toString());
        assertEquals(2, run.code(), run.out());
        assertTrue(run.err().contains("line 1: invalid id 1.5"), run.err());
    }

    @Test
    void outputThatIsFileRejectedBeforeTraining() throws Exception {
        Path corpus = dir.resolve("small.txt");
        Files.write(corpus, BrownCorpus.validParagraphs().subList(0, 5));
        Path file = dir.resolve("occupied");
        Files.writeString(file, "not a directory");
        Run run = run("tokenizer", "train", "--vocab-size", "300", "-o", file.toString(), corpus.toString());
        assertEquals(2, run.code());
        assertEquals(1, run.err().lines().count(), run.err());
        assertTrue(run.err().contains("--output " + file + " is a file, not a directory"), run.err());
        assertFalse(run.err().contains("merge:"), run.err());
    }

    @Test
    void emptyTrainingInputRejected() throws Exception {
        Path empty = dir.resolve("empty.txt");
        Files.writeString(empty, "\n\n");
        Run run = run("tokenizer", "train", "--vocab-size", "300", "-o", dir.resolve("never").toString(),
                empty.toString());
        assertEquals(2, run.code());
        assertTrue(run.err().contains("contain no text to train on"), run.err());
    }
}
