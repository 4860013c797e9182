package dev.transact4j.train.io;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes files through a temporary file in the same directory that is then renamed over the
 * target, so a reader or a crash never leaves a partial file under the target's name.
 *
 * <p>The temporary file is created with {@link Files#createFile}, so it gets the permissions of any
 * new file (the umask), and so does the target after the rename. {@link Files#createTempFile}
 * creates owner-only (0600) files, which left the demo's outputs unreadable to other users.
 */
public final class AtomicFiles {

    private AtomicFiles() {
    }

    /**
     * Creates an empty file beside {@code target}, named after it with a random suffix, for the
     * caller to fill and then move over the target.
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

    /** Writes {@code bytes} to {@code target} through a temporary file renamed over it. */
    public static void write(Path target, byte[] bytes) throws IOException {
        Path temporary = newTemporary(target);
        try {
            Files.write(temporary, bytes);
            moveOver(temporary, target);
        } finally {
            Files.deleteIfExists(temporary);
        }
    }

    /**
     * Renames a filled temporary file over {@code target} in one atomic step.
     *
     * @throws java.nio.file.AtomicMoveNotSupportedException on a file system without atomic renames
     */
    public static void moveOver(Path temporary, Path target) throws IOException {
        Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
