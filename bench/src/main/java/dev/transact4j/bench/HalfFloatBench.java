package dev.transact4j.bench;

import dev.transact4j.tensor.HalfFloats;
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
 * Bulk conversions between float32 and the 16-bit formats over {@code n} values. Run once as is
 * and once with
 * {@code -jvmArgsAppend "--add-modules jdk.incubator.vector -Dtransact4j.simd=false"} for the
 * scalar bfloat16 twins. {@code -jvmArgsAppend} replaces the arguments of {@code @Fork}, so it
 * repeats the module.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class HalfFloatBench {

    @Param({"1048576"})
    public int n;

    private float[] floats;
    private short[] shorts;
    private float[] floatOut;
    private short[] shortOut;

    @Setup
    public void setUp() {
        SplittableRandom random = new SplittableRandom(2);
        floats = new float[n];
        for (int i = 0; i < n; i++) {
            floats[i] = (float) random.nextGaussian();
        }
        shorts = HalfFloats.floatToHalf(floats);
        floatOut = new float[n];
        shortOut = new short[n];
    }

    @Benchmark
    public float[] bf16ToFloat() {
        HalfFloats.bf16ToFloat(shorts, 0, floatOut, 0, n);
        return floatOut;
    }

    @Benchmark
    public short[] floatToBf16() {
        HalfFloats.floatToBf16(floats, 0, shortOut, 0, n);
        return shortOut;
    }

    @Benchmark
    public float[] halfToFloat() {
        HalfFloats.halfToFloat(shorts, 0, floatOut, 0, n);
        return floatOut;
    }

    @Benchmark
    public short[] floatToHalf() {
        HalfFloats.floatToHalf(floats, 0, shortOut, 0, n);
        return shortOut;
    }
}
