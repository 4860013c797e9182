package dev.transact4j.llama.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.zip.GZIPInputStream;

/**
 * Hugging Face's Rust tokenizers (through DJL's JNI binding), the reference our tokenizer must
 * match. Truncation and padding are off; only tokenizer.json is given to it, so no
 * tokenizer_config.json setting changes its behaviour.
 */
final class HfOracle implements AutoCloseable {
    final HuggingFaceTokenizer tokenizer;

    private HfOracle(HuggingFaceTokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    static HfOracle load(Path tokenizerJson) {
        try {
            return new HfOracle(HuggingFaceTokenizer.builder()
                    .optTokenizerPath(tokenizerJson)
                    .optTruncation(false)
                    .optPadding(false)
                    .build());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    int[] encode(String text, boolean addSpecialTokens) {
        long[] ids = tokenizer.encode(text, addSpecialTokens, false).getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = Math.toIntExact(ids[i]);
        }
        return out;
    }

    /**
     * Returns the oracle's offsets as "start-end" per token, in code points (Rust chars), with
     * "none" for tokens added by the post-processor.
     */
    java.util.List<String> offsets(String text) {
        java.util.List<String> out = new java.util.ArrayList<>();
        for (ai.djl.huggingface.tokenizers.jni.CharSpan span : tokenizer.encode(text, true, false).getCharTokenSpans()) {
            out.add(span == null ? "none" : span.getStart() + "-" + span.getEnd());
        }
        return out;
    }

    /** Converts our UTF-16 offsets to the oracle's form (see {@link #offsets}). */
    static java.util.List<String> codePointOffsets(Tokenizer tokenizer, String text, Encoding encoding) {
        java.util.List<String> out = new java.util.ArrayList<>();
        for (int i = 0; i < encoding.size(); i++) {
            int start = encoding.start(i);
            int end = encoding.end(i);
            boolean added = start == 0 && end == 0 && tokenizer.isSpecial(encoding.ids()[i]);
            out.add(added ? "none" : text.codePointCount(0, start) + "-" + text.codePointCount(0, end));
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

    @Override
    public void close() {
        tokenizer.close();
    }

    /** Unpacks a gzip test resource into {@code directory}/tokenizer.json and returns that path. */
    static Path unpackResource(String resource, Path directory) {
        try (InputStream in = HfOracle.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("test resource " + resource + " is missing");
            }
            Files.createDirectories(directory);
            Path file = directory.resolve("tokenizer.json");
            Files.copy(new GZIPInputStream(in), file, StandardCopyOption.REPLACE_EXISTING);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
