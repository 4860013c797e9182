package dev.transact4j.bench;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.transact4j.llama.tokenizer.Tokenizer;
import dev.transact4j.train.corpus.BrownCorpus;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.zip.GZIPInputStream;

/**
 * Encode throughput of our tokenizer and of Hugging Face's Rust tokenizers (through DJL's JNI
 * binding) on the Brown training split, written to bench/results/tokenizer.md.
 *
 * <p>Run from the repository root after {@code mvn -B -ntp -DskipTests install}:
 * {@code mvn -B -ntp -q -pl bench exec:java -Dexec.mainClass=dev.transact4j.bench.TokenizerBench
 * -Dexec.classpathScope=test}. Each measurement is the best of {@link #PASSES} passes over all
 * paragraphs after one warm-up pass, one paragraph per call, on one thread (DJL's single encode
 * runs on the calling thread).
 */
public final class TokenizerBench {
    private static final int PASSES = 3;

    private TokenizerBench() {
    }

    public static void main(String[] args) throws Exception {
        Path root = Path.of(args.length > 0 ? args[0] : ".").toAbsolutePath().normalize();
        if (!Files.isDirectory(root.resolve("llama"))) {
            root = root.getParent();
        }
        Path temp = Files.createTempDirectory("tokenizer-bench");
        List<String> paragraphs = BrownCorpus.trainParagraphs();
        long chars = 0;
        long bytes = 0;
        for (String p : paragraphs) {
            chars += p.length();
            bytes += p.getBytes(StandardCharsets.UTF_8).length;
        }

        List<String[]> rows = new ArrayList<>();
        for (String name : List.of("demo (Brown 8192)", "mistral-7b", "qwen3")) {
            Path file = temp.resolve(name.replaceAll("[^a-z0-9-]", "")).resolve("tokenizer.json");
            Files.createDirectories(file.getParent());
            if (name.startsWith("demo")) {
                try (InputStream in = BrownCorpus.class.getResourceAsStream(BrownCorpus.TOKENIZER_RESOURCE)) {
                    Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
                }
            } else {
                Path gz = root.resolve("llama/src/test/resources/tokenizers").resolve(name).resolve("tokenizer.json.gz");
                try (InputStream in = new GZIPInputStream(Files.newInputStream(gz))) {
                    Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
                }
            }

            long loadStart = System.nanoTime();
            Tokenizer ours = Tokenizer.load(file);
            double oursLoad = (System.nanoTime() - loadStart) / 1e9;
            long[] tokens = new long[1];
            double oursSeconds = best(() -> {
                long n = 0;
                for (String p : paragraphs) {
                    n += ours.encodeIds(p, true).length;
                }
                tokens[0] = n;
            });

            loadStart = System.nanoTime();
            try (HuggingFaceTokenizer hf = HuggingFaceTokenizer.builder().optTokenizerPath(file)
                    .optTruncation(false).optPadding(false).build()) {
                double hfLoad = (System.nanoTime() - loadStart) / 1e9;
                double hfSeconds = best(() -> {
                    for (String p : paragraphs) {
                        hf.encode(p, true, false);
                    }
                });
                rows.add(new String[] {name, String.valueOf(ours.vocabSize()), String.valueOf(tokens[0]),
                    format(chars / oursSeconds), format(chars / hfSeconds),
                    String.format(Locale.ROOT, "%.2f", hfSeconds / oursSeconds),
                    String.format(Locale.ROOT, "%.2f / %.2f", oursLoad, hfLoad)});
            }
            System.out.println(String.join(" | ", rows.get(rows.size() - 1)));
        }
        write(root.resolve("bench/results/tokenizer.md"), rows, paragraphs.size(), chars, bytes);
    }

    private static double best(Runnable pass) {
        pass.run();
        double best = Double.MAX_VALUE;
        for (int i = 0; i < PASSES; i++) {
            long start = System.nanoTime();
            pass.run();
            best = Math.min(best, (System.nanoTime() - start) / 1e9);
        }
        return best;
    }

    private static String format(double charsPerSecond) {
        return String.format(Locale.ROOT, "%.2f M", charsPerSecond / 1e6);
    }

    private static void write(Path out, List<String[]> rows, int paragraphs, long chars, long bytes) throws IOException {
        StringBuilder b = new StringBuilder();
        b.append("# Tokenizer encode throughput\n\n");
        b.append("Encoding every paragraph of the Brown training split (").append(paragraphs).append(" paragraphs, ")
                .append(chars).append(" chars, ").append(bytes).append(" bytes of UTF-8), one paragraph per call with "
                + "special tokens added, on one thread. Throughput is the best of ")
                .append(PASSES).append(" passes after one warm-up pass, in millions of chars per second. "
                + "\"HF\" is Hugging Face's Rust `tokenizers` through DJL's JNI binding "
                + "(ai.djl.huggingface:tokenizers 0.38.0), whose per-call cost includes the JNI transfer. "
                + "Load is the time to read tokenizer.json, in seconds.\n\n");
        b.append("| tokenizer | vocab | tokens | ours (chars/s) | HF (chars/s) | ours / HF speed | load ours / HF (s) |\n");
        b.append("|---|---|---|---|---|---|---|\n");
        for (String[] r : rows) {
            b.append("| ").append(String.join(" | ", r)).append(" |\n");
        }
        b.append("\nMachine: ").append(cpuModel()).append(", ").append(Runtime.getRuntime().availableProcessors())
                .append(" cores visible, load average ").append(loadAverage()).append(" at the end (other jobs share "
                + "the machine, so the numbers are noisy); JDK ")
                .append(System.getProperty("java.version")).append(" (").append(System.getProperty("java.vm.name"))
                .append(").\n\nCommand: `mvn -B -ntp -DskipTests install && mvn -B -ntp -q -pl bench exec:java "
                + "-Dexec.mainClass=dev.transact4j.bench.TokenizerBench -Dexec.classpathScope=test`\n");
        Files.createDirectories(out.getParent());
        Path tmp = out.resolveSibling(out.getFileName() + ".tmp");
        Files.writeString(tmp, b.toString());
        Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        System.out.println("wrote " + out);
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException e) {
            return "unknown CPU";
        }
        return "unknown CPU";
    }
}
