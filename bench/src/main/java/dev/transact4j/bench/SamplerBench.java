package dev.transact4j.bench;

import dev.transact4j.llama.inference.Sampler;
import dev.transact4j.llama.inference.SamplingOptions;
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
 * Time to choose one token from the logits of one position, for the vocabulary sizes of Llama 2
 * (32000) and Llama 3 (128256), with a history of 512 ids for the repetition penalty. Logits are
 * Gaussian with standard deviation 3, so top-p 0.9 keeps a few hundred tokens.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class SamplerBench {

    @Param({"32000", "128256"})
    public int vocab;

    private float[] logits;
    private int[] history;
    private Sampler greedy;
    private Sampler temperature;
    private Sampler topK;
    private Sampler topP;
    private Sampler penalizedTopP;

    @Setup
    public void setUp() {
        SplittableRandom random = new SplittableRandom(3);
        logits = new float[vocab];
        for (int i = 0; i < vocab; i++) {
            logits[i] = (float) (3 * random.nextGaussian());
        }
        history = new int[512];
        for (int i = 0; i < history.length; i++) {
            history[i] = random.nextInt(vocab);
        }
        greedy = new Sampler(SamplingOptions.greedy());
        temperature = new Sampler(SamplingOptions.sample(0.8f, 1));
        topK = new Sampler(SamplingOptions.sample(0.8f, 1).withTopK(50));
        topP = new Sampler(SamplingOptions.sample(0.8f, 1).withTopP(0.9));
        penalizedTopP = new Sampler(SamplingOptions.sample(0.8f, 1).withTopP(0.9).withRepetitionPenalty(1.1f));
    }

    @Benchmark
    public int greedy() {
        return greedy.sample(logits);
    }

    @Benchmark
    public int temperature() {
        return temperature.sample(logits);
    }

    @Benchmark
    public int topK50() {
        return topK.sample(logits);
    }

    @Benchmark
    public int topP90() {
        return topP.sample(logits);
    }

    @Benchmark
    public int topP90WithPenalty() {
        return penalizedTopP.sample(logits, history, history.length);
    }
}
