package dev.transact4j.llama.tokenizer;

/** A text normalizer from tokenizer.json ({@code "normalizer"}), applied before pre-tokenization. */
interface Normalizer {
    Segment normalize(Segment segment);
}
