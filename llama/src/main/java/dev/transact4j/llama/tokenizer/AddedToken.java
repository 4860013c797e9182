package dev.transact4j.llama.tokenizer;

/**
 * A token matched in the text before the model runs ({@code added_tokens} in tokenizer.json).
 *
 * @param lstrip     also consume the whitespace to its left
 * @param rstrip     also consume the whitespace to its right
 * @param singleWord match only when not inside a word
 * @param normalized match against the normalized text rather than the input text
 * @param special    a special token: skipped by {@code decode(ids, true)}
 */
public record AddedToken(int id, String content, boolean lstrip, boolean rstrip, boolean singleWord,
                         boolean normalized, boolean special) {
}
