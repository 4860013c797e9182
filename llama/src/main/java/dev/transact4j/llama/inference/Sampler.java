package dev.transact4j.llama.inference;

import dev.transact4j.tensor.Rng;
import java.util.Arrays;

/**
 * Picks the next token from the logits of one position, in the order of Hugging Face's
 * {@code generate}: the repetition penalty first, then (when sampling) temperature, top-k, top-p
 * and min-p, each on the result of the one before, and finally a draw from the softmax of what is
 * left. Greedy decoding ({@code temperature == 0}) applies only the repetition penalty and returns
 * the first index of the largest logit, as {@code torch.argmax} does.
 *
 * <p>Rules, following transformers' logits processors:
 * <ul>
 *   <li>Repetition penalty (CTRL): each distinct token of the history has its logit divided by the
 *       penalty when positive and multiplied by it when negative.</li>
 *   <li>Top-k keeps every token whose logit is at least the k-th largest, so tokens tied with the
 *       k-th are all kept.</li>
 *   <li>Top-p sorts by probability (ties by lower id) and keeps tokens while the probability of
 *       the tokens before them is below p: the smallest prefix whose sum reaches p, at least one.</li>
 *   <li>Min-p removes tokens whose probability is below {@code minP} times the largest one.</li>
 * </ul>
 * Probabilities are computed in double. The draws come from one {@link Rng} seeded with the
 * options' seed, so a sampler created with the same options returns the same tokens for the same
 * logits. Not thread-safe: use one sampler per generation.
 */
public final class Sampler {

    private final SamplingOptions options;
    private final Rng rng;

    /** Creates a sampler whose random draws start from {@code options.seed()}. */
    public Sampler(SamplingOptions options) {
        this.options = options;
        this.rng = new Rng(options.seed());
    }

    /** Returns the options this sampler was created with. */
    public SamplingOptions options() {
        return options;
    }

    /**
     * Picks the next token.
     *
     * @param logits       the logits of one position, one per vocabulary entry
     * @param history      the ids of the sequence so far (prompt and generated), for the
     *                     repetition penalty; may be longer than {@code historySize}
     * @param historySize  how many ids of {@code history} to use
     * @throws IllegalArgumentException when a logit is NaN or +Infinity, every logit is
     *                                  -Infinity, or a history id is outside the vocabulary
     */
    public int sample(float[] logits, int[] history, int historySize) {
        double[] probabilities = new double[logits.length];
        int[] order = distribution(logits, history, historySize, probabilities);
        if (options.isGreedy()) {
            return order[0];
        }

        // Walk the kept tokens in order; rounding can leave u above the last sum.
        double u = rng.nextDouble();
        double cumulative = 0;
        int last = order[0];
        for (int id : order) {
            if (probabilities[id] == 0) {
                continue;
            }
            cumulative += probabilities[id];
            last = id;
            if (u < cumulative) {
                return id;
            }
        }
        return last;
    }

    /** Picks the next token with no repetition history. */
    public int sample(float[] logits) {
        return sample(logits, new int[0], 0);
    }

    /**
     * Returns the distribution {@link #sample} draws from: one probability per vocabulary entry,
     * zero for removed tokens, a single 1 for greedy decoding.
     */
    public double[] probabilities(float[] logits, int[] history, int historySize) {
        double[] probabilities = new double[logits.length];
        distribution(logits, history, historySize, probabilities);
        return probabilities;
    }

    /**
     * Fills {@code probabilities} and returns the kept ids: the argmax alone when greedy, by
     * descending probability after top-p, in id order otherwise.
     */
    private int[] distribution(float[] logits, int[] history, int historySize, double[] probabilities) {
        checkLogits(logits);
        float[] scores = logits.clone();
        applyRepetitionPenalty(scores, history, historySize);

        if (options.isGreedy()) {
            int best = argmax(scores);
            probabilities[best] = 1;
            return new int[] {best};
        }

        // temperature, in float32 as transformers divides the float32 logits
        float temperature = options.temperature();
        if (temperature != 1f) {
            for (int i = 0; i < scores.length; i++) {
                scores[i] = scores[i] / temperature;
            }
        }

        int[] kept = topK(scores, options.topK());
        softmax(scores, kept, probabilities);
        if (options.topP() < 1.0) {
            kept = topP(scores, kept, probabilities, options.topP());
            softmax(scores, kept, probabilities);
        }
        if (options.minP() > 0.0) {
            kept = minP(kept, probabilities, options.minP());
            softmax(scores, kept, probabilities);
        }
        return kept;
    }

    private static void checkLogits(float[] logits) {
        if (logits.length == 0) {
            throw new IllegalArgumentException("Sampler: logits are empty; pass one logit per vocabulary entry");
        }
        boolean anyFinite = false;
        for (int i = 0; i < logits.length; i++) {
            float x = logits[i];
            if (Float.isNaN(x) || x == Float.POSITIVE_INFINITY) {
                throw new IllegalArgumentException("Sampler: logits[" + i + "] is " + x + " (of " + logits.length
                        + " logits); the model produced a non-finite value. Check the weights and the input ids.");
            }
            anyFinite |= x != Float.NEGATIVE_INFINITY;
        }
        if (!anyFinite) {
            throw new IllegalArgumentException("Sampler: all " + logits.length
                    + " logits are -Infinity, so no token can be chosen; check the logit mask or bias");
        }
    }

    private void applyRepetitionPenalty(float[] scores, int[] history, int historySize) {
        float penalty = options.repetitionPenalty();
        if (penalty == 1f || historySize == 0) {
            return;
        }
        if (historySize < 0 || historySize > history.length) {
            throw new IllegalArgumentException("Sampler: history size " + historySize + " is outside [0, "
                    + history.length + "]");
        }
        boolean[] seen = new boolean[scores.length];
        for (int i = 0; i < historySize; i++) {
            int id = history[i];
            if (id < 0 || id >= scores.length) {
                throw new IllegalArgumentException("Sampler: history[" + i + "] = " + id
                        + " is outside the vocabulary [0, " + scores.length + ")");
            }
            if (!seen[id]) {
                seen[id] = true;
                float x = scores[id];
                scores[id] = x < 0 ? x * penalty : x / penalty;
            }
        }
    }

    private static int argmax(float[] scores) {
        int best = 0;
        for (int i = 1; i < scores.length; i++) {
            if (scores[i] > scores[best]) {
                best = i;
            }
        }
        return best;
    }

    /**
     * Returns, in id order, the ids whose score is at least the k-th largest (every finite one
     * when k is 0 or at least the vocabulary size).
     */
    private static int[] topK(float[] scores, int k) {
        float threshold = Float.NEGATIVE_INFINITY;
        if (k > 0 && k < scores.length) {
            threshold = kthLargest(scores, k);
        }
        int[] kept = new int[scores.length];
        int count = 0;
        for (int i = 0; i < scores.length; i++) {
            float x = scores[i];
            if (x != Float.NEGATIVE_INFINITY && x >= threshold) {
                kept[count++] = i;
            }
        }
        return Arrays.copyOf(kept, count);
    }

    /**
     * Returns a key whose ascending order is descending score, then ascending id: the upper half
     * is the score's bits mapped to a signed int of the same order, inverted.
     */
    private static long sortKey(float score, int id) {
        int bits = Float.floatToIntBits(score + 0.0f); // + 0.0f turns -0.0 into 0.0
        int ordered = bits ^ ((bits >> 31) & 0x7fffffff);
        return ((long) ~ordered << 32) | id;
    }

    /** Returns the k-th largest score, through a min-heap of the k largest seen so far. */
    private static float kthLargest(float[] scores, int k) {
        float[] heap = new float[k];
        int size = 0;
        for (float x : scores) {
            if (size < k) {
                heap[size] = x;
                siftUp(heap, size++);
            } else if (x > heap[0]) {
                heap[0] = x;
                siftDown(heap, size);
            }
        }
        return heap[0];
    }

    private static void siftUp(float[] heap, int i) {
        while (i > 0) {
            int parent = (i - 1) / 2;
            if (heap[parent] <= heap[i]) {
                return;
            }
            float t = heap[parent];
            heap[parent] = heap[i];
            heap[i] = t;
            i = parent;
        }
    }

    private static void siftDown(float[] heap, int size) {
        int i = 0;
        while (true) {
            int smallest = i;
            int left = 2 * i + 1;
            int right = left + 1;
            if (left < size && heap[left] < heap[smallest]) {
                smallest = left;
            }
            if (right < size && heap[right] < heap[smallest]) {
                smallest = right;
            }
            if (smallest == i) {
                return;
            }
            float t = heap[smallest];
            heap[smallest] = heap[i];
            heap[i] = t;
            i = smallest;
        }
    }

    /** Sets the softmax of the scores of {@code ids} into {@code probabilities} and zero elsewhere. */
    private static void softmax(float[] scores, int[] ids, double[] probabilities) {
        Arrays.fill(probabilities, 0.0);
        double max = Double.NEGATIVE_INFINITY;
        for (int id : ids) {
            max = Math.max(max, scores[id]);
        }
        double sum = 0;
        for (int id : ids) {
            double e = Math.exp(scores[id] - max);
            probabilities[id] = e;
            sum += e;
        }
        for (int id : ids) {
            probabilities[id] /= sum;
        }
    }

    /**
     * Returns the nucleus by descending probability, ties by lower id: the leading ids while the
     * probability before each is below p (at least one). Only ids with probability at least
     * {@code (1 - p) / n} are sorted. The ids below it sum to less than {@code 1 - p}, so those
     * above sum to at least p and contain the whole nucleus.
     */
    private static int[] topP(float[] scores, int[] ids, double[] probabilities, double p) {
        double floor = 0.5 * (1 - p) / ids.length; // halved against rounding in the sums
        long[] keys = new long[ids.length];
        int count = 0;
        for (int id : ids) {
            if (probabilities[id] >= floor) {
                keys[count++] = sortKey(scores[id], id);
            }
        }
        Arrays.sort(keys, 0, count);

        double before = 0;
        int kept = 0;
        while (kept < count && (kept == 0 || before < p)) {
            before += probabilities[(int) keys[kept]];
            kept++;
        }
        int[] nucleus = new int[kept];
        for (int j = 0; j < kept; j++) {
            nucleus[j] = (int) keys[j];
        }
        return nucleus;
    }

    /** Keeps the ids whose probability is at least {@code minP} times the largest, in their order. */
    private static int[] minP(int[] ids, double[] probabilities, double minP) {
        double max = 0;
        for (int id : ids) {
            max = Math.max(max, probabilities[id]);
        }
        double threshold = minP * max;
        int[] kept = new int[ids.length];
        int count = 0;
        for (int id : ids) {
            if (probabilities[id] >= threshold) {
                kept[count++] = id;
            }
        }
        return Arrays.copyOf(kept, count);
    }
}
