package dev.transact4j.train.data;

/**
 * Training and validation blocks.
 *
 * <p>{@link #byFraction} takes the validation blocks from the end of the token stream, in whole
 * blocks, so no block is shared and the validation text is one contiguous stretch that training
 * never reads. The split is made before shuffling and does not depend on the seed.
 *
 * @param train blocks to train on
 * @param validation blocks to evaluate on, none when no validation was requested
 */
public record DataSplit(PackedBlocks train, PackedBlocks validation) {

    /**
     * Puts {@code round(fraction * blocks)} blocks, but at least one, at the end into validation.
     * A fraction of 0 gives an empty validation set.
     *
     * @throws IllegalArgumentException when the fraction is outside [0, 1)
     * @throws DatasetException when no training block would be left
     */
    public static DataSplit byFraction(PackedBlocks all, double validationFraction) {
        if (!(validationFraction >= 0 && validationFraction < 1)) {
            throw new IllegalArgumentException("DataSplit.byFraction: the validation fraction must be in [0, 1), got "
                    + validationFraction);
        }
        int blocks = all.blockCount();
        int validationBlocks = validationFraction == 0 ? 0 : (int) Math.max(1, Math.round(validationFraction * blocks));
        int trainBlocks = blocks - validationBlocks;
        if (trainBlocks < 1) {
            throw new DatasetException(DatasetException.Kind.NO_TRAINING_BLOCKS, "Dataset " + all.tokens().source()
                    + " has " + blocks + " blocks of " + (all.seqLen() + 1) + " tokens; a validation fraction of "
                    + validationFraction + " takes " + validationBlocks + " of them and leaves none for training.",
                    "Add data, lower seq_len or lower the validation fraction.");
        }
        return new DataSplit(all.range(0, trainBlocks), all.range(trainBlocks, validationBlocks));
    }

    /**
     * Uses a separately packed validation set.
     *
     * @throws IllegalArgumentException when the two were packed with different seq_len
     */
    public static DataSplit separate(PackedBlocks train, PackedBlocks validation) {
        if (train.seqLen() != validation.seqLen()) {
            throw new IllegalArgumentException("DataSplit.separate: train seq_len " + train.seqLen()
                    + " differs from validation seq_len " + validation.seqLen());
        }
        return new DataSplit(train, validation);
    }
}
