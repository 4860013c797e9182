package dev.transact4j.train.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Opens a {@link DatasetSource} as a {@link TokenSequence}. Token files are mapped as they are,
 * and the shards of a token directory are joined in sorted order.
 * Text and JSON Lines sources are tokenized once into a cache in {@code cacheDir} and mapped from
 * there. The cache is rebuilt when the tokenizer fingerprint, the list of source files or the
 * content of any source file changes.
 */
public final class DatasetLoader {

    private final Path cacheDir;
    private final TokenEncoder encoder;
    private final ProgressListener progress;
    private final int chunkShift;

    /**
     * @param cacheDir directory for cached token files, usually the run's output directory, created when missing
     * @param encoder tokenizer for text sources, or null when only token files and {@code input_ids} are read
     * @param progress receives tokenization progress
     */
    public DatasetLoader(Path cacheDir, TokenEncoder encoder, ProgressListener progress) {
        this(cacheDir, encoder, progress, TokenSequence.DEFAULT_CHUNK_SHIFT);
    }

    /** Maps files in chunks of {@code 2^chunkShift} bytes, so tests can cross chunk boundaries with small files. */
    DatasetLoader(Path cacheDir, TokenEncoder encoder, ProgressListener progress, int chunkShift) {
        this.cacheDir = Objects.requireNonNull(cacheDir, "cacheDir");
        this.encoder = encoder;
        this.progress = Objects.requireNonNull(progress, "progress");
        if (chunkShift < 2 || chunkShift > 30) {
            throw new IllegalArgumentException("DatasetLoader: chunkShift must be in [2, 30], got " + chunkShift);
        }
        this.chunkShift = chunkShift;
    }

    /**
     * Opens {@code source}, tokenizing it first when it is text without an up-to-date cache.
     *
     * @throws DatasetException when a file is missing or malformed
     */
    public TokenSequence load(DatasetSource source) throws IOException {
        if (source.format() == DatasetSource.Format.TOKEN_FILE) {
            if (Files.isDirectory(source.path())) {
                return TokenFiles.openShards(source.path(), source.files(), source.rawDtype(), chunkShift);
            }
            return TokenFiles.open(source.path(), source.rawDtype(), chunkShift);
        }
        return TokenCache.open(source, encoder, cacheDir, progress, chunkShift).withSource(source.path());
    }
}
