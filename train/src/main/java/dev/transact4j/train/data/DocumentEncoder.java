package dev.transact4j.train.data;

import dev.transact4j.tensor.Parallel;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Encodes documents in groups and writes their ids, each followed by EOS, in the order they were
 * added. A group is encoded on the {@link Parallel} pool when the encoder declares itself
 * thread-safe, and on the calling thread otherwise, so the output never depends on the thread count.
 */
final class DocumentEncoder {

    /** Documents per group: enough to keep every pool thread busy between writes. */
    private static final int MAX_DOCUMENTS = 256;
    /** Characters per group, which bounds the text held in memory at once. */
    private static final long MAX_CHARS = 8L << 20;

    private final TokenEncoder encoder;
    private final TokenFileWriter writer;
    private final List<Path> files;
    private final long[] tokensPerFile;
    private final ProgressListener progress;
    private final long bytesTotal;

    /** Origin of a queued document: a source file and, for JSON Lines, the line (0 for a whole file). */
    private record Origin(int fileIndex, long lineNumber) {
    }

    private final List<String> texts = new ArrayList<>();
    private final List<Origin> origins = new ArrayList<>();
    private final List<Long> bytesDoneAfter = new ArrayList<>();
    private long pendingChars;

    /**
     * @param files the source files, indexed by the {@code fileIndex} given to {@link #add}
     * @param tokensPerFile receives the number of ids written for each file, EOS included
     */
    DocumentEncoder(TokenEncoder encoder, TokenFileWriter writer, List<Path> files, long[] tokensPerFile,
                    ProgressListener progress, long bytesTotal) {
        this.encoder = encoder;
        this.writer = writer;
        this.files = files;
        this.tokensPerFile = tokensPerFile;
        this.progress = progress;
        this.bytesTotal = bytesTotal;
        if (encoder.eosId() < 0) {
            throw new DatasetException("Tokenizer " + encoder.fingerprint() + " has the negative EOS id "
                    + encoder.eosId() + ". Give the id of its end-of-sequence token.");
        }
    }

    /**
     * Queues one document; an empty one is skipped.
     *
     * @param lineNumber the JSON Lines line it came from, or 0 for a whole text file
     * @param bytesDone source bytes read once this document is done, for progress
     */
    void add(String text, int fileIndex, long lineNumber, long bytesDone) throws IOException {
        if (text.isEmpty()) {
            return;
        }
        texts.add(text);
        origins.add(new Origin(fileIndex, lineNumber));
        bytesDoneAfter.add(bytesDone);
        pendingChars += text.length();
        if (texts.size() >= MAX_DOCUMENTS || pendingChars >= MAX_CHARS) {
            flush();
        }
    }

    /** Encodes and writes every queued document. */
    void flush() throws IOException {
        int n = texts.size();
        int[][] ids = new int[n][];
        if (encoder.isThreadSafe()) {
            Parallel.forRange(0, n, 1, (start, end) -> {
                for (int i = start; i < end; i++) {
                    ids[i] = encoder.encode(texts.get(i));
                }
            });
        } else {
            for (int i = 0; i < n; i++) {
                ids[i] = encoder.encode(texts.get(i));
            }
        }

        for (int i = 0; i < n; i++) {
            Origin origin = origins.get(i);
            if (ids[i] == null) {
                throw new DatasetException("Tokenizer " + encoder.fingerprint() + " returned null for "
                        + describe(origin) + ".");
            }
            for (int id : ids[i]) {
                if (id < 0) {
                    throw new DatasetException("Tokenizer " + encoder.fingerprint() + " returned the negative id " + id
                            + " for " + describe(origin) + ".");
                }
                writer.write(id);
            }
            writer.write(encoder.eosId());
            tokensPerFile[origin.fileIndex()] += ids[i].length + 1L;
            progress.onProgress(bytesDoneAfter.get(i), bytesTotal, writer.count());
        }

        texts.clear();
        origins.clear();
        bytesDoneAfter.clear();
        pendingChars = 0;
    }

    private String describe(Origin origin) {
        Path file = files.get(origin.fileIndex());
        return origin.lineNumber() == 0 ? "the file " + file : "line " + origin.lineNumber() + " of " + file;
    }
}
