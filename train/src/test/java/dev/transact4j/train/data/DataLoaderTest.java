package dev.transact4j.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Shuffling, batching and exact resume, on token files whose ids equal their positions. */
class DataLoaderTest {

    @TempDir
    Path dir;

    private PackedBlocks blocks(int count, int seqLen) throws IOException {
        int[] ids = new int[count];
        for (int i = 0; i < count; i++) {
            ids[i] = i;
        }
        Path file = TokenFileIo.writeRawUint16(dir.resolve("positions-" + count + ".bin"), ids);
        return PackedBlocks.pack(TokenFiles.open(file, TokenDtype.UINT16), seqLen);
    }

    /** Returns the block index a row of {@code batch} came from, read off its first input id. */
    private static int blockOf(Batch batch, int row) {
        return batch.inputIds()[row * batch.seqLen()] / (batch.seqLen() + 1);
    }

    @Test
    void targetsAreInputsShiftedByOne() throws IOException {
        PackedBlocks blocks = blocks(17 * 5, 4);
        DataLoader loader = new DataLoader(blocks, 3, true, 42);

        Batch batch = loader.next();

        assertEquals(3, batch.batchSize());
        assertEquals(4, batch.seqLen());
        for (int row = 0; row < 3; row++) {
            int first = blockOf(batch, row) * 5;
            for (int t = 0; t < 4; t++) {
                assertEquals(first + t, batch.inputIds()[row * 4 + t], "input row " + row + " t " + t);
                assertEquals(first + t + 1, batch.targets()[row * 4 + t], "target row " + row + " t " + t);
            }
        }
    }

    @Test
    void permutationIsSeededAndDiffersAcrossEpochs() {
        int[] epoch0 = BlockShuffle.permutation(257, 1234, 0);
        int[] epoch0Again = BlockShuffle.permutation(257, 1234, 0);
        int[] epoch1 = BlockShuffle.permutation(257, 1234, 1);
        int[] otherSeed = BlockShuffle.permutation(257, 1235, 0);

        assertArrayEquals(epoch0, epoch0Again);
        assertFalse(Arrays.equals(epoch0, epoch1));
        assertFalse(Arrays.equals(epoch0, otherSeed));
        for (int[] order : new int[][] {epoch0, epoch1, otherSeed}) {
            int[] sorted = order.clone();
            Arrays.sort(sorted);
            for (int i = 0; i < sorted.length; i++) {
                assertEquals(i, sorted[i], "permutation must contain every block once");
            }
        }
        assertArrayEquals(new int[0], BlockShuffle.permutation(0, 1, 0));
        assertArrayEquals(new int[] {0}, BlockShuffle.permutation(1, 1, 0));
    }

    @Test
    void shuffleIsRoughlyUniform() {
        // Each of 3 blocks should land in position 0 about a third of the time over 3000 epochs.
        int[] firstCounts = new int[3];
        for (int epoch = 0; epoch < 3000; epoch++) {
            firstCounts[BlockShuffle.permutation(3, 7, epoch)[0]]++;
        }
        for (int block = 0; block < 3; block++) {
            assertEquals(1000, firstCounts[block], 100, "block " + block + " first " + firstCounts[block] + " times");
        }
    }

    @Test
    void sameSeedGivesSameBatches() throws IOException {
        PackedBlocks blocks = blocks(33 * 9, 8);
        DataLoader a = new DataLoader(blocks, 4, true, 99);
        DataLoader b = new DataLoader(blocks, 4, true, 99);
        DataLoader c = new DataLoader(blocks, 4, true, 100);

        List<Batch> fromA = new ArrayList<>();
        List<Batch> fromB = new ArrayList<>();
        List<Batch> fromC = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            fromA.add(a.next());
            fromB.add(b.next());
            fromC.add(c.next());
        }

        assertEquals(fromA, fromB);
        assertNotEquals(fromA, fromC);
    }

    @Test
    void epochVisitsBlocksOnceThenReshuffles() throws IOException {
        // 33 blocks, batch 4: 8 batches per epoch, 1 block skipped each epoch.
        PackedBlocks blocks = blocks(33 * 3 + 2, 2);
        DataLoader loader = new DataLoader(blocks, 4, true, 5);
        assertEquals(8, loader.batchesPerEpoch());
        assertEquals(1, loader.blocksSkippedPerEpoch());

        int[][] seen = new int[2][];
        for (int epoch = 0; epoch < 2; epoch++) {
            seen[epoch] = new int[32];
            for (int b = 0; b < 8; b++) {
                Batch batch = loader.next();
                for (int row = 0; row < 4; row++) {
                    seen[epoch][b * 4 + row] = blockOf(batch, row);
                }
            }
            assertEquals(new DataPosition(epoch, 32), loader.position());
        }

        for (int epoch = 0; epoch < 2; epoch++) {
            int[] expected = Arrays.copyOf(BlockShuffle.permutation(33, 5, epoch), 32);
            assertArrayEquals(expected, seen[epoch], "epoch " + epoch);
            assertEquals(32, Arrays.stream(seen[epoch]).distinct().count());
        }
        assertFalse(Arrays.equals(seen[0], seen[1]));
        loader.next();
        assertEquals(new DataPosition(2, 4), loader.position());
    }

    @Test
    void withoutShuffleBlocksComeInOrder() throws IOException {
        PackedBlocks blocks = blocks(15 * 7, 6);
        DataLoader loader = new DataLoader(blocks, 3, false, 0);

        for (int b = 0; b < 5; b++) {
            Batch batch = loader.next();
            for (int row = 0; row < 3; row++) {
                assertEquals(b * 3 + row, blockOf(batch, row));
            }
        }
        assertEquals(0, blockOf(loader.next(), 0));
        assertEquals(new DataPosition(1, 3), loader.position());
    }

    @Test
    void restoredPositionGivesSameFollowingBatches() throws IOException {
        PackedBlocks blocks = blocks(17 * 11 + 3, 10);
        DataLoader original = new DataLoader(blocks, 2, true, 2024);
        for (int i = 0; i < 11; i++) {
            original.next();
        }
        DataPosition saved = original.position();
        assertEquals(new DataPosition(1, 6), saved);
        List<Batch> expected = new ArrayList<>();
        for (int i = 0; i < 25; i++) {
            expected.add(original.next());
        }

        DataLoader resumed = new DataLoader(blocks, 2, true, 2024);
        resumed.restore(saved);
        List<Batch> actual = new ArrayList<>();
        for (int i = 0; i < 25; i++) {
            actual.add(resumed.next());
        }

        assertEquals(expected, actual);
    }

    @Test
    void restoreOnUsedLoaderSwitchesEpochOrder() throws IOException {
        PackedBlocks blocks = blocks(17 * 9, 8);
        DataLoader reference = new DataLoader(blocks, 3, true, 8);
        List<Batch> epochs = new ArrayList<>();
        for (int i = 0; i < 15; i++) {
            epochs.add(reference.next());
        }

        DataLoader loader = new DataLoader(blocks, 3, true, 8);
        loader.next();
        loader.restore(new DataPosition(2, 3));

        // 17 blocks, batch 3: 5 batches per epoch, so epoch 2 cursor 3 is batch index 11.
        assertEquals(epochs.get(11), loader.next());
        loader.restore(DataPosition.START);
        assertEquals(epochs.get(0), loader.next());
    }

    @Test
    void restoreRejectsCursorBeyondBlocks() throws IOException {
        DataLoader loader = new DataLoader(blocks(40, 4), 2, true, 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> loader.restore(new DataPosition(0, 9)));
        assertEquals("DataLoader.restore: cursor 9 is beyond the 8 blocks of this dataset. The checkpoint was made"
                + " with other data or seq_len.", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new DataPosition(-1, 0));
    }

    @Test
    void inOrderKeepsPartialLastBatch() throws IOException {
        PackedBlocks blocks = blocks(7 * 4, 3);

        List<Batch> batches = new ArrayList<>();
        DataLoader.inOrder(blocks, 3).forEach(batches::add);

        assertEquals(3, batches.size());
        assertEquals(3, batches.get(0).batchSize());
        assertEquals(3, batches.get(1).batchSize());
        assertEquals(1, batches.get(2).batchSize());
        int block = 0;
        for (Batch batch : batches) {
            for (int row = 0; row < batch.batchSize(); row++) {
                assertEquals(block++, blockOf(batch, row));
            }
        }
        assertArrayEquals(new int[] {24, 25, 26}, batches.get(2).inputIds());
        assertArrayEquals(new int[] {25, 26, 27}, batches.get(2).targets());
    }

    @Test
    void batchChecksItsShape() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Batch(2, 3, new int[6], new int[5]));
        assertEquals("Batch: shape [2, 3] needs 6 ids, got inputIds 6 and targets 5", e.getMessage());
    }
}
