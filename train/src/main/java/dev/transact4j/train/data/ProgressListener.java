package dev.transact4j.train.data;

/**
 * Receives progress while a dataset is tokenized into its cache. It is called after each document,
 * on the thread that tokenizes, so an implementation should return quickly and throttle its own
 * output.
 */
@FunctionalInterface
public interface ProgressListener {

    /** Listener that ignores every update. */
    ProgressListener NONE = (bytesDone, bytesTotal, tokens) -> { };

    /**
     * Reports how far tokenization has gone.
     *
     * @param bytesDone source bytes read so far, exact at file boundaries. Within a JSON Lines file
     *     it counts characters, which undercounts multi-byte UTF-8.
     * @param bytesTotal total size of the source files in bytes
     * @param tokens token ids written so far, EOS included
     */
    void onProgress(long bytesDone, long bytesTotal, long tokens);
}
