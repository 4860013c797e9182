package dev.transact4j.train.data;

/**
 * Bad dataset input: a missing file, a malformed line, a token file of the wrong size, a token id
 * outside the vocabulary, or too few tokens for one block. The message names the file and
 * position and gives the fix, so a command line can print it as it is.
 */
public class DatasetException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public DatasetException(String message) {
        super(message);
    }

    public DatasetException(String message, Throwable cause) {
        super(message, cause);
    }
}
