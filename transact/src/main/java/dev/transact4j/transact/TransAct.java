package dev.transact4j.transact;

import dev.transact4j.llama.ActivationObserver;
import dev.transact4j.llama.LlamaConfig;
import dev.transact4j.llama.LlamaForCausalLM;
import dev.transact4j.llama.checkpoint.HfCheckpoint;
import dev.transact4j.llama.checkpoint.LlamaCheckpoint;
import dev.transact4j.llama.checkpoint.NamedArray;
import dev.transact4j.nn.Parameter;
import dev.transact4j.tensor.GradMode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * TransAct on a {@link LlamaForCausalLM}: score the channels with calibration batches, then cut the
 * model into a dense, smaller one.
 *
 * <ul>
 *   <li>{@link #score} runs calibration batches through the model and returns per-channel scores,
 *       from the transitional activations ({@link ScorerKind#ACTS}) or from the gradients of the
 *       LM loss ({@link ScorerKind#TAYLOR}).
 *   <li>{@link #pruneStep} runs one {@link PruningStep} on the model's state dict and builds a new
 *       model from the pruned config and weights.
 *   <li>{@link #prune} scores and cuts over one or more shots, re-scoring the pruned model before
 *       each later shot, with the widths of a {@link PruningSchedule}.
 * </ul>
 *
 * <p>No method changes the input model's weights. The pruned model is built afresh, because the
 * head counts and widths of a model are fixed at construction; see {@link PrunedModel} for the
 * arrays it shares with its input.
 */
public final class TransAct {

    /**
     * Settings of {@link #prune}.
     *
     * @param scorer the channel scorer of every shot
     * @param shots  the number of shots; each later shot scores the model the previous one left
     * @param step   the final target (explicit widths or a sparsity of the input model) and the
     *               report settings; its shot number is ignored
     */
    public record Options(ScorerKind scorer, int shots, PruningStep.Options step) {

        /**
         * Checks that every field is set and shots is positive.
         *
         * @throws IllegalArgumentException naming the invalid option
         */
        public Options {
            if (scorer == null || step == null) {
                throw new IllegalArgumentException("TransAct.Options: the scorer and the step options must be set, got "
                        + scorer + " and " + step);
            }
            if (shots < 1) {
                throw new IllegalArgumentException("TransAct.Options: shots is " + shots + " but must be at least 1");
            }
        }

        /** Returns one-shot activation-scored options for {@code step}. */
        public static Options oneShot(PruningStep.Options step) {
            return new Options(ScorerKind.ACTS, 1, step);
        }

        /** Returns these options with another scorer. */
        public Options withScorer(ScorerKind value) {
            return new Options(value, shots, step);
        }

        /** Returns these options with {@code value} shots. */
        public Options withShots(int value) {
            return new Options(scorer, value, step);
        }
    }

    /**
     * The outcome of {@link #prune}.
     *
     * @param model  the model after the last shot
     * @param shots  every shot in order; each shot's model is the next shot's input
     * @param report the report of every shot, ready to write
     */
    public record Outcome(LlamaForCausalLM model, List<PrunedModel> shots, PruningReport report) {

        /** Copies the shot list. */
        public Outcome {
            shots = List.copyOf(shots);
        }
    }

    private TransAct() {
    }

    // ---------------------------------------------------------------- scoring

    /**
     * Returns the channel scores of {@code model} over every calibration batch.
     *
     * <p>{@link ScorerKind#ACTS} runs each batch without autograd and feeds the model's
     * transitional activations (attention output before o_proj, {@code act(gate) * up} before
     * down_proj) to an {@link ActsScorer}. The model's observer is replaced during the call and
     * restored after it.
     *
     * <p>{@link ScorerKind#TAYLOR} runs forward and backward of the mean LM loss of each batch
     * (labels = the batch's ids) and feeds each projection's weight and gradient to a
     * {@link TaylorScorer}. It drops every parameter's gradient before each batch and after the
     * last one, so gradients accumulated before the call are lost.
     *
     * @throws IllegalArgumentException when the scorer kind is null or a batch contains an id outside
     *                                  the vocabulary
     * @throws IllegalStateException    for Taylor scoring inside {@link GradMode#noGrad()} or with a
     *                                  frozen projection, which gets no gradient
     */
    public static ChannelScores score(LlamaForCausalLM model, CalibrationData calibration, ScorerKind scorer) {
        if (scorer == null) {
            throw new IllegalArgumentException("TransAct.score: the scorer kind is missing; pass ScorerKind.ACTS or TAYLOR");
        }
        return switch (scorer) {
            case ACTS -> scoreActivations(model, calibration);
            case TAYLOR -> scoreTaylor(model, calibration);
        };
    }

    private static ChannelScores scoreActivations(LlamaForCausalLM model, CalibrationData calibration) {
        ActsScorer scorer = ActsScorer.forModel(ModelDims.from(model.config()));
        ActivationObserver previous = model.observer();
        model.setObserver((layer, site, rows, offset, tokens, width) -> scorer.observe(layer,
                site == ActivationObserver.Site.ATTENTION_OUTPUT ? ActsScorer.Module.ATTENTION : ActsScorer.Module.MLP,
                rows, offset, tokens));
        try (GradMode.Scope scope = GradMode.noGrad()) {
            for (CalibrationData.Batch batch : calibration.batches()) {
                // NOTE: this computes and drops the logits of every position, rows * seqLen * vocab_size
                // floats per batch, so the batch size bounds the memory the scoring needs.
                model.logits(batch.ids(), batch.rows(), batch.seqLen());
            }
        } finally {
            model.setObserver(previous);
        }
        return scorer.scores();
    }

    private static ChannelScores scoreTaylor(LlamaForCausalLM model, CalibrationData calibration) {
        if (!GradMode.isEnabled()) {
            throw new IllegalStateException("TransAct.score: Taylor scoring needs the gradients of the loss, but"
                    + " autograd is off on this thread; call it outside GradMode.noGrad()");
        }
        ModelDims dims = ModelDims.from(model.config());
        TaylorScorer scorer = new TaylorScorer(dims);
        Map<String, Parameter> parameters = model.namedParameters();
        try {
            for (CalibrationData.Batch batch : calibration.batches()) {
                // gradient of this batch's mean loss alone
                model.zeroGrad();
                model.forward(batch.ids(), batch.ids(), batch.rows(), batch.seqLen()).loss().backward();

                // every projection's weight with its gradient
                for (int layer = 0; layer < dims.layers(); layer++) {
                    for (Projection projection : Projection.values()) {
                        String name = projection.weightName(layer);
                        Parameter weight = parameters.get(name);
                        float[] gradient = weight.gradData();
                        if (gradient == null) {
                            throw new IllegalStateException("TransAct.score: " + name + " received no gradient;"
                                    + " Taylor scoring needs every projection trainable, so unfreeze it");
                        }
                        scorer.observe(layer, projection, new NamedArray(weight.data(), weight.shape()),
                                new NamedArray(gradient, weight.shape()));
                    }
                }
            }
        } finally {
            model.zeroGrad();
        }
        return scorer.scores();
    }

    // ---------------------------------------------------------------- pruning

    /**
     * Prunes {@code model} by one shot and returns a new, dense model of the pruned shape.
     *
     * <p>Steps: the model's parameters as a state dict (sharing their arrays), {@link PruningStep}
     * (validated plan, new config, cut, report), then a model built from the new config and the
     * cut weights, checked name by name and shape by shape against that config. After
     * {@code rope=keep} the new config lists each kept pair's original frequency per layer and kv
     * head, and the new model rotates with them.
     *
     * @param scores the scores of {@code model}, such as {@link #score} returns
     * @throws IllegalArgumentException when the target or sparsity is invalid or the scores do not
     *     fit the model. The check runs before any array is copied, and the input model is never changed.
     */
    public static PrunedModel pruneStep(LlamaForCausalLM model, ChannelScores scores, PruningStep.Options options) {
        HfCheckpoint current = LlamaCheckpoint.toCheckpoint(model, null);
        PruningStep.Result step = PruningStep.run(current.config(), current.weights(), scores, options);
        HfCheckpoint cut = new HfCheckpoint(step.config(), step.state(), null, Map.of());
        LlamaForCausalLM pruned = LlamaCheckpoint.toModel(cut);
        return new PrunedModel(pruned, step.config(), step.plan(), step.sparsity(), step.report());
    }

    /**
     * Scores and prunes {@code model} over {@code options.shots()} shots. Shot {@code s} scores the
     * current model with {@code calibration}, then prunes it to the widths
     * {@link PruningSchedule#next} gives from the widths the previous shot reached. One shot with a
     * sparsity prunes straight to it and records the sparsity in the report. Several shots turn the
     * sparsity of the input model into final widths first ({@link SparsityTarget#sizes()}).
     *
     * @throws IllegalArgumentException when the final target is invalid for the input model,
     *     before any shot runs
     */
    public static Outcome prune(LlamaForCausalLM model, Options options, CalibrationData calibration) {
        PruningStep.Options step = options.step();
        if (options.shots() == 1) {
            ChannelScores scores = score(model, calibration, options.scorer());
            PrunedModel shot = pruneStep(model, scores, step.withShot(1));
            return new Outcome(shot.model(), List.of(shot), PruningReport.empty().withShot(shot.report()));
        }

        // the schedule towards the final widths, checked against the input model before scoring
        LlamaConfig config = model.config();
        PruneTarget last = finalTarget(config, step);
        int finalLayers = last.nextLayers() == null ? config.numHiddenLayers() : last.nextLayers();
        PruningSchedule schedule = new PruningSchedule(options.shots(),
                new PruningSchedule.Sizes(last.nextMhaDim(), last.nextMlpDim(), finalLayers));
        schedule.plan(PruningSchedule.Sizes.of(config));

        List<PrunedModel> shots = new ArrayList<>();
        PruningReport report = PruningReport.empty();
        LlamaForCausalLM current = model;
        for (int s = 1; s <= options.shots(); s++) {
            PruningSchedule.Sizes next = schedule.next(PruningSchedule.Sizes.of(current.config()), s);
            PruneTarget target = new PruneTarget(next.attentionWidth(), next.intermediateSize(), next.numHiddenLayers(),
                    last.attention(), last.rope());
            PruningStep.Options shotOptions = new PruningStep.Options(target, null, null, null, s,
                    step.contextLength(), step.histogramBins());
            ChannelScores scores = score(current, calibration, options.scorer());
            PrunedModel shot = pruneStep(current, scores, shotOptions);
            shots.add(shot);
            report = report.withShot(shot.report());
            current = shot.model();
        }
        return new Outcome(current, shots, report);
    }

    /** Returns the explicit final target of {@code step}, resolving a sparsity against {@code config}. */
    private static PruneTarget finalTarget(LlamaConfig config, PruningStep.Options step) {
        if (step.target() != null) {
            return step.target();
        }
        return SparsityTarget.resolve(config, step.sparsityPercent(), step.attention()).toPruneTarget(step.rope());
    }
}
