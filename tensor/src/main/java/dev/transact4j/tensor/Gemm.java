package dev.transact4j.tensor;

/**
 * General matrix multiplication on row-major float32 matrices.
 *
 * <p>{@code C = alpha * op(A) * op(B) + beta * C}, where {@code op(X)} is {@code X} or its
 * transpose. {@code op(A)} is {@code [m, k]}, {@code op(B)} is {@code [k, n]} and {@code C} is
 * {@code [m, n]}; each matrix is read from its array starting at its offset, with its leading
 * dimension (the distance between consecutive rows as stored) given separately.
 *
 * <p>Large products run the packed, register-blocked SIMD kernel ({@link GemmKernel}). A product
 * with m = 1 or n = 1, or with at most four rows times a transposed B, runs a matrix-vector
 * kernel ({@link Gemv}) that streams the matrix once.
 * Setting the system property {@code transact4j.simd=false} switches to plain scalar loops
 * ({@link GemmScalar}). Work is split over {@link Parallel} threads by blocks of C, and each
 * element of C sums over K in the same order whatever the thread count, so results are bitwise
 * identical for any number of threads. Call inside {@link Parallel#serial(Runnable)} to keep the
 * product on the calling thread.
 */
public final class Gemm {

    /** System property that turns the Vector API kernels off when set to {@code false}. */
    public static final String SIMD_PROPERTY = "transact4j.simd";

    /** Whether {@link #sgemm} runs the SIMD kernels; fixed at class initialisation. */
    static final boolean SIMD = !"false".equalsIgnoreCase(System.getProperty(SIMD_PROPERTY, "true").trim());

    private Gemm() {
    }

    /**
     * Computes {@code C = alpha * op(A) * op(B) + beta * C}.
     *
     * <p>A is stored {@code [m, k]} (or {@code [k, m]} when {@code transA}), B is stored
     * {@code [k, n]} (or {@code [n, k]} when {@code transB}). With {@code beta == 0} the previous
     * contents of C are never read, so NaN there does not propagate. C must not share elements
     * with A or B.
     *
     * @throws IllegalArgumentException when a dimension or an offset is negative, a leading
     *     dimension is smaller than the row it steps over, the array of a non-empty matrix is
     *     null, or a matrix does not fit in its array
     */
    public static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                             float[] a, int aOffset, int lda,
                             float[] b, int bOffset, int ldb,
                             float beta, float[] c, int cOffset, int ldc) {
        run(SIMD, transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);
    }

    /** Runs {@link #sgemm} on the scalar loops whatever {@link #SIMD_PROPERTY} is set to. */
    static void sgemmScalar(boolean transA, boolean transB, int m, int n, int k, float alpha,
                            float[] a, int aOffset, int lda,
                            float[] b, int bOffset, int ldb,
                            float beta, float[] c, int cOffset, int ldc) {
        run(false, transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);
    }

    /** Runs {@link #sgemm} on the SIMD kernels whatever {@link #SIMD_PROPERTY} is set to. */
    static void sgemmSimd(boolean transA, boolean transB, int m, int n, int k, float alpha,
                          float[] a, int aOffset, int lda,
                          float[] b, int bOffset, int ldb,
                          float beta, float[] c, int cOffset, int ldc) {
        run(true, transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);
    }

    private static void run(boolean simd, boolean transA, boolean transB, int m, int n, int k, float alpha,
                            float[] a, int aOffset, int lda,
                            float[] b, int bOffset, int ldb,
                            float beta, float[] c, int cOffset, int ldc) {
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException("Gemm.sgemm: dimensions must not be negative, got m=" + m
                    + ", n=" + n + ", k=" + k);
        }
        checkMatrix("A", "lda", a, aOffset, lda, transA ? k : m, transA ? m : k, transA, "transA");
        checkMatrix("B", "ldb", b, bOffset, ldb, transB ? n : k, transB ? k : n, transB, "transB");
        checkMatrix("C", "ldc", c, cOffset, ldc, m, n, false, null);
        if (m == 0 || n == 0) {
            return;
        }
        if (k == 0 || alpha == 0f) {
            scale(m, n, beta, c, cOffset, ldc);
            return;
        }
        if (!simd) {
            GemmScalar.sgemm(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);
        } else if (m == 1) {
            // Row vector times matrix: op(A) has one row, which is strided when A is stored [k, 1].
            float[] x = a;
            int xOffset = aOffset;
            if (transA && lda != 1) {
                x = gather(a, aOffset, lda, k);
                xOffset = 0;
            }
            if (transB) {
                Gemv.rows(n, k, alpha, b, bOffset, ldb, x, xOffset, beta, c, cOffset, 1);
            } else {
                Gemv.columns(k, n, alpha, b, bOffset, ldb, x, xOffset, beta, c, cOffset, 1);
            }
        } else if (n == 1) {
            // Matrix times column vector: op(B) has one column, strided when B is stored [k, 1].
            float[] x = b;
            int xOffset = bOffset;
            if (!transB && ldb != 1) {
                x = gather(b, bOffset, ldb, k);
                xOffset = 0;
            }
            if (transA) {
                Gemv.columns(k, m, alpha, a, aOffset, lda, x, xOffset, beta, c, cOffset, ldc);
            } else {
                Gemv.rows(m, k, alpha, a, aOffset, lda, x, xOffset, beta, c, cOffset, ldc);
            }
        } else if (transB && m <= Gemv.MAX_BATCH) {
            // A few rows times W^T: read W once for all of them rather than pack it.
            float[] x = a;
            int xOffset = aOffset;
            int ldx = lda;
            if (transA) {
                x = transpose(a, aOffset, lda, k, m);
                xOffset = 0;
                ldx = k;
            }
            Gemv.rowsBatch(m, n, k, alpha, b, bOffset, ldb, x, xOffset, ldx, beta, c, cOffset, ldc);
        } else {
            GemmKernel.sgemm(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);
        }
    }

    /** Checks that a matrix stored {@code [rows, cols]} with leading dimension ld fits its array. */
    private static void checkMatrix(String name, String ldName, float[] array, int offset, int ld,
                                    int rows, int cols, boolean transposed, String transName) {
        if (ld < Math.max(1, cols)) {
            throw new IllegalArgumentException("Gemm.sgemm: " + ldName + "=" + ld + " is smaller than the row length of "
                    + stored(name, rows, cols, transposed, transName) + "; pass " + ldName + " >= " + Math.max(1, cols));
        }
        if (rows == 0 || cols == 0) {
            return;
        }
        if (array == null) {
            throw new IllegalArgumentException("Gemm.sgemm: array of " + stored(name, rows, cols, transposed, transName)
                    + " is null");
        }
        if (offset < 0) {
            throw new IllegalArgumentException("Gemm.sgemm: offset of " + stored(name, rows, cols, transposed, transName)
                    + " must not be negative, got " + offset);
        }
        long end = (long) offset + (long) (rows - 1) * ld + cols;
        if (end > array.length) {
            throw new IllegalArgumentException("Gemm.sgemm: " + stored(name, rows, cols, transposed, transName)
                    + " with offset " + offset + " and " + ldName + "=" + ld + " needs elements [" + offset + ", "
                    + end + ") but its array has length " + array.length);
        }
    }

    /**
     * Returns how a matrix is stored, for an error message. It is built only on failure, because
     * formatting it on every call took about 0.7% of the tiny preset's decode CPU time.
     */
    private static String stored(String name, int rows, int cols, boolean transposed, String transName) {
        return name + " stored [" + rows + ", " + cols + "]"
                + (transName == null ? "" : " (" + transName + "=" + transposed + ")");
    }

    /** C = beta * C, writing zeros without reading C when beta is 0. */
    private static void scale(int m, int n, float beta, float[] c, int cOffset, int ldc) {
        for (int i = 0; i < m; i++) {
            int row = cOffset + i * ldc;
            if (beta == 0f) {
                java.util.Arrays.fill(c, row, row + n, 0f);
            } else {
                for (int j = 0; j < n; j++) {
                    c[row + j] *= beta;
                }
            }
        }
    }

    /** Returns the [cols, rows] transpose of a [rows, cols] matrix as a contiguous array. */
    private static float[] transpose(float[] array, int offset, int ld, int rows, int cols) {
        float[] out = new float[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                out[c * rows + r] = array[offset + r * ld + c];
            }
        }
        return out;
    }

    private static float[] gather(float[] array, int offset, int stride, int count) {
        float[] out = new float[count];
        for (int i = 0; i < count; i++) {
            out[i] = array[offset + i * stride];
        }
        return out;
    }
}
