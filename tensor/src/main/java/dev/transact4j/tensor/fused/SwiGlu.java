package dev.transact4j.tensor.fused;

import dev.transact4j.tensor.Parallel;
import dev.transact4j.tensor.VectorMath;
import java.util.function.Supplier;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The gated activation of the Llama MLP: {@code out = silu(gate) * up}, elementwise, where
 * {@code silu(g) = g * sigmoid(g)} (PyTorch's {@code F.silu(gate) * up}).
 *
 * <p>Dimensions: {@code N} rows (batch x time, flattened), {@code I} intermediate size.
 */
public final class SwiGlu {

    private static final VectorSpecies<Float> SPECIES = Simd.SPECIES;

    private SwiGlu() {
    }

    /**
     * Computes {@code out = silu(gate) * up}.
     *
     * <p>Shapes: gate {@code [N, I]}, up {@code [N, I]}, out {@code [N, I]} (overwritten; may be
     * gate or up itself at the same offset).
     */
    public static void forward(float[] gate, int gateOffset, float[] up, int upOffset,
                               float[] out, int outOffset, int n, int i) {
        forward(gate, gateOffset, up, upOffset, out, outOffset, n, i, Simd.ENABLED);
    }

    /**
     * Adds the gradients of {@link #forward}:
     * {@code dgate += dout * up * s * (1 + gate * (1 - s))} with {@code s = sigmoid(gate)}, and
     * {@code dup += dout * silu(gate)}.
     *
     * <p>Shapes: gate, up, dout, dgate, dup all {@code [N, I]}; dgate and dup are accumulated.
     */
    public static void backward(float[] gate, int gateOffset, float[] up, int upOffset,
                                float[] dout, int doutOffset, float[] dgate, int dgateOffset,
                                float[] dup, int dupOffset, int n, int i) {
        backward(gate, gateOffset, up, upOffset, dout, doutOffset, dgate, dgateOffset, dup, dupOffset, n, i,
                Simd.ENABLED);
    }

    static void forward(float[] gate, int gateOffset, float[] up, int upOffset,
                        float[] out, int outOffset, int n, int i, boolean simd) {
        Supplier<String> shape = () -> "[N=" + n + ", I=" + i + "]";
        Simd.checkPositive("SwiGlu.forward", shape, n, i);
        int total = Simd.size("SwiGlu.forward", (long) n * i);
        Simd.checkRange("SwiGlu.forward", "gate", gate, gateOffset, total, shape);
        Simd.checkRange("SwiGlu.forward", "up", up, upOffset, total, shape);
        Simd.checkRange("SwiGlu.forward", "out", out, outOffset, total, shape);

        // row by row, so that which elements take the scalar tail never depends on the chunking
        Parallel.forRange(0, n, Simd.grain(i), (lo, hi) -> {
            for (int r = lo; r < hi; r++) {
                int start = r * i;
                if (simd) {
                    forwardVector(gate, gateOffset + start, up, upOffset + start, out, outOffset + start, i);
                } else {
                    for (int e = 0; e < i; e++) {
                        float g = gate[gateOffset + start + e];
                        float s = 1f / (1f + (float) Math.exp(-g));
                        out[outOffset + start + e] = g * s * up[upOffset + start + e];
                    }
                }
            }
        });
    }

    static void backward(float[] gate, int gateOffset, float[] up, int upOffset,
                         float[] dout, int doutOffset, float[] dgate, int dgateOffset,
                         float[] dup, int dupOffset, int n, int i, boolean simd) {
        Supplier<String> shape = () -> "[N=" + n + ", I=" + i + "]";
        Simd.checkPositive("SwiGlu.backward", shape, n, i);
        int total = Simd.size("SwiGlu.backward", (long) n * i);
        Simd.checkRange("SwiGlu.backward", "gate", gate, gateOffset, total, shape);
        Simd.checkRange("SwiGlu.backward", "up", up, upOffset, total, shape);
        Simd.checkRange("SwiGlu.backward", "dout", dout, doutOffset, total, shape);
        Simd.checkRange("SwiGlu.backward", "dgate", dgate, dgateOffset, total, shape);
        Simd.checkRange("SwiGlu.backward", "dup", dup, dupOffset, total, shape);

        Parallel.forRange(0, n, Simd.grain(i), (lo, hi) -> {
            float[] sigmoids = simd ? new float[i] : null;
            for (int r = lo; r < hi; r++) {
                int start = r * i;
                if (simd) {
                    sigmoidVector(gate, gateOffset + start, sigmoids, i);
                    backwardVector(gate, gateOffset + start, up, upOffset + start, dout, doutOffset + start,
                            dgate, dgateOffset + start, dup, dupOffset + start, sigmoids, i);
                } else {
                    for (int e = 0; e < i; e++) {
                        float g = gate[gateOffset + start + e];
                        float u = up[upOffset + start + e];
                        float d = dout[doutOffset + start + e];
                        float s = 1f / (1f + (float) Math.exp(-g));
                        dgate[dgateOffset + start + e] += d * u * s * (1f + g * (1f - s));
                        dup[dupOffset + start + e] += d * g * s;
                    }
                }
            }
        });
    }

    private static void forwardVector(float[] gate, int go, float[] up, int uo, float[] out, int oo, int count) {
        int len = SPECIES.length();
        int bound = SPECIES.loopBound(count);
        int e = 0;
        for (; e < bound; e += len) {
            FloatVector g = FloatVector.fromArray(SPECIES, gate, go + e);
            FloatVector s = sigmoid(g);
            g.mul(s).mul(FloatVector.fromArray(SPECIES, up, uo + e)).intoArray(out, oo + e);
        }
        for (; e < count; e++) {
            float g = gate[go + e];
            float s = 1f / (1f + (float) Math.exp(-g));
            out[oo + e] = g * s * up[uo + e];
        }
    }

    /**
     * Stores {@code sigmoid(gate)} of the whole vectors of a row in {@code s[0 ..]}.
     *
     * <p>Kept apart from {@link #backwardVector} because C2 gives up on a method with too many
     * inlined Vector API operations: with the exp inlined beside the gradient arithmetic, the
     * store intrinsics of the gradients failed and each store ran as a plain Java call.
     */
    private static void sigmoidVector(float[] gate, int go, float[] s, int count) {
        int len = SPECIES.length();
        int bound = SPECIES.loopBound(count);
        for (int e = 0; e < bound; e += len) {
            sigmoid(FloatVector.fromArray(SPECIES, gate, go + e)).intoArray(s, e);
        }
    }

    /** Adds the gradients of one row, with the sigmoids of its whole vectors already in {@code sig}. */
    private static void backwardVector(float[] gate, int go, float[] up, int uo, float[] dout, int doo,
                                       float[] dgate, int dgo, float[] dup, int duo, float[] sig, int count) {
        int len = SPECIES.length();
        int bound = SPECIES.loopBound(count);
        FloatVector one = FloatVector.broadcast(SPECIES, 1f);
        int e = 0;
        for (; e < bound; e += len) {
            FloatVector g = FloatVector.fromArray(SPECIES, gate, go + e);
            FloatVector u = FloatVector.fromArray(SPECIES, up, uo + e);
            FloatVector d = FloatVector.fromArray(SPECIES, dout, doo + e);
            FloatVector s = FloatVector.fromArray(SPECIES, sig, e);
            FloatVector dsilu = s.mul(one.add(g.mul(one.sub(s))));
            d.mul(u).mul(dsilu).add(FloatVector.fromArray(SPECIES, dgate, dgo + e)).intoArray(dgate, dgo + e);
            d.mul(g.mul(s)).add(FloatVector.fromArray(SPECIES, dup, duo + e)).intoArray(dup, duo + e);
        }
        for (; e < count; e++) {
            float g = gate[go + e];
            float u = up[uo + e];
            float d = dout[doo + e];
            float s = 1f / (1f + (float) Math.exp(-g));
            dgate[dgo + e] += d * u * s * (1f + g * (1f - s));
            dup[duo + e] += d * g * s;
        }
    }

    private static FloatVector sigmoid(FloatVector g) {
        FloatVector one = FloatVector.broadcast(SPECIES, 1f);
        return one.div(one.add(VectorMath.exp(g.neg())));
    }
}
