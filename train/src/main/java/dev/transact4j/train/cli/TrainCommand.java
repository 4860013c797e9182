package dev.transact4j.train.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.transact4j.llama.LlamaConfig;
import dev.transact4j.llama.LlamaForCausalLM;
import dev.transact4j.llama.checkpoint.LlamaCheckpoint;
import dev.transact4j.llama.tokenizer.Tokenizer;
import dev.transact4j.nn.io.AtomicFiles;
import dev.transact4j.train.corpus.BrownCorpus;
import dev.transact4j.train.data.DatasetException;
import dev.transact4j.train.data.DatasetLoader;
import dev.transact4j.train.data.DatasetSource;
import dev.transact4j.train.data.ProgressListener;
import dev.transact4j.train.data.TokenDtype;
import dev.transact4j.train.data.TokenEncoder;
import dev.transact4j.train.data.TrainingData;
import dev.transact4j.train.trainer.LlamaTrainable;
import dev.transact4j.train.trainer.PeakMemory;
import dev.transact4j.train.trainer.Trainer;
import dev.transact4j.train.trainer.TrainingConfig;
import dev.transact4j.train.trainer.TrainingDivergedException;
import dev.transact4j.train.trainer.TrainingResult;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/**
 * {@code transact train}: trains a Llama model with the {@link Trainer}, from a preset, a
 * config.json or a Hugging Face model directory, on text or token files, or on the embedded Brown
 * corpus with the demo tokenizer when no data is given.
 */
@Command(name = "train",
        mixinStandardHelpOptions = true,
        description = {"Train a Llama model on the CPU, writing checkpoints and a metrics log into the run directory.",
            "Without --train it trains on the embedded Brown corpus with the demo tokenizer."})
final class TrainCommand implements Callable<Integer> {

    enum Format { text, jsonl, tokens }

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = {"--out", "--output"}, required = true, paramLabel = "DIR",
            description = "Run directory for checkpoint/, metrics.jsonl and the token cache.")
    Path out;

    @Option(names = "--model", defaultValue = "tiny", paramLabel = "MODEL",
            description = "A preset (tiny or small), a config.json, or a model directory whose weights are the "
                    + "starting point. Default: ${DEFAULT-VALUE}.")
    String model;

    @Option(names = "--resume", description = "Continue the run in --out from its checkpoint.")
    boolean resume;

    @Option(names = "--tokenizer", paramLabel = "FILE_OR_DIR",
            description = "tokenizer.json, or a directory containing it. Default: the embedded demo tokenizer.")
    Path tokenizerPath;

    @Option(names = "--eos-token", defaultValue = "<|end_of_text|>", paramLabel = "TOKEN",
            description = "Token placed after every document. Default: ${DEFAULT-VALUE}.")
    String eosToken;

    @Option(names = {"--train", "--data"}, paramLabel = "PATH", description = "Training file or directory.")
    Path trainPath;

    @Option(names = {"--validation", "--valid-data"}, paramLabel = "PATH",
            description = "Validation file or directory. Default: the end of the training data.")
    Path validationPath;

    @Option(names = {"--validation-fraction", "--valid-fraction"}, defaultValue = "0.05", paramLabel = "FRACTION",
            description = "Fraction of the training blocks kept for validation without --validation. "
                    + "Default: ${DEFAULT-VALUE}.")
    double validationFraction;

    @Option(names = "--format", defaultValue = "text", paramLabel = "FORMAT",
            description = "Data format: text (each file one document), jsonl (a \"text\" field per line) or tokens "
                    + "(token files, llm.c header or raw --token-dtype ids). Default: ${DEFAULT-VALUE}.")
    Format format;

    @Option(names = "--token-dtype", defaultValue = "UINT16", paramLabel = "DTYPE",
            description = "Width of raw token files without an llm.c header: UINT16 or UINT32. "
                    + "Default: ${DEFAULT-VALUE}.")
    TokenDtype tokenDtype;

    @Option(names = "--seq-len", defaultValue = "256", paramLabel = "TOKENS",
            description = "Tokens per training row. Default: ${DEFAULT-VALUE}.")
    int seqLen;

    @Option(names = "--micro-batch", defaultValue = "8", paramLabel = "ROWS",
            description = "Rows per micro-batch. Default: ${DEFAULT-VALUE}.")
    int microBatch;

    @Option(names = "--accumulation", defaultValue = "1", paramLabel = "N",
            description = "Micro-batches per optimiser step. Default: ${DEFAULT-VALUE}.")
    int accumulation;

    @Option(names = "--steps", defaultValue = "1000", paramLabel = "N",
            description = "Optimiser steps. Default: ${DEFAULT-VALUE}.")
    long steps;

    @Option(names = "--lr", defaultValue = "3e-4", paramLabel = "RATE",
            description = "Peak learning rate. Default: ${DEFAULT-VALUE}.")
    double learningRate;

    @Option(names = "--min-lr-ratio", defaultValue = "0.1", paramLabel = "RATIO",
            description = "Final learning rate as a fraction of the peak. Default: ${DEFAULT-VALUE}.")
    double minLrRatio;

    @Option(names = "--warmup", defaultValue = "100", paramLabel = "STEPS",
            description = "Warm-up steps. Default: ${DEFAULT-VALUE}.")
    long warmup;

    @Option(names = "--weight-decay", defaultValue = "0.1", paramLabel = "DECAY",
            description = "AdamW weight decay of matrices. Default: ${DEFAULT-VALUE}.")
    double weightDecay;

    @Option(names = "--max-grad-norm", defaultValue = "1.0", paramLabel = "NORM",
            description = "Global gradient norm to clip to, 0 for none. Default: ${DEFAULT-VALUE}.")
    double maxGradNorm;

    @Option(names = "--eval-every", defaultValue = "100", paramLabel = "STEPS",
            description = "Steps between evaluations, 0 for the end only. Default: ${DEFAULT-VALUE}.")
    int evalEvery;

    @Option(names = "--eval-batches", defaultValue = "0", paramLabel = "N",
            description = "Micro-batches per evaluation, 0 for all validation blocks. Default: ${DEFAULT-VALUE}.")
    int evalBatches;

    @Option(names = "--checkpoint-every", defaultValue = "100", paramLabel = "STEPS",
            description = "Steps between checkpoints, 0 for the end only. Default: ${DEFAULT-VALUE}.")
    int checkpointEvery;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "N",
            description = "Seed of weight initialisation, shuffling and the trainer's generator. Default: ${DEFAULT-VALUE}.")
    long seed;

    @CommandLine.Mixin
    ThreadsOption threads;

    @Override
    public Integer call() throws IOException {
        CommandLine command = spec.commandLine();
        checkOptions(command);
        TrainingConfig config;
        try {
            config = TrainingConfig.builder().seed(seed).microBatchSize(microBatch).gradientAccumulationSteps(accumulation)
                    .maxSteps(steps).learningRate(learningRate).minLrRatio(minLrRatio).warmupSteps(warmup)
                    .weightDecay(weightDecay).maxGradNorm(maxGradNorm).evalEvery(evalEvery).evalBatches(evalBatches)
                    .checkpointEvery(checkpointEvery).build();
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(command, e.getMessage());
        }

        // model and tokenizer, checked against each other before anything is written
        LlamaForCausalLM llama = loadModel(command);
        if (seqLen > llama.config().maxPositionEmbeddings()) {
            throw new CommandLine.ParameterException(command, "--seq-len must be in [1, "
                    + llama.config().maxPositionEmbeddings() + "] (the model's max_position_embeddings), got " + seqLen);
        }
        TokenEncoder encoder = encoder(command);

        // data, and the trainer's check that the training blocks fill a micro-batch
        boolean outExisted = Files.exists(out);
        CliFiles.createOutputDirectory(command, "--out", out);
        TrainingData data;
        Trainer trainer;
        try {
            data = prepareData(encoder, llama.config().vocabSize());
            trainer = new Trainer(new LlamaTrainable(llama), data.train(), data.validation(), config, out);
        } catch (DatasetException e) {
            removeIfEmpty(outExisted, out, e);
            throw new CommandLine.ParameterException(command, DataAdvice.forTrain(e));
        } catch (IOException | RuntimeException e) {
            removeIfEmpty(outExisted, out, e);
            throw e;
        }

        TrainingResult result;
        try (InterruptNotice notice = InterruptNotice.register("train", out, System.err)) {
            result = resume ? trainer.resume() : trainer.run();
        } catch (TrainingDivergedException e) {
            command.getErr().println("transact train: " + e.getMessage());
            return 1;
        } catch (IllegalStateException | IllegalArgumentException e) {
            throw new CommandLine.ParameterException(command, e.getMessage());
        }

        PrintWriter outWriter = command.getOut();
        outWriter.printf(Locale.ROOT, "steps %d, tokens %d, final loss %.4f%s, peak heap %s%n", result.steps(),
                result.tokensSeen(), result.trainLoss(), result.validation() == null ? ""
                        : String.format(Locale.ROOT, ", validation loss %.4f (perplexity %.2f)",
                        result.validation().loss(), result.validation().perplexity()),
                PeakMemory.mebibytes(result.peakHeapBytes()));
        outWriter.println("checkpoint: " + trainer.checkpoints().directory());
        return 0;
    }

    /**
     * Rejects out-of-range option values with the ranges {@link TrainingConfig} enforces, before the
     * model is loaded or --out is created.
     */
    private void checkOptions(CommandLine command) {
        requireAtLeast(command, "--steps", steps, 1);
        requireAtLeast(command, "--micro-batch", microBatch, 1);
        requireAtLeast(command, "--accumulation", accumulation, 1);
        requireAtLeast(command, "--seq-len", seqLen, 1);
        requireAtLeast(command, "--warmup", warmup, 0);
        requireAtLeast(command, "--eval-every", evalEvery, 0);
        requireAtLeast(command, "--eval-batches", evalBatches, 0);
        requireAtLeast(command, "--checkpoint-every", checkpointEvery, 0);
        if (!(learningRate > 0) || Double.isInfinite(learningRate)) {
            throw new CommandLine.ParameterException(command, "--lr must be a positive finite number, got "
                    + learningRate);
        }
        if (!(minLrRatio >= 0 && minLrRatio <= 1)) {
            throw new CommandLine.ParameterException(command, "--min-lr-ratio must be in [0, 1], got " + minLrRatio);
        }
        if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
            throw new CommandLine.ParameterException(command, "--weight-decay must be a finite number of 0 or more, got "
                    + weightDecay);
        }
        if (!(maxGradNorm >= 0) || Double.isInfinite(maxGradNorm)) {
            throw new CommandLine.ParameterException(command, "--max-grad-norm must be a finite number of 0 or more"
                    + " (0 turns clipping off), got " + maxGradNorm);
        }
        if (!(validationFraction >= 0 && validationFraction < 1)) {
            throw new CommandLine.ParameterException(command, "--validation-fraction must be at least 0 and below 1, got "
                    + validationFraction);
        }
    }

    private static void requireAtLeast(CommandLine command, String option, long value, long min) {
        if (value < min) {
            String range = min == 0 ? "0 or more" : "at least " + min;
            throw new CommandLine.ParameterException(command, option + " must be " + range + ", got " + value);
        }
    }

    /**
     * Deletes {@code dir} when this run created it and it contains no files yet, so a failed start
     * leaves no empty run directory behind. A directory that existed before is never touched. A
     * failure to delete is attached to {@code failure}, the error being reported.
     */
    private static void removeIfEmpty(boolean existedBefore, Path dir, Exception failure) {
        if (existedBefore || !Files.isDirectory(dir)) {
            return;
        }
        try {
            List<Path> tree;
            try (Stream<Path> walk = Files.walk(dir)) {
                tree = walk.toList();
            }
            if (tree.stream().anyMatch(path -> !Files.isDirectory(path))) {
                return;
            }
            for (int i = tree.size() - 1; i >= 0; i--) {
                Files.delete(tree.get(i));
            }
        } catch (IOException | java.io.UncheckedIOException e) {
            failure.addSuppressed(e);
        }
    }

    private LlamaForCausalLM loadModel(CommandLine command) throws IOException {
        if (model.equals("tiny") || model.equals("small")) {
            LlamaConfig config = model.equals("tiny") ? LlamaConfig.tiny() : LlamaConfig.small();
            return LlamaForCausalLM.initialize(config, seed);
        }
        Path path = Path.of(model);
        if (Files.isDirectory(path) && Files.exists(path.resolve("config.json"))
                && (Files.exists(path.resolve("model.safetensors"))
                || Files.exists(path.resolve("model.safetensors.index.json")))) {
            try {
                return LlamaCheckpoint.load(path).model();
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(command, "invalid model " + path + ": "
                        + CliModels.shortened(e.getMessage()));
            }
        }
        Path configFile = Files.isDirectory(path) ? path.resolve("config.json") : path;
        if (!Files.isRegularFile(configFile)) {
            throw new CommandLine.ParameterException(command, "--model " + model
                    + " is not a preset (tiny, small), a config.json or a model directory");
        }
        try {
            return LlamaForCausalLM.initialize(LlamaConfig.load(configFile), seed);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(command, e.getMessage());
        }
    }

    private TokenEncoder encoder(CommandLine command) throws IOException {
        Tokenizer tokenizer;
        String fingerprint;
        if (tokenizerPath == null) {
            try (InputStream in = BrownCorpus.class.getResourceAsStream(BrownCorpus.TOKENIZER_RESOURCE)) {
                if (in == null) {
                    throw new IllegalStateException("resource " + BrownCorpus.TOKENIZER_RESOURCE + " is missing from the"
                            + " classpath; it belongs to the transact4j-train jar");
                }
                byte[] bytes = in.readAllBytes();
                tokenizer = Tokenizer.read(new java.io.ByteArrayInputStream(bytes), BrownCorpus.TOKENIZER_RESOURCE);
                fingerprint = sha256(bytes);
            }
        } else {
            tokenizer = CliFiles.loadTokenizer(command, tokenizerPath);
            Path file = Files.isDirectory(tokenizerPath) ? tokenizerPath.resolve("tokenizer.json") : tokenizerPath;
            fingerprint = TokenEncoder.sha256Of(file);
        }
        OptionalInt eos = tokenizer.tokenToId(eosToken);
        if (eos.isEmpty()) {
            throw new CommandLine.ParameterException(command, "the tokenizer has no token " + eosToken
                    + "; name the end-of-document token with --eos-token");
        }
        return TokenEncoder.of(fingerprint, eos.getAsInt(), text -> tokenizer.encodeIds(text, false));
    }

    private TrainingData prepareData(TokenEncoder encoder, int vocabSize) throws IOException {
        DatasetLoader loader = new DatasetLoader(out.resolve("token-cache"), encoder, ProgressListener.NONE);
        if (trainPath == null) {
            Path trainFile = writeParagraphs(out.resolve("brown/train.jsonl"), BrownCorpus.trainParagraphs());
            Path validFile = writeParagraphs(out.resolve("brown/valid.jsonl"), BrownCorpus.validParagraphs());
            return TrainingData.prepare(loader, DatasetSource.jsonlText(trainFile), DatasetSource.jsonlText(validFile),
                    0, seqLen, vocabSize);
        }
        DatasetSource validation = validationPath == null ? null : source(validationPath);
        return TrainingData.prepare(loader, source(trainPath), validation, validationFraction, seqLen, vocabSize);
    }

    private DatasetSource source(Path path) {
        switch (format) {
            case text:
                return DatasetSource.text(path);
            case jsonl:
                return DatasetSource.jsonlText(path);
            case tokens:
                return DatasetSource.tokenFile(path, tokenDtype);
            default:
                throw new AssertionError(format);
        }
    }

    /** Writes one JSON Lines document per paragraph, unless the file exists from an earlier run. */
    private static Path writeParagraphs(Path file, List<String> paragraphs) throws IOException {
        if (Files.exists(file)) {
            return file;
        }
        Files.createDirectories(file.getParent());
        ObjectMapper json = new ObjectMapper();
        StringBuilder lines = new StringBuilder();
        for (String paragraph : paragraphs) {
            lines.append(json.writeValueAsString(Map.of("text", paragraph))).append(System.lineSeparator());
        }
        AtomicFiles.write(file, lines.toString().getBytes(StandardCharsets.UTF_8));
        return file;
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
