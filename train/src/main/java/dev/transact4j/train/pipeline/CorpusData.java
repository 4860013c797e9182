package dev.transact4j.train.pipeline;

import dev.transact4j.llama.tokenizer.Tokenizer;
import dev.transact4j.nn.io.AtomicFiles;
import dev.transact4j.train.corpus.BrownCorpus;
import dev.transact4j.train.data.DatasetLoader;
import dev.transact4j.train.data.DatasetSource;
import dev.transact4j.train.data.ProgressListener;
import dev.transact4j.train.data.TokenEncoder;
import dev.transact4j.train.data.TrainingData;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The embedded Brown corpus and demo tokenizer, written to files so that the dataset code can read and cache them. */
public final class CorpusData {

    /** File names of the demo tokenizer, as a model directory contains them. */
    public static final List<String> TOKENIZER_FILES = List.of("tokenizer.json", "tokenizer_config.json");

    private CorpusData() {
    }

    /**
     * Writes the demo tokenizer's files into {@code directory} and returns them by file name, ready
     * to be copied into saved models.
     */
    public static Map<String, Path> writeDemoTokenizer(Path directory) throws IOException {
        Files.createDirectories(directory);
        Map<String, Path> files = new LinkedHashMap<>();
        for (String name : TOKENIZER_FILES) {
            String resource = "/dev/transact4j/train/corpus/" + name;
            try (InputStream in = BrownCorpus.class.getResourceAsStream(resource)) {
                if (in == null) {
                    throw new IllegalStateException("resource " + resource + " is missing from the classpath; "
                            + "it belongs to the transact4j-train jar");
                }
                Path target = directory.resolve(name);
                AtomicFiles.write(target, in.readAllBytes());
                files.put(name, target);
            }
        }
        return files;
    }

    /** Returns an encoder over {@code tokenizer} without special tokens, identified by the SHA-256 of {@code tokenizerJson}. */
    public static TokenEncoder encoder(Tokenizer tokenizer, Path tokenizerJson) throws IOException {
        int eos = tokenizer.tokenToId("<|end_of_text|>").orElseThrow(() -> new IllegalArgumentException(
                "tokenizer " + tokenizerJson + " has no <|end_of_text|> token; use the demo tokenizer"));
        return TokenEncoder.of(TokenEncoder.sha256Of(tokenizerJson), eos, text -> tokenizer.encodeIds(text, false));
    }

    /**
     * Writes the first {@code trainChars} characters of Brown's training split and the first
     * {@code validChars} of its validation split (whole paragraphs, at least one) under
     * {@code directory}, then tokenizes, caches and packs them into blocks of {@code seqLen}.
     */
    public static TrainingData brown(Path directory, TokenEncoder encoder, long trainChars, long validChars,
                                     int seqLen, int vocabSize) throws IOException {
        Files.createDirectories(directory);
        Path train = writeSlice(directory.resolve("brown-train.txt"), BrownCorpus.trainParagraphs(), trainChars);
        Path valid = writeSlice(directory.resolve("brown-valid.txt"), BrownCorpus.validParagraphs(), validChars);
        DatasetLoader loader = new DatasetLoader(directory.resolve("cache"), encoder, ProgressListener.NONE);
        return TrainingData.prepare(loader, DatasetSource.text(train), DatasetSource.text(valid), 0, seqLen, vocabSize);
    }

    private static Path writeSlice(Path file, List<String> paragraphs, long maxChars) {
        StringBuilder text = new StringBuilder();
        for (String paragraph : paragraphs) {
            if (text.length() > 0 && text.length() + paragraph.length() > maxChars) {
                break;
            }
            text.append(paragraph).append("\n\n");
        }
        try {
            byte[] bytes = text.toString().getBytes(StandardCharsets.UTF_8);
            // an unchanged file keeps its mtime, so the token cache stays valid
            if (Files.exists(file) && java.util.Arrays.equals(Files.readAllBytes(file), bytes)) {
                return file;
            }
            AtomicFiles.write(file, bytes);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }
}
