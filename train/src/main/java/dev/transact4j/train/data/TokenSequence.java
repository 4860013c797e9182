package dev.transact4j.train.data;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A read-only, memory-mapped run of token ids stored in one or more flat little-endian files, each
 * after an optional header of the same size. Each file is mapped in chunks of at most 1 GiB
 * because one {@link MappedByteBuffer} addresses at most 2 GiB.
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

    /** The ids of one mapped file, starting at {@code firstToken} of the sequence. */
    private static final class Segment {
        final long firstToken;
        final long length;
        final MappedByteBuffer[] chunks;

        Segment(long firstToken, long length, MappedByteBuffer[] chunks) {
            this.firstToken = firstToken;
            this.length = length;
            this.chunks = chunks;
        }
    }

    private final Path path;
    private final Path source;
    private final long headerBytes;
    private final TokenDtype dtype;
    private final long length;
    private final List<Span> spans;
    private final int chunkShift;
    private final Segment[] segments;
    private final long[] segmentStarts;
    private volatile long maxId;

    private TokenSequence(Path path, Path source, long headerBytes, TokenDtype dtype, List<Span> spans, long maxId,
                          int chunkShift, List<Segment> segments) {
        this.path = path;
        this.source = source;
        this.headerBytes = headerBytes;
        this.dtype = dtype;
        this.spans = List.copyOf(spans);
        this.maxId = maxId;
        this.chunkShift = chunkShift;
        // Empty files add no segment, so the segment starts increase strictly and a binary search finds one segment.
        this.segments = segments.stream().filter(s -> s.length > 0).toArray(Segment[]::new);
        this.segmentStarts = Arrays.stream(this.segments).mapToLong(s -> s.firstToken).toArray();
        this.length = segments.stream().mapToLong(s -> s.length).sum();
    }

    /**
     * Maps {@code length} ids of width {@code dtype} that start {@code headerBytes} into {@code file}.
     *
     * @param spans source files that make up the sequence, in order, or none when the file is its own source
     * @param maxId largest id in the file when already known, otherwise -1
     */
    static TokenSequence map(Path file, long headerBytes, TokenDtype dtype, long length, List<Span> spans,
                             long maxId, int chunkShift) throws IOException {
        Segment segment = new Segment(0, length, mapChunks(file, headerBytes, length * dtype.bytes(), chunkShift));
        return new TokenSequence(file, file, headerBytes, dtype, spans, maxId, chunkShift, List.of(segment));
    }

    /**
     * Joins single-file sequences, in order, into one sequence named {@code path}.
     *
     * @throws DatasetException when the files differ in dtype or header size
     */
    static TokenSequence concat(Path path, List<TokenSequence> parts) {
        TokenSequence first = parts.get(0);
        List<Segment> segments = new ArrayList<>();
        List<Span> spans = new ArrayList<>();
        long start = 0;
        for (TokenSequence part : parts) {
            if (part.dtype != first.dtype || part.headerBytes != first.headerBytes) {
                throw new DatasetException("Token files " + first.path + " (" + first.describeFormat() + ") and "
                        + part.path + " (" + part.describeFormat() + ") differ in format. Every file of a sharded"
                        + " token dataset must have the same format and dtype.");
            }
            if (part.segments.length > 1 || part.chunkShift != first.chunkShift) {
                throw new IllegalArgumentException("TokenSequence.concat: parts must be single files mapped alike");
            }
            MappedByteBuffer[] chunks = part.segments.length == 0 ? new MappedByteBuffer[0] : part.segments[0].chunks;
            segments.add(new Segment(start, part.length, chunks));
            spans.add(new Span(part.path.toString(), start, part.length));
            start += part.length;
        }
        return new TokenSequence(path, path, first.headerBytes, first.dtype, spans, -1, first.chunkShift, segments);
    }

    /**
     * Returns a view of the same mapped ids whose {@link #source()} is {@code dataset}, such as the
     * text file or directory a token cache was built from.
     */
    TokenSequence withSource(Path dataset) {
        return new TokenSequence(path, dataset, headerBytes, dtype, spans, maxId, chunkShift, List.of(segments));
    }

    private static MappedByteBuffer[] mapChunks(Path file, long headerBytes, long dataBytes, int chunkShift)
            throws IOException {
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
        return chunks;
    }

    /** Returns the file the ids are mapped from, or the directory of a sharded token dataset. */
    public Path path() {
        return path;
    }

    /**
     * Returns the dataset path as the caller gave it, for messages: the token file or shard
     * directory itself, or the text or JSON Lines source that a cached sequence was tokenized from.
     */
    public Path source() {
        return source;
    }

    /** Returns the width of the stored ids. */
    public TokenDtype dtype() {
        return dtype;
    }

    /** Returns the number of token ids. */
    public long length() {
        return length;
    }

    /** Returns the bytes before the first id of each file (1024 for llm.c files, 0 otherwise). */
    public long headerBytes() {
        return headerBytes;
    }

    /** Returns the source files that make up the sequence, in order; empty for a single token file. */
    public List<Span> spans() {
        return spans;
    }

    /** Returns the id at {@code index}. */
    public int get(long index) {
        Objects.checkIndex(index, length);
        Segment segment = segmentOf(index);
        long offset = (index - segment.firstToken) * dtype.bytes();
        MappedByteBuffer chunk = segment.chunks[(int) (offset >>> chunkShift)];
        int position = (int) (offset & ((1L << chunkShift) - 1));
        return dtype == TokenDtype.UINT16 ? Short.toUnsignedInt(chunk.getShort(position)) : chunk.getInt(position);
    }

    /** Copies the {@code count} ids from {@code start} into {@code dst} at {@code offset}. */
    public void read(long start, int[] dst, int offset, int count) {
        Objects.checkFromIndexSize(start, count, length);
        Objects.checkFromIndexSize(offset, count, dst.length);
        int done = 0;
        while (done < count) {
            Segment segment = segmentOf(start + done);
            long local = start + done - segment.firstToken;
            int run = (int) Math.min(count - done, segment.length - local);
            readSegment(segment, local, dst, offset + done, run);
            done += run;
        }
    }

    private void readSegment(Segment segment, long start, int[] dst, int offset, int count) {
        int width = dtype.bytes();
        long chunkMask = (1L << chunkShift) - 1;
        int i = 0;
        while (i < count) {
            // One run per chunk: ids never straddle chunks because the chunk size is a multiple of the width.
            long byteOffset = (start + i) * width;
            MappedByteBuffer chunk = segment.chunks[(int) (byteOffset >>> chunkShift)];
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

    private Segment segmentOf(long index) {
        if (segments.length == 1) {
            return segments[0];
        }
        int found = Arrays.binarySearch(segmentStarts, index);
        return segments[found >= 0 ? found : -found - 2];
    }

    /**
     * Checks that every id is below {@code vocabSize}, reading every id unless the largest id is
     * already known from a cache sidecar or an earlier check.
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

    /**
     * Describes where token {@code index} is: the position in {@link #path()} and the source file it
     * came from. A token cache with its own {@link #source()} is named by the source file alone,
     * because the cache is an internal file.
     */
    public String describePosition(long index) {
        for (Span span : spans) {
            if (index >= span.firstToken() && index < span.firstToken() + span.tokenCount()) {
                String inSource = "token " + (index - span.firstToken()) + " of source " + span.source();
                return source.equals(path) ? "position " + index + " of " + path + " (" + inSource + ")" : inSource;
            }
        }
        return "position " + index + " of " + source;
    }

    private String describeFormat() {
        return (headerBytes > 0 ? "llm.c header, " : "no header, ") + dtype.jsonName();
    }

    @Override
    public String toString() {
        return path + " (" + length + " " + dtype.jsonName() + " tokens)";
    }
}
