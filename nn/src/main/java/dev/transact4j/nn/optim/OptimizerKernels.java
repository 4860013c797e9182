package dev.transact4j.nn.optim;

import dev.transact4j.tensor.Simd;
import dev.transact4j.tensor.VectorMath;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Element-wise optimiser updates and the gradient norm on float32 arrays, each as a Vector API
 * kernel with a scalar twin that performs the same operations in the same order, so both give the
 * same bits.
 *
 * <p>Every step of the form {@code a + alpha * b} is a fused multiply-add, because torch's CPU
 * {@code add_(other, alpha=...)} kernel computes it with {@code vec::fmadd}; the other steps round
 * after each operation, as torch's {@code mul_}, {@code addcmul_} and {@code addcdiv_} do.
 *
 * <p>Every kernel works on the index range {@code [from, to)} of its arrays. The system property
 * {@code transact4j.simd=false} makes the public entry points use the scalar twins.
 */
public final class OptimizerKernels {

    /** System property that turns the Vector API paths on ({@code true}, default) or off. */
    public static final String SIMD_PROPERTY = Simd.PROPERTY;

    /** Whether the entry points take the Vector API path. */
    public static final boolean SIMD = Simd.parseProperty(System.getProperty(SIMD_PROPERTY));

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Doubles, one lane per float of {@link #F_HALF}, for sums of squares in double. */
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Float> F_HALF =
            VectorSpecies.of(float.class, VectorShape.forBitSize(D.vectorBitSize() / 2));

    private OptimizerKernels() {
    }

    /**
     * Scalar factors of one AdamW step, rounded to float32 once as torch does when it applies a
     * Python float to a float32 tensor.
     *
     * @param decay       {@code 1 - lr * weight_decay}
     * @param stepSize    {@code lr / (1 - beta1^t)}
     * @param bias2Sqrt   {@code sqrt(1 - beta2^t)}
     */
    public record AdamWFactors(float decay, float beta1, float oneMinusBeta1, float beta2, float oneMinusBeta2,
                               float bias2Sqrt, float eps, float stepSize) {

        /** Computes the factors of step {@code t} (1 for the first step) in double, as torch does. */
        public static AdamWFactors of(long t, double lr, double beta1, double beta2, double eps, double weightDecay) {
            double bias1 = 1 - Math.pow(beta1, t);
            double bias2 = 1 - Math.pow(beta2, t);
            return new AdamWFactors((float) (1 - lr * weightDecay), (float) beta1, (float) (1 - beta1),
                    (float) beta2, (float) (1 - beta2), (float) Math.sqrt(bias2), (float) eps, (float) (lr / bias1));
        }
    }

    /**
     * Applies one AdamW step to {@code p[from, to)}, in torch.optim.AdamW's order:
     * {@code p *= decay; m = beta1*m + (1-beta1)*g} (fused); {@code v = beta2*v + (1-beta2)*g*g;
     * p -= stepSize*m / (sqrt(v)/bias2Sqrt + eps)}.
     */
    public static void adamw(float[] p, float[] g, float[] m, float[] v, int from, int to, AdamWFactors k) {
        if (SIMD) {
            adamwVector(p, g, m, v, from, to, k);
        } else {
            adamwScalar(p, g, m, v, from, to, k);
        }
    }

    static void adamwVector(float[] p, float[] g, float[] m, float[] v, int from, int to, AdamWFactors k) {
        FloatVector decay = FloatVector.broadcast(F, k.decay());
        FloatVector beta1 = FloatVector.broadcast(F, k.beta1());
        FloatVector oneMinusBeta1 = FloatVector.broadcast(F, k.oneMinusBeta1());
        FloatVector beta2 = FloatVector.broadcast(F, k.beta2());
        FloatVector oneMinusBeta2 = FloatVector.broadcast(F, k.oneMinusBeta2());
        FloatVector bias2Sqrt = FloatVector.broadcast(F, k.bias2Sqrt());
        FloatVector eps = FloatVector.broadcast(F, k.eps());
        FloatVector stepSize = FloatVector.broadcast(F, k.stepSize());
        int i = from;
        int bound = from + F.loopBound(to - from);
        for (; i < bound; i += F.length()) {
            FloatVector gi = FloatVector.fromArray(F, g, i);
            FloatVector pi = FloatVector.fromArray(F, p, i).mul(decay);
            FloatVector mi = gi.fma(oneMinusBeta1, FloatVector.fromArray(F, m, i).mul(beta1));
            FloatVector vi = FloatVector.fromArray(F, v, i).mul(beta2).add(gi.mul(oneMinusBeta2).mul(gi));
            FloatVector denom = vi.sqrt().div(bias2Sqrt).add(eps);
            pi = pi.sub(mi.mul(stepSize).div(denom));
            mi.intoArray(m, i);
            vi.intoArray(v, i);
            pi.intoArray(p, i);
        }
        adamwScalar(p, g, m, v, i, to, k);
    }

    static void adamwScalar(float[] p, float[] g, float[] m, float[] v, int from, int to, AdamWFactors k) {
        for (int i = from; i < to; i++) {
            float gi = g[i];
            float pi = p[i] * k.decay();
            float mi = Math.fma(gi, k.oneMinusBeta1(), m[i] * k.beta1());
            float vi = v[i] * k.beta2() + gi * k.oneMinusBeta2() * gi;
            float denom = (float) Math.sqrt(vi) / k.bias2Sqrt() + k.eps();
            m[i] = mi;
            v[i] = vi;
            p[i] = pi - mi * k.stepSize() / denom;
        }
    }

    /**
     * Applies one SGD step to {@code p[from, to)} with torch.optim.SGD's semantics:
     * {@code d = g + weightDecay*p}; with momentum, {@code buf = d} on the first step and
     * {@code buf = momentum*buf + (1-dampening)*d} after, then {@code d = buf}, or
     * {@code d = d + momentum*buf} for Nesterov; finally {@code p -= lr*d}. Without momentum
     * {@code buf} is not touched and may be empty.
     */
    public static void sgd(float[] p, float[] g, float[] buf, int from, int to, float lr, float momentum,
                           float dampening, float weightDecay, boolean nesterov, boolean firstStep) {
        if (SIMD) {
            sgdVector(p, g, buf, from, to, lr, momentum, dampening, weightDecay, nesterov, firstStep);
        } else {
            sgdScalar(p, g, buf, from, to, lr, momentum, dampening, weightDecay, nesterov, firstStep);
        }
    }

    static void sgdVector(float[] p, float[] g, float[] buf, int from, int to, float lr, float momentum,
                          float dampening, float weightDecay, boolean nesterov, boolean firstStep) {
        FloatVector decayV = FloatVector.broadcast(F, weightDecay);
        FloatVector momentumV = FloatVector.broadcast(F, momentum);
        FloatVector keepV = FloatVector.broadcast(F, 1 - dampening);
        FloatVector minusLr = FloatVector.broadcast(F, -lr);
        int i = from;
        int bound = from + F.loopBound(to - from);
        for (; i < bound; i += F.length()) {
            FloatVector pi = FloatVector.fromArray(F, p, i);
            FloatVector d = FloatVector.fromArray(F, g, i);
            if (weightDecay != 0f) {
                d = pi.fma(decayV, d);
            }
            if (momentum != 0f) {
                FloatVector b = firstStep ? d : d.fma(keepV, FloatVector.fromArray(F, buf, i).mul(momentumV));
                b.intoArray(buf, i);
                d = nesterov ? b.fma(momentumV, d) : b;
            }
            d.fma(minusLr, pi).intoArray(p, i);
        }
        sgdScalar(p, g, buf, i, to, lr, momentum, dampening, weightDecay, nesterov, firstStep);
    }

    static void sgdScalar(float[] p, float[] g, float[] buf, int from, int to, float lr, float momentum,
                          float dampening, float weightDecay, boolean nesterov, boolean firstStep) {
        float keep = 1 - dampening;
        for (int i = from; i < to; i++) {
            float d = g[i];
            if (weightDecay != 0f) {
                d = Math.fma(p[i], weightDecay, d);
            }
            if (momentum != 0f) {
                float b = firstStep ? d : Math.fma(d, keep, buf[i] * momentum);
                buf[i] = b;
                d = nesterov ? Math.fma(b, momentum, d) : b;
            }
            p[i] = Math.fma(d, -lr, p[i]);
        }
    }

    /** Returns the sum of squares of {@code x[from, to)}, accumulated in double. */
    public static double sumOfSquares(float[] x, int from, int to) {
        return SIMD ? sumOfSquaresVector(x, from, to) : sumOfSquaresScalar(x, from, to);
    }

    static double sumOfSquaresVector(float[] x, int from, int to) {
        // Each float lane widens to a double lane before squaring, so no precision is lost.
        int len = F_HALF.length();
        DoubleVector acc0 = DoubleVector.zero(D);
        DoubleVector acc1 = DoubleVector.zero(D);
        DoubleVector acc2 = DoubleVector.zero(D);
        DoubleVector acc3 = DoubleVector.zero(D);
        int i = from;
        int bound4 = from + (to - from) / (4 * len) * (4 * len);
        for (; i < bound4; i += 4 * len) {
            DoubleVector x0 = (DoubleVector) FloatVector.fromArray(F_HALF, x, i).convertShape(VectorOperators.F2D, D, 0);
            DoubleVector x1 = (DoubleVector) FloatVector.fromArray(F_HALF, x, i + len).convertShape(VectorOperators.F2D, D, 0);
            DoubleVector x2 = (DoubleVector) FloatVector.fromArray(F_HALF, x, i + 2 * len).convertShape(VectorOperators.F2D, D, 0);
            DoubleVector x3 = (DoubleVector) FloatVector.fromArray(F_HALF, x, i + 3 * len).convertShape(VectorOperators.F2D, D, 0);
            acc0 = x0.fma(x0, acc0);
            acc1 = x1.fma(x1, acc1);
            acc2 = x2.fma(x2, acc2);
            acc3 = x3.fma(x3, acc3);
        }
        double sum = VectorMath.sumLanes(acc0.add(acc1).add(acc2.add(acc3)));
        for (; i < to; i++) {
            double xi = x[i];
            sum += xi * xi;
        }
        return sum;
    }

    static double sumOfSquaresScalar(float[] x, int from, int to) {
        double sum = 0;
        for (int i = from; i < to; i++) {
            double xi = x[i];
            sum += xi * xi;
        }
        return sum;
    }

    /** Multiplies {@code x[from, to)} by {@code factor}. */
    public static void scale(float[] x, int from, int to, float factor) {
        if (SIMD) {
            int i = from;
            int bound = from + F.loopBound(to - from);
            for (; i < bound; i += F.length()) {
                FloatVector.fromArray(F, x, i).mul(factor).intoArray(x, i);
            }
            for (; i < to; i++) {
                x[i] *= factor;
            }
        } else {
            for (int i = from; i < to; i++) {
                x[i] *= factor;
            }
        }
    }
}
