package dev.transact4j.tensor;

import static dev.transact4j.tensor.Autograd.record;
import static dev.transact4j.tensor.Autograd.recording;
import static dev.transact4j.tensor.Autograd.sumTo;

/**
 * The backward rule of every differentiable op, recorded next to the forward result.
 *
 * <p>Each method takes the op's inputs and its computed output {@code y}, and, when an input
 * requires grad, attaches a {@link Node} saving only what the rule reads. Rules receive
 * {@code g}, the gradient of the output, and return one gradient per input, each of the input's
 * shape (broadcast inputs get theirs summed back with {@link Autograd#sumTo}). Rules capture
 * shapes and indices, never tensors, so that releasing a node frees its saved tensors. They run
 * with recording off.
 */
final class Derivatives {

    private Derivatives() {
    }

    // ---------------------------------------------------------------- element-wise

    static Tensor unary(Elementwise.Unary op, Tensor x, Tensor y) {
        if (!recording(x)) {
            return y;
        }
        Tensor[] in = {x};
        String name = op.name().toLowerCase(java.util.Locale.ROOT);
        switch (op) {
            case COPY:
                return record(y, "copy", (g, n) -> new Tensor[] {g}, in);
            case NEG:
                return record(y, name, (g, n) -> new Tensor[] {g.neg()}, in);
            case EXP: // d e^x = e^x
                return record(y, name, (g, n) -> new Tensor[] {g.mul(n.saved(0))}, in, y.detach());
            case LOG: // d log x = 1 / x
                return record(y, name, (g, n) -> new Tensor[] {g.div(n.saved(0))}, in, x.detach());
            case SQRT: // d sqrt x = 1 / (2 sqrt x)
                return record(y, name, (g, n) -> new Tensor[] {g.div(n.saved(0)).mul(0.5f)}, in, y.detach());
            case RSQRT: // d x^-1/2 = -x^-3/2 / 2 = -y^3 / 2
                return record(y, name, (g, n) -> {
                    Tensor r = n.saved(0);
                    return new Tensor[] {g.mul(r.mul(r).mul(r)).mul(-0.5f)};
                }, in, y.detach());
            case ABS:
                return record(y, name, (g, n) -> new Tensor[] {g.mul(n.saved(0).sign())}, in, x.detach());
            case SIGMOID: // d s = s (1 - s)
                return record(y, name, (g, n) -> {
                    Tensor s = n.saved(0);
                    return new Tensor[] {g.mul(s.mul(s.neg().add(1f)))};
                }, in, y.detach());
            case SILU: // d (x s) = s + x s (1 - s) = s (1 + x (1 - s))
                return record(y, name, (g, n) -> {
                    Tensor v = n.saved(0);
                    Tensor s = v.sigmoid();
                    return new Tensor[] {g.mul(s.mul(v.mul(s.neg().add(1f)).add(1f)))};
                }, in, x.detach());
            case TANH: // d tanh = 1 - tanh^2
                return record(y, name, (g, n) -> {
                    Tensor t = n.saved(0);
                    return new Tensor[] {g.mul(t.mul(t).neg().add(1f))};
                }, in, y.detach());
            case RELU:
                return record(y, name, (g, n) -> new Tensor[] {g.mul(n.saved(0).step())}, in, x.detach());
            default:
                // sign and step: zero gradient almost everywhere
                return record(y, name, (g, n) -> new Tensor[] {Tensor.zeros(n.input(0).shape)}, in);
        }
    }

    static Tensor binary(Elementwise.Binary op, String name, Tensor a, Tensor b, Tensor y) {
        if (!recording(a, b)) {
            return y;
        }
        Tensor[] in = {a, b};
        int[] as = a.shape;
        int[] bs = b.shape;
        switch (op) {
            case ADD:
                return record(y, name, (g, n) -> new Tensor[] {
                    n.needsGrad(0) ? sumTo(g, as) : null,
                    n.needsGrad(1) ? sumTo(g, bs) : null}, in);
            case SUB:
                return record(y, name, (g, n) -> new Tensor[] {
                    n.needsGrad(0) ? sumTo(g, as) : null,
                    n.needsGrad(1) ? sumTo(g.neg(), bs) : null}, in);
            case MUL:
                return record(y, name, (g, n) -> new Tensor[] {
                    n.needsGrad(0) ? sumTo(g.mul(n.saved(1)), as) : null,
                    n.needsGrad(1) ? sumTo(g.mul(n.saved(0)), bs) : null}, in, a.detach(), b.detach());
            case DIV: // d(a/b)/da = 1/b, d(a/b)/db = -a/b^2 = -y/b
                return record(y, name, (g, n) -> new Tensor[] {
                    n.needsGrad(0) ? sumTo(g.div(n.saved(1)), as) : null,
                    n.needsGrad(1) ? sumTo(g.mul(n.saved(2)).div(n.saved(1)).neg(), bs) : null},
                        in, null, b.detach(), y.detach());
            case POW: // d a^b/da = b a^(b-1), d a^b/db = a^b log a
                return record(y, name, (g, n) -> new Tensor[] {
                    n.needsGrad(0) ? sumTo(g.mul(n.saved(1)).mul(n.saved(0).pow(n.saved(1).sub(1f))), as) : null,
                    n.needsGrad(1) ? sumTo(g.mul(n.saved(2)).mul(n.saved(0).log()), bs) : null},
                        in, a.detach(), b.detach(), y.detach());
            case MAX:
            case MIN: {
                // the larger (smaller) input takes the gradient; ties split it evenly, as PyTorch
                float toA = op == Elementwise.Binary.MAX ? 0.5f : -0.5f;
                return record(y, name, (g, n) -> {
                    Tensor share = n.saved(0).sub(n.saved(1)).sign().mul(toA);
                    return new Tensor[] {
                        n.needsGrad(0) ? sumTo(g.mul(share.add(0.5f)), as) : null,
                        n.needsGrad(1) ? sumTo(g.mul(share.neg().add(0.5f)), bs) : null};
                }, in, a.detach(), b.detach());
            }
            default:
                return record(y, name, null, in);
        }
    }

    static Tensor where(Tensor cond, Tensor a, Tensor b, Tensor y) {
        if (!recording(a, b)) {
            return y;
        }
        int[] as = a.shape;
        int[] bs = b.shape;
        return record(y, "where", (g, n) -> {
            Tensor zero = Tensor.scalar(0f);
            return new Tensor[] {null,
                n.needsGrad(1) ? sumTo(Tensor.where(n.saved(0), g, zero), as) : null,
                n.needsGrad(2) ? sumTo(Tensor.where(n.saved(0), zero, g), bs) : null};
        }, new Tensor[] {null, a, b}, cond.detach());
    }

    // ---------------------------------------------------------------- views

    /** view, reshape, squeeze, unsqueeze: the gradient takes the input's shape back. */
    static Tensor reshaped(String name, Tensor x, Tensor y) {
        int[] xs = x.shape;
        return record(y, name, (g, n) -> new Tensor[] {g.reshape(xs)}, new Tensor[] {x});
    }

    static Tensor permute(Tensor x, int[] order, Tensor y) {
        int[] inverse = new int[order.length];
        for (int d = 0; d < order.length; d++) {
            inverse[Shapes.dim("permute", order[d], order.length)] = d;
        }
        return record(y, "permute", (g, n) -> new Tensor[] {g.permute(inverse)}, new Tensor[] {x});
    }

    static Tensor narrow(Tensor x, int dim, int start, int length, Tensor y) {
        int[] xs = x.shape;
        return record(y, "narrow", (g, n) -> {
            Tensor dx = Tensor.zeros(xs);
            dx.narrow(dim, start, length).copyFrom(g);
            return new Tensor[] {dx};
        }, new Tensor[] {x});
    }

    static Tensor select(Tensor x, int dim, int index, Tensor y) {
        int[] xs = x.shape;
        return record(y, "select", (g, n) -> {
            Tensor dx = Tensor.zeros(xs);
            dx.select(dim, index).copyFrom(g);
            return new Tensor[] {dx};
        }, new Tensor[] {x});
    }

    static Tensor expand(Tensor x, Tensor y) {
        int[] xs = x.shape;
        return record(y, "expand", (g, n) -> new Tensor[] {sumTo(g, xs)}, new Tensor[] {x});
    }

    // ---------------------------------------------------------------- reductions

    /** sum and mean: the gradient, divided by the count for a mean, spreads over the reduced dims. */
    static Tensor sum(String name, Tensor x, boolean[] reduced, float scale, Tensor y) {
        int[] xs = x.shape;
        int[] kept = onesAt(xs, reduced);
        return record(y, name, (g, n) -> {
            Tensor spread = g.reshape(kept).expand(xs);
            return new Tensor[] {scale == 1f ? spread : spread.mul(scale)};
        }, new Tensor[] {x});
    }

    /** amax, amin, max, min: every element equal to the result shares its gradient evenly. */
    static Tensor extremum(String name, Tensor x, boolean[] reduced, Tensor y) {
        int[] xs = x.shape;
        int[] kept = onesAt(xs, reduced);
        int[] dims = dimsOf(reduced);
        return record(y, name, (g, n) -> {
            Tensor hits = n.saved(0).eq(n.saved(1).reshape(kept));
            Tensor count = hits.sum(dims, true);
            return new Tensor[] {hits.mul(g.reshape(kept).div(count))};
        }, new Tensor[] {x}, x.detach(), y.detach());
    }

    /** max along one dim with indices: the gradient goes to the chosen index only. */
    static Tensor maxAlongDim(Tensor x, int dim, IndexTensor indices, boolean keepdim, Tensor values) {
        int[] xs = x.shape;
        boolean[] reduced = new boolean[xs.length];
        reduced[dim] = true;
        int[] kept = onesAt(xs, reduced);
        IndexTensor index = IndexTensor.of(indices.data(), kept);
        return record(values, "max", (g, n) -> new Tensor[] {Tensor.zeros(xs).scatterAdd(dim, index, g.reshape(kept))},
                new Tensor[] {x});
    }

    /** L2 norm: d |x| = x / |x|, taken as 0 where the norm is 0. */
    static Tensor norm(Tensor x, boolean[] reduced, Tensor y) {
        int[] kept = onesAt(x.shape, reduced);
        return record(y, "norm", (g, n) -> {
            Tensor norm = n.saved(1).reshape(kept);
            Tensor ratio = Tensor.where(norm.eq(Tensor.scalar(0f)), Tensor.scalar(0f), g.reshape(kept).div(norm));
            return new Tensor[] {n.saved(0).mul(ratio)};
        }, new Tensor[] {x}, x.detach(), y.detach());
    }

    // ---------------------------------------------------------------- softmax

    /** softmax: dx = y (g - sum(g y)) per row. */
    static Tensor softmax(Tensor x, Tensor y) {
        return record(y, "softmax", (g, n) -> {
            Tensor s = n.saved(0);
            return new Tensor[] {s.mul(g.sub(g.mul(s).sum(-1, true)))};
        }, new Tensor[] {x}, y.detach());
    }

    /** log-softmax: dx = g - softmax(x) sum(g) per row; a row of all -inf passes g through unchanged. */
    static Tensor logSoftmax(Tensor x, Tensor y) {
        return record(y, "logSoftmax", (g, n) -> new Tensor[] {g.sub(n.saved(0).exp().mul(g.sum(-1, true)))},
                new Tensor[] {x}, y.detach());
    }

    // ---------------------------------------------------------------- indexing

    static Tensor indexSelect(Tensor x, int dim, int[] index, Tensor y) {
        int[] xs = x.shape;
        return record(y, "indexSelect", (g, n) -> new Tensor[] {Indexing.indexAdd(Tensor.zeros(xs), dim, index, g)},
                new Tensor[] {x});
    }

    static Tensor gather(Tensor x, int dim, IndexTensor index, Tensor y) {
        int[] xs = x.shape;
        return record(y, "gather", (g, n) -> new Tensor[] {Tensor.zeros(xs).scatterAdd(dim, index, g)}, new Tensor[] {x});
    }

    static Tensor scatterAdd(Tensor x, int dim, IndexTensor index, Tensor src, Tensor y) {
        int[] srcShape = src.shape;
        return record(y, "scatterAdd", (g, n) -> {
            Tensor dsrc = null;
            if (n.needsGrad(1)) {
                // only the region of src that the index covers was added
                dsrc = Tensor.zeros(srcShape);
                Tensor region = dsrc;
                int[] is = index.shape();
                for (int d = 0; d < is.length; d++) {
                    region = region.narrow(d, 0, is[d]);
                }
                region.copyFrom(g.gather(dim, index));
            }
            return new Tensor[] {n.needsGrad(0) ? g : null, dsrc};
        }, new Tensor[] {x, src});
    }

    static Tensor concat(int dim, Tensor[] tensors, Tensor y) {
        int[] sizes = new int[tensors.length];
        for (int i = 0; i < tensors.length; i++) {
            sizes[i] = tensors[i].shape[dim];
        }
        return record(y, "concat", (g, n) -> {
            Tensor[] out = new Tensor[sizes.length];
            int at = 0;
            for (int i = 0; i < sizes.length; i++) {
                out[i] = n.needsGrad(i) ? g.narrow(dim, at, sizes[i]) : null;
                at += sizes[i];
            }
            return out;
        }, tensors.clone());
    }

    static Tensor triangle(Tensor x, int diagonal, boolean upper, Tensor y) {
        return record(y, upper ? "triu" : "tril",
                (g, n) -> new Tensor[] {upper ? g.triu(diagonal) : g.tril(diagonal)}, new Tensor[] {x});
    }

    // ---------------------------------------------------------------- matmul

    /** C = A B: dA = dC B^T and dB = A^T dC, summed over broadcast batch dims; 1-D operands as in the forward. */
    static Tensor matmul(Tensor a, Tensor b, Tensor y) {
        int[] as = a.shape;
        int[] bs = b.shape;
        return record(y, "matmul", (g, n) -> {
            Tensor a2 = as.length == 1 ? n.saved(0).unsqueeze(0) : n.saved(0);
            Tensor b2 = bs.length == 1 ? n.saved(1).unsqueeze(1) : n.saved(1);
            // the output with the dims that 1-D operands dropped put back
            int[] gs = Shapes.broadcast("matmul", java.util.Arrays.copyOf(a2.shape, a2.dim() - 2),
                    java.util.Arrays.copyOf(b2.shape, b2.dim() - 2));
            int[] full = java.util.Arrays.copyOf(gs, gs.length + 2);
            full[gs.length] = a2.size(-2);
            full[gs.length + 1] = b2.size(-1);
            Tensor g2 = g.reshape(full);
            Tensor da = n.needsGrad(0) ? sumTo(g2.matmul(b2.transpose(-1, -2)), a2.shape).reshape(as) : null;
            Tensor db = n.needsGrad(1) ? sumTo(a2.transpose(-1, -2).matmul(g2), b2.shape).reshape(bs) : null;
            return new Tensor[] {da, db};
        }, new Tensor[] {a, b}, a.detach(), b.detach());
    }

    // ---------------------------------------------------------------- helpers

    private static int[] onesAt(int[] shape, boolean[] reduced) {
        int[] s = shape.clone();
        for (int d = 0; d < s.length; d++) {
            if (reduced[d]) {
                s[d] = 1;
            }
        }
        return s;
    }

    private static int[] dimsOf(boolean[] mask) {
        int n = 0;
        int[] dims = new int[mask.length];
        for (int d = 0; d < mask.length; d++) {
            if (mask[d]) {
                dims[n++] = d;
            }
        }
        return java.util.Arrays.copyOf(dims, n);
    }
}
