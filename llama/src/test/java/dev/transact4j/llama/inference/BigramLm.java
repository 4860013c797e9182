package dev.transact4j.llama.inference;

import dev.transact4j.llama.LlamaConfig;
import dev.transact4j.llama.tokenizer.Tokenizer;
import dev.transact4j.tensor.fused.KeyTiles;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A bigram language model counted from text: the next token depends on the current one only,
 * {@code p(b | a) = (count(a, b) + ALPHA * u(b)) / (count(a) + ALPHA)}, smoothed towards the
 * unigram distribution {@code u(b) = (count(b) + BETA) / (tokens + BETA * vocab)}, so every token
 * has a positive probability.
 *
 * <p>It implements both inference interfaces. Through {@link CausalLm} it keeps the cache contract
 * of a real model: every processed position is appended to every layer, as a key and value of the
 * token id and its position, and the logits come from the id stored at the last cached position.
 */
final class BigramLm implements CausalLm, SequenceScorer {

    private static final double ALPHA = 0.5;
    private static final double BETA = 0.01;

    private final LlamaConfig config;
    private final int vocab;
    private final Map<Long, Integer> pairCounts = new HashMap<>();
    private final long[] fromCounts;
    private final double[] unigram;

    /**
     * Counts every document of {@code documents}, each encoded with the tokenizer's template
     * tokens (BOS) and followed by {@code eosId}.
     */
    BigramLm(Tokenizer tokenizer, List<String> documents, int eosId, int maxPositions) {
        vocab = tokenizer.vocabSize();
        config = LlamaConfig.builder()
                .vocabSize(vocab)
                .hiddenSize(2)
                .intermediateSize(2)
                .numHiddenLayers(2)
                .numAttentionHeads(1)
                .numKeyValueHeads(1)
                .maxPositionEmbeddings(maxPositions)
                .bosTokenId(1)
                .eosTokenId(eosId)
                .build();
        fromCounts = new long[vocab];
        long[] counts = new long[vocab];
        long tokens = 0;
        for (String document : documents) {
            int[] ids = tokenizer.encodeIds(document, true);
            int previous = -1;
            for (int i = 0; i <= ids.length; i++) {
                int id = i < ids.length ? ids[i] : eosId;
                counts[id]++;
                tokens++;
                if (previous >= 0) {
                    pairCounts.merge(key(previous, id), 1, Integer::sum);
                    fromCounts[previous]++;
                }
                previous = id;
            }
        }
        unigram = new double[vocab];
        for (int b = 0; b < vocab; b++) {
            unigram[b] = (counts[b] + BETA) / (tokens + BETA * vocab);
        }
    }

    private static long key(int a, int b) {
        return ((long) a << 32) | b;
    }

    /** Returns {@code p(b | a)}. */
    double probability(int a, int b) {
        int pair = pairCounts.getOrDefault(key(a, b), 0);
        return (pair + ALPHA * unigram[b]) / (fromCounts[a] + ALPHA);
    }

    private float[] logits(int a) {
        float[] logits = new float[vocab];
        for (int b = 0; b < vocab; b++) {
            logits[b] = (float) Math.log(probability(a, b));
        }
        return logits;
    }

    @Override
    public LlamaConfig config() {
        return config;
    }

    @Override
    public float[] prefill(int[] ids, KvCache cache) {
        if (ids.length == 0) {
            throw new IllegalArgumentException("BigramLm.prefill: no ids");
        }
        for (int id : ids) {
            append(id, cache);
        }
        return logits(lastCachedId(cache));
    }

    @Override
    public float[] decodeStep(int id, KvCache cache) {
        append(id, cache);
        return logits(lastCachedId(cache));
    }

    private static void append(int id, KvCache cache) {
        float[] entry = {id, cache.length()};
        for (int layer = 0; layer < cache.layers(); layer++) {
            cache.append(layer, entry, 0, entry, 0, 1);
        }
    }

    private static int lastCachedId(KvCache cache) {
        int layer = cache.layers() - 1;
        int position = cache.length(layer) - 1;
        return (int) cache.keys(layer)[cache.headOffset(0) + KeyTiles.index(position, 0, cache.maxSeq(), cache.headDim())];
    }

    @Override
    public double[] nextTokenLogProbabilities(int[] ids) {
        double[] out = new double[ids.length - 1];
        for (int i = 0; i + 1 < ids.length; i++) {
            out[i] = Math.log(probability(ids[i], ids[i + 1]));
        }
        return out;
    }

    @Override
    public int maxLength() {
        return config.maxPositionEmbeddings();
    }
}
