package dev.transact4j.train.cli;

import dev.transact4j.llama.LlamaConfig;
import dev.transact4j.llama.LlamaForCausalLM;
import dev.transact4j.nn.safetensors.DType;
import dev.transact4j.train.data.DatasetException;
import dev.transact4j.train.data.TrainingData;
import dev.transact4j.train.pipeline.DemoRunner;
import dev.transact4j.train.pipeline.LossCurve;
import dev.transact4j.train.pipeline.LossPlot;
import dev.transact4j.train.pipeline.TrainingPhase;
import dev.transact4j.train.pipeline.Validation;
import dev.transact4j.train.trainer.CheckpointStore;
import dev.transact4j.train.trainer.TrainingResult;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code transact pretrain}: trains a Llama from scratch and saves it as a Hugging Face model directory. */
@Command(name = "pretrain", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Train a Llama from scratch. Writes OUTPUT/model (a Hugging Face model directory with the "
                + "tokenizer), OUTPUT/run (metrics.jsonl and the trainer checkpoint) and "
                + "OUTPUT/loss-curves.png. Working files go to OUTPUT/data (the text files of the embedded "
                + "corpus when no --data is given, and the token cache) and, without --tokenizer, "
                + "OUTPUT/tokenizer (the demo tokenizer).")
public final class PretrainCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--config", paramLabel = "NAME|PATH", defaultValue = "demo",
            description = "Model shape: a preset (demo, tiny, small) or a config.json file or model directory. "
                    + "Default: ${DEFAULT-VALUE}.")
    String config;

    @Option(names = {"--output", "--out"}, paramLabel = "DIR", required = true,
            description = "Output folder. It must not hold a run yet, unless --resume is given.")
    Path output;

    @Option(names = "--resume",
            description = "Continue the interrupted run in --output from its last checkpoint, with the same options.")
    boolean resume;

    @Option(names = "--checkpoint-every", paramLabel = "STEPS", defaultValue = "100",
            description = "Steps between checkpoints in OUTPUT/run, from which --resume continues; 0 for the end only. "
                    + "Default: ${DEFAULT-VALUE}.")
    int checkpointEvery;

    @Mixin
    DataOptions data;

    @Option(names = "--tokens", paramLabel = "N", defaultValue = "200000",
            description = "Training tokens. Default: ${DEFAULT-VALUE}.")
    long tokens;

    @Option(names = "--seq-len", paramLabel = "TOKENS", defaultValue = "128",
            description = "Tokens per sequence. Default: ${DEFAULT-VALUE}.")
    int seqLen;

    @Option(names = "--global-batch", paramLabel = "SEQUENCES", defaultValue = "8",
            description = "Sequences per optimizer step. Default: ${DEFAULT-VALUE}.")
    int globalBatch;

    @Option(names = "--micro-batch", paramLabel = "SEQUENCES", defaultValue = "8",
            description = "Sequences per forward pass; must divide --global-batch. Default: ${DEFAULT-VALUE}.")
    int microBatch;

    @Option(names = "--lr", paramLabel = "RATE", defaultValue = "4e-3",
            description = "Peak learning rate (warm-up, then cosine to a tenth). Default: ${DEFAULT-VALUE}.")
    double learningRate;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "1234", description = "Random seed. Default: ${DEFAULT-VALUE}.")
    long seed;

    @CommandLine.Mixin
    ThreadsOption threads;

    @Override
    public Integer call() throws Exception {
        CommandLine cli = spec.commandLine();
        LlamaConfig modelConfig = CliModels.config(cli, config);
        CliChecks.batches(cli, tokens, seqLen, globalBatch, microBatch, learningRate);
        data.checkRanges(cli);
        if (seqLen > modelConfig.maxPositionEmbeddings()) {
            throw new CommandLine.ParameterException(cli, "--seq-len " + seqLen + " exceeds the model's "
                    + "max_position_embeddings " + modelConfig.maxPositionEmbeddings());
        }
        if (checkpointEvery < 0) {
            throw new CommandLine.ParameterException(cli, "--checkpoint-every must be 0 or more, got " + checkpointEvery);
        }
        if (resume && !CliChecks.hasCheckpoint(output.resolve("run"))) {
            throw new CommandLine.ParameterException(cli, "no checkpoint to resume in " + output.resolve("run")
                    + "; start the run without --resume");
        }
        if (resume) {
            checkResumedShape(cli, modelConfig);
        }
        if (!resume && CliChecks.hasCheckpoint(output.resolve("run"))) {
            throw new CommandLine.ParameterException(cli, "output " + output + " already holds a training run; pass"
                    + " --resume to continue it, or choose a new --output folder");
        }

        DataOptions.Prepared prepared = data.prepareOutput(cli, null, output, seqLen, modelConfig.vocabSize());
        DataOptions.TokenizerFiles tokenizer = prepared.tokenizer();
        TrainingData trainingData = prepared.data();
        int tokenizerVocab = tokenizer.tokenizer().vocabSize();
        if (tokenizerVocab < modelConfig.vocabSize()) {
            System.out.printf(Locale.ROOT, "Note: the tokenizer has %,d tokens and the model's vocab_size is %,d, so"
                    + " %,d embedding rows stay unused; a config.json with vocab_size %d drops them%n",
                    tokenizerVocab, modelConfig.vocabSize(), modelConfig.vocabSize() - tokenizerVocab, tokenizerVocab);
        }
        LlamaForCausalLM model = LlamaForCausalLM.initialize(modelConfig, seed);
        long steps = Math.max(1, Math.round((double) tokens / ((long) globalBatch * seqLen)));
        System.out.printf(Locale.ROOT, "Pretraining %s for %d steps (%,d tokens)%n", model, steps,
                steps * globalBatch * seqLen);

        LossCurve curve = new LossCurve();
        TrainingResult result;
        try (InterruptNotice notice = InterruptNotice.register("pretrain", output.resolve("run"), System.err)) {
            result = TrainingPhase.train(model, trainingData, microBatch, globalBatch, data.evalBatches, steps,
                    learningRate, seed, output.resolve("run"), curve, false, checkpointEvery, resume);
        } catch (DatasetException e) {
            // the trainer rejects training blocks that do not fill one micro-batch
            throw new CommandLine.ParameterException(cli, DataAdvice.forPretrain(e));
        } catch (IllegalArgumentException | IllegalStateException e) {
            if (!resume) {
                throw e;
            }
            String message = CliModels.shortened(e.getMessage());
            if (message.startsWith("Cannot resume") && message.contains(" with a different config: ")) {
                // a setting that the losses depend on differs from the checkpoint's
                message = "the interrupted run in " + output.resolve("run") + " used other settings: "
                        + optionNames(message) + "; pass the options of the interrupted run";
            } else {
                message = "cannot resume from " + output.resolve("run").resolve("checkpoint") + ": " + message;
            }
            throw new CommandLine.ParameterException(cli, message);
        }
        Path modelDir = DemoRunner.withTokenizer(model, tokenizer.files()).save(output.resolve("model"), DType.F32);
        LossPlot.write(curve, "Pretraining", output.resolve("loss-curves.png"));
        System.out.printf(Locale.ROOT, "Validation perplexity %.2f; model saved to %s%n",
                Validation.of(result).perplexity(), modelDir.toAbsolutePath());
        return 0;
    }

    /**
     * Rejects a --config whose model shape differs from the checkpoint's, in one line, before the
     * weights are loaded and every tensor is reported as a mismatch.
     */
    private void checkResumedShape(CommandLine cli, LlamaConfig modelConfig) {
        Path saved = new CheckpointStore(output.resolve("run")).completeCheckpoint().resolve(LlamaConfig.FILE_NAME);
        if (!Files.isRegularFile(saved)) {
            return;
        }
        LlamaConfig checkpoint;
        try {
            checkpoint = LlamaConfig.load(saved);
        } catch (IllegalArgumentException | UncheckedIOException e) {
            throw new CommandLine.ParameterException(cli, "cannot resume: " + e.getMessage());
        }
        if (!shape(checkpoint).equals(shape(modelConfig))) {
            throw new CommandLine.ParameterException(cli, "the checkpoint in " + output.resolve("run") + " holds a"
                    + " model of " + shape(checkpoint) + ", and --config " + config + " gives " + shape(modelConfig)
                    + "; pass the --config of the interrupted run");
        }
    }

    private static String shape(LlamaConfig c) {
        return String.format(Locale.ROOT, "hidden %d, %d layers, %d heads (%d key/value) x %d, MLP %d, vocabulary %d",
                c.hiddenSize(), c.numHiddenLayers(), c.numAttentionHeads(), c.numKeyValueHeads(), c.headDim(),
                c.intermediateSize(), c.vocabSize());
    }

    /** Option names of pretrain for the trainer's config fields in a resume error, with their values. */
    private static final Map<String, String> FIELD_OPTIONS = Map.of(
            "learning_rate", "--lr",
            "seed", "--seed",
            "micro_batch_size", "--micro-batch",
            "gradient_accumulation_steps", "--global-batch / --micro-batch",
            "max_steps", "steps (from --tokens, --seq-len and --global-batch)",
            "warmup_steps", "warm-up steps (from --tokens, --seq-len and --global-batch)");

    /**
     * Returns the differences that the trainer lists after "with a different config: " (such as
     * {@code learning_rate: 0.004 -> 0.001}), with pretrain's option names for its fields.
     */
    private static String optionNames(String message) {
        int start = message.indexOf(" with a different config: ") + " with a different config: ".length();
        int end = message.indexOf(". Only ", start);
        String differences = message.substring(start, end < 0 ? message.length() : end);
        StringBuilder out = new StringBuilder();
        for (String difference : differences.split(", ")) {
            int colon = difference.indexOf(": ");
            String field = colon < 0 ? difference : difference.substring(0, colon);
            String option = FIELD_OPTIONS.getOrDefault(field, field);
            out.append(out.length() == 0 ? "" : ", ").append(colon < 0 ? option
                    : option + " " + difference.substring(colon + 2));
        }
        return out.toString();
    }
}
