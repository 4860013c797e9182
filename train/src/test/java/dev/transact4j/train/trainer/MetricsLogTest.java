package dev.transact4j.train.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The JSON Lines log and how a resume trims it. */
class MetricsLogTest {

    @TempDir
    Path dir;

    @Test
    void resumeDropsLaterSteps() throws IOException {
        Path file = dir.resolve("metrics.jsonl");
        try (MetricsLog log = MetricsLog.create(file)) {
            for (int step = 1; step <= 4; step++) {
                log.step(new StepMetrics(step, 5.0 - step / 3.0, 1e-3, 0.5, 93, 12.5));
            }
            log.eval(new EvalMetrics(2, 4.25, 372));
        }
        // a kill can cut the last line short
        Files.writeString(file, "{\"type\":\"train\",\"step\":5,\"lo", StandardCharsets.UTF_8,
                java.nio.file.StandardOpenOption.APPEND);

        try (MetricsLog log = MetricsLog.resumeAfter(file, 2)) {
            log.step(new StepMetrics(3, 1.25, 1e-3, 0.5, 93, 12.5));
        }

        List<String> lines = Files.readAllLines(file);
        assertEquals(4, lines.size(), String.join("\n", lines));
        assertEquals("{\"type\":\"eval\",\"step\":2,\"val_loss\":4.25,\"val_perplexity\":" + Math.exp(4.25)
                + ",\"val_tokens\":372}", lines.get(2));
        List<double[]> losses = MetricsLog.readTrainLosses(file);
        assertEquals(3, losses.size());
        assertEquals(5.0 - 2 / 3.0, losses.get(1)[1]);
        assertEquals(3.0, losses.get(2)[0]);
        assertEquals(1.25, losses.get(2)[1]);
    }

    @Test
    void stepLineFields() throws IOException {
        Path file = dir.resolve("metrics.jsonl");
        try (MetricsLog log = MetricsLog.create(file)) {
            log.step(new StepMetrics(7, 2.5, 0.001, 0.75, 200, 40));
        }

        assertEquals(List.of("{\"type\":\"train\",\"step\":7,\"loss\":2.5,\"lr\":0.001,\"grad_norm\":0.75,"
                + "\"tokens\":200,\"ms\":40.0,\"tokens_per_s\":5000.0}"), Files.readAllLines(file));
    }
}
