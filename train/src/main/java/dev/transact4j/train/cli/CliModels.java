package dev.transact4j.train.cli;

import dev.transact4j.llama.LlamaConfig;
import dev.transact4j.llama.LlamaForCausalLM;
import dev.transact4j.llama.checkpoint.LlamaCheckpoint;
import dev.transact4j.llama.tokenizer.Tokenizer;
import dev.transact4j.nn.Parameter;
import dev.transact4j.train.pipeline.DemoRunner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine;

/** Loading models, configs and tokenizers named on the command line, with one-line errors. */
final class CliModels {
    private CliModels() {
    }

    /** Loads the Hugging Face model directory {@code dir}; a missing or invalid one is a usage error. */
    static LlamaCheckpoint.Loaded load(CommandLine command, Path dir) throws IOException {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new CommandLine.ParameterException(command, dir + " is a file, not a model directory; pass the "
                    + "directory that contains config.json and model.safetensors");
        }
        if (!Files.isDirectory(dir)) {
            throw new CommandLine.ParameterException(command, "model directory not found: " + dir);
        }
        if (Files.isDirectory(dir.resolve(LlamaConfig.FILE_NAME))) {
            throw new CommandLine.ParameterException(command, dir.resolve(LlamaConfig.FILE_NAME)
                    + " is a directory; a model directory needs config.json as a file");
        }
        if (!Files.isRegularFile(dir.resolve(LlamaConfig.FILE_NAME))) {
            throw new CommandLine.ParameterException(command, "model directory " + dir + " has no config.json");
        }
        LlamaCheckpoint.Loaded loaded;
        try {
            loaded = LlamaCheckpoint.load(dir);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(command, "invalid model " + dir + ": " + shortened(e.getMessage()));
        }
        checkFinite(command, dir, loaded.model());
        return loaded;
    }

    /**
     * Rejects weights that contain NaN or an infinity: every output of such a model is NaN, and
     * the commands would fail later with advice that does not fit (lower the learning rate).
     */
    private static void checkFinite(CommandLine command, Path dir, LlamaForCausalLM model) {
        for (Map.Entry<String, Parameter> entry : model.namedParameters().entrySet()) {
            float[] values = entry.getValue().value().contiguous().data();
            for (int i = 0; i < values.length; i++) {
                if (!Float.isFinite(values[i])) {
                    throw new CommandLine.ParameterException(command, "invalid model " + dir + ": tensor "
                            + entry.getKey() + " contains " + values[i] + " at element " + i
                            + "; the weights are damaged, so restore them from the model's source");
                }
            }
        }
    }

    /** Returns the model's tokenizer: {@code tokenizer} when given, else the model directory's tokenizer.json. */
    static Tokenizer tokenizer(CommandLine command, Path tokenizer, Path modelDir) throws IOException {
        if (tokenizer != null) {
            return CliFiles.loadTokenizer(command, tokenizer);
        }
        if (!Files.isRegularFile(modelDir.resolve("tokenizer.json"))) {
            throw new CommandLine.ParameterException(command, "model directory " + modelDir
                    + " has no tokenizer.json; pass --tokenizer FILE");
        }
        return Tokenizer.load(modelDir.resolve("tokenizer.json"));
    }

    /** Returns the config of a preset name (demo, tiny, small) or of a config.json file or model directory. */
    static LlamaConfig config(CommandLine command, String nameOrPath) throws IOException {
        if (nameOrPath.equals("demo") || nameOrPath.equals("tiny") || nameOrPath.equals("small")) {
            return DemoRunner.config(nameOrPath);
        }
        Path path = Path.of(nameOrPath);
        if (!Files.exists(path)) {
            throw new CommandLine.ParameterException(command, "--config '" + nameOrPath
                    + "' is neither a preset (demo, tiny, small) nor an existing config.json or model directory");
        }
        try {
            return LlamaConfig.load(path);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(command, shortened(e.getMessage()));
        }
    }

    /** Maximum lines of a message that {@link #shortened} keeps before its last line. */
    static final int MAX_MESSAGE_LINES = 8;

    /**
     * Returns {@code message} with at most {@link #MAX_MESSAGE_LINES} lines followed by its last
     * line, which often gives the fix, and a count of the lines left out. A weight check can list
     * hundreds of tensors, one per line.
     */
    static String shortened(String message) {
        if (message == null) {
            return "";
        }
        String[] lines = message.split("\n");
        if (lines.length <= MAX_MESSAGE_LINES + 1) {
            return message;
        }
        StringBuilder head = new StringBuilder();
        for (int i = 0; i < MAX_MESSAGE_LINES; i++) {
            head.append(lines[i]).append('\n');
        }
        int left = lines.length - MAX_MESSAGE_LINES - 1;
        head.append("  ... ").append(left).append(left == 1 ? " more line" : " more lines").append('\n');
        return head.append(lines[lines.length - 1]).toString();
    }
}
