package dev.transact4j.train.data;

import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * Serves micro-batches of {@code batchSize} blocks forever, epoch after epoch.
 *
 * <p>Each epoch visits the blocks in the order {@link BlockShuffle#permutation} gives for the seed
 * and the epoch number, or in file order when shuffling is off. A batch takes the next
 * {@code batchSize} entries of that order. When fewer than {@code batchSize} entries remain, they
 * are skipped for this epoch (see {@link #blocksSkippedPerEpoch()}) and the next epoch starts, so
 * every batch is full. {@link #position()} and {@link #restore(DataPosition)} save and restore the
 * position for an exact resume. A loader is meant for one thread and is not synchronized.
 */
public final class DataLoader {

    private final PackedBlocks blocks;
    private final int batchSize;
    private final boolean shuffle;
    private final long seed;
    private final int[] blockBuffer;

    private long epoch;
    private int cursor;
    private int[] order;

    /**
     * @throws DatasetException when there are fewer blocks than one batch needs
     */
    public DataLoader(PackedBlocks blocks, int batchSize, boolean shuffle, long seed) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("DataLoader: batchSize must be at least 1, got " + batchSize);
        }
        if (blocks.blockCount() < batchSize) {
            throw new DatasetException(DatasetException.Kind.FEWER_BLOCKS_THAN_BATCH, "Dataset "
                    + blocks.tokens().source() + " has " + blocks.blockCount() + " blocks of " + (blocks.seqLen() + 1)
                    + " tokens, fewer than the micro-batch size " + batchSize + ".",
                    "Add data, lower seq_len or lower the micro-batch size.");
        }
        this.blocks = blocks;
        this.batchSize = batchSize;
        this.shuffle = shuffle;
        this.seed = seed;
        this.blockBuffer = new int[blocks.seqLen() + 1];
    }

    /** Returns the next batch, moving to the next epoch when the current one cannot fill a batch. */
    public Batch next() {
        if (cursor + batchSize > blocks.blockCount()) {
            epoch++;
            cursor = 0;
            order = null;
        }
        if (shuffle && order == null) {
            order = BlockShuffle.permutation(blocks.blockCount(), seed, epoch);
        }
        int[] blockIndices = new int[batchSize];
        for (int row = 0; row < batchSize; row++) {
            blockIndices[row] = shuffle ? order[cursor + row] : cursor + row;
        }
        cursor += batchSize;
        return assemble(blocks, blockIndices, blockBuffer);
    }

    /** Returns where the next batch starts. */
    public DataPosition position() {
        return new DataPosition(epoch, cursor);
    }

    /**
     * Continues from a position returned by {@link #position()} of a loader built with the same
     * blocks, batch size, shuffle flag and seed.
     *
     * @throws IllegalArgumentException when the cursor is beyond the number of blocks
     */
    public void restore(DataPosition position) {
        if (position.cursor() > blocks.blockCount()) {
            throw new IllegalArgumentException("DataLoader.restore: cursor " + position.cursor() + " is beyond the "
                    + blocks.blockCount() + " blocks of this dataset. The checkpoint was made with other data or"
                    + " seq_len.");
        }
        if (position.epoch() != epoch) {
            order = null;
        }
        epoch = position.epoch();
        cursor = position.cursor();
    }

    /** Returns the number of full batches in one epoch. */
    public int batchesPerEpoch() {
        return blocks.blockCount() / batchSize;
    }

    /** Returns the blocks left out of each epoch because they do not fill a batch. */
    public int blocksSkippedPerEpoch() {
        return blocks.blockCount() % batchSize;
    }

    /**
     * Returns the batches of {@code blocks} in file order, once, with a smaller last batch when the
     * block count is not a multiple of {@code batchSize}: every block is seen, as evaluation needs.
     */
    public static Iterable<Batch> inOrder(PackedBlocks blocks, int batchSize) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("DataLoader.inOrder: batchSize must be at least 1, got " + batchSize);
        }
        return () -> new Iterator<>() {
            private int next;

            @Override
            public boolean hasNext() {
                return next < blocks.blockCount();
            }

            @Override
            public Batch next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                int rows = Math.min(batchSize, blocks.blockCount() - next);
                int[] blockIndices = new int[rows];
                for (int row = 0; row < rows; row++) {
                    blockIndices[row] = next + row;
                }
                next += rows;
                return assemble(blocks, blockIndices, new int[blocks.seqLen() + 1]);
            }
        };
    }

    /**
     * Builds a batch whose row {@code r} is block {@code blockIndices[r]}: its first seqLen ids as
     * inputs and its last seqLen ids as targets.
     */
    private static Batch assemble(PackedBlocks blocks, int[] blockIndices, int[] blockBuffer) {
        int seqLen = blocks.seqLen();
        int rows = blockIndices.length;
        int[] inputIds = new int[rows * seqLen];
        int[] targets = new int[rows * seqLen];
        for (int row = 0; row < rows; row++) {
            blocks.readBlock(blockIndices[row], blockBuffer, 0);
            System.arraycopy(blockBuffer, 0, inputIds, row * seqLen, seqLen);
            System.arraycopy(blockBuffer, 1, targets, row * seqLen, seqLen);
        }
        return new Batch(rows, seqLen, inputIds, targets);
    }
}
