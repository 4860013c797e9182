package dev.transact4j.train.cli;

import dev.transact4j.train.pipeline.DemoRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code transact demo}: pretrain, prune with TransAct, fine-tune and compare, on the embedded corpus. */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Pretrain a small Llama on the embedded Brown corpus, prune it with TransAct over several "
                + "shots, fine-tune it, and print a table comparing the dense and pruned models. About one "
                + "minute on 2 cores with the defaults. Writes the models, the pruning report and a loss "
                + "plot into the output folder.")
public final class DemoCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = {"--output", "--out"}, paramLabel = "DIR",
            description = "Output folder, created when missing. Default: transact-demo-<date>-<time> in the current "
                    + "folder.")
    Path output;

    @Option(names = "--size", paramLabel = "NAME", defaultValue = "demo",
            description = "Model size: demo (hidden 128, 4 layers, 4 heads, MLP 384), tiny (hidden 256, 4 layers, "
                    + "MLP 688) or small (hidden 512, 8 layers, MLP 1376). Default: ${DEFAULT-VALUE}.")
    String size;

    @Option(names = "--tokens", paramLabel = "N", defaultValue = "200000",
            description = "Pretraining tokens; the pruning shots train on half as many and fine-tuning on a quarter. "
                    + "Default: ${DEFAULT-VALUE}.")
    long tokens;

    @Option(names = "--shots", paramLabel = "K", defaultValue = "3", description = "Pruning shots. Default: ${DEFAULT-VALUE}.")
    int shots;

    @Option(names = "--keep", paramLabel = "PERCENT", defaultValue = "50",
            description = "Percentage of the attention and MLP widths kept after the last shot. Default: ${DEFAULT-VALUE}.")
    int keepPercent;

    @Option(names = "--seq-len", paramLabel = "TOKENS", defaultValue = "128",
            description = "Tokens per training sequence. Default: ${DEFAULT-VALUE}.")
    int seqLen;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "1234", description = "Random seed. Default: ${DEFAULT-VALUE}.")
    long seed;

    @CommandLine.Mixin
    ThreadsOption threads;

    @Override
    public Integer call() throws Exception {
        CommandLine cli = spec.commandLine();
        if (!size.equals("demo") && !size.equals("tiny") && !size.equals("small")) {
            throw new CommandLine.ParameterException(cli, "invalid --size '" + size + "'; use demo, tiny or small");
        }
        if (tokens < 1000) {
            throw new CommandLine.ParameterException(cli, "--tokens " + tokens + " is too few; use at least 1000");
        }
        if (shots < 1) {
            throw new CommandLine.ParameterException(cli, "--shots " + shots + " must be at least 1");
        }
        if (keepPercent < 1 || keepPercent > 100) {
            throw new CommandLine.ParameterException(cli, "--keep " + keepPercent + " must be in [1, 100]");
        }
        if (seqLen < 2 || seqLen > 1024) {
            throw new CommandLine.ParameterException(cli, "--seq-len " + seqLen + " must be in [2, 1024]");
        }
        Path dir = output != null ? output : Path.of("transact-demo-"
                + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        checkFreshOutput(cli, dir);
        CliFiles.createOutputDirectory(cli, "--output", dir);
        System.out.println("Writing to " + dir.toAbsolutePath());
        DemoRunner.run(new DemoRunner.Settings(size, tokens, shots, keepPercent, seqLen, seed, dir), System.out);
        return 0;
    }

    /**
     * Rejects an output folder that is a file or already contains one of the demo's training runs,
     * which a new run would not overwrite, before any work starts.
     */
    private static void checkFreshOutput(CommandLine cli, Path dir) {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new CommandLine.ParameterException(cli, "--output " + dir
                    + " is a file, not a directory; choose a new --output folder");
        }
        // the run directories of a demo, prune, pretrain or train run
        for (Path run : List.of(dir.resolve("dense/run"), dir.resolve("shot-1/run"), dir.resolve("finetune/run"),
                dir.resolve("run"), dir)) {
            if (CliChecks.hasCheckpoint(run)) {
                throw new CommandLine.ParameterException(cli, "--output " + dir
                        + " already contains a training run (" + run + "); choose a new --output folder");
            }
        }
    }
}
