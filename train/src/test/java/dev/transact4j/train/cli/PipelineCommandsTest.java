package dev.transact4j.train.cli;

import static dev.transact4j.train.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.transact4j.llama.LlamaConfig;
import dev.transact4j.llama.LlamaForCausalLM;
import dev.transact4j.llama.tokenizer.Tokenizer;
import dev.transact4j.nn.safetensors.SafeTensorsFile;
import dev.transact4j.tensor.GradMode;
import dev.transact4j.train.cli.CliRun.Run;
import dev.transact4j.train.pipeline.CorpusData;
import dev.transact4j.train.pipeline.DemoRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pipeline commands run as a user would, on a small saved model: results, help and one-line errors. */
class PipelineCommandsTest {

    @TempDir
    static Path dir;
    private static Path modelDir;
    private static LlamaForCausalLM model;
    private static Tokenizer tokenizer;

    @BeforeAll
    static void saveModel() throws Exception {
        Map<String, Path> files = CorpusData.writeDemoTokenizer(dir.resolve("tokenizer"));
        tokenizer = Tokenizer.load(files.get("tokenizer.json"));
        LlamaConfig config = DemoRunner.config("demo").toBuilder().hiddenSize(32).numHiddenLayers(1)
                .numAttentionHeads(2).numKeyValueHeads(2).intermediateSize(48).maxPositionEmbeddings(128).build();
        model = LlamaForCausalLM.initialize(config, 11);
        modelDir = dir.resolve("model");
        DemoRunner.withTokenizer(model, files).save(modelDir, dev.transact4j.nn.safetensors.DType.F32);
    }

    private static void assertUsageError(String expected, String... args) {
        Run run = run(args);
        assertEquals(2, run.code(), String.join(" ", args) + ": " + run.err());
        List<String> lines = run.err().strip().lines().toList();
        assertEquals(1, lines.size(), "one line expected, got: " + run.err());
        assertTrue(lines.get(0).contains(expected), "'" + expected + "' expected in: " + lines.get(0));
    }

    @Test
    void invalidArgumentsFailInOneLine() {
        String model = modelDir.toString();
        String out = dir.resolve("out").toString();
        // eval: model, input file, context
        assertUsageError("model directory not found", "eval", "--model", dir.resolve("none").toString(), "--text", "x");
        assertUsageError("--text: input file not found", "eval", "--model", model, "--text",
                dir.resolve("none.txt").toString());
        assertUsageError("--text-file: input file not found", "logits", "--model", model, "--text-file",
                dir.resolve("none.txt").toString(), "--output", dir.resolve("none.safetensors").toString());
        assertUsageError("--context 0", "eval", "--model", model, "--text", "x", "--context", "0");
        assertUsageError("--context 129", "eval", "--model", model, "--text", "x", "--context", "129");

        // prune: mode, targets, sources
        assertUsageError("invalid --mode 'bogus'", "prune", "--model", model, "--output", out, "--mode", "bogus",
                "--sparsity", "10");
        assertUsageError("--mode all prunes, so set --attn-width and --mlp-width, or --sparsity", "prune", "--model", model,
                "--output", out);
        assertUsageError("not both", "prune", "--model", model, "--output", out, "--sparsity", "10",
                "--attn-width", "16", "--mlp-width", "16");
        assertUsageError("--mlp-width 1000 must be in [1, 48]", "prune", "--model", model, "--output", out,
                "--attn-width", "16", "--mlp-width", "1000");
        assertUsageError("--mode ft needs the last shot's model", "prune", "--output", out, "--mode", "ft",
                "--sparsity", "10");
        assertUsageError("needs --model", "prune", "--output", out, "--sparsity", "10");
        assertUsageError("--rope keep applies only with --head-mode dims", "prune", "--model", model, "--output", out,
                "--sparsity", "10", "--rope", "keep");
        assertUsageError("invalid --scorer 'l1'", "prune", "--model", model, "--output", out, "--sparsity", "10",
                "--scorer", "l1");

        // pretrain, generate, logits, demo
        assertUsageError("multiple of --micro-batch 3", "pretrain", "--output", out, "--global-batch", "8",
                "--micro-batch", "3");
        assertUsageError("neither a preset", "pretrain", "--output", out, "--config", "huge");
        // train's spellings of the output and data options parse, so the config is what fails
        assertUsageError("neither a preset", "pretrain", "--out", out, "--train", model, "--config", "huge");
        assertUsageError("--max-new-tokens must be at least 1", "generate", "--model", model, "hi",
                "--max-new-tokens", "0");
        assertUsageError("temperature", "generate", "--model", model, "hi", "--temperature", "-1");
        assertUsageError("outside the vocabulary [0, 8192)", "logits", "--model", model, "--ids", "1,8192",
                "--output", out);
        assertUsageError("invalid --size 'huge'", "demo", "--size", "huge");
        assertUsageError("--keep 0", "demo", "--keep", "0");
        assertUsageError("Unknown option", "demo", "--bogus");
    }

    @Test
    void helpNamesUnitsAndDefaults() {
        for (String command : List.of("pretrain", "prune", "eval", "generate", "logits", "demo")) {
            Run run = run(command, "--help");
            assertEquals(0, run.code(), command);
            assertTrue(run.out().contains("Usage: transact " + command), command + ": " + run.out());
        }
        // whitespace folded, because where picocli wraps a description depends on the option column
        assertTrue(run("prune", "--help").out().replaceAll("\\s+", " ")
                .contains("Pruning shots, each followed by training. Default: 3, and with --mode ft"));
        assertTrue(run("demo", "--help").out().replaceAll("\\s+", " ").contains("Default: 200000"));
        assertTrue(run("eval", "--help").out().contains("TOKENS"));
    }

    @Test
    void logitsMatchTheModel() throws Exception {
        Path file = dir.resolve("logits.safetensors");
        Run run = run("logits", "--model", modelDir.toString(), "--ids", "0,5,17,300", "--output", file.toString());
        assertEquals(0, run.code(), run.err());
        float[] expected;
        try (GradMode.Scope scope = GradMode.noGrad()) {
            expected = model.logits(new int[] {0, 5, 17, 300}, 1, 4).contiguous().data();
        }
        SafeTensorsFile written = SafeTensorsFile.open(file);
        assertArrayEquals(new long[] {0, 5, 17, 300}, written.readLongs("input_ids"));
        assertArrayEquals(expected, written.readFloat32("logits"), 1e-6f);
    }

    @Test
    void evalAndGenerateRunOnText() throws Exception {
        Path text = dir.resolve("text.txt");
        Files.writeString(text, String.join("\n", dev.transact4j.train.corpus.BrownCorpus.validParagraphs().subList(0, 3)));
        Run eval = run("eval", "--model", modelDir.toString(), "--text", text.toString(), "--context", "32",
                "--stride", "16");
        assertEquals(0, eval.code(), eval.err());
        assertTrue(eval.out().startsWith("perplexity "), eval.out());
        double perplexity = Double.parseDouble(eval.out().split(" ")[1]);
        // an untrained model is close to uniform over the vocabulary
        assertTrue(perplexity > 1000, "perplexity " + perplexity);
        assertTrue(perplexity < 40_000, "perplexity " + perplexity);

        Run generate = run("generate", "--model", modelDir.toString(), "The jury", "--temperature", "0",
                "--max-new-tokens", "5");
        assertEquals(0, generate.code(), generate.err());
        assertTrue(generate.out().startsWith("The jury"), generate.out());
        assertTrue(generate.err().contains("generation: 5 tokens"), generate.err());
    }

    @Test
    void longPromptRejectedBeforeOutput() {
        // the model has 128 positions, and every word is at least one token
        String prompt = String.join(" ", java.util.Collections.nCopies(200, "jury"));
        Run run = run("generate", "--model", modelDir.toString(), prompt, "--max-new-tokens", "1");
        assertEquals(TransactCommand.EXIT_USAGE, run.code());
        assertTrue(run.err().contains("more than the model's max_position_embeddings 128; shorten the prompt"),
                run.err());
        assertEquals("", run.out());
    }

    @Test
    void logitsTextFileReadsItsContent() throws Exception {
        Path text = dir.resolve("prompt.txt");
        Files.writeString(text, "The jury said");
        Path fromText = dir.resolve("from-text.safetensors");
        Path fromFile = dir.resolve("from-file.safetensors");
        assertEquals(0, run("logits", "--model", modelDir.toString(), "--text", "The jury said",
                "--output", fromText.toString()).code());
        assertEquals(0, run("logits", "--model", modelDir.toString(), "--text-file", text.toString(),
                "--output", fromFile.toString()).code());
        assertArrayEquals(SafeTensorsFile.open(fromText).readFloat32("logits"),
                SafeTensorsFile.open(fromFile).readFloat32("logits"));

        // a file name given to --text is what the user meant to read
        Run run = run("logits", "--model", modelDir.toString(), "--text", text.toString(),
                "--output", dir.resolve("wrong.safetensors").toString());
        assertEquals(TransactCommand.EXIT_USAGE, run.code());
        assertTrue(run.err().contains("--text takes the text itself, and " + text + " names a file; pass"
                + " --text-file " + text + " to read it"), run.err());

        Run directory = run("logits", "--model", modelDir.toString(), "--text-file", dir.toString(),
                "--output", dir.resolve("dir.safetensors").toString());
        assertEquals(TransactCommand.EXIT_USAGE, directory.code());
        assertTrue(directory.err().contains("--text-file " + dir + " is a directory; pass a text file"),
                directory.err());
    }

    @Test
    void evalNamesBadModelsAndInputs() throws Exception {
        Path text = dir.resolve("some.txt");
        Files.writeString(text, "The jury said it did find that the election was conducted.");

        // a file where the model directory belongs
        assertUsageError("is a file, not a model directory", "eval", "--model", text.toString(), "--text",
                text.toString());

        // an empty text file is named, with what to do
        Path empty = Files.createFile(dir.resolve("empty.txt"));
        Run emptyRun = run("eval", "--model", modelDir.toString(), "--text", empty.toString());
        assertEquals(2, emptyRun.code(), emptyRun.err());
        assertTrue(emptyRun.err().contains(empty.toString()), emptyRun.err());
        assertTrue(emptyRun.err().contains("pass a file with some text in it"), emptyRun.err());

        // a text file of even length read as uint16 token ids: the file is named, and --text suggested
        Path textAsTokens = dir.resolve("text-as-tokens.bin");
        Files.writeString(textAsTokens, "abcd");
        Run tokens = run("eval", "--model", modelDir.toString(), "--token-file", textAsTokens.toString());
        assertEquals(2, tokens.code(), tokens.err());
        assertTrue(tokens.err().contains(textAsTokens.toString()), tokens.err());
        assertTrue(tokens.err().contains("which goes to --text"), tokens.err());

        // a config that no longer fits the weights: the tensors and the advice are kept
        Path mismatched = copyModel("mismatched");
        Path config = mismatched.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("\"intermediate_size\": 48", "\"intermediate_size\": 40"));
        Run mismatch = run("eval", "--model", mismatched.toString(), "--text", text.toString());
        assertEquals(2, mismatch.code(), mismatch.err());
        assertTrue(mismatch.err().contains("3 with the wrong shape"), mismatch.err());
        assertTrue(mismatch.err().contains("wrong shape: model.layers.0.mlp.down_proj.weight"), mismatch.err());
        assertTrue(mismatch.err().contains("Use the config.json saved with these weights"), mismatch.err());
    }

    @Test
    void failedPretrainRemovesItsNewOutput() throws Exception {
        Path emptyData = Files.createDirectories(dir.resolve("empty-data"));
        Path out = dir.resolve("pretrain-failed");
        Run run = run("pretrain", "--output", out.toString(), "--data", emptyData.toString(), "--tokens", "1000");
        assertEquals(TransactCommand.EXIT_USAGE, run.code(), run.err());
        assertFalse(Files.exists(out), "the output folder this run created is gone");

        // a folder that existed before the run stays, with what it contained
        Path existing = Files.createDirectories(dir.resolve("pretrain-existing"));
        Path keep = Files.writeString(existing.resolve("notes.txt"), "mine");
        run = run("pretrain", "--output", existing.toString(), "--data", emptyData.toString(), "--tokens", "1000");
        assertEquals(TransactCommand.EXIT_USAGE, run.code(), run.err());
        assertTrue(Files.exists(keep), "a file the user put there is kept");
    }

    @Test
    void attentionWidthRoundingNoted() throws Exception {
        // two heads of 16: a width of 20 is no whole number of heads; the empty data then stops the run
        Path emptyData = Files.createDirectories(dir.resolve("empty-prune-data"));
        Run run = run("prune", "--model", modelDir.toString(), "--output", dir.resolve("rounded").toString(),
                "--attn-width", "20", "--mlp-width", "24", "--data", emptyData.toString());
        assertEquals(TransactCommand.EXIT_USAGE, run.code(), run.err());
        assertTrue(run.out().contains("Note: --attn-width 20 is not a multiple of 16, the width of one head group"),
                run.out());
        assertFalse(Files.exists(dir.resolve("rounded")), "the output folder this failed run created is gone");
    }

    @Test
    void fineTuneFindsLastSavedShot() throws Exception {
        // two shots saved by an earlier --mode prune run, here copies of the test model
        Path out = dir.resolve("two-shots");
        for (int shot = 1; shot <= 2; shot++) {
            copyModel(out.resolve("shot-" + shot).resolve("model"));
        }
        Run nothing = run("prune", "--output", out.toString(), "--mode", "ft", "--ft-tokens", "0", "--seq-len", "32",
                "--eval-batches", "1");
        assertEquals(TransactCommand.EXIT_USAGE, nothing.code());
        assertTrue(nothing.err().contains("fine-tuning with 0 tokens has nothing to do"), nothing.err());

        Run run = run("prune", "--output", out.toString(), "--mode", "ft", "--ft-tokens", "512", "--seq-len", "32",
                "--eval-batches", "1");
        assertEquals(0, run.code(), run.err());
        assertTrue(Files.isRegularFile(out.resolve("finetune/model/model.safetensors")), "fine-tuned model saved");

        // a second fine-tuning needs the first one out of the way
        Run again = run("prune", "--output", out.toString(), "--mode", "ft", "--ft-tokens", "512", "--seq-len", "32");
        assertEquals(TransactCommand.EXIT_USAGE, again.code());
        assertTrue(again.err().contains("already holds a fine-tuning run in " + out.resolve("finetune")
                + "; remove or rename that folder to fine-tune again"), again.err());
    }

    @Test
    void textThatIsNotUtf8Rejected() throws Exception {
        Path bad = dir.resolve("latin1.txt");
        Files.write(bad, new byte[] {(byte) 0xff, (byte) 0xfe, 'T', 'h', 'e', ' ', 'j', 'u', 'r', 'y'});
        assertUsageError(bad + " is not valid UTF-8 text; convert it to UTF-8", "eval", "--model",
                modelDir.toString(), "--text", bad.toString());
        assertUsageError(bad + " is not valid UTF-8 text; convert it to UTF-8", "logits", "--model",
                modelDir.toString(), "--text-file", bad.toString(), "--output", dir.resolve("l.safetensors").toString());
    }

    @Test
    void nonFiniteWeightsNamed() throws Exception {
        Path text = Files.writeString(dir.resolve("nan-model.txt"), "The jury said it did find.");
        LlamaForCausalLM damaged = LlamaForCausalLM.initialize(model.config(), 11);
        damaged.namedParameters().get("model.norm.weight").data()[3] = Float.NaN;
        Path damagedDir = dir.resolve("nan-model");
        DemoRunner.withTokenizer(damaged, CorpusData.writeDemoTokenizer(dir.resolve("nan-tokenizer")))
                .save(damagedDir, dev.transact4j.nn.safetensors.DType.F32);
        String expected = "tensor model.norm.weight contains NaN at element 3; the weights are damaged";
        assertUsageError(expected, "eval", "--model", damagedDir.toString(), "--text", text.toString());
        assertUsageError(expected, "generate", "--model", damagedDir.toString(), "The jury");
    }

    @Test
    void modelFilesOfWrongTypeNamed() throws Exception {
        Path text = dir.resolve("wrong-type.txt");
        Files.writeString(text, "The jury said it did find that the election was conducted.");

        // config.json as a directory
        Path configDir = copyModel("config-dir");
        Files.delete(configDir.resolve("config.json"));
        Files.createDirectory(configDir.resolve("config.json"));
        assertUsageError(configDir.resolve("config.json") + " is a directory; a model directory needs config.json as a"
                + " file", "eval", "--model", configDir.toString(), "--text", text.toString());

        // model.safetensors as a directory
        Path weightsDir = copyModel("weights-dir");
        Files.delete(weightsDir.resolve("model.safetensors"));
        Files.createDirectory(weightsDir.resolve("model.safetensors"));
        assertUsageError(weightsDir.resolve("model.safetensors") + " is a directory, not a file; replace it with the"
                + " model's model.safetensors file", "eval", "--model", weightsDir.toString(), "--text", text.toString());

        // no weights at all: the reason, given once
        Path noWeights = copyModel("no-weights");
        Files.delete(noWeights.resolve("model.safetensors"));
        Run run = run("eval", "--model", noWeights.toString(), "--text", text.toString());
        assertEquals(TransactCommand.EXIT_USAGE, run.code());
        assertEquals("transact eval: no weights in " + noWeights + ": neither model.safetensors nor"
                + " model.safetensors.index.json exists; copy the weights of the model into the directory",
                run.err().strip());
    }

    /** Copies the saved model directory to {@code name} under the test directory. */
    private static Path copyModel(String name) throws Exception {
        return copyModel(dir.resolve(name));
    }

    /** Copies the saved model directory to the directory {@code copy}, created with its parents. */
    private static Path copyModel(Path copy) throws Exception {
        Files.createDirectories(copy);
        try (var files = Files.list(modelDir)) {
            for (Path file : files.toList()) {
                Files.copy(file, copy.resolve(file.getFileName()));
            }
        }
        return copy;
    }

    @Test
    void shortenedKeepsHeadAndLastLine() {
        StringBuilder message = new StringBuilder("summary");
        for (int i = 0; i < 20; i++) {
            message.append("\n  item ").append(i);
        }
        message.append("\nadvice");

        List<String> lines = CliModels.shortened(message.toString()).lines().toList();

        assertEquals(CliModels.MAX_MESSAGE_LINES + 2, lines.size());
        assertEquals("summary", lines.get(0));
        assertEquals("  ... 13 more lines", lines.get(CliModels.MAX_MESSAGE_LINES));
        assertEquals("advice", lines.get(lines.size() - 1));
        assertEquals("one line", CliModels.shortened("one line"));
    }

    /** Runs {@code args} and returns the one stderr line after checking the usage exit code and the line count. */
    private static String usageError(String... args) {
        Run run = run(args);
        assertEquals(2, run.code(), String.join(" ", args) + ": " + run.err());
        List<String> lines = run.err().strip().lines().toList();
        assertEquals(1, lines.size(), "one line expected, got: " + run.err());
        return lines.get(0);
    }

    /** Writes the first half of the demo tokenizer.json, as a copy cut short would leave it. */
    private static Path truncatedTokenizer(Path file) throws Exception {
        String whole = Files.readString(modelDir.resolve("tokenizer.json"));
        Files.createDirectories(file.getParent());
        return Files.writeString(file, whole.substring(0, whole.length() / 2));
    }

    /** Checks the one-line report of the truncated tokenizer {@code file} by {@code command}. */
    private static void assertInvalidJson(String command, Path file, String line) throws Exception {
        long lines = Files.readString(file).lines().count();
        String prefix = "transact " + command + ": " + file + ": invalid JSON at line " + lines + ", column ";
        assertTrue(line.startsWith(prefix), line);
        assertTrue(line.substring(prefix.length()).matches("\\d+ \\(Unexpected end-of-input[^\\[\\]]*\\)\\."
                + " Fix the file or restore it from the model's source\\."), line);
        assertFalse(line.contains("Source:"), line);
        assertFalse(line.contains("StreamReadFeature"), line);
        assertFalse(line.contains("start marker"), line);
    }

    @Test
    void truncatedTokenizerNamesLine() throws Exception {
        // generate reads the tokenizer.json of the model directory
        Path copy = dir.resolve("truncated-model");
        Files.createDirectories(copy);
        try (var files = Files.list(modelDir)) {
            for (Path file : files.toList()) {
                Files.copy(file, copy.resolve(file.getFileName()));
            }
        }
        Path inModel = truncatedTokenizer(copy.resolve("tokenizer.json"));
        assertInvalidJson("generate", inModel, usageError("generate", "--model", copy.toString(), "hi"));

        // eval and pretrain read the file given with --tokenizer
        Path bad = truncatedTokenizer(dir.resolve("bad-tokenizer").resolve("bad.json"));
        Path text = Files.writeString(dir.resolve("eval-text.txt"), "The jury said it did find.");
        assertInvalidJson("eval", bad, usageError("eval", "--model", modelDir.toString(), "--text", text.toString(),
                "--tokenizer", bad.toString()));
        assertInvalidJson("pretrain", bad, usageError("pretrain", "--output", dir.resolve("bad-tok-out").toString(),
                "--tokenizer", bad.toString()));
    }

    @Test
    void pretrainDataErrorsNameItsOptions() throws Exception {
        Path out = dir.resolve("pretrain-data");

        Path empty = Files.createDirectories(dir.resolve("empty-data"));
        assertEquals("transact pretrain: Dataset directory " + empty + " contains no file matching *.txt (searched"
                + " recursively). Add *.txt files (one document each) to the directory, or pass one *.jsonl or *.bin"
                + " file. (see --help)", usageError("pretrain", "--output", out.toString(), "--data", empty.toString()));

        Path jsonl = Files.writeString(dir.resolve("no-text.jsonl"), "{\"body\": \"The jury said.\"}\n");
        assertEquals("transact pretrain: Line 1 of " + jsonl + " has no \"text\" field. Give every line a \"text\""
                + " field that contains the document. (see --help)",
                usageError("pretrain", "--output", out.toString(), "--data", jsonl.toString()));

        Path tiny = Files.writeString(dir.resolve("tiny.txt"), "The jury said");
        String line = usageError("pretrain", "--output", out.toString(), "--data", tiny.toString());
        assertTrue(line.matches("transact pretrain: Dataset \\Q" + tiny + "\\E has \\d+ tokens, but a sequence"
                + " length of 128 needs at least 129 tokens for one block\\. Add data or lower --seq-len\\."
                + " \\(see --help\\)"), line);
        assertFalse(line.contains("cache"), line);
        assertFalse(line.contains("seq_len"), line);
    }

    @Test
    void pretrainBlocksShortOfMicroBatchNamed() throws Exception {
        // three blocks of 9 tokens: one goes to validation and two are left, fewer than a micro-batch of 8
        Path ids = dir.resolve("three-blocks.bin");
        byte[] bytes = new byte[2 * 27];
        for (int i = 0; i < 27; i++) {
            bytes[2 * i] = (byte) (1 + i);
        }
        Files.write(ids, bytes);

        String line = usageError("pretrain", "--output", dir.resolve("pretrain-batch").toString(), "--data",
                ids.toString(), "--seq-len", "8");

        assertEquals("transact pretrain: Dataset " + ids + " has 2 blocks of 9 tokens, fewer than the micro-batch size"
                + " 8. Add data, lower --seq-len or lower --micro-batch. (see --help)", line);
    }
}
