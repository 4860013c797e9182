package dev.transact4j.nn.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {

    @TempDir
    Path dir;

    @Test
    void writeReplacesContentAndLeavesNoTemporary() throws IOException {
        Path target = dir.resolve("summary.md");
        AtomicFiles.write(target, "first".getBytes(StandardCharsets.UTF_8));
        AtomicFiles.write(target, "second".getBytes(StandardCharsets.UTF_8));

        assertArrayEquals("second".getBytes(StandardCharsets.UTF_8), Files.readAllBytes(target));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(target), files.toList());
        }
    }

    @Test
    void writtenFileHasUmaskPermissions() throws IOException {
        assumeTrue(FileSystems.getDefault().supportedFileAttributeViews().contains("posix"),
                "POSIX permissions are needed to compare modes");
        Path reference = Files.createFile(dir.resolve("reference"));
        Path target = dir.resolve("plot.png");

        AtomicFiles.write(target, new byte[] {1, 2, 3});

        assertEquals(Files.getPosixFilePermissions(reference), Files.getPosixFilePermissions(target));
    }

    @Test
    void deleteTreeRemovesNestedDirectories() throws IOException {
        Path root = dir.resolve("tree");
        Files.createDirectories(root.resolve("a/b"));
        Files.writeString(root.resolve("a/b/file.txt"), "x");
        Files.writeString(root.resolve("top.txt"), "y");
        Path sibling = Files.writeString(dir.resolve("sibling.txt"), "kept");

        AtomicFiles.deleteTree(root);

        assertFalse(Files.exists(root));
        assertTrue(Files.exists(sibling));
        AtomicFiles.deleteTree(root);   // a missing root is skipped
    }

    @Test
    void newTemporaryIsEmptyBesideTarget() throws IOException {
        Path target = dir.resolve("tokens.bin");

        Path temporary = AtomicFiles.newTemporary(target);

        assertEquals(dir.toAbsolutePath(), temporary.getParent());
        assertEquals(0, Files.size(temporary));
        AtomicFiles.moveOver(temporary, target);
        assertEquals(0, Files.size(target));
    }
}
