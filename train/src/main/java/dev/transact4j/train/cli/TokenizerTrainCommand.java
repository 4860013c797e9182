package dev.transact4j.train.cli;

import dev.transact4j.llama.tokenizer.BpeTrainer;
import java.io.BufferedReader;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code transact tokenizer train}: a byte-level BPE tokenizer from text files. */
@Command(name = "train",
        mixinStandardHelpOptions = true,
        description = {"Train a byte-level BPE tokenizer (Llama 3 pre-tokenization) and write tokenizer.json "
                + "and tokenizer_config.json.",
            "Every non-empty line of the input files is one training text."})
final class TokenizerTrainCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--vocab-size", defaultValue = "8192", paramLabel = "N",
            description = "Vocabulary size in tokens, special tokens and the 256 byte tokens included. "
                    + "Default: ${DEFAULT-VALUE}.")
    int vocabSize;

    @Option(names = "--special-tokens", split = ",", paramLabel = "TOKEN",
            defaultValue = "<|begin_of_text|>,<|end_of_text|>,<|pad|>",
            description = "Comma-separated special tokens, given ids 0, 1 and so on. Default: ${DEFAULT-VALUE}.")
    List<String> specialTokens;

    @Option(names = "--bos-token", defaultValue = "<|begin_of_text|>", paramLabel = "TOKEN",
            description = "Special token put before every encoded text, or empty for none. "
                    + "Default: ${DEFAULT-VALUE}.")
    String bosToken;

    @Option(names = "--eos-token", defaultValue = "<|end_of_text|>", paramLabel = "TOKEN",
            description = "End-of-text token recorded in tokenizer_config.json, or empty for none. "
                    + "Default: ${DEFAULT-VALUE}.")
    String eosToken;

    @Option(names = "--pad-token", defaultValue = "<|pad|>", paramLabel = "TOKEN",
            description = "Padding token recorded in tokenizer_config.json, or empty for none. "
                    + "Default: ${DEFAULT-VALUE}.")
    String padToken;

    @Option(names = "--min-frequency", defaultValue = "2", paramLabel = "N",
            description = "Minimum number of occurrences for a pair to be merged. Default: ${DEFAULT-VALUE}.")
    int minFrequency;

    @Option(names = {"-o", "--output"}, defaultValue = ".", paramLabel = "DIR",
            description = "Directory to write tokenizer.json and tokenizer_config.json to. "
                    + "Default: the current directory.")
    Path output;

    @Parameters(arity = "1..*", paramLabel = "FILE", description = "Training text files (.gz is decompressed).")
    List<Path> files;

    @Override
    public Integer call() throws Exception {
        CommandLine command = spec.commandLine();
        BpeTrainer.Options options;
        try {
            options = new BpeTrainer.Options(vocabSize, specialTokens, emptyToNull(bosToken), emptyToNull(eosToken),
                    emptyToNull(padToken), minFrequency);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(command, e.getMessage());
        }
        CliFiles.createOutputDirectory(command, "--output", output);
        List<String> texts = new ArrayList<>();
        for (Path file : files) {
            try (BufferedReader in = CliFiles.openText(command, "training file", file)) {
                String line;
                while ((line = in.readLine()) != null) {
                    if (!line.isEmpty()) {
                        texts.add(line);
                    }
                }
            }
        }
        if (texts.isEmpty()) {
            throw new CommandLine.ParameterException(command, "the input files " + files
                    + " contain no text to train on");
        }
        PrintWriter err = command.getErr();
        long[] lastPercent = {-10};
        BpeTrainer.Result result = BpeTrainer.train(texts, options, (stage, done, total) -> {
            long percent = total == 0 ? 100 : done * 100 / total;
            if (percent / 10 != lastPercent[0] / 10 || done == total) {
                if (percent != lastPercent[0]) {
                    err.println(stage + ": " + done + "/" + total + " (" + percent + "%)");
                    err.flush();
                }
                lastPercent[0] = percent;
            }
        });
        result.write(output);
        err.println("wrote " + output.resolve("tokenizer.json") + ": " + result.vocab().size() + " tokens, "
                + result.merges().size() + " merges, from " + texts.size() + " texts");
        err.flush();
        return 0;
    }

    private static String emptyToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }
}
