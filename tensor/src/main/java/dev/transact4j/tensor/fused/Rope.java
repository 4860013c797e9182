package dev.transact4j.tensor.fused;

import dev.transact4j.tensor.Parallel;
import java.util.function.Supplier;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Rotary position embedding in the rotate-half convention of Hugging Face Llama:
 * {@code out = x * cos[p] + rotate_half(x) * sin[p]} with {@code rotate_half(x) = cat(-x2, x1)},
 * where {@code x1} and {@code x2} are the first and second halves of a head vector and {@code p}
 * is the position of its time step.
 *
 * <p>Dimensions: {@code B} batch, {@code NH} heads, {@code T} time, {@code HS} head size (even),
 * {@code P} rows of the cos/sin tables (the maximum position + 1).
 *
 * <p>Layout: x and out are {@code [B, NH, T, HS]}, the layout of Hugging Face's query and key
 * states after the head transpose and of {@link CausalAttention}'s inputs. The tables are
 * {@code [P, HS]}, row-major from index 0, as Hugging Face builds them (each row contains the
 * angles twice, once per half). Positions come from {@code positionIds [B, T]} when it is not null
 * (Hugging Face's {@code position_ids}), otherwise time step {@code t} sits at position
 * {@code positionOffset + t}, which is what KV-cache decoding needs.
 *
 * <p>Backward applies the transpose of the forward map: for tables that repeat over the two
 * halves, a rotation by the negative angle.
 */
public final class Rope {

    private static final VectorSpecies<Float> SPECIES = Simd.SPECIES;

    private Rope() {
    }

    /**
     * Rotates every head vector of x by the angles of its position.
     *
     * <p>Shapes: x {@code [B, NH, T, HS]}, cos and sin {@code [P, HS]}, positionIds {@code [B, T]}
     * or null, out {@code [B, NH, T, HS]} (overwritten; may be x itself at the same offset).
     *
     * @throws IllegalArgumentException on a shape mismatch, an odd head size, or a position
     *                                  outside {@code [0, P)}
     */
    public static void forward(float[] x, int xOffset, float[] cos, float[] sin, int maxPositions,
                               int[] positionIds, int positionIdsOffset, int positionOffset,
                               float[] out, int outOffset, int b, int nh, int t, int hs) {
        forward(x, xOffset, cos, sin, maxPositions, positionIds, positionIdsOffset, positionOffset,
                out, outOffset, b, nh, t, hs, Simd.ENABLED);
    }

    /**
     * Adds the gradient of {@link #forward} with respect to x to dx.
     *
     * <p>Shapes: cos and sin {@code [P, HS]}, positionIds {@code [B, T]} or null, dout and dx
     * {@code [B, NH, T, HS]}; dx is accumulated.
     */
    public static void backward(float[] cos, float[] sin, int maxPositions,
                                int[] positionIds, int positionIdsOffset, int positionOffset,
                                float[] dout, int doutOffset, float[] dx, int dxOffset, int b, int nh, int t, int hs) {
        backward(cos, sin, maxPositions, positionIds, positionIdsOffset, positionOffset, dout, doutOffset,
                dx, dxOffset, b, nh, t, hs, Simd.ENABLED);
    }

    static void forward(float[] x, int xOffset, float[] cos, float[] sin, int maxPositions,
                        int[] positionIds, int positionIdsOffset, int positionOffset,
                        float[] out, int outOffset, int b, int nh, int t, int hs, boolean simd) {
        rotateRows("Rope.forward", "x", x, xOffset, "out", out, outOffset, cos, sin, maxPositions,
                positionIds, positionIdsOffset, positionOffset, b, nh, t, hs, false, simd);
    }

    static void backward(float[] cos, float[] sin, int maxPositions,
                         int[] positionIds, int positionIdsOffset, int positionOffset,
                         float[] dout, int doutOffset, float[] dx, int dxOffset, int b, int nh, int t, int hs,
                         boolean simd) {
        rotateRows("Rope.backward", "dout", dout, doutOffset, "dx", dx, dxOffset, cos, sin, maxPositions,
                positionIds, positionIdsOffset, positionOffset, b, nh, t, hs, true, simd);
    }

    /**
     * Rotates every row of {@code in} by the angles of its position into {@code out}, or by the
     * transposed rotation ({@code transpose}), which backward applies to the output gradient.
     */
    private static void rotateRows(String op, String inName, float[] in, int inOffset, String outName,
                                   float[] out, int outOffset, float[] cos, float[] sin, int maxPositions,
                                   int[] positionIds, int positionIdsOffset, int positionOffset,
                                   int b, int nh, int t, int hs, boolean transpose, boolean simd) {
        Supplier<String> shape = check(op, cos, sin, maxPositions, positionIds, positionIdsOffset, positionOffset,
                b, nh, t, hs);
        int total = Simd.size(op, (long) b * nh * t * hs);
        Simd.checkRange(op, inName, in, inOffset, total, shape);
        Simd.checkRange(op, outName, out, outOffset, total, shape);

        int rows = b * nh * t;
        Parallel.forRange(0, rows, Simd.grain(hs), (lo, hi) -> {
            for (int row = lo; row < hi; row++) {
                int ti = row % t;
                int bi = row / (nh * t);
                int p = positionIds == null ? positionOffset + ti : positionIds[positionIdsOffset + bi * t + ti];
                int io = inOffset + row * hs;
                int oo = outOffset + row * hs;
                int co = p * hs;
                if (simd) {
                    rotateVector(in, io, cos, sin, co, out, oo, hs, transpose);
                } else {
                    rotateScalar(in, io, cos, sin, co, out, oo, hs, transpose);
                }
            }
        });
    }

    private static Supplier<String> check(String op, float[] cos, float[] sin, int maxPositions, int[] positionIds,
                                          int positionIdsOffset, int positionOffset, int b, int nh, int t, int hs) {
        Supplier<String> shape = () -> "[B=" + b + ", NH=" + nh + ", T=" + t + ", HS=" + hs + "]";
        Simd.checkPositive(op, () -> shape.get() + " with P=" + maxPositions, b, nh, t, hs, maxPositions);
        if (hs % 2 != 0) {
            throw new IllegalArgumentException(op + ": head size must be even to rotate halves, got x " + shape.get());
        }
        Supplier<String> tableShape = () -> "[P=" + maxPositions + ", HS=" + hs + "]";
        long tableSize = Simd.size(op, (long) maxPositions * hs);
        Simd.checkRange(op, "cos", cos, 0, tableSize, tableShape);
        Simd.checkRange(op, "sin", sin, 0, tableSize, tableShape);
        if (positionIds == null) {
            if (positionOffset < 0 || (long) positionOffset + t > maxPositions) {
                long last = (long) positionOffset + t - 1;
                throw new IllegalArgumentException(op + ": positions " + positionOffset + ".." + last
                        + " of x " + shape.get() + " lie outside the cos/sin tables " + tableShape.get());
            }
        } else {
            Simd.checkRange(op, "positionIds", positionIds, positionIdsOffset, (long) b * t,
                    "[B=" + b + ", T=" + t + "]");
            for (int e = 0; e < b * t; e++) {
                int p = positionIds[positionIdsOffset + e];
                if (p < 0 || p >= maxPositions) {
                    throw new IllegalArgumentException(op + ": position id " + p + " at [" + e / t + ", " + e % t
                            + "] lies outside the cos/sin tables " + tableShape.get());
                }
            }
        }
        return shape;
    }

    /**
     * Forward ({@code transpose == false}): {@code out1 = x1*c1 - x2*s1}, {@code out2 = x2*c2 + x1*s2}
     * (overwrites out). Transpose: {@code dx1 += g1*c1 + g2*s2}, {@code dx2 += g2*c2 - g1*s1}.
     */
    private static void rotateVector(float[] x, int xo, float[] cos, float[] sin, int co,
                                     float[] out, int oo, int hs, boolean transpose) {
        int half = hs / 2;
        int len = SPECIES.length();
        int bound = SPECIES.loopBound(half);
        int j = 0;
        for (; j < bound; j += len) {
            FloatVector x1 = FloatVector.fromArray(SPECIES, x, xo + j);
            FloatVector x2 = FloatVector.fromArray(SPECIES, x, xo + half + j);
            FloatVector c1 = FloatVector.fromArray(SPECIES, cos, co + j);
            FloatVector c2 = FloatVector.fromArray(SPECIES, cos, co + half + j);
            FloatVector s1 = FloatVector.fromArray(SPECIES, sin, co + j);
            FloatVector s2 = FloatVector.fromArray(SPECIES, sin, co + half + j);
            if (transpose) {
                FloatVector d1 = x1.mul(c1).add(x2.mul(s2)).add(FloatVector.fromArray(SPECIES, out, oo + j));
                FloatVector d2 = x2.mul(c2).sub(x1.mul(s1)).add(FloatVector.fromArray(SPECIES, out, oo + half + j));
                d1.intoArray(out, oo + j);
                d2.intoArray(out, oo + half + j);
            } else {
                FloatVector o1 = x1.mul(c1).sub(x2.mul(s1));
                FloatVector o2 = x2.mul(c2).add(x1.mul(s2));
                o1.intoArray(out, oo + j);
                o2.intoArray(out, oo + half + j);
            }
        }
        rotateTail(x, xo, cos, sin, co, out, oo, half, j, transpose);
    }

    private static void rotateScalar(float[] x, int xo, float[] cos, float[] sin, int co,
                                     float[] out, int oo, int hs, boolean transpose) {
        rotateTail(x, xo, cos, sin, co, out, oo, hs / 2, 0, transpose);
    }

    private static void rotateTail(float[] x, int xo, float[] cos, float[] sin, int co,
                                   float[] out, int oo, int half, int from, boolean transpose) {
        for (int j = from; j < half; j++) {
            float x1 = x[xo + j];
            float x2 = x[xo + half + j];
            float c1 = cos[co + j];
            float c2 = cos[co + half + j];
            float s1 = sin[co + j];
            float s2 = sin[co + half + j];
            if (transpose) {
                out[oo + j] += x1 * c1 + x2 * s2;
                out[oo + half + j] += x2 * c2 - x1 * s1;
            } else {
                out[oo + j] = x1 * c1 - x2 * s1;
                out[oo + half + j] = x2 * c2 + x1 * s2;
            }
        }
    }
}
