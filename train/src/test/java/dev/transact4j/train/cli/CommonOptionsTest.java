package dev.transact4j.train.cli;

import static dev.transact4j.train.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.transact4j.tensor.Parallel;
import dev.transact4j.tensor.Simd;
import dev.transact4j.train.cli.CliRun.Run;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Options and checks that every command shares: -V, --threads and the kernels' system properties. */
class CommonOptionsTest {

    @Test
    void versionPrintedBySubcommands() {
        for (List<String> command : List.of(List.of("pretrain"), List.of("info"), List.of("tokenizer", "encode"))) {
            List<String> args = new java.util.ArrayList<>(command);
            args.add("-V");
            Run run = run(args.toArray(new String[0]));
            assertEquals(0, run.code(), command + ": " + run.err());
            assertEquals(TransactCommand.VERSION, run.out().strip(), command.toString());
        }
    }

    @Test
    void helpNamesEveryValue() {
        // every option value has a label such as N or DIR, not picocli's <fieldName>
        for (List<String> command : List.of(List.of("train"), List.of("pretrain"), List.of("prune"), List.of("eval"),
                List.of("generate"), List.of("logits"), List.of("demo"), List.of("info"),
                List.of("tokenizer", "train"), List.of("tokenizer", "encode"), List.of("tokenizer", "decode"))) {
            List<String> args = new java.util.ArrayList<>(command);
            args.add("--help");
            Run run = run(args.toArray(new String[0]));
            assertEquals(0, run.code(), command.toString());
            assertFalse(run.out().contains("=<"), command + " help: " + run.out());
            assertFalse(run.out().contains("default:"), command + " help writes Default: " + run.out());
        }
    }

    @Test
    void exclusiveOptionsNamedWithoutPicocliPrefix() {
        Run run = run("eval", "--model", "m", "--text", "a.txt", "--token-file", "b.bin");
        assertEquals(TransactCommand.EXIT_USAGE, run.code());
        assertEquals("transact eval: --text=FILE, --token-file=FILE are mutually exclusive (specify only one)"
                + " (see --help)", run.err().strip());
    }

    @Test
    void picocliMessagesReworded() {
        Run prompt = run("generate", "--model", "m");
        assertEquals(TransactCommand.EXIT_USAGE, prompt.code());
        assertTrue(prompt.err().contains("missing the prompt; pass it quoted after the options"), prompt.err());

        Run threads = run("eval", "--threads", "abc", "--model", "m", "--text", "t.txt");
        assertEquals(TransactCommand.EXIT_USAGE, threads.code());
        assertTrue(threads.err().contains("--threads 'abc' is not a whole number"), threads.err());

        Run rate = run("pretrain", "--output", "o", "--lr", "fast");
        assertEquals(TransactCommand.EXIT_USAGE, rate.code());
        assertTrue(rate.err().contains("--lr 'fast' is not a number"), rate.err());
    }

    @Test
    void unknownCommandNamed() {
        Run run = run("genrate", "--model", "m");
        assertEquals(TransactCommand.EXIT_USAGE, run.code());
        assertTrue(run.err().startsWith("transact: unknown command 'genrate'; run transact --help"), run.err());
    }

    @Test
    void unquotedPromptHinted() {
        Run run = run("generate", "--model", "m", "The", "jury");
        assertEquals(TransactCommand.EXIT_USAGE, run.code());
        assertTrue(run.err().contains("unexpected argument 'jury': quote a prompt of several words"), run.err());
    }

    @Test
    void threadsOptionSetsPoolSize() {
        int before = Parallel.threads();
        int moreThanCpus = Runtime.getRuntime().availableProcessors() + 1;
        try {
            // the model does not exist, so eval stops after parsing its options
            Run run = run("eval", "--threads", Integer.toString(moreThanCpus), "--model", "missing-model", "--text",
                    "missing.txt");
            assertEquals(TransactCommand.EXIT_USAGE, run.code());
            assertEquals(moreThanCpus, Parallel.threads());
            assertTrue(run.err().contains("Note: --threads " + moreThanCpus + " is more than the"), run.err());
        } finally {
            Parallel.setThreads(before);
        }
    }

    @Test
    void nonPositiveThreadsRejected() {
        for (String command : List.of("pretrain", "prune", "train", "eval", "generate", "logits", "demo")) {
            Run run = run(command, "--threads", "0");
            assertEquals(TransactCommand.EXIT_USAGE, run.code(), command);
            assertTrue(run.err().contains("--threads must be at least 1, got 0"), command + ": " + run.err());
        }
    }

    @Test
    void invalidSimdPropertyNamed() {
        String before = System.getProperty(Simd.PROPERTY);
        try {
            System.setProperty(Simd.PROPERTY, "nope");
            assertEquals("Invalid system property transact4j.simd=nope: expected true (Vector API kernels) or false"
                    + " (scalar kernels)", TransactCommand.systemPropertyProblem());
        } finally {
            if (before == null) {
                System.clearProperty(Simd.PROPERTY);
            } else {
                System.setProperty(Simd.PROPERTY, before);
            }
        }
        assertNull(TransactCommand.systemPropertyProblem());
    }
}
