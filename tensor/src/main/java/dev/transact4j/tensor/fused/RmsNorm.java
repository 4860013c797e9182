package dev.transact4j.tensor.fused;

import dev.transact4j.tensor.Parallel;
import dev.transact4j.tensor.VectorMath;
import java.util.function.Supplier;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Root-mean-square layer normalisation, as Hugging Face's {@code LlamaRMSNorm} computes it in
 * float32: {@code y = weight * (x * rsqrt(mean(x^2) + eps))}.
 *
 * <p>Dimensions: {@code N} rows (batch x time, flattened), {@code C} channels.
 *
 * <p>Forward saves {@code rstd [N] = rsqrt(mean(x^2) + eps)}. Backward accumulates into dx and
 * dweight. The dweight reduction over rows runs over fixed blocks of {@value #ROWS_PER_BLOCK}
 * rows whose partial sums are added in block order, so the result does not depend on the thread
 * count.
 */
public final class RmsNorm {

    private static final VectorSpecies<Float> SPECIES = Simd.SPECIES;

    /** Rows per partial dweight sum; fixed so that the summation order never changes. */
    static final int ROWS_PER_BLOCK = 32;

    private RmsNorm() {
    }

    /**
     * Normalises each row of x.
     *
     * <p>Shapes: x {@code [N, C]}, weight {@code [C]}, y {@code [N, C]} (overwritten; may be x
     * itself at the same offset), rstd {@code [N]} (overwritten).
     *
     * @throws IllegalArgumentException when a shape does not fit its array or eps is negative
     */
    public static void forward(float[] x, int xOffset, float[] weight, int weightOffset,
                               float[] y, int yOffset, float[] rstd, int rstdOffset, int n, int c, float eps) {
        forward(x, xOffset, weight, weightOffset, y, yOffset, rstd, rstdOffset, n, c, eps, Simd.ENABLED);
    }

    /**
     * Adds the gradients of {@link #forward} to dx and dweight.
     *
     * <p>Shapes: x {@code [N, C]}, weight {@code [C]}, rstd {@code [N]} from forward, dy
     * {@code [N, C]}, dx {@code [N, C]} (accumulated), dweight {@code [C]} (accumulated).
     * With {@code r = rstd[row]}: {@code dx = r * dy * weight - x * r^3 / C * sum(dy * weight * x)}
     * and {@code dweight += dy * x * r} summed over rows.
     */
    public static void backward(float[] x, int xOffset, float[] weight, int weightOffset,
                                float[] rstd, int rstdOffset, float[] dy, int dyOffset,
                                float[] dx, int dxOffset, float[] dweight, int dweightOffset, int n, int c) {
        backward(x, xOffset, weight, weightOffset, rstd, rstdOffset, dy, dyOffset, dx, dxOffset,
                dweight, dweightOffset, n, c, Simd.ENABLED);
    }

    static void forward(float[] x, int xOffset, float[] weight, int weightOffset,
                        float[] y, int yOffset, float[] rstd, int rstdOffset, int n, int c, float eps, boolean simd) {
        checkCommon("RmsNorm.forward", x, xOffset, weight, weightOffset, rstd, rstdOffset, n, c);
        Simd.checkRange("RmsNorm.forward", "y", y, yOffset, (long) n * c, () -> "[N=" + n + ", C=" + c + "]");
        if (!(eps >= 0f) || Float.isInfinite(eps)) {
            throw new IllegalArgumentException("RmsNorm.forward: eps must be a finite number >= 0, got " + eps);
        }

        Parallel.forRange(0, n, Simd.grain(c), (lo, hi) -> {
            for (int r = lo; r < hi; r++) {
                int xr = xOffset + r * c;
                int yr = yOffset + r * c;
                float sumSquares = simd ? Simd.dotVector(x, xr, x, xr, c) : Simd.dotScalar(x, xr, x, xr, c);
                float s = (float) (1.0 / Math.sqrt(sumSquares / c + eps));
                rstd[rstdOffset + r] = s;
                if (simd) {
                    scaleRowVector(x, xr, s, weight, weightOffset, y, yr, c);
                } else {
                    for (int j = 0; j < c; j++) {
                        y[yr + j] = weight[weightOffset + j] * (x[xr + j] * s);
                    }
                }
            }
        });
    }

    static void backward(float[] x, int xOffset, float[] weight, int weightOffset,
                         float[] rstd, int rstdOffset, float[] dy, int dyOffset,
                         float[] dx, int dxOffset, float[] dweight, int dweightOffset, int n, int c, boolean simd) {
        Supplier<String> shape = () -> "[N=" + n + ", C=" + c + "]";
        checkCommon("RmsNorm.backward", x, xOffset, weight, weightOffset, rstd, rstdOffset, n, c);
        Simd.checkRange("RmsNorm.backward", "dy", dy, dyOffset, (long) n * c, shape);
        Simd.checkRange("RmsNorm.backward", "dx", dx, dxOffset, (long) n * c, shape);
        Simd.checkRange("RmsNorm.backward", "dweight", dweight, dweightOffset, c, () -> "[C=" + c + "]");

        // dx row by row, and one partial dweight per fixed block of rows
        int blocks = (n + ROWS_PER_BLOCK - 1) / ROWS_PER_BLOCK;
        float[] partial = new float[Simd.size("RmsNorm.backward", (long) blocks * c)];
        Parallel.forRange(0, blocks, Math.max(1, Simd.grain(c) / ROWS_PER_BLOCK), (lo, hi) -> {
            for (int block = lo; block < hi; block++) {
                int end = Math.min(n, (block + 1) * ROWS_PER_BLOCK);
                for (int r = block * ROWS_PER_BLOCK; r < end; r++) {
                    if (simd) {
                        rowBackwardVector(x, xOffset + r * c, weight, weightOffset, rstd[rstdOffset + r],
                                dy, dyOffset + r * c, dx, dxOffset + r * c, partial, block * c, c);
                    } else {
                        rowBackwardScalar(x, xOffset + r * c, weight, weightOffset, rstd[rstdOffset + r],
                                dy, dyOffset + r * c, dx, dxOffset + r * c, partial, block * c, c);
                    }
                }
            }
        });

        // partial sums added in block order
        for (int block = 0; block < blocks; block++) {
            for (int j = 0; j < c; j++) {
                dweight[dweightOffset + j] += partial[block * c + j];
            }
        }
    }

    private static void checkCommon(String op, float[] x, int xOffset, float[] weight, int weightOffset,
                                    float[] rstd, int rstdOffset, int n, int c) {
        Supplier<String> shape = () -> "[N=" + n + ", C=" + c + "]";
        Simd.checkPositive(op, shape, n, c);
        Simd.checkRange(op, "x", x, xOffset, Simd.size(op, (long) n * c), shape);
        Simd.checkRange(op, "weight", weight, weightOffset, c, () -> "[C=" + c + "]");
        Simd.checkRange(op, "rstd", rstd, rstdOffset, n, () -> "[N=" + n + "]");
    }

    private static void scaleRowVector(float[] x, int xr, float s, float[] w, int wo, float[] y, int yr, int c) {
        int len = SPECIES.length();
        int bound = SPECIES.loopBound(c);
        int j = 0;
        for (; j < bound; j += len) {
            FloatVector xs = FloatVector.fromArray(SPECIES, x, xr + j).mul(s);
            FloatVector.fromArray(SPECIES, w, wo + j).mul(xs).intoArray(y, yr + j);
        }
        for (; j < c; j++) {
            y[yr + j] = w[wo + j] * (x[xr + j] * s);
        }
    }

    private static void rowBackwardVector(float[] x, int xr, float[] w, int wo, float r, float[] dy, int dyr,
                                          float[] dx, int dxr, float[] dw, int dwr, int c) {
        int len = SPECIES.length();
        int bound = SPECIES.loopBound(c);

        // sum(dy * w * x), two accumulators
        int bound2 = c - c % (2 * len);
        FloatVector s0 = FloatVector.zero(SPECIES);
        FloatVector s1 = FloatVector.zero(SPECIES);
        int j = 0;
        for (; j < bound2; j += 2 * len) {
            FloatVector g0 = FloatVector.fromArray(SPECIES, dy, dyr + j).mul(FloatVector.fromArray(SPECIES, w, wo + j));
            s0 = g0.fma(FloatVector.fromArray(SPECIES, x, xr + j), s0);
            FloatVector g1 = FloatVector.fromArray(SPECIES, dy, dyr + j + len)
                    .mul(FloatVector.fromArray(SPECIES, w, wo + j + len));
            s1 = g1.fma(FloatVector.fromArray(SPECIES, x, xr + j + len), s1);
        }
        for (; j < bound; j += len) {
            FloatVector g0 = FloatVector.fromArray(SPECIES, dy, dyr + j).mul(FloatVector.fromArray(SPECIES, w, wo + j));
            s0 = g0.fma(FloatVector.fromArray(SPECIES, x, xr + j), s0);
        }
        float dot = VectorMath.sumLanes(s0.add(s1));
        for (; j < c; j++) {
            dot += dy[dyr + j] * w[wo + j] * x[xr + j];
        }

        // dx += r * dy * w - k * x with k = r^3 / C * dot; dw += dy * x * r
        float k = r * r * r / c * dot;
        j = 0;
        for (; j < bound; j += len) {
            FloatVector xv = FloatVector.fromArray(SPECIES, x, xr + j);
            FloatVector dyv = FloatVector.fromArray(SPECIES, dy, dyr + j);
            FloatVector wv = FloatVector.fromArray(SPECIES, w, wo + j);
            FloatVector dxv = dyv.mul(wv).mul(r).sub(xv.mul(k)).add(FloatVector.fromArray(SPECIES, dx, dxr + j));
            dxv.intoArray(dx, dxr + j);
            FloatVector dwv = FloatVector.fromArray(SPECIES, dw, dwr + j);
            dyv.mul(xv).fma(FloatVector.broadcast(SPECIES, r), dwv).intoArray(dw, dwr + j);
        }
        for (; j < c; j++) {
            dx[dxr + j] += dy[dyr + j] * w[wo + j] * r - x[xr + j] * k;
            dw[dwr + j] += dy[dyr + j] * x[xr + j] * r;
        }
    }

    private static void rowBackwardScalar(float[] x, int xr, float[] w, int wo, float r, float[] dy, int dyr,
                                          float[] dx, int dxr, float[] dw, int dwr, int c) {
        float dot = 0f;
        for (int j = 0; j < c; j++) {
            dot += dy[dyr + j] * w[wo + j] * x[xr + j];
        }
        float k = r * r * r / c * dot;
        for (int j = 0; j < c; j++) {
            dx[dxr + j] += dy[dyr + j] * w[wo + j] * r - x[xr + j] * k;
            dw[dwr + j] += dy[dyr + j] * x[xr + j] * r;
        }
    }
}
