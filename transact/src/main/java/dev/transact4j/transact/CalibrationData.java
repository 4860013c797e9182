package dev.transact4j.transact;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.PrimitiveIterator;

/**
 * Calibration token ids for scoring: {@code samples} sequences of {@code seqLen} tokens, grouped
 * into batches of up to {@code batchSize} sequences. Each batch is row-major {@code [rows, seqLen]}.
 * The last batch has fewer rows when {@code batchSize} does not divide {@code samples}.
 *
 * <p>The batch grouping matters for the Taylor scorer only: it adds {@code |grad|} of each batch's
 * mean loss, so other groupings give other scores. Activation scores depend on the tokens alone.
 */
public final class CalibrationData {

    /** One batch: {@code ids} row-major {@code [rows, seqLen]}. */
    public record Batch(int[] ids, int rows, int seqLen) {
    }

    private final List<Batch> batches;
    private final int samples;
    private final int seqLen;

    private CalibrationData(List<Batch> batches, int samples, int seqLen) {
        this.batches = Collections.unmodifiableList(batches);
        this.samples = samples;
        this.seqLen = seqLen;
    }

    /**
     * Cuts the first {@code samples * seqLen} tokens of {@code tokens} as {@code samples}
     * consecutive, non-overlapping sequences.
     *
     * @throws IllegalArgumentException when a count is not positive or the array is too short
     */
    public static CalibrationData fromTokens(int[] tokens, int samples, int seqLen, int batchSize) {
        checkCounts(samples, seqLen, batchSize);
        long needed = (long) samples * seqLen;
        if (tokens.length < needed) {
            throw new IllegalArgumentException("CalibrationData: " + samples + " samples of " + seqLen + " tokens need "
                    + needed + " tokens but the token array has " + tokens.length
                    + "; use fewer or shorter samples, or more text");
        }
        return fromStream(Arrays.stream(tokens).iterator(), samples, seqLen, batchSize);
    }

    /**
     * Reads {@code samples * seqLen} tokens from any token stream, such as a dataset reader, as
     * {@code samples} consecutive, non-overlapping sequences. Reads no further.
     *
     * @throws IllegalArgumentException when a count is not positive or the stream ends early
     */
    public static CalibrationData fromStream(PrimitiveIterator.OfInt tokens, int samples, int seqLen, int batchSize) {
        checkCounts(samples, seqLen, batchSize);
        List<Batch> batches = new ArrayList<>();
        int read = 0;
        for (int first = 0; first < samples; first += batchSize) {
            int rows = Math.min(batchSize, samples - first);
            int[] ids = new int[rows * seqLen];
            for (int i = 0; i < ids.length; i++) {
                if (!tokens.hasNext()) {
                    throw new IllegalArgumentException("CalibrationData: the token stream ended after " + read
                            + " tokens, but " + samples + " samples of " + seqLen + " tokens need "
                            + (long) samples * seqLen + "; use fewer or shorter samples, or more text");
                }
                ids[i] = tokens.nextInt();
                read++;
            }
            batches.add(new Batch(ids, rows, seqLen));
        }
        return new CalibrationData(batches, samples, seqLen);
    }

    private static void checkCounts(int samples, int seqLen, int batchSize) {
        if (samples < 1 || seqLen < 1 || batchSize < 1) {
            throw new IllegalArgumentException("CalibrationData: samples, sequence length and batch size must be"
                    + " positive, got " + samples + ", " + seqLen + " and " + batchSize);
        }
    }

    /** Returns the batches in stream order. */
    public List<Batch> batches() {
        return batches;
    }

    /** Returns the number of sequences. */
    public int samples() {
        return samples;
    }

    /** Returns the tokens per sequence. */
    public int seqLen() {
        return seqLen;
    }

    /** Returns {@code samples * seqLen}. */
    public long tokens() {
        return (long) samples * seqLen;
    }

    @Override
    public String toString() {
        return "CalibrationData[" + samples + " samples x " + seqLen + " tokens in " + batches.size() + " batches]";
    }
}
