package dev.transact4j.e2e.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.transact4j.llama.tokenizer.BpeTrainer;
import dev.transact4j.llama.tokenizer.Tokenizer;
import dev.transact4j.train.corpus.BrownCorpus;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The committed demo tokenizer: Hugging Face encodes the Brown validation split exactly as we do,
 * and training again on the Brown training split reproduces the committed file byte for byte.
 */
class DemoTokenizerTest {
    private static Path copyDemo(Path dir) throws IOException {
        Path file = dir.resolve("tokenizer.json");
        try (InputStream in = BrownCorpus.class.getResourceAsStream(BrownCorpus.TOKENIZER_RESOURCE)) {
            Files.copy(in, file);
        }
        return file;
    }

    @Test
    void validSplitMatchesOracle(@TempDir Path dir) throws IOException {
        Path file = copyDemo(dir);
        Tokenizer tokenizer = Tokenizer.load(file);
        assertEquals(8192, tokenizer.vocabSize());
        List<String> paragraphs = BrownCorpus.validParagraphs();
        try (DjlOracle oracle = new DjlOracle(file)) {
            int[][] expected = oracle.encodeAll(paragraphs, true);
            for (int i = 0; i < paragraphs.size(); i++) {
                int[] actual = tokenizer.encodeIds(paragraphs.get(i), true);
                int index = i;
                assertArrayEquals(expected[i], actual, () -> "ids of paragraph " + index + "\n expected "
                        + Arrays.toString(expected[index]) + "\n actual   " + Arrays.toString(actual));
                assertEquals(paragraphs.get(i), tokenizer.decode(actual, true), "round trip of paragraph " + i);
            }
            for (String text : List.of("", " leading", "<|begin_of_text|>x<|end_of_text|>", "日本 😀 café\t\n")) {
                assertArrayEquals(oracle.encode(text, true), tokenizer.encodeIds(text, true), "ids of '" + text + "'");
            }
        }
    }

    @Test
    void retrainingReproducesCommittedFile(@TempDir Path dir) throws IOException {
        Path committed = copyDemo(dir);
        BpeTrainer.train(BrownCorpus.trainParagraphs(), BpeTrainer.Options.llama3Style(8192), BpeTrainer.Progress.NONE)
                .write(dir.resolve("again"));
        assertEquals(Files.readString(committed), Files.readString(dir.resolve("again/tokenizer.json")));
    }
}
