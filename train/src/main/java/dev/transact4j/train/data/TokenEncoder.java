package dev.transact4j.train.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;
import java.util.function.Function;

/**
 * Tokenization as the dataset code needs it: text to ids, the EOS id placed after each document,
 * and a fingerprint that identifies the tokenizer. The token cache stores the fingerprint and is
 * rebuilt when it changes, so two tokenizers that can produce different ids must have different
 * fingerprints.
 */
public interface TokenEncoder {

    /** Encodes one document without special tokens. The dataset appends {@link #eosId()} itself. */
    int[] encode(String text);

    /** Returns the end-of-sequence id written after every document. */
    int eosId();

    /** Returns a string that identifies the tokenizer, such as the SHA-256 of its tokenizer.json. */
    String fingerprint();

    /**
     * Returns whether {@link #encode} may run on several threads at once. When it returns true,
     * the token cache encodes documents on the shared pool. The default is false.
     */
    default boolean isThreadSafe() {
        return false;
    }

    /** Creates an encoder from a function, for adapting a tokenizer class to this interface. */
    static TokenEncoder of(String fingerprint, int eosId, Function<String, int[]> encode) {
        Objects.requireNonNull(fingerprint, "fingerprint");
        Objects.requireNonNull(encode, "encode");
        return new TokenEncoder() {
            @Override
            public int[] encode(String text) {
                return encode.apply(text);
            }

            @Override
            public int eosId() {
                return eosId;
            }

            @Override
            public String fingerprint() {
                return fingerprint;
            }
        };
    }

    /** Returns the lowercase hex SHA-256 of a file, a suitable fingerprint for a tokenizer.json. */
    static String sha256Of(Path file) throws IOException {
        return Sha256.ofFile(file);
    }
}
