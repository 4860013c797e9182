package dev.transact4j.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.transact4j.tensor.Parallel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.IntStream;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reads every supported source format from real files and compares the ids with ones computed independently. */
class DatasetLoaderTest {

    @TempDir
    Path dir;

    private DatasetLoader loader(TokenEncoder encoder) {
        return new DatasetLoader(dir.resolve("out"), encoder, ProgressListener.NONE);
    }

    @Test
    void textFileIsOneDocument() throws IOException {
        String text = "The Fulton County Grand Jury said Friday.\nÉtude, naïve café.\n";
        Path file = Files.writeString(dir.resolve("brown.txt"), text);

        TokenSequence tokens = loader(new ByteTokenizer()).load(DatasetSource.text(file));

        assertArrayEquals(ByteTokenizer.concatenated(text), TokenFileIo.all(tokens));
        assertEquals(TokenDtype.UINT16, tokens.dtype());
        assertEquals(dir.resolve("out"), tokens.path().getParent());
    }

    @Test
    void directoryIsReadRecursivelyInSortedOrder() throws IOException {
        Files.createDirectories(dir.resolve("corpus/b"));
        Files.writeString(dir.resolve("corpus/b/a.txt"), "third");
        Files.writeString(dir.resolve("corpus/a.txt"), "first");
        Files.writeString(dir.resolve("corpus/ab.txt"), "second");
        Files.writeString(dir.resolve("corpus/notes.md"), "ignored");
        Files.writeString(dir.resolve("corpus/empty.txt"), "");

        TokenSequence tokens = loader(new ByteTokenizer()).load(DatasetSource.text(dir.resolve("corpus")));

        // Relative paths sorted: a.txt, ab.txt, b/a.txt, empty.txt (empty, so no EOS either).
        assertArrayEquals(ByteTokenizer.concatenated("first", "second", "third"), TokenFileIo.all(tokens));
        assertEquals(4, tokens.spans().size());
        assertEquals(0, tokens.spans().get(3).tokenCount());
    }

    @Test
    void directoryWithCustomFilePattern() throws IOException {
        Files.createDirectories(dir.resolve("docs"));
        Files.writeString(dir.resolve("docs/x.md"), "markdown");
        Files.writeString(dir.resolve("docs/y.txt"), "text");

        TokenSequence tokens = loader(new ByteTokenizer())
                .load(DatasetSource.text(dir.resolve("docs")).withFilePattern("*.md"));

        assertArrayEquals(ByteTokenizer.concatenated("markdown"), TokenFileIo.all(tokens));
    }

    @Test
    void jsonLinesTextWithDefaultField() throws IOException {
        Path file = Files.writeString(dir.resolve("docs.jsonl"),
                "{\"text\": \"alpha\", \"id\": 1}\n\n{\"text\": \"\"}\n{\"id\": 3, \"text\": \"b\\u00e9ta\\nline\"}\n");

        TokenSequence tokens = loader(new ByteTokenizer()).load(DatasetSource.jsonlText(file));

        assertArrayEquals(ByteTokenizer.concatenated("alpha", "béta\nline"), TokenFileIo.all(tokens));
    }

    @Test
    void byteOrderMarkIsSkipped() throws IOException {
        Path text = Files.writeString(dir.resolve("bom.txt"), "\uFEFFword");
        Path lines = Files.writeString(dir.resolve("bom.jsonl"), "\uFEFF{\"text\": \"line\"}\n");

        TokenSequence fromText = loader(new ByteTokenizer()).load(DatasetSource.text(text));
        TokenSequence fromLines = loader(new ByteTokenizer()).load(DatasetSource.jsonlText(lines));

        assertArrayEquals(ByteTokenizer.concatenated("word"), TokenFileIo.all(fromText));
        assertArrayEquals(ByteTokenizer.concatenated("line"), TokenFileIo.all(fromLines));
    }

    @Test
    void rawFileStartingLikeLlmcMagicIsRejected() throws IOException {
        // 20240520 as little-endian int32 is the uint16 pair 55432, 308.
        Path file = TokenFileIo.writeRawUint16(dir.resolve("raw.bin"), new int[] {55432, 308, 1, 2});

        DatasetException e = assertThrows(DatasetException.class,
                () -> loader(null).load(DatasetSource.tokenFile(file, TokenDtype.UINT16)));

        assertTrue(e.getMessage().startsWith("Token file " + file + " starts with the llm.c magic 20240520"),
                e.getMessage());
    }

    @Test
    void jsonLinesTextWithCustomField() throws IOException {
        Path file = Files.writeString(dir.resolve("docs.jsonl"),
                "{\"text\": \"not this\", \"content\": \"this\"}\n{\"content\": \"and this\"}\n");

        TokenSequence tokens = loader(new ByteTokenizer()).load(DatasetSource.jsonlText(file).withField("content"));

        assertArrayEquals(ByteTokenizer.concatenated("this", "and this"), TokenFileIo.all(tokens));
    }

    @Test
    void jsonLinesInputIdsAreConcatenatedAsGiven() throws IOException {
        Path file = Files.writeString(dir.resolve("ids.jsonl"),
                "{\"input_ids\": [1, 2, 3]}\n{\"input_ids\": []}\n{\"input_ids\": [65535, 0, 17]}\n");

        TokenSequence tokens = loader(null).load(DatasetSource.jsonlInputIds(file));

        assertArrayEquals(new int[] {1, 2, 3, 65535, 0, 17}, TokenFileIo.all(tokens));
        assertEquals(TokenDtype.UINT16, tokens.dtype());
    }

    @Test
    void largeInputIdsStoredAsUint32() throws IOException {
        Path file = Files.writeString(dir.resolve("ids.jsonl"),
                "{\"ids\": [5, 65535, 7]}\n{\"ids\": [128255, 9]}\n{\"ids\": [4294967295]}\n");

        TokenSequence tokens = loader(null).load(DatasetSource.jsonlInputIds(file).withField("ids"));

        assertEquals(TokenDtype.UINT32, tokens.dtype());
        assertArrayEquals(new int[] {5, 65535, 7, 128255, 9, -1}, TokenFileIo.all(tokens));
        assertEquals(4294967295L, Integer.toUnsignedLong(tokens.get(5)));
        assertEquals(6 * 4, Files.size(tokens.path()));
    }

    @Test
    void textCacheWidensToUint32MidStream() throws IOException {
        // Code points as ids: the emoji (U+1F600) is above 65535 and arrives after uint16 ids were written.
        TokenEncoder codePoints = TokenEncoder.of("codepoints", 0x110000, s -> s.codePoints().toArray());
        String first = "plain ascii first";
        String second = "then \uD83D\uDE00 smile";
        Path file = Files.writeString(dir.resolve("docs.jsonl"),
                "{\"text\": \"" + first + "\"}\n{\"text\": \"" + second + "\"}\n");

        TokenSequence tokens = loader(codePoints).load(DatasetSource.jsonlText(file));

        int[] expected = IntStream.concat(
                IntStream.concat(first.codePoints(), IntStream.of(0x110000)),
                IntStream.concat(second.codePoints(), IntStream.of(0x110000))).toArray();
        assertEquals(TokenDtype.UINT32, tokens.dtype());
        assertArrayEquals(expected, TokenFileIo.all(tokens));
    }

    @Test
    void nanoGptUint16BinWithoutHeader() throws IOException {
        int[] ids = randomIds(1025, 50257, 1);
        Path file = TokenFileIo.writeRawUint16(dir.resolve("train.bin"), ids);

        TokenSequence tokens = loader(null).load(DatasetSource.tokenFile(file, TokenDtype.UINT16));

        assertEquals(0, tokens.headerBytes());
        assertArrayEquals(ids, TokenFileIo.all(tokens));
    }

    @Test
    void rawUint32File() throws IOException {
        long[] ids = {0, 1, 65536, 128000, 4294967295L, 3, 70000};
        Path file = TokenFileIo.writeRawUint32(dir.resolve("ids.u32"), ids);

        TokenSequence tokens = loader(null).load(DatasetSource.tokenFile(file, TokenDtype.UINT32));

        assertEquals(ids.length, tokens.length());
        for (int i = 0; i < ids.length; i++) {
            assertEquals(ids[i], Integer.toUnsignedLong(tokens.get(i)), "id " + i);
        }
    }

    @Test
    void llmcUint16FileIsDetectedByMagic() throws IOException {
        long[] ids = Arrays.stream(randomIds(257, 50257, 2)).asLongStream().toArray();
        Path file = TokenFileIo.writeLlmc(dir.resolve("fineweb_train_000001.bin"), 20240520, 1, ids.length, ids);

        // The raw dtype given is ignored: the header sets uint16.
        TokenSequence tokens = loader(null).load(DatasetSource.tokenFile(file, TokenDtype.UINT32));

        assertEquals(1024, tokens.headerBytes());
        assertEquals(TokenDtype.UINT16, tokens.dtype());
        assertEquals(ids.length, tokens.length());
        for (int i = 0; i < ids.length; i++) {
            assertEquals(ids[i], tokens.get(i), "id " + i);
        }
    }

    @Test
    void llmcUint32FileIsDetectedByMagic() throws IOException {
        long[] ids = {128000, 9906, 1917, 128001, 0, 70000, 15};
        Path file = TokenFileIo.writeLlmc(dir.resolve("llama3.bin"), 20240801, 7, ids.length, ids);

        TokenSequence tokens = loader(null).load(DatasetSource.tokenFile(file, TokenDtype.UINT16));

        assertEquals(TokenDtype.UINT32, tokens.dtype());
        assertEquals(ids.length, tokens.length());
        for (int i = 0; i < ids.length; i++) {
            assertEquals(ids[i], tokens.get(i), "id " + i);
        }
    }

    @Test
    void llmcShardsInDirectoryAreJoinedInOrder() throws IOException {
        // Shards of 9, 0 and 13 ids, with 16-byte chunks so reads cross both chunk and shard boundaries.
        Path shards = Files.createDirectories(dir.resolve("fineweb10B"));
        long[] first = Arrays.stream(randomIds(9, 50257, 5)).asLongStream().toArray();
        long[] third = Arrays.stream(randomIds(13, 50257, 6)).asLongStream().toArray();
        TokenFileIo.writeLlmc(shards.resolve("fineweb_train_000001.bin"), 20240520, 1, first.length, first);
        TokenFileIo.writeLlmc(shards.resolve("fineweb_train_000002.bin"), 20240520, 1, 0, new long[0]);
        TokenFileIo.writeLlmc(shards.resolve("fineweb_train_000003.bin"), 20240520, 1, third.length, third);
        TokenFileIo.writeLlmc(shards.resolve("fineweb_val_000000.bin"), 20240520, 1, 1, new long[] {7});
        DatasetLoader small = new DatasetLoader(dir, null, ProgressListener.NONE, 4);

        TokenSequence tokens = small.load(DatasetSource.tokenFile(shards, TokenDtype.UINT16)
                .withFilePattern("fineweb_train_*.bin"));

        int[] expected = LongStream.concat(Arrays.stream(first), Arrays.stream(third))
                .mapToInt(id -> (int) id).toArray();
        assertEquals(shards, tokens.path());
        assertArrayEquals(expected, TokenFileIo.all(tokens));
        for (int start = 0; start < expected.length; start++) {
            int count = expected.length - start;
            int[] out = new int[count];
            tokens.read(start, out, 0, count);
            assertArrayEquals(Arrays.copyOfRange(expected, start, expected.length), out, "read from " + start);
        }
        assertEquals(3, tokens.spans().size());
        assertEquals(new TokenSequence.Span(shards.resolve("fineweb_train_000003.bin").toString(), 9, 13),
                tokens.spans().get(2));
        assertEquals("position 10 of " + shards + " (token 1 of source " + shards.resolve("fineweb_train_000003.bin")
                + ")", tokens.describePosition(10));
    }

    @Test
    void readsAcrossMappedChunkBoundaries() throws IOException {
        // 16-byte chunks: 8 uint16 ids or 4 uint32 ids per chunk, so 33 and 17 ids span several chunks.
        int[] ids16 = randomIds(33, 65536, 3);
        Path file16 = TokenFileIo.writeRawUint16(dir.resolve("a.bin"), ids16);
        long[] ids32 = Arrays.stream(randomIds(17, Integer.MAX_VALUE, 4)).asLongStream().toArray();
        Path file32 = TokenFileIo.writeLlmc(dir.resolve("b.bin"), 20240801, 7, ids32.length, ids32);
        DatasetLoader small = new DatasetLoader(dir, null, ProgressListener.NONE, 4);

        TokenSequence tokens16 = small.load(DatasetSource.tokenFile(file16, TokenDtype.UINT16));
        TokenSequence tokens32 = small.load(DatasetSource.tokenFile(file32, TokenDtype.UINT16));

        assertArrayEquals(ids16, TokenFileIo.all(tokens16));
        for (int start = 0; start < ids16.length; start++) {
            for (int count = 0; start + count <= ids16.length; count += 5) {
                int[] out = new int[count + 2];
                tokens16.read(start, out, 1, count);
                assertArrayEquals(Arrays.copyOfRange(ids16, start, start + count),
                        Arrays.copyOfRange(out, 1, count + 1), "uint16 read at " + start + " count " + count);
            }
        }
        int[] all32 = new int[ids32.length];
        tokens32.read(0, all32, 0, all32.length);
        for (int i = 0; i < ids32.length; i++) {
            assertEquals(ids32[i], all32[i], "uint32 id " + i);
        }
    }

    @Test
    void progressEndsAtTotalBytesAndTokenCount() throws IOException {
        Files.createDirectories(dir.resolve("corpus"));
        Files.writeString(dir.resolve("corpus/1.txt"), "one document");
        Files.writeString(dir.resolve("corpus/2.txt"), "another, longer document");
        long total = Files.size(dir.resolve("corpus/1.txt")) + Files.size(dir.resolve("corpus/2.txt"));
        List<long[]> updates = new ArrayList<>();
        DatasetLoader loader = new DatasetLoader(dir.resolve("out"), new ByteTokenizer(),
                (done, all, tokens) -> updates.add(new long[] {done, all, tokens}));

        TokenSequence tokens = loader.load(DatasetSource.text(dir.resolve("corpus")));

        // One update per document, then a final one.
        assertEquals(3, updates.size());
        assertEquals(Files.size(dir.resolve("corpus/1.txt")), updates.get(0)[0]);
        assertEquals("one document".length() + 1, updates.get(0)[2]);
        long[] last = updates.get(updates.size() - 1);
        assertEquals(total, last[0]);
        assertEquals(total, last[1]);
        assertEquals(tokens.length(), last[2]);
        for (int i = 1; i < updates.size(); i++) {
            assertTrue(updates.get(i)[0] >= updates.get(i - 1)[0], "bytes done must not go back");
            assertTrue(updates.get(i)[2] >= updates.get(i - 1)[2], "tokens must not go back");
        }
    }

    @Test
    void threadSafeEncoderRunsOnPoolInOrder() throws IOException {
        // 1000 lines make several groups of 256 documents, each split over two threads.
        StringBuilder lines = new StringBuilder();
        String[] documents = new String[1000];
        for (int i = 0; i < documents.length; i++) {
            documents[i] = "document " + i + (i % 7 == 0 ? " \u00e9" : "");
            lines.append("{\"text\": \"").append(documents[i]).append("\"}\n");
        }
        Path file = Files.writeString(dir.resolve("many.jsonl"), lines);
        Set<String> threads = ConcurrentHashMap.newKeySet();
        TokenEncoder threadSafe = new TokenEncoder() {
            @Override
            public int[] encode(String text) {
                threads.add(Thread.currentThread().getName());
                return ByteTokenizer.ids(text);
            }

            @Override
            public int eosId() {
                return ByteTokenizer.EOS;
            }

            @Override
            public String fingerprint() {
                return "bytes";
            }

            @Override
            public boolean isThreadSafe() {
                return true;
            }
        };
        int previousThreads = Parallel.threads();
        Parallel.setThreads(2);
        try {
            TokenSequence tokens = loader(threadSafe).load(DatasetSource.jsonlText(file));

            assertArrayEquals(ByteTokenizer.concatenated(documents), TokenFileIo.all(tokens));
            assertTrue(threads.stream().anyMatch(name -> name.startsWith("transact4j-worker-")), threads.toString());
        } finally {
            Parallel.setThreads(previousThreads);
        }
    }

    @Test
    void encoderNotThreadSafeStaysOnCallingThread() throws IOException {
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < 600; i++) {
            lines.append("{\"text\": \"line ").append(i).append("\"}\n");
        }
        Path file = Files.writeString(dir.resolve("many.jsonl"), lines);
        Set<Thread> threads = ConcurrentHashMap.newKeySet();
        TokenEncoder serial = TokenEncoder.of("bytes", ByteTokenizer.EOS, text -> {
            threads.add(Thread.currentThread());
            return ByteTokenizer.ids(text);
        });
        int previousThreads = Parallel.threads();
        Parallel.setThreads(2);
        try {
            loader(serial).load(DatasetSource.jsonlText(file));

            assertEquals(Set.of(Thread.currentThread()), threads);
        } finally {
            Parallel.setThreads(previousThreads);
        }
    }

    static int[] randomIds(int count, int bound, long seed) {
        Random random = new Random(seed);
        int[] ids = new int[count];
        for (int i = 0; i < count; i++) {
            ids[i] = random.nextInt(bound);
        }
        return ids;
    }
}
