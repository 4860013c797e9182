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

/** {@code transact tokenizer encode}: one JSON array of ids per input line. */
@Command(name = "encode",
        mixinStandardHelpOptions = true,
        description = {"Encode text to token ids, one line in, one JSON array of ids out.",
            "Input lines are plain text, or JSON Lines objects with a \"text\" field (see --format)."})
final class TokenizerEncodeCommand implements Callable<Integer> {
    enum Format { auto, text, jsonl }

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--tokenizer", required = true, paramLabel = "FILE_OR_DIR",
            description = "tokenizer.json (or .json.gz), or a directory containing it.")
    Path tokenizerPath;

    @Option(names = "--input", paramLabel = "FILE",
            description = "Input file (.gz is decompressed). Default: standard input.")
    Path input;

    @Option(names = "--format", defaultValue = "auto", paramLabel = "FORMAT",
            description = "Input format: text (every line is text), jsonl (every line is an object with a "
                    + "\"text\" field), or auto (jsonl for lines starting with '{'). Default: ${DEFAULT-VALUE}.")
    Format format;

    @Option(names = "--no-special-tokens",
            description = "Do not add the template's special tokens (such as BOS).")
    boolean noSpecialTokens;

    @Option(names = "--special-tokens-as-text",
            description = "Encode the text of special tokens (such as <s>) as plain text.")
    boolean specialTokensAsText;

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
                String text = textOf(command, json, line, number);
                int[] ids = tokenizer.encode(text, !noSpecialTokens, specialTokensAsText).ids();

                StringBuilder b = new StringBuilder(ids.length * 6 + 2).append('[');
                for (int i = 0; i < ids.length; i++) {
                    if (i > 0) {
                        b.append(',');
                    }
                    b.append(ids[i]);
                }
                out.println(b.append(']'));
            }
        }
        out.flush();
        return 0;
    }

    private String textOf(CommandLine command, ObjectMapper json, String line, long number) {
        boolean isJson = format == Format.jsonl || (format == Format.auto && line.startsWith("{"));
        if (!isJson) {
            return line;
        }
        JsonNode node;
        try {
            node = json.readTree(line);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new CommandLine.ParameterException(command, "line " + number + " is not valid JSON: "
                    + e.getOriginalMessage() + " (use --format text for plain text)");
        }
        JsonNode text = node == null ? null : node.get("text");
        if (text == null || !text.isTextual()) {
            throw new CommandLine.ParameterException(command, "line " + number + " has no string field \"text\"");
        }
        return text.asText();
    }
}
