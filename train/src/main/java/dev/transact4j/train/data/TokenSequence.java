package dev.transact4j.train.data;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Objects;

/**
 * A read-only, memory-mapped run of token ids stored in a flat little-endian file, after an
 * optional header. Files larger than 2 GiB are mapped in several chunks because one
 * {@link MappedByteBuffer} addresses at most 2 GiB.
 *
 * <p>Each id is returned as an {@code int}. A uint32 id of 2^31 or more comes back negative, so
 * read it with {@link Integer#toUnsignedLong(int)}. {@link #checkVocabulary(int)} rejects it.
 */
public final class TokenSequence {

    /** Bytes per mapped chunk: a power of two, so both token widths divide it. */
    static final int DEFAULT_CHUNK_SHIFT = 30;

    /**
     * Part of the sequence that came from one source file, for error messages.
     *
     * @param source the source file as shown to the user
     * @param firstToken position of its first token in this sequence
     * @param tokenCount number of its tokens, EOS included
     */
    public record Span(String source, long firstToken, long tokenCount) {
    }

    private final Path file;
    private final long headerBytes;
    private final TokenDtype dtype;
    private final long length;
    private final List<Span> spans;
    private final int chunkShift;
    private final MappedByteBuffer[] chunks;
    private volatile long maxId;

    private TokenSequence(Path file, long headerBytes, TokenDtype dtype, long length, List<Span> spans,
                          long maxId, int chunkShift, MappedByteBuffer[] chunks) {
        this.file = file;
        this.headerBytes = headerBytes;
        this.dtype = dtype;
        this.length = length;
        this.spans = List.copyOf(spans);
        this.maxId = maxId;
        this.chunkShift = chunkShift;
        this.chunks = chunks;
    }

    /**
     * Maps {@code length} ids of width {@code dtype} that start {@code headerBytes} into {@code file}.
     *
     * @param spans source files that make up the sequence, in order, or none when the file is its own source
     * @param maxId largest id in the file when already known, otherwise -1
     */
    static TokenSequence map(Path file, long headerBytes, TokenDtype dtype, long length, List<Span> spans,
                             long maxId, int chunkShift) throws IOException {
        long dataBytes = length * dtype.bytes();
        long chunkBytes = 1L << chunkShift;
        int chunkCount = (int) ((dataBytes + chunkBytes - 1) >>> chunkShift);
        MappedByteBuffer[] chunks = new MappedByteBuffer[chunkCount];
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            for (int c = 0; c < chunkCount; c++) {
                long start = (long) c << chunkShift;
                long size = Math.min(chunkBytes, dataBytes - start);
                MappedByteBuffer chunk = channel.map(FileChannel.MapMode.READ_ONLY, headerBytes + start, size);
                chunk.order(ByteOrder.LITTLE_ENDIAN);
                chunks[c] = chunk;
            }
        }
        return new TokenSequence(file, headerBytes, dtype, length, spans, maxId, chunkShift, chunks);
    }

    /** Returns the file the ids are mapped from. */
    public Path file() {
        return file;
    }

    /** Returns the width of the stored ids. */
    public TokenDtype dtype() {
        return dtype;
    }

    /** Returns the number of token ids. */
    public long length() {
        return length;
    }

    /** Returns the bytes before the first id (1024 for an llm.c file, 0 otherwise). */
    public long headerBytes() {
        return headerBytes;
    }

    /** Returns the source files that make up the sequence, in order; empty for a token file. */
    public List<Span> spans() {
        return spans;
    }

    /** Returns the id at {@code index}. */
    public int get(long index) {
        Objects.checkIndex(index, length);
        long offset = index * dtype.bytes();
        MappedByteBuffer chunk = chunks[(int) (offset >>> chunkShift)];
        int position = (int) (offset & ((1L << chunkShift) - 1));
        return dtype == TokenDtype.UINT16 ? Short.toUnsignedInt(chunk.getShort(position)) : chunk.getInt(position);
    }

    /** Copies the {@code count} ids from {@code start} into {@code dst} at {@code offset}. */
    public void read(long start, int[] dst, int offset, int count) {
        Objects.checkFromIndexSize(start, count, length);
        Objects.checkFromIndexSize(offset, count, dst.length);
        int width = dtype.bytes();
        long chunkMask = (1L << chunkShift) - 1;
        int i = 0;
        while (i < count) {
            // One run per chunk: ids never straddle chunks because the chunk size is a multiple of the width.
            long byteOffset = (start + i) * width;
            MappedByteBuffer chunk = chunks[(int) (byteOffset >>> chunkShift)];
            int position = (int) (byteOffset & chunkMask);
            int run = Math.min(count - i, (chunk.limit() - position) / width);
            if (dtype == TokenDtype.UINT16) {
                for (int k = 0; k < run; k++) {
                    dst[offset + i + k] = Short.toUnsignedInt(chunk.getShort(position + 2 * k));
                }
            } else {
                for (int k = 0; k < run; k++) {
                    dst[offset + i + k] = chunk.getInt(position + 4 * k);
                }
            }
            i += run;
        }
    }

    /**
     * Checks that every id is below {@code vocabSize}, reading the whole file unless the largest id
     * is already known from a cache sidecar or an earlier check.
     *
     * @throws DatasetException naming the file and position of the first id that is too large
     */
    public void checkVocabulary(int vocabSize) {
        if (vocabSize <= 0) {
            throw new IllegalArgumentException("checkVocabulary: vocabSize must be positive, got " + vocabSize);
        }
        if (maxId >= 0 && maxId < vocabSize) {
            return;
        }
        int[] buffer = new int[1 << 16];
        long max = -1;
        for (long start = 0; start < length; start += buffer.length) {
            int count = (int) Math.min(buffer.length, length - start);
            read(start, buffer, 0, count);
            for (int k = 0; k < count; k++) {
                long id = Integer.toUnsignedLong(buffer[k]);
                if (id >= vocabSize) {
                    throw new DatasetException("Token id " + id + " at " + describePosition(start + k)
                            + " is outside the vocabulary of size " + vocabSize + " (valid ids are 0 to "
                            + (vocabSize - 1) + "). Tokenize the data with the model's tokenizer, or use a"
                            + " model whose vocab_size covers every id.");
                }
                max = Math.max(max, id);
            }
        }
        maxId = max;
    }

    /** Describes where token {@code index} is: the mapped file, and the source file it came from. */
    public String describePosition(long index) {
        String where = "position " + index + " of " + file;
        for (Span span : spans) {
            if (index >= span.firstToken() && index < span.firstToken() + span.tokenCount()) {
                return where + " (token " + (index - span.firstToken()) + " of source " + span.source() + ")";
            }
        }
        return where;
    }

    @Override
    public String toString() {
        return file + " (" + length + " " + dtype.jsonName() + " tokens)";
    }
}
