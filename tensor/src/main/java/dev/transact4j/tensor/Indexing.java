package dev.transact4j.tensor;

import java.util.Arrays;

/**
 * Indexing kernels: index select, gather, scatter-add, concatenation and triangular masks.
 *
 * <p>Dimension letters: for an op along dim {@code d}, {@code O} is the product of the sizes
 * before {@code d}, {@code D} the size of {@code d} itself and {@code I} the product of the sizes
 * after it, so a contiguous tensor is {@code [O, D, I]}. These kernels copy memory rather than
 * compute, so they have no SIMD loops: contiguous runs move with {@link System#arraycopy}.
 */
final class Indexing {

    private Indexing() {
    }

    /** {@code out[o, j, i] = x[o, index[j], i]}: x is {@code [O, D, I]}, out {@code [O, J, I]}. */
    static Tensor indexSelect(Tensor x, int dim, int[] index) {
        int size = x.shape[dim];
        for (int j = 0; j < index.length; j++) {
            if (index[j] < 0 || index[j] >= size) {
                throw new IllegalArgumentException("indexSelect: index[" + j + "] = " + index[j]
                        + " is out of bounds for dim " + dim + " of size " + size + " in shape " + Shapes.str(x.shape));
            }
        }
        Tensor src = x.isContiguous() ? x : x.copyRaw();
        int[] outShape = x.shape.clone();
        outShape[dim] = index.length;
        Tensor out = Tensor.zeros(outShape);
        int inner = innerSize(x.shape, dim);
        int outer = outerSize(x.shape, dim);
        int count = index.length;
        int grain = Math.max(1, Elementwise.PARALLEL_MIN / Math.max(1, inner));
        Parallel.forRange(0, outer * count, grain, (lo, hi) -> {
            for (int t = lo; t < hi; t++) {
                int o = t / count;
                int j = t % count;
                System.arraycopy(src.data, src.offset + (o * size + index[j]) * inner, out.data, t * inner, inner);
            }
        });
        return out;
    }

    /** {@code out[...i_d...] = x[...index[...i_d...]...]}: out has the index's shape. */
    static Tensor gather(Tensor x, int dim, IndexTensor index) {
        checkIndexShape("gather", x, dim, index, x.shape, "input");
        int[] shape = index.shape();
        Tensor out = Tensor.zeros(shape);
        int[] idx = index.data();
        int size = x.shape[dim];
        int[] coord = new int[shape.length];
        for (int e = 0; e < idx.length; e++) {
            int v = idx[e];
            if (v < 0 || v >= size) {
                throw new IllegalArgumentException("gather: index value " + v + " at " + Arrays.toString(coord)
                        + " is out of bounds for dim " + dim + " of size " + size + " in shape " + Shapes.str(x.shape));
            }
            int at = x.offset;
            for (int d = 0; d < shape.length; d++) {
                at += (d == dim ? v : coord[d]) * x.strides[d];
            }
            out.data[e] = x.data[at];
            increment(coord, shape);
        }
        return out;
    }

    /** {@code out = copy(x); out[...index[...i_d...]...] += src[...i_d...]}, sequentially, so repeats add up in order. */
    static Tensor scatterAdd(Tensor x, int dim, IndexTensor index, Tensor src) {
        checkIndexShape("scatterAdd", x, dim, index, x.shape, "input");
        checkIndexShape("scatterAdd", src, dim, index, src.shape, "src");
        if (index.dim() > 0 && index.size(dim) > src.shape[dim]) {
            throw new IllegalArgumentException("scatterAdd: index of shape " + Shapes.str(index.shape())
                    + " is larger than src of shape " + Shapes.str(src.shape) + " in dim " + dim);
        }
        Tensor out = x.copyRaw();
        int[] shape = index.shape();
        int[] idx = index.data();
        int size = x.shape[dim];
        int[] coord = new int[shape.length];
        for (int e = 0; e < idx.length; e++) {
            int v = idx[e];
            if (v < 0 || v >= size) {
                throw new IllegalArgumentException("scatterAdd: index value " + v + " at " + Arrays.toString(coord)
                        + " is out of bounds for dim " + dim + " of size " + size + " in shape " + Shapes.str(x.shape));
            }
            int to = 0;
            int from = src.offset;
            for (int d = 0; d < shape.length; d++) {
                to += (d == dim ? v : coord[d]) * out.strides[d];
                from += coord[d] * src.strides[d];
            }
            out.data[to] += src.data[from];
            increment(coord, shape);
        }
        return out;
    }

    /** Checks the index rank and that it fits {@code target} in every dim but {@code dim}, as PyTorch does. */
    private static void checkIndexShape(String op, Tensor x, int dim, IndexTensor index, int[] target, String what) {
        int[] s = index.shape();
        boolean ok = s.length == target.length;
        for (int d = 0; ok && d < s.length; d++) {
            ok = d == dim || s[d] <= target[d];
        }
        if (!ok) {
            throw new IllegalArgumentException(op + ": index of shape " + Shapes.str(s) + " does not fit " + what
                    + " of shape " + Shapes.str(target) + " (same rank, and no larger in every dim but dim " + dim + ")");
        }
    }

    static Tensor concat(int dim, Tensor[] tensors) {
        if (tensors.length == 0) {
            throw new IllegalArgumentException("concat: needs at least one tensor");
        }
        int[] first = tensors[0].shape;
        int d = Shapes.dim("concat", dim, first.length);
        int total = 0;
        for (Tensor t : tensors) {
            boolean ok = t.shape.length == first.length;
            for (int k = 0; ok && k < first.length; k++) {
                ok = k == d || t.shape[k] == first[k];
            }
            if (!ok) {
                throw new IllegalArgumentException("concat: shapes " + Shapes.str(first) + " and " + Shapes.str(t.shape)
                        + " differ outside dim " + dim);
            }
            total += t.shape[d];
        }
        int[] outShape = first.clone();
        outShape[d] = total;
        Tensor out = Tensor.zeros(outShape);
        int at = 0;
        try (GradMode.Scope scope = GradMode.noGrad()) {
            for (Tensor t : tensors) {
                out.narrow(d, at, t.shape[d]).copyFrom(t);
                at += t.shape[d];
            }
        }
        return out;
    }

    /** Checks that the tensors share one shape and returns them with a new dim of size 1 at {@code dim}. */
    static Tensor[] stackParts(int dim, Tensor[] tensors) {
        if (tensors.length == 0) {
            throw new IllegalArgumentException("stack: needs at least one tensor");
        }
        int[] first = tensors[0].shape;
        int d = Shapes.dim("stack", dim, first.length + 1);
        Tensor[] expanded = new Tensor[tensors.length];
        for (int i = 0; i < tensors.length; i++) {
            if (!Shapes.same(tensors[i].shape, first)) {
                throw new IllegalArgumentException("stack: shapes " + Shapes.str(first) + " and "
                        + Shapes.str(tensors[i].shape) + " differ; every tensor must have the same shape");
            }
            expanded[i] = tensors[i].unsqueeze(d);
        }
        return expanded;
    }

    /**
     * Returns a copy of {@code x} that keeps, in its last two dims {@code [rows, columns]}, the
     * elements on or above diagonal {@code k} ({@code upper}, column - row >= k) or on or below it.
     */
    static Tensor triangle(Tensor x, int k, boolean upper) {
        if (x.dim() < 2) {
            throw new IllegalArgumentException((upper ? "triu" : "tril") + ": needs at least 2 dims, got shape "
                    + Shapes.str(x.shape));
        }
        Tensor out = x.copyRaw();
        int rows = x.shape[x.dim() - 2];
        int columns = x.shape[x.dim() - 1];
        int matrices = rows * columns == 0 ? 0 : out.numel() / (rows * columns);
        for (int m = 0; m < matrices; m++) {
            for (int r = 0; r < rows; r++) {
                int at = (m * rows + r) * columns;
                // keep columns c with c - r >= k (upper) or c - r <= k (lower)
                int split = (int) Math.max(0, Math.min(columns, (long) r + k + (upper ? 0 : 1)));
                if (upper) {
                    Arrays.fill(out.data, at, at + split, 0f);
                } else {
                    Arrays.fill(out.data, at + split, at + columns, 0f);
                }
            }
        }
        return out;
    }

    /**
     * Adds {@code src[o, j, i]} into {@code target[o, index[j], i]} and returns the contiguous
     * {@code target}; repeated indices add up in order. Splits over {@code O} only, since the
     * slices of one {@code o} may collide.
     */
    static Tensor indexAdd(Tensor target, int dim, int[] index, Tensor src) {
        Tensor s = src.isContiguous() ? src : src.copyRaw();
        int size = target.shape[dim];
        int inner = innerSize(target.shape, dim);
        int outer = outerSize(target.shape, dim);
        int count = index.length;
        boolean simd = Simd.enabled();
        int grain = Math.max(1, Elementwise.PARALLEL_MIN / Math.max(1, inner * count));
        Parallel.forRange(0, outer, grain, (lo, hi) -> {
            for (int o = lo; o < hi; o++) {
                for (int j = 0; j < count; j++) {
                    int to = target.offset + (o * size + index[j]) * inner;
                    int from = s.offset + (o * count + j) * inner;
                    Elementwise.binaryRun(Elementwise.Binary.ADD, simd, target.data, to, s.data, from, target.data, to, inner);
                }
            }
        });
        return target;
    }

    private static int innerSize(int[] shape, int dim) {
        int n = 1;
        for (int d = dim + 1; d < shape.length; d++) {
            n *= shape[d];
        }
        return n;
    }

    private static int outerSize(int[] shape, int dim) {
        int n = 1;
        for (int d = 0; d < dim; d++) {
            n *= shape[d];
        }
        return n;
    }

    /** Advances {@code coord} to the next row-major position in {@code shape}. */
    static void increment(int[] coord, int[] shape) {
        for (int d = coord.length - 1; d >= 0; d--) {
            if (++coord[d] < shape[d]) {
                return;
            }
            coord[d] = 0;
        }
    }
}
