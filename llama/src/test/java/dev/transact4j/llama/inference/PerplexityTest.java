package dev.transact4j.llama.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.transact4j.llama.tokenizer.Tokenizer;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class PerplexityTest {

    private static BigramLm model;
    private static int[] text;

    @BeforeAll
    static void countText() throws IOException {
        Tokenizer tokenizer = GeneratorTest.mistralTokenizer();
        model = new BigramLm(tokenizer, GeneratorTest.DOCUMENTS, GeneratorTest.EOS, 64);
        String evaluation = "The llama ate grass in the Andes 🏔. Alpacas say 🦙 and llamas are happy 😀 with warm wool.";
        text = tokenizer.encodeIds(evaluation, true);
    }

    /** Mean NLL of the tokens at {@code targets}, each predicted from the token before it. */
    private static double directMeanNll(List<Integer> targets) {
        double sum = 0;
        for (int t : targets) {
            sum -= Math.log(model.probability(text[t - 1], text[t]));
        }
        return sum / targets.size();
    }

    @Test
    void overlappingWindowsScoreEveryTokenOnce() {
        assertTrue(text.length > 32, "the text must span several windows: " + text.length);
        List<Integer> allButFirst = new ArrayList<>();
        for (int t = 1; t < text.length; t++) {
            allButFirst.add(t);
        }
        double expected = directMeanNll(allButFirst);
        for (int stride : new int[] {1, 5, 15}) {
            Perplexity.Result result = Perplexity.evaluate(model, text, 16, stride);
            assertEquals(text.length - 1, result.tokensEvaluated(), "stride " + stride);
            assertEquals(expected, result.meanNll(), 1e-12 * expected, "stride " + stride);
            assertEquals(Math.exp(expected), result.perplexity(), 1e-11 * Math.exp(expected), "stride " + stride);
        }
        Perplexity.Result whole = Perplexity.evaluate(model, text, 64, 64);
        assertEquals(1, whole.windows().size(), "one window covers the text");
        assertEquals(expected, whole.meanNll(), 1e-12 * expected);
    }

    @Test
    void decodingScorerMatchesDirectScores() {
        // the bigram's float logits are log-probabilities rounded to float32, so about 1e-7 apart
        SequenceScorer decoding = Perplexity.scorer(model, 16);
        Perplexity.Result direct = Perplexity.evaluate(model, text, 16, 5);
        Perplexity.Result decoded = Perplexity.evaluate(decoding, text, 16, 5);
        assertEquals(direct.tokensEvaluated(), decoded.tokensEvaluated());
        assertEquals(direct.meanNll(), decoded.meanNll(), 1e-5 * direct.meanNll());
        double[] a = model.nextTokenLogProbabilities(Arrays.copyOf(text, 16));
        double[] b = decoding.nextTokenLogProbabilities(Arrays.copyOf(text, 16));
        for (int i = 0; i < a.length; i++) {
            assertEquals(a[i], b[i], 1e-5 * Math.abs(a[i]), "position " + i);
        }
    }

    @Test
    void disjointWindowsSkipEachFirstToken() {
        int maxLength = 16;
        List<Integer> targets = new ArrayList<>();
        for (int t = 1; t < text.length; t++) {
            if (t % maxLength != 0) {
                targets.add(t);
            }
        }
        Perplexity.Result result = Perplexity.evaluate(model, text, maxLength, maxLength);
        assertEquals(targets.size(), result.tokensEvaluated());
        assertEquals(directMeanNll(targets), result.meanNll(), 1e-12 * result.meanNll());
    }

    /** A scorer of ids that equal their positions: log p of target t is -(1 + t) / 1000, and it records windows. */
    private static final class PositionScorer implements SequenceScorer {
        final List<int[]> windows = new ArrayList<>();

        @Override
        public double[] nextTokenLogProbabilities(int[] ids) {
            windows.add(new int[] {ids[0], ids[ids.length - 1] + 1});
            double[] out = new double[ids.length - 1];
            for (int i = 0; i + 1 < ids.length; i++) {
                out[i] = -(1 + ids[i + 1]) / 1000.0;
            }
            return out;
        }

        @Override
        public int maxLength() {
            return 1024;
        }
    }

    private static int[] positions(int n) {
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = i;
        }
        return ids;
    }

    @Test
    void windowsFollowGuideArithmetic() {
        // n = 50, max_length 16, stride 5: begins 0, 5, ..., 35, where the window [35, 50) reaches
        // the end; target lengths 16, 5, 5, 5, 5, 5, 5, 4, of which the first window scores 15
        PositionScorer scorer = new PositionScorer();
        Perplexity.Result result = Perplexity.evaluate(scorer, positions(50), 16, 5);
        int[] begins = {0, 5, 10, 15, 20, 25, 30, 35};
        int[] ends = {16, 21, 26, 31, 36, 41, 46, 50};
        int[] scored = {15, 5, 5, 5, 5, 5, 5, 4};
        assertEquals(begins.length, result.windows().size());
        for (int w = 0; w < begins.length; w++) {
            Perplexity.Window window = result.windows().get(w);
            assertEquals(begins[w], window.begin(), "begin of window " + w);
            assertEquals(ends[w], window.end(), "end of window " + w);
            assertEquals(scored[w], window.scored(), "scored tokens of window " + w);
            assertEquals(begins[w], scorer.windows.get(w)[0], "first id passed to the scorer in window " + w);
            assertEquals(ends[w], scorer.windows.get(w)[1], "end of the ids passed to the scorer in window " + w);
        }
        assertEquals(49, result.tokensEvaluated());

        // every target 1..49 once: sum of (1 + t) / 1000
        double sum = 0;
        for (int t = 1; t < 50; t++) {
            sum += (1 + t) / 1000.0;
        }
        assertEquals(sum / 49, result.meanNll(), 1e-15);
    }

    @Test
    void lastWindowShorterThanStride() {
        // n = 20, max_length 8, stride 6: windows [0, 8), [6, 14), [12, 20); the last scores 6
        Perplexity.Result result = Perplexity.evaluate(new PositionScorer(), positions(20), 8, 6);
        assertEquals(3, result.windows().size());
        assertEquals(7, result.windows().get(0).scored());
        assertEquals(6, result.windows().get(1).scored());
        assertEquals(6, result.windows().get(2).scored());
        assertEquals(19, result.tokensEvaluated());
    }

    @Test
    void summaryReportsNumbers() {
        Perplexity.Result result = Perplexity.evaluate(new PositionScorer(), positions(3), 2, 1);
        assertEquals(2, result.tokensEvaluated());
        assertTrue(result.summary().contains("over 2 tokens, 2 windows"), result.summary());
    }

    @Test
    void invalidArgumentsAreRejected() {
        PositionScorer scorer = new PositionScorer();
        IllegalArgumentException shortText = assertThrows(IllegalArgumentException.class,
                () -> Perplexity.evaluate(scorer, new int[] {1}, 8, 4));
        assertTrue(shortText.getMessage().contains("has 1 tokens"), shortText.getMessage());
        IllegalArgumentException tooLong = assertThrows(IllegalArgumentException.class,
                () -> Perplexity.evaluate(scorer, positions(10), 2048, 4));
        assertTrue(tooLong.getMessage().contains("max_length 2048 must be in [2, 1024]"), tooLong.getMessage());
        IllegalArgumentException stride = assertThrows(IllegalArgumentException.class,
                () -> Perplexity.evaluate(scorer, positions(10), 8, 9));
        assertTrue(stride.getMessage().contains("stride 9"), stride.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Perplexity.evaluate(scorer, positions(10), 8, 0));
    }

    @Test
    void nanFromScorerIsRejected() {
        SequenceScorer broken = new SequenceScorer() {
            @Override
            public double[] nextTokenLogProbabilities(int[] ids) {
                double[] out = new double[ids.length - 1];
                out[out.length - 1] = Double.NaN;
                return out;
            }

            @Override
            public int maxLength() {
                return 16;
            }
        };
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Perplexity.evaluate(broken, positions(10), 8, 8));
        assertTrue(e.getMessage().contains("log-probability NaN for token 7 (window [0, 8))"), e.getMessage());
    }
}
