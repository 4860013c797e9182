package dev.transact4j.train.cli;

import dev.transact4j.llama.checkpoint.LlamaCheckpoint;
import dev.transact4j.llama.inference.GenerationOptions;
import dev.transact4j.llama.inference.GenerationResult;
import dev.transact4j.llama.inference.Generator;
import dev.transact4j.llama.inference.LlamaCausalLm;
import dev.transact4j.llama.inference.SamplingOptions;
import dev.transact4j.llama.tokenizer.Tokenizer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code transact generate}: continues a prompt, streaming the text as it is decoded. */
@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Continue a prompt with a model, streaming the text to stdout; prompt and generation speeds "
                + "go to stderr.")
public final class GenerateCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", paramLabel = "DIR", required = true, description = "A Hugging Face model directory.")
    Path model;

    @Parameters(index = "0", paramLabel = "PROMPT", description = "The prompt text.")
    String prompt;

    @Option(names = "--tokenizer", paramLabel = "FILE", description = "tokenizer.json. Default: the model directory's.")
    Path tokenizer;

    @Option(names = "--max-new-tokens", paramLabel = "N", defaultValue = "64",
            description = "Tokens to generate at most. Default: ${DEFAULT-VALUE}.")
    int maxNewTokens;

    @Option(names = "--temperature", paramLabel = "T", defaultValue = "0.8",
            description = "Sampling temperature; 0 is greedy. Default: ${DEFAULT-VALUE}.")
    float temperature;

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "50",
            description = "Keep the K most likely tokens; 0 turns it off. Default: ${DEFAULT-VALUE}.")
    int topK;

    @Option(names = "--top-p", paramLabel = "P", defaultValue = "0.95",
            description = "Keep the smallest set of tokens whose probability reaches P; 1 turns it off. "
                    + "Default: ${DEFAULT-VALUE}.")
    double topP;

    @Option(names = "--min-p", paramLabel = "P", defaultValue = "0",
            description = "Drop tokens below P times the top probability; 0 turns it off. Default: ${DEFAULT-VALUE}.")
    double minP;

    @Option(names = "--repetition-penalty", paramLabel = "R", defaultValue = "1.0",
            description = "CTRL repetition penalty; 1 turns it off. Default: ${DEFAULT-VALUE}.")
    float repetitionPenalty;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "1234", description = "Sampling seed. Default: ${DEFAULT-VALUE}.")
    long seed;

    @CommandLine.Mixin
    ThreadsOption threads;

    @Override
    public Integer call() throws Exception {
        CommandLine cli = spec.commandLine();
        if (maxNewTokens < 1) {
            throw new CommandLine.ParameterException(cli, "--max-new-tokens must be at least 1, got " + maxNewTokens);
        }
        if (!(temperature >= 0) || Float.isInfinite(temperature)) {
            throw new CommandLine.ParameterException(cli, "--temperature must be 0 (greedy) or a positive number "
                    + "such as 0.7, got " + temperature);
        }
        if (topK < 0) {
            throw new CommandLine.ParameterException(cli, "--top-k must be 0 (off) or positive, got " + topK);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new CommandLine.ParameterException(cli, "--top-p must be in (0, 1], 1 turns it off; got " + topP);
        }
        if (!(minP >= 0 && minP <= 1)) {
            throw new CommandLine.ParameterException(cli, "--min-p must be in [0, 1], 0 turns it off; got " + minP);
        }
        if (!(repetitionPenalty > 0) || Float.isInfinite(repetitionPenalty)) {
            throw new CommandLine.ParameterException(cli, "--repetition-penalty must be a positive number, "
                    + "1 turns it off; got " + repetitionPenalty);
        }
        SamplingOptions sampling;
        GenerationOptions options;
        try {
            sampling = new SamplingOptions(temperature, topK, topP, minP, repetitionPenalty, seed);
            options = GenerationOptions.of(maxNewTokens, sampling);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cli, e.getMessage());
        }
        LlamaCheckpoint.Loaded loaded = CliModels.load(cli, model);
        Tokenizer tok = CliModels.tokenizer(cli, tokenizer, model);
        int[] promptIds = tok.encodeIds(prompt, options.addSpecialTokens());
        int maxPositions = loaded.model().config().maxPositionEmbeddings();
        if (promptIds.length == 0) {
            throw new CommandLine.ParameterException(cli, "the prompt encodes to no tokens; give a non-empty prompt");
        }
        if (promptIds.length > maxPositions) {
            throw new CommandLine.ParameterException(cli, "the prompt has " + promptIds.length
                    + " tokens, more than the model's max_position_embeddings " + maxPositions
                    + "; shorten the prompt");
        }
        Generator generator = new Generator(new LlamaCausalLm(loaded.model()), tok);
        PrintWriter out = cli.getOut();
        out.print(prompt);
        out.flush();
        GenerationResult result = generator.generate(promptIds, options, text -> {
            out.print(text);
            out.flush();
        });
        out.println();
        out.flush();
        cli.getErr().println(result.summary());
        return 0;
    }
}
