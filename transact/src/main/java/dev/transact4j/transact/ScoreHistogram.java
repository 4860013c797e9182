package dev.transact4j.transact;

import java.util.Arrays;

/**
 * A histogram of one layer's channel scores, split into the channels a plan keeps and those it removes.
 *
 * <p>Bins are log-spaced between the smallest positive score and the largest score, because
 * activation norms span orders of magnitude: bin {@code i} covers {@code [edges[i], edges[i + 1])},
 * and the last bin also includes the largest score. A score lands in bin
 * {@code floor(bins * ln(s / min) / ln(max / min))}, clamped to the last bin. Scores of exactly 0
 * have no logarithm and are counted in {@code zeroKept} and {@code zeroRemoved}. When every
 * positive score is equal there is one bin of zero width, and with no positive score there are no bins.
 *
 * @param edges       {@code bins + 1} ascending bin edges
 * @param kept        per bin, the number of kept channels
 * @param removed     per bin, the number of removed channels
 * @param zeroKept    kept channels that score 0
 * @param zeroRemoved removed channels that score 0
 */
public record ScoreHistogram(double[] edges, int[] kept, int[] removed, int zeroKept, int zeroRemoved) {

    /** The number of bins a report uses by default. */
    public static final int DEFAULT_BINS = 20;

    /**
     * Checks that both count arrays have one entry per bin.
     *
     * @throws IllegalArgumentException when the lengths disagree
     */
    public ScoreHistogram {
        if (edges == null || kept == null || removed == null || kept.length != removed.length
                || (kept.length == 0 ? edges.length != 0 : edges.length != kept.length + 1)) {
            throw new IllegalArgumentException("ScoreHistogram: expected bins + 1 edges and bins counts, got "
                    + (edges == null ? "null" : edges.length) + " edges, " + (kept == null ? "null" : kept.length)
                    + " kept and " + (removed == null ? "null" : removed.length) + " removed counts");
        }
        edges = edges.clone();
        kept = kept.clone();
        removed = removed.clone();
    }

    /**
     * Counts {@code scores} into {@code bins} log-spaced bins, split by {@code isKept}.
     *
     * @throws IllegalArgumentException when the arrays differ in length, bins is not positive or a
     *     score is negative or not finite
     */
    public static ScoreHistogram of(double[] scores, boolean[] isKept, int bins) {
        if (scores.length != isKept.length) {
            throw new IllegalArgumentException("ScoreHistogram: " + scores.length + " scores but " + isKept.length
                    + " kept flags");
        }
        if (bins < 1) {
            throw new IllegalArgumentException("ScoreHistogram: bins is " + bins + " but must be at least 1");
        }

        // range of the positive scores
        double min = Double.POSITIVE_INFINITY;
        double max = 0;
        for (int c = 0; c < scores.length; c++) {
            double s = scores[c];
            if (!(s >= 0) || Double.isInfinite(s)) {
                throw new IllegalArgumentException("ScoreHistogram: channel " + c + " scores " + s
                        + "; scores must be finite and non-negative");
            }
            if (s > 0) {
                min = Math.min(min, s);
                max = Math.max(max, s);
            }
        }
        int binCount = max == 0 ? 0 : (min == max ? 1 : bins);
        double[] edges = new double[binCount == 0 ? 0 : binCount + 1];
        double logMin = Math.log(min);
        double logSpan = Math.log(max) - logMin;
        for (int i = 0; i < edges.length; i++) {
            edges[i] = Math.exp(logMin + logSpan * i / binCount);
        }
        if (binCount > 0) {
            // exp(ln(x)) need not return x, so the outer edges are the scores themselves
            edges[0] = min;
            edges[binCount] = max;
        }

        // count
        int[] kept = new int[binCount];
        int[] removed = new int[binCount];
        int zeroKept = 0;
        int zeroRemoved = 0;
        for (int c = 0; c < scores.length; c++) {
            if (scores[c] == 0) {
                if (isKept[c]) {
                    zeroKept++;
                } else {
                    zeroRemoved++;
                }
                continue;
            }
            int bin = binCount == 1 ? 0 : (int) Math.floor(binCount * (Math.log(scores[c]) - logMin) / logSpan);
            bin = Math.min(Math.max(bin, 0), binCount - 1);
            if (isKept[c]) {
                kept[bin]++;
            } else {
                removed[bin]++;
            }
        }
        return new ScoreHistogram(edges, kept, removed, zeroKept, zeroRemoved);
    }

    /** Returns the number of bins. */
    public int bins() {
        return kept.length;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof ScoreHistogram that && Arrays.equals(edges, that.edges) && Arrays.equals(kept, that.kept)
                && Arrays.equals(removed, that.removed) && zeroKept == that.zeroKept && zeroRemoved == that.zeroRemoved;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(new int[] {Arrays.hashCode(edges), Arrays.hashCode(kept), Arrays.hashCode(removed),
                zeroKept, zeroRemoved});
    }

    @Override
    public String toString() {
        return "ScoreHistogram[kept " + Arrays.toString(kept) + ", removed " + Arrays.toString(removed) + ", zero "
                + zeroKept + "/" + zeroRemoved + "]";
    }
}
