package dev.transact4j.tensor;

/**
 * General matrix multiplication on row-major float32 matrices.
 *
 * <p>{@code C = alpha * op(A) * op(B) + beta * C}, where {@code op(X)} is {@code X} or its
 * transpose. {@code op(A)} is {@code [m, k]}, {@code op(B)} is {@code [k, n]} and {@code C} is
 * {@code [m, n]}; each matrix is read from its array starting at its offset, with its leading
 * dimension (the distance between consecutive rows as stored) given separately.
 */
public final class Gemm {

    private Gemm() {
    }

    /**
     * Computes {@code C = alpha * op(A) * op(B) + beta * C}.
     *
     * <p>A is stored {@code [m, k]} (or {@code [k, m]} when {@code transA}), B is stored
     * {@code [k, n]} (or {@code [n, k]} when {@code transB}). With {@code beta == 0} the previous
     * contents of C are never read, so NaN there does not propagate.
     */
    public static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                             float[] a, int aOffset, int lda,
                             float[] b, int bOffset, int ldb,
                             float beta, float[] c, int cOffset, int ldc) {
        // Reference loop; the packed, register-blocked kernel replaces it.
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float sum = 0f;
                for (int p = 0; p < k; p++) {
                    float av = transA ? a[aOffset + p * lda + i] : a[aOffset + i * lda + p];
                    float bv = transB ? b[bOffset + j * ldb + p] : b[bOffset + p * ldb + j];
                    sum += av * bv;
                }
                int ci = cOffset + i * ldc + j;
                c[ci] = beta == 0f ? alpha * sum : alpha * sum + beta * c[ci];
            }
        }
    }
}
