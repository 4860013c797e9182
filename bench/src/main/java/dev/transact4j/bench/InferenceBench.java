package dev.transact4j.bench;

import dev.transact4j.llama.LlamaConfig;
import dev.transact4j.llama.LlamaForCausalLM;
import dev.transact4j.llama.LlamaKvCache;
import dev.transact4j.llama.ModelStats;
import dev.transact4j.nn.Linear;
import dev.transact4j.nn.Module;
import dev.transact4j.tensor.Gemm;
import dev.transact4j.tensor.GradMode;
import dev.transact4j.tensor.Parallel;
import dev.transact4j.tensor.Tensor;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Times prefill and greedy decode of {@link LlamaForCausalLM} with a KV cache, and the machine's
 * copy bandwidth, for the inference comparison with PyTorch in {@code bench/inference_compare.sh}.
 *
 * <p>For each thread count and configuration it measures the copy bandwidth of a
 * {@link MachineBench#STREAM_FLOATS} float array, right before the model, so that both see about
 * the same load from other jobs. Then it runs rounds of one prefill of {@code --prompt} random
 * tokens into an empty cache followed by {@code --decode} greedy steps. After {@code --warmup}
 * untimed rounds, repeated until {@code --warmup-seconds} have passed, it reports the fastest of {@code --repeats} prefills and the median time of
 * all timed decode steps. On a machine shared with other jobs these are the estimates least
 * moved by the moments when another process runs on the core. It also reports the least CPU
 * time of the calling thread per prefill and its median per decode step, which at one thread
 * count only the time the work ran, not the time it waited for the core. With
 * {@code --profile} it also times the decode step's matrix-vector products alone (every
 * {@link Linear} of the model on one row), which splits a decode step into projections and the
 * rest (norms, rotary, attention over the cache, residual adds, allocation). With
 * {@code --working-set} it runs no model and only times decode-step products over weight sets
 * of growing size ({@link #workingSet}).
 *
 * <p>Output: one JSON object per line on standard output, read by {@code bench/inference_report.py}.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -Xmx2g -cp bench/target/benchmarks.jar \
 *     dev.transact4j.bench.InferenceBench --configs tiny,small --threads 1,2
 * </pre>
 */
public final class InferenceBench {

    private static final Map<String, LlamaConfig> CONFIGS = Map.of("tiny", LlamaConfig.tiny(), "small", LlamaConfig.small());

    private InferenceBench() {
    }

    /** Command-line options; see {@link #usage()}. */
    record Options(List<String> configs, int[] threads, int prompt, int decode, int warmup, int warmupSeconds,
                   int repeats, boolean profile, boolean workingSet) {
    }

    public static void main(String[] args) {
        Options options;
        try {
            options = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("InferenceBench: " + e.getMessage());
            System.err.println(usage());
            System.exit(2);
            return;
        }

        System.out.println(json("jvm", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"),
                "jvm_options", String.join(" ", ManagementFactory.getRuntimeMXBean().getInputArguments()),
                "cores", Runtime.getRuntime().availableProcessors()));
        for (int threads : options.threads()) {
            Parallel.setThreads(threads);
            if (options.workingSet()) {
                for (int mebibytes : WORKING_SET_MIB) {
                    System.out.println(workingSet(mebibytes, threads, options.repeats()));
                }
                continue;
            }
            for (String name : options.configs()) {
                Bandwidth copy = copyBandwidth(threads, options.repeats());
                System.out.println(measure(name, CONFIGS.get(name), threads, options, copy));
            }
        }
    }

    static Options parse(String[] args) {
        List<String> configs = List.of("tiny", "small");
        int[] threads = {1, 2};
        int prompt = 256;
        int decode = 128;
        int warmup = 2;
        int warmupSeconds = 3;
        int repeats = 3;
        boolean profile = false;
        boolean workingSet = false;
        for (int i = 0; i < args.length; i++) {
            String flag = args[i];
            if (flag.equals("--profile")) {
                profile = true;
                continue;
            }
            if (flag.equals("--working-set")) {
                workingSet = true;
                continue;
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("option " + flag + " needs a value");
            }
            String value = args[++i];
            switch (flag) {
                case "--configs" -> {
                    configs = List.of(value.split(","));
                    for (String name : configs) {
                        if (!CONFIGS.containsKey(name)) {
                            throw new IllegalArgumentException("unknown config '" + name + "' in --configs; expected tiny or small");
                        }
                    }
                }
                case "--threads" -> threads = Arrays.stream(value.split(",")).mapToInt(s -> atLeast("--threads", s, 1)).toArray();
                case "--prompt" -> prompt = atLeast(flag, value, 1);
                case "--decode" -> decode = atLeast(flag, value, 1);
                case "--warmup" -> warmup = atLeast(flag, value, 0);
                case "--warmup-seconds" -> warmupSeconds = atLeast(flag, value, 0);
                case "--repeats" -> repeats = atLeast(flag, value, 1);
                default -> throw new IllegalArgumentException("unknown option " + flag);
            }
        }
        return new Options(configs, threads, prompt, decode, warmup, warmupSeconds, repeats, profile, workingSet);
    }

    private static int atLeast(String flag, String value, int min) {
        int n;
        try {
            n = Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(flag + " value '" + value + "' is not an integer");
        }
        if (n < min) {
            throw new IllegalArgumentException(flag + " value " + n + " must be at least " + min);
        }
        return n;
    }

    private static String usage() {
        return "usage: InferenceBench [--configs tiny,small] [--threads 1,2] [--prompt 256] [--decode 128]\n"
                + "                      [--warmup 2] [--warmup-seconds 3] [--repeats 3] [--profile] [--working-set]\n"
                + "  --prompt   prefill length in tokens; --decode greedy steps after it\n"
                + "  --warmup   untimed rounds, repeated until --warmup-seconds have passed as well\n"
                + "  --repeats  timed rounds (fastest prefill, median decode step)\n"
                + "  --profile  also time the decode step's matrix-vector products alone\n"
                + "  --working-set  time only matrix-vector products over weight sets of 16 to 256 MiB, no model";
    }

    /** Returns the JSON line of one configuration at {@code threads} threads. */
    static String measure(String name, LlamaConfig config, int threads, Options options, Bandwidth copy) {
        LlamaForCausalLM model = LlamaForCausalLM.initialize(config, 1);
        int[] prompt = new Random(2).ints(options.prompt(), 0, config.vocabSize()).toArray();
        LlamaKvCache cache = model.newCache(1, options.prompt() + options.decode());

        double[] stepSeconds = new double[options.decode()];
        double[] stepCpuSeconds = new double[options.decode()];
        // warm up for both a number of rounds and a time, so that C2 has compiled the kernels
        // (before that the Vector API runs its much slower Java fallback) even for the tiny model
        long warmupEnd = System.nanoTime() + options.warmupSeconds() * 1_000_000_000L;
        for (int r = 0; r < options.warmup() || System.nanoTime() < warmupEnd; r++) {
            round(model, cache, prompt, stepSeconds, stepCpuSeconds);
        }
        long timedStart = System.currentTimeMillis();
        double[] prefill = new double[options.repeats()];
        double[] prefillCpu = new double[options.repeats()];
        double[] decode = new double[options.repeats() * options.decode()];
        double[] decodeCpu = new double[options.repeats() * options.decode()];
        for (int r = 0; r < options.repeats(); r++) {
            double[] prefillSeconds = round(model, cache, prompt, stepSeconds, stepCpuSeconds);
            prefill[r] = prefillSeconds[0];
            prefillCpu[r] = prefillSeconds[1];
            System.arraycopy(stepSeconds, 0, decode, r * options.decode(), options.decode());
            System.arraycopy(stepCpuSeconds, 0, decodeCpu, r * options.decode(), options.decode());
        }

        ModelStats stats = ModelStats.of(config);
        List<Object> fields = new ArrayList<>(List.of(
                "config", name,
                "threads", threads,
                "copy_gb_per_second", copy.gbPerSecond(),
                "prompt", options.prompt(),
                "decode", options.decode(),
                "timed_start_epoch_ms", timedStart,
                "prefill_tokens_per_second", options.prompt() / min(prefill),
                "prefill_tokens_per_cpu_second", options.prompt() / min(prefillCpu),
                "decode_tokens_per_second", 1 / median(decode),
                "decode_tokens_per_cpu_second", 1 / median(decodeCpu),
                "weight_bytes", stats.weightBytes(),
                "embedding_bytes", stats.embeddingParameters() * ModelStats.FLOAT32_BYTES,
                "hidden_size", config.hiddenSize(),
                "kv_bytes_per_position", stats.kvCacheBytesPerToken()));
        if (threads == 1) {
            fields.add("copy_gb_per_cpu_second");
            fields.add(copy.gbPerCpuSecond());
        }
        if (options.profile()) {
            fields.add("projections_seconds_per_token");
            fields.add(projectionSeconds(model, options.repeats()));
        }
        return json(fields.toArray());
    }

    /**
     * Returns the wall and calling-thread CPU seconds of a prefill of {@code prompt} into the
     * emptied cache, then runs one
     * greedy decode step per element of {@code stepSeconds} and stores each step's seconds there,
     * and the calling thread's CPU seconds of each step in {@code stepCpuSeconds}.
     */
    private static double[] round(LlamaForCausalLM model, LlamaKvCache cache, int[] prompt, double[] stepSeconds,
                                double[] stepCpuSeconds) {
        ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
        cache.clear();
        long cpuStart = cpu.getCurrentThreadCpuTime();
        long start = System.nanoTime();
        Tensor logits = model.forward(prompt, 1, prompt.length, cache, false);
        double[] prefill = {(System.nanoTime() - start) * 1e-9, (cpu.getCurrentThreadCpuTime() - cpuStart) * 1e-9};

        int[] token = new int[1];
        for (int s = 0; s < stepSeconds.length; s++) {
            long stepCpuStart = cpu.getCurrentThreadCpuTime();
            long stepStart = System.nanoTime();
            token[0] = argmax(logits.toArray());
            logits = model.decode(token, cache);
            stepSeconds[s] = (System.nanoTime() - stepStart) * 1e-9;
            stepCpuSeconds[s] = (cpu.getCurrentThreadCpuTime() - stepCpuStart) * 1e-9;
        }
        return prefill;
    }

    private static int argmax(float[] values) {
        int best = 0;
        for (int i = 1; i < values.length; i++) {
            if (values[i] > values[best]) {
                best = i;
            }
        }
        return best;
    }

    /**
     * Returns the fewest seconds, over {@code repeats} timings, of running every {@link Linear} of the model once on a single
     * row, the projection work of one decode step: q, k, v, o, gate, up, down per layer and
     * lm_head.
     */
    private static double projectionSeconds(LlamaForCausalLM model, int repeats) {
        List<Linear> linears = new ArrayList<>();
        collectLinears(model, linears);
        Tensor[] inputs = new Tensor[linears.size()];
        for (int i = 0; i < inputs.length; i++) {
            float[] row = new float[linears.get(i).inFeatures()];
            Arrays.fill(row, 0.01f);
            inputs[i] = Tensor.of(row, 1, row.length);
        }

        int calls = 64;
        double[] seconds = new double[repeats];
        try (GradMode.Scope scope = GradMode.noGrad()) {
            for (int r = -1; r < repeats; r++) {
                long start = System.nanoTime();
                for (int c = 0; c < calls; c++) {
                    for (int i = 0; i < inputs.length; i++) {
                        linears.get(i).forward(inputs[i]);
                    }
                }
                if (r >= 0) {
                    seconds[r] = (System.nanoTime() - start) * 1e-9 / calls;
                }
            }
        }
        return min(seconds);
    }

    private static void collectLinears(Module module, List<Linear> out) {
        if (module instanceof Linear linear) {
            out.add(linear);
        }
        for (Module child : module.children().values()) {
            collectLinears(child, out);
        }
    }

    /** Sizes of the weight sets that {@code --working-set} reads, in MiB. */
    static final int[] WORKING_SET_MIB = {16, 32, 64, 96, 128, 160, 256};

    /**
     * Returns the JSON line of the speed at which decode-step products read a weight set of about
     * {@code mebibytes} MiB: matrices of the small model's gate projection, [1376, 512], each
     * multiplied by one row in turn, again and again in the same order, as decode steps read the
     * weights. GB/s counts the weight bytes read per pass, for the fastest pass per wall-clock
     * second and per CPU second of the calling thread. It shows up to what size the weights are
     * served from the last-level cache rather than from memory.
     */
    static String workingSet(int mebibytes, int threads, int repeats) {
        int rows = 1376;
        int k = 512;
        int count = Math.max(1, (int) ((long) mebibytes * 1024 * 1024 / ((long) rows * k * Float.BYTES)));
        float[][] weights = new float[count][rows * k];
        for (float[] w : weights) {
            Arrays.fill(w, 0.01f);
        }
        float[] x = new float[k];
        Arrays.fill(x, 1f);
        float[] y = new float[rows];

        ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
        int passes = Math.max(repeats, 8);
        double[] seconds = new double[passes];
        double[] cpuSeconds = new double[passes];
        // untimed passes, at least three and for at least half a second, so that C2 has compiled the kernel
        long warmupEnd = System.nanoTime() + 500_000_000L;
        for (int pass = 0; pass < 3 || System.nanoTime() < warmupEnd; pass++) {
            readWeights(weights, rows, k, x, y);
        }
        for (int r = 0; r < passes; r++) {
            long cpuStart = cpu.getCurrentThreadCpuTime();
            long start = System.nanoTime();
            readWeights(weights, rows, k, x, y);
            seconds[r] = (System.nanoTime() - start) * 1e-9;
            cpuSeconds[r] = (cpu.getCurrentThreadCpuTime() - cpuStart) * 1e-9;
        }
        double bytes = (double) count * rows * k * Float.BYTES;
        List<Object> fields = new ArrayList<>(List.of(
                "working_set_bytes", (long) bytes,
                "threads", threads,
                "gemv_gb_per_second", bytes / min(seconds) / 1e9));
        if (threads == 1) {
            fields.add("gemv_gb_per_cpu_second");
            fields.add(bytes / min(cpuSeconds) / 1e9);
        }
        return json(fields.toArray());
    }

    /** Multiplies each of the [rows, k] matrices by x in turn, into y. */
    private static void readWeights(float[][] weights, int rows, int k, float[] x, float[] y) {
        for (float[] w : weights) {
            Gemm.sgemm(false, true, 1, rows, k, 1f, x, 0, k, w, 0, k, 0f, y, 0, rows);
        }
    }

    /**
     * Returns the copy bandwidth in GB/s, counting bytes read plus bytes written, of one array of
     * {@link MachineBench#STREAM_FLOATS} floats into another, split into {@code threads}
     * contiguous parts copied by {@link System#arraycopy} on the {@link Parallel} pool; the
     * fastest of at least three copies after two untimed ones, per wall-clock second and per CPU
     * second of the calling thread. The arrays are dropped on return: kept for the whole run,
     * their 512 MiB made the garbage collector run concurrent cycles beside the model, which took
     * a core from two-thread prefill.
     */
    static Bandwidth copyBandwidth(int threads, int repeats) {
        float[] source = new float[MachineBench.STREAM_FLOATS];
        float[] target = new float[MachineBench.STREAM_FLOATS];
        Arrays.fill(source, 1f);
        ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
        int grain = source.length / threads;
        double[] seconds = new double[Math.max(repeats, 3)];
        double[] cpuSeconds = new double[seconds.length];
        for (int r = -2; r < seconds.length; r++) {
            long cpuStart = cpu.getCurrentThreadCpuTime();
            long start = System.nanoTime();
            Parallel.forRange(0, source.length, grain, (lo, hi) -> System.arraycopy(source, lo, target, lo, hi - lo));
            if (r >= 0) {
                seconds[r] = (System.nanoTime() - start) * 1e-9;
                cpuSeconds[r] = (cpu.getCurrentThreadCpuTime() - cpuStart) * 1e-9;
            }
        }
        double bytes = 2.0 * source.length * Float.BYTES;
        return new Bandwidth(bytes / min(seconds) / 1e9, bytes / min(cpuSeconds) / 1e9);
    }

    /**
     * Copy bandwidth in GB/s per wall-clock second and per CPU second of the calling thread. The
     * second is the machine's bandwidth while the copy ran, and means that only at one thread,
     * where the calling thread does the whole copy.
     */
    record Bandwidth(double gbPerSecond, double gbPerCpuSecond) {
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private static double min(double[] values) {
        return Arrays.stream(values).min().orElseThrow();
    }

    /** Returns a one-line JSON object of alternating names and values (strings, integers or doubles). */
    private static String json(Object... namesAndValues) {
        StringBuilder line = new StringBuilder("{");
        for (int i = 0; i < namesAndValues.length; i += 2) {
            if (i > 0) {
                line.append(", ");
            }
            line.append('"').append(namesAndValues[i]).append("\": ");
            Object value = namesAndValues[i + 1];
            if (value instanceof String text) {
                line.append('"').append(text.replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
            } else if (value instanceof Double number) {
                line.append(String.format(Locale.ROOT, "%.6g", number));
            } else {
                line.append(value);
            }
        }
        return line.append('}').toString();
    }
}
