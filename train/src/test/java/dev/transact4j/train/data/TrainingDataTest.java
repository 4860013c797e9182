package dev.transact4j.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The one-call preparation: vocabulary check, packing and both kinds of split. */
class TrainingDataTest {

    @TempDir
    Path dir;

    private DatasetLoader loader() {
        return new DatasetLoader(dir.resolve("out"), new ByteTokenizer(), ProgressListener.NONE);
    }

    @Test
    void fractionSplitOfTextCorpus() throws IOException {
        // 3 documents of 10 bytes each plus EOS: 33 tokens, seq_len 4 gives 6 blocks and 3 dropped.
        Files.createDirectories(dir.resolve("corpus"));
        Files.writeString(dir.resolve("corpus/a.txt"), "0123456789");
        Files.writeString(dir.resolve("corpus/b.txt"), "abcdefghij");
        Files.writeString(dir.resolve("corpus/c.txt"), "ABCDEFGHIJ");

        DatasetSource corpus = DatasetSource.text(dir.resolve("corpus"));

        TrainingData data = TrainingData.prepare(loader(), corpus, null, 0.34, 4, 257);

        assertEquals(4, data.train().blockCount());
        assertEquals(2, data.validation().blockCount());
        assertEquals(3, data.droppedTokens());
        int[] block = new int[5];
        data.validation().readBlock(1, block, 0);
        int[] all = ByteTokenizer.concatenated("0123456789", "abcdefghij", "ABCDEFGHIJ");
        assertArrayEquals(Arrays.copyOfRange(all, 25, 30), block);
        assertEquals("Data: 4 training and 2 validation blocks of 5 tokens (20 and 10 tokens), 3 tokens dropped after"
                + " the last whole block", data.summary());
    }

    @Test
    void separateValidationFile() throws IOException {
        Path train = TokenFileIo.writeRawUint16(dir.resolve("train.bin"), DatasetLoaderTest.randomIds(103, 1000, 5));
        Path validation = TokenFileIo.writeRawUint16(dir.resolve("val.bin"), DatasetLoaderTest.randomIds(33, 1000, 6));

        TrainingData data = TrainingData.prepare(loader(), DatasetSource.tokenFile(train, TokenDtype.UINT16),
                DatasetSource.tokenFile(validation, TokenDtype.UINT16), 0.5, 7, 1000);

        assertEquals(12, data.train().blockCount());
        assertEquals(4, data.validation().blockCount());
        assertEquals(103 - 96 + 33 - 32, data.droppedTokens());
        assertEquals(validation, data.validation().tokens().path());
    }

    @Test
    void validationFileIsCheckedAgainstVocabulary() throws IOException {
        Path train = TokenFileIo.writeRawUint16(dir.resolve("train.bin"), new int[] {1, 2, 3, 4, 5, 6});
        Path validation = TokenFileIo.writeRawUint16(dir.resolve("val.bin"), new int[] {1, 2, 300, 4});

        DatasetSource trainSource = DatasetSource.tokenFile(train, TokenDtype.UINT16);
        DatasetSource validationSource = DatasetSource.tokenFile(validation, TokenDtype.UINT16);

        DatasetException e = assertThrows(DatasetException.class,
                () -> TrainingData.prepare(loader(), trainSource, validationSource, 0, 2, 257));

        assertTrue(e.getMessage().startsWith("Token id 300 at position 2 of " + validation), e.getMessage());
    }
}
