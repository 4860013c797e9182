package dev.transact4j.train.trainer;

import dev.transact4j.train.corpus.BrownCorpus;
import dev.transact4j.train.data.DatasetLoader;
import dev.transact4j.train.data.DatasetSource;
import dev.transact4j.train.data.ProgressListener;
import dev.transact4j.train.data.TokenEncoder;
import dev.transact4j.train.data.TrainingData;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Real text for the trainer tests: the first paragraphs of the Brown corpus's training and
 * validation splits, one file each, tokenised as UTF-8 bytes (ids 0 to 255, EOS 256).
 */
final class BrownBytes {

    static final int VOCAB_SIZE = 257;
    static final int EOS = 256;
    static final int SEQ_LEN = 31;

    private BrownBytes() {
    }

    static final TokenEncoder ENCODER = TokenEncoder.of("utf8-bytes", EOS, text -> {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        int[] ids = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            ids[i] = Byte.toUnsignedInt(bytes[i]);
        }
        return ids;
    });

    /** Writes {@code trainParagraphs} and {@code validParagraphs} paragraphs under {@code dir} and prepares their blocks. */
    static TrainingData prepare(Path dir, int trainParagraphs, int validParagraphs) throws IOException {
        Path trainDir = dir.resolve("train");
        Path validDir = dir.resolve("valid");
        Files.createDirectories(trainDir);
        Files.createDirectories(validDir);
        writeParagraphs(trainDir.resolve("brown.txt"), BrownCorpus.trainParagraphs(), trainParagraphs);
        writeParagraphs(validDir.resolve("brown.txt"), BrownCorpus.validParagraphs(), validParagraphs);
        DatasetLoader loader = new DatasetLoader(dir.resolve("cache"), ENCODER, ProgressListener.NONE);
        return TrainingData.prepare(loader, DatasetSource.text(trainDir), DatasetSource.text(validDir), 0, SEQ_LEN,
                VOCAB_SIZE);
    }

    private static void writeParagraphs(Path file, List<String> paragraphs, int count) throws IOException {
        if (paragraphs.size() < count) {
            throw new IllegalStateException("the corpus has " + paragraphs.size() + " paragraphs, fewer than " + count);
        }
        Files.writeString(file, String.join("\n", paragraphs.subList(0, count)), StandardCharsets.UTF_8);
    }
}
