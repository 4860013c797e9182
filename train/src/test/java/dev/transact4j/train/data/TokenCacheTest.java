package dev.transact4j.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Cache reuse and invalidation, observed through the number of tokenizer calls. */
class TokenCacheTest {

    @TempDir
    Path dir;

    private TokenSequence open(DatasetSource source, TokenEncoder encoder) throws IOException {
        return new DatasetLoader(dir.resolve("out"), encoder, ProgressListener.NONE).load(source);
    }

    private Path corpus() throws IOException {
        Files.createDirectories(dir.resolve("corpus"));
        Files.writeString(dir.resolve("corpus/a.txt"), "first document");
        Files.writeString(dir.resolve("corpus/b.txt"), "second document");
        return dir.resolve("corpus");
    }

    @Test
    void secondOpenDoesNotTokenize() throws IOException {
        DatasetSource source = DatasetSource.text(corpus());
        ByteTokenizer first = new ByteTokenizer();
        TokenSequence built = open(source, first);
        assertEquals(2, first.calls.get());

        ByteTokenizer second = new ByteTokenizer();
        TokenSequence reused = open(source, second);

        assertEquals(0, second.calls.get());
        assertEquals(built.path(), reused.path());
        assertArrayEquals(ByteTokenizer.concatenated("first document", "second document"), TokenFileIo.all(reused));
        assertEquals(built.spans(), reused.spans());
    }

    @Test
    void sidecarRecordsTokenizerSourcesDtypeAndCount() throws IOException {
        Path corpus = corpus();
        DatasetSource source = DatasetSource.text(corpus);
        TokenSequence tokens = open(source, new ByteTokenizer());

        JsonNode sidecar = new ObjectMapper().readTree(TokenCache.sidecarFile(source, dir.resolve("out")).toFile());

        assertEquals("bytes", sidecar.get("tokenizer").asText());
        assertEquals("uint16", sidecar.get("dtype").asText());
        assertEquals(tokens.length(), sidecar.get("tokens").asLong());
        assertEquals(ByteTokenizer.EOS, sidecar.get("max_id").asInt());
        JsonNode a = sidecar.get("sources").get(0);
        Path aFile = corpus.resolve("a.txt");
        assertEquals(aFile.toAbsolutePath().normalize().toString(), a.get("path").asText());
        assertEquals(Files.size(aFile), a.get("size").asLong());
        assertEquals(Files.getLastModifiedTime(aFile).toString(), a.get("mtime").asText());
        assertEquals(TokenEncoder.sha256Of(aFile), a.get("sha256").asText());
        assertEquals("first document".length() + 1, a.get("tokens").asLong());
        assertEquals(2, sidecar.get("sources").size());
    }

    @Test
    void sameSizeEditRebuilds() throws IOException {
        Path corpus = corpus();
        DatasetSource source = DatasetSource.text(corpus);
        open(source, new ByteTokenizer());
        Path a = corpus.resolve("a.txt");
        FileTime mtime = Files.getLastModifiedTime(a);
        Files.writeString(a, "FIRST document");
        Files.setLastModifiedTime(a, mtime);

        ByteTokenizer again = new ByteTokenizer();
        TokenSequence tokens = open(source, again);

        assertEquals(2, again.calls.get());
        assertArrayEquals(ByteTokenizer.concatenated("FIRST document", "second document"), TokenFileIo.all(tokens));
    }

    @Test
    void touchedButUnchangedSourceIsReused() throws IOException {
        Path corpus = corpus();
        DatasetSource source = DatasetSource.text(corpus);
        open(source, new ByteTokenizer());
        Path a = corpus.resolve("a.txt");
        Files.setLastModifiedTime(a, FileTime.fromMillis(Files.getLastModifiedTime(a).toMillis() + 60_000));

        ByteTokenizer again = new ByteTokenizer();
        open(source, again);

        assertEquals(0, again.calls.get());
    }

    @Test
    void addedFileRebuilds() throws IOException {
        Path corpus = corpus();
        DatasetSource source = DatasetSource.text(corpus);
        open(source, new ByteTokenizer());
        Files.writeString(corpus.resolve("c.txt"), "third");

        ByteTokenizer again = new ByteTokenizer();
        TokenSequence tokens = open(source, again);

        assertEquals(3, again.calls.get());
        assertArrayEquals(ByteTokenizer.concatenated("first document", "second document", "third"),
                TokenFileIo.all(tokens));
    }

    @Test
    void tokenizerFingerprintChangeRebuilds() throws IOException {
        DatasetSource source = DatasetSource.text(corpus());
        open(source, new ByteTokenizer("bytes"));

        ByteTokenizer other = new ByteTokenizer("bytes-v2");
        open(source, other);
        assertEquals(2, other.calls.get());

        ByteTokenizer sameAsOther = new ByteTokenizer("bytes-v2");
        open(source, sameAsOther);
        assertEquals(0, sameAsOther.calls.get());
    }

    @Test
    void truncatedCacheFileRebuilds() throws IOException {
        DatasetSource source = DatasetSource.text(corpus());
        TokenSequence built = open(source, new ByteTokenizer());
        Path bin = built.path();
        byte[] bytes = Files.readAllBytes(bin);
        Files.write(bin, Arrays.copyOf(bytes, bytes.length - 2));

        ByteTokenizer again = new ByteTokenizer();
        TokenSequence tokens = open(source, again);

        assertEquals(2, again.calls.get());
        assertEquals(built.length(), tokens.length());
    }

    @Test
    void differentSourcesInOneDirectoryKeepSeparateCaches() throws IOException {
        Path one = Files.writeString(dir.resolve("one.txt"), "one");
        Files.createDirectories(dir.resolve("sub"));
        Path otherOne = Files.writeString(dir.resolve("sub/one.txt"), "another one");

        TokenSequence first = open(DatasetSource.text(one), new ByteTokenizer());
        TokenSequence second = open(DatasetSource.text(otherOne), new ByteTokenizer());
        ByteTokenizer again = new ByteTokenizer();
        TokenSequence firstAgain = open(DatasetSource.text(one), again);

        assertFalse(first.path().equals(second.path()));
        assertEquals(0, again.calls.get());
        assertArrayEquals(ByteTokenizer.concatenated("one"), TokenFileIo.all(firstAgain));
    }

    @Test
    void noTemporaryFilesAreLeftBehind() throws IOException {
        Path file = Files.writeString(dir.resolve("ids.jsonl"), "{\"input_ids\": [1, 70000, 2]}\n");
        open(DatasetSource.jsonlInputIds(file), null);

        try (Stream<Path> files = Files.list(dir.resolve("out"))) {
            List<String> names = files.map(p -> p.getFileName().toString()).sorted().toList();
            assertEquals(2, names.size(), names.toString());
            assertTrue(names.get(0).endsWith(".bin"), names.toString());
            assertTrue(names.get(1).endsWith(".json"), names.toString());
        }
    }

    @Test
    void failedBuildLeavesNoCache() throws IOException {
        Path file = Files.writeString(dir.resolve("ids.jsonl"),
                "{\"input_ids\": [1, 2]}\n{\"input_ids\": [3, \"x\"]}\n");
        DatasetSource source = DatasetSource.jsonlInputIds(file);

        assertThrows(DatasetException.class, () -> open(source, null));

        try (Stream<Path> files = Files.list(dir.resolve("out"))) {
            assertEquals(0, files.count());
        }
    }
}
