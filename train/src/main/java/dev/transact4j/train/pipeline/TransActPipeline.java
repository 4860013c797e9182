package dev.transact4j.train.pipeline;

import dev.transact4j.llama.LlamaForCausalLM;
import dev.transact4j.llama.checkpoint.HfCheckpoint;
import dev.transact4j.llama.checkpoint.LlamaCheckpoint;
import dev.transact4j.nn.safetensors.DType;
import dev.transact4j.nn.Parameter;
import dev.transact4j.tensor.Tensor;
import dev.transact4j.train.data.Batch;
import dev.transact4j.train.data.DataLoader;
import dev.transact4j.train.data.TrainingData;
import dev.transact4j.train.trainer.Counts;
import dev.transact4j.train.trainer.TrainingResult;
import dev.transact4j.transact.AttentionPruning;
import dev.transact4j.transact.CalibrationData;
import dev.transact4j.transact.ChannelScores;
import dev.transact4j.transact.PruneTarget;
import dev.transact4j.transact.PrunedModel;
import dev.transact4j.transact.PruningReport;
import dev.transact4j.transact.PruningSchedule;
import dev.transact4j.transact.PruningStep;
import dev.transact4j.transact.SparsityTarget;
import dev.transact4j.transact.TransAct;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TransAct's prune-train-finetune pipeline, the {@code -m prune|ft|all} modes of the original
 * {@code run_trainer.sh}.
 *
 * <p>{@code prune}: for shot {@code i = 1..K}, score channels on calibration sequences, prune one
 * step of the {@link PruningSchedule}, then train for {@link PipelineOptions#trainTokensAfterShot}
 * tokens at the peak rate {@link PipelineOptions#learningRateAfterShot}. Each shot's model is saved
 * and appended to the pruning report. {@code ft}: fine-tune the last shot's model for the
 * fine-tuning budget at the base rate.
 *
 * <p>Output layout: {@code shot-<i>/model} (a Hugging Face model directory) and
 * {@code shot-<i>/run} (the trainer's metrics and checkpoint) per shot, {@code finetune/model} and
 * {@code finetune/run}, and {@code pruning-report.json} and {@code .md}.
 */
public final class TransActPipeline {

    private static final Logger LOG = LoggerFactory.getLogger(TransActPipeline.class);

    /** The part of the pipeline a run performs. */
    public enum Mode {
        /** The pruning shots with their training. */
        PRUNE,
        /** Fine-tuning of the last shot's model. */
        FT,
        /** Both. */
        ALL
    }

    /** One shot: the sizes the schedule requested and the model reached, and the losses around its training. */
    public record Shot(int shot, PruningSchedule.Sizes requested, PruningSchedule.Sizes reached,
                       Validation.Loss afterPrune, TrainingResult training, Validation.Loss afterTraining,
                       Path modelDir) {
    }

    /**
     * The outcome of a run. Fields of a part that did not run are null (shots are empty without
     * pruning).
     */
    public record Result(List<Shot> shots, PruningReport report, LlamaForCausalLM model,
                         TrainingResult fineTune, Validation.Loss beforeFineTune, Validation.Loss afterFineTune,
                         Path modelDir) {

        /** Returns the last shot, or null when none ran. */
        public Shot lastShot() {
            return shots.isEmpty() ? null : shots.get(shots.size() - 1);
        }
    }

    private final PipelineOptions options;
    private final TrainingData data;
    private final Path outputDir;
    private final HfCheckpoint companions;
    private final LossCurve curve;
    private boolean progressBar;

    /**
     * @param companions tokenizer and generation files copied into every saved model, or null
     * @param curve      receives the losses and the pruning points
     */
    public TransActPipeline(PipelineOptions options, TrainingData data, Path outputDir, HfCheckpoint companions,
                            LossCurve curve) {
        this.options = options;
        this.data = data;
        this.outputDir = outputDir;
        this.companions = companions;
        this.curve = curve;
    }

    /** Turns the trainer's console progress bar on or off (off by default). */
    public TransActPipeline progressBar(boolean enabled) {
        progressBar = enabled;
        return this;
    }

    /** Returns the model directory of shot {@code shot}. */
    public Path shotModelDir(int shot) {
        return outputDir.resolve("shot-" + shot).resolve("model");
    }

    /** Returns the fine-tuned model's directory. */
    public Path fineTunedModelDir() {
        return outputDir.resolve("finetune").resolve("model");
    }

    /**
     * Runs {@code mode}. {@code dense} is the model to prune; for {@link Mode#FT} it is ignored
     * and may be null, and the last shot's model is read from this pipeline's output directory.
     */
    public Result run(Mode mode, LlamaForCausalLM dense) throws IOException {
        if (mode != Mode.FT && !options.hasPruningTarget()) {
            throw new IllegalArgumentException("mode " + mode + " prunes, so set the target attention and MLP widths, "
                    + "or a sparsity percentage");
        }
        Files.createDirectories(outputDir);
        List<Shot> shots = List.of();
        PruningReport report = null;
        LlamaForCausalLM model;
        Path modelDir;
        if (mode == Mode.FT && options.fineTuneTokens() == 0) {
            throw new IllegalArgumentException("fine-tuning with 0 tokens has nothing to do; give fine-tuning tokens");
        }
        if (mode == Mode.FT) {
            modelDir = shotModelDir(options.shots());
            if (!Files.isDirectory(modelDir)) {
                throw new IllegalArgumentException("fine-tuning needs the last shot's model in " + modelDir
                        + "; run the prune mode first with the same output directory and shots");
            }
            model = LlamaCheckpoint.load(modelDir).model();
        } else {
            PruneOutcome pruned = prune(dense);
            shots = pruned.shots;
            report = pruned.report;
            model = pruned.model;
            modelDir = pruned.shots.get(pruned.shots.size() - 1).modelDir();
            // 0 fine-tuning tokens leave the last shot's model as the result
            if (mode == Mode.PRUNE || options.fineTuneTokens() == 0) {
                return new Result(shots, report, model, null, null, null, modelDir);
            }
        }

        // fine-tuning at the base rate
        Validation.Loss before = mode == Mode.ALL ? shots.get(shots.size() - 1).afterTraining()
                : Validation.loss(model, data.validation(), options.microBatch(), options.evalBatches());
        long steps = options.stepsFor(options.fineTuneTokens());
        LOG.info("Fine-tuning for {} ({} tokens) at learning rate {}", Counts.of(steps, "step"),
                steps * options.globalBatch() * options.seqLen(), options.learningRate());
        curve.mark("fine-tune");
        TrainingResult training = TrainingPhase.train(model, data, options, steps, options.learningRate(),
                options.seed() + 1000, outputDir.resolve("finetune").resolve("run"), curve, progressBar);
        Validation.Loss after = Validation.of(training);
        Path fineTunedDir = LlamaCheckpoint.save(model, fineTunedModelDir(), DType.F32, companions);
        LOG.info(String.format(Locale.ROOT, "Fine-tuned: validation perplexity %.2f -> %.2f; model saved to %s",
                before.perplexity(), after.perplexity(), fineTunedDir));
        return new Result(shots, report, model, training, before, after, fineTunedDir);
    }

    private record PruneOutcome(List<Shot> shots, PruningReport report, LlamaForCausalLM model) {
    }

    private PruneOutcome prune(LlamaForCausalLM dense) throws IOException {
        if (dense == null) {
            throw new IllegalArgumentException("the prune mode needs a model to prune");
        }
        PruningSchedule schedule = new PruningSchedule(options.shots(), targetSizes(dense));
        LOG.info("Pruning in {} to attention width {}, MLP width {}, {} layers", Counts.of(options.shots(), "shot"),
                schedule.target().attentionWidth(), schedule.target().intermediateSize(),
                schedule.target().numHiddenLayers());

        List<Shot> shots = new ArrayList<>();
        PruningReport report = PruningReport.empty();
        LlamaForCausalLM model = dense;
        for (int shot = 1; shot <= options.shots(); shot++) {
            // score, then cut one step of the schedule
            PruningSchedule.Sizes current = PruningSchedule.Sizes.of(model.config());
            PruningSchedule.Sizes requested = schedule.next(current, shot);
            ChannelScores scores = TransAct.score(model, calibration(shot), options.scorer());
            PruneTarget target = options.attention() == AttentionPruning.HEADS
                    ? PruneTarget.heads(requested.attentionWidth(), requested.intermediateSize())
                    : PruneTarget.headDims(requested.attentionWidth(), requested.intermediateSize(), options.rope());
            if (requested.numHiddenLayers() < current.numHiddenLayers()) {
                target = target.withLayers(requested.numHiddenLayers());
            }
            PruningStep.Options stepOptions = PruningStep.Options.of(target).withShot(shot)
                    .withContextLength(options.seqLen());
            PrunedModel pruned = TransAct.pruneStep(model, scores, stepOptions);
            LlamaForCausalLM previous = model;
            model = pruned.model();
            copySharedArrays(model, previous);
            PruningSchedule.Sizes reached = PruningSchedule.Sizes.of(model.config());
            report = report.withShot(pruned.report());
            report.write(outputDir);
            curve.mark("shot " + shot);
            Validation.Loss afterPrune = Validation.loss(model, data.validation(), options.microBatch(),
                    options.evalBatches());
            curve.addValidationHere(afterPrune.meanLoss());
            LOG.info(String.format(Locale.ROOT, "Shot %d/%d: attention width %d -> %d, MLP width %d -> %d, layers %d -> %d;"
                            + " validation perplexity %.2f", shot, options.shots(), current.attentionWidth(),
                    reached.attentionWidth(), current.intermediateSize(), reached.intermediateSize(),
                    current.numHiddenLayers(), reached.numHiddenLayers(), afterPrune.perplexity()));

            // recover with training, longer and at a higher rate in later shots
            TrainingResult training = null;
            Validation.Loss afterTraining = afterPrune;
            long tokens = options.trainTokensAfterShot(shot);
            if (tokens > 0) {
                long steps = options.stepsFor(tokens);
                double lr = options.learningRateAfterShot(shot);
                LOG.info("Shot {}: training for {} at peak learning rate {}", shot, Counts.of(steps, "step"),
                        String.format(Locale.ROOT, "%.4g", lr));
                training = TrainingPhase.train(model, data, options, steps, lr, options.seed() + shot,
                        outputDir.resolve("shot-" + shot).resolve("run"), curve, progressBar);
                afterTraining = Validation.of(training);
            }
            Path modelDir = LlamaCheckpoint.save(model, shotModelDir(shot), DType.F32, companions);
            shots.add(new Shot(shot, requested, reached, afterPrune, training, afterTraining, modelDir));
        }
        return new PruneOutcome(shots, report, model);
    }

    /** Returns the final sizes: the explicit targets, or the widths the sparsity percentage gives the dense model. */
    private PruningSchedule.Sizes targetSizes(LlamaForCausalLM dense) {
        int layers = options.targetLayers() == null ? dense.config().numHiddenLayers() : options.targetLayers();
        if (options.sparsityPercent() != null) {
            SparsityTarget sparsity = SparsityTarget.resolve(dense.config(), options.sparsityPercent(),
                    options.attention());
            LOG.info(String.format(Locale.ROOT, "Sparsity %.1f%% requested, %.1f%% reached by whole units",
                    sparsity.requestedPercent(), sparsity.reachedPercent()));
            return new PruningSchedule.Sizes(sparsity.attentionWidth(), sparsity.intermediateSize(), layers);
        }
        return new PruningSchedule.Sizes(options.targetAttentionWidth(), options.targetMlpWidth(), layers);
    }

    /**
     * Returns {@code calibrationSamples} training sequences in micro-batches, drawn at random
     * with a different seed for each shot.
     */
    private CalibrationData calibration(int shot) {
        int samples = options.calibrationSamples();
        int seqLen = options.seqLen();
        int[] tokens = new int[samples * seqLen];
        DataLoader loader = new DataLoader(data.train(), 1, true, options.seed() * 31 + shot);
        for (int sample = 0; sample < samples; sample++) {
            Batch block = loader.next();
            System.arraycopy(block.inputIds(), 0, tokens, sample * seqLen, seqLen);
        }
        return CalibrationData.fromTokens(tokens, samples, seqLen, options.microBatch());
    }

    /**
     * Gives {@code pruned} its own copy of every array it shares with {@code source}.
     * {@link TransAct#pruneStep} leaves the tensors it does not cut (embeddings, norms, lm_head)
     * shared with the input model, and training the pruned model would otherwise change them in
     * the input model too.
     */
    private static void copySharedArrays(LlamaForCausalLM pruned, LlamaForCausalLM source) {
        Map<String, Parameter> before = source.namedParameters();
        for (Map.Entry<String, Parameter> entry : pruned.namedParameters().entrySet()) {
            Parameter original = before.get(entry.getKey());
            Parameter parameter = entry.getValue();
            if (original != null && original.data() == parameter.data()) {
                parameter.set(Tensor.wrap(parameter.data().clone(), parameter.shape()));
            }
        }
    }
}
