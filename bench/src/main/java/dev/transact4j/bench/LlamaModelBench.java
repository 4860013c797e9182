package dev.transact4j.bench;

import dev.transact4j.llama.LlamaConfig;
import dev.transact4j.llama.LlamaForCausalLM;
import dev.transact4j.llama.LlamaKvCache;
import dev.transact4j.tensor.Tensor;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The whole Llama model at the "tiny" preset ({@link LlamaConfig#tiny()}: hidden 256, 4 layers,
 * 8 heads, MLP 688, vocabulary 8192, 7.4 M parameters): a training step (forward with loss and
 * backward) over one sequence of {@value #SEQ_LEN} tokens, a prefill of {@value #SEQ_LEN} tokens
 * into a KV cache, and one decoding step after {@value #SEQ_LEN} cached tokens.
 *
 * <p>Tokens per second are {@value #SEQ_LEN} divided by the time of a training step or prefill,
 * and 1 divided by the time of a decoding step. Set the thread count with
 * {@code -jvmArgsAppend "--add-modules jdk.incubator.vector -Xmx2g -Dtransact4j.threads=N"},
 * which replaces the arguments of {@code @Fork} and so repeats them.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(Scope.Benchmark)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx2g"})
public class LlamaModelBench {

    static final int SEQ_LEN = 128;

    private LlamaForCausalLM model;
    private int[] ids;
    private LlamaKvCache decodeCache;
    private LlamaKvCache prefillCache;

    @Setup(Level.Trial)
    public void setUp() {
        LlamaConfig config = LlamaConfig.tiny();
        model = LlamaForCausalLM.initialize(config, 1);
        Random random = new Random(1);
        ids = new int[SEQ_LEN];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = random.nextInt(config.vocabSize());
        }
        decodeCache = model.newCache(1, SEQ_LEN + 1);
        model.forward(ids, 1, SEQ_LEN, decodeCache, false);
        prefillCache = model.newCache(1, SEQ_LEN);
    }

    @Benchmark
    public float trainingStep() {
        model.zeroGrad();
        LlamaForCausalLM.Output out = model.forward(ids, ids, 1, SEQ_LEN);
        out.loss().backward();
        return out.loss().item();
    }

    @Benchmark
    public Tensor prefill() {
        prefillCache.clear();
        return model.forward(ids, 1, SEQ_LEN, prefillCache, false);
    }

    @Benchmark
    public Tensor decodeStep() {
        decodeCache.truncate(SEQ_LEN);
        return model.decode(new int[] {ids[0]}, decodeCache);
    }
}
