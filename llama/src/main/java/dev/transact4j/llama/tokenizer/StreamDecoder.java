package dev.transact4j.llama.tokenizer;

import java.util.Arrays;

/**
 * Decodes ids one at a time for streaming generation. {@link #step} returns the new text once it
 * ends in a complete character, and null while the last ids form only part of a UTF-8 sequence
 * (their decoded text ends in U+FFFD). The concatenation of all returned pieces equals
 * {@code decode} of all ids.
 *
 * <p>Decoders such as Metaspace treat the first token differently, so each step decodes the ids
 * since the last emitted text together with the ids that produced that text (the prefix), and
 * returns only what follows the prefix. This mirrors {@code DecodeStream} of Hugging Face.
 */
public final class StreamDecoder {
    private final Tokenizer tokenizer;
    private final boolean skipSpecialTokens;
    private int[] ids = new int[16];
    private int size;
    private String prefix = "";
    private int prefixIndex;

    StreamDecoder(Tokenizer tokenizer, boolean skipSpecialTokens) {
        this.tokenizer = tokenizer;
        this.skipSpecialTokens = skipSpecialTokens;
    }

    /** Adds one id; returns the text it completes, or null when none is complete yet. */
    public String step(int id) {
        if (prefix.isEmpty() && size > 0) {
            String decoded = tokenizer.decode(ids, 0, size, skipSpecialTokens);
            if (!decoded.endsWith("\uFFFD")) {
                prefix = decoded;
                prefixIndex = size;
            }
        }
        if (size == ids.length) {
            ids = Arrays.copyOf(ids, size * 2);
        }
        ids[size++] = id;
        String text = tokenizer.decode(ids, 0, size, skipSpecialTokens);
        if (text.length() <= prefix.length() || text.endsWith("\uFFFD")) {
            return null;
        }
        if (!text.startsWith(prefix)) {
            throw new IllegalStateException("decoded text no longer starts with the emitted prefix '" + prefix
                    + "'; this tokenizer's decoder cannot be streamed");
        }
        String added = text.substring(prefix.length());
        int newPrefixIndex = size - prefixIndex;
        System.arraycopy(ids, prefixIndex, ids, 0, size - prefixIndex);
        size -= prefixIndex;
        prefix = tokenizer.decode(ids, 0, size, skipSpecialTokens);
        prefixIndex = newPrefixIndex;
        return added;
    }
}
