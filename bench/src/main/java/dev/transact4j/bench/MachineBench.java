package dev.transact4j.bench;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Machine limits that the GEMM results are compared with: the FP32 fused multiply-add peak of
 * one core with the preferred vector species, and the memory bandwidth of a large copy and a
 * large read. The {@code 2}-suffixed methods run on two JMH threads at once.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx6g"})
public class MachineBench {

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;

    /** Iterations of the FMA loop; each runs 16 independent vector FMAs. */
    public static final int FMA_STEPS = 1 << 12;

    /** Floats in each array of the bandwidth benchmarks: 256 MiB, far beyond any cache. */
    public static final int STREAM_FLOATS = 64 << 20;

    private float[] source;
    private float[] target;
    private float seed;

    /** Index of the array half that one thread of the {@code 2} variants works on. */
    @State(Scope.Thread)
    public static class Half {
        private static final AtomicInteger NEXT = new AtomicInteger();
        int index;

        @Setup
        public void setUp() {
            index = NEXT.getAndIncrement();
        }
    }

    @Setup
    public void setUp() {
        source = new float[STREAM_FLOATS];
        target = new float[STREAM_FLOATS];
        for (int i = 0; i < STREAM_FLOATS; i += 1024) {
            source[i] = i;
        }
        seed = 1.0001f;
        // Interpreted Vector API code is thousands of times slower than compiled code, and one
        // call over 256 MiB would take the whole warm-up: compile both kernels on small inputs.
        float sink = 0f;
        for (int i = 0; i < 20_000; i++) {
            sink += sum(source, 0, 4096) + fmaLoop(seed, 64);
        }
        seed += sink * 0f;
    }

    @Benchmark
    @OperationsPerInvocation(FMA_STEPS)
    public float fmaPeak() {
        return fmaLoop(seed, FMA_STEPS);
    }

    @Benchmark
    @Threads(2)
    @OperationsPerInvocation(FMA_STEPS)
    public float fmaPeak2() {
        return fmaLoop(seed, FMA_STEPS);
    }

    /** 16 dependency chains of vector FMAs, enough to cover the FMA latency on two ports. */
    private static float fmaLoop(float seed, int steps) {
        FloatVector m = FloatVector.broadcast(SPECIES, 0.9999f);
        FloatVector s0 = FloatVector.broadcast(SPECIES, seed);
        FloatVector s1 = s0.add(1f);
        FloatVector s2 = s0.add(2f);
        FloatVector s3 = s0.add(3f);
        FloatVector s4 = s0.add(4f);
        FloatVector s5 = s0.add(5f);
        FloatVector s6 = s0.add(6f);
        FloatVector s7 = s0.add(7f);
        FloatVector s8 = s0.add(8f);
        FloatVector s9 = s0.add(9f);
        FloatVector s10 = s0.add(10f);
        FloatVector s11 = s0.add(11f);
        FloatVector s12 = s0.add(12f);
        FloatVector s13 = s0.add(13f);
        FloatVector s14 = s0.add(14f);
        FloatVector s15 = s0.add(15f);
        for (int i = 0; i < steps; i++) {
            s0 = s0.fma(m, m);
            s1 = s1.fma(m, m);
            s2 = s2.fma(m, m);
            s3 = s3.fma(m, m);
            s4 = s4.fma(m, m);
            s5 = s5.fma(m, m);
            s6 = s6.fma(m, m);
            s7 = s7.fma(m, m);
            s8 = s8.fma(m, m);
            s9 = s9.fma(m, m);
            s10 = s10.fma(m, m);
            s11 = s11.fma(m, m);
            s12 = s12.fma(m, m);
            s13 = s13.fma(m, m);
            s14 = s14.fma(m, m);
            s15 = s15.fma(m, m);
        }
        FloatVector sum = s0.add(s1).add(s2).add(s3).add(s4).add(s5).add(s6).add(s7)
                .add(s8).add(s9).add(s10).add(s11).add(s12).add(s13).add(s14).add(s15);
        return sum.reduceLanes(VectorOperators.ADD);
    }

    @Benchmark
    public float[] copy() {
        System.arraycopy(source, 0, target, 0, STREAM_FLOATS);
        return target;
    }

    @Benchmark
    @Threads(2)
    public float[] copy2(Half half) {
        int h = STREAM_FLOATS / 2;
        int start = (half.index & 1) * h;
        System.arraycopy(source, start, target, start, h);
        return target;
    }

    @Benchmark
    public float read() {
        return sum(source, 0, STREAM_FLOATS);
    }

    @Benchmark
    @Threads(2)
    public float read2(Half half) {
        int h = STREAM_FLOATS / 2;
        return sum(source, (half.index & 1) * h, h);
    }

    private static float sum(float[] x, int start, int length) {
        FloatVector s0 = FloatVector.zero(SPECIES);
        FloatVector s1 = s0;
        FloatVector s2 = s0;
        FloatVector s3 = s0;
        int step = 4 * SPECIES.length();
        int end = start + length;
        int i = start;
        for (; i + step <= end; i += step) {
            s0 = s0.add(FloatVector.fromArray(SPECIES, x, i));
            s1 = s1.add(FloatVector.fromArray(SPECIES, x, i + SPECIES.length()));
            s2 = s2.add(FloatVector.fromArray(SPECIES, x, i + 2 * SPECIES.length()));
            s3 = s3.add(FloatVector.fromArray(SPECIES, x, i + 3 * SPECIES.length()));
        }
        float total = s0.add(s1).add(s2).add(s3).reduceLanes(VectorOperators.ADD);
        for (; i < end; i++) {
            total += x[i];
        }
        return total;
    }
}
