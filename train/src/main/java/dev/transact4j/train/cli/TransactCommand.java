package dev.transact4j.train.cli;

import dev.transact4j.llama.tokenizer.TokenizerFormatException;
import dev.transact4j.nn.safetensors.SafeTensorsFormatException;
import dev.transact4j.tensor.Parallel;
import dev.transact4j.tensor.Simd;
import java.io.BufferedWriter;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code transact} command line. Each area adds its own subcommand class to
 * {@link Command#subcommands} below; a subcommand reports bad input by throwing
 * {@link CommandLine.ParameterException}, which ends the program with one line on stderr and exit
 * code 2.
 */
@Command(name = "transact",
        mixinStandardHelpOptions = true,
        version = TransactCommand.VERSION,
        description = "Train, prune and run Llama models on the CPU.",
        subcommands = {InfoCommand.class, TokenizerCommand.class, TrainCommand.class, PretrainCommand.class,
                PruneCommand.class, EvalCommand.class, GenerateCommand.class, LogitsCommand.class, DemoCommand.class,
                CommandLine.HelpCommand.class})
public final class TransactCommand implements Runnable {
    /** Exit code for invalid arguments, missing files and malformed input files. */
    public static final int EXIT_USAGE = 2;

    /** Version text that {@code -V} prints, on the top-level command and on every subcommand. */
    static final String VERSION = "transact 0.1.0";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand");
    }

    /** Builds the command line with the one-line error handlers. */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new TransactCommand());
        cli.setOut(new PrintWriter(new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8))));
        cli.setErr(new PrintWriter(new OutputStreamWriter(System.err, StandardCharsets.UTF_8), true));
        cli.setParameterExceptionHandler(TransactCommand::handleParameterError);
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> handleExecutionError(e, commandLine));
        FileNameSafeHelp.install(cli);
        setVersion(cli);
        return cli;
    }

    public static void main(String[] args) {
        CommandLine cli = commandLine();
        String problem = systemPropertyProblem();
        if (problem != null) {
            cli.getErr().println("transact: " + problem + ". Fix or remove the -D option (it may come from"
                    + " JAVA_TOOL_OPTIONS).");
            System.exit(EXIT_USAGE);
        }
        int code = execute(cli, args);
        cli.getOut().flush();
        System.exit(code);
    }

    /**
     * Runs {@code args} and returns the exit code. picocli's error handlers take exceptions only,
     * so an {@link OutOfMemoryError} is reported here, in one line with the fix.
     */
    static int execute(CommandLine cli, String[] args) {
        try {
            return cli.execute(args);
        } catch (OutOfMemoryError e) {
            cli.getOut().flush();
            cli.getErr().println("transact: out of Java heap memory (maximum heap "
                    + Runtime.getRuntime().maxMemory() / (1024 * 1024) + " MiB). Give the JVM a larger heap with"
                    + " JAVA_OPTS, such as JAVA_OPTS=-Xmx8g bin/transact ..., or use a smaller model, batch or"
                    + " context.");
            cli.getErr().flush();
            return 1;
        }
    }

    /**
     * Returns the message of an invalid {@code transact4j.*} system property, or null. The kernels
     * read these properties when their classes load, where a bad value would otherwise end the
     * program with a stack trace in the middle of a command.
     */
    static String systemPropertyProblem() {
        try {
            Simd.parseProperty(System.getProperty(Simd.PROPERTY));
            Parallel.threads();
            return null;
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        } catch (ExceptionInInitializerError e) {
            return e.getCause() == null ? e.toString() : e.getCause().getMessage();
        }
    }

    /** Gives every subcommand the top-level version, which {@code -V} prints. */
    private static void setVersion(CommandLine command) {
        command.getCommandSpec().version(VERSION);
        for (CommandLine sub : command.getSubcommands().values()) {
            setVersion(sub);
        }
    }

    private static int handleParameterError(CommandLine.ParameterException e, String[] args) {
        CommandLine command = e.getCommandLine();
        PrintWriter err = command.getErr();
        String message = userMessage(e, command);
        // a message of several lines (a weight check's tensor list) ends with its own advice
        String hint = message != null && message.contains("\n") ? "" : " (see --help)";
        err.println(command.getCommandName().equals("transact") ? "transact: " + message + "; run transact --help"
                + " for the commands"
                : "transact " + qualifiedName(command) + ": " + message + hint);
        err.flush();
        return EXIT_USAGE;
    }

    /** Matches picocli's message for an option value of the wrong type. */
    private static final Pattern WRONG_TYPE = Pattern.compile(
            "Invalid value for option '([^']+)': '(.*)' is not an? (int|long|float|double)");

    /** Returns the message of {@code e}, with picocli's own wording replaced where ours is more specific. */
    private static String userMessage(CommandLine.ParameterException e, CommandLine command) {
        String message = e.getMessage();
        if (message == null) {
            return "invalid arguments";
        }
        // picocli starts some of its own messages, such as those of exclusive options, with "Error: "
        if (message.startsWith("Error: ")) {
            message = message.substring("Error: ".length());
        }
        String name = command.getCommandName();
        if (e instanceof CommandLine.UnmatchedArgumentException unmatched && !unmatched.getUnmatched().isEmpty()
                && !unmatched.getUnmatched().get(0).startsWith("-")) {
            String argument = unmatched.getUnmatched().get(0);
            if (name.equals("transact")) {
                return "unknown command '" + argument + "'";
            }
            if (name.equals("generate")) {
                // the words of an unquoted prompt arrive as separate arguments
                return "unexpected argument '" + argument + "': quote a prompt of several words, such as"
                        + " \"The jury said\"";
            }
        }
        if (e instanceof CommandLine.MissingParameterException && name.equals("generate")
                && message.startsWith("Missing required parameter: 'PROMPT'")) {
            return "missing the prompt; pass it quoted after the options, such as \"The jury said\"";
        }
        Matcher wrongType = WRONG_TYPE.matcher(message);
        if (wrongType.matches()) {
            String kind = wrongType.group(3).equals("int") || wrongType.group(3).equals("long")
                    ? "a whole number" : "a number";
            return wrongType.group(1) + " '" + wrongType.group(2) + "' is not " + kind;
        }
        return message;
    }

    private static int handleExecutionError(Exception e, CommandLine command) {
        PrintWriter err = command.getErr();
        String name = "transact " + qualifiedName(command);
        if (e instanceof NoSuchFileException missing) {
            // a reason, where the code that threw gave one, already names what is missing
            err.println(name + ": " + (missing.getReason() != null ? missing.getReason()
                    : "file not found: " + missing.getFile()));
            err.flush();
            return EXIT_USAGE;
        }
        if (e instanceof TokenizerFormatException || e instanceof SafeTensorsFormatException) {
            err.println(name + ": " + e.getMessage());
            err.flush();
            return EXIT_USAGE;
        }
        // our messages name what failed, so the class name is printed only for an exception without one
        String message = e.getMessage();
        err.println(name + ": failed: " + (message == null || message.isBlank() ? e.toString() : message));
        err.flush();
        return 1;
    }

    private static String qualifiedName(CommandLine command) {
        String name = command.getCommandSpec().qualifiedName(" ");
        return name.startsWith("transact ") ? name.substring("transact ".length()) : name;
    }
}
