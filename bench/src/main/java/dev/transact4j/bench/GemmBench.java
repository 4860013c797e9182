package dev.transact4j.bench;

import dev.transact4j.tensor.Gemm;
import dev.transact4j.tensor.Parallel;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Time of one {@code C = op(A) * op(B)} ({@link Gemm#sgemm}, alpha 1, beta 0).
 *
 * <p>{@code shape} is {@code MxNxK/TT}: C is [M, N], K the inner dimension, and the two letters
 * say whether A and B are transposed (N = as stored row-major, T = transposed). For a linear
 * layer {@code y = x W^T} with x [T, in] and W [out, in], the forward pass is
 * {@code T x out x in / NT}, the input gradient {@code dX = dY W} is {@code T x in x out / NN}
 * and the weight gradient {@code dW = dY^T X} is {@code out x in x T / TN}. Shapes with M = 1 are
 * the decode-step matrix-vector products. {@code bench/gemm_compare.py} turns the times into
 * GFLOP/s and GB/s.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx6g"})
public class GemmBench {

    @Param({
        // square
        "128x128x128/NN", "256x256x256/NN", "512x512x512/NN", "1024x1024x1024/NN", "2048x2048x2048/NN",
        // small Llama, hidden 256 -> 768: forward, input gradient, weight gradient
        "2048x768x256/NT", "2048x256x768/NN", "768x256x2048/TN",
        // hidden 768 -> 256
        "2048x256x768/NT", "2048x768x256/NN", "256x768x2048/TN",
        // hidden 256 -> vocabulary 8192
        "2048x8192x256/NT", "2048x256x8192/NN", "8192x256x2048/TN",
        // decode step: y = W x with W [N, K] stored row-major, and y = x^T W with W [K, N]
        "1x4096x4096/NT", "1x11008x4096/NT", "1x4096x11008/NT", "1x4096x4096/NN", "1x11008x4096/NN"
    })
    public String shape;

    @Param({"1", "2"})
    public int threads;

    private int m;
    private int n;
    private int k;
    private boolean transA;
    private boolean transB;
    private float[] a;
    private float[] b;
    private float[] c;

    @Setup
    public void setUp() {
        String[] parts = shape.split("/");
        String[] dims = parts[0].split("x");
        m = Integer.parseInt(dims[0]);
        n = Integer.parseInt(dims[1]);
        k = Integer.parseInt(dims[2]);
        transA = parts[1].charAt(0) == 'T';
        transB = parts[1].charAt(1) == 'T';
        Random random = new Random(1);
        a = randomArray(random, m * k);
        b = randomArray(random, k * n);
        c = new float[m * n];
        Parallel.setThreads(threads);
        warmUp();
    }

    /**
     * Compiles the kernels on small products first. Interpreted Vector API code is thousands of
     * times slower than compiled code, and the first call of a large shape would otherwise take
     * most of the warm-up iterations.
     */
    private void warmUp() {
        float[] x = new float[96 * 96];
        float[] y = new float[96 * 96];
        for (int i = 0; i < 300; i++) {
            Gemm.sgemm(transA, transB, 96, 96, 96, 1f, x, 0, 96, x, 0, 96, 0f, y, 0, 96);
            Gemm.sgemm(transA, transB, 1, 96, 96, 1f, x, 0, transA ? 1 : 96, x, 0, 96, 0f, y, 0, 96);
        }
    }

    private static float[] randomArray(Random random, int length) {
        float[] x = new float[length];
        for (int i = 0; i < length; i++) {
            x[i] = random.nextFloat() - 0.5f;
        }
        return x;
    }

    @Benchmark
    public float[] sgemm() {
        Gemm.sgemm(transA, transB, m, n, k, 1f, a, 0, transA ? m : k, b, 0, transB ? k : n, 0f, c, 0, n);
        return c;
    }
}
