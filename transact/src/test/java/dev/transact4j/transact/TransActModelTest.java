package dev.transact4j.transact;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.transact4j.llama.LlamaConfig;
import dev.transact4j.llama.LlamaForCausalLM;
import dev.transact4j.llama.checkpoint.HfCheckpoint;
import dev.transact4j.llama.checkpoint.LlamaCheckpoint;
import dev.transact4j.llama.checkpoint.NamedArray;
import dev.transact4j.nn.Parameter;
import dev.transact4j.tensor.GradMode;
import dev.transact4j.tensor.Tensor;
import dev.transact4j.tensor.testing.Fixture;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Runs every scenario of {@code make_transact_fixtures.py} end to end on the Java model: scores
 * from the model's own activations or gradients, plans, cuts, and compares the pruned model's
 * weights and logits with the PyTorch reference.
 */
class TransActModelTest {

    /** Tolerance of scores relative to the layer's largest score, about ten times the measured 3e-7. */
    private static final double SCORE_TOLERANCE = 3e-6;
    /** Tolerance of the pruned logits as max |java - torch| / max |torch|, about ten times the measured 4e-7. */
    private static final double LOGITS_TOLERANCE = 5e-6;

    /** Returns the fixture model {@code name} ("mha" or "gqa") as a Java model. */
    static LlamaForCausalLM fixtureModel(String name) {
        Fixture fixture = Fixture.load("transact/" + name + "/model");
        LlamaConfig config = LlamaConfig.parse(fixture.metadata().get("config"), "fixture " + name);
        Map<String, NamedArray> weights = new LinkedHashMap<>();
        for (String key : fixture.keys()) {
            Fixture.Array array = fixture.get(key);
            weights.put(key, new NamedArray(array.floats(), array.shape()));
        }
        return LlamaCheckpoint.toModel(new HfCheckpoint(config, weights, null, Map.of()));
    }

    /** Returns the fixture's calibration ids {@code [batches, batch, seq]} as calibration data. */
    static CalibrationData calibration(Fixture fixture) {
        Fixture.Array ids = fixture.get("input_ids");
        int[] shape = ids.shape();
        return CalibrationData.fromTokens(ids.ints(), shape[0] * shape[1], shape[2], shape[1]);
    }

    /** Returns the logits of the first calibration batch, as the fixture recorded them. */
    static float[] firstBatchLogits(LlamaForCausalLM model, CalibrationData calibration) {
        CalibrationData.Batch batch = calibration.batches().get(0);
        try (GradMode.Scope scope = GradMode.noGrad()) {
            return model.logits(batch.ids(), batch.rows(), batch.seqLen()).toArray();
        }
    }

    /** Returns max |actual - expected| / max |expected|. */
    static double relativeError(float[] actual, float[] expected) {
        assertEquals(expected.length, actual.length, "element count");
        double maxDiff = 0;
        double maxRef = 0;
        for (int i = 0; i < expected.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs((double) actual[i] - expected[i]));
            maxRef = Math.max(maxRef, Math.abs((double) expected[i]));
        }
        return maxDiff / maxRef;
    }

    private static PruneTarget target(Map<String, String> meta, int[] widths) {
        AttentionPruning attention = meta.get("mode").equals("heads") ? AttentionPruning.HEADS : AttentionPruning.HEAD_DIMS;
        RopeMode rope = meta.get("rope").equals("keep") ? RopeMode.KEEP : RopeMode.RECOMPUTE;
        return new PruneTarget(widths[0], widths[1], widths[2], attention, rope);
    }

    private static ScorerKind scorer(Map<String, String> meta) {
        return meta.get("scorer").equals("acts") ? ScorerKind.ACTS : ScorerKind.TAYLOR;
    }

    @ParameterizedTest
    @ValueSource(strings = {"mha_heads", "mha_mlp_layers", "mha_dim_recompute", "mha_dim_keep", "mha_shots",
            "mha_taylor", "gqa_groups", "gqa_dim_recompute", "gqa_dim_keep_shots", "gqa_taylor"})
    void scenarioMatchesPyTorch(String name) {
        Fixture fixture = Fixture.load("transact/" + name);
        Map<String, String> meta = fixture.metadata();
        CalibrationData calibration = calibration(fixture);
        LlamaForCausalLM model = fixtureModel(meta.get("model"));
        int shots = Integer.parseInt(meta.get("shots"));

        for (int s = 1; s <= shots; s++) {
            String shot = "shot" + s;

            // scores of the kept layers from the Java model's own activations or gradients
            ChannelScores scores = TransAct.score(model, calibration, scorer(meta));
            int[] keptLayers = fixture.get(shot + ".kept_layers").ints();
            for (int layer : keptLayers) {
                String where = name + " " + shot + " layer " + layer;
                assertClose(fixture.get(shot + ".scores.layer" + layer + ".attention").values(), scores.attention()[layer],
                        where + " attention scores");
                assertClose(fixture.get(shot + ".scores.layer" + layer + ".mlp").values(), scores.mlp()[layer],
                        where + " mlp scores");
            }

            // plan and cut: the kept index sets are PyTorch's
            PruneTarget target = target(meta, fixture.get(shot + ".target").ints());
            PrunedModel pruned = TransAct.pruneStep(model, scores, PruningStep.Options.of(target).withShot(s));
            assertArrayEquals(keptLayers, pruned.plan().keptLayers(), name + " " + shot + " kept layers");
            for (int j = 0; j < keptLayers.length; j++) {
                String prefix = shot + ".layer" + j + ".";
                LayerKeep keep = pruned.plan().layers().get(j);
                String where = name + " " + shot + " new layer " + j;
                assertArrayEquals(fixture.get(prefix + "query_heads").ints(), keep.queryHeads(), where + " query heads");
                assertArrayEquals(fixture.get(prefix + "kv_heads").ints(), keep.kvHeads(), where + " kv heads");
                assertArrayEquals(fixture.get(prefix + "head_dims").ints(), flatten(keep.headDims()), where + " head dims");
                assertArrayEquals(fixture.get(prefix + "frequencies").ints(), flatten(keep.frequencies()),
                        where + " frequencies");
                assertArrayEquals(fixture.get(prefix + "mlp").ints(), keep.mlpChannels(), where + " mlp channels");
            }
            assertArrayEquals(fixture.get(shot + ".widths").ints(), widths(pruned.config()), name + " " + shot + " widths");
            assertEquals(pruned.config(), pruned.model().config(), name + " " + shot + " config");
            model = pruned.model();
        }

        // the pruned layers' weights equal the sliced PyTorch weights, bit for bit
        Map<String, Parameter> parameters = model.namedParameters();
        for (String key : fixture.keys()) {
            if (key.startsWith("pruned.model.")) {
                Fixture.Array expected = fixture.get(key);
                Parameter actual = parameters.get(key.substring("pruned.".length()));
                assertArrayEquals(expected.shape(), actual.shape(), name + " " + key + " shape");
                assertArrayEquals(expected.floats(), actual.data(), name + " " + key);
            }
        }

        // the pruned model's logits
        double error = relativeError(firstBatchLogits(model, calibration), fixture.get("pruned.logits").floats());
        assertTrue(error < LOGITS_TOLERANCE, name + ": pruned logits differ from PyTorch by " + error + " (relative)");
    }

    @ParameterizedTest
    @ValueSource(strings = {"mha_shots", "gqa_dim_keep_shots", "mha_heads", "gqa_taylor"})
    void pruneFollowsSchedule(String name) {
        Fixture fixture = Fixture.load("transact/" + name);
        Map<String, String> meta = fixture.metadata();
        CalibrationData calibration = calibration(fixture);
        JsonNode finalWidths = TransactFixtures.json(meta.get("target"));
        PruneTarget last = target(meta, new int[] {finalWidths.get(0).asInt(), finalWidths.get(1).asInt(),
                finalWidths.get(2).asInt()});
        int shots = Integer.parseInt(meta.get("shots"));
        TransAct.Options options = TransAct.Options.oneShot(PruningStep.Options.of(last))
                .withScorer(scorer(meta)).withShots(shots);

        TransAct.Outcome outcome = TransAct.prune(fixtureModel(meta.get("model")), options, calibration);

        assertEquals(shots, outcome.shots().size(), name + " shots");
        assertEquals(shots, outcome.report().shots().size(), name + " report shots");
        for (int s = 1; s <= shots; s++) {
            PrunedModel shot = outcome.shots().get(s - 1);
            assertArrayEquals(fixture.get("shot" + s + ".widths").ints(), widths(shot.config()), name + " shot " + s);
            assertEquals(s, outcome.report().shots().get(s - 1).shot(), name + " report shot number");
        }
        double error = relativeError(firstBatchLogits(outcome.model(), calibration), fixture.get("pruned.logits").floats());
        assertTrue(error < LOGITS_TOLERANCE, name + ": pruned logits differ from PyTorch by " + error + " (relative)");
    }

    /** Returns the widths the fixture records: mha width, mlp width, layers, heads, kv heads, head_dim. */
    static int[] widths(LlamaConfig config) {
        return new int[] {config.attentionWidth(), config.intermediateSize(), config.numHiddenLayers(),
                config.numAttentionHeads(), config.numKeyValueHeads(), config.headDim()};
    }

    private static int[] flatten(int[][] rows) {
        return Arrays.stream(rows).flatMapToInt(Arrays::stream).toArray();
    }

    /** Asserts each score within SCORE_TOLERANCE of the reference, relative to the layer's largest score. */
    private static void assertClose(double[] expected, double[] actual, String where) {
        assertEquals(expected.length, actual.length, where + " length");
        double scale = Arrays.stream(expected).map(Math::abs).max().orElse(0);
        assertTrue(scale > 0, where + ": the reference scores are all zero");
        for (int c = 0; c < expected.length; c++) {
            double error = Math.abs(actual[c] - expected[c]);
            assertTrue(error <= SCORE_TOLERANCE * scale, where + " channel " + c + ": " + actual[c] + " vs "
                    + expected[c] + " (error " + error + ", scale " + scale + ")");
        }
    }

    /** Returns every parameter's values, copied, by name. */
    static Map<String, float[]> snapshot(LlamaForCausalLM model) {
        Map<String, float[]> copy = new LinkedHashMap<>();
        model.namedParameters().forEach((key, p) -> copy.put(key, p.data().clone()));
        return copy;
    }

    /** Returns the logits of all positions of {@code ids [batch, seqLen]}, without autograd. */
    static Tensor logits(LlamaForCausalLM model, int[] ids, int batch, int seqLen) {
        try (GradMode.Scope scope = GradMode.noGrad()) {
            return model.logits(ids, batch, seqLen);
        }
    }
}
