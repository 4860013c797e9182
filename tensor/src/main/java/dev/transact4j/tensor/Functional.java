package dev.transact4j.tensor;

import dev.transact4j.tensor.fused.CausalAttention;
import dev.transact4j.tensor.fused.CrossEntropy;
import dev.transact4j.tensor.fused.RmsNorm;
import dev.transact4j.tensor.fused.Rope;
import dev.transact4j.tensor.fused.SwiGlu;
import java.util.Arrays;

/**
 * Fused layer ops on tensors with autograd, the counterpart of {@code torch.nn.functional}.
 *
 * <p>Each op runs one kernel of {@link dev.transact4j.tensor.fused} (or {@link Gemm}) on the raw
 * arrays and records one {@link Node} whose backward calls the matching backward kernel. A node
 * saves only what that kernel reads: the inputs, plus the per-row log-sum-exp of cross entropy
 * and attention or the reciprocal RMS of RMSNorm. Non-contiguous inputs are first copied through
 * {@link Tensor#contiguous()}, which is recorded, so gradients still reach the original views.
 *
 * <p>Dimensions: {@code N} rows (all leading dims flattened), {@code C} channels, {@code V}
 * vocabulary, {@code B} batch, {@code NH} query heads, {@code NKV} key/value heads, {@code T}
 * time, {@code HS} head size, {@code P} rows of the rotary tables.
 */
public final class Functional {

    private Functional() {
    }

    // ---------------------------------------------------------------- linear

    /**
     * Returns {@code x W^T + bias}, as {@code torch.nn.functional.linear}.
     *
     * <p>Shapes: x {@code [..., in]}, weight {@code [out, in]}, bias {@code [out]} or null; the
     * result is {@code [..., out]}. The weight is read in place with a transpose flag, never
     * copied transposed. Backward: {@code dx = dy W}, {@code dW = dy^T x} and
     * {@code dbias = sum(dy)}, each summed over all leading dims of x.
     *
     * @throws IllegalArgumentException when the shapes do not fit
     */
    public static Tensor linear(Tensor x, Tensor weight, Tensor bias) {
        if (x.dim() < 1 || weight.dim() != 2 || x.size(-1) != weight.shape[1]
                || (bias != null && (bias.dim() != 1 || bias.shape[0] != weight.shape[0]))) {
            throw new IllegalArgumentException("linear: expected x [..., in], weight [out, in] and bias [out] or null, got x "
                    + Shapes.str(x.shape) + ", weight " + Shapes.str(weight.shape)
                    + ", bias " + (bias == null ? "null" : Shapes.str(bias.shape)));
        }
        int in = weight.shape[1];
        int outFeatures = weight.shape[0];
        int rows = Shapes.numel(Arrays.copyOf(x.shape, x.dim() - 1));
        Tensor xc = x.contiguous();
        Tensor wc = weight.contiguous();
        Tensor bc = bias == null ? null : bias.contiguous();

        // y = bias broadcast over the rows, then y += x W^T
        int[] outShape = x.shape.clone();
        outShape[outShape.length - 1] = outFeatures;
        Tensor y = Tensor.zeros(outShape);
        if (bc != null) {
            int grain = Math.max(1, Elementwise.PARALLEL_MIN / Math.max(1, outFeatures));
            Parallel.forRange(0, rows, grain, (from, to) -> {
                for (int r = from; r < to; r++) {
                    System.arraycopy(bc.data, bc.offset, y.data, r * outFeatures, outFeatures);
                }
            });
        }
        Gemm.sgemm(false, true, rows, outFeatures, in, 1f, xc.data, xc.offset, in, wc.data, wc.offset, in,
                bc == null ? 0f : 1f, y.data, 0, outFeatures);

        int m = rows;
        int[] xs = xc.shape.clone();
        int[] ws = wc.shape.clone();
        return Autograd.record(y, "linear", (g, n) -> {
            Tensor dy = g.contiguous();
            Tensor xsaved = n.saved(0);
            Tensor wsaved = n.saved(1);
            Tensor dx = null;
            Tensor dw = null;
            Tensor db = null;
            if (n.needsGrad(0)) {
                dx = Tensor.zeros(xs);
                Gemm.sgemm(false, false, m, in, outFeatures, 1f, dy.data, dy.offset, outFeatures,
                        wsaved.data, wsaved.offset, in, 0f, dx.data, 0, in);
            }
            if (n.needsGrad(1)) {
                dw = Tensor.zeros(ws);
                Gemm.sgemm(true, false, outFeatures, in, m, 1f, dy.data, dy.offset, outFeatures,
                        xsaved.data, xsaved.offset, in, 0f, dw.data, 0, in);
            }
            if (n.inputs().length > 2 && n.needsGrad(2)) {
                db = dy.reshape(m, outFeatures).sum(0, false);
            }
            return new Tensor[] {dx, dw, db};
        }, bc == null ? new Tensor[] {xc, wc} : new Tensor[] {xc, wc, bc}, xc.detach(), wc.detach());
    }

    /**
     * Returns {@code linear(x, weights[i], biases[i])} for every i, such as the q, k and v
     * projections of one input. For one row of x outside autograd (a decode step), the
     * matrix-vector products of all weights run in one parallel loop, which starts and joins the
     * pool's threads once instead of once per weight. Each result is bitwise the one
     * {@link #linear} gives, and otherwise this simply calls it per weight.
     *
     * <p>Shapes: x {@code [..., in]}, weights[i] {@code [out_i, in]}, biases null or biases[i]
     * {@code [out_i]} or null; result i is {@code [..., out_i]}.
     *
     * @throws IllegalArgumentException when the shapes do not fit or the arrays differ in length
     */
    public static Tensor[] linears(Tensor x, Tensor[] weights, Tensor[] biases) {
        int count = weights.length;
        if (biases != null && biases.length != count) {
            throw new IllegalArgumentException("linears: " + count + " weights but " + biases.length
                    + " biases; pass one bias (or null) per weight");
        }
        Tensor[] inputs = new Tensor[2 * count + 1];
        inputs[0] = x;
        for (int i = 0; i < count; i++) {
            Tensor weight = weights[i];
            Tensor bias = biases == null ? null : biases[i];
            if (x.dim() < 1 || weight.dim() != 2 || x.size(-1) != weight.shape[1]
                    || (bias != null && (bias.dim() != 1 || bias.shape[0] != weight.shape[0]))) {
                throw new IllegalArgumentException("linears: expected x [..., in], weight [out, in] and bias [out] "
                        + "or null, got x " + Shapes.str(x.shape) + ", weight " + i + " " + Shapes.str(weight.shape)
                        + ", bias " + i + " " + (bias == null ? "null" : Shapes.str(bias.shape)));
            }
            inputs[1 + 2 * i] = weight;
            inputs[2 + 2 * i] = bias;
        }
        int in = x.size(-1);
        Tensor[] out = new Tensor[count];
        if (!Gemm.SIMD || in == 0 || x.numel() != in || Autograd.recording(inputs)) {
            for (int i = 0; i < count; i++) {
                out[i] = linear(x, weights[i], biases == null ? null : biases[i]);
            }
            return out;
        }

        // one row: y_i = bias_i (or zeros), then y_i += W_i x for all i in one parallel loop
        Tensor xc = x.contiguous();
        float[][] w = new float[count][];
        int[] wOffsets = new int[count];
        int[] rows = new int[count];
        float[] betas = new float[count];
        float[][] y = new float[count][];
        for (int i = 0; i < count; i++) {
            Tensor wc = weights[i].contiguous();
            int outFeatures = wc.shape[0];
            int[] outShape = x.shape.clone();
            outShape[outShape.length - 1] = outFeatures;
            out[i] = Tensor.zeros(outShape);
            Tensor bias = biases == null ? null : biases[i];
            if (bias != null) {
                Tensor bc = bias.contiguous();
                System.arraycopy(bc.data, bc.offset, out[i].data, 0, outFeatures);
                betas[i] = 1f;
            }
            w[i] = wc.data;
            wOffsets[i] = wc.offset;
            rows[i] = outFeatures;
            y[i] = out[i].data;
        }
        Gemv.rowsShared(in, xc.data, xc.offset, w, wOffsets, rows, betas, y, new int[count]);
        return out;
    }

    // ---------------------------------------------------------------- normalisation and activation

    /**
     * Returns {@code weight * x * rsqrt(mean(x^2) + eps)} over the last dim, as Hugging Face's
     * {@code LlamaRMSNorm} computes it in float32.
     *
     * <p>Shapes: x {@code [..., C]}, weight {@code [C]}; the result has the shape of x.
     *
     * @throws IllegalArgumentException when the shapes do not fit or eps is negative
     */
    public static Tensor rmsNorm(Tensor x, Tensor weight, float eps) {
        if (x.dim() < 1 || weight.dim() != 1 || x.size(-1) != weight.shape[0]) {
            throw new IllegalArgumentException("rmsNorm: expected x [..., C] and weight [C], got x "
                    + Shapes.str(x.shape) + " and weight " + Shapes.str(weight.shape));
        }
        int c = weight.shape[0];
        int rows = c == 0 ? 0 : x.numel() / c;
        Tensor xc = x.contiguous();
        Tensor wc = weight.contiguous();
        Tensor y = Tensor.zeros(x.shape);
        Tensor rstd = Tensor.zeros(rows);
        RmsNorm.forward(xc.data, xc.offset, wc.data, wc.offset, y.data, 0, rstd.data, 0, rows, c, eps);

        int[] xs = xc.shape.clone();
        return Autograd.record(y, "rmsNorm", (g, n) -> {
            Tensor dy = g.contiguous();
            Tensor xsaved = n.saved(0);
            Tensor wsaved = n.saved(1);
            Tensor dx = Tensor.zeros(xs);
            Tensor dw = Tensor.zeros(c);
            RmsNorm.backward(xsaved.data, xsaved.offset, wsaved.data, wsaved.offset, n.saved(2).data, 0,
                    dy.data, dy.offset, dx.data, 0, dw.data, 0, rows, c);
            return new Tensor[] {n.needsGrad(0) ? dx : null, n.needsGrad(1) ? dw : null};
        }, new Tensor[] {xc, wc}, xc.detach(), wc.detach(), rstd);
    }

    /**
     * Returns {@code silu(gate) * up} element by element, the gated activation of the Llama MLP.
     *
     * @throws IllegalArgumentException when gate and up differ in shape
     */
    public static Tensor swiglu(Tensor gate, Tensor up) {
        if (!Shapes.same(gate.shape, up.shape)) {
            throw new IllegalArgumentException("swiglu: gate " + Shapes.str(gate.shape) + " and up "
                    + Shapes.str(up.shape) + " must have the same shape");
        }
        int count = gate.numel();
        Tensor gc = gate.contiguous();
        Tensor uc = up.contiguous();
        Tensor out = Tensor.zeros(gate.shape);
        // element-wise, so one row of all elements is as good as any split
        SwiGlu.forward(gc.data, gc.offset, uc.data, uc.offset, out.data, 0, 1, count);

        int[] shape = gc.shape.clone();
        return Autograd.record(out, "swiglu", (g, n) -> {
            Tensor dout = g.contiguous();
            Tensor gs = n.saved(0);
            Tensor us = n.saved(1);
            Tensor dgate = Tensor.zeros(shape);
            Tensor dup = Tensor.zeros(shape);
            SwiGlu.backward(gs.data, gs.offset, us.data, us.offset, dout.data, dout.offset,
                    dgate.data, 0, dup.data, 0, 1, count);
            return new Tensor[] {n.needsGrad(0) ? dgate : null, n.needsGrad(1) ? dup : null};
        }, new Tensor[] {gc, uc}, gc.detach(), uc.detach());
    }

    // ---------------------------------------------------------------- loss

    /**
     * Returns the mean cross entropy over the rows whose target is not {@code ignoreIndex}, as
     * {@code torch.nn.functional.cross_entropy(logits, targets, ignore_index=ignoreIndex)}. With
     * every row ignored the loss is NaN and the gradient zero, as in PyTorch.
     *
     * <p>Shapes: logits {@code [N, V]}, targets {@code [N]}; the result is a scalar.
     *
     * @throws IllegalArgumentException when the shapes do not fit or a target is outside
     *                                  {@code [0, V)} and not {@code ignoreIndex}
     */
    public static Tensor crossEntropy(Tensor logits, int[] targets, int ignoreIndex) {
        checkCrossEntropy(logits, targets);
        int count = CrossEntropy.countTargets(targets, 0, targets.length, ignoreIndex);
        return crossEntropy("crossEntropy", logits, targets, ignoreIndex, count);
    }

    /**
     * Returns the sum of the per-row cross entropies over the rows whose target is not
     * {@code ignoreIndex}, divided by {@code normalizer}. A trainer that averages over the tokens
     * of several micro-batches passes the token count of the whole batch, so that the gradients
     * of the micro-batches add up to the gradient of the batch mean.
     *
     * @throws IllegalArgumentException as {@link #crossEntropy(Tensor, int[], int)}, or when the
     *                                  normalizer is not positive (0 is allowed when no row counts)
     */
    public static Tensor crossEntropy(Tensor logits, int[] targets, int ignoreIndex, float normalizer) {
        checkCrossEntropy(logits, targets);
        return crossEntropy("crossEntropy", logits, targets, ignoreIndex, normalizer);
    }

    private static void checkCrossEntropy(Tensor logits, int[] targets) {
        if (logits.dim() != 2 || targets.length != logits.shape[0]) {
            throw new IllegalArgumentException("crossEntropy: expected logits [N, V] and targets [N], got logits "
                    + Shapes.str(logits.shape) + " and " + targets.length + " targets");
        }
    }

    private static Tensor crossEntropy(String name, Tensor logits, int[] targets, int ignoreIndex, float normalizer) {
        int rows = logits.shape[0];
        int v = logits.shape[1];
        int[] t = targets.clone();
        Tensor lc = logits.contiguous();
        Tensor lse = Tensor.zeros(rows);
        double loss = CrossEntropy.forward(lc.data, lc.offset, t, 0, lse.data, 0, rows, v, ignoreIndex, normalizer);
        Tensor out = Tensor.scalar((float) loss);

        return Autograd.record(out, name, (g, n) -> {
            Tensor ls = n.saved(0);
            Tensor dlogits = Tensor.zeros(rows, v);
            CrossEntropy.backward(ls.data, ls.offset, t, 0, n.saved(1).data, 0, g.item(), dlogits.data, 0,
                    rows, v, ignoreIndex, normalizer, false);
            return new Tensor[] {dlogits};
        }, new Tensor[] {lc}, lc.detach(), lse);
    }

    // ---------------------------------------------------------------- attention

    /**
     * Rotates every head vector of x by the rotary angles of its position, in Hugging Face's
     * rotate-half convention; time step {@code t} sits at position {@code positionOffset + t}.
     *
     * <p>Shapes: x {@code [B, NH, T, HS]}, cos and sin {@code [P, HS]} with
     * {@code positionOffset + T <= P}; the result has the shape of x. The tables are constants:
     * no gradient flows to them.
     *
     * @throws IllegalArgumentException on a shape mismatch, an odd head size, a position outside
     *                                  the tables, or tables that require grad
     */
    public static Tensor rope(Tensor x, Tensor cos, Tensor sin, int positionOffset) {
        return rope(x, cos, sin, null, positionOffset);
    }

    /**
     * {@link #rope(Tensor, Tensor, Tensor, int)} with explicit positions: {@code positionIds [B, T]}
     * (row-major), as Hugging Face's {@code position_ids}.
     */
    public static Tensor rope(Tensor x, Tensor cos, Tensor sin, int[] positionIds) {
        if (positionIds == null) {
            throw new IllegalArgumentException("rope: positionIds must not be null; pass a position offset instead");
        }
        return rope(x, cos, sin, positionIds.clone(), 0);
    }

    private static Tensor rope(Tensor x, Tensor cos, Tensor sin, int[] positionIds, int positionOffset) {
        if (x.dim() != 4 || cos.dim() != 2 || !Shapes.same(cos.shape, sin.shape) || cos.shape[1] != x.shape[3]) {
            throw new IllegalArgumentException("rope: expected x [B, NH, T, HS] and cos, sin [P, HS], got x "
                    + Shapes.str(x.shape) + ", cos " + Shapes.str(cos.shape) + ", sin " + Shapes.str(sin.shape));
        }
        if (cos.requiresGrad || sin.requiresGrad) {
            throw new IllegalArgumentException("rope: the cos and sin tables get no gradient; pass them detached");
        }
        int b = x.shape[0];
        int nh = x.shape[1];
        int t = x.shape[2];
        int hs = x.shape[3];
        int maxPositions = cos.shape[0];
        float[] cosTable = denseArray(cos);
        float[] sinTable = denseArray(sin);
        Tensor xc = x.contiguous();
        Tensor out = Tensor.zeros(x.shape);
        Rope.forward(xc.data, xc.offset, cosTable, sinTable, maxPositions, positionIds, 0, positionOffset,
                out.data, 0, b, nh, t, hs);

        int[] xs = xc.shape.clone();
        return Autograd.record(out, "rope", (g, n) -> {
            Tensor dout = g.contiguous();
            Tensor dx = Tensor.zeros(xs);
            Rope.backward(cosTable, sinTable, maxPositions, positionIds, 0, positionOffset, dout.data, dout.offset,
                    dx.data, 0, b, nh, t, hs);
            return new Tensor[] {dx};
        }, new Tensor[] {xc});
    }

    /** Returns the row-major elements of t as one array starting at index 0, without a copy when possible. */
    private static float[] denseArray(Tensor t) {
        if (t.isContiguous() && t.offset == 0 && t.data.length == t.numel()) {
            return t.data;
        }
        return t.toArray();
    }

    /**
     * Returns causal scaled-dot-product attention {@code softmax(q k^T * scale + causal) v} with
     * grouped-query heads: query head {@code h} reads key/value head {@code h / (NH / NKV)}.
     *
     * <p>Shapes: q {@code [B, NH, Tq, HS]}, k and v {@code [B, NKV, Tk, HS]} with {@code Tq <= Tk}
     * (the queries are the last {@code Tq} key steps); the result is {@code [B, NH, Tq, HS]}. The
     * node saves q, k, v, the output and one log-sum-exp per query row; backward recomputes the
     * probabilities.
     *
     * @throws IllegalArgumentException on a shape mismatch, {@code NH} not a multiple of
     *                                  {@code NKV}, {@code Tq > Tk} or a non-finite scale
     */
    public static Tensor causalAttention(Tensor q, Tensor k, Tensor v, float scale) {
        return causalAttention(q, k, v, null, scale);
    }

    /**
     * {@link #causalAttention(Tensor, Tensor, Tensor, float)} with an additive mask
     * {@code [B, Tq, Tk]} (shared by all heads, entries finite or {@code -Infinity}, such as a
     * key-padding mask) added to the scaled scores. The mask is a constant and gets no gradient.
     */
    public static Tensor causalAttention(Tensor q, Tensor k, Tensor v, Tensor mask, float scale) {
        if (q.dim() != 4 || k.dim() != 4 || !Shapes.same(k.shape, v.shape) || q.shape[0] != k.shape[0]
                || q.shape[3] != k.shape[3]) {
            throw new IllegalArgumentException("causalAttention: expected q [B, NH, Tq, HS] and k, v [B, NKV, Tk, HS], got q "
                    + Shapes.str(q.shape) + ", k " + Shapes.str(k.shape) + ", v " + Shapes.str(v.shape));
        }
        int b = q.shape[0];
        int nh = q.shape[1];
        int tq = q.shape[2];
        int hs = q.shape[3];
        int nkv = k.shape[1];
        int tk = k.shape[2];
        if (mask != null && (mask.requiresGrad || !Shapes.same(mask.shape, new int[] {b, tq, tk}))) {
            throw new IllegalArgumentException("causalAttention: the mask must be [B, Tq, Tk] = "
                    + Shapes.str(new int[] {b, tq, tk}) + " and not require grad, got "
                    + Shapes.str(mask.shape) + (mask.requiresGrad ? " requiring grad" : ""));
        }
        Tensor qc = q.contiguous();
        Tensor kc = k.contiguous();
        Tensor vc = v.contiguous();
        Tensor mc = mask == null ? null : mask.contiguous().detach();
        Tensor out = Tensor.zeros(q.shape);
        Tensor lse = Tensor.zeros(b, nh, tq);
        CausalAttention.forward(qc.data, qc.offset, kc.data, kc.offset, vc.data, vc.offset,
                mc == null ? null : mc.data, mc == null ? 0 : mc.offset, out.data, 0, lse.data, 0,
                b, nh, nkv, tq, tk, hs, scale);

        int[] qs = qc.shape.clone();
        int[] ks = kc.shape.clone();
        return Autograd.record(out, "causalAttention", (g, n) -> {
            Tensor dout = g.contiguous();
            Tensor qsaved = n.saved(0);
            Tensor ksaved = n.saved(1);
            Tensor vsaved = n.saved(2);
            Tensor osaved = n.saved(3);
            Tensor msaved = n.saved(5);
            Tensor dq = Tensor.zeros(qs);
            Tensor dk = Tensor.zeros(ks);
            Tensor dv = Tensor.zeros(ks);
            CausalAttention.backward(qsaved.data, qsaved.offset, ksaved.data, ksaved.offset, vsaved.data, vsaved.offset,
                    msaved == null ? null : msaved.data, msaved == null ? 0 : msaved.offset,
                    osaved.data, osaved.offset, n.saved(4).data, 0, dout.data, dout.offset,
                    dq.data, 0, dk.data, 0, dv.data, 0, b, nh, nkv, tq, tk, hs, scale);
            return new Tensor[] {n.needsGrad(0) ? dq : null, n.needsGrad(1) ? dk : null, n.needsGrad(2) ? dv : null};
        }, new Tensor[] {qc, kc, vc}, qc.detach(), kc.detach(), vc.detach(), out.detach(), lse, mc);
    }

    // ---------------------------------------------------------------- embedding

    /**
     * Returns the rows of {@code weight} at {@code ids}, shaped {@code [idsShape..., C]}, as
     * {@code torch.nn.functional.embedding}. Backward adds each row of the gradient into the
     * weight row it came from, so repeated ids accumulate.
     *
     * <p>Shapes: weight {@code [V, C]}, ids {@code [prod(idsShape)]} row-major; an empty
     * {@code idsShape} means {@code [ids.length]}.
     *
     * @throws IllegalArgumentException when an id is outside {@code [0, V)} or idsShape does not
     *                                  hold {@code ids.length} elements
     */
    public static Tensor embedding(Tensor weight, int[] ids, int... idsShape) {
        if (weight.dim() != 2) {
            throw new IllegalArgumentException("embedding: expected weight [V, C], got " + Shapes.str(weight.shape));
        }
        int[] lead = idsShape.length == 0 ? new int[] {ids.length} : idsShape.clone();
        if (Shapes.numel(lead) != ids.length) {
            throw new IllegalArgumentException("embedding: ids shape " + Shapes.str(lead) + " needs "
                    + Shapes.numel(lead) + " ids, got " + ids.length);
        }
        int[] outShape = Arrays.copyOf(lead, lead.length + 1);
        outShape[lead.length] = weight.shape[1];
        return weight.indexSelect(0, ids).view(outShape);
    }
}
