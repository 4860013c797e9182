package dev.transact4j.train.cli;

import dev.transact4j.llama.LlamaConfig;
import dev.transact4j.train.pipeline.DemoRunner;
import dev.transact4j.llama.ModelStats;
import dev.transact4j.nn.safetensors.SafeTensors;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code transact info}: the shape and cost of a model, from its config.json, and the element count
 * of its stored weights when the directory contains a checkpoint.
 */
@Command(name = "info",
        mixinStandardHelpOptions = true,
        description = "Print a model's configuration, parameter count, forward FLOPs per token and KV-cache "
                + "bytes per token.")
final class InfoCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "MODEL",
            description = "A model directory, a config.json file, or a preset name: demo, tiny or small.")
    String model;

    @Option(names = "--model", paramLabel = "MODEL",
            description = "The same as the MODEL argument, spelled as the other commands take it.")
    String modelOption;

    @Option(names = "--context", paramLabel = "TOKENS",
            description = "Context length at which attention FLOPs are counted, in tokens. "
                    + "At most, and by default, the config's max_position_embeddings.")
    Integer context;

    @Override
    public Integer call() throws IOException {
        if (model != null && modelOption != null) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "give the model once, as the MODEL argument or as --model, not both");
        }
        if (model == null) {
            model = modelOption;
        }
        if (model == null) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "missing MODEL: pass a model directory, a config.json file, or a preset name (demo, tiny or small)");
        }
        LlamaConfig config = loadConfig();
        int contextLength = context == null ? config.maxPositionEmbeddings() : context;
        if (contextLength < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--context must be at least 1 token, got " + contextLength);
        }
        if (contextLength > config.maxPositionEmbeddings()) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--context " + contextLength
                    + " exceeds the model's max_position_embeddings " + config.maxPositionEmbeddings()
                    + "; pass at most that many tokens");
        }
        ModelStats stats = ModelStats.of(config);

        // the weights file is read before anything is printed, so a broken one prints only its error
        String storedLine = null;
        Path directory = directory();
        if (directory != null && (Files.exists(directory.resolve(SafeTensors.MODEL_FILE))
                || Files.exists(directory.resolve(SafeTensors.INDEX_FILE)))) {
            long stored = storedElements(directory);
            storedLine = String.format(Locale.ROOT, "stored elements     %,d%s", stored,
                    stored == stats.totalParameters() ? "" : " (differs from the config's parameter count)");
        } else if (directory != null) {
            storedLine = String.format(Locale.ROOT, "stored elements     none: %s has no %s or %s", directory,
                    SafeTensors.MODEL_FILE, SafeTensors.INDEX_FILE);
        }
        PrintWriter out = spec.commandLine().getOut();

        // shape
        out.printf(Locale.ROOT, "model               %s%n", model);
        out.printf(Locale.ROOT, "layers              %d%n", config.numHiddenLayers());
        out.printf(Locale.ROOT, "hidden size         %d%n", config.hiddenSize());
        out.printf(Locale.ROOT, "attention           %d heads x %d dims = %d (key/value heads: %d)%n",
                config.numAttentionHeads(), config.headDim(), config.attentionWidth(), config.numKeyValueHeads());
        out.printf(Locale.ROOT, "MLP width           %d%n", config.intermediateSize());
        out.printf(Locale.ROOT, "vocabulary          %d%s%n", config.vocabSize(),
                config.tieWordEmbeddings() ? " (lm_head tied to the embedding)" : "");
        out.printf(Locale.ROOT, "max positions       %d%n", config.maxPositionEmbeddings());

        // cost
        out.printf(Locale.ROOT, "parameters          %,d (embedding %,d, layers %,d, lm_head %,d)%n",
                stats.totalParameters(), stats.embeddingParameters(), stats.layerParameters(),
                stats.lmHeadParameters());
        out.printf(Locale.ROOT, "FLOPs per token     %,d (forward, at a context of %d tokens)%n",
                stats.forwardFlopsPerToken(contextLength), contextLength);
        out.printf(Locale.ROOT, "KV cache per token  %,d bytes (float32)%n", stats.kvCacheBytesPerToken());
        out.printf(Locale.ROOT, "weights             %,d bytes as float32%n", stats.weightBytes());

        if (storedLine != null) {
            out.println(storedLine);
        }
        out.flush();
        return 0;
    }

    private LlamaConfig loadConfig() {
        if (model.equals("demo") || model.equals("tiny") || model.equals("small")) {
            return DemoRunner.config(model);
        }
        Path path = Path.of(model);
        if (!Files.exists(path)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "model not found: " + model
                    + " (pass a model directory, a config.json file, or a preset name: demo, tiny or small)");
        }
        if (Files.isRegularFile(path) && !path.getFileName().toString().endsWith(".json")) {
            throw new CommandLine.ParameterException(spec.commandLine(), model + " is not a config.json file; "
                    + "pass the model directory or its config.json");
        }
        try {
            return LlamaConfig.load(path);
        } catch (IllegalArgumentException | UncheckedIOException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e, null, model);
        }
    }

    private Path directory() {
        Path path = Path.of(model);
        return Files.isDirectory(path) ? path : null;
    }

    private static long storedElements(Path directory) throws IOException {
        try (SafeTensors weights = SafeTensors.open(directory)) {
            long total = 0;
            for (String name : weights.names()) {
                total += weights.info(name).numel();
            }
            return total;
        }
    }
}
