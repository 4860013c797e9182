package dev.transact4j.transact;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.transact4j.llama.ActivationObserver;
import dev.transact4j.llama.LlamaConfig;
import dev.transact4j.llama.LlamaForCausalLM;
import dev.transact4j.llama.checkpoint.HfCheckpoint;
import dev.transact4j.llama.checkpoint.LlamaCheckpoint;
import dev.transact4j.llama.checkpoint.NamedArray;
import dev.transact4j.nn.Parameter;
import dev.transact4j.nn.safetensors.DType;
import dev.transact4j.tensor.GradMode;
import dev.transact4j.tensor.testing.Fixture;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** TransAct on the Java model: exact no-op cuts, checkpoint round trips, report counts and invalid targets. */
class TransActTest {

    @TempDir
    Path dir;

    /** Returns 3 random calibration sequences of 7 tokens in batches of 2 (the last batch has 1). */
    private static CalibrationData randomCalibration(int vocab, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int[] tokens = random.ints(21, 0, vocab).toArray();
        return CalibrationData.fromTokens(tokens, 3, 7, 2);
    }

    /** Zeroes the rows {@code [from, to)} of a parameter {@code [rows, cols]} or of a bias {@code [rows]}. */
    private static void zeroRows(Parameter parameter, int from, int to) {
        int cols = parameter.shape().length == 1 ? 1 : parameter.shape()[1];
        Arrays.fill(parameter.data(), from * cols, to * cols, 0f);
    }

    /**
     * Silences channels so their transitional activations are exactly zero, then prunes exactly
     * those: the v_proj rows (and bias) of one kv head zero the attention output of its query heads,
     * and zero up_proj rows (and bias) zero {@code silu(gate) * up} of their MLP channels. Removing
     * zero columns from o_proj and down_proj changes only the summation order.
     */
    @ParameterizedTest
    @ValueSource(strings = {"mha", "gqa"})
    void pruningZeroActivationsKeepsLogits(String name) {
        LlamaForCausalLM model = TransActModelTest.fixtureModel(name);
        LlamaConfig config = model.config();
        int headDim = config.headDim();
        int group = config.numAttentionHeads() / config.numKeyValueHeads();
        int silentKvHead = 1;
        int[] silentMlp = {0, 3, 17, 18, config.intermediateSize() - 1};
        for (var layer : model.model().layers()) {
            zeroRows(layer.selfAttn().vProj().weight(), silentKvHead * headDim, (silentKvHead + 1) * headDim);
            if (layer.selfAttn().vProj().bias() != null) {
                zeroRows(layer.selfAttn().vProj().bias(), silentKvHead * headDim, (silentKvHead + 1) * headDim);
            }
            for (int c : silentMlp) {
                zeroRows(layer.mlp().upProj().weight(), c, c + 1);
                if (layer.mlp().upProj().bias() != null) {
                    zeroRows(layer.mlp().upProj().bias(), c, c + 1);
                }
            }
        }
        CalibrationData calibration = randomCalibration(config.vocabSize(), 11);

        // exactly the silenced channels score zero
        ChannelScores scores = TransAct.score(model, calibration, ScorerKind.ACTS);
        for (int layer = 0; layer < config.numHiddenLayers(); layer++) {
            for (int c = 0; c < config.attentionWidth(); c++) {
                boolean silent = c / headDim / group == silentKvHead;
                assertEquals(silent, scores.attention()[layer][c] == 0, name + " layer " + layer + " attention " + c);
            }
            for (int c = 0; c < config.intermediateSize(); c++) {
                int channel = c;
                boolean silent = Arrays.stream(silentMlp).anyMatch(s -> s == channel);
                assertEquals(silent, scores.mlp()[layer][c] == 0, name + " layer " + layer + " mlp " + c);
            }
        }

        // prune them: one head group and five MLP channels
        int width = config.attentionWidth() - group * headDim;
        int mlp = config.intermediateSize() - silentMlp.length;
        PrunedModel pruned = TransAct.pruneStep(model, scores, PruningStep.Options.of(PruneTarget.heads(width, mlp)));
        for (LayerKeep keep : pruned.plan().layers()) {
            assertFalse(Arrays.stream(keep.kvHeads()).anyMatch(g -> g == silentKvHead), name + " kept the silent head");
            assertEquals(mlp, keep.mlpChannels().length);
        }
        assertEquals(width, pruned.config().attentionWidth());
        assertEquals(mlp, pruned.config().intermediateSize());

        // the same logits at every position, up to the summation order
        CalibrationData.Batch batch = calibration.batches().get(0);
        float[] before = TransActModelTest.logits(model, batch.ids(), batch.rows(), batch.seqLen()).toArray();
        float[] after = TransActModelTest.logits(pruned.model(), batch.ids(), batch.rows(), batch.seqLen()).toArray();
        double error = TransActModelTest.relativeError(after, before);
        assertTrue(error < 1e-6, name + ": logits changed by " + error + " (relative)");
    }

    @Test
    void savedPrunedModelReloadsBitwise() throws IOException {
        Fixture fixture = Fixture.load("transact/gqa_dim_keep_shots");
        CalibrationData calibration = TransActModelTest.calibration(fixture);
        TransAct.Options options = TransAct.Options.oneShot(PruningStep.Options.of(
                PruneTarget.headDims(18, 29, RopeMode.KEEP).withLayers(2))).withShots(2);
        TransAct.Outcome outcome = TransAct.prune(TransActModelTest.fixtureModel("gqa"), options, calibration);
        LlamaForCausalLM pruned = outcome.model();
        assertTrue(pruned.config().ropeKeptFrequencies() != null, "rope=keep records the kept frequencies");

        Path saved = LlamaCheckpoint.save(pruned, dir.resolve("pruned"), DType.F32, null);
        LlamaCheckpoint.Loaded loaded = LlamaCheckpoint.load(saved);

        // same config, weights and logits, bit for bit
        assertEquals(pruned.config(), loaded.model().config());
        Map<String, Parameter> expected = pruned.namedParameters();
        Map<String, Parameter> actual = loaded.model().namedParameters();
        assertEquals(expected.keySet(), actual.keySet());
        expected.forEach((key, p) -> assertArrayEquals(p.data(), actual.get(key).data(), key));
        CalibrationData.Batch batch = calibration.batches().get(1);
        assertArrayEquals(TransActModelTest.logits(pruned, batch.ids(), batch.rows(), batch.seqLen()).toArray(),
                TransActModelTest.logits(loaded.model(), batch.ids(), batch.rows(), batch.seqLen()).toArray());

        // the report counts the tensors of the saved model
        ShotReport last = outcome.report().shots().get(1);
        long elements = ShotReport.elements(loaded.checkpoint().weights());
        assertEquals(elements, last.totalAfter().parameters());
        assertEquals(elements, last.stateDictParametersAfter());
        assertEquals(elements, loaded.model().parameterCount());
        assertEquals(outcome.report().shots().get(0).stateDictParametersAfter(), last.stateDictParametersBefore());
        assertTrue(last.stateDictParametersAfter() < last.stateDictParametersBefore());
    }

    @Test
    void tiedModelStaysTied() throws IOException {
        LlamaForCausalLM untied = TransActModelTest.fixtureModel("mha");
        Map<String, NamedArray> weights = new LinkedHashMap<>(LlamaCheckpoint.toCheckpoint(untied, null).weights());
        weights.remove("lm_head.weight");
        LlamaConfig tiedConfig = untied.config().toBuilder().tieWordEmbeddings(true).build();
        LlamaForCausalLM model = LlamaCheckpoint.toModel(new HfCheckpoint(tiedConfig, weights, null, Map.of()));
        CalibrationData calibration = randomCalibration(tiedConfig.vocabSize(), 5);

        PrunedModel pruned = TransAct.pruneStep(model, TransAct.score(model, calibration, ScorerKind.ACTS),
                PruningStep.Options.sparsity(25, AttentionPruning.HEADS, RopeMode.RECOMPUTE));

        assertTrue(pruned.model().tied());
        assertSame(pruned.model().model().embedTokens().weight().data(), pruned.model().lmHead().weight().data());
        assertEquals(pruned.model().parameterCount(), pruned.report().totalAfter().parameters());
        assertEquals(pruned.sparsity().parametersAfter(), pruned.model().parameterCount());
        Path saved = LlamaCheckpoint.save(pruned.model(), dir.resolve("tied"), DType.F32, null);
        assertEquals(pruned.model().parameterCount(), ShotReport.elements(LlamaCheckpoint.load(saved).checkpoint().weights()));
    }

    @Test
    void sparsityOverShotsLandsOnTarget() {
        LlamaForCausalLM model = TransActModelTest.fixtureModel("gqa");
        SparsityTarget sparsity = SparsityTarget.resolve(model.config(), 30, AttentionPruning.HEAD_DIMS);
        TransAct.Options options = TransAct.Options.oneShot(
                PruningStep.Options.sparsity(30, AttentionPruning.HEAD_DIMS, RopeMode.KEEP)).withShots(3);

        TransAct.Outcome outcome = TransAct.prune(model, options, randomCalibration(model.config().vocabSize(), 9));

        LlamaConfig last = outcome.model().config();
        assertEquals(sparsity.sizes(), PruningSchedule.Sizes.of(last));
        assertEquals(sparsity.parametersAfter(), outcome.model().parameterCount());
        assertEquals(sparsity.parametersAfter(), outcome.report().shots().get(2).totalAfter().parameters());
        long before = model.parameterCount();
        for (PrunedModel shot : outcome.shots()) {
            long after = shot.model().parameterCount();
            assertTrue(after <= before, "each shot removes parameters or keeps them");
            assertEquals(after, shot.report().stateDictParametersAfter());
            before = after;
        }
        assertTrue(last.ropeKeptFrequencies() != null, "rope=keep records the kept frequencies");
    }

    @Test
    void taylorScoringClearsGradients() {
        LlamaForCausalLM model = TransActModelTest.fixtureModel("gqa");
        CalibrationData calibration = randomCalibration(model.config().vocabSize(), 3);
        ChannelScores scores = TransAct.score(model, calibration, ScorerKind.TAYLOR);
        assertEquals(model.config().numHiddenLayers(), scores.layers());
        model.namedParameters().forEach((key, p) -> assertNull(p.grad(), key + " gradient after scoring"));

        try (GradMode.Scope scope = GradMode.noGrad()) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> TransAct.score(model, calibration, ScorerKind.TAYLOR));
            assertEquals("TransAct.score: Taylor scoring needs the gradients of the loss, but autograd is off on this"
                    + " thread; call it outside GradMode.noGrad()", e.getMessage());
        }

        model.model().layers().get(1).mlp().downProj().weight().requiresGrad(false);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> TransAct.score(model, calibration, ScorerKind.TAYLOR));
        assertEquals("TransAct.score: model.layers.1.mlp.down_proj.weight received no gradient; Taylor scoring needs"
                + " every projection trainable, so unfreeze it", e.getMessage());
        model.namedParameters().forEach((key, p) -> assertNull(p.grad(), key + " gradient after a failed scoring"));
    }

    @Test
    void actsScoringRestoresObserver() {
        LlamaForCausalLM model = TransActModelTest.fixtureModel("mha");
        int[] calls = new int[1];
        ActivationObserver counter = (layer, site, rows, offset, tokens, width) -> calls[0]++;
        model.setObserver(counter);
        TransAct.score(model, randomCalibration(model.config().vocabSize(), 8), ScorerKind.ACTS);
        assertSame(counter, model.observer());
        assertEquals(0, calls[0], "the scorer replaces the observer during scoring");
    }

    @Test
    void invalidTargetsLeaveModelUntouched() {
        LlamaForCausalLM model = TransActModelTest.fixtureModel("mha");
        CalibrationData calibration = randomCalibration(model.config().vocabSize(), 2);
        ChannelScores scores = TransAct.score(model, calibration, ScorerKind.ACTS);
        Map<String, float[]> snapshot = TransActModelTest.snapshot(model);
        LlamaConfig config = model.config();

        assertRejected("Invalid target attention width (nextMhaDim) 40: larger than the current 32 (4 heads x 8 dims);"
                + " pruning only removes, so request at most 32",
                () -> TransAct.pruneStep(model, scores, PruningStep.Options.of(PruneTarget.heads(40, 20))));
        assertRejected("Invalid target MLP width (nextMlpDim) 0: expected a positive number, at most the current 40"
                + " (intermediate_size)",
                () -> TransAct.pruneStep(model, scores, PruningStep.Options.of(PruneTarget.heads(16, 0))));
        assertRejected("Invalid target layer count (nextLayers) 4: larger than the current 3 (num_hidden_layers);"
                + " pruning only removes, so request at most 3",
                () -> TransAct.pruneStep(model, scores, PruningStep.Options.of(PruneTarget.heads(16, 20).withLayers(4))));
        ChannelScores fewerLayers = new ChannelScores(Arrays.copyOf(scores.attention(), 2), Arrays.copyOf(scores.mlp(), 2));
        assertRejected("Invalid scores: 2 layers scored, but the model has 3; score every layer of the current model",
                () -> TransAct.pruneStep(model, fewerLayers, PruningStep.Options.of(PruneTarget.heads(16, 20))));
        assertRejected("target attention width 48 is larger than the current 32; pruning only removes. Lower the target"
                + " or start from a larger model.",
                () -> TransAct.prune(model, TransAct.Options.oneShot(PruningStep.Options.of(PruneTarget.heads(48, 20)))
                        .withShots(2), calibration));
        assertRejected("TransAct.score: the scorer kind is missing; pass ScorerKind.ACTS or TAYLOR",
                () -> TransAct.score(model, calibration, null));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TransAct.pruneStep(model, scores, PruningStep.Options.sparsity(99, AttentionPruning.HEADS,
                        RopeMode.RECOMPUTE)));
        assertTrue(e.getMessage().startsWith("Invalid sparsity 99.0%: it needs"), e.getMessage());

        assertEquals(config, model.config());
        Map<String, Parameter> parameters = model.namedParameters();
        assertEquals(snapshot.keySet(), parameters.keySet());
        snapshot.forEach((key, data) -> assertArrayEquals(data, parameters.get(key).data(), key + " unchanged"));
    }

    @Test
    void pruneStepLeavesInputUnchanged() {
        LlamaForCausalLM model = TransActModelTest.fixtureModel("gqa");
        model.model().norm().weight().requiresGrad(false);
        model.setObserver((layer, site, rows, offset, tokens, width) -> { });
        CalibrationData calibration = randomCalibration(model.config().vocabSize(), 4);
        CalibrationData.Batch batch = calibration.batches().get(0);
        float[] before = TransActModelTest.logits(model, batch.ids(), batch.rows(), batch.seqLen()).toArray();

        PrunedModel pruned = TransAct.pruneStep(model, TransAct.score(model, calibration, ScorerKind.ACTS),
                PruningStep.Options.of(PruneTarget.headDims(24, 30, RopeMode.RECOMPUTE)));

        assertArrayEquals(before, TransActModelTest.logits(model, batch.ids(), batch.rows(), batch.seqLen()).toArray());
        assertNotEquals(model.parameterCount(), pruned.model().parameterCount());
        assertEquals(4, pruned.config().headDim());
        pruned.model().namedParameters().forEach((key, p) -> assertTrue(p.requiresGrad(), key + " trainable"));
        pruned.model().namedParameters().forEach((key, p) -> assertNull(p.grad(), key + " gradient"));
        assertNull(pruned.model().observer());
    }

    private static void assertRejected(String message, Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertEquals(message, e.getMessage());
    }
}
