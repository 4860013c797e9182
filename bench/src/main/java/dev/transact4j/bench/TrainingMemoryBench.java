package dev.transact4j.bench;

import com.sun.management.GarbageCollectionNotificationInfo;
import dev.transact4j.llama.LlamaConfig;
import dev.transact4j.llama.LlamaForCausalLM;
import dev.transact4j.nn.Parameter;
import dev.transact4j.nn.io.AtomicFiles;
import dev.transact4j.nn.optim.AdamWOptimizer;
import dev.transact4j.nn.optim.Optimizer;
import dev.transact4j.nn.optim.ParameterGroup;
import dev.transact4j.tensor.Parallel;
import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import javax.management.Notification;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;

/**
 * Heap use of one training step (forward with loss, backward, gradient clipping, AdamW update) of
 * the Llama "small" preset ({@link LlamaConfig#small()}: hidden 512, 8 layers, 8 heads, MLP 1376,
 * vocabulary 8192) on a batch of {@value #BATCH} x {@value #SEQ_LEN} tokens, once with the
 * autograd graph released during backward (the default) and once with {@code retainGraph}.
 *
 * <p>Live heap at the phase boundaries is read after {@link System#gc()}, so it is exact. The peak
 * inside a step is sampled after every garbage collection: the harness sums the heap pools in use
 * after each collection and keeps the maximum over the step. With a small young generation
 * ({@code -Xmn32m}) a collection follows every 32 MiB allocated. The sample also counts arrays that
 * died in the old generation since the last full collection, which the parallel collector frees
 * only then, so it overstates the live peak; the boundary readings are lower bounds of it.
 *
 * <p>Arguments: the output file (default {@code bench/results/training-memory.md}), the number of
 * steps per mode (default 3; the first step allocates the AdamW moments) and the modes to run
 * ({@code both}, the default, which writes the report; {@code released} or {@code retained} only
 * run, to find the smallest {@code -Xmx} each needs; the report's section on it is written by hand
 * from those runs and a rerun of {@code both} replaces it).
 */
public final class TrainingMemoryBench {

    static final int BATCH = 4;
    static final int SEQ_LEN = 256;
    private static final double MIB = 1024.0 * 1024.0;

    /** Peak of the heap in use after a collection, over the collections since {@link #resetPeak}. */
    private static volatile long peakAfterGc;

    private TrainingMemoryBench() {
    }

    /** Live heap at the boundaries of one step and the peak sampled inside it, in bytes. */
    record StepMemory(long start, long afterForward, long afterBackward, long afterUpdate, long peak,
                      long millis) {
    }

    public static void main(String[] args) throws IOException {
        Path out = Path.of(args.length > 0 ? args[0] : "bench/results/training-memory.md");
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        listenToCollections();

        LlamaConfig config = LlamaConfig.small();
        long baseline = liveHeap();
        String modes = args.length > 2 ? args[2] : "both";
        if (!List.of("both", "released", "retained").contains(modes)) {
            throw new IllegalArgumentException("Invalid mode '" + modes + "': expected both, released or retained");
        }
        List<StepMemory> released = modes.equals("retained") ? List.of() : run(config, steps, false);
        List<StepMemory> retained = modes.equals("released") ? List.of() : run(config, steps, true);
        if (!modes.equals("both")) {
            // a single mode serves to find the smallest -Xmx that runs it; the report needs both
            return;
        }

        long parameterCount = parameterCount(config);
        String report = report(config, parameterCount, baseline, released, retained);
        System.out.print(report);
        write(out, report);
        System.out.println("Wrote " + out);
    }

    /** Trains a fresh model for {@code steps} steps and measures each step. */
    private static List<StepMemory> run(LlamaConfig config, int steps, boolean retainGraph) {
        LlamaForCausalLM model = LlamaForCausalLM.initialize(config, 1);
        Optimizer optimizer = new AdamWOptimizer(ParameterGroup.decayMatricesOnly(model.namedParameters(), 0.1));
        int[] ids = tokens(config.vocabSize(), 5);
        List<StepMemory> result = new ArrayList<>();
        for (int step = 0; step < steps; step++) {
            optimizer.zeroGrad();
            long start = liveHeap();
            resetPeak();
            long t0 = System.nanoTime();

            // forward: the loss references the graph and every tensor its backward rules read
            LlamaForCausalLM.Output output = model.forward(ids, ids, BATCH, SEQ_LEN);
            long afterForward = liveHeap();

            // backward: without retainGraph each node drops its saved tensors once it has run
            output.loss().backward(null, retainGraph);
            long afterBackward = liveHeap();

            optimizer.clipGradNorm(1.0);
            optimizer.step(1e-4);
            long millis = (System.nanoTime() - t0) / 1_000_000;
            long afterUpdate = liveHeap();
            long peak = Math.max(sampledPeak(), Math.max(afterForward, Math.max(afterBackward, afterUpdate)));
            result.add(new StepMemory(start, afterForward, afterBackward, afterUpdate, peak, millis));
            System.out.printf(Locale.ROOT, "retainGraph=%s step %d: peak %.1f MiB, %d ms%n", retainGraph, step + 1,
                    peak / MIB, millis);
            output = null;
        }
        return result;
    }

    private static int[] tokens(int vocab, long seed) {
        Random random = new Random(seed);
        int[] ids = new int[BATCH * SEQ_LEN];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = random.nextInt(vocab);
        }
        return ids;
    }

    private static long parameterCount(LlamaConfig config) {
        long count = 0;
        for (Parameter p : new LlamaForCausalLM(config, config.tieWordEmbeddings()).namedParameters().values()) {
            count += p.value().numel();
        }
        return count;
    }

    /**
     * Estimates the activation floats of one forward pass as every output the layers produce:
     * per layer, in rows of B * T, six of the hidden width (norms, o_proj, down_proj, residual
     * sums), seven of the attention width (q, k, v, rotated q and k, attention output and its
     * copy back to rows) and three of the MLP width (gate, up, SwiGLU); then the embedding, the
     * final norm and the logits. It leaves out per-row statistics (norm scales, attention
     * log-sum-exps) and any copy a view needs, so the measured growth over a forward pass is larger.
     */
    static long activationFloatsEstimate(LlamaConfig config) {
        long rows = (long) BATCH * SEQ_LEN;
        long hidden = config.hiddenSize();
        long attention = (long) config.numAttentionHeads() * config.headDim();
        long mlp = config.intermediateSize();
        long perLayer = rows * (6 * hidden + 7 * attention + 3 * mlp);
        return config.numHiddenLayers() * perLayer + rows * (2 * hidden + config.vocabSize());
    }

    private static String report(LlamaConfig config, long parameterCount, long baseline,
                                 List<StepMemory> released, List<StepMemory> retained) {
        long parameterBytes = 4 * parameterCount;
        long activationBytes = 4 * activationFloatsEstimate(config);
        StringBuilder s = new StringBuilder();
        s.append("# Peak heap of a training step\n\n");
        s.append(String.format(Locale.ROOT, "`TrainingMemoryBench` trains the Llama \"small\" preset (hidden %d, %d layers, "
                + "%d heads, MLP %d, vocabulary %d, %,d parameters, untied) on random tokens, batch %d x %d. "
                + "One step is forward with the mean loss, backward, clipping to norm 1 and an AdamW update "
                + "(weight decay 0.1 on matrices). Gradients are dropped (`zeroGrad` sets them to null) before each "
                + "step. Each mode starts from a fresh model and optimiser; step 1 allocates the AdamW moments, "
                + "later steps are the steady state.%n%n",
                config.hiddenSize(), config.numHiddenLayers(), config.numAttentionHeads(), config.intermediateSize(),
                config.vocabSize(), parameterCount, BATCH, SEQ_LEN));
        s.append("Live heap is read after `System.gc()` and is exact. The peak column is the largest heap in use "
                + "after any garbage collection during the step (parallel collector, 32 MiB young generation). It also "
                + "counts arrays that died in the old generation since the last full collection, so it is an upper "
                + "bound of the live peak and varies by a few tens of MiB between runs. The largest boundary reading "
                + "is a lower bound. Heap before the first model: ")
                .append(mib(baseline)).append(" MiB (JVM and class data, included in every number below). All numbers are MiB.\n\n");

        s.append("| mode | step | live at start | after forward | after backward | after update | peak | time (ms) |\n");
        s.append("|---|---|---|---|---|---|---|---|\n");
        appendRows(s, "released (default)", released);
        appendRows(s, "retainGraph", retained);

        StepMemory steadyReleased = released.get(released.size() - 1);
        StepMemory steadyRetained = retained.get(retained.size() - 1);
        s.append("\n## Budget\n\n");
        s.append("| item | MiB |\n|---|---|\n");
        s.append("| parameters (float32) | ").append(mib(parameterBytes)).append(" |\n");
        s.append("| gradients | ").append(mib(parameterBytes)).append(" |\n");
        s.append("| AdamW moments (2 x parameters) | ").append(mib(2 * parameterBytes)).append(" |\n");
        s.append("| activations, estimate (the layer outputs listed in `activationFloatsEstimate`) | ").append(mib(activationBytes)).append(" |\n");
        s.append("| total | ").append(mib(4 * parameterBytes + activationBytes)).append(" |\n");
        s.append("| activations measured: live after forward - live at start (last step, released) | ")
                .append(mib(steadyReleased.afterForward() - steadyReleased.start())).append(" |\n");
        s.append("| saved tensors the release frees: live after backward, retainGraph - released (last step) | ")
                .append(mib(steadyRetained.afterBackward() - steadyReleased.afterBackward())).append(" |\n");
        s.append("| sampled peak, retainGraph - released (last step) | ")
                .append(mib(steadyRetained.peak() - steadyReleased.peak())).append(" |\n");

        s.append(String.format(Locale.ROOT, "%nIn the last step the sampled peak is %s MiB above the live heap after forward. "
                        + "During backward the gradients (%s MiB) are allocated while the saved tensors of the layers "
                        + "not yet reached are still held; the rest of the difference includes dead arrays that the "
                        + "sample counts.%n",
                mib(steadyReleased.peak() - steadyReleased.afterForward()), mib(parameterBytes)));
        s.append(String.format(Locale.ROOT, "%nMachine: %s, %d cores visible, shared with other jobs; JDK %s (%s); "
                        + "%d kernel threads (`transact4j.threads`).%n%n",
                cpuName(), Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"),
                System.getProperty("java.vm.name"), Parallel.threads()));
        s.append("Command: `mvn -B -ntp -pl bench -am package -DskipTests && java --add-modules jdk.incubator.vector "
                + "-Xmx3g -Xmn32m -XX:+UseParallelGC -cp bench/target/benchmarks.jar "
                + "dev.transact4j.bench.TrainingMemoryBench`\n");
        return s.toString();
    }

    private static void appendRows(StringBuilder s, String mode, List<StepMemory> steps) {
        for (int i = 0; i < steps.size(); i++) {
            StepMemory m = steps.get(i);
            s.append("| ").append(mode).append(" | ").append(i + 1)
                    .append(" | ").append(mib(m.start()))
                    .append(" | ").append(mib(m.afterForward()))
                    .append(" | ").append(mib(m.afterBackward()))
                    .append(" | ").append(mib(m.afterUpdate()))
                    .append(" | ").append(mib(m.peak()))
                    .append(" | ").append(m.millis()).append(" |\n");
        }
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1f", bytes / MIB);
    }

    /** Returns the heap in use after a full collection. */
    private static long liveHeap() {
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private static void resetPeak() {
        peakAfterGc = 0;
    }

    /** Returns the peak sampled since {@link #resetPeak()}, once the last collection's notification had time to arrive. */
    private static long sampledPeak() {
        try {
            Thread.sleep(200);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return peakAfterGc;
    }

    private static String cpuName() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException e) {
            // not Linux: fall back to the architecture
        }
        return System.getProperty("os.arch");
    }

    /** Records, after every collection, the heap in use summed over the heap pools. */
    private static void listenToCollections() {
        Set<String> heapPools = new HashSet<>();
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                heapPools.add(pool.getName());
            }
        }
        NotificationListener listener = (Notification n, Object handback) -> {
            if (!n.getType().equals(GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION)) {
                return;
            }
            GarbageCollectionNotificationInfo info = GarbageCollectionNotificationInfo.from((CompositeData) n.getUserData());
            long used = 0;
            for (Map.Entry<String, MemoryUsage> pool : info.getGcInfo().getMemoryUsageAfterGc().entrySet()) {
                if (heapPools.contains(pool.getKey())) {
                    used += pool.getValue().getUsed();
                }
            }
            if (used > peakAfterGc) {
                peakAfterGc = used;
            }
        };
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            ((NotificationEmitter) gc).addNotificationListener(listener, null, null);
        }
    }

    private static void write(Path out, String text) throws IOException {
        Path parent = out.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        AtomicFiles.write(out, text.getBytes(StandardCharsets.UTF_8));
    }
}
