package dev.transact4j.train.corpus;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * The Brown Corpus as plain text, embedded as resources: 14070 training paragraphs (450 files)
 * and 1597 validation paragraphs (every tenth file, 50 files), about 5.4 MB and 0.6 MB of ASCII.
 * The files are made by train/scripts/brown_to_text.py; see the README beside them.
 */
public final class BrownCorpus {
    /** Resource of the training split: one paragraph per line, paragraphs separated by an empty line. */
    public static final String TRAIN_RESOURCE = "/dev/transact4j/train/corpus/brown-train.txt.gz";
    public static final String VALID_RESOURCE = "/dev/transact4j/train/corpus/brown-valid.txt.gz";
    /** The tokenizer trained on the training split, the demo's default. */
    public static final String TOKENIZER_RESOURCE = "/dev/transact4j/train/corpus/tokenizer.json";

    private BrownCorpus() {
    }

    /** Returns the whole training split as one string. */
    public static String trainText() {
        return readResource(TRAIN_RESOURCE);
    }

    public static String validText() {
        return readResource(VALID_RESOURCE);
    }

    public static List<String> trainParagraphs() {
        return paragraphs(trainText());
    }

    public static List<String> validParagraphs() {
        return paragraphs(validText());
    }

    /** Splits text at empty lines into its non-empty lines. */
    public static List<String> paragraphs(String text) {
        List<String> out = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (!line.isEmpty()) {
                out.add(line);
            }
        }
        return out;
    }

    /** Reads a gzip-compressed UTF-8 resource of this module. */
    static String readResource(String name) {
        try (InputStream raw = BrownCorpus.class.getResourceAsStream(name)) {
            if (raw == null) {
                throw new IllegalStateException("resource " + name + " is missing from the classpath; "
                        + "it belongs to the transact4j-train jar");
            }
            try (InputStream in = new GZIPInputStream(raw)) {
                ByteArrayOutputStream out = new ByteArrayOutputStream(6 << 20);
                in.transferTo(out);
                return out.toString(StandardCharsets.UTF_8);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read resource " + name, e);
        }
    }
}
