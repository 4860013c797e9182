package dev.transact4j.train.data;

import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Training and validation blocks prepared in one call: load, check every id against the
 * vocabulary, pack into blocks of {@code seqLen + 1}, and split.
 *
 * @param train blocks to train on
 * @param validation blocks to evaluate on, none when no validation was requested
 * @param droppedTokens tokens after the last whole block, summed over the training and validation files
 */
public record TrainingData(PackedBlocks train, PackedBlocks validation, long droppedTokens) {

    private static final Logger LOG = LoggerFactory.getLogger(TrainingData.class);

    /**
     * Prepares the blocks of {@code trainSource}, with validation either from {@code validationSource}
     * or, when that is null, from the last {@code validationFraction} of the training blocks.
     *
     * @throws DatasetException when a file is missing or malformed, an id is outside the vocabulary,
     *     or there are too few tokens
     */
    public static TrainingData prepare(DatasetLoader loader, DatasetSource trainSource, DatasetSource validationSource,
                                       double validationFraction, int seqLen, int vocabSize) throws IOException {
        TokenSequence trainTokens = loader.load(trainSource);
        trainTokens.checkVocabulary(vocabSize);
        PackedBlocks trainBlocks = PackedBlocks.pack(trainTokens, seqLen);
        long dropped = trainBlocks.droppedTokens();

        DataSplit split;
        if (validationSource == null) {
            split = DataSplit.byFraction(trainBlocks, validationFraction);
        } else {
            TokenSequence validationTokens = loader.load(validationSource);
            validationTokens.checkVocabulary(vocabSize);
            PackedBlocks validationBlocks = PackedBlocks.pack(validationTokens, seqLen);
            dropped += validationBlocks.droppedTokens();
            split = DataSplit.separate(trainBlocks, validationBlocks);
        }

        TrainingData data = new TrainingData(split.train(), split.validation(), dropped);
        LOG.info("{}", data.summary());
        return data;
    }

    /** Describes the sizes in one line, for the log. */
    public String summary() {
        return "Data: " + train.blockCount() + " training and " + validation.blockCount() + " validation blocks of "
                + (train.seqLen() + 1) + " tokens (" + train.tokenCount() + " and " + validation.tokenCount()
                + " tokens), " + droppedTokens + " tokens dropped after the last whole block";
    }
}
