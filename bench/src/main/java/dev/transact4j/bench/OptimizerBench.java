package dev.transact4j.bench;

import dev.transact4j.nn.optim.AdamW;
import dev.transact4j.nn.optim.AdamWState;
import dev.transact4j.nn.optim.GradientClipping;
import dev.transact4j.tensor.Parallel;
import java.util.List;
import java.util.SplittableRandom;
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
 * One AdamW step and one global gradient norm over {@code n} float32 parameters, on one thread.
 * Run once as is and once with
 * {@code -jvmArgsAppend "--add-modules jdk.incubator.vector -Dtransact4j.simd=false"} to compare
 * the Vector API kernels with their scalar twins. {@code -jvmArgsAppend} replaces the arguments of
 * {@code @Fork}, so it repeats the module.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Dtransact4j.threads=1"})
public class OptimizerBench {

    @Param({"1048576"})
    public int n;

    private final AdamW adamw = new AdamW();
    private List<float[]> params;
    private List<float[]> grads;
    private AdamWState state;

    @Setup
    public void setUp() {
        Parallel.setThreads(1);
        SplittableRandom random = new SplittableRandom(1);
        float[] p = new float[n];
        float[] g = new float[n];
        for (int i = 0; i < n; i++) {
            p[i] = (float) random.nextGaussian();
            g[i] = (float) random.nextGaussian() * 1e-3f;
        }
        params = List.of(p);
        grads = List.of(g);
        state = AdamWState.zerosLike(params);
    }

    @Benchmark
    public long adamwStep() {
        adamw.step(params, grads, state, 1e-6);
        return state.step();
    }

    @Benchmark
    public double globalNorm() {
        return GradientClipping.globalNorm(grads);
    }
}
