package dev.transact4j.train.data;

import java.util.Arrays;

/**
 * One micro-batch of training rows, both arrays row-major with shape [batchSize, seqLen]:
 * {@code targets[r * seqLen + t]} is the token that follows {@code inputIds[r * seqLen + t]}.
 */
public record Batch(int batchSize, int seqLen, int[] inputIds, int[] targets) {

    public Batch {
        if (batchSize < 1 || seqLen < 1) {
            throw new IllegalArgumentException("Batch: batchSize and seqLen must be positive, got [" + batchSize + ", "
                    + seqLen + "]");
        }
        long size = (long) batchSize * seqLen;
        if (inputIds.length != size || targets.length != size) {
            throw new IllegalArgumentException("Batch: shape [" + batchSize + ", " + seqLen + "] needs " + size
                    + " ids, got inputIds " + inputIds.length + " and targets " + targets.length);
        }
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Batch b && b.batchSize == batchSize && b.seqLen == seqLen
                && Arrays.equals(b.inputIds, inputIds) && Arrays.equals(b.targets, targets);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * batchSize + seqLen) + 31 * Arrays.hashCode(inputIds) + Arrays.hashCode(targets);
    }

    @Override
    public String toString() {
        return "Batch[" + batchSize + ", " + seqLen + "]";
    }
}
