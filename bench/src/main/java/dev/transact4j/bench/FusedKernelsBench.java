package dev.transact4j.bench;

import dev.transact4j.tensor.fused.CausalAttention;
import dev.transact4j.tensor.fused.CrossEntropy;
import dev.transact4j.tensor.fused.RmsNorm;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Fused kernels at Llama training sizes: causal attention (B=1, NH=8, NKV=4, HS=64) at T tokens,
 * cross entropy over a 32000-word vocabulary and RMSNorm over 2048 channels for T rows.
 *
 * <p>Run the scalar twins with
 * {@code -jvmArgsAppend "--add-modules jdk.incubator.vector -Dtransact4j.simd=false"} and set the
 * thread count with
 * {@code -jvmArgsAppend "--add-modules jdk.incubator.vector -Dtransact4j.threads=N"}.
 * {@code -jvmArgsAppend} replaces the arguments of {@code @Fork}, so it repeats the module.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(Scope.Benchmark)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class FusedKernelsBench {

    private static final int NH = 8;
    private static final int NKV = 4;
    private static final int HS = 64;
    private static final int VOCAB = 32000;
    private static final int CHANNELS = 2048;

    @Param({"256", "1024"})
    public int t;

    private float[] q;
    private float[] k;
    private float[] v;
    private float[] out;
    private float[] lse;
    private float[] dout;
    private float[] dq;
    private float[] dk;
    private float[] dv;
    private float[] logits;
    private int[] targets;
    private float[] rowLse;
    private float[] dlogits;
    private float[] x;
    private float[] weight;
    private float[] y;
    private float[] rstd;
    private float[] dx;
    private float[] dweight;

    @Setup(Level.Trial)
    public void setUp() {
        Random random = new Random(1);
        q = gaussian(random, NH * t * HS);
        k = gaussian(random, NKV * t * HS);
        v = gaussian(random, NKV * t * HS);
        dout = gaussian(random, NH * t * HS);
        out = new float[NH * t * HS];
        lse = new float[NH * t];
        dq = new float[q.length];
        dk = new float[k.length];
        dv = new float[v.length];
        CausalAttention.forward(q, 0, k, 0, v, 0, null, 0, out, 0, lse, 0, 1, NH, NKV, t, t, HS,
                CausalAttention.defaultScale(HS));

        logits = gaussian(random, t * VOCAB);
        targets = new int[t];
        for (int r = 0; r < t; r++) {
            targets[r] = random.nextInt(VOCAB);
        }
        rowLse = new float[t];
        dlogits = new float[t * VOCAB];

        x = gaussian(random, t * CHANNELS);
        weight = gaussian(random, CHANNELS);
        y = new float[t * CHANNELS];
        rstd = new float[t];
        dx = new float[t * CHANNELS];
        dweight = new float[CHANNELS];
        RmsNorm.forward(x, 0, weight, 0, y, 0, rstd, 0, t, CHANNELS, 1e-5f);
    }

    @Benchmark
    public float[] attentionForward() {
        CausalAttention.forward(q, 0, k, 0, v, 0, null, 0, out, 0, lse, 0, 1, NH, NKV, t, t, HS,
                CausalAttention.defaultScale(HS));
        return out;
    }

    @Benchmark
    public float[] attentionBackward() {
        CausalAttention.backward(q, 0, k, 0, v, 0, null, 0, out, 0, lse, 0, dout, 0, dq, 0, dk, 0, dv, 0,
                1, NH, NKV, t, t, HS, CausalAttention.defaultScale(HS));
        return dq;
    }

    @Benchmark
    public float[] crossEntropyForwardBackward() {
        CrossEntropy.forward(logits, 0, targets, 0, rowLse, 0, t, VOCAB, CrossEntropy.DEFAULT_IGNORE_INDEX, t);
        CrossEntropy.backward(logits, 0, targets, 0, rowLse, 0, 1f, dlogits, 0, t, VOCAB,
                CrossEntropy.DEFAULT_IGNORE_INDEX, t, false);
        return dlogits;
    }

    @Benchmark
    public float[] rmsNormForwardBackward() {
        RmsNorm.forward(x, 0, weight, 0, y, 0, rstd, 0, t, CHANNELS, 1e-5f);
        RmsNorm.backward(x, 0, weight, 0, rstd, 0, y, 0, dx, 0, dweight, 0, t, CHANNELS);
        return dx;
    }

    private static float[] gaussian(Random random, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) random.nextGaussian();
        }
        return a;
    }
}
