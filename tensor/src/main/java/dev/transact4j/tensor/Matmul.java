package dev.transact4j.tensor;

/**
 * Matrix products with the broadcasting rules of {@code torch.matmul}, computed by
 * {@link Gemm#sgemm} one batch matrix at a time.
 *
 * <p>Dimension letters: {@code A} is {@code [..., M, K]}, {@code B} is {@code [..., K, N]}, the
 * output is {@code [..., M, N]}; the leading (batch) dims broadcast against each other. A 1-D
 * {@code A} is a row {@code [1, K]} and a 1-D {@code B} a column {@code [K, 1]}, and that dim is
 * removed from the output again. A matrix whose last dim has unit stride is passed as it is; one
 * whose second-to-last dim has unit stride (a transposed view) is passed with the transpose flag;
 * any other layout is copied to contiguous memory first.
 */
final class Matmul {

    /** Batch products below this many multiply-adds run side by side on the pool instead of one by one. */
    private static final long SMALL_PRODUCT = 1L << 18;

    private Matmul() {
    }

    /** One operand as {@code sgemm} takes it: per-batch offsets share one layout. */
    private static final class Operand {
        final float[] data;
        final boolean trans;
        final int ld;
        final int[] batchStrides;
        final int offset;

        Operand(Tensor t, int rows, int cols) {
            int rank = t.shape.length;
            int rowStride = t.strides[rank - 2];
            int colStride = t.strides[rank - 1];
            if (colStride == 1 && (rows <= 1 || rowStride >= cols)) {
                trans = false;
                ld = rows <= 1 ? Math.max(cols, 1) : rowStride;
            } else if (rowStride == 1 && (cols <= 1 || colStride >= rows)) {
                trans = true;
                ld = cols <= 1 ? Math.max(rows, 1) : colStride;
            } else {
                t = t.contiguous();
                trans = false;
                ld = Math.max(cols, 1);
            }
            data = t.data;
            offset = t.offset;
            batchStrides = java.util.Arrays.copyOf(t.strides, rank - 2);
        }

        int batchOffset(int[] batchShape, int batch) {
            int off = offset;
            for (int d = batchShape.length - 1; d >= 0; d--) {
                off += (batch % batchShape[d]) * batchStrides[d];
                batch /= batchShape[d];
            }
            return off;
        }
    }

    static Tensor matmul(Tensor a, Tensor b) {
        if (a.dim() == 0 || b.dim() == 0) {
            throw new IllegalArgumentException("matmul: shapes " + Shapes.str(a.shape) + " and " + Shapes.str(b.shape)
                    + " include a 0-d tensor; multiply by a scalar with mul instead");
        }
        boolean rowVector = a.dim() == 1;
        boolean columnVector = b.dim() == 1;
        Tensor a2 = rowVector ? a.unsqueeze(0) : a;
        Tensor b2 = columnVector ? b.unsqueeze(1) : b;
        int m = a2.size(-2);
        int k = a2.size(-1);
        int n = b2.size(-1);
        if (b2.size(-2) != k) {
            throw new IllegalArgumentException("matmul: shapes " + Shapes.str(a.shape) + " and " + Shapes.str(b.shape)
                    + " cannot be multiplied: inner dims " + k + " and " + b2.size(-2) + " differ");
        }

        // broadcast the batch dims
        int[] batchA = java.util.Arrays.copyOf(a2.shape, a2.dim() - 2);
        int[] batchB = java.util.Arrays.copyOf(b2.shape, b2.dim() - 2);
        int[] batch;
        try {
            batch = Shapes.broadcast("matmul", batchA, batchB);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("matmul: shapes " + Shapes.str(a.shape) + " and " + Shapes.str(b.shape)
                    + " cannot be broadcast: batch dims " + Shapes.str(batchA) + " and " + Shapes.str(batchB)
                    + " are incompatible");
        }
        int[] outShape = java.util.Arrays.copyOf(batch, batch.length + 2);
        outShape[batch.length] = m;
        outShape[batch.length + 1] = n;
        Tensor out = Tensor.zeros(outShape);
        int batches = Shapes.numel(batch);

        if (m > 0 && n > 0 && k > 0 && batches > 0) {
            Tensor ae = a2.expand(concat(batch, m, k));
            Tensor be = b2.expand(concat(batch, k, n));
            if (!foldBatchIntoRows(ae, be, batch, m, n, k, out)) {
                multiplyBatches(ae, be, batch, batches, m, n, k, out);
            }
        }

        // drop the dims that 1-D operands added
        if (rowVector && columnVector) {
            return out.view();
        }
        if (rowVector) {
            return out.squeeze(-2);
        }
        if (columnVector) {
            return out.squeeze(-1);
        }
        return out;
    }

    /**
     * Computes all batches with one {@code sgemm} when B is the same matrix for every batch and
     * A's batch and row dims form one run of rows ({@code [..., M, K] -> [batch * M, K]}).
     */
    private static boolean foldBatchIntoRows(Tensor a, Tensor b, int[] batch, int m, int n, int k, Tensor out) {
        if (batch.length == 0) {
            return false;
        }
        int rank = a.dim();
        for (int d = 0; d < batch.length; d++) {
            if (batch[d] != 1 && b.strides[d] != 0) {
                return false;
            }
        }
        if (a.strides[rank - 1] != 1) {
            return false;
        }
        int rowStride = m > 1 ? a.strides[rank - 2] : k;
        if (rowStride < k) {
            return false;
        }
        long expected = (long) rowStride * m;
        for (int d = batch.length - 1; d >= 0; d--) {
            if (batch[d] == 1) {
                continue;
            }
            if (a.strides[d] != expected) {
                return false;
            }
            expected *= batch[d];
        }
        Operand ob = new Operand(b, k, n);
        int rows = Shapes.numel(batch) * m;
        Gemm.sgemm(false, ob.trans, rows, n, k, 1f, a.data, a.offset, rowStride,
                ob.data, ob.offset, ob.ld, 0f, out.data, out.offset, n);
        return true;
    }

    private static void multiplyBatches(Tensor a, Tensor b, int[] batch, int batches, int m, int n, int k, Tensor out) {
        Operand oa = new Operand(a, m, k);
        Operand ob = new Operand(b, k, n);
        Parallel.RangeBody body = (lo, hi) -> {
            for (int i = lo; i < hi; i++) {
                Gemm.sgemm(oa.trans, ob.trans, m, n, k, 1f, oa.data, oa.batchOffset(batch, i), oa.ld,
                        ob.data, ob.batchOffset(batch, i), ob.ld, 0f, out.data, out.offset + i * m * n, n);
            }
        };
        if ((long) m * n * k < SMALL_PRODUCT) {
            // Small matrices: whole products side by side, enough of them per task to pay for it.
            // This calls sgemm from several pool threads at once, so sgemm must not share scratch space.
            int grain = (int) Math.max(1, SMALL_PRODUCT / Math.max(1L, (long) m * n * k));
            Parallel.forRange(0, batches, grain, body);
        } else {
            // large matrices: sgemm splits each product over the pool itself
            body.run(0, batches);
        }
    }

    private static int[] concat(int[] batch, int rows, int cols) {
        int[] s = java.util.Arrays.copyOf(batch, batch.length + 2);
        s[batch.length] = rows;
        s[batch.length + 1] = cols;
        return s;
    }
}
