package dev.transact4j.train.data;

import dev.transact4j.nn.io.AtomicFiles;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Streams token ids into a flat little-endian file through a temporary file that {@link #commit()}
 * renames onto the target, so readers never see a half-written file.
 *
 * <p>It writes uint16 until the first id above 65535 arrives, then rewrites what it has as uint32
 * and continues in uint32. Most vocabularies fit 16 bits, so the common case is one pass.
 */
final class TokenFileWriter implements Closeable {

    private static final int BUFFER_BYTES = 1 << 16;

    private final Path target;
    private final ByteBuffer buffer = ByteBuffer.allocate(BUFFER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    private Path temp;
    private FileChannel out;
    private TokenDtype dtype = TokenDtype.UINT16;
    private long count;
    private long maxId = -1;
    private boolean committed;

    TokenFileWriter(Path target) throws IOException {
        this.target = target;
        this.temp = newTempFile();
        this.out = FileChannel.open(temp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
    }

    /** Appends one id in {@code [0, 2^32)}. */
    void write(long id) throws IOException {
        if (id < 0 || id > TokenDtype.UINT32.maxId()) {
            throw new IllegalArgumentException("TokenFileWriter.write: id " + id + " is outside [0, 2^32)");
        }
        if (id > dtype.maxId()) {
            widen();
        }
        if (buffer.remaining() < dtype.bytes()) {
            flush();
        }
        if (dtype == TokenDtype.UINT16) {
            buffer.putShort((short) id);
        } else {
            buffer.putInt((int) id);
        }
        count++;
        maxId = Math.max(maxId, id);
    }

    long count() {
        return count;
    }

    long maxId() {
        return maxId;
    }

    TokenDtype dtype() {
        return dtype;
    }

    /** Flushes, syncs and renames the temporary file onto the target. */
    void commit() throws IOException {
        flush();
        out.force(true);
        out.close();
        AtomicFiles.moveOver(temp, target);
        committed = true;
    }

    /** Deletes the temporary file unless {@link #commit()} has renamed it. */
    @Override
    public void close() throws IOException {
        if (!committed) {
            out.close();
            Files.deleteIfExists(temp);
        }
    }

    private void flush() throws IOException {
        buffer.flip();
        while (buffer.hasRemaining()) {
            out.write(buffer);
        }
        buffer.clear();
    }

    /** Rewrites the uint16 ids written so far as uint32 into a new temporary file. */
    private void widen() throws IOException {
        flush();
        out.close();
        Path wide = newTempFile();
        ByteBuffer in16 = ByteBuffer.allocate(BUFFER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer out32 = ByteBuffer.allocate(2 * BUFFER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        try (FileChannel narrow = FileChannel.open(temp, StandardOpenOption.READ);
             FileChannel widened = FileChannel.open(wide, StandardOpenOption.WRITE)) {
            int n;
            do {
                n = narrow.read(in16);
                in16.flip();
                while (in16.remaining() >= 2) {
                    out32.putInt(Short.toUnsignedInt(in16.getShort()));
                }
                in16.compact();
                out32.flip();
                while (out32.hasRemaining()) {
                    widened.write(out32);
                }
                out32.clear();
            } while (n >= 0);
        }
        Files.delete(temp);
        temp = wide;
        out = FileChannel.open(temp, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        dtype = TokenDtype.UINT32;
    }

    private Path newTempFile() throws IOException {
        return AtomicFiles.newTemporary(target);
    }
}
