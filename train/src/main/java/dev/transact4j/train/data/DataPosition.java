package dev.transact4j.train.data;

/**
 * Position of a {@link DataLoader}: the next batch starts at entry {@code cursor} of the block
 * order of {@code epoch}. Saved in a checkpoint, it lets a run resume with the same batches.
 */
public record DataPosition(long epoch, int cursor) {

    public DataPosition {
        if (epoch < 0 || cursor < 0) {
            throw new IllegalArgumentException("DataPosition: epoch and cursor must be non-negative, got epoch "
                    + epoch + ", cursor " + cursor);
        }
    }

    /** The position before the first batch. */
    public static final DataPosition START = new DataPosition(0, 0);
}
