package dev.transact4j.llama.tokenizer;

/**
 * Thrown when a tokenizer.json file is malformed or uses a component this implementation does not
 * support. The message names the file, the JSON path and, for components, their {@code type}.
 */
public final class TokenizerFormatException extends IllegalArgumentException {
    public TokenizerFormatException(String message) {
        super(message);
    }

    public TokenizerFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
