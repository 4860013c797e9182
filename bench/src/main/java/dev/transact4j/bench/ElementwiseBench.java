package dev.transact4j.bench;

import dev.transact4j.tensor.Parallel;
import dev.transact4j.tensor.Rng;
import dev.transact4j.tensor.Tensor;
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
 * Element-wise add, a broadcast row add and softmax over a 4096 x 4096 float32 matrix (64 MiB per
 * operand), at 1 and 2 threads.
 *
 * <p>Run: {@code java -jar bench/target/benchmarks.jar ElementwiseBench}. To time the scalar twins,
 * add {@code -jvmArgsAppend "--add-modules jdk.incubator.vector -Xmx2g -Dtransact4j.simd=false"}
 * (JMH replaces the flags of {@code @Fork} with those given on the command line, so repeat them).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(Scope.Benchmark)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx2g"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class ElementwiseBench {

    private static final int SIZE = 4096;

    @Param({"1", "2"})
    public int threads;

    private Tensor a;
    private Tensor b;
    private Tensor row;

    @Setup
    public void setUp() {
        Parallel.setThreads(threads);
        Rng rng = new Rng(1);
        a = Tensor.randn(rng, SIZE, SIZE);
        b = Tensor.randn(rng, SIZE, SIZE);
        row = Tensor.randn(rng, SIZE);
    }

    @Benchmark
    public Tensor add() {
        return a.add(b);
    }

    @Benchmark
    public Tensor addRow() {
        return a.add(row);
    }

    @Benchmark
    public Tensor softmax() {
        return a.softmax();
    }
}
