package dev.transact4j.bench;

import dev.transact4j.nn.safetensors.DType;
import dev.transact4j.nn.safetensors.SafeTensorsFile;
import dev.transact4j.nn.safetensors.SafeTensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Reading one tensor of {@code n} elements from a safetensors file in the page cache, stored as
 * F32 and as BF16, into a new float array; and writing both to a new file.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class SafeTensorsBench {

    @Param({"16777216"})
    public int n;

    private Path dir;
    private Path file;
    private SafeTensorsFile reader;
    private float[] values;

    @Setup
    public void setUp() throws IOException {
        SplittableRandom random = new SplittableRandom(3);
        values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) random.nextGaussian();
        }
        dir = Files.createTempDirectory("safetensors-bench");
        file = dir.resolve("model.safetensors");
        new SafeTensorsWriter()
                .add("f32", values, new int[] {n})
                .add("bf16", values, new int[] {n}, DType.BF16)
                .write(file);
        reader = SafeTensorsFile.open(file);
    }

    @TearDown
    public void tearDown() throws IOException {
        reader.close();
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    @Benchmark
    public float[] readF32() throws IOException {
        return reader.readFloat32("f32");
    }

    @Benchmark
    public float[] readBf16() throws IOException {
        return reader.readFloat32("bf16");
    }

    @Benchmark
    public long writeF32AndBf16() throws IOException {
        Path out = dir.resolve("out.safetensors");
        new SafeTensorsWriter()
                .add("f32", values, new int[] {n})
                .add("bf16", values, new int[] {n}, DType.BF16)
                .write(out);
        return Files.size(out);
    }
}
