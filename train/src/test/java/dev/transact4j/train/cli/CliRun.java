package dev.transact4j.train.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;

/** Runs the transact command line in this JVM, as the command tests do, and captures what it prints. */
final class CliRun {

    /** Exit code, standard output and standard error of one run. */
    record Run(int code, String out, String err) {
    }

    private CliRun() {
    }

    /** Runs {@code transact args...} with the command line's own error handlers. */
    static Run run(String... args) {
        CommandLine cli = TransactCommand.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int code = cli.execute(args);
        cli.getOut().flush();
        cli.getErr().flush();
        return new Run(code, out.toString(), err.toString());
    }
}
