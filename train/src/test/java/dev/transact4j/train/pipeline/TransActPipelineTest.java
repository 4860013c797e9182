package dev.transact4j.train.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.transact4j.llama.LlamaConfig;
import dev.transact4j.llama.LlamaForCausalLM;
import dev.transact4j.llama.checkpoint.HfCheckpoint;
import dev.transact4j.llama.checkpoint.LlamaCheckpoint;
import dev.transact4j.llama.tokenizer.Tokenizer;
import dev.transact4j.tensor.GradMode;
import dev.transact4j.tensor.Tensor;
import dev.transact4j.train.data.Batch;
import dev.transact4j.train.data.DataLoader;
import dev.transact4j.train.data.TrainingData;
import dev.transact4j.transact.AttentionPruning;
import dev.transact4j.transact.PruningReport;
import dev.transact4j.transact.RopeMode;
import dev.transact4j.transact.ScorerKind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pipeline end to end on a two-layer model pretrained briefly on a slice of the Brown corpus:
 * shot widths, saved models, the report and the effect of fine-tuning.
 */
class TransActPipelineTest {

    private static final int SEQ_LEN = 32;
    private static final int HEAD_DIM = 16;

    @TempDir
    static Path shared;

    private static TrainingData data;
    private static LlamaForCausalLM dense;
    private static HfCheckpoint companions;

    @BeforeAll
    static void pretrain() throws IOException {
        Map<String, Path> tokenizerFiles = CorpusData.writeDemoTokenizer(shared.resolve("tokenizer"));
        Tokenizer tokenizer = Tokenizer.load(tokenizerFiles.get("tokenizer.json"));
        LlamaConfig config = DemoRunner.config("demo").toBuilder().hiddenSize(64).numHiddenLayers(2)
                .numAttentionHeads(4).numKeyValueHeads(4).intermediateSize(96).build();
        data = CorpusData.brown(shared.resolve("data"), CorpusData.encoder(tokenizer, tokenizerFiles.get("tokenizer.json")),
                120_000, 8_000, SEQ_LEN, config.vocabSize());
        dense = LlamaForCausalLM.initialize(config, 7);
        TrainingPhase.train(dense, data, 8, 8, 0, 40, 3e-3, 7, shared.resolve("pretrain"), new LossCurve(), false);
        companions = DemoRunner.withTokenizer(dense, tokenizerFiles);
    }

    private static PipelineOptions options(int shots, long pruneTokens, long fineTuneTokens) {
        return new PipelineOptions(2 * HEAD_DIM, 48, null, null, shots, 8, ScorerKind.ACTS, SEQ_LEN, pruneTokens,
                fineTuneTokens, 8, 8, 2e-3, AttentionPruning.HEADS, RopeMode.RECOMPUTE, 3, 0);
    }

    /** Returns {@code current - (current - target) / (shots - shot + 1)}, TransAct's schedule. */
    private static int scheduled(int current, int target, int shots, int shot) {
        return current - (current - target) / (shots - shot + 1);
    }

    @Test
    void allModeFollowsScheduleAndImproves(@TempDir Path out) throws IOException {
        PipelineOptions options = options(3, 3 * 6 * 8 * SEQ_LEN, 30 * 8 * SEQ_LEN);
        LossCurve curve = new LossCurve();
        TransActPipeline.Result result = new TransActPipeline(options, data, out, companions, curve)
                .run(TransActPipeline.Mode.ALL, dense);

        // widths: each shot requests the schedule's step from the size reached before it
        assertEquals(3, result.shots().size());
        int attention = dense.config().attentionWidth();
        int mlp = dense.config().intermediateSize();
        for (TransActPipeline.Shot shot : result.shots()) {
            int requestedAttention = scheduled(attention, 2 * HEAD_DIM, 3, shot.shot());
            int requestedMlp = scheduled(mlp, 48, 3, shot.shot());
            assertEquals(requestedAttention, shot.requested().attentionWidth(), "shot " + shot.shot());
            assertEquals(requestedMlp, shot.requested().intermediateSize(), "shot " + shot.shot());
            // whole heads: the width reached rounds the request up to a multiple of head_dim
            assertEquals((requestedAttention + HEAD_DIM - 1) / HEAD_DIM * HEAD_DIM, shot.reached().attentionWidth());
            assertEquals(requestedMlp, shot.reached().intermediateSize());
            assertEquals(2, shot.reached().numHiddenLayers());
            attention = shot.reached().attentionWidth();
            mlp = shot.reached().intermediateSize();
        }
        assertEquals(2 * HEAD_DIM, attention);
        assertEquals(48, mlp);

        // training after shot i: p/2 + p(i-1)/(K-1) tokens with p = prune_tokens / K
        long p = options.pruneTokens() / 3;
        for (TransActPipeline.Shot shot : result.shots()) {
            long tokens = p / 2 + p * (shot.shot() - 1) / 2;
            assertEquals(options.stepsFor(tokens), shot.training().steps(), "shot " + shot.shot());
        }

        // the saved models reload with the pruned shape and the same outputs
        LlamaForCausalLM reloaded = LlamaCheckpoint.load(out.resolve("finetune").resolve("model")).model();
        assertEquals(result.model().config().attentionWidth(), reloaded.config().attentionWidth());
        assertEquals(48, reloaded.config().intermediateSize());
        Batch batch = DataLoader.inOrder(data.validation(), 2).iterator().next();
        assertArrayEquals(logits(result.model(), batch), logits(reloaded, batch), 1e-5f);
        assertEquals(result.shots().get(0).reached().attentionWidth(),
                LlamaCheckpoint.load(out.resolve("shot-1").resolve("model")).model().config().attentionWidth());
        assertTrue(Files.isRegularFile(out.resolve("shot-3").resolve("model").resolve("tokenizer.json")));

        // the report lists every shot
        PruningReport report = PruningReport.load(out.resolve(PruningReport.JSON_FILE));
        assertEquals(3, report.shots().size());
        assertTrue(Files.isRegularFile(out.resolve(PruningReport.MARKDOWN_FILE)));

        // fine-tuning recovers what the last cut lost
        double afterLastPrune = result.lastShot().afterPrune().perplexity();
        double afterFineTune = result.afterFineTune().perplexity();
        assertTrue(afterFineTune < afterLastPrune, "after fine-tuning " + afterFineTune + ", after the last prune "
                + afterLastPrune);
        assertEquals(afterFineTune, Validation.loss(reloaded, data.validation(), 8, 0).perplexity(), 1e-3 * afterFineTune);

        // the loss curve marks the three shots and fine-tuning, and draws
        assertEquals(4, curve.markers().size());
        Path png = LossPlot.write(curve, "test", out.resolve("curves.png"));
        assertTrue(Files.size(png) > 1000);
    }

    @Test
    void oneShotPrunesWithoutTraining(@TempDir Path out) throws IOException {
        TransActPipeline.Result result = new TransActPipeline(options(1, 100_000, 0), data, out, companions,
                new LossCurve()).run(TransActPipeline.Mode.PRUNE, dense);
        assertEquals(1, result.shots().size());
        TransActPipeline.Shot shot = result.shots().get(0);
        assertNull(shot.training());
        assertEquals(2 * HEAD_DIM, shot.reached().attentionWidth());
        assertEquals(48, shot.reached().intermediateSize());
        assertNull(result.afterFineTune());
        assertTrue(Files.isDirectory(out.resolve("shot-1").resolve("model")));
        assertTrue(Files.notExists(out.resolve("shot-1").resolve("run")));
    }

    @Test
    void fineTuneModeReadsLastShot(@TempDir Path out) throws IOException {
        PipelineOptions options = options(2, 0, 8 * SEQ_LEN * 4);
        new TransActPipeline(options, data, out, companions, new LossCurve()).run(TransActPipeline.Mode.PRUNE, dense);
        // fine-tuning alone needs no pruning target
        PipelineOptions fineTuneOnly = new PipelineOptions(null, null, null, null, 2, 8, ScorerKind.ACTS, SEQ_LEN, 0,
                8 * SEQ_LEN * 4, 8, 8, 2e-3, AttentionPruning.HEADS, RopeMode.RECOMPUTE, 3, 0);
        TransActPipeline.Result result = new TransActPipeline(fineTuneOnly, data, out, companions, new LossCurve())
                .run(TransActPipeline.Mode.FT, null);
        assertNotNull(result.fineTune());
        assertEquals(4, result.fineTune().steps());
        assertEquals(2 * HEAD_DIM, result.model().config().attentionWidth());
        assertTrue(Files.isDirectory(out.resolve("finetune").resolve("model")));
    }

    @Test
    void pruningModesNeedTarget(@TempDir Path parent) {
        Path out = parent.resolve("out");
        PipelineOptions noTarget = new PipelineOptions(null, null, null, null, 2, 8, ScorerKind.ACTS, SEQ_LEN, 0, 0,
                8, 8, 2e-3, AttentionPruning.HEADS, RopeMode.RECOMPUTE, 3, 0);
        for (TransActPipeline.Mode mode : new TransActPipeline.Mode[] {TransActPipeline.Mode.PRUNE,
                TransActPipeline.Mode.ALL}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new TransActPipeline(noTarget, data, out, companions, new LossCurve()).run(mode, dense));
            assertTrue(e.getMessage().contains("set the target attention and MLP widths, or a sparsity percentage"),
                    e.getMessage());
        }
        assertTrue(Files.notExists(out), "nothing is written before the check");
    }

    @Test
    void optionsRejectOutOfRangeTargets() {
        for (double sparsity : new double[] {0, 100, 150, -5, Double.NaN}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new PipelineOptions(null, null, null, sparsity, 2, 8, ScorerKind.ACTS, SEQ_LEN, 0, 0, 8, 8,
                            2e-3, AttentionPruning.HEADS, RopeMode.RECOMPUTE, 3, 0));
            assertTrue(e.getMessage().contains("in (0, 100)"), e.getMessage());
        }
        IllegalArgumentException width = assertThrows(IllegalArgumentException.class,
                () -> new PipelineOptions(0, 48, null, null, 2, 8, ScorerKind.ACTS, SEQ_LEN, 0, 0, 8, 8, 2e-3,
                        AttentionPruning.HEADS, RopeMode.RECOMPUTE, 3, 0));
        assertTrue(width.getMessage().contains("target attention width must be at least 1, got 0"),
                width.getMessage());
        IllegalArgumentException layers = assertThrows(IllegalArgumentException.class,
                () -> new PipelineOptions(null, null, 0, 30.0, 2, 8, ScorerKind.ACTS, SEQ_LEN, 0, 0, 8, 8, 2e-3,
                        AttentionPruning.HEADS, RopeMode.RECOMPUTE, 3, 0));
        assertTrue(layers.getMessage().contains("target layers must be at least 1, got 0"), layers.getMessage());
    }

    @Test
    void taylorScorerPrunesToTarget(@TempDir Path out) throws IOException {
        PipelineOptions options = new PipelineOptions(null, null, 1, 4.0, 2, 8, ScorerKind.TAYLOR, SEQ_LEN, 0, 0, 8,
                8, 1e-3, AttentionPruning.HEAD_DIMS, RopeMode.KEEP, 3, 0);
        TransActPipeline.Result result = new TransActPipeline(options, data, out, companions, new LossCurve())
                .run(TransActPipeline.Mode.PRUNE, dense);
        LlamaConfig pruned = result.model().config();
        assertEquals(1, pruned.numHiddenLayers());
        assertEquals(4, pruned.numAttentionHeads(), "head-dimension pruning keeps every head");
        assertTrue(pruned.headDim() < HEAD_DIM);
        assertTrue(pruned.intermediateSize() < 96);
        LlamaForCausalLM reloaded = LlamaCheckpoint.load(out.resolve("shot-2").resolve("model")).model();
        Batch batch = DataLoader.inOrder(data.validation(), 1).iterator().next();
        assertArrayEquals(logits(result.model(), batch), logits(reloaded, batch), 1e-5f);
    }

    private static float[] logits(LlamaForCausalLM model, Batch batch) {
        try (GradMode.Scope scope = GradMode.noGrad()) {
            Tensor logits = model.logits(batch.inputIds(), batch.batchSize(), batch.seqLen());
            return logits.contiguous().data().clone();
        }
    }
}
