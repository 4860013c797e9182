package dev.transact4j.train.cli;

import dev.transact4j.tensor.Parallel;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The {@code --threads} option of the commands that compute. picocli calls the setter while it
 * parses the command line, so the kernels' thread pool has its size before the command runs.
 */
final class ThreadsOption {

    @Spec(Spec.Target.MIXEE)
    CommandSpec command;

    @Option(names = "--threads", paramLabel = "N",
            description = "Threads the kernels use. Default: the system property " + Parallel.THREADS_PROPERTY
                    + " when set, else one per CPU.")
    void setThreads(int threads) {
        if (threads < 1) {
            throw new CommandLine.ParameterException(command.commandLine(),
                    "--threads must be at least 1, got " + threads);
        }
        int cpus = Runtime.getRuntime().availableProcessors();
        if (threads > cpus) {
            command.commandLine().getErr().printf("Note: --threads %d is more than the %d CPUs this JVM sees, so"
                    + " threads take turns on them, which is usually slower%n", threads, cpus);
            command.commandLine().getErr().flush();
        }
        Parallel.setThreads(threads);
    }
}
