package dev.transact4j.e2e.tokenizer;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * Hugging Face's Rust tokenizers through DJL's JNI binding, with truncation and padding off and
 * only tokenizer.json in its directory.
 */
final class DjlOracle implements AutoCloseable {
    /** The real tokenizer files committed with the llama module's tests, relative to the e2e module. */
    static final Path TOKENIZERS = Path.of("..", "llama", "src", "test", "resources", "tokenizers");

    private final HuggingFaceTokenizer tokenizer;

    DjlOracle(Path tokenizerJson) throws IOException {
        tokenizer = HuggingFaceTokenizer.builder()
                .optTokenizerPath(tokenizerJson)
                .optTruncation(false)
                .optPadding(false)
                .build();
    }

    /** Unpacks {@code name}/tokenizer.json.gz from {@link #TOKENIZERS} into {@code dir}/tokenizer.json. */
    static Path unpack(String name, Path dir) throws IOException {
        Path source = TOKENIZERS.resolve(name).resolve("tokenizer.json.gz");
        if (!Files.isRegularFile(source)) {
            throw new IllegalStateException(source.toAbsolutePath() + " is missing; run the tests from the e2e module");
        }
        Files.createDirectories(dir);
        Path file = dir.resolve("tokenizer.json");
        try (InputStream in = new GZIPInputStream(Files.newInputStream(source))) {
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
        }
        return file;
    }

    int[][] encodeAll(List<String> texts, boolean addSpecialTokens) {
        Encoding[] encodings = tokenizer.batchEncode(texts, addSpecialTokens, false);
        int[][] out = new int[encodings.length][];
        for (int i = 0; i < encodings.length; i++) {
            out[i] = toInts(encodings[i].getIds());
        }
        return out;
    }

    int[] encode(String text, boolean addSpecialTokens) {
        return toInts(tokenizer.encode(text, addSpecialTokens, false).getIds());
    }

    /** Returns the offsets of each token as "start-end" in code points, "none" for template tokens. */
    List<String> offsets(String text) {
        List<String> out = new java.util.ArrayList<>();
        for (ai.djl.huggingface.tokenizers.jni.CharSpan span : tokenizer.encode(text, true, false).getCharTokenSpans()) {
            out.add(span == null ? "none" : span.getStart() + "-" + span.getEnd());
        }
        return out;
    }

    String decode(int[] ids, boolean skipSpecialTokens) {
        long[] longs = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            longs[i] = ids[i];
        }
        return tokenizer.decode(longs, skipSpecialTokens);
    }

    private static int[] toInts(long[] ids) {
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = Math.toIntExact(ids[i]);
        }
        return out;
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
