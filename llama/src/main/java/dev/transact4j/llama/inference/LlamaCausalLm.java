package dev.transact4j.llama.inference;

import dev.transact4j.llama.LlamaConfig;
import dev.transact4j.llama.LlamaForCausalLM;
import dev.transact4j.tensor.GradMode;
import java.util.Objects;

/**
 * Runs a {@link LlamaForCausalLM} as the {@link CausalLm} of {@link Generator} and the
 * {@link SequenceScorer} of {@link Perplexity}.
 *
 * <p>Prefill runs the prompt in one batched pass; each decoding step runs one token, whose
 * projections are matrix-vector products. Keys and values go into the caller's {@link KvCache}.
 */
public final class LlamaCausalLm implements CausalLm, SequenceScorer {

    private final LlamaForCausalLM model;

    /** Wraps {@code model}; later changes to its weights show through. */
    public LlamaCausalLm(LlamaForCausalLM model) {
        this.model = Objects.requireNonNull(model, "model");
    }

    /** Returns the wrapped model. */
    public LlamaForCausalLM model() {
        return model;
    }

    @Override
    public LlamaConfig config() {
        return model.config();
    }

    @Override
    public float[] prefill(int[] ids, KvCache cache) {
        if (ids.length == 0) {
            throw new IllegalArgumentException("LlamaCausalLm.prefill: the prompt is empty; pass at least one id");
        }
        return model.forward(ids, 1, ids.length, Objects.requireNonNull(cache, "cache"), false).toArray();
    }

    @Override
    public float[] decodeStep(int id, KvCache cache) {
        return model.forward(new int[] {id}, 1, 1, Objects.requireNonNull(cache, "cache"), false).toArray();
    }

    /**
     * Returns {@code log p(ids[i + 1] | ids[0..i])} for every position of one full forward pass,
     * with the log-sum-exp of each row of logits computed in double.
     */
    @Override
    public double[] nextTokenLogProbabilities(int[] ids) {
        if (ids.length < 2) {
            throw new IllegalArgumentException("LlamaCausalLm: a window needs at least two ids to score one, got "
                    + ids.length);
        }
        int v = model.config().vocabSize();
        float[] logits;
        try (GradMode.Scope scope = GradMode.noGrad()) {
            logits = model.logits(ids, 1, ids.length).toArray();
        }
        double[] out = new double[ids.length - 1];
        for (int t = 0; t < out.length; t++) {
            int row = t * v;

            // log p(next) = logit[next] - log(sum exp(logits)), with the row max subtracted for stability
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < v; j++) {
                max = Math.max(max, logits[row + j]);
            }
            double sum = 0;
            for (int j = 0; j < v; j++) {
                sum += Math.exp(logits[row + j] - max);
            }
            out[t] = logits[row + ids[t + 1]] - max - Math.log(sum);
        }
        return out;
    }

    @Override
    public int maxLength() {
        return model.config().maxPositionEmbeddings();
    }
}
