package dev.transact4j.llama.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The BPE trainer on small seeded corpora, checked against Hugging Face through its output file. */
class BpeTrainerTest {
    private static List<String> corpus(int paragraphs, long seed) {
        String[] words = {"the", "then", "there", "these", "cat", "cats", "catalog", "dog", "dogs", "2026", "12",
            "naïve", "café", "日本", "don't", "we'll", "!", "?", ",", "   ", "\n", "\t", "😀"};
        Random random = new Random(seed);
        List<String> out = new ArrayList<>();
        for (int p = 0; p < paragraphs; p++) {
            StringBuilder b = new StringBuilder();
            int n = 5 + random.nextInt(40);
            for (int i = 0; i < n; i++) {
                b.append(words[random.nextInt(words.length)]);
                b.append(random.nextInt(4) == 0 ? "" : " ");
            }
            out.add(b.toString());
        }
        return out;
    }

    @Test
    void firstMergeIsMostFrequentPair() {
        List<String> texts = List.of("aaab aaab aaab", "ab ab");
        BpeTrainer.Result result = BpeTrainer.train(texts, BpeTrainer.Options.llama3Style(3 + 256 + 1),
                BpeTrainer.Progress.NONE);
        // words: "aaab" x1, " aaab" x2, " ab" x2 (plus nothing else); pair (a,a) occurs 2 * 3 = 6 times
        assertEquals(1, result.merges().size());
        assertEquals("a", result.merges().get(0)[0]);
        assertEquals("a", result.merges().get(0)[1]);
        assertEquals("aa", result.vocab().get(259));
    }

    @Test
    void vocabularyReachesRequestedSize() {
        BpeTrainer.Result result = BpeTrainer.train(corpus(300, 1), BpeTrainer.Options.llama3Style(333),
                BpeTrainer.Progress.NONE);
        assertEquals(333, result.vocab().size());
        assertEquals("<|begin_of_text|>", result.vocab().get(0));
        assertEquals(333 - 259, result.merges().size(), "no duplicate merge results on this corpus");
    }

    @Test
    void trainingIsDeterministic(@TempDir Path dir) throws Exception {
        List<String> texts = corpus(200, 7);
        BpeTrainer.train(texts, BpeTrainer.Options.llama3Style(300), BpeTrainer.Progress.NONE).write(dir.resolve("a"));
        BpeTrainer.train(texts, BpeTrainer.Options.llama3Style(300), BpeTrainer.Progress.NONE).write(dir.resolve("b"));
        assertArrayEquals(Files.readAllBytes(dir.resolve("a/tokenizer.json")), Files.readAllBytes(dir.resolve("b/tokenizer.json")));
        assertTrue(Files.exists(dir.resolve("a/tokenizer_config.json")));
    }

    @Test
    void progressReportsBothStages() {
        List<String> stages = new ArrayList<>();
        long[] lastMerge = new long[2];
        BpeTrainer.train(corpus(50, 3), BpeTrainer.Options.llama3Style(280), (stage, done, total) -> {
            if (!stages.contains(stage)) {
                stages.add(stage);
            }
            if (stage.equals("merge")) {
                lastMerge[0] = done;
                lastMerge[1] = total;
            }
        });
        assertEquals(List.of("count", "merge"), stages);
        assertEquals(280 - 259, lastMerge[1]);
        assertEquals(lastMerge[1], lastMerge[0]);
    }

    @Test
    void smallCorpusStopsAtMinimumFrequency() {
        BpeTrainer.Result result = BpeTrainer.train(List.of("abc"), BpeTrainer.Options.llama3Style(1000),
                BpeTrainer.Progress.NONE);
        assertEquals(259, result.vocab().size());
    }

    @Test
    void invalidOptionsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> BpeTrainer.Options.llama3Style(100));
        assertThrows(IllegalArgumentException.class, () -> new BpeTrainer.Options(300, List.of("<s>", "<s>"),
                null, null, null, 2));
        assertThrows(IllegalArgumentException.class, () -> new BpeTrainer.Options(300, List.of("<s>"),
                "<bos>", null, null, 2));
    }

    @Test
    void trainedFileMatchesOracle(@TempDir Path dir) throws Exception {
        List<String> texts = corpus(400, 11);
        BpeTrainer.train(texts, BpeTrainer.Options.llama3Style(400), BpeTrainer.Progress.NONE).write(dir);
        Tokenizer tokenizer = Tokenizer.load(dir);
        List<String> checks = new ArrayList<>(HardCases.TEXTS);
        checks.addAll(corpus(100, 12));
        checks.add("<|begin_of_text|>hello<|end_of_text|><|pad|>");
        try (HfOracle oracle = HfOracle.load(dir.resolve("tokenizer.json"))) {
            for (String text : checks) {
                int[] expected = oracle.encode(text, true);
                int[] actual = tokenizer.encodeIds(text, true);
                assertArrayEquals(expected, actual, () -> "ids of '" + text + "'\n expected " + Arrays.toString(expected)
                        + "\n actual   " + Arrays.toString(actual));
                assertEquals(0, actual[0], "BOS first");
                assertEquals(oracle.decode(actual, true), tokenizer.decode(actual, true));
                assertEquals(java.text.Normalizer.normalize(text, java.text.Normalizer.Form.NFC),
                        tokenizer.decode(Arrays.copyOfRange(actual, 1, actual.length), false),
                        "round trip of '" + text + "'");
            }
        }
    }
}
