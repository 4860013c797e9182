package dev.transact4j.train.trainer;

import dev.transact4j.nn.Module;
import dev.transact4j.nn.Parameter;
import dev.transact4j.nn.optim.AdamWOptimizer;
import dev.transact4j.nn.optim.GradientClipping;
import dev.transact4j.nn.optim.LrSchedule;
import dev.transact4j.nn.optim.Optimizer;
import dev.transact4j.nn.optim.ParameterGroup;
import dev.transact4j.tensor.GradMode;
import dev.transact4j.tensor.Tensor;
import dev.transact4j.train.data.Batch;
import dev.transact4j.train.data.DataLoader;
import dev.transact4j.train.data.DataPosition;
import dev.transact4j.train.data.PackedBlocks;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trains a {@link TrainableModel} on packed blocks with AdamW, gradient accumulation, a warm-up
 * and cosine learning-rate schedule, gradient clipping, periodic evaluation and checkpoints.
 *
 * <p>One step reads {@code gradientAccumulationSteps} micro-batches and counts the target tokens
 * of all of them first. Each micro-batch's summed loss is then back-propagated with the scale
 * {@code 1 / globalTokens}, so the accumulated gradient is that of the mean loss over every target
 * token of the global batch, whatever the number of tokens in each micro-batch.
 *
 * <p>Nothing in the arithmetic depends on timing or on the thread count, so a seed and a config
 * give the same losses on every run, and {@link #resume()} continues a run exactly where its last
 * checkpoint left it. A step whose loss or gradient norm is NaN or infinite stops the run with
 * {@link TrainingDivergedException} before any update, and the last checkpoint stays as it was.
 *
 * <p>The run directory receives {@code checkpoint/} (see {@link CheckpointStore}) and
 * {@code metrics.jsonl} (see {@link MetricsLog}). The caller initialises the model's weights
 * before {@link #run()}.
 */
public final class Trainer {

    private static final Logger LOG = LoggerFactory.getLogger(Trainer.class);

    /** File name of the machine-readable log in the run directory. */
    public static final String METRICS_FILE = "metrics.jsonl";

    private final TrainableModel model;
    private final Module module;
    private final PackedBlocks train;
    private final PackedBlocks validation;
    private final TrainingConfig config;
    private final Path runDir;
    private final CheckpointStore checkpoints;
    private final Optimizer optimizer;
    private final DataLoader loader;
    private final LrSchedule schedule;
    private TrainingListener listener = TrainingListener.NONE;
    private ConsoleProgressBar progressBar = ConsoleProgressBar.forConsole();

    private TrainingRandom random;
    private long step;
    private long tokensSeen;
    private double trainLoss = Double.NaN;
    private EvalMetrics lastEval;
    private long lastCheckpointStep = -1;

    /**
     * Prepares a run of {@code model} on {@code train}, evaluated on {@code validation} (null or
     * empty for none), writing into {@code runDir}.
     *
     * @throws IllegalArgumentException when the model has nothing to train
     * @throws dev.transact4j.train.data.DatasetException when the training blocks cannot fill a micro-batch
     */
    public Trainer(TrainableModel model, PackedBlocks train, PackedBlocks validation, TrainingConfig config,
                   Path runDir) {
        this.model = model;
        this.module = model.module();
        this.train = train;
        this.validation = validation != null && validation.blockCount() > 0 ? validation : null;
        this.config = config;
        this.runDir = runDir;
        this.checkpoints = new CheckpointStore(runDir);
        this.optimizer = adamW(module, config);
        this.loader = new DataLoader(train, config.microBatchSize(), config.shuffle(), config.seed());
        this.schedule = LrSchedule.cosine(config.warmupSteps(), config.maxSteps()).withMinLrRatio(config.minLrRatio());
        this.random = new TrainingRandom(config.seed());
    }

    /**
     * Returns AdamW over the parameters of {@code module} that require grad, with weight decay on
     * matrices only: norm weights and biases are not decayed.
     */
    private static Optimizer adamW(Module module, TrainingConfig config) {
        Map<String, Parameter> trained = new LinkedHashMap<>();
        for (Map.Entry<String, Parameter> e : module.namedParameters().entrySet()) {
            if (e.getValue().requiresGrad()) {
                trained.put(e.getKey(), e.getValue());
            }
        }
        if (trained.isEmpty()) {
            throw new IllegalArgumentException("Trainer: the model has no parameter that requires grad");
        }
        return new AdamWOptimizer(ParameterGroup.decayMatricesOnly(trained, config.weightDecay()), config.beta1(),
                config.beta2(), config.eps());
    }

    /** Sets the listener that receives each step, evaluation and checkpoint. */
    public Trainer listener(TrainingListener value) {
        listener = value;
        return this;
    }

    /** Turns the console progress bar on or off; by default it is on when the JVM has a console. */
    public Trainer progressBar(boolean enabled) {
        progressBar = new ConsoleProgressBar(System.err, enabled);
        return this;
    }

    /** Returns the checkpoint store of the run directory. */
    public CheckpointStore checkpoints() {
        return checkpoints;
    }

    /**
     * Trains from step 0 to {@code maxSteps}.
     *
     * @throws IllegalStateException when the run directory already contains a checkpoint, which
     *     {@link #resume()} continues
     * @throws TrainingDivergedException when a loss or gradient norm is NaN or infinite
     */
    public TrainingResult run() throws IOException {
        Path existing = checkpoints.completeCheckpoint();
        if (existing != null) {
            throw new IllegalStateException("Run directory " + runDir + " already contains a checkpoint (" + existing
                    + "). Resume it, or choose a new run directory.");
        }
        Files.createDirectories(runDir);
        try (MetricsLog metrics = MetricsLog.create(runDir.resolve(METRICS_FILE))) {
            return train(metrics);
        }
    }

    /**
     * Continues the run from its checkpoint: model weights, optimiser moments, schedule step,
     * data position and random state, then trains to {@code maxSteps}. The losses of the steps
     * after the checkpoint are those an uninterrupted run gives.
     *
     * @throws IllegalStateException when the run directory contains no complete checkpoint
     * @throws IllegalArgumentException when the config changes a value that the losses depend on
     */
    public TrainingResult resume() throws IOException {
        CheckpointStore.Loaded loaded = checkpoints.load(module, optimizer);
        List<String> differences = loaded.config().arithmeticDifferences(config);
        if (!differences.isEmpty()) {
            throw new IllegalArgumentException("Cannot resume " + loaded.directory() + " with a different config: "
                    + String.join(", ", differences) + ". Only eval_every, eval_batches and checkpoint_every may"
                    + " change.");
        }
        TrainerState state = loaded.state();
        step = state.step();
        tokensSeen = state.tokensSeen();
        trainLoss = state.trainLoss();
        random = new TrainingRandom(state.rngState());
        loader.restore(state.dataPosition());
        lastCheckpointStep = step;
        LOG.info("Resuming from {} at step {} (epoch {}, batch cursor {})", loaded.directory(), step,
                state.dataPosition().epoch(), state.dataPosition().cursor());
        try (MetricsLog metrics = MetricsLog.resumeAfter(runDir.resolve(METRICS_FILE), step)) {
            return train(metrics);
        }
    }

    private TrainingResult train(MetricsLog metrics) throws IOException {
        PeakMemory.reset();
        LOG.info("Training {} parameters in {} tensors for {} of {} of {} tokens ({} of {})",
                elementCount(optimizer), optimizer.parameters().size(), Counts.of(config.maxSteps(), "step"),
                Counts.of(config.globalBatchSize(), "block"), train.seqLen(),
                Counts.of(config.gradientAccumulationSteps(), "micro-batch", "micro-batches"), config.microBatchSize());
        long firstStep = step;
        long startNanos = System.nanoTime();

        while (step < config.maxSteps()) {
            StepMetrics m = trainStep(metrics);
            step = m.step();
            trainLoss = m.loss();
            tokensSeen += m.tokens();
            metrics.step(m);
            logStep(m, firstStep, startNanos);
            listener.onStep(m);

            boolean last = step == config.maxSteps();
            if (!last && config.evalEvery() > 0 && step % config.evalEvery() == 0) {
                evaluate(metrics);
            }
            if (!last && config.checkpointEvery() > 0 && step % config.checkpointEvery() == 0) {
                checkpoint();
            }
        }

        // the end of the run: a final evaluation and checkpoint. A resumed run that had already
        // finished evaluates again for its result, but its log keeps the records it has.
        boolean trained = step > firstStep;
        progressBar.clear();
        evaluate(trained ? metrics : null);
        if (lastCheckpointStep != step) {
            checkpoint();
        }
        long peak = PeakMemory.heapPeakBytes();
        if (trained) {
            metrics.end(step, peak);
        }
        LOG.info("Finished {}, {} tokens, final loss {}; peak heap {} (sum of pool peaks), old generation {}",
                Counts.of(step, "step"), tokensSeen, format4(trainLoss), PeakMemory.mebibytes(peak),
                PeakMemory.mebibytes(PeakMemory.oldGenerationPeakBytes()));
        return new TrainingResult(step, trainLoss, lastEval, tokensSeen, peak);
    }

    /** Runs one optimiser step and returns what it measured. */
    private StepMetrics trainStep(MetricsLog metrics) throws IOException {
        long number = step + 1;
        long begin = System.nanoTime();

        // the global batch, and its target tokens counted before any backward pass
        List<Batch> microBatches = new ArrayList<>(config.gradientAccumulationSteps());
        long tokens = 0;
        for (int i = 0; i < config.gradientAccumulationSteps(); i++) {
            Batch batch = loader.next();
            microBatches.add(batch);
            tokens += TrainableModel.countTargets(batch);
        }
        if (tokens == 0) {
            throw new IllegalStateException("Step " + number + ": the global batch has no target tokens; every target"
                    + " is " + TrainableModel.IGNORE_INDEX + ". Check the data.");
        }

        // forward and backward per micro-batch, each loss sum scaled by 1 / tokens of the global batch
        optimizer.zeroGrad();
        double lossSum = accumulateGradients(model, microBatches, tokens, random);
        double loss = lossSum / tokens;
        if (!Double.isFinite(loss)) {
            throw diverged(metrics, number, "the loss is " + loss);
        }

        // clip, then update with the scheduled learning rate
        double gradNorm = config.maxGradNorm() > 0
                ? optimizer.clipGradNorm(config.maxGradNorm())
                : GradientClipping.globalNorm(gradients(optimizer));
        if (!Double.isFinite(gradNorm)) {
            throw diverged(metrics, number, "the gradient norm is " + gradNorm + " (loss " + loss + ")");
        }
        double lr = schedule.lr(config.learningRate(), number - 1);
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            optimizer.step(lr);
        }
        optimizer.zeroGrad();

        double millis = (System.nanoTime() - begin) / 1e6;
        return new StepMetrics(number, loss, lr, gradNorm, tokens, millis);
    }

    /**
     * Runs forward and backward of {@code model} on each micro-batch, back-propagating its summed
     * loss with the scale {@code 1 / globalTokens}, and returns the sum of the summed losses.
     * Gradients add up in the parameters' {@code grad}.
     *
     * @throws IllegalStateException when the model counts other targets than {@link TrainableModel#countTargets}
     */
    static double accumulateGradients(TrainableModel model, List<Batch> microBatches, long globalTokens,
                                      TrainingRandom random) {
        Tensor scale = Tensor.scalar((float) (1.0 / globalTokens));
        double lossSum = 0;
        for (Batch batch : microBatches) {
            LossSum sum = model.lossSum(batch, random);
            long expected = TrainableModel.countTargets(batch);
            if (sum.tokens() != expected) {
                throw new IllegalStateException("The model summed its loss over " + sum.tokens() + " targets, but the"
                        + " batch has " + expected + " targets that are not " + TrainableModel.IGNORE_INDEX
                        + "; the model must skip exactly the ignored targets");
            }
            lossSum += sum.sum().item();
            sum.sum().backward(scale);
        }
        return lossSum;
    }

    private TrainingDivergedException diverged(MetricsLog metrics, long number, String cause) throws IOException {
        progressBar.clear();
        String advice = lastCheckpointStep >= 0
                ? "The last good checkpoint, of step " + lastCheckpointStep + ", is unchanged in "
                        + checkpoints.directory() + "; resume from it with a lower learning rate or check the data."
                : "No checkpoint was written before it; lower the learning rate or check the data and start again.";
        String message = "Training stopped at step " + number + ": " + cause + ". " + advice;
        metrics.stopped(number, cause);
        LOG.error(message);
        return new TrainingDivergedException(number, message);
    }

    /**
     * Evaluates on the validation blocks, or on the first {@code evalBatches} micro-batches of
     * them, without recording autograd and without drawing from the training random state.
     */
    /** Evaluates on the validation data and logs the result to {@code metrics} unless it is null. */
    private void evaluate(MetricsLog metrics) throws IOException {
        if (validation == null) {
            return;
        }
        long begin = System.nanoTime();
        double lossSum = 0;
        long tokens = 0;
        int batches = 0;
        TrainingRandom evalRandom = new TrainingRandom(config.seed());
        module.eval();
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            for (Batch batch : DataLoader.inOrder(validation, config.microBatchSize())) {
                if (config.evalBatches() > 0 && batches == config.evalBatches()) {
                    break;
                }
                LossSum sum = model.lossSum(batch, evalRandom);
                lossSum += sum.sum().item();
                tokens += sum.tokens();
                batches++;
            }
        } finally {
            module.train(true);
        }
        lastEval = new EvalMetrics(step, tokens > 0 ? lossSum / tokens : Double.NaN, tokens);
        if (metrics != null) {
            metrics.eval(lastEval);
        }
        progressBar.clear();
        LOG.info("step {} | validation loss {} | perplexity {} | {} tokens | {} ms", step, format4(lastEval.loss()),
                String.format(Locale.ROOT, "%.2f", lastEval.perplexity()), tokens,
                Math.round((System.nanoTime() - begin) / 1e6));
        listener.onEval(lastEval);
    }

    private void checkpoint() {
        DataPosition position = loader.position();
        TrainerState state = new TrainerState(step, position, random.state(), tokensSeen, trainLoss);
        long begin = System.nanoTime();
        try {
            checkpoints.save(model, optimizer, state, config);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write the checkpoint of step " + step + " to "
                    + checkpoints.directory() + ": " + e.getMessage()
                    + ". The previous checkpoint is kept; free disk space or fix permissions, then resume.", e);
        }
        lastCheckpointStep = step;
        progressBar.clear();
        LOG.info("step {} | checkpoint written to {} in {} ms", step, checkpoints.directory(),
                Math.round((System.nanoTime() - begin) / 1e6));
        listener.onCheckpoint(step, checkpoints.directory());
    }

    private void logStep(StepMetrics m, long firstStep, long startNanos) {
        double elapsedMillis = (System.nanoTime() - startNanos) / 1e6;
        long done = m.step() - firstStep;
        long remaining = config.maxSteps() - m.step();
        String eta = formatDuration(done > 0 ? (long) (elapsedMillis / done * remaining / 1000) : 0);
        progressBar.clear();
        LOG.info(String.format(Locale.ROOT, "step %d/%d | loss %.4f | lr %.3e | grad norm %.4f | %.0f ms | %.0f tok/s"
                + " | ETA %s", m.step(), config.maxSteps(), m.loss(), m.learningRate(), m.gradNorm(), m.millis(),
                m.tokensPerSecond(), eta));
        progressBar.draw(m.step(), config.maxSteps(), String.format(Locale.ROOT, "loss %.4f ETA %s", m.loss(), eta));
    }

    private static long elementCount(Optimizer optimizer) {
        long count = 0;
        for (Parameter p : optimizer.parameters().values()) {
            count += p.numel();
        }
        return count;
    }

    /** Returns the gradients of the optimiser's parameters that have one, live. */
    private static List<float[]> gradients(Optimizer optimizer) {
        List<float[]> out = new ArrayList<>();
        for (Parameter p : optimizer.parameters().values()) {
            float[] g = p.gradData();
            if (g != null) {
                out.add(g);
            }
        }
        return out;
    }

    private static String format4(double value) {
        return String.format(Locale.ROOT, "%.4f", value);
    }

    private static String formatDuration(long seconds) {
        return String.format(Locale.ROOT, "%d:%02d:%02d", seconds / 3600, seconds / 60 % 60, seconds % 60);
    }
}
