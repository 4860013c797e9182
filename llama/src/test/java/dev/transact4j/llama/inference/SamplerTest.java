package dev.transact4j.llama.inference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Checks the sampler's distributions against probabilities computed here from their definitions,
 * and its draws against those probabilities by a chi-square statistic over many seeded draws.
 */
class SamplerTest {

    private static final int DRAWS = 40_000;

    /** Seeded logits of an odd vocabulary size, distinct values spread over about 6 nats. */
    private static float[] logits(int size, long seed) {
        Random random = new Random(seed);
        float[] logits = new float[size];
        for (int i = 0; i < size; i++) {
            logits[i] = (float) (1.5 * random.nextGaussian());
        }
        return logits;
    }

    /** Softmax in double of {@code logits / temperature} over the ids in {@code kept}, zero elsewhere. */
    private static double[] softmaxOver(float[] logits, float temperature, List<Integer> kept) {
        double[] p = new double[logits.length];
        double max = kept.stream().mapToDouble(i -> logits[i] / temperature).max().orElseThrow();
        double sum = 0;
        for (int i : kept) {
            p[i] = Math.exp(logits[i] / temperature - max);
            sum += p[i];
        }
        for (int i : kept) {
            p[i] /= sum;
        }
        return p;
    }

    private static List<Integer> allIds(int size) {
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            ids.add(i);
        }
        return ids;
    }

    private static List<Integer> byDescendingLogit(float[] logits) {
        List<Integer> ids = allIds(logits.length);
        ids.sort(Comparator.comparingDouble((Integer i) -> -logits[i]).thenComparingInt(i -> i));
        return ids;
    }

    /** Draws {@link #DRAWS} tokens and checks the counts against {@code expected}. */
    private static void assertDrawsFollow(double[] expected, SamplingOptions options, float[] logits, int[] history) {
        Sampler sampler = new Sampler(options);
        long[] counts = new long[logits.length];
        for (int n = 0; n < DRAWS; n++) {
            counts[sampler.sample(logits, history, history.length)]++;
        }

        // Tokens with probability zero are never drawn; the others pass a chi-square bound.
        double chiSquare = 0;
        int support = 0;
        for (int i = 0; i < expected.length; i++) {
            if (expected[i] == 0) {
                assertEquals(0, counts[i], "token " + i + " has probability 0 but was drawn");
                continue;
            }
            support++;
            double e = expected[i] * DRAWS;
            chiSquare += (counts[i] - e) * (counts[i] - e) / e;
        }
        int degrees = Math.max(1, support - 1);
        // About 6 standard deviations above the mean of the chi-square distribution: a correct
        // sampler fails this with probability far below 1e-6, while a wrong distribution on 40k
        // draws exceeds it by orders of magnitude.
        double bound = degrees + 6 * Math.sqrt(2.0 * degrees) + 10;
        assertTrue(chiSquare < bound, "chi-square " + chiSquare + " exceeds " + bound + " with " + degrees
                + " degrees of freedom; counts " + Arrays.toString(counts));
    }

    private static void assertProbabilities(double[] expected, double[] actual) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-12, "probability of token " + i);
        }
    }

    @Test
    void temperatureMatchesSoftmax() {
        float[] logits = logits(17, 1);
        for (float temperature : new float[] {0.5f, 1f, 1.7f}) {
            SamplingOptions options = SamplingOptions.sample(temperature, 11);
            double[] expected = softmaxOver(logits, temperature, allIds(logits.length));
            assertProbabilities(expected, new Sampler(options).probabilities(logits, new int[0], 0));
            assertDrawsFollow(expected, options, logits, new int[0]);
        }
    }

    @Test
    void topKKeepsLargestLogits() {
        float[] logits = logits(33, 2);
        for (int k : new int[] {1, 3, 15, 33, 40}) {
            SamplingOptions options = SamplingOptions.sample(0.8f, 12).withTopK(k);
            List<Integer> kept = byDescendingLogit(logits).subList(0, Math.min(k, logits.length));
            double[] expected = softmaxOver(logits, 0.8f, kept);
            assertProbabilities(expected, new Sampler(options).probabilities(logits, new int[0], 0));
            assertDrawsFollow(expected, options, logits, new int[0]);
        }
    }

    @Test
    void topKKeepsTiesWithKth() {
        float[] logits = {0f, 2f, 1f, 1f, 1f, -1f};
        SamplingOptions options = SamplingOptions.sample(1f, 3).withTopK(2);
        double[] expected = softmaxOver(logits, 1f, List.of(1, 2, 3, 4));
        assertProbabilities(expected, new Sampler(options).probabilities(logits, new int[0], 0));
    }

    @Test
    void topPKeepsSmallestNucleus() {
        float[] logits = logits(17, 3);
        double[] full = softmaxOver(logits, 1f, allIds(logits.length));
        List<Integer> order = byDescendingLogit(logits);
        for (double p : new double[] {0.3, 0.6, 0.9, 0.99}) {
            // the smallest prefix of the sorted tokens whose probability sum reaches p
            List<Integer> kept = new ArrayList<>();
            double sum = 0;
            for (int id : order) {
                kept.add(id);
                sum += full[id];
                if (sum >= p) {
                    break;
                }
            }
            SamplingOptions options = SamplingOptions.sample(1f, 13).withTopP(p);
            double[] expected = softmaxOver(logits, 1f, kept);
            assertProbabilities(expected, new Sampler(options).probabilities(logits, new int[0], 0));
            assertDrawsFollow(expected, options, logits, new int[0]);
        }
    }

    @Test
    void topPBoundaryIsInclusive() {
        // four equal logits give exactly 0.25 each: p = 0.5 is reached by two tokens, a hair more needs three
        float[] logits = {0f, 0f, 0f, 0f};
        Sampler half = new Sampler(SamplingOptions.sample(1f, 1).withTopP(0.5));
        assertArrayEquals(new double[] {0.5, 0.5, 0, 0}, half.probabilities(logits, new int[0], 0));
        Sampler more = new Sampler(SamplingOptions.sample(1f, 1).withTopP(0.5000001));
        assertArrayEquals(new double[] {1.0 / 3, 1.0 / 3, 1.0 / 3, 0}, more.probabilities(logits, new int[0], 0),
                1e-15);
    }

    @Test
    void tinyTopPKeepsOneToken() {
        float[] logits = logits(15, 4);
        int best = byDescendingLogit(logits).get(0);
        Sampler sampler = new Sampler(SamplingOptions.sample(1.3f, 14).withTopP(1e-9));
        for (int n = 0; n < 100; n++) {
            assertEquals(best, sampler.sample(logits));
        }
    }

    @Test
    void minPRemovesUnlikelyTokens() {
        float[] logits = logits(17, 5);
        double[] full = softmaxOver(logits, 1f, allIds(logits.length));
        double max = Arrays.stream(full).max().orElseThrow();
        List<Integer> kept = new ArrayList<>();
        for (int i = 0; i < logits.length; i++) {
            if (full[i] >= 0.1 * max) {
                kept.add(i);
            }
        }
        assertTrue(kept.size() > 1, "the case must keep several tokens");
        assertTrue(kept.size() < logits.length, "the case must remove some tokens");
        SamplingOptions options = SamplingOptions.sample(1f, 15).withMinP(0.1);
        double[] expected = softmaxOver(logits, 1f, kept);
        assertProbabilities(expected, new Sampler(options).probabilities(logits, new int[0], 0));
        assertDrawsFollow(expected, options, logits, new int[0]);
    }

    @Test
    void filtersApplyInOrder() {
        // top-k 8, then top-p 0.7 on the renormalized top 8, then min-p 0.2 on what is left
        float[] logits = logits(33, 6);
        List<Integer> topEight = byDescendingLogit(logits).subList(0, 8);
        double[] afterK = softmaxOver(logits, 0.9f, topEight);
        List<Integer> nucleus = new ArrayList<>();
        double sum = 0;
        for (int id : topEight) {
            nucleus.add(id);
            sum += afterK[id];
            if (sum >= 0.7) {
                break;
            }
        }
        double[] afterP = softmaxOver(logits, 0.9f, nucleus);
        double max = afterP[nucleus.get(0)];
        List<Integer> kept = nucleus.stream().filter(i -> afterP[i] >= 0.2 * max).toList();

        SamplingOptions options = SamplingOptions.sample(0.9f, 16).withTopK(8).withTopP(0.7).withMinP(0.2);
        double[] expected = softmaxOver(logits, 0.9f, kept);
        assertProbabilities(expected, new Sampler(options).probabilities(logits, new int[0], 0));
        assertDrawsFollow(expected, options, logits, new int[0]);
    }

    @Test
    void repetitionPenaltyDividesAndMultiplies() {
        float[] logits = {2f, -1f, 0.5f, 0f, -3f};
        int[] history = {0, 1, 1, 3, 0};
        float[] penalized = {2f / 1.5f, -1f * 1.5f, 0.5f, 0f, -3f};
        SamplingOptions options = SamplingOptions.sample(1f, 17).withRepetitionPenalty(1.5f);
        double[] expected = softmaxOver(penalized, 1f, allIds(penalized.length));
        assertProbabilities(expected, new Sampler(options).probabilities(logits, history, history.length));
        assertDrawsFollow(expected, options, logits, history);
    }

    @Test
    void repetitionPenaltyAppliesToGreedy() {
        float[] logits = {3f, 2.5f, 1f};
        assertEquals(0, new Sampler(SamplingOptions.greedy()).sample(logits, new int[] {0}, 1));
        SamplingOptions penalized = SamplingOptions.greedy().withRepetitionPenalty(1.3f);
        assertEquals(1, new Sampler(penalized).sample(logits, new int[] {0}, 1));
        assertEquals(0, new Sampler(penalized).sample(logits, new int[] {0, 2}, 0), "an empty history has no effect");
    }

    @Test
    void zeroTemperatureIsGreedy() {
        float[] logits = logits(257, 7);
        int best = byDescendingLogit(logits).get(0);
        Sampler sampler = new Sampler(SamplingOptions.sample(0f, 99).withTopK(5).withTopP(0.5));
        for (int n = 0; n < 50; n++) {
            assertEquals(best, sampler.sample(logits));
        }
        double[] p = sampler.probabilities(logits, new int[0], 0);
        assertEquals(1.0, p[best]);
        assertEquals(1.0, Arrays.stream(p).sum());
    }

    @Test
    void topKOneIsArgmax() {
        float[] logits = logits(33, 8);
        int best = byDescendingLogit(logits).get(0);
        Sampler sampler = new Sampler(SamplingOptions.sample(2f, 18).withTopK(1));
        for (int n = 0; n < 200; n++) {
            assertEquals(best, sampler.sample(logits));
        }
    }

    @Test
    void equalLogitsAreUniform() {
        float[] logits = new float[15];
        Arrays.fill(logits, 0.25f);
        double[] uniform = new double[15];
        Arrays.fill(uniform, 1.0 / 15);
        assertDrawsFollow(uniform, SamplingOptions.sample(1f, 19), logits, new int[0]);
        assertEquals(0, new Sampler(SamplingOptions.greedy()).sample(logits), "greedy takes the first of equal logits");
        // top-k keeps ties with the k-th largest, so all 15 stay
        assertDrawsFollow(uniform, SamplingOptions.sample(1f, 20).withTopK(1), logits, new int[0]);
        // top-p breaks ties by id: 1/15 per token, so p = 0.2 keeps the first three
        double[] firstThree = new double[15];
        Arrays.fill(firstThree, 0, 3, 1.0 / 3);
        assertProbabilities(firstThree, new Sampler(SamplingOptions.sample(1f, 21).withTopP(0.2))
                .probabilities(logits, new int[0], 0));
    }

    @Test
    void negativeInfinityIsNeverDrawn() {
        float[] logits = {Float.NEGATIVE_INFINITY, 0f, Float.NEGATIVE_INFINITY, 1f, Float.NEGATIVE_INFINITY};
        double[] expected = softmaxOver(logits, 1f, List.of(1, 3));
        assertDrawsFollow(expected, SamplingOptions.sample(1f, 22).withTopK(4), logits, new int[0]);
        assertEquals(3, new Sampler(SamplingOptions.greedy()).sample(logits));
    }

    @Test
    void sameSeedSameTokens() {
        float[] logits = logits(257, 9);
        SamplingOptions options = SamplingOptions.sample(1.1f, 1234).withTopP(0.95);
        int[] first = new int[64];
        int[] second = new int[64];
        int[] other = new int[64];
        Sampler a = new Sampler(options);
        Sampler b = new Sampler(options);
        Sampler c = new Sampler(options.withSeed(1235));
        for (int i = 0; i < 64; i++) {
            first[i] = a.sample(logits);
            second[i] = b.sample(logits);
            other[i] = c.sample(logits);
        }
        assertArrayEquals(first, second);
        assertFalse(Arrays.equals(first, other), "another seed gives other tokens");
    }

    @Test
    void nanLogitIsRejected() {
        float[] logits = logits(17, 10);
        logits[9] = Float.NaN;
        Sampler sampler = new Sampler(SamplingOptions.sample(1f, 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> sampler.sample(logits));
        assertTrue(e.getMessage().contains("logits[9] is NaN"), e.getMessage());
        Sampler greedy = new Sampler(SamplingOptions.greedy());
        assertThrows(IllegalArgumentException.class, () -> greedy.sample(logits));
    }

    @Test
    void positiveInfinityIsRejected() {
        float[] logits = {0f, Float.POSITIVE_INFINITY, 1f};
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Sampler(SamplingOptions.greedy()).sample(logits));
        assertTrue(e.getMessage().contains("logits[1] is Infinity"), e.getMessage());
    }

    @Test
    void allMaskedIsRejected() {
        float[] logits = new float[3];
        Arrays.fill(logits, Float.NEGATIVE_INFINITY);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Sampler(SamplingOptions.sample(1f, 1)).sample(logits));
        assertTrue(e.getMessage().contains("all 3 logits are -Infinity"), e.getMessage());
    }

    @Test
    void historyOutsideVocabularyIsRejected() {
        Sampler sampler = new Sampler(SamplingOptions.greedy().withRepetitionPenalty(1.2f));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> sampler.sample(new float[4], new int[] {1, 7}, 2));
        assertTrue(e.getMessage().contains("history[1] = 7"), e.getMessage());
    }

    @Test
    void invalidOptionsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> SamplingOptions.sample(-0.1f, 1));
        assertThrows(IllegalArgumentException.class, () -> SamplingOptions.sample(Float.NaN, 1));
        assertThrows(IllegalArgumentException.class, () -> SamplingOptions.greedy().withTopK(-1));
        assertThrows(IllegalArgumentException.class, () -> SamplingOptions.greedy().withTopP(0));
        assertThrows(IllegalArgumentException.class, () -> SamplingOptions.greedy().withTopP(1.5));
        assertThrows(IllegalArgumentException.class, () -> SamplingOptions.greedy().withMinP(-0.5));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SamplingOptions.greedy().withRepetitionPenalty(0f));
        assertTrue(e.getMessage().contains("repetition_penalty is 0.0"), e.getMessage());
    }
}
