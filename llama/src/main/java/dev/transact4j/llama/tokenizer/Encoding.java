package dev.transact4j.llama.tokenizer;

/**
 * The result of encoding one text.
 *
 * @param ids     token ids
 * @param tokens  token strings: the vocabulary entry for model tokens, the matched (normalized)
 *                text for added tokens
 * @param offsets for token i, {@code offsets[2i]} and {@code offsets[2i + 1]} are the start and
 *                end (exclusive) of its source in the input text, in UTF-16 chars; tokens added
 *                by the post-processor have the empty range (0, 0)
 */
public record Encoding(int[] ids, String[] tokens, int[] offsets) {
    public int size() {
        return ids.length;
    }

    public int start(int token) {
        return offsets[2 * token];
    }

    public int end(int token) {
        return offsets[2 * token + 1];
    }
}
