package dev.transact4j.train.cli;

import dev.transact4j.llama.LlamaForCausalLM;
import dev.transact4j.llama.checkpoint.LlamaCheckpoint;
import dev.transact4j.nn.safetensors.SafeTensorsWriter;
import dev.transact4j.tensor.GradMode;
import dev.transact4j.tensor.Tensor;
import java.io.BufferedReader;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code transact logits}: writes a model's logits for one sequence to a safetensors file. */
@Command(name = "logits", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Run a model on one sequence of token ids or text and write its logits to a safetensors "
                + "file: \"logits\" F32 [1, T, vocab] and \"input_ids\" I64 [1, T], for comparison with "
                + "another implementation.")
public final class LogitsCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", paramLabel = "DIR", required = true, description = "A Hugging Face model directory.")
    Path model;

    static final class Input {
        @Option(names = "--ids", paramLabel = "ID", split = ",", required = true,
                description = "Token ids, comma-separated.")
        int[] ids;

        @Option(names = "--text", paramLabel = "TEXT", required = true,
                description = "The text itself, encoded with the tokenizer and its special tokens.")
        String text;

        @Option(names = "--text-file", paramLabel = "FILE", required = true,
                description = "A UTF-8 file whose whole content is the text.")
        Path textFile;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    @Option(names = "--tokenizer", paramLabel = "FILE", description = "tokenizer.json for --text. Default: the model directory's.")
    Path tokenizer;

    @Option(names = "--output", paramLabel = "FILE", required = true, description = "The safetensors file to write.")
    Path output;

    @CommandLine.Mixin
    ThreadsOption threads;

    @Override
    public Integer call() throws Exception {
        CommandLine cli = spec.commandLine();
        CliFiles.checkOutputFile(cli, "--output", output);
        LlamaCheckpoint.Loaded loaded = CliModels.load(cli, model);
        LlamaForCausalLM llama = loaded.model();
        if (input.text != null && Files.isRegularFile(Path.of(input.text.strip()))) {
            throw new CommandLine.ParameterException(cli, "--text takes the text itself, and " + input.text.strip()
                    + " names a file; pass --text-file " + input.text.strip() + " to read it");
        }
        int[] ids = input.ids;
        if (ids == null) {
            String text = input.text;
            if (text == null) {
                StringWriter content = new StringWriter();
                try (BufferedReader reader = CliFiles.openText(cli, "--text-file", input.textFile)) {
                    reader.transferTo(content);
                }
                text = content.toString();
            }
            ids = CliModels.tokenizer(cli, tokenizer, model).encodeIds(text, true);
        }
        int vocab = llama.config().vocabSize();

        // input checks
        if (ids.length == 0) {
            throw new CommandLine.ParameterException(cli, "no token ids to run; give at least one");
        }
        if (ids.length > llama.config().maxPositionEmbeddings()) {
            throw new CommandLine.ParameterException(cli, ids.length + " tokens exceed the model's "
                    + "max_position_embeddings " + llama.config().maxPositionEmbeddings());
        }
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocab) {
                throw new CommandLine.ParameterException(cli, "id " + ids[i] + " at position " + i
                        + " is outside the vocabulary [0, " + vocab + ")");
            }
        }

        // forward pass, then logits and ids into one file
        Tensor logits;
        try (GradMode.Scope scope = GradMode.noGrad()) {
            logits = llama.logits(ids, 1, ids.length).contiguous();
        }
        long[] idsLong = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            idsLong[i] = ids[i];
        }
        new SafeTensorsWriter()
                .add("logits", logits.data(), new int[] {1, ids.length, vocab})
                .addLongs("input_ids", idsLong, new int[] {1, ids.length})
                .metadata("model", model.toAbsolutePath().toString())
                .write(output);
        cli.getOut().println("wrote logits [1, " + ids.length + ", " + vocab + "] to " + output);
        cli.getOut().flush();
        return 0;
    }
}
