package dev.transact4j.train.cli;

import dev.transact4j.train.trainer.CheckpointStore;
import java.nio.file.Path;
import picocli.CommandLine;

/** Checks of option values shared by the training commands; each failure is a one-line usage error. */
final class CliChecks {
    private CliChecks() {
    }

    static void batches(CommandLine command, long tokens, int seqLen, int globalBatch, int microBatch,
                        double learningRate) {
        if (tokens < 1) {
            throw new CommandLine.ParameterException(command, "--tokens must be at least 1, got " + tokens);
        }
        if (seqLen < 2) {
            throw new CommandLine.ParameterException(command, "--seq-len must be at least 2 tokens, got " + seqLen);
        }
        if (globalBatch < 1 || microBatch < 1 || globalBatch % microBatch != 0) {
            throw new CommandLine.ParameterException(command, "--global-batch " + globalBatch
                    + " must be a positive multiple of --micro-batch " + microBatch);
        }
        if (!(learningRate > 0) || Double.isInfinite(learningRate)) {
            throw new CommandLine.ParameterException(command, "--lr must be a positive number, got " + learningRate);
        }
    }

    /** Rejects a run directory that already contains a trainer checkpoint, which a new run would not overwrite. */
    static void freshOutput(CommandLine command, Path runDir) {
        if (hasCheckpoint(runDir)) {
            throw new CommandLine.ParameterException(command, "output " + runDir.getParent()
                    + " already holds a training run; choose a new --output folder");
        }
    }

    /** Returns true when {@code runDir} contains a complete trainer checkpoint, which the trainer rejects for a new run. */
    static boolean hasCheckpoint(Path runDir) {
        return new CheckpointStore(runDir).completeCheckpoint() != null;
    }
}
