package dev.transact4j.train.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.transact4j.llama.tokenizer.Tokenizer;
import java.io.BufferedReader;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code transact tokenizer decode}: one JSON array of ids in, one line of text out. */
@Command(name = "decode",
        mixinStandardHelpOptions = true,
        description = "Decode token ids to text: each input line is a JSON array of ids; each output line is its text.")
final class TokenizerDecodeCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--tokenizer", required = true, paramLabel = "FILE_OR_DIR",
            description = "tokenizer.json (or .json.gz), or a directory containing it.")
    Path tokenizerPath;

    @Option(names = "--input", paramLabel = "FILE",
            description = "Input file (.gz is decompressed). Default: standard input.")
    Path input;

    @Option(names = "--skip-special-tokens", description = "Leave out special tokens such as BOS and EOS.")
    boolean skipSpecialTokens;

    @Option(names = "--json",
            description = "Write each text as a JSON string, so that newlines in it stay on one line.")
    boolean jsonOutput;

    @Override
    public Integer call() throws Exception {
        CommandLine command = spec.commandLine();
        Tokenizer tokenizer = CliFiles.loadTokenizer(command, tokenizerPath);
        ObjectMapper json = new ObjectMapper();
        PrintWriter out = command.getOut();
        try (BufferedReader in = CliFiles.openText(command, "--input", input)) {
            String line;
            long number = 0;
            while ((line = in.readLine()) != null) {
                number++;
                String text = tokenizer.decode(idsOf(command, json, line, number, tokenizer.vocabSize()), skipSpecialTokens);
                out.println(jsonOutput ? json.writeValueAsString(text) : text);
            }
        }
        out.flush();
        return 0;
    }

    private static int[] idsOf(CommandLine command, ObjectMapper json, String line, long number, int vocabSize) {
        JsonNode node;
        try {
            node = json.readTree(line);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new CommandLine.ParameterException(command, "line " + number + " is not a JSON array of ids: "
                    + e.getOriginalMessage());
        }
        if (node == null || !node.isArray()) {
            throw new CommandLine.ParameterException(command, "line " + number + " is not a JSON array of ids");
        }
        int[] ids = new int[node.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode id = node.get(i);
            if (!id.isIntegralNumber() || !id.canConvertToInt() || id.asInt() < 0 || id.asInt() >= vocabSize) {
                throw new CommandLine.ParameterException(command, "line " + number + ": invalid id " + id
                        + "; expected an integer in [0, " + vocabSize + ")");
            }
            ids[i] = id.asInt();
        }
        return ids;
    }
}
