package dev.transact4j.train.cli;

import dev.transact4j.llama.tokenizer.Tokenizer;
import dev.transact4j.nn.io.AtomicFiles;
import dev.transact4j.train.data.DatasetException;
import dev.transact4j.train.data.DatasetLoader;
import dev.transact4j.train.data.DatasetSource;
import dev.transact4j.train.data.ProgressListener;
import dev.transact4j.train.data.TokenDtype;
import dev.transact4j.train.data.TokenEncoder;
import dev.transact4j.train.data.TrainingData;
import dev.transact4j.train.pipeline.CorpusData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** The dataset options shared by {@code pretrain} and {@code prune}. */
final class DataOptions {

    @Option(names = {"--data", "--train"}, paramLabel = "PATH",
            description = "Training data: a UTF-8 text file or a folder of *.txt files (one document each), a JSON "
                + "Lines file (*.jsonl, field \"text\") or a uint16 token file (*.bin). Default: the embedded "
                + "Brown corpus (training split).")
    Path data;

    @Option(names = {"--valid-data", "--validation"}, paramLabel = "PATH",
            description = "Validation data in the same formats. Default: Brown's validation split with the embedded "
                    + "corpus, else the last --valid-fraction of --data.")
    Path validData;

    @Option(names = {"--valid-fraction", "--validation-fraction"}, paramLabel = "F", defaultValue = "0.05",
            description = "Fraction of the --data blocks held out for validation when --valid-data is not given. "
                    + "Default: ${DEFAULT-VALUE}.")
    double validFraction;

    @Option(names = "--eval-batches", paramLabel = "N", defaultValue = "20",
            description = "Validation micro-batches per evaluation; 0 evaluates every validation block. "
                    + "Default: ${DEFAULT-VALUE}.")
    int evalBatches;

    @Option(names = "--tokenizer", paramLabel = "FILE",
            description = "tokenizer.json (or a folder holding it) that encodes text data. Default: the model's own, "
                    + "or the demo tokenizer for a new model.")
    Path tokenizer;

    /** Rejects out-of-range values, so a command can check them before it writes anything. */
    void checkRanges(CommandLine command) {
        if (evalBatches < 0) {
            throw new CommandLine.ParameterException(command, "--eval-batches must be 0 or more, got " + evalBatches);
        }
        if (!(validFraction > 0 && validFraction < 1)) {
            throw new CommandLine.ParameterException(command, "--valid-fraction " + validFraction
                    + " must be between 0 and 1, such as 0.05");
        }
    }

    /** The tokenizer's files, for copying into saved models, and the loaded tokenizer. */
    record TokenizerFiles(Map<String, Path> files, Tokenizer tokenizer, Path json) {
    }

    /** Returns the tokenizer given with --tokenizer, else {@code fallbackDir}'s, else the demo tokenizer written to {@code workDir}. */
    TokenizerFiles tokenizerFiles(CommandLine command, Path fallbackDir, Path workDir) throws IOException {
        Path json;
        if (tokenizer != null) {
            CliFiles.loadTokenizer(command, tokenizer);
            json = Files.isDirectory(tokenizer) ? tokenizer.resolve("tokenizer.json") : tokenizer;
        } else if (fallbackDir != null && Files.isRegularFile(fallbackDir.resolve("tokenizer.json"))) {
            json = fallbackDir.resolve("tokenizer.json");
        } else {
            json = CorpusData.writeDemoTokenizer(workDir.resolve("tokenizer")).get("tokenizer.json");
        }
        Map<String, Path> files = new java.util.LinkedHashMap<>();
        for (String name : CorpusData.TOKENIZER_FILES) {
            Path file = json.resolveSibling(name);
            if (Files.isRegularFile(file)) {
                files.put(name, file);
            }
        }
        return new TokenizerFiles(files, Tokenizer.load(json), json);
    }

    /** The tokenizer and the training data of a run, prepared in its output folder. */
    record Prepared(TokenizerFiles tokenizer, TrainingData data) {
    }

    /**
     * Creates the output folder named by {@code --output}, then loads the tokenizer ({@code --tokenizer},
     * else {@code fallbackDir}'s) and prepares the data in it. When the tokenizer or the data is invalid,
     * nothing has trained yet, so a folder that this call created holds only copies and caches and is
     * deleted before the error goes on. A folder that existed before is left as it is.
     */
    Prepared prepareOutput(CommandLine command, Path fallbackDir, Path output, int seqLen, int vocabSize)
            throws IOException {
        boolean newOutput = !Files.exists(output);
        CliFiles.createOutputDirectory(command, "--output", output);
        try {
            TokenizerFiles tokenizerFiles = tokenizerFiles(command, fallbackDir, output);
            return new Prepared(tokenizerFiles, prepare(command, tokenizerFiles, output, seqLen, vocabSize));
        } catch (CommandLine.ParameterException e) {
            if (newOutput) {
                AtomicFiles.deleteTree(output);
            }
            throw e;
        }
    }

    /** Loads, tokenizes (cached under {@code workDir/data}) and packs the data into blocks of {@code seqLen}. */
    TrainingData prepare(CommandLine command, TokenizerFiles tokenizerFiles, Path workDir, int seqLen, int vocabSize)
            throws IOException {
        checkRanges(command);
        TokenEncoder encoder = CorpusData.encoder(tokenizerFiles.tokenizer(), tokenizerFiles.json());
        try {
            if (data == null) {
                if (validData != null) {
                    throw new CommandLine.ParameterException(command, "--valid-data needs --data");
                }
                return CorpusData.brown(workDir.resolve("data"), encoder, Long.MAX_VALUE, Long.MAX_VALUE, seqLen,
                        vocabSize);
            }
            DatasetLoader loader = new DatasetLoader(workDir.resolve("data").resolve("cache"), encoder,
                    ProgressListener.NONE);
            return TrainingData.prepare(loader, source(command, data, "--data"),
                    validData == null ? null : source(command, validData, "--valid-data"), validFraction, seqLen,
                    vocabSize);
        } catch (DatasetException e) {
            throw new CommandLine.ParameterException(command, DataAdvice.forPretrain(e));
        }
    }

    private static DatasetSource source(CommandLine command, Path path, String option) {
        if (!Files.exists(path)) {
            throw new CommandLine.ParameterException(command, option + " not found: " + path);
        }
        String name = path.getFileName().toString();
        if (name.endsWith(".jsonl")) {
            return DatasetSource.jsonlText(path);
        }
        if (name.endsWith(".bin")) {
            return DatasetSource.tokenFile(path, TokenDtype.UINT16);
        }
        return DatasetSource.text(path);
    }
}
