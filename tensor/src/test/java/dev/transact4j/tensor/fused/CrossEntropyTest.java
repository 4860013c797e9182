package dev.transact4j.tensor.fused;

import static dev.transact4j.tensor.fused.FusedTesting.randn;
import static dev.transact4j.tensor.fused.FusedTesting.withThreads;
import static dev.transact4j.tensor.testing.ArrayAssert.assertBitwiseEqual;
import static dev.transact4j.tensor.testing.ArrayAssert.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.transact4j.tensor.testing.Fixture;
import dev.transact4j.tensor.testing.GradCheck;
import java.util.Random;
import org.junit.jupiter.api.Test;

class CrossEntropyTest {

    private static final int IGNORE = CrossEntropy.DEFAULT_IGNORE_INDEX;

    @Test
    void matchesTorchFixture() {
        Fixture fixture = Fixture.load("fused_cross_entropy");
        int cases = Integer.parseInt(fixture.metadata().get("cases"));
        for (int c = 0; c < cases; c++) {
            String p = "case" + c + ".";
            int[] shape = fixture.get(p + "shape").ints();
            int n = shape[0];
            int v = shape[1];
            float[] logits = fixture.get(p + "logits").floats();
            int[] targets = fixture.get(p + "targets").ints();
            float dloss = fixture.get(p + "dloss").floats()[0];
            boolean sum = fixture.get(p + "sum_reduction").ints()[0] == 1;
            float normalizer = sum ? 1f : CrossEntropy.countTargets(targets, 0, n, IGNORE);
            for (boolean simd : new boolean[] {true, false}) {
                String what = "case " + c + " [N=" + n + ", V=" + v + "] simd=" + simd;
                float[] lse = new float[n];
                double loss = CrossEntropy.forward(logits, 0, targets, 0, lse, 0, n, v, IGNORE, normalizer, simd);
                assertClose(what + " loss", fixture.get(p + "loss.f64").values(), new float[] {(float) loss},
                        1e-5, 1e-5);
                assertClose(what + " lse", fixture.get(p + "lse.f64").values(), lse, 1e-5, 1e-6);

                float[] dlogits = new float[n * v];
                CrossEntropy.backward(logits, 0, targets, 0, lse, 0, dloss, dlogits, 0, n, v, IGNORE, normalizer,
                        true, simd);
                assertClose(what + " dlogits", fixture.get(p + "dlogits.f64").values(), dlogits, 1e-6, 1e-4);
            }
        }
    }

    @Test
    void meanMatchesExplicitCount() {
        Random random = new Random(11);
        int n = 17;
        int v = 33;
        float[] logits = randn(random, n * v, 2.0);
        int[] targets = targets(random, n, v, 4);
        float[] lse = new float[n];
        double mean = CrossEntropy.forwardMean(logits, 0, targets, 0, lse, 0, n, v, IGNORE);
        int count = CrossEntropy.countTargets(targets, 0, n, IGNORE);
        double sum = CrossEntropy.forward(logits, 0, targets, 0, lse, 0, n, v, IGNORE, 1f);
        assertEquals(13, count);
        assertEquals(sum / count, mean, 1e-12);
    }

    @Test
    void gradientMatchesFiniteDifferences() {
        Random random = new Random(12);
        int n = 5;
        int v = 17;
        float[] logits = randn(random, n * v, 2.0);
        int[] targets = targets(random, n, v, 1);
        for (boolean simd : new boolean[] {true, false}) {
            GradCheck.checkFloat("CrossEntropy simd=" + simd,
                    in -> {
                        float[] lse = new float[n];
                        double loss = CrossEntropy.forward(in[0], 0, targets, 0, lse, 0, n, v, IGNORE, 4f, simd);
                        return new float[][] {{(float) loss}};
                    },
                    (in, up) -> {
                        float[] lse = new float[n];
                        CrossEntropy.forward(in[0], 0, targets, 0, lse, 0, n, v, IGNORE, 4f, simd);
                        float[] d = new float[n * v];
                        CrossEntropy.backward(in[0], 0, targets, 0, lse, 0, up[0][0], d, 0, n, v, IGNORE, 4f,
                                true, simd);
                        return new float[][] {d};
                    },
                    new float[][] {logits}, 13);
        }
    }

    @Test
    void matchesUnfusedDoubleReference() {
        Random random = new Random(14);
        int n = 33;
        int v = 65;
        float[] logits = randn(random, n * v, 3.0);
        int[] targets = targets(random, n, v, 5);
        int count = CrossEntropy.countTargets(targets, 0, n, IGNORE);
        float dloss = 0.7f;

        // the reference gradient itself, by central differences in double
        double[] small = FusedTesting.wide(randn(random, 4 * 9, 2.0));
        int[] smallTargets = {3, IGNORE, 0, 8};
        GradCheck.checkDouble("unfused cross entropy",
                in -> new double[][] {{referenceLoss(in[0], smallTargets, 4, 9)}},
                (in, up) -> new double[][] {referenceGrad(in[0], smallTargets, 4, 9, up[0][0])},
                new double[][] {small}, 15);

        double[] x = FusedTesting.wide(logits);
        double expectedLoss = referenceLoss(x, targets, n, v);
        double[] expectedGrad = referenceGrad(x, targets, n, v, dloss);
        for (boolean simd : new boolean[] {true, false}) {
            float[] lse = new float[n];
            double loss = CrossEntropy.forward(logits, 0, targets, 0, lse, 0, n, v, IGNORE, count, simd);
            assertEquals(expectedLoss, loss, 1e-5 * Math.abs(expectedLoss), "loss simd=" + simd);
            float[] d = new float[n * v];
            CrossEntropy.backward(logits, 0, targets, 0, lse, 0, dloss, d, 0, n, v, IGNORE, count, false, simd);
            assertClose("dlogits simd=" + simd, expectedGrad, d, 1e-7, 1e-4);
        }
    }

    @Test
    void inPlaceBackwardEqualsSeparateBuffer() {
        Random random = new Random(16);
        int n = 17;
        int v = 257;
        int offset = 5;
        float[] logits = new float[offset + n * v];
        System.arraycopy(randn(random, n * v, 3.0), 0, logits, offset, n * v);
        int[] targets = targets(random, n, v, 3);
        float[] lse = new float[n];
        CrossEntropy.forwardMean(logits, offset, targets, 0, lse, 0, n, v, IGNORE);

        float[] separate = new float[n * v];
        CrossEntropy.backwardMean(logits, offset, targets, 0, lse, 0, 1.5f, separate, 0, n, v, IGNORE, false);
        float[] inPlace = logits.clone();
        CrossEntropy.backwardMean(inPlace, offset, targets, 0, lse, 0, 1.5f, inPlace, offset, n, v, IGNORE, false);

        float[] inPlaceRows = java.util.Arrays.copyOfRange(inPlace, offset, offset + n * v);
        assertBitwiseEqual("in-place dlogits", separate, inPlaceRows);
        assertEquals(logits[0], inPlace[0], "element before the offset is untouched");
    }

    @Test
    void accumulateAddsToExistingGradient() {
        Random random = new Random(17);
        int n = 3;
        int v = 33;
        float[] logits = randn(random, n * v, 1.0);
        int[] targets = {4, IGNORE, 32};
        float[] lse = new float[n];
        CrossEntropy.forwardMean(logits, 0, targets, 0, lse, 0, n, v, IGNORE);
        float[] fresh = new float[n * v];
        CrossEntropy.backwardMean(logits, 0, targets, 0, lse, 0, 1f, fresh, 0, n, v, IGNORE, false);
        float[] prior = randn(random, n * v, 1.0);
        float[] accumulated = prior.clone();
        CrossEntropy.backwardMean(logits, 0, targets, 0, lse, 0, 1f, accumulated, 0, n, v, IGNORE, true);
        for (int i = 0; i < n * v; i++) {
            assertEquals(prior[i] + fresh[i], accumulated[i], 1e-6, "element " + i);
        }
        float[] overwritten = prior.clone();
        CrossEntropy.backwardMean(logits, 0, targets, 0, lse, 0, 1f, overwritten, 0, n, v, IGNORE, false);
        assertBitwiseEqual("overwrite ignores prior contents", fresh, overwritten);
    }

    @Test
    void allRowsIgnoredGivesNan() {
        int n = 3;
        int v = 5;
        float[] logits = randn(new Random(18), n * v, 1.0);
        int[] targets = {IGNORE, IGNORE, IGNORE};
        float[] lse = new float[n];
        double loss = CrossEntropy.forwardMean(logits, 0, targets, 0, lse, 0, n, v, IGNORE);
        assertTrue(Double.isNaN(loss), "mean over no rows is NaN as in PyTorch, got " + loss);
        float[] d = randn(new Random(19), n * v, 1.0);
        CrossEntropy.backwardMean(logits, 0, targets, 0, lse, 0, 1f, d, 0, n, v, IGNORE, false);
        assertBitwiseEqual("gradient", new float[n * v], d);
        assertEquals(0.0, CrossEntropy.forward(logits, 0, targets, 0, lse, 0, n, v, IGNORE, 1f), "sum reduction");
    }

    @Test
    void scalarAndVectorPathsAgree() {
        Random random = new Random(20);
        int n = 15;
        int v = 257;
        float[] logits = randn(random, n * v, 4.0);
        int[] targets = targets(random, n, v, 2);
        float[] lseVector = new float[n];
        float[] lseScalar = new float[n];
        double lossVector = CrossEntropy.forward(logits, 0, targets, 0, lseVector, 0, n, v, IGNORE, 13f, true);
        double lossScalar = CrossEntropy.forward(logits, 0, targets, 0, lseScalar, 0, n, v, IGNORE, 13f, false);
        assertEquals(lossScalar, lossVector, 1e-5);
        assertClose("lse", lseScalar, lseVector, 1e-5, 1e-6);
        float[] dVector = new float[n * v];
        float[] dScalar = new float[n * v];
        CrossEntropy.backward(logits, 0, targets, 0, lseVector, 0, 1f, dVector, 0, n, v, IGNORE, 13f, false, true);
        CrossEntropy.backward(logits, 0, targets, 0, lseScalar, 0, 1f, dScalar, 0, n, v, IGNORE, 13f, false, false);
        assertClose("dlogits", dScalar, dVector, 1e-7, 1e-5);
    }

    @Test
    void resultsDoNotDependOnThreadCount() {
        Random random = new Random(21);
        int n = 301;
        int v = 257;
        float[] logits = randn(random, n * v, 3.0);
        int[] targets = targets(random, n, v, 30);
        for (boolean simd : new boolean[] {true, false}) {
            float[][] oneThread = withThreads(1, () -> run(logits, targets, n, v, simd));
            float[][] twoThreads = withThreads(2, () -> run(logits, targets, n, v, simd));
            assertBitwiseEqual("loss simd=" + simd, oneThread[0], twoThreads[0]);
            assertBitwiseEqual("lse simd=" + simd, oneThread[1], twoThreads[1]);
            assertBitwiseEqual("dlogits simd=" + simd, oneThread[2], twoThreads[2]);
        }
    }

    @Test
    void rejectsTargetOutsideVocabulary() {
        float[] logits = new float[2 * 4];
        float[] lse = new float[2];
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CrossEntropy.forward(logits, 0, new int[] {1, 4}, 0, lse, 0, 2, 4, IGNORE, 2f));
        assertTrue(e.getMessage().contains("target 4 of row 1"), e.getMessage());
        assertTrue(e.getMessage().contains("[N=2, V=4]"), e.getMessage());
    }

    @Test
    void rejectsShortLogitsAndBadOverlap() {
        float[] lse = new float[2];
        IllegalArgumentException shortLogits = assertThrows(IllegalArgumentException.class,
                () -> CrossEntropy.forward(new float[7], 0, new int[] {0, 1}, 0, lse, 0, 2, 4, IGNORE, 2f));
        assertTrue(shortLogits.getMessage().contains("logits [N=2, V=4]"), shortLogits.getMessage());

        float[] logits = new float[8];
        IllegalArgumentException overlap = assertThrows(IllegalArgumentException.class,
                () -> CrossEntropy.backward(logits, 0, new int[] {0, 1}, 0, lse, 0, 1f, logits, 0, 2, 4, IGNORE, 2f,
                        true));
        assertTrue(overlap.getMessage().contains("overlaps logits"), overlap.getMessage());
        IllegalArgumentException zero = assertThrows(IllegalArgumentException.class,
                () -> CrossEntropy.forward(logits, 0, new int[] {0, 1}, 0, lse, 0, 2, 4, IGNORE, 0f));
        assertTrue(zero.getMessage().contains("normalizer"), zero.getMessage());
    }

    private static float[][] run(float[] logits, int[] targets, int n, int v, boolean simd) {
        float[] lse = new float[n];
        double loss = CrossEntropy.forward(logits, 0, targets, 0, lse, 0, n, v, IGNORE, 100f, simd);
        float[] d = new float[n * v];
        CrossEntropy.backward(logits, 0, targets, 0, lse, 0, 1f, d, 0, n, v, IGNORE, 100f, false, simd);
        return new float[][] {{(float) loss}, lse, d};
    }

    /** Random targets in [0, V) with {@code ignored} evenly spread rows set to the ignore index. */
    private static int[] targets(Random random, int n, int v, int ignored) {
        int[] t = new int[n];
        for (int r = 0; r < n; r++) {
            t[r] = random.nextInt(v);
        }
        for (int k = 0; k < ignored; k++) {
            t[(int) ((long) k * n / ignored)] = IGNORE;
        }
        return t;
    }

    /** Mean over counted rows of -log_softmax(x)[target], in double, step by step. */
    private static double referenceLoss(double[] x, int[] targets, int n, int v) {
        double total = 0.0;
        int count = 0;
        for (int r = 0; r < n; r++) {
            if (targets[r] == IGNORE) {
                continue;
            }
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < v; j++) {
                max = Math.max(max, x[r * v + j]);
            }
            double sum = 0.0;
            for (int j = 0; j < v; j++) {
                sum += Math.exp(x[r * v + j] - max);
            }
            double logSoftmax = x[r * v + targets[r]] - max - Math.log(sum);
            total -= logSoftmax;
            count++;
        }
        return total / count;
    }

    /** Gradient of {@link #referenceLoss}: (softmax - onehot) * dloss / count. */
    private static double[] referenceGrad(double[] x, int[] targets, int n, int v, double dloss) {
        int count = 0;
        for (int r = 0; r < n; r++) {
            count += targets[r] == IGNORE ? 0 : 1;
        }
        double[] d = new double[n * v];
        for (int r = 0; r < n; r++) {
            if (targets[r] == IGNORE) {
                continue;
            }
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < v; j++) {
                max = Math.max(max, x[r * v + j]);
            }
            double sum = 0.0;
            for (int j = 0; j < v; j++) {
                sum += Math.exp(x[r * v + j] - max);
            }
            for (int j = 0; j < v; j++) {
                double softmax = Math.exp(x[r * v + j] - max) / sum;
                d[r * v + j] = (softmax - (j == targets[r] ? 1.0 : 0.0)) * dloss / count;
            }
        }
        return d;
    }
}
