package dev.transact4j.train.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The run config: defaults, checks and its JSON form. */
class TrainingConfigTest {

    @Test
    void defaultsUseTransformerBetas() {
        TrainingConfig config = TrainingConfig.builder().build();

        assertEquals(0.9, config.beta1());
        assertEquals(0.95, config.beta2());
        assertEquals(1.0, config.maxGradNorm());
        assertEquals(8, config.globalBatchSize());
    }

    @Test
    void jsonRoundTrip() {
        TrainingConfig config = TrainingConfig.builder().seed(-3).microBatchSize(5).gradientAccumulationSteps(3)
                .maxSteps(17).learningRate(1.5e-3).minLrRatio(0.25).warmupSteps(4).weightDecay(0.05)
                .betas(0.8, 0.9).eps(1e-6).maxGradNorm(0).shuffle(false).evalEvery(3).evalBatches(2)
                .checkpointEvery(7).build();

        String json = config.toJson();

        assertTrue(json.contains("\"gradient_accumulation_steps\" : 3"), json);
        assertEquals(config, TrainingConfig.fromJson(json));
    }

    @Test
    void invalidValueNamesField() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TrainingConfig.builder().minLrRatio(1.5).build());

        assertEquals("Training config: min_lr_ratio must be a number in [0, 1], got 1.5", e.getMessage());
    }

    @Test
    void jsonMissingKeyRejected() {
        String json = TrainingConfig.builder().build().toJson().replaceFirst("\"seed\" : 0,", "");

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TrainingConfig.fromJson(json));

        assertTrue(e.getMessage().startsWith("Training config: cannot read the JSON: "), e.getMessage());
        assertTrue(e.getMessage().contains("seed"), e.getMessage());
    }

    @Test
    void jsonUnknownKeyRejected() {
        String json = TrainingConfig.builder().build().toJson().replaceFirst("\\{", "{\"lr\": 1,");

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TrainingConfig.fromJson(json));

        assertTrue(e.getMessage().contains("\"lr\""), e.getMessage());
    }

    @Test
    void jsonInvalidValueNamesField() {
        String json = TrainingConfig.builder().build().toJson().replace("\"micro_batch_size\" : 8",
                "\"micro_batch_size\" : 0");

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TrainingConfig.fromJson(json));

        assertTrue(e.getMessage().endsWith("micro_batch_size must be at least 1, got 0"), e.getMessage());
    }

    @Test
    void arithmeticDifferencesIgnoreSchedulingOfEvents() {
        TrainingConfig config = TrainingConfig.builder().build();
        TrainingConfig other = config.toBuilder().evalEvery(1).evalBatches(9).checkpointEvery(2).seed(5)
                .betas(0.9, 0.999).build();

        assertEquals(List.of("seed: 0 -> 5", "beta2: 0.95 -> 0.999"), config.arithmeticDifferences(other));
    }
}
