package dev.transact4j.train.cli;

import dev.transact4j.llama.LlamaConfig;
import dev.transact4j.llama.LlamaForCausalLM;
import dev.transact4j.llama.checkpoint.HfCheckpoint;
import dev.transact4j.llama.checkpoint.LlamaCheckpoint;
import dev.transact4j.train.data.DatasetException;
import dev.transact4j.train.data.TrainingData;
import dev.transact4j.train.pipeline.DemoRunner;
import dev.transact4j.train.pipeline.LossCurve;
import dev.transact4j.train.pipeline.LossPlot;
import dev.transact4j.train.pipeline.PipelineOptions;
import dev.transact4j.transact.ScorerKind;
import dev.transact4j.train.pipeline.TransActPipeline;
import dev.transact4j.transact.AttentionPruning;
import dev.transact4j.transact.RopeMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code transact prune}: TransAct's multi-shot pruning with training, then fine-tuning. */
@Command(name = "prune", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Prune a Llama with TransAct in several shots, each followed by training, then fine-tune "
                + "(--mode chooses the steps). Writes OUTPUT/shot-<i>/model, OUTPUT/finetune/model, "
                + "OUTPUT/pruning-report.md, OUTPUT/pruning-report.json and OUTPUT/loss-curves.png "
                + "(OUTPUT/loss-curves-ft.png for --mode ft). Working files go to OUTPUT/data (the text files of "
                + "the embedded corpus when no --data is given, and the token cache).")
public final class PruneCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", paramLabel = "DIR",
            description = "The dense model, a Hugging Face model directory. Required for --mode prune and all.")
    Path model;

    @Option(names = {"--output", "--out"}, paramLabel = "DIR", required = true, description = "Output folder.")
    Path output;

    @Option(names = "--mode", paramLabel = "MODE", defaultValue = "all",
            description = "prune: the shots with their training; ft: fine-tune the last shot's model in --output; "
                    + "all: both. Default: ${DEFAULT-VALUE}.")
    String mode;

    @Option(names = "--attn-width", paramLabel = "WIDTH",
            description = "Target attention inner width, heads x head_dim, after the last shot.")
    Integer attentionWidth;

    @Option(names = "--mlp-width", paramLabel = "WIDTH",
            description = "Target MLP width (intermediate_size) after the last shot.")
    Integer mlpWidth;

    @Option(names = "--layers", paramLabel = "N", description = "Target layer count (the first N are kept). Default: all.")
    Integer layers;

    @Option(names = "--sparsity", paramLabel = "PERCENT",
            description = "Percentage of parameters to remove, instead of --attn-width and --mlp-width.")
    Double sparsity;

    @Option(names = "--shots", paramLabel = "K", defaultValue = "3",
            description = "Pruning shots, each followed by training. Default: ${DEFAULT-VALUE}, and with --mode ft"
                    + " the last shot saved in --output.")
    int shots;

    @Option(names = "--calib-samples", paramLabel = "SEQUENCES", defaultValue = "64",
            description = "Calibration sequences scored before each shot. Default: ${DEFAULT-VALUE}.")
    int calibrationSamples;

    @Option(names = "--scorer", paramLabel = "NAME", defaultValue = "acts",
            description = "Channel scorer: acts (L2 norm of transitional activations) or taylor (|grad x weight|). "
                    + "Default: ${DEFAULT-VALUE}.")
    String scorer;

    @Option(names = "--head-mode", paramLabel = "MODE", defaultValue = "heads",
            description = "heads: remove whole heads; dims: remove dimensions inside every head. Default: ${DEFAULT-VALUE}.")
    String headMode;

    @Option(names = "--rope", paramLabel = "MODE", defaultValue = "recompute",
            description = "With --head-mode dims: recompute (new frequencies for the new head_dim, as the original TransAct code does) or "
                    + "keep (keep rotary pairs and their frequencies). Default: ${DEFAULT-VALUE}.")
    String rope;

    @Mixin
    DataOptions data;

    @Option(names = "--seq-len", paramLabel = "TOKENS", defaultValue = "128",
            description = "Tokens per sequence. Default: ${DEFAULT-VALUE}.")
    int seqLen;

    @Option(names = "--prune-tokens", paramLabel = "N", defaultValue = "100000",
            description = "Training tokens spread over the shots: shot i trains p/2 + p(i-1)/(K-1) tokens with "
                    + "p = N/K. With --shots 1 the shot does not train, and only fine-tuning follows. "
                    + "Default: ${DEFAULT-VALUE}.")
    long pruneTokens;

    @Option(names = "--ft-tokens", paramLabel = "N", defaultValue = "50000",
            description = "Fine-tuning tokens; 0 skips fine-tuning. Default: ${DEFAULT-VALUE}.")
    long fineTuneTokens;

    @Option(names = "--global-batch", paramLabel = "SEQUENCES", defaultValue = "8",
            description = "Sequences per optimizer step. Default: ${DEFAULT-VALUE}.")
    int globalBatch;

    @Option(names = "--micro-batch", paramLabel = "SEQUENCES", defaultValue = "8",
            description = "Sequences per forward pass; must divide --global-batch. Default: ${DEFAULT-VALUE}.")
    int microBatch;

    @Option(names = "--lr", paramLabel = "RATE", defaultValue = "2e-3",
            description = "Fine-tuning peak learning rate; shot i trains at lr x 2i/K. Default: ${DEFAULT-VALUE}.")
    double learningRate;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "1234", description = "Random seed. Default: ${DEFAULT-VALUE}.")
    long seed;

    @CommandLine.Mixin
    ThreadsOption threads;

    @Override
    public Integer call() throws Exception {
        CommandLine cli = spec.commandLine();
        TransActPipeline.Mode pipelineMode = switch (mode) {
            case "prune" -> TransActPipeline.Mode.PRUNE;
            case "ft" -> TransActPipeline.Mode.FT;
            case "all" -> TransActPipeline.Mode.ALL;
            default -> throw new CommandLine.ParameterException(cli, "invalid --mode '" + mode + "'; use prune, ft or all");
        };
        if (pipelineMode == TransActPipeline.Mode.FT && !cli.getParseResult().hasMatchedOption("--shots")) {
            // fine-tune the last shot that a --mode prune run saved into this --output
            int saved = lastSavedShot(output);
            if (saved > 0) {
                shots = saved;
            }
        }
        ScorerKind scorerKind = switch (scorer) {
            case "acts" -> ScorerKind.ACTS;
            case "taylor" -> ScorerKind.TAYLOR;
            default -> throw new CommandLine.ParameterException(cli, "invalid --scorer '" + scorer + "'; use acts or taylor");
        };
        AttentionPruning attention = switch (headMode) {
            case "heads" -> AttentionPruning.HEADS;
            case "dims" -> AttentionPruning.HEAD_DIMS;
            default -> throw new CommandLine.ParameterException(cli, "invalid --head-mode '" + headMode
                    + "'; use heads or dims");
        };
        RopeMode ropeMode = switch (rope) {
            case "recompute" -> RopeMode.RECOMPUTE;
            case "keep" -> RopeMode.KEEP;
            default -> throw new CommandLine.ParameterException(cli, "invalid --rope '" + rope + "'; use recompute or keep");
        };
        if (ropeMode == RopeMode.KEEP && attention == AttentionPruning.HEADS) {
            throw new CommandLine.ParameterException(cli, "--rope keep applies only with --head-mode dims: removing"
                    + " whole heads leaves every kept head its rotary pairs and frequencies");
        }
        checkRanges(cli, pipelineMode);
        PipelineOptions options;
        try {
            options = new PipelineOptions(attentionWidth, mlpWidth, layers, sparsity, shots, calibrationSamples,
                    scorerKind, seqLen, pruneTokens, fineTuneTokens, globalBatch, microBatch, learningRate, attention,
                    ropeMode, seed, data.evalBatches);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cli, e.getMessage());
        }

        if (pipelineMode != TransActPipeline.Mode.FT) {
            CliChecks.freshOutput(cli, output.resolve("shot-1").resolve("run"));
        }
        if (pipelineMode == TransActPipeline.Mode.FT && CliChecks.hasCheckpoint(output.resolve("finetune/run"))) {
            throw new CommandLine.ParameterException(cli, "output " + output + " already holds a fine-tuning run in "
                    + output.resolve("finetune") + "; remove or rename that folder to fine-tune again");
        }
        if (pipelineMode != TransActPipeline.Mode.PRUNE) {
            CliChecks.freshOutput(cli, output.resolve("finetune").resolve("run"));
        }

        // the model to prune, or the last shot's model for ft
        Path source = model;
        if (pipelineMode == TransActPipeline.Mode.FT) {
            source = output.resolve("shot-" + shots).resolve("model");
            if (!Files.isDirectory(source)) {
                throw new CommandLine.ParameterException(cli, "--mode ft needs the last shot's model " + source
                        + "; run --mode prune with the same --output first");
            }
        } else if (model == null) {
            throw new CommandLine.ParameterException(cli, "--mode " + mode + " needs --model DIR, the model to prune");
        }
        LlamaCheckpoint.Loaded loaded = CliModels.load(cli, source);
        LlamaForCausalLM dense = loaded.model();
        if (seqLen > dense.config().maxPositionEmbeddings()) {
            throw new CommandLine.ParameterException(cli, "--seq-len " + seqLen + " exceeds the model's "
                    + "max_position_embeddings " + dense.config().maxPositionEmbeddings());
        }
        if (pipelineMode != TransActPipeline.Mode.FT) {
            checkTarget(cli, "--attn-width", attentionWidth, dense.config().attentionWidth(), "attention width");
            checkTarget(cli, "--mlp-width", mlpWidth, dense.config().intermediateSize(), "intermediate_size");
            checkTarget(cli, "--layers", layers, dense.config().numHiddenLayers(), "num_hidden_layers");
            noteAttentionRounding(cli, dense.config(), attention);
        }
        DataOptions.Prepared prepared = data.prepareOutput(cli, source, output, seqLen, dense.config().vocabSize());
        DataOptions.TokenizerFiles tokenizer = prepared.tokenizer();
        TrainingData trainingData = prepared.data();
        HfCheckpoint companions = DemoRunner.withTokenizer(dense, tokenizer.files());

        LossCurve curve = new LossCurve();
        TransActPipeline pipeline = new TransActPipeline(options, trainingData, output, companions, curve)
                .progressBar(false);
        TransActPipeline.Result result;
        try {
            result = pipeline.run(pipelineMode, dense);
        } catch (DatasetException e) {
            // the trainer rejects training blocks that do not fill one micro-batch
            throw new CommandLine.ParameterException(cli, DataAdvice.forPretrain(e));
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cli, CliModels.shortened(e.getMessage()));
        }
        // an ft run keeps the plot of the shots that came before it
        String plot = pipelineMode == TransActPipeline.Mode.FT ? "loss-curves-ft.png" : "loss-curves.png";
        LossPlot.write(curve, "TransAct " + mode, output.resolve(plot));
        for (TransActPipeline.Shot shot : result.shots()) {
            String training = shot.training() == null ? "no training in this shot"
                    : String.format(Locale.ROOT, "after training %.2f", shot.afterTraining().perplexity());
            System.out.printf(Locale.ROOT, "shot %d: attention %d, MLP %d, layers %d; perplexity after pruning %.2f,"
                            + " %s%n", shot.shot(), shot.reached().attentionWidth(),
                    shot.reached().intermediateSize(), shot.reached().numHiddenLayers(), shot.afterPrune().perplexity(),
                    training);
        }
        if (result.afterFineTune() != null) {
            System.out.printf(Locale.ROOT, "fine-tuning: perplexity %.2f -> %.2f%n", result.beforeFineTune().perplexity(),
                    result.afterFineTune().perplexity());
        }
        System.out.println("Model: " + result.modelDir().toAbsolutePath());
        return 0;
    }

    /** Rejects out-of-range option values before any file is written or data is read. */
    private void checkRanges(CommandLine cli, TransActPipeline.Mode pipelineMode) {
        CliChecks.batches(cli, Math.max(1, pruneTokens), seqLen, globalBatch, microBatch, learningRate);
        data.checkRanges(cli);
        boolean widths = attentionWidth != null || mlpWidth != null;
        if (pipelineMode != TransActPipeline.Mode.FT && !widths && sparsity == null) {
            throw new CommandLine.ParameterException(cli, "--mode " + mode + " prunes, so set --attn-width and "
                    + "--mlp-width, or --sparsity");
        }
        if (widths && sparsity != null) {
            throw new CommandLine.ParameterException(cli, "set either --attn-width and --mlp-width or --sparsity, "
                    + "not both");
        }
        if (widths && (attentionWidth == null || mlpWidth == null)) {
            throw new CommandLine.ParameterException(cli, "set both --attn-width and --mlp-width");
        }
        if (sparsity != null && !(sparsity > 0 && sparsity < 100)) {
            throw new CommandLine.ParameterException(cli, "--sparsity " + sparsity
                    + " must be a percentage of parameters to remove in (0, 100), such as 30");
        }
        requirePositive(cli, "--attn-width", attentionWidth);
        requirePositive(cli, "--mlp-width", mlpWidth);
        requirePositive(cli, "--layers", layers);
        requirePositive(cli, "--shots", shots);
        requirePositive(cli, "--calib-samples", calibrationSamples);
        if (pruneTokens < 0) {
            throw new CommandLine.ParameterException(cli, "--prune-tokens must be 0 or more, got " + pruneTokens);
        }
        if (fineTuneTokens < 0) {
            throw new CommandLine.ParameterException(cli, "--ft-tokens must be 0 or more, got " + fineTuneTokens);
        }
    }

    private static void requirePositive(CommandLine cli, String option, Integer value) {
        if (value != null && value < 1) {
            throw new CommandLine.ParameterException(cli, option + " must be at least 1, got " + value);
        }
    }

    /** Rejects a target that is not positive or larger than the model's current size, before any data is read. */
    private static void checkTarget(CommandLine cli, String option, Integer target, int current, String field) {
        if (target != null && (target < 1 || target > current)) {
            throw new CommandLine.ParameterException(cli, option + " " + target + " must be in [1, " + current
                    + "], the model's " + field);
        }
    }

    /** Returns the highest i for which {@code output/shot-i/model} exists, or 0. */
    private static int lastSavedShot(Path output) {
        int last = 0;
        while (Files.isDirectory(output.resolve("shot-" + (last + 1)).resolve("model"))) {
            last++;
        }
        return last;
    }

    /**
     * Prints a note when --attn-width is not a whole number of the units that a shot removes (head
     * groups, or one rotary pair in every head), because the width reached then differs from it.
     */
    private void noteAttentionRounding(CommandLine cli, LlamaConfig config, AttentionPruning attention) {
        if (attentionWidth == null) {
            return;
        }
        int unit = attention == AttentionPruning.HEADS
                ? config.queriesPerKeyValueHead() * config.headDim()
                : 2 * config.numAttentionHeads();
        if (attentionWidth % unit != 0) {
            cli.getOut().printf(Locale.ROOT, "Note: --attn-width %d is not a multiple of %d, the width of %s, so the"
                    + " width reached differs; pruning-report.md lists the widths requested and reached%n",
                    attentionWidth, unit, attention == AttentionPruning.HEADS ? "one head group"
                            : "one rotary pair in every head");
            cli.getOut().flush();
        }
    }
}
