package dev.transact4j.bench;

import dev.transact4j.train.data.Batch;
import dev.transact4j.train.data.DataLoader;
import dev.transact4j.train.data.PackedBlocks;
import dev.transact4j.train.data.TokenDtype;
import dev.transact4j.train.data.TokenFiles;
import dev.transact4j.train.data.TokenSequence;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.SplittableRandom;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Reading training batches from a memory-mapped uint16 token file: one shuffled micro-batch of
 * [batchSize, seqLen], and a full vocabulary scan of the file. The file (32 Mi tokens, 64 MiB) is
 * written to a temporary directory in setup, so it is in the page cache after the first pass.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class DataLoaderBenchmark {

    private static final int TOKENS = 32 << 20;

    @Param({"8"})
    int batchSize;

    @Param({"1024"})
    int seqLen;

    private Path dir;
    private DataLoader loader;

    @Setup(Level.Trial)
    public void writeTokenFile() throws IOException {
        dir = Files.createTempDirectory("transact4j-data-bench");
        Path file = dir.resolve("train.bin");
        SplittableRandom random = new SplittableRandom(1);
        ByteBuffer buffer = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (int i = 0; i < TOKENS; i++) {
                if (!buffer.hasRemaining()) {
                    buffer.flip();
                    out.write(buffer);
                    buffer.clear();
                }
                buffer.putShort((short) random.nextInt(50257));
            }
            buffer.flip();
            out.write(buffer);
        }
        TokenSequence tokens = TokenFiles.open(file, TokenDtype.UINT16);
        loader = new DataLoader(PackedBlocks.pack(tokens, seqLen), batchSize, true, 1234);
    }

    @TearDown(Level.Trial)
    public void deleteTokenFile() throws IOException {
        Files.deleteIfExists(dir.resolve("train.bin"));
        Files.deleteIfExists(dir);
    }

    /** Reads one shuffled micro-batch of batchSize * (seqLen + 1) tokens. */
    @Benchmark
    public Batch nextBatch() {
        return loader.next();
    }

    /**
     * Maps the 32 Mi-token file and scans every id against a GPT-2-sized vocabulary. The file is
     * opened anew each time because a sequence remembers its largest id after one scan.
     */
    @Benchmark
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    public TokenSequence checkVocabularyScan() throws IOException {
        TokenSequence fresh = TokenFiles.open(dir.resolve("train.bin"), TokenDtype.UINT16);
        fresh.checkVocabulary(50257);
        return fresh;
    }
}
