package dev.transact4j.train.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code transact tokenizer}: encode, decode and train tokenizers. */
@Command(name = "tokenizer",
        mixinStandardHelpOptions = true,
        description = "Encode and decode with a Hugging Face tokenizer.json, or train a byte-level BPE tokenizer.",
        subcommands = {TokenizerEncodeCommand.class, TokenizerDecodeCommand.class, TokenizerTrainCommand.class})
final class TokenizerCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand: encode, decode or train");
    }
}
