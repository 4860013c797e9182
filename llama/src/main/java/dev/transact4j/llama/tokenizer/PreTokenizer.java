package dev.transact4j.llama.tokenizer;

import java.util.List;

/** A pre-tokenizer from tokenizer.json ({@code "pre_tokenizer"}): splits a segment into words. */
interface PreTokenizer {
    /** Appends the words of {@code segment} to {@code out}, dropping empty ones. */
    void preTokenize(Segment segment, List<Segment> out);
}
