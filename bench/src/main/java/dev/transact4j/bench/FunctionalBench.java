package dev.transact4j.bench;

import dev.transact4j.tensor.Functional;
import dev.transact4j.tensor.Rng;
import dev.transact4j.tensor.Tensor;
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
 * Forward plus backward of the {@link Functional} ops against the same functions composed of
 * primitive tensor ops, at Llama training sizes for T tokens: causal attention (B=1, NH=8, NKV=4,
 * HS=64), RMSNorm over 2048 channels, and cross entropy over a 32000-word vocabulary.
 *
 * <p>Run with {@code java -jar bench/target/benchmarks.jar FunctionalBench}; set the thread count
 * with {@code -jvmArgsAppend "--add-modules jdk.incubator.vector -Dtransact4j.threads=N"}, which
 * replaces the arguments of {@code @Fork} and so repeats the module.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(Scope.Benchmark)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class FunctionalBench {

    private static final int NH = 8;
    private static final int NKV = 4;
    private static final int HS = 64;
    private static final int CHANNELS = 2048;
    private static final int VOCAB = 32000;

    @Param({"256"})
    public int t;

    private Tensor q;
    private Tensor k;
    private Tensor v;
    private Tensor attentionGrad;
    private Tensor future;
    private Tensor x;
    private Tensor weight;
    private Tensor normGrad;
    private Tensor logits;
    private int[] targets;
    private Tensor oneHot;

    @Setup(Level.Trial)
    public void setUp() {
        Rng rng = new Rng(1);
        q = Tensor.randn(rng, 1, NH, t, HS).requiresGrad(true);
        k = Tensor.randn(rng, 1, NKV, t, HS).requiresGrad(true);
        v = Tensor.randn(rng, 1, NKV, t, HS).requiresGrad(true);
        attentionGrad = Tensor.randn(rng, 1, NH, t, HS);
        future = Tensor.ones(t, t).triu(1);
        x = Tensor.randn(rng, t, CHANNELS).requiresGrad(true);
        weight = Tensor.randn(rng, CHANNELS).requiresGrad(true);
        normGrad = Tensor.randn(rng, t, CHANNELS);
        logits = Tensor.randn(rng, t, VOCAB).requiresGrad(true);
        targets = new int[t];
        oneHot = Tensor.zeros(t, VOCAB);
        for (int i = 0; i < t; i++) {
            targets[i] = rng.nextInt(VOCAB);
            oneHot.set(1f, i, targets[i]);
        }
    }

    @Benchmark
    public Tensor attentionFused() {
        q.zeroGrad();
        Functional.causalAttention(q, k, v, 0.125f).backward(attentionGrad);
        return q.grad();
    }

    @Benchmark
    public Tensor attentionComposed() {
        q.zeroGrad();
        int group = NH / NKV;
        Tensor kr = k.unsqueeze(2).expand(1, NKV, group, t, HS).reshape(1, NH, t, HS);
        Tensor vr = v.unsqueeze(2).expand(1, NKV, group, t, HS).reshape(1, NH, t, HS);
        Tensor scores = q.matmul(kr.transpose(-1, -2)).mul(0.125f).maskedFill(future, Float.NEGATIVE_INFINITY);
        scores.softmax().matmul(vr).backward(attentionGrad);
        return q.grad();
    }

    @Benchmark
    public Tensor rmsNormFused() {
        x.zeroGrad();
        Functional.rmsNorm(x, weight, 1e-5f).backward(normGrad);
        return x.grad();
    }

    @Benchmark
    public Tensor rmsNormComposed() {
        x.zeroGrad();
        x.mul(x.mul(x).mean(-1, true).add(1e-5f).rsqrt()).mul(weight).backward(normGrad);
        return x.grad();
    }

    @Benchmark
    public Tensor crossEntropyFused() {
        logits.zeroGrad();
        Functional.crossEntropy(logits, targets, -100).backward();
        return logits.grad();
    }

    @Benchmark
    public Tensor crossEntropyComposed() {
        logits.zeroGrad();
        logits.logSoftmax().mul(oneHot).sum().neg().div(t).backward();
        return logits.grad();
    }
}
