package dev.transact4j.train.data;

/**
 * Bad dataset input: a missing file, a malformed line, a token file of the wrong size, a token id
 * outside the vocabulary, or too few tokens for one block. The message names the file and
 * position and gives the fix, so a command line can print it as it is.
 *
 * <p>Where the fix is a setting of the caller (the sequence length, the micro-batch size, the
 * validation fraction, the file pattern or the JSON field), {@link #kind()} names the problem and
 * {@link #description()} returns the message without the advice, so a command line can give the
 * advice in terms of its own options.
 */
public class DatasetException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** The kinds of problem whose fix is a setting of the caller. */
    public enum Kind {
        /** A dataset directory contains no file matching the source's file pattern. */
        NO_MATCHING_FILES,
        /** A JSON Lines document lacks the field the source reads. */
        MISSING_FIELD,
        /** The tokens do not fill one block of {@code seqLen + 1}. */
        TOO_FEW_TOKENS,
        /** The tokens fill more blocks than an {@code int} counts. */
        TOO_MANY_BLOCKS,
        /** The validation fraction takes every block and leaves none for training. */
        NO_TRAINING_BLOCKS,
        /** The training blocks do not fill one micro-batch. */
        FEWER_BLOCKS_THAN_BATCH,
        /** Any other problem: the message's own advice is the fix. */
        OTHER
    }

    private final Kind kind;
    private final String description;

    public DatasetException(String message) {
        super(message);
        this.kind = Kind.OTHER;
        this.description = message;
    }

    public DatasetException(String message, Throwable cause) {
        super(message, cause);
        this.kind = Kind.OTHER;
        this.description = message;
    }

    /**
     * Creates an exception whose message is {@code description}, a space and {@code advice}.
     *
     * @param description what is wrong and where, ending with a period
     * @param advice the fix in the terms of this package's API
     */
    public DatasetException(Kind kind, String description, String advice) {
        super(description + " " + advice);
        this.kind = kind;
        this.description = description;
    }

    /** Returns the kind of problem, {@link Kind#OTHER} when the fix is not a setting of the caller. */
    public Kind kind() {
        return kind;
    }

    /** Returns the message without its advice; the whole message for {@link Kind#OTHER}. */
    public String description() {
        return description;
    }
}
