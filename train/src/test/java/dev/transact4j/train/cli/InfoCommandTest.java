package dev.transact4j.train.cli;

import static dev.transact4j.train.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.transact4j.llama.LlamaConfig;
import dev.transact4j.llama.ModelStats;
import dev.transact4j.nn.safetensors.SafeTensorsWriter;
import dev.transact4j.train.cli.CliRun.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code transact info} on presets, real model directories and bad input. */
class InfoCommandTest {

    @TempDir
    Path dir;

    @Test
    void presetPrintsComputedCounts() {
        Run run = run("info", "tiny", "--context", "256");
        assertEquals(0, run.code(), run.err());
        ModelStats stats = ModelStats.of(LlamaConfig.tiny());
        assertTrue(run.out().contains(String.format(Locale.ROOT, "parameters          %,d", stats.totalParameters())),
                run.out());
        assertTrue(run.out().contains(String.format(Locale.ROOT, "%,d (forward, at a context of 256 tokens)",
                stats.forwardFlopsPerToken(256))), run.out());
        assertTrue(run.out().contains(String.format(Locale.ROOT, "KV cache per token  %,d bytes",
                stats.kvCacheBytesPerToken())), run.out());
    }

    @Test
    void directoryCountsStoredElements() throws Exception {
        Path fixture = Path.of(InfoCommandTest.class.getResource("/fixtures/llama/gqa/config.json").toURI()).getParent();
        Run run = run("info", fixture.toString());
        assertEquals(0, run.code(), run.err());
        long parameters = ModelStats.of(LlamaConfig.load(fixture)).totalParameters();
        assertTrue(run.out().contains(String.format(Locale.ROOT, "stored elements     %,d%n", parameters)), run.out());
        assertTrue(run.out().contains("key/value heads: 2"), run.out());
    }

    @Test
    void storedWeightsThatDifferAreFlagged() throws Exception {
        Path model = dir.resolve("model");
        Files.createDirectories(model);
        LlamaConfig.tiny().save(model.resolve("config.json"));
        new SafeTensorsWriter().add("model.embed_tokens.weight", new float[6], new int[] {2, 3}).write(
                model.resolve("model.safetensors"));
        Run run = run("info", model.toString());
        assertEquals(0, run.code(), run.err());
        assertTrue(run.out().contains("stored elements     6 (differs from the config's parameter count)"), run.out());
    }

    @Test
    void demoPresetKnown() {
        Run run = run("info", "demo");
        assertEquals(0, run.code(), run.err());
        assertTrue(run.out().contains("hidden size         128"), run.out());
    }

    @Test
    void directoryWithoutWeightsSaysSo() throws Exception {
        Path model = dir.resolve("config-only");
        Files.createDirectories(model);
        LlamaConfig.tiny().save(model.resolve("config.json"));
        Run run = run("info", model.toString());
        assertEquals(0, run.code(), run.err());
        assertTrue(run.out().contains("stored elements     none: " + model
                + " has no model.safetensors or model.safetensors.index.json"), run.out());
    }

    @Test
    void modelOptionMatchesArgument() {
        Run argument = run("info", "tiny");
        Run option = run("info", "--model", "tiny");
        assertEquals(0, option.code(), option.err());
        assertEquals(argument.out(), option.out());
    }

    @Test
    void modelGivenTwiceOrNeverFails() {
        Run twice = run("info", "tiny", "--model", "small");
        assertEquals(2, twice.code());
        assertTrue(twice.err().contains("not both"), twice.err());

        Run never = run("info");
        assertEquals(2, never.code());
        assertTrue(never.err().contains("missing MODEL"), never.err());
    }

    @Test
    void missingModelFailsWithExitTwo() {
        Run run = run("info", dir.resolve("absent").toString());
        assertEquals(2, run.code());
        assertTrue(run.err().startsWith("transact info: model not found: "), run.err());
        assertEquals(1, run.err().lines().count(), run.err());
    }

    @Test
    void invalidConfigNamesFieldWithExitTwo() throws Exception {
        Path config = dir.resolve("config.json");
        Files.writeString(config, "{\"hidden_size\": 64}");
        Run run = run("info", config.toString());
        assertEquals(2, run.code());
        assertTrue(run.err().contains(config.toString()), run.err());
        assertTrue(run.err().contains("vocab_size"), run.err());
    }

    @Test
    void nonPositiveContextRejected() {
        Run run = run("info", "small", "--context", "0");
        assertEquals(2, run.code());
        assertTrue(run.err().contains("--context must be at least 1 token, got 0"), run.err());
    }

    @Test
    void contextBeyondMaxPositionsRejected() {
        Run run = run("info", "tiny", "--context", "1025");
        assertEquals(2, run.code(), run.err());
        assertEquals("transact info: --context 1025 exceeds the model's max_position_embeddings 1024; pass at most"
                + " that many tokens (see --help)", run.err().strip());
        assertEquals(0, run("info", "tiny", "--context", "1024").code());
    }

    @Test
    void truncatedWeightsPrintOnlyTheError() throws Exception {
        Path model = dir.resolve("truncated");
        Files.createDirectories(model);
        LlamaConfig.tiny().save(model.resolve("config.json"));
        Path weights = model.resolve("model.safetensors");
        new SafeTensorsWriter().add("model.embed_tokens.weight", new float[600], new int[] {20, 30}).write(weights);
        byte[] bytes = Files.readAllBytes(weights);
        Files.write(weights, Arrays.copyOf(bytes, bytes.length - 100));

        Run run = run("info", model.toString());
        assertEquals(2, run.code(), run.err());
        assertEquals("", run.out(), "nothing printed before the error");
        assertTrue(run.err().contains(weights.toString()), run.err());
        assertTrue(run.err().contains("truncated"), run.err());
    }

    @Test
    void weightsFileInsteadOfDirectoryRejected() throws Exception {
        Path weights = dir.resolve("model.safetensors");
        new SafeTensorsWriter().add("w", new float[2], new int[] {2}).write(weights);
        Run run = run("info", weights.toString());
        assertEquals(2, run.code());
        assertEquals("transact info: " + weights + " is not a config.json file; pass the model directory or its "
                + "config.json (see --help)", run.err().strip());
    }
}
