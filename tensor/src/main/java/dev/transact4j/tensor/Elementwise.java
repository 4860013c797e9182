package dev.transact4j.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Element-wise kernels: unary, binary and select over strided operands of one shape.
 *
 * <p>Dimension letters: {@code N} elements of the output; after merging adjacent dims that are
 * contiguous in every operand, {@code R} outer rows of {@code L} inner elements, cut into blocks of
 * at most {@link #BLOCK}. The block is the unit of work. An operand whose inner stride is not 1
 * is packed into a unit-stride buffer, and a stride of 0 (from broadcasting) fills the buffer with
 * one value, so the SIMD loops only ever see unit-stride runs. Work is split over blocks, and a block
 * is computed the same way whichever thread runs it, so results do not depend on the thread count.
 *
 * <p>An output that overlaps an input other than element for element (same offset and strides)
 * gives undefined results.
 */
final class Elementwise {

    /** Elements per block; a multiple of every vector length. */
    static final int BLOCK = 4096;

    /** Elements below which a thread is not worth starting. */
    static final int PARALLEL_MIN = 1 << 15;

    private static final VectorSpecies<Float> S = Simd.SPECIES;

    private Elementwise() {
    }

    /** Element-wise functions of one argument; {@link #apply} is the scalar twin of each SIMD loop. */
    enum Unary {
        COPY, NEG, EXP, LOG, SQRT, RSQRT, ABS, SIGMOID, SILU, TANH, RELU, SIGN, STEP;

        float apply(float x) {
            switch (this) {
                case COPY:
                    return x;
                case NEG:
                    return -x;
                case EXP:
                    return VectorMath.exp(x);
                case LOG:
                    return VectorMath.log(x);
                case SQRT:
                    return (float) Math.sqrt(x);
                case RSQRT:
                    return 1f / (float) Math.sqrt(x);
                case ABS:
                    return Math.abs(x);
                case SIGMOID:
                    return 1f / (1f + VectorMath.exp(-x));
                case SILU:
                    return x / (1f + VectorMath.exp(-x));
                case TANH:
                    return VectorMath.tanh(x);
                case RELU:
                    return x > 0f ? x : (x == x ? 0f : x);
                case SIGN:
                    if (x > 0f) {
                        return 1f;
                    }
                    if (x < 0f) {
                        return -1f;
                    }
                    return x == x ? 0f : x; // zero, or NaN passed through
                case STEP:
                    return x > 0f ? 1f : 0f;
                default:
                    throw new AssertionError(this);
            }
        }
    }

    /**
     * Element-wise functions of two arguments; {@link #apply} is the scalar twin of each SIMD loop.
     * POW has no SIMD loop: {@link Math#pow} handles its many special cases (negative bases with
     * whole exponents, zeros, infinities) exactly, which {@code exp(b * log(a))} would not.
     */
    enum Binary {
        ADD, SUB, MUL, DIV, POW, MAX, MIN, EQ;

        float apply(float a, float b) {
            switch (this) {
                case ADD:
                    return a + b;
                case SUB:
                    return a - b;
                case MUL:
                    return a * b;
                case DIV:
                    return a / b;
                case POW:
                    return (float) Math.pow(a, b);
                case MAX:
                    return Math.max(a, b);
                case MIN:
                    return Math.min(a, b);
                case EQ:
                    return a == b ? 1f : 0f;
                default:
                    throw new AssertionError(this);
            }
        }
    }

    /** Computes one block: {@code n} outputs at {@code out[oo..]} from unit-stride inputs {@code in[k][io[k]..]}. */
    @FunctionalInterface
    interface BlockBody {
        void run(float[] out, int oo, float[][] in, int[] io, int n);
    }

    /** {@code out = op(x)}; both have the output's shape ({@code x} may be an expanded view). */
    static void unary(Unary op, Tensor x, Tensor out) {
        boolean simd = Simd.enabled();
        forEachBlock(out, new Tensor[] {x}, (o, oo, in, io, n) -> unaryRun(op, simd, in[0], io[0], o, oo, n));
    }

    /** {@code out = op(a, b)}; all three have the output's shape. */
    static void binary(Binary op, Tensor a, Tensor b, Tensor out) {
        boolean simd = Simd.enabled();
        forEachBlock(out, new Tensor[] {a, b},
                (o, oo, in, io, n) -> binaryRun(op, simd, in[0], io[0], in[1], io[1], o, oo, n));
    }

    /** {@code out = cond != 0 ? a : b}; all four have the output's shape. */
    static void where(Tensor cond, Tensor a, Tensor b, Tensor out) {
        boolean simd = Simd.enabled();
        forEachBlock(out, new Tensor[] {cond, a, b},
                (o, oo, in, io, n) -> whereRun(simd, in[0], io[0], in[1], io[1], in[2], io[2], o, oo, n));
    }

    // ---- unit-stride runs: SIMD loop, then the scalar twin for the tail (or all when SIMD is off)

    static void unaryRun(Unary op, boolean simd, float[] x, int xi, float[] o, int oi, int n) {
        if (op == Unary.COPY) {
            System.arraycopy(x, xi, o, oi, n);
            return;
        }
        int i = simd ? unaryVector(op, x, xi, o, oi, n) : 0;
        for (; i < n; i++) {
            o[oi + i] = op.apply(x[xi + i]);
        }
    }

    /** Runs the SIMD loop of {@code op} up to the loop bound and returns where the scalar tail starts. */
    private static int unaryVector(Unary op, float[] x, int xi, float[] o, int oi, int n) {
        int step = S.length();
        int bound = S.loopBound(n);
        FloatVector one = FloatVector.broadcast(S, 1f);
        switch (op) {
            case NEG:
                for (int i = 0; i < bound; i += step) {
                    FloatVector.fromArray(S, x, xi + i).neg().intoArray(o, oi + i);
                }
                break;
            case EXP:
                for (int i = 0; i < bound; i += step) {
                    VectorMath.exp(FloatVector.fromArray(S, x, xi + i)).intoArray(o, oi + i);
                }
                break;
            case LOG:
                for (int i = 0; i < bound; i += step) {
                    VectorMath.log(FloatVector.fromArray(S, x, xi + i)).intoArray(o, oi + i);
                }
                break;
            case SQRT:
                for (int i = 0; i < bound; i += step) {
                    FloatVector.fromArray(S, x, xi + i).sqrt().intoArray(o, oi + i);
                }
                break;
            case RSQRT:
                for (int i = 0; i < bound; i += step) {
                    one.div(FloatVector.fromArray(S, x, xi + i).sqrt()).intoArray(o, oi + i);
                }
                break;
            case ABS:
                for (int i = 0; i < bound; i += step) {
                    FloatVector.fromArray(S, x, xi + i).abs().intoArray(o, oi + i);
                }
                break;
            case SIGMOID:
                for (int i = 0; i < bound; i += step) {
                    FloatVector v = FloatVector.fromArray(S, x, xi + i);
                    one.div(VectorMath.exp(v.neg()).add(1f)).intoArray(o, oi + i);
                }
                break;
            case SILU:
                for (int i = 0; i < bound; i += step) {
                    FloatVector v = FloatVector.fromArray(S, x, xi + i);
                    v.div(VectorMath.exp(v.neg()).add(1f)).intoArray(o, oi + i);
                }
                break;
            case TANH:
                for (int i = 0; i < bound; i += step) {
                    VectorMath.tanh(FloatVector.fromArray(S, x, xi + i)).intoArray(o, oi + i);
                }
                break;
            case RELU:
                for (int i = 0; i < bound; i += step) {
                    FloatVector v = FloatVector.fromArray(S, x, xi + i);
                    // NaN compares false, so it stays NaN; -0 becomes 0
                    v.blend(0f, v.compare(VectorOperators.LE, 0f)).intoArray(o, oi + i);
                }
                break;
            case SIGN:
                for (int i = 0; i < bound; i += step) {
                    FloatVector v = FloatVector.fromArray(S, x, xi + i);
                    // NaN fails both compares and is blended back in from v
                    FloatVector.zero(S).blend(1f, v.compare(VectorOperators.GT, 0f)).blend(-1f, v.compare(VectorOperators.LT, 0f))
                            .blend(v, v.compare(VectorOperators.NE, v)).intoArray(o, oi + i);
                }
                break;
            case STEP:
                for (int i = 0; i < bound; i += step) {
                    FloatVector v = FloatVector.fromArray(S, x, xi + i);
                    FloatVector.zero(S).blend(1f, v.compare(VectorOperators.GT, 0f)).intoArray(o, oi + i);
                }
                break;
            default:
                return 0;
        }
        return bound;
    }

    static void binaryRun(Binary op, boolean simd, float[] a, int ai, float[] b, int bi, float[] o, int oi, int n) {
        int i = simd ? binaryVector(op, a, ai, b, bi, o, oi, n) : 0;
        for (; i < n; i++) {
            o[oi + i] = op.apply(a[ai + i], b[bi + i]);
        }
    }

    private static int binaryVector(Binary op, float[] a, int ai, float[] b, int bi, float[] o, int oi, int n) {
        int step = S.length();
        int bound = S.loopBound(n);
        switch (op) {
            case ADD:
                for (int i = 0; i < bound; i += step) {
                    FloatVector.fromArray(S, a, ai + i).add(FloatVector.fromArray(S, b, bi + i)).intoArray(o, oi + i);
                }
                break;
            case SUB:
                for (int i = 0; i < bound; i += step) {
                    FloatVector.fromArray(S, a, ai + i).sub(FloatVector.fromArray(S, b, bi + i)).intoArray(o, oi + i);
                }
                break;
            case MUL:
                for (int i = 0; i < bound; i += step) {
                    FloatVector.fromArray(S, a, ai + i).mul(FloatVector.fromArray(S, b, bi + i)).intoArray(o, oi + i);
                }
                break;
            case DIV:
                for (int i = 0; i < bound; i += step) {
                    FloatVector.fromArray(S, a, ai + i).div(FloatVector.fromArray(S, b, bi + i)).intoArray(o, oi + i);
                }
                break;
            case MAX:
                for (int i = 0; i < bound; i += step) {
                    FloatVector.fromArray(S, a, ai + i).max(FloatVector.fromArray(S, b, bi + i)).intoArray(o, oi + i);
                }
                break;
            case MIN:
                for (int i = 0; i < bound; i += step) {
                    FloatVector.fromArray(S, a, ai + i).min(FloatVector.fromArray(S, b, bi + i)).intoArray(o, oi + i);
                }
                break;
            case EQ:
                for (int i = 0; i < bound; i += step) {
                    VectorMask<Float> equal = FloatVector.fromArray(S, a, ai + i)
                            .compare(VectorOperators.EQ, FloatVector.fromArray(S, b, bi + i));
                    FloatVector.zero(S).blend(1f, equal).intoArray(o, oi + i);
                }
                break;
            default:
                return 0;
        }
        return bound;
    }

    private static void whereRun(boolean simd, float[] c, int ci, float[] a, int ai, float[] b, int bi,
                                 float[] o, int oi, int n) {
        int i = 0;
        if (simd) {
            int step = S.length();
            int bound = S.loopBound(n);
            for (; i < bound; i += step) {
                VectorMask<Float> take = FloatVector.fromArray(S, c, ci + i).compare(VectorOperators.NE, 0f);
                FloatVector.fromArray(S, b, bi + i).blend(FloatVector.fromArray(S, a, ai + i), take).intoArray(o, oi + i);
            }
        }
        for (; i < n; i++) {
            o[oi + i] = c[ci + i] != 0f ? a[ai + i] : b[bi + i];
        }
    }

    // ---- the strided driver

    /**
     * Calls {@code body} once per block of the output, with every operand presented as a unit-stride
     * run. The inputs must have the output's shape (broadcast inputs arrive as expanded views).
     */
    static void forEachBlock(Tensor out, Tensor[] ins, BlockBody body) {
        int n = out.numel();
        if (n == 0) {
            return;
        }
        int ops = ins.length + 1;
        float[][] data = new float[ops][];
        int[] base = new int[ops];
        int[][] strides = new int[ops][];
        data[0] = out.data;
        base[0] = out.offset;
        strides[0] = out.strides;
        for (int k = 0; k < ins.length; k++) {
            data[k + 1] = ins[k].data;
            base[k + 1] = ins[k].offset;
            strides[k + 1] = ins[k].strides;
        }

        // merge adjacent dims that are contiguous in every operand; drop dims of size 1
        int[] shape = out.shape;
        int[] sizes = new int[Math.max(shape.length, 1)];
        int[][] st = new int[ops][Math.max(shape.length, 1)];
        int m = 0;
        for (int d = 0; d < shape.length; d++) {
            if (shape[d] == 1) {
                continue;
            }
            boolean merge = m > 0;
            for (int k = 0; k < ops && merge; k++) {
                merge = st[k][m - 1] == strides[k][d] * shape[d];
            }
            if (merge) {
                sizes[m - 1] *= shape[d];
                for (int k = 0; k < ops; k++) {
                    st[k][m - 1] = strides[k][d];
                }
            } else {
                sizes[m] = shape[d];
                for (int k = 0; k < ops; k++) {
                    st[k][m] = strides[k][d];
                }
                m++;
            }
        }
        if (m == 0) {
            sizes[0] = 1;
            for (int k = 0; k < ops; k++) {
                st[k][0] = 1;
            }
            m = 1;
        }

        // R rows of L elements, each row cut into blocks
        int dims = m;
        int inner = sizes[m - 1];
        int blocksPerRow = (inner + BLOCK - 1) / BLOCK;
        int rows = n / inner;
        int tasks = rows * blocksPerRow;
        int grain = Math.max(1, PARALLEL_MIN / Math.min(inner, BLOCK));
        Parallel.forRange(0, tasks, grain, (lo, hi) -> {
            float[][] buffers = new float[ops][];
            float[][] runs = new float[ins.length][];
            int[] runOffsets = new int[ins.length];
            int[] rowBase = new int[ops];
            for (int t = lo; t < hi; t++) {
                int row = t / blocksPerRow;
                int start = (t % blocksPerRow) * BLOCK;
                int len = Math.min(BLOCK, inner - start);

                // offset of this row in every operand
                for (int k = 0; k < ops; k++) {
                    rowBase[k] = base[k];
                }
                int rest = row;
                for (int d = dims - 2; d >= 0; d--) {
                    int i = rest % sizes[d];
                    rest /= sizes[d];
                    for (int k = 0; k < ops; k++) {
                        rowBase[k] += i * st[k][d];
                    }
                }

                // inputs as unit-stride runs
                for (int k = 1; k < ops; k++) {
                    int stride = st[k][dims - 1];
                    int at = rowBase[k] + start * stride;
                    if (stride == 1) {
                        runs[k - 1] = data[k];
                        runOffsets[k - 1] = at;
                        continue;
                    }
                    float[] buf = buffers[k] != null ? buffers[k] : (buffers[k] = new float[BLOCK]);
                    if (stride == 0) {
                        java.util.Arrays.fill(buf, 0, len, data[k][at]);
                    } else {
                        for (int i = 0; i < len; i++) {
                            buf[i] = data[k][at + i * stride];
                        }
                    }
                    runs[k - 1] = buf;
                    runOffsets[k - 1] = 0;
                }

                // output directly when unit-stride, otherwise through a buffer
                int outStride = st[0][dims - 1];
                int outAt = rowBase[0] + start * outStride;
                if (outStride == 1) {
                    body.run(data[0], outAt, runs, runOffsets, len);
                } else {
                    float[] buf = buffers[0] != null ? buffers[0] : (buffers[0] = new float[BLOCK]);
                    body.run(buf, 0, runs, runOffsets, len);
                    for (int i = 0; i < len; i++) {
                        data[0][outAt + i * outStride] = buf[i];
                    }
                }
            }
        });
    }
}
