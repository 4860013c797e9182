package dev.transact4j.transact;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.transact4j.llama.LlamaConfig;
import dev.transact4j.llama.ModelStats;
import org.junit.jupiter.api.Test;

class SparsityTargetTest {

    @Test
    void tinyModelAtTwentyPercent() {
        // tiny: 7,358,720 parameters. Fixed: embeddings and lm_head 2 * 8192 * 256, final norm 256,
        // 4 layers of two norms 512: 4,196,608. Scaling: 4 * (4 * 256 * 256 + 3 * 256 * 688) = 3,162,112.
        // f = 0.2 * 7,358,720 / 3,162,112 = 0.46543; 8 heads * 0.53457 = 4.28 -> 4; 688 * 0.53457 = 367.8 -> 368.
        // After: 4 * (4 * 256 * 128 + 3 * 256 * 368) + 4,196,608 = 5,851,392.
        SparsityTarget target = SparsityTarget.resolve(LlamaConfig.tiny(), 20, AttentionPruning.HEADS);

        assertEquals(7_358_720L, target.parametersBefore());
        assertEquals(4_196_608L, SparsityTarget.fixedParameters(LlamaConfig.tiny()));
        assertEquals(0.2 * 7_358_720 / 3_162_112, target.widthFraction(), 1e-15);
        assertEquals(128, target.attentionWidth());
        assertEquals(368, target.intermediateSize());
        assertEquals(4, target.layers());
        assertEquals(5_851_392L, target.parametersAfter());
        assertEquals(100.0 * (7_358_720 - 5_851_392) / 7_358_720, target.reachedPercent(), 1e-12);
        assertEquals(20.4836, target.reachedPercent(), 1e-4);
    }

    @Test
    void groupedQueryRoundsToWholeGroups() {
        // gqa fixture: 6 heads in 3 groups of head_dim 6, biases. P = 12,920, fixed 1,520, scaling 11,400.
        // f = 0.5 * 12,920 / 11,400 = 0.56667; 3 groups * 0.43333 = 1.3 -> 1 group of 2 heads (width 12);
        // 40 * 0.43333 = 17.3 -> 17. After: 3 * 1,514 + 1,328 = 5,870, so 54.6% is reached, not 50%.
        LlamaConfig gqa = PrunedConfigTest.fixtureConfig("gqa");
        SparsityTarget heads = SparsityTarget.resolve(gqa, 50, AttentionPruning.HEADS);

        assertEquals(12_920L, heads.parametersBefore());
        assertEquals(12, heads.attentionWidth());
        assertEquals(17, heads.intermediateSize());
        assertEquals(5_870L, heads.parametersAfter());
        assertEquals(100.0 * 7_050 / 12_920, heads.reachedPercent(), 1e-12);

        // head dims: 3 rotary pairs * 0.43333 -> 1 pair, head_dim 2 in all 6 heads: the same width
        SparsityTarget dims = SparsityTarget.resolve(gqa, 50, AttentionPruning.HEAD_DIMS);
        assertEquals(12, dims.attentionWidth());
        assertEquals(5_870L, dims.parametersAfter());
    }

    @Test
    void widthsAreReachedExactlyByPlanner() {
        LlamaConfig gqa = PrunedConfigTest.fixtureConfig("gqa");
        TransactFixtures.Run run = TransactFixtures.run("gqa_groups");
        for (double percent : new double[] {0, 10, 25, 40}) {
            for (AttentionPruning mode : AttentionPruning.values()) {
                SparsityTarget sparsity = SparsityTarget.resolve(gqa, percent, mode);
                PruneTarget target = sparsity.toPruneTarget(RopeMode.KEEP);
                assertNull(target.nextLayers());
                KeepPlan plan = KeepPlanner.plan(ModelDims.from(gqa), run.shots().get(0).scores(), target);
                String where = percent + "% " + mode;
                assertEquals(sparsity.attentionWidth(), plan.mhaWidthReached(), where);
                assertEquals(sparsity.intermediateSize(), plan.mlpWidthReached(), where);
                LlamaConfig after = PrunedConfig.afterPlan(gqa, plan);
                assertEquals(sparsity.parametersAfter(), ModelStats.of(after).totalParameters(), where);
            }
        }
    }

    @Test
    void scheduleEndsAtSparsityWidths() {
        SparsityTarget target = SparsityTarget.resolve(LlamaConfig.tiny(), 20, AttentionPruning.HEADS);
        PruningSchedule schedule = new PruningSchedule(3, target.sizes());
        java.util.List<PruningSchedule.Sizes> steps = schedule.plan(PruningSchedule.Sizes.of(LlamaConfig.tiny()));

        // 256 -> 128 and 688 -> 368 in thirds of the remaining way: 256 - 128 / 3 = 214, 214 - 86 / 2 = 171
        assertEquals(new PruningSchedule.Sizes(214, 582, 4), steps.get(0));
        assertEquals(new PruningSchedule.Sizes(171, 475, 4), steps.get(1));
        assertEquals(new PruningSchedule.Sizes(128, 368, 4), steps.get(2));
    }

    @Test
    void zeroSparsityKeepsEverything() {
        SparsityTarget target = SparsityTarget.resolve(LlamaConfig.tiny(), 0, AttentionPruning.HEAD_DIMS);
        assertEquals(256, target.attentionWidth());
        assertEquals(688, target.intermediateSize());
        assertEquals(0.0, target.reachedPercent());
    }

    @Test
    void rejectsPercentOutOfRange() {
        for (double percent : new double[] {100, -1, Double.NaN, Double.POSITIVE_INFINITY}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> SparsityTarget.resolve(LlamaConfig.tiny(), percent, AttentionPruning.HEADS));
            assertEquals("Invalid sparsity " + percent + "%: expected a percentage of parameters to remove in [0, 100),"
                    + " such as 30", e.getMessage());
        }
    }

    @Test
    void rejectsSparsityThatRemovesEveryHead() {
        // f = 0.41 * 7,358,720 / 3,162,112 = 0.9541: 8 * 0.0459 = 0.37 -> 0 groups; 688 * 0.0459 = 31.6 -> 32.
        // The limit keeps half a unit: min(1 - 0.5 / 8, 1 - 0.5 / 688) * 3,162,112 / 7,358,720 = 40.3%.
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SparsityTarget.resolve(LlamaConfig.tiny(), 41, AttentionPruning.HEADS));
        assertEquals("Invalid sparsity 41.0%: it needs 95.4% of the attention and MLP widths removed, which leaves 0 of 8"
                + " attention head groups and 32 of 688 MLP channels. 4,196,608 of the 7,358,720 parameters (embeddings,"
                + " lm_head, norms) are never pruned, so request at most about 40.3%.", e.getMessage());

        // beyond the scaling parameters altogether; 16 rotary pairs move the limit to
        // min(1 - 0.5 / 16, 1 - 0.5 / 688) * 3,162,112 / 7,358,720 = 41.6%
        e = assertThrows(IllegalArgumentException.class,
                () -> SparsityTarget.resolve(LlamaConfig.tiny(), 60, AttentionPruning.HEAD_DIMS));
        assertEquals("Invalid sparsity 60.0%: it needs 139.6% of the attention and MLP widths removed, which leaves 0 of 16"
                + " attention rotary pairs per head and 0 of 688 MLP channels. 4,196,608 of the 7,358,720 parameters"
                + " (embeddings, lm_head, norms) are never pruned, so request at most about 41.6%.", e.getMessage());

        // just below the limit is accepted and keeps one group
        SparsityTarget limit = SparsityTarget.resolve(LlamaConfig.tiny(), 40.2, AttentionPruning.HEADS);
        assertEquals(32, limit.attentionWidth());
    }
}
