package dev.transact4j.nn.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * Writes files through a temporary file in the same directory that is synced to disk and then
 * renamed over the target, so a reader or a crash never leaves a partial file under the target's
 * name. Checkpoints, configs, tokenizers, reports and caches all go through it.
 *
 * <p>The temporary file is created with {@link Files#createFile}, so it gets the permissions of any
 * new file (the umask), and so does the target after the rename. {@link Files#createTempFile}
 * creates owner-only (0600) files, which the rename would carry over.
 */
public final class AtomicFiles {

    /** Body that fills the temporary file through its channel. */
    @FunctionalInterface
    public interface ChannelWriter {
        void write(FileChannel channel) throws IOException;
    }

    private AtomicFiles() {
    }

    /**
     * Deletes {@code root} and everything below it, such as a temporary directory that a failed
     * write left behind or a replaced one. A missing root, or an entry that disappears meanwhile,
     * is skipped.
     */
    public static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path path : walk.sorted(Comparator.reverseOrder()).toList()) {
                try {
                    Files.delete(path);
                } catch (NoSuchFileException e) {
                    // already gone: nothing to delete
                }
            }
        }
    }

    /**
     * Creates an empty file beside {@code target}, named after it with a random suffix, for the
     * caller to fill and then pass to {@link #moveOver}.
     */
    public static Path newTemporary(Path target) throws IOException {
        Path absolute = target.toAbsolutePath();
        Path directory = absolute.getParent();
        String name = "." + absolute.getFileName() + ".";
        while (true) {
            Path temporary = directory.resolve(name + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
            try {
                return Files.createFile(temporary);
            } catch (FileAlreadyExistsException e) {
                // another writer picked the same suffix; draw a new one
            }
        }
    }

    /** Writes {@code bytes} to {@code target} through a temporary file synced and renamed over it. */
    public static void write(Path target, byte[] bytes) throws IOException {
        write(target, channel -> {
            ByteBuffer buffer = ByteBuffer.wrap(bytes);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
        });
    }

    /**
     * Lets {@code body} fill a temporary file beside {@code target}, syncs it, and renames it over
     * the target. When the body or the rename fails, the temporary file is deleted and the target
     * is left as it was.
     */
    public static void write(Path target, ChannelWriter body) throws IOException {
        Path temporary = newTemporary(target);
        try {
            try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.WRITE)) {
                body.write(channel);
                channel.force(true);
            }
            moveOver(temporary, target);
        } finally {
            Files.deleteIfExists(temporary);
        }
    }

    /**
     * Renames a filled temporary file over {@code target}, in one atomic step where the file
     * system supports it and with a plain replacing rename where it does not.
     */
    public static void moveOver(Path temporary, Path target) throws IOException {
        try {
            Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
