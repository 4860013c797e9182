package dev.transact4j.train.pipeline;

import dev.transact4j.llama.LlamaConfig;
import dev.transact4j.llama.LlamaForCausalLM;
import dev.transact4j.llama.ModelStats;
import dev.transact4j.llama.checkpoint.HfCheckpoint;
import dev.transact4j.llama.checkpoint.LlamaCheckpoint;
import dev.transact4j.llama.inference.GenerationOptions;
import dev.transact4j.llama.inference.GenerationResult;
import dev.transact4j.llama.inference.Generator;
import dev.transact4j.llama.inference.LlamaCausalLm;
import dev.transact4j.llama.tokenizer.Tokenizer;
import dev.transact4j.nn.io.AtomicFiles;
import dev.transact4j.nn.safetensors.DType;
import dev.transact4j.train.data.TokenEncoder;
import dev.transact4j.train.data.TrainingData;
import dev.transact4j.train.trainer.PeakMemory;
import dev.transact4j.transact.AttentionPruning;
import dev.transact4j.transact.PruningReport;
import dev.transact4j.transact.RopeMode;
import dev.transact4j.transact.ScorerKind;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The end-to-end demo: pretrain a small Llama on the embedded Brown corpus, prune it with TransAct
 * over several shots, fine-tune it, and compare the dense and pruned models in one table.
 */
public final class DemoRunner {

    private static final Logger LOG = LoggerFactory.getLogger(DemoRunner.class);

    /** The prompt whose continuation measures decoding speed. */
    static final String PROMPT = "The jury said it did find that the";

    /** Tokens generated per decoding measurement. */
    static final int DECODE_TOKENS = 200;

    /**
     * Settings of a demo run.
     *
     * @param size           model preset: {@code demo} (hidden 128, 4 layers), {@code tiny} or {@code small}
     * @param pretrainTokens training tokens of pretraining; pruning gets half and fine-tuning a quarter
     * @param shots          pruning shots
     * @param keepPercent    percentage of the attention and MLP widths kept
     */
    public record Settings(String size, long pretrainTokens, int shots, int keepPercent, int seqLen, long seed,
                           Path outputDir) {
    }

    /** The measured outcome, one value per table cell. */
    public record Summary(ModelStats dense, ModelStats pruned, double densePerplexity, double afterPrunePerplexity,
                          double beforeFineTunePerplexity, double afterFineTunePerplexity,
                          double denseDecodeTokensPerSecond, double prunedDecodeTokensPerSecond, long peakHeapBytes,
                          double seconds, int seqLen, Path outputDir) {
    }

    private DemoRunner() {
    }

    /** Returns the config of a size preset. */
    public static LlamaConfig config(String size) {
        LlamaConfig base = switch (size) {
            case "demo" -> LlamaConfig.tiny().toBuilder().hiddenSize(128).intermediateSize(384).numAttentionHeads(4)
                    .numKeyValueHeads(4).build();
            case "tiny" -> LlamaConfig.tiny();
            case "small" -> LlamaConfig.small();
            default -> throw new IllegalArgumentException("unknown size '" + size + "'; use demo, tiny or small");
        };
        // the demo tokenizer's <|begin_of_text|> and <|end_of_text|>
        return base.toBuilder().bosTokenId(0).eosTokenId(1).build();
    }

    /** Runs the demo and prints its progress lines and the final table to {@code out}. */
    public static Summary run(Settings settings, PrintStream out) throws IOException {
        long start = System.nanoTime();
        PeakMemory.reset();
        Path dir = settings.outputDir();
        Files.createDirectories(dir);
        LlamaConfig config = config(settings.size());
        int seqLen = settings.seqLen();
        int microBatch = 8;
        int globalBatch = 8;
        long pruneTokens = settings.pretrainTokens() / 2;
        long fineTuneTokens = settings.pretrainTokens() / 4;

        // tokenizer and data: a slice of Brown large enough for one pass over every phase's tokens
        Map<String, Path> tokenizerFiles = CorpusData.writeDemoTokenizer(dir.resolve("tokenizer"));
        Tokenizer tokenizer = Tokenizer.load(tokenizerFiles.get("tokenizer.json"));
        TokenEncoder encoder = CorpusData.encoder(tokenizer, tokenizerFiles.get("tokenizer.json"));
        long tokens = settings.pretrainTokens() + pruneTokens + fineTuneTokens;
        TrainingData data = CorpusData.brown(dir.resolve("data"), encoder, 5 * tokens, 30_000, seqLen,
                config.vocabSize());
        out.printf(Locale.ROOT, "Data: %,d training and %,d validation blocks of %d tokens (%d positions, "
                + "each with its next token)%n", data.train().blockCount(), data.validation().blockCount(), seqLen + 1, seqLen);

        PipelineOptions options = new PipelineOptions(config.attentionWidth() * settings.keepPercent() / 100,
                config.intermediateSize() * settings.keepPercent() / 100, null, null, settings.shots(), 64,
                ScorerKind.ACTS, seqLen, pruneTokens, fineTuneTokens, globalBatch, microBatch, 2e-3,
                AttentionPruning.HEADS, RopeMode.RECOMPUTE, settings.seed(), 0);

        // pretraining
        LossCurve curve = new LossCurve();
        LlamaForCausalLM dense = LlamaForCausalLM.initialize(config, settings.seed());
        HfCheckpoint companions = withTokenizer(dense, tokenizerFiles);
        out.printf(Locale.ROOT, "Pretraining %s for %,d tokens%n", dense, settings.pretrainTokens());
        Validation.Loss denseLoss = Validation.of(TrainingPhase.train(dense, data, options,
                options.stepsFor(settings.pretrainTokens()), 4e-3, settings.seed(), dir.resolve("dense").resolve("run"),
                curve, false));
        LlamaCheckpoint.save(dense, dir.resolve("dense").resolve("model"), DType.F32, companions);
        out.printf(Locale.ROOT, "Dense validation perplexity %.2f%n", denseLoss.perplexity());

        // pruning shots and fine-tuning
        TransActPipeline pipeline = new TransActPipeline(options, data, dir, companions, curve);
        TransActPipeline.Result result = pipeline.run(TransActPipeline.Mode.ALL, dense);
        LossPlot.write(curve, "TransAct demo: " + settings.size() + " Llama, " + settings.shots() + " shots to "
                + settings.keepPercent() + "% width", dir.resolve("loss-curves.png"));

        // decoding speed of both models: the best of four rounds after two warm-up rounds, with the
        // model that goes first alternating, so that neither always runs right after the other
        double denseSpeed = 0;
        double prunedSpeed = 0;
        for (int round = 0; round < 6; round++) {
            boolean denseFirst = round % 2 == 0;
            LlamaForCausalLM first = denseFirst ? dense : result.model();
            LlamaForCausalLM second = denseFirst ? result.model() : dense;
            double firstSpeed = decodeTokensPerSecond(first, tokenizer);
            double secondSpeed = decodeTokensPerSecond(second, tokenizer);
            if (round >= 2) {
                denseSpeed = Math.max(denseSpeed, denseFirst ? firstSpeed : secondSpeed);
                prunedSpeed = Math.max(prunedSpeed, denseFirst ? secondSpeed : firstSpeed);
            }
        }

        Summary summary = new Summary(ModelStats.of(dense.config()), ModelStats.of(result.model().config()),
                denseLoss.perplexity(), result.lastShot().afterPrune().perplexity(),
                result.beforeFineTune().perplexity(), result.afterFineTune().perplexity(), denseSpeed, prunedSpeed,
                PeakMemory.heapPeakBytes(), (System.nanoTime() - start) / 1e9, seqLen, dir);
        String table = table(summary, result.report());
        writeAtomically(dir.resolve("demo-summary.md"), table);
        out.println();
        out.print(table);
        out.println();
        out.println("Output folder: " + dir.toAbsolutePath());
        out.println("  dense/model, shot-<i>/model, finetune/model: Hugging Face model directories");
        out.println("  pruning-report.md and .json, loss-curves.png, demo-summary.md");
        return summary;
    }

    /** Returns a checkpoint of {@code model} that carries the tokenizer files, for saving models with them. */
    public static HfCheckpoint withTokenizer(LlamaForCausalLM model, Map<String, Path> tokenizerFiles) {
        HfCheckpoint weights = LlamaCheckpoint.toCheckpoint(model, null);
        return new HfCheckpoint(weights.config(), weights.weights(), null, tokenizerFiles);
    }

    /** Returns the greedy decoding speed after the prompt, in tokens per second. */
    static double decodeTokensPerSecond(LlamaForCausalLM model, Tokenizer tokenizer) {
        Generator generator = new Generator(new LlamaCausalLm(model), tokenizer, 512);
        GenerationResult result = generator.generate(PROMPT,
                GenerationOptions.greedy(DECODE_TOKENS).withStopAtEos(false));
        return result.generationTokensPerSecond();
    }

    /** Formats the comparison as a Markdown table. */
    static String table(Summary s, PruningReport report) {
        StringBuilder b = new StringBuilder();
        b.append("| measure | dense | pruned |\n|---|---:|---:|\n");
        row(b, "validation perplexity", fmt(s.densePerplexity()),
                "after last prune " + fmt(s.afterPrunePerplexity()) + ", before fine-tuning "
                        + fmt(s.beforeFineTunePerplexity()) + ", after " + fmt(s.afterFineTunePerplexity()));
        row(b, "attention width / MLP width / layers", shape(s.dense()), shape(s.pruned()));
        row(b, "parameters", count(s.dense().totalParameters()), count(s.pruned().totalParameters())
                + ratio(s.pruned().totalParameters(), s.dense().totalParameters()));
        row(b, "forward FLOPs per token (context " + s.seqLen() + ")", count(s.dense().forwardFlopsPerToken(s.seqLen())),
                count(s.pruned().forwardFlopsPerToken(s.seqLen()))
                        + ratio(s.pruned().forwardFlopsPerToken(s.seqLen()), s.dense().forwardFlopsPerToken(s.seqLen())));
        row(b, "KV cache per token (float32)", count(s.dense().kvCacheBytesPerToken()) + " B",
                count(s.pruned().kvCacheBytesPerToken()) + " B"
                        + ratio(s.pruned().kvCacheBytesPerToken(), s.dense().kvCacheBytesPerToken()));
        row(b, "decode tokens/s (greedy, batch 1)", fmt(s.denseDecodeTokensPerSecond()),
                fmt(s.prunedDecodeTokensPerSecond()) + String.format(Locale.ROOT, " (%.2fx)",
                        s.prunedDecodeTokensPerSecond() / s.denseDecodeTokensPerSecond()));
        b.append(String.format(Locale.ROOT, "%nPeak heap of the run: %s (sum of the JVM's heap pool peaks). Time: %.0f s"
                        + " on %d threads.%n", PeakMemory.mebibytes(s.peakHeapBytes()), s.seconds(),
                Runtime.getRuntime().availableProcessors()));
        b.append("Pruning shots: ").append(report.shots().size()).append(" (see pruning-report.md)\n");
        return b.toString();
    }

    private static void row(StringBuilder b, String name, String dense, String pruned) {
        b.append("| ").append(name).append(" | ").append(dense).append(" | ").append(pruned).append(" |\n");
    }

    private static String shape(ModelStats stats) {
        LlamaConfig c = stats.config();
        return c.attentionWidth() + " / " + c.intermediateSize() + " / " + c.numHiddenLayers();
    }

    private static String fmt(double value) {
        return String.format(Locale.ROOT, "%.2f", value);
    }

    private static String count(long value) {
        return String.format(Locale.ROOT, "%,d", value);
    }

    private static String ratio(long pruned, long dense) {
        return String.format(Locale.ROOT, " (%.0f%%)", 100.0 * pruned / dense);
    }

    private static void writeAtomically(Path file, String text) throws IOException {
        AtomicFiles.write(file, text.getBytes(StandardCharsets.UTF_8));
    }
}
