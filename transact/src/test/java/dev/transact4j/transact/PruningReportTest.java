package dev.transact4j.transact;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.transact4j.llama.checkpoint.NamedArray;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PruningReportTest {

    @TempDir
    Path dir;

    @Test
    void markdownRowsForLayerRemoval() throws IOException {
        // mha: hidden 16, 4 heads x 8, MLP 40 -> 23, 3 layers -> 2, vocabulary 41, untied, no biases.
        // Layer before: q/k/v/o 4 * 16 * 32 = 2,048, gate/up/down 3 * 16 * 40 = 1,920, norms 32: 4,000.
        //   FLOPs at context 128: 2 * 3,968 + 4 * 128 * 32 = 24,320. KV bytes: 2 * 32 * 4 = 256.
        // Layer after: 2,048 + 3 * 16 * 23 + 32 = 3,184; FLOPs 2 * 3,152 + 16,384 = 22,688.
        // Model: 2 * 41 * 16 + 16 = 1,328 outside the layers: 13,328 -> 7,696 (-42.26%).
        //   FLOPs: 2 * 41 * 16 = 1,312 for lm_head: 74,272 -> 46,688 (-37.14%). KV: 768 -> 512 (-33.33%).
        PruningStep.Result result = PruningStepTest.replay("mha_mlp_layers").get(0);
        PruningReport report = PruningReport.empty().withShot(result.report());
        report.write(dir);
        String markdown = Files.readString(dir.resolve(PruningReport.MARKDOWN_FILE));

        assertContainsLine(markdown, "1 shot. Parameters 13,328 -> 7,696 (-42.26%).");
        assertContainsLine(markdown, "The pruned config is a plain Llama config.");
        assertContainsLine(markdown, "| parameters | 13,328 | 7,696 | -42.26% |");
        assertContainsLine(markdown, "| forward FLOPs per token | 74,272 | 46,688 | -37.14% |");
        assertContainsLine(markdown, "| KV-cache bytes per token | 768 | 512 | -33.33% |");
        assertContainsLine(markdown, "| attention (heads x head_dim) | 32 | 32 (4 x 8, 4 kv heads) |");
        assertContainsLine(markdown, "| MLP | 23 | 23 |");
        assertContainsLine(markdown, "| layers | 2 | 2 |");
        assertContainsLine(markdown, "| 0 | 0 | 4,000 | 3,184 | 24,320 | 22,688 | 256 | 256 | [0, 1, 2, 3] | 23 of 40 |");
        assertContainsLine(markdown, "| 2 | removed | 4,000 | 0 | 24,320 | 0 | 256 | 0 | none | 0 of 40 |");

        assertTrue(!markdown.contains("Note:"), "config and weights agree, so no note");

        // the totals agree with the arrays themselves
        assertEquals(13_328L, ShotReport.elements(TransactFixtures.model("mha").state()));
        assertEquals(7_696L, ShotReport.elements(result.state()));
    }

    @Test
    void markdownHistogramRowMatchesCounts() throws IOException {
        PruningStep.Result result = PruningStepTest.replay("mha_heads").get(0);
        PruningReport report = PruningReport.empty().withShot(result.report());
        ShotReport.LayerReport layer = result.report().layers().get(1);
        ScoreHistogram mlp = layer.mlpScores();

        StringBuilder expected = new StringBuilder(String.format(Locale.ROOT, "| 1 | MLP | %.3g .. %.3g | ",
                mlp.edges()[0], mlp.edges()[20]));
        expected.append(joined(mlp.kept())).append(" | ").append(joined(mlp.removed())).append(" | 0 / 0 |");
        assertContainsLine(report.toMarkdown(), expected.toString());
        assertContainsLine(report.toMarkdown(), "The pruned config has 3 heads, which do not divide hidden_size;"
                + " transformers 5.18 rejects it, transact4j loads it.");
        // mha_heads keeps every MLP channel (target 40 of 40)
        assertEquals(40, Stream.of(mlp.kept()).flatMapToInt(java.util.Arrays::stream).sum());
    }

    @Test
    void multiShotJsonParsesBack() throws IOException {
        List<PruningStep.Result> results = PruningStepTest.replay("gqa_dim_keep_shots");
        PruningReport report = PruningReport.empty();
        for (PruningStep.Result result : results) {
            report = report.withShot(result.report());
            report.write(dir);
        }

        // only the two reports, no temporary files left behind
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(PruningReport.JSON_FILE, PruningReport.MARKDOWN_FILE),
                    files.map(p -> p.getFileName().toString()).sorted().toList());
        }

        Path file = dir.resolve(PruningReport.JSON_FILE);
        String text = Files.readString(file);
        PruningReport loaded = PruningReport.load(file);
        assertEquals(text, loaded.toJson(), "a loaded report writes the same JSON");
        assertEquals(3, loaded.shots().size());

        JsonNode json = TransactFixtures.json(text);
        assertEquals(PruningReport.FORMAT_VERSION, json.get("formatVersion").asInt());
        JsonNode last = json.get("shots").get(2);
        ShotReport lastShot = results.get(2).report();
        assertEquals(3, last.get("shot").asInt());
        assertEquals("HEAD_DIMS", last.get("attention").asText());
        assertEquals("KEEP", last.get("rope").asText());
        assertEquals(ShotReport.elements(results.get(2).state()), last.get("totalAfter").get("parameters").asLong());
        assertEquals(ShotReport.elements(results.get(1).state()), last.get("totalBefore").get("parameters").asLong());
        assertEquals(10, last.get("requested").get("attentionWidth").asInt());
        assertEquals(12, last.get("reached").get("attentionWidth").asInt(), "10 channels over 6 heads round up to head_dim 2");
        assertEquals(2, last.get("after").get("headDim").asInt());

        // kept indices of layer 1: the plan's, and the original frequency each kv head kept
        JsonNode layer = last.get("layers").get(1);
        LayerKeep keep = results.get(2).plan().layers().get(1);
        assertEquals(keep.mlpChannels().length, layer.get("mlpChannels").size());
        for (int i = 0; i < keep.mlpChannels().length; i++) {
            assertEquals(keep.mlpChannels()[i], layer.get("mlpChannels").get(i).asInt());
        }
        for (int head = 0; head < keep.frequencies().length; head++) {
            assertEquals(keep.frequencies()[head][0], layer.get("ropeFrequencies").get(head).get(0).asInt());
        }
        ScoreHistogram attention = lastShot.layers().get(1).attentionScores();
        JsonNode histogram = layer.get("attentionScores");
        assertEquals(attention.edges()[0], histogram.get("edges").get(0).asDouble());
        int[] keptCounts = new int[histogram.get("kept").size()];
        for (int i = 0; i < keptCounts.length; i++) {
            keptCounts[i] = histogram.get("kept").get(i).asInt();
        }
        assertArrayEquals(attention.kept(), keptCounts);

        // the Markdown covers every shot and the overall change
        String markdown = Files.readString(dir.resolve(PruningReport.MARKDOWN_FILE));
        long first = results.get(0).report().totalBefore().parameters();
        long end = ShotReport.elements(results.get(2).state());
        assertContainsLine(markdown, String.format(Locale.ROOT, "3 shots. Parameters %,d -> %,d (%+.2f%%).", first, end,
                100.0 * (end - first) / first));
        assertTrue(markdown.contains("## Shot 3\n"), markdown);
        assertContainsLine(markdown, "The pruned config keeps rotary frequencies (transact4j_rope: keep); only transact4j"
                + " rotates it correctly.");
        assertEquals("KEPT_ROTARY_FREQUENCIES", last.get("transformersCompatibility").asText());
    }

    @Test
    void markdownNotesStateDictMismatch() {
        TransactFixtures.Run run = TransactFixtures.run("mha_heads");
        java.util.Map<String, NamedArray> state = new java.util.LinkedHashMap<>(run.model().state());
        state.put("model.rotary_buffer", new NamedArray(new float[5], new int[] {5}));
        PruningStep.Result result = PruningStep.run(PrunedConfigTest.fixtureConfig("mha"), state,
                run.shots().get(0).scores(), PruningStep.Options.of(run.shots().get(0).plan().target()));

        long configBefore = result.report().totalBefore().parameters();
        long configAfter = result.report().totalAfter().parameters();
        assertContainsLine(PruningReport.empty().withShot(result.report()).toMarkdown(), String.format(Locale.ROOT,
                "Note: the state dict has %,d elements before and %,d after, but the configs count %,d and %,d parameters."
                        + " A tied lm_head stored as its own tensor, or tensors that are not parameters, cause this.",
                configBefore + 5, configAfter + 5, configBefore, configAfter));
    }

    @Test
    void loadNamesBadFile() throws IOException {
        Path missing = dir.resolve("absent.json");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PruningReport.load(missing));
        assertEquals("Pruning report " + missing + " not found; write it with PruningReport.write first", e.getMessage());

        Path future = dir.resolve("future.json");
        Files.writeString(future, "{\"formatVersion\": 7, \"shots\": []}");
        e = assertThrows(IllegalArgumentException.class, () -> PruningReport.load(future));
        assertTrue(e.getMessage().startsWith("Pruning report " + future + ": Invalid pruning report JSON"), e.getMessage());
        assertTrue(e.getMessage().contains("format version 7 is not supported"), e.getMessage());
    }

    private static void assertContainsLine(String text, String line) {
        assertTrue(text.lines().anyMatch(line::equals), "expected the line\n" + line + "\nin\n" + text);
    }

    private static String joined(int[] counts) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < counts.length; i++) {
            out.append(i == 0 ? "" : " ").append(counts[i]);
        }
        return out.toString();
    }
}
