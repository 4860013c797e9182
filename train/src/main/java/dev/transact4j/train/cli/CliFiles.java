package dev.transact4j.train.cli;

import dev.transact4j.llama.tokenizer.Tokenizer;
import java.io.BufferedReader;
import java.io.FilterReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import picocli.CommandLine;

/** Opening the files named on the command line, with one-line errors for missing ones. */
final class CliFiles {
    private CliFiles() {
    }

    static Tokenizer loadTokenizer(CommandLine command, Path path) throws IOException {
        if (!Files.exists(path)) {
            throw new CommandLine.ParameterException(command, "tokenizer not found: " + path);
        }
        if (Files.isDirectory(path) && !Files.exists(path.resolve("tokenizer.json"))
                && !Files.exists(path.resolve("tokenizer.json.gz"))) {
            throw new CommandLine.ParameterException(command, "directory " + path + " has no tokenizer.json");
        }
        return Tokenizer.load(path);
    }

    /**
     * Creates the output directory {@code path} named by {@code option} if it does not exist, before
     * any long-running work, so a bad path fails at once.
     */
    static void createOutputDirectory(CommandLine command, String option, Path path) {
        if (Files.exists(path) && !Files.isDirectory(path)) {
            throw new CommandLine.ParameterException(command, option + " " + path
                    + " is a file, not a directory; name a new or existing directory");
        }
        try {
            Files.createDirectories(path);
        } catch (IOException | UnsupportedOperationException e) {
            throw new CommandLine.ParameterException(command, "cannot create the " + option + " directory " + path
                    + " (" + e.getClass().getSimpleName() + "); name a directory you can write to");
        }
        if (!Files.isWritable(path)) {
            throw new CommandLine.ParameterException(command, option + " directory " + path
                    + " is not writable; name a directory you can write to");
        }
    }

    /**
     * Checks, before any long-running work, that the output file {@code path} named by {@code option}
     * can be written: its parent must be an existing, writable directory and the path itself must not
     * be a directory. Writers create a temporary file next to {@code path}, so without this check a
     * bad folder is reported under the temporary file's name.
     */
    static void checkOutputFile(CommandLine command, String option, Path path) {
        if (Files.isDirectory(path)) {
            throw new CommandLine.ParameterException(command, option + " " + path
                    + " is a directory; name a file to write");
        }
        Path parent = path.toAbsolutePath().getParent();
        if (parent == null || !Files.exists(parent)) {
            throw new CommandLine.ParameterException(command, "directory " + parent + " of " + option
                    + " does not exist; create it first or name a file in an existing directory");
        }
        if (!Files.isDirectory(parent)) {
            throw new CommandLine.ParameterException(command, parent + " in " + option
                    + " is a file, not a directory; name a file in an existing directory");
        }
        if (!Files.isWritable(parent)) {
            throw new CommandLine.ParameterException(command, "directory " + parent + " of " + option
                    + " is not writable; name a file in a directory you can write to");
        }
    }

    /**
     * Opens {@code path}, given with {@code option} (gzip-decompressed when its name ends in .gz), or
     * stdin when it is null, as
     * UTF-8. Bytes that are not UTF-8 end the command with a usage error that names the input,
     * where a lenient decoder would replace them and score or encode different text.
     */
    static BufferedReader openText(CommandLine command, String option, Path path) throws IOException {
        if (path == null) {
            return new BufferedReader(strictUtf8(command, System.in, "standard input"));
        }
        if (Files.isDirectory(path)) {
            throw new CommandLine.ParameterException(command, option + " " + path
                    + " is a directory; pass a text file");
        }
        if (!Files.isRegularFile(path)) {
            throw new CommandLine.ParameterException(command, option + ": input file not found: " + path);
        }
        InputStream in = Files.newInputStream(path);
        if (path.toString().endsWith(".gz")) {
            in = new GZIPInputStream(in);
        }
        return new BufferedReader(strictUtf8(command, in, path.toString()));
    }

    private static Reader strictUtf8(CommandLine command, InputStream in, String name) {
        Reader decoder = new InputStreamReader(in, StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT));
        return new FilterReader(decoder) {
            @Override
            public int read(char[] buffer, int offset, int length) throws IOException {
                try {
                    return super.read(buffer, offset, length);
                } catch (CharacterCodingException e) {
                    throw new CommandLine.ParameterException(command, name + " is not valid UTF-8 text;"
                            + " convert it to UTF-8");
                }
            }

            @Override
            public int read() throws IOException {
                char[] one = new char[1];
                return read(one, 0, 1) < 0 ? -1 : one[0];
            }
        };
    }
}
