package dev.transact4j.train.trainer;

import dev.transact4j.nn.Embedding;
import dev.transact4j.nn.Initialization;
import dev.transact4j.nn.Linear;
import dev.transact4j.nn.Module;
import dev.transact4j.nn.RmsNorm;
import dev.transact4j.tensor.Functional;
import dev.transact4j.tensor.Tensor;
import dev.transact4j.train.data.Batch;

/**
 * A bigram language model for the trainer tests: each token's embedding, normalised, predicts the
 * next token through a linear head with a bias. It has a matrix, a norm weight and a bias, so both
 * AdamW groups are exercised, and it learns byte statistics of English within a few dozen steps.
 */
final class BigramModel extends Module implements TrainableModel {

    final Embedding embedTokens;
    final RmsNorm norm;
    final Linear lmHead;
    private final int vocabSize;

    BigramModel(int vocabSize, int hidden, long seed) {
        this.vocabSize = vocabSize;
        embedTokens = registerModule("embed_tokens", new Embedding(vocabSize, hidden));
        norm = registerModule("norm", new RmsNorm(hidden, 1e-6f));
        lmHead = registerModule("lm_head", new Linear(hidden, vocabSize, true));
        Initialization.llama(this, 0.2, seed);
    }

    @Override
    public Module module() {
        return this;
    }

    @Override
    public LossSum lossSum(Batch batch, TrainingRandom random) {
        int rows = batch.batchSize() * batch.seqLen();
        Tensor h = norm.forward(embedTokens.forward(batch.inputIds(), rows));
        Tensor logits = lmHead.forward(h).reshape(rows, vocabSize);
        Tensor sum = Functional.crossEntropy(logits, batch.targets(), IGNORE_INDEX, 1f);
        return new LossSum(sum, TrainableModel.countTargets(batch));
    }
}
