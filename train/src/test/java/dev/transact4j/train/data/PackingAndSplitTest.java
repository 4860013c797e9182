package dev.transact4j.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Block and split arithmetic on token files whose ids equal their positions, so every id shows where it came from. */
class PackingAndSplitTest {

    @TempDir
    Path dir;

    private TokenSequence positions(int count) throws IOException {
        int[] ids = new int[count];
        for (int i = 0; i < count; i++) {
            ids[i] = i;
        }
        return TokenFiles.open(TokenFileIo.writeRawUint16(dir.resolve("positions-" + count + ".bin"), ids),
                TokenDtype.UINT16);
    }

    @Test
    void blocksAreNonOverlappingWithTailDropped() throws IOException {
        for (int[] c : new int[][] {{17, 3}, {33, 15}, {257, 1}, {16, 15}, {100, 8}}) {
            int count = c[0];
            int seqLen = c[1];

            PackedBlocks blocks = PackedBlocks.pack(positions(count), seqLen);

            int blockLength = seqLen + 1;
            assertEquals(count / blockLength, blocks.blockCount(), "blocks of " + count + " tokens, seq_len " + seqLen);
            assertEquals(count % blockLength, blocks.droppedTokens(), "dropped of " + count + ", seq_len " + seqLen);
            assertEquals(blocks.blockCount() * (long) blockLength, blocks.tokenCount());
            int[] block = new int[blockLength];
            for (int b = 0; b < blocks.blockCount(); b++) {
                blocks.readBlock(b, block, 0);
                for (int t = 0; t < blockLength; t++) {
                    assertEquals(b * blockLength + t, block[t], "block " + b + " token " + t);
                }
            }
        }
    }

    @Test
    void splitTakesValidationFromTheEnd() throws IOException {
        // 103 tokens, seq_len 4: 20 blocks of 5 and 3 tokens dropped. 0.1 of 20 blocks is 2.
        PackedBlocks all = PackedBlocks.pack(positions(103), 4);

        DataSplit split = DataSplit.byFraction(all, 0.1);

        assertEquals(18, split.train().blockCount());
        assertEquals(2, split.validation().blockCount());
        int[] block = new int[5];
        split.train().readBlock(17, block, 0);
        assertArrayEquals(new int[] {85, 86, 87, 88, 89}, block);
        split.validation().readBlock(0, block, 0);
        assertArrayEquals(new int[] {90, 91, 92, 93, 94}, block);
        split.validation().readBlock(1, block, 0);
        assertArrayEquals(new int[] {95, 96, 97, 98, 99}, block);
        assertThrows(IndexOutOfBoundsException.class, () -> split.validation().readBlock(2, block, 0));
    }

    @Test
    void splitRoundsWithOneBlockMinimum() throws IOException {
        PackedBlocks all = PackedBlocks.pack(positions(7 * 33), 6);
        assertEquals(33, all.blockCount());

        assertEquals(0, DataSplit.byFraction(all, 0).validation().blockCount());
        assertEquals(33, DataSplit.byFraction(all, 0).train().blockCount());
        assertEquals(1, DataSplit.byFraction(all, 0.001).validation().blockCount());
        assertEquals(3, DataSplit.byFraction(all, 0.1).validation().blockCount());
        assertEquals(17, DataSplit.byFraction(all, 0.5).validation().blockCount());
        assertEquals(31, DataSplit.byFraction(all, 0.95).validation().blockCount());
        assertEquals(2, DataSplit.byFraction(all, 0.95).train().blockCount());
        assertThrows(DatasetException.class, () -> DataSplit.byFraction(all, 0.99));
        assertThrows(IllegalArgumentException.class, () -> DataSplit.byFraction(all, 1.0));
        assertThrows(IllegalArgumentException.class, () -> DataSplit.byFraction(all, -0.1));
        assertThrows(IllegalArgumentException.class, () -> DataSplit.byFraction(all, Double.NaN));
    }

    @Test
    void separateValidationFileMustShareSeqLen() throws IOException {
        PackedBlocks train = PackedBlocks.pack(positions(50), 4);
        PackedBlocks validation = PackedBlocks.pack(positions(20), 4);
        PackedBlocks otherSeqLen = PackedBlocks.pack(positions(20), 3);

        DataSplit split = DataSplit.separate(train, validation);

        assertEquals(10, split.train().blockCount());
        assertEquals(4, split.validation().blockCount());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DataSplit.separate(train, otherSeqLen));
        assertEquals("DataSplit.separate: train seq_len 4 differs from validation seq_len 3", e.getMessage());
    }

    @Test
    void vocabularyCheckUsesCachedMax() throws IOException {
        Path file = Files.writeString(dir.resolve("a.txt"), "hello");
        TokenSequence tokens = new DatasetLoader(dir.resolve("out"), new ByteTokenizer(), ProgressListener.NONE)
                .load(DatasetSource.text(file));

        tokens.checkVocabulary(257);
        assertThrows(DatasetException.class, () -> tokens.checkVocabulary(256));
    }
}
