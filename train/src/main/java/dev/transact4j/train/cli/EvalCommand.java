package dev.transact4j.train.cli;

import dev.transact4j.llama.checkpoint.LlamaCheckpoint;
import dev.transact4j.llama.inference.LlamaCausalLm;
import dev.transact4j.llama.inference.Perplexity;
import dev.transact4j.llama.tokenizer.Tokenizer;
import dev.transact4j.train.data.TokenDtype;
import dev.transact4j.train.data.TokenSequence;
import dev.transact4j.train.data.DatasetLoader;
import dev.transact4j.train.data.DatasetSource;
import dev.transact4j.train.data.ProgressListener;
import java.io.BufferedReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code transact eval}: sliding-window perplexity of a model on a text or token file. */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Compute a model's perplexity on a text or token file with the sliding-window method.",
                "", "Windows of --context tokens start every --stride tokens, and each token is scored once. The "
                + "validation perplexity that pretrain, train and prune log is a different measure, so the "
                + "two differ on the same model: it scores separate blocks of --seq-len tokens, and only the "
                + "first --eval-batches micro-batches of the validation data. The demo scores the blocks of "
                + "its 30,000-character validation slice."})
public final class EvalCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", paramLabel = "DIR", required = true, description = "A Hugging Face model directory.")
    Path model;

    static final class Input {
        @Option(names = "--text", paramLabel = "FILE", required = true,
                description = "UTF-8 text file (gzip when it ends in .gz), encoded with the tokenizer and its BOS.")
        Path text;

        @Option(names = "--token-file", paramLabel = "FILE", required = true,
                description = "Token file: llm.c header, or raw uint16 ids (nanoGPT *.bin).")
        Path tokens;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    @Option(names = "--tokenizer", paramLabel = "FILE",
            description = "tokenizer.json for --text. Default: the model directory's.")
    Path tokenizer;

    @Option(names = "--context", paramLabel = "TOKENS",
            description = "Window length in tokens. Default: the model's max_position_embeddings, at most 1024.")
    Integer context;

    @Option(names = "--stride", paramLabel = "TOKENS",
            description = "Tokens between window starts. Default: half the context.")
    Integer stride;

    @Option(names = "--max-tokens", paramLabel = "N", defaultValue = "0",
            description = "Evaluate only the first N tokens; 0 for all. Default: ${DEFAULT-VALUE}.")
    long maxTokens;

    @CommandLine.Mixin
    ThreadsOption threads;

    @Override
    public Integer call() throws Exception {
        CommandLine cli = spec.commandLine();
        LlamaCheckpoint.Loaded loaded = CliModels.load(cli, model);
        int maxLength = context != null ? context : Math.min(1024, loaded.model().config().maxPositionEmbeddings());
        int step = stride != null ? stride : Math.max(1, maxLength / 2);
        if (maxLength < 2 || maxLength > loaded.model().config().maxPositionEmbeddings()) {
            throw new CommandLine.ParameterException(cli, "--context " + maxLength + " must be in [2, "
                    + loaded.model().config().maxPositionEmbeddings() + "] (max_position_embeddings)");
        }
        if (step < 1 || step > maxLength) {
            throw new CommandLine.ParameterException(cli, "--stride " + step + " must be in [1, --context " + maxLength + "]");
        }
        if (maxTokens < 0) {
            throw new CommandLine.ParameterException(cli, "--max-tokens must be 0 or more, got " + maxTokens);
        }

        int[] ids = input.text != null ? encodeText(cli) : readTokens(cli);
        if (maxTokens > 0 && ids.length > maxTokens) {
            ids = java.util.Arrays.copyOf(ids, (int) maxTokens);
        }
        Path source = input.text != null ? input.text : input.tokens;
        if (ids.length < 2) {
            String counted = input.text != null ? " (with the beginning-of-sequence token)" : "";
            throw new CommandLine.ParameterException(cli, source + " gives " + ids.length + " token(s)" + counted
                    + ", and perplexity needs at least 2; pass a file with some text in it");
        }
        int vocab = loaded.model().config().vocabSize();
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocab) {
                String hint = input.text != null ? "use the model's tokenizer"
                        : "check that it is a token file (uint16 ids, or an llm.c header) written with the model's "
                        + "tokenizer, not a text file, which goes to --text";
                throw new CommandLine.ParameterException(cli, source + ": token " + i + " is id " + ids[i]
                        + ", outside the model's vocabulary of " + vocab + "; " + hint);
            }
        }
        long start = System.nanoTime();
        Perplexity.Result result = Perplexity.evaluate(new LlamaCausalLm(loaded.model()), ids, maxLength, step);
        double seconds = (System.nanoTime() - start) / 1e9;
        cli.getOut().printf(Locale.ROOT, "perplexity %.4f | mean NLL %.4f nats | %d tokens scored of %d | context %d,"
                        + " stride %d | %.1f s%n", result.perplexity(), result.meanNll(), result.tokensEvaluated(),
                ids.length, maxLength, step, seconds);
        cli.getOut().flush();
        return 0;
    }

    private int[] encodeText(CommandLine cli) throws Exception {
        Tokenizer tok = CliModels.tokenizer(cli, tokenizer, model);
        StringBuilder text = new StringBuilder();
        try (BufferedReader reader = CliFiles.openText(cli, "--text", input.text)) {
            char[] buffer = new char[1 << 16];
            for (int n; (n = reader.read(buffer)) > 0; ) {
                text.append(buffer, 0, n);
            }
        }
        return tok.encodeIds(text.toString(), true);
    }

    private int[] readTokens(CommandLine cli) throws Exception {
        if (!Files.isRegularFile(input.tokens)) {
            throw new CommandLine.ParameterException(cli, "--token-file not found: " + input.tokens);
        }
        Path cache = Files.createTempDirectory("transact-eval");
        try {
            TokenSequence sequence = new DatasetLoader(cache, null, ProgressListener.NONE)
                    .load(DatasetSource.tokenFile(input.tokens, TokenDtype.UINT16));
            long length = maxTokens > 0 ? Math.min(maxTokens, sequence.length()) : sequence.length();
            if (length > Integer.MAX_VALUE - 8) {
                throw new CommandLine.ParameterException(cli, "--token-file has " + length
                        + " tokens; pass --max-tokens of at most " + (Integer.MAX_VALUE - 8));
            }
            int[] ids = new int[(int) length];
            sequence.read(0, ids, 0, ids.length);
            return ids;
        } catch (dev.transact4j.train.data.DatasetException e) {
            throw new CommandLine.ParameterException(cli, CliModels.shortened(e.getMessage()));
        } finally {
            Files.deleteIfExists(cache);
        }
    }
}
