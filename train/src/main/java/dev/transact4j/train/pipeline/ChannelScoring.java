package dev.transact4j.train.pipeline;

import dev.transact4j.llama.ActivationObserver;
import dev.transact4j.llama.LlamaForCausalLM;
import dev.transact4j.nn.Parameter;
import dev.transact4j.tensor.GradMode;
import dev.transact4j.tensor.Tensor;
import dev.transact4j.train.data.Batch;
import dev.transact4j.transact.ActsScorer;
import dev.transact4j.transact.ChannelScores;
import dev.transact4j.transact.ModelDims;
import dev.transact4j.transact.NamedArray;
import dev.transact4j.transact.Projection;
import dev.transact4j.transact.TaylorScorer;
import dev.transact4j.train.trainer.TrainingRandom;
import java.util.List;
import java.util.Map;

/** Scores every attention and MLP channel of a model on calibration batches. */
public final class ChannelScoring {

    private ChannelScoring() {
    }

    /**
     * Returns the channel scores of {@code model} over {@code batches}.
     *
     * <p>{@link ScorerKind#ACTS} runs forward passes without autograd and sums the squares of the
     * transitional activations that the model reports to its observer. {@link ScorerKind#TAYLOR}
     * back-propagates each batch's mean loss and adds {@code |grad|} of every projection weight;
     * the gradients are cleared afterwards.
     */
    public static ChannelScores score(LlamaForCausalLM model, List<Batch> batches, ScorerKind kind) {
        if (batches.isEmpty()) {
            throw new IllegalArgumentException("ChannelScoring: no calibration batches; set at least one calibration sample");
        }
        ModelDims dims = ModelDims.from(model.config());
        return kind == ScorerKind.ACTS ? activations(model, dims, batches) : taylor(model, dims, batches);
    }

    private static ChannelScores activations(LlamaForCausalLM model, ModelDims dims, List<Batch> batches) {
        ActsScorer scorer = ActsScorer.forModel(dims);
        ActivationObserver previous = model.observer();
        model.setObserver((layer, site, rows, offset, tokens, width) -> scorer.observe(layer,
                site == ActivationObserver.Site.ATTENTION_OUTPUT ? ActsScorer.Module.ATTENTION : ActsScorer.Module.MLP,
                rows, offset, tokens));
        try (GradMode.Scope scope = GradMode.noGrad()) {
            for (Batch batch : batches) {
                model.logits(batch.inputIds(), batch.batchSize(), batch.seqLen());
            }
        } finally {
            model.setObserver(previous);
        }
        return scorer.scores();
    }

    private static ChannelScores taylor(LlamaForCausalLM model, ModelDims dims, List<Batch> batches) {
        TaylorScorer scorer = new TaylorScorer(dims);
        LlamaTrainable trainable = new LlamaTrainable(model);
        Map<String, Parameter> parameters = model.namedParameters();
        TrainingRandom random = new TrainingRandom(0);
        for (Batch batch : batches) {
            model.zeroGrad();
            var loss = trainable.lossSum(batch, random);
            Tensor mean = loss.sum().mul(1f / Math.max(1, loss.tokens()));
            mean.backward();
            for (int layer = 0; layer < dims.layers(); layer++) {
                for (Projection projection : Projection.values()) {
                    Parameter weight = parameters.get(projection.weightName(layer));
                    float[] gradient = weight.gradData();
                    if (gradient == null) {
                        throw new IllegalStateException("ChannelScoring: " + projection.weightName(layer)
                                + " received no gradient from the calibration loss");
                    }
                    scorer.observe(layer, projection, new NamedArray(weight.data(), weight.shape()),
                            new NamedArray(gradient, weight.shape()));
                }
            }
        }
        model.zeroGrad();
        return scorer.scores();
    }
}
