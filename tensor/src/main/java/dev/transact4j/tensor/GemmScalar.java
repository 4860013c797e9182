package dev.transact4j.tensor;

/**
 * Scalar twin of the SIMD GEMM: plain loops with one float accumulator per element of C,
 * summing over K in the order p = 0, 1, ..., K-1. It runs when the system property
 * {@code transact4j.simd} is {@code false}, and tests check it against a double-precision
 * reference. Threads split rows of C, so results do not depend on the thread count.
 */
final class GemmScalar {

    private GemmScalar() {
    }

    /** Same contract as {@link Gemm#sgemm}; arguments are validated there, with m, n, k >= 1. */
    static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                      float[] a, int aOffset, int lda,
                      float[] b, int bOffset, int ldb,
                      float beta, float[] c, int cOffset, int ldc) {
        int grain = (int) Math.max(1, (1L << 20) / ((long) n * k));
        Parallel.forRange(0, m, grain, (i0, i1) -> {
            float[] sums = new float[n];
            for (int i = i0; i < i1; i++) {
                rowProducts(transA, transB, n, k, a, aOffset, lda, i, b, bOffset, ldb, sums);
                int row = cOffset + i * ldc;
                for (int j = 0; j < n; j++) {
                    c[row + j] = beta == 0f ? alpha * sums[j] : alpha * sums[j] + beta * c[row + j];
                }
            }
        });
    }

    /** {@code sums[j] = sum_p op(A)[i, p] * op(B)[p, j]}, in the loop order that reads B along rows. */
    private static void rowProducts(boolean transA, boolean transB, int n, int k,
                                    float[] a, int aOffset, int lda, int i,
                                    float[] b, int bOffset, int ldb, float[] sums) {
        int aStride = transA ? lda : 1;
        int aStart = transA ? aOffset + i : aOffset + i * lda;
        if (transB) {
            // B stored [n, k]: each element of the row is one dot product along a row of B.
            for (int j = 0; j < n; j++) {
                int bRow = bOffset + j * ldb;
                float sum = 0f;
                for (int p = 0; p < k; p++) {
                    sum += a[aStart + p * aStride] * b[bRow + p];
                }
                sums[j] = sum;
            }
        } else {
            // B stored [k, n]: add op(A)[i, p] times row p of B.
            java.util.Arrays.fill(sums, 0f);
            for (int p = 0; p < k; p++) {
                float av = a[aStart + p * aStride];
                int bRow = bOffset + p * ldb;
                for (int j = 0; j < n; j++) {
                    sums[j] += av * b[bRow + j];
                }
            }
        }
    }
}
