package dev.transact4j.transact;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** Renders one {@link ShotReport} as Markdown tables for {@link PruningReport#toMarkdown()}. */
final class ReportMarkdown {

    private ReportMarkdown() {
    }

    static void appendShot(StringBuilder out, ShotReport shot) {
        // heading and mode
        out.append("## Shot ").append(shot.shot()).append("\n\n");
        out.append("Attention pruning: ").append(shot.attention().name().toLowerCase(Locale.ROOT).replace('_', ' '));
        if (shot.attention() == AttentionPruning.HEAD_DIMS) {
            out.append(", rope ").append(shot.rope().name().toLowerCase(Locale.ROOT));
        }
        out.append(". FLOPs per token at context length ").append(shot.contextLength()).append(".\n");
        if (shot.sparsityRequestedPercent() != null) {
            out.append(String.format(Locale.ROOT, "Sparsity requested %.2f%%, reached %.2f%%.%n",
                    shot.sparsityRequestedPercent(), shot.parameterReductionPercent()));
        }
        out.append(switch (shot.transformersCompatibility()) {
            case STANDARD -> "The pruned config is a plain Llama config.\n";
            case HEADS_DO_NOT_DIVIDE_HIDDEN_SIZE -> String.format(Locale.ROOT, "The pruned config has %d heads, which do"
                    + " not divide hidden_size; transformers 5.18 rejects it, transact4j loads it.%n", shot.after().heads());
            case KEPT_ROTARY_FREQUENCIES -> "The pruned config keeps rotary frequencies (transact4j_rope: keep);"
                    + " only transact4j rotates it correctly.\n";
        });
        out.append('\n');

        // widths
        ShotReport.Shape after = shot.after();
        out.append("| width | requested | reached |\n|---|---:|---:|\n");
        out.append(String.format(Locale.ROOT, "| attention (heads x head_dim) | %,d | %,d (%d x %d, %d kv heads) |%n",
                shot.requested().attentionWidth(), shot.reached().attentionWidth(), after.heads(), after.headDim(),
                after.kvHeads()));
        out.append(String.format(Locale.ROOT, "| MLP | %,d | %,d |%n", shot.requested().intermediateSize(),
                shot.reached().intermediateSize()));
        out.append(String.format(Locale.ROOT, "| layers | %d | %d |%n%n", shot.requested().layers(), shot.reached().layers()));

        // totals
        ShotReport.Cost before = shot.totalBefore();
        ShotReport.Cost now = shot.totalAfter();
        out.append("| total | before | after | change |\n|---|---:|---:|---:|\n");
        costRow(out, "parameters", before.parameters(), now.parameters());
        costRow(out, "forward FLOPs per token", before.forwardFlopsPerToken(), now.forwardFlopsPerToken());
        costRow(out, "KV-cache bytes per token", before.kvCacheBytesPerToken(), now.kvCacheBytesPerToken());
        out.append('\n');
        if (shot.stateDictParametersBefore() != before.parameters() || shot.stateDictParametersAfter() != now.parameters()) {
            out.append(String.format(Locale.ROOT, "Note: the state dict has %,d elements before and %,d after, but the"
                    + " configs count %,d and %,d parameters. A tied lm_head stored as its own tensor, or tensors"
                    + " that are not parameters, cause this.%n%n", shot.stateDictParametersBefore(),
                    shot.stateDictParametersAfter(), before.parameters(), now.parameters()));
        }

        // layers
        out.append("| layer | new index | parameters before | parameters after | FLOPs/token before | FLOPs/token after"
                + " | KV bytes before | KV bytes after | kept query heads | kept MLP channels |\n");
        out.append("|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|\n");
        for (ShotReport.LayerReport layer : shot.layers()) {
            ShotReport.Cost b = layer.before();
            ShotReport.Cost a = layer.after();
            if (a == null) {
                out.append(String.format(Locale.ROOT, "| %d | removed | %,d | 0 | %,d | 0 | %,d | 0 | none | 0 of %d |%n",
                        layer.sourceLayer(), b.parameters(), b.forwardFlopsPerToken(), b.kvCacheBytesPerToken(),
                        shot.before().intermediateSize()));
            } else {
                out.append(String.format(Locale.ROOT, "| %d | %d | %,d | %,d | %,d | %,d | %,d | %,d | %s | %d of %d |%n",
                        layer.sourceLayer(), layer.newLayer(), b.parameters(), a.parameters(), b.forwardFlopsPerToken(),
                        a.forwardFlopsPerToken(), b.kvCacheBytesPerToken(), a.kvCacheBytesPerToken(),
                        LayerKeep.list(layer.queryHeads()), layer.mlpChannels().length, shot.before().intermediateSize()));
            }
        }
        out.append('\n');

        // histograms
        out.append("Channel scores in log-spaced bins, from the lowest positive score to the highest; counts per bin,"
                + " lowest bin first.\n\n");
        out.append("| layer | scores | range | kept per bin | removed per bin | zero kept / removed |\n");
        out.append("|---:|---|---|---|---|---:|\n");
        for (ShotReport.LayerReport layer : shot.layers()) {
            histogramRow(out, layer.sourceLayer(), "attention", layer.attentionScores());
            histogramRow(out, layer.sourceLayer(), "MLP", layer.mlpScores());
        }
        out.append('\n');
    }

    private static void costRow(StringBuilder out, String name, long before, long after) {
        out.append(String.format(Locale.ROOT, "| %s | %,d | %,d | %s |%n", name, before, after,
                PruningReport.change(before, after)));
    }

    private static void histogramRow(StringBuilder out, int layer, String module, ScoreHistogram histogram) {
        double[] edges = histogram.edges();
        String range = edges.length == 0 ? "all zero"
                : String.format(Locale.ROOT, "%.3g .. %.3g", edges[0], edges[edges.length - 1]);
        out.append(String.format(Locale.ROOT, "| %d | %s | %s | %s | %s | %d / %d |%n", layer, module, range,
                counts(histogram.kept()), counts(histogram.removed()), histogram.zeroKept(), histogram.zeroRemoved()));
    }

    private static String counts(int[] counts) {
        return Arrays.stream(counts).mapToObj(Integer::toString).collect(Collectors.joining(" "));
    }
}
