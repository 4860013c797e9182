package dev.transact4j.e2e.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.transact4j.llama.tokenizer.Encoding;
import dev.transact4j.llama.tokenizer.Tokenizer;
import dev.transact4j.train.corpus.BrownCorpus;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every paragraph of the Brown Corpus (both splits) encodes to the same ids as Hugging Face's
 * tokenizers, and decodes to the same text, for Mistral 7B and Qwen3.
 */
class BrownCorpusTokenizerTest {
    private static List<String> paragraphs;

    @BeforeAll
    static void readCorpus() {
        paragraphs = new ArrayList<>(BrownCorpus.trainParagraphs());
        paragraphs.addAll(BrownCorpus.validParagraphs());
    }

    @Test
    void corpusHasBothSplits() {
        assertEquals(14070, BrownCorpus.trainParagraphs().size());
        assertEquals(1597, BrownCorpus.validParagraphs().size());
    }

    @Test
    void mistralMatchesOracle(@TempDir Path dir) throws IOException {
        assertCorpusMatches("mistral-7b", dir);
    }

    @Test
    void qwen3MatchesOracle(@TempDir Path dir) throws IOException {
        assertCorpusMatches("qwen3", dir);
    }

    /** Our offsets in the oracle's form; Brown is ASCII, so chars and code points coincide. */
    private static List<String> offsets(Tokenizer tokenizer, String text) {
        Encoding encoding = tokenizer.encode(text, true);
        List<String> out = new ArrayList<>();
        for (int i = 0; i < encoding.size(); i++) {
            boolean template = encoding.start(i) == 0 && encoding.end(i) == 0 && tokenizer.isSpecial(encoding.ids()[i]);
            out.add(template ? "none" : encoding.start(i) + "-" + encoding.end(i));
        }
        return out;
    }

    private static void assertCorpusMatches(String name, Path dir) throws IOException {
        Path file = DjlOracle.unpack(name, dir);
        Tokenizer tokenizer = Tokenizer.load(file);
        try (DjlOracle oracle = new DjlOracle(file)) {
            int[][] expected = oracle.encodeAll(paragraphs, true);
            long tokens = 0;
            for (int i = 0; i < paragraphs.size(); i++) {
                int[] actual = tokenizer.encodeIds(paragraphs.get(i), true);
                int index = i;
                assertArrayEquals(expected[i], actual, () -> name + " ids of paragraph " + index + ": "
                        + paragraphs.get(index) + "\n expected " + Arrays.toString(expected[index])
                        + "\n actual   " + Arrays.toString(actual));
                tokens += actual.length;
                // single calls through JNI are slower than encoding in batch, so sample paragraphs
                if (i % 5 == 0) {
                    assertEquals(oracle.decode(actual, true), tokenizer.decode(actual, true),
                            name + " decode of paragraph " + i);
                }
                if (i % 20 == 0) {
                    assertEquals(oracle.offsets(paragraphs.get(i)), offsets(tokenizer, paragraphs.get(i)),
                            name + " offsets of paragraph " + i);
                }
            }
            assertEquals(true, tokens > paragraphs.size() * 20L, name + " produced only " + tokens + " tokens");
        }
    }
}
