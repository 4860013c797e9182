package dev.transact4j.train.data;

import java.util.Objects;

/**
 * A token sequence cut into non-overlapping blocks of {@code seqLen + 1} tokens: block {@code b}
 * covers tokens {@code [b * (seqLen + 1), (b + 1) * (seqLen + 1))}. A block gives one training row,
 * its first {@code seqLen} tokens as input and its last {@code seqLen} as targets. Tokens after the
 * last whole block are dropped and counted by {@link #droppedTokens()}.
 *
 * <p>A view may cover a contiguous range of the blocks, which is how a split is made.
 */
public final class PackedBlocks {

    private final TokenSequence tokens;
    private final int seqLen;
    private final long firstBlock;
    private final int blockCount;
    private final long droppedTokens;

    private PackedBlocks(TokenSequence tokens, int seqLen, long firstBlock, int blockCount, long droppedTokens) {
        this.tokens = tokens;
        this.seqLen = seqLen;
        this.firstBlock = firstBlock;
        this.blockCount = blockCount;
        this.droppedTokens = droppedTokens;
    }

    /**
     * Cuts {@code tokens} into blocks of {@code seqLen + 1}.
     *
     * @throws DatasetException when there are fewer tokens than one block needs
     */
    public static PackedBlocks pack(TokenSequence tokens, int seqLen) {
        if (seqLen < 1) {
            throw new IllegalArgumentException("PackedBlocks.pack: seqLen must be at least 1, got " + seqLen);
        }
        long blockLength = seqLen + 1L;
        long blocks = tokens.length() / blockLength;
        if (blocks == 0) {
            throw new DatasetException(DatasetException.Kind.TOO_FEW_TOKENS, "Dataset " + tokens.source() + " has "
                    + tokens.length() + " tokens, but a sequence length of " + seqLen + " needs at least " + blockLength
                    + " tokens for one block.", "Add data or lower seq_len.");
        }
        if (blocks > Integer.MAX_VALUE) {
            throw new DatasetException(DatasetException.Kind.TOO_MANY_BLOCKS, "Dataset " + tokens.source() + " has "
                    + blocks + " blocks of " + blockLength + " tokens, more than the " + Integer.MAX_VALUE
                    + " supported.", "Raise seq_len or split the data.");
        }
        return new PackedBlocks(tokens, seqLen, 0, (int) blocks, tokens.length() - blocks * blockLength);
    }

    /** Returns the view of blocks {@code [first, first + count)} of this one, dropping no further tokens. */
    public PackedBlocks range(int first, int count) {
        Objects.checkFromIndexSize(first, count, blockCount);
        return new PackedBlocks(tokens, seqLen, firstBlock + first, count, 0);
    }

    /** Returns the number of blocks. */
    public int blockCount() {
        return blockCount;
    }

    /** Returns the input length of a row; a block holds one token more. */
    public int seqLen() {
        return seqLen;
    }

    /** Returns the tokens after the last whole block that packing dropped (0 for a range view). */
    public long droppedTokens() {
        return droppedTokens;
    }

    /** Returns the number of tokens inside the blocks. */
    public long tokenCount() {
        return blockCount * (seqLen + 1L);
    }

    public TokenSequence tokens() {
        return tokens;
    }

    /** Copies the {@code seqLen + 1} tokens of block {@code index} into {@code dst} at {@code offset}. */
    public void readBlock(int index, int[] dst, int offset) {
        Objects.checkIndex(index, blockCount);
        long blockLength = seqLen + 1L;
        tokens.read((firstBlock + index) * blockLength, dst, offset, (int) blockLength);
    }

    @Override
    public String toString() {
        return blockCount + " blocks of " + (seqLen + 1) + " tokens from " + tokens.path();
    }
}
