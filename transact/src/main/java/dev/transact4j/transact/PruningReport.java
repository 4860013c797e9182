package dev.transact4j.transact;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.transact4j.nn.io.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The report of a pruning run: one {@link ShotReport} per shot, in order, written as JSON for
 * programs and as a Markdown summary for people.
 *
 * <p>Both files are written to a temporary file in the target directory and renamed into place,
 * so a reader never sees a partial report. A multi-shot run appends each shot with
 * {@link #withShot} and rewrites both files.
 *
 * @param formatVersion the JSON layout version, {@value #FORMAT_VERSION} for this class
 * @param shots         the shots in the order they ran
 */
public record PruningReport(int formatVersion, List<ShotReport> shots) {

    /** The JSON layout version this class writes and reads. */
    public static final int FORMAT_VERSION = 1;

    /** The file name {@link #write(Path)} gives the JSON report. */
    public static final String JSON_FILE = "pruning-report.json";

    /** The file name {@link #write(Path)} gives the Markdown summary. */
    public static final String MARKDOWN_FILE = "pruning-report.md";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /**
     * Checks the version and copies the shot list.
     *
     * @throws IllegalArgumentException when the version is not {@value #FORMAT_VERSION}
     */
    public PruningReport {
        if (formatVersion != FORMAT_VERSION) {
            throw new IllegalArgumentException("PruningReport: format version " + formatVersion + " is not supported;"
                    + " this version of transact4j reads version " + FORMAT_VERSION);
        }
        shots = List.copyOf(shots == null ? List.of() : shots);
    }

    /** Returns a report without shots. */
    public static PruningReport empty() {
        return new PruningReport(FORMAT_VERSION, List.of());
    }

    /** Returns this report with {@code shot} appended. */
    public PruningReport withShot(ShotReport shot) {
        List<ShotReport> all = new ArrayList<>(shots);
        all.add(shot);
        return new PruningReport(FORMAT_VERSION, all);
    }

    // ---------------------------------------------------------------- JSON

    /** Returns the report as indented JSON. */
    public String toJson() {
        try {
            return JSON.writeValueAsString(this) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("PruningReport.toJson: failed to serialize the report", e);
        }
    }

    /**
     * Reads a report from JSON written by {@link #toJson()}.
     *
     * @throws IllegalArgumentException when the text is not a valid report, with the reason
     */
    public static PruningReport fromJson(String json) {
        try {
            return JSON.readValue(json, PruningReport.class);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("Invalid pruning report JSON: " + e.getOriginalMessage(), e);
        }
    }

    /**
     * Reads a report written by {@link #writeJson(Path)}, for example to append the next shot.
     *
     * @throws IllegalArgumentException when the file is missing or is not a valid report, naming the file
     */
    public static PruningReport load(Path file) {
        String json;
        try {
            json = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("Pruning report " + file + " not found; write it with PruningReport.write first", e);
        } catch (IOException e) {
            throw new UncheckedIOException("Failed to read pruning report " + file + ": " + e.getMessage(), e);
        }
        try {
            return fromJson(json);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("Pruning report " + file + ": " + e.getMessage(), e);
        }
    }

    // ---------------------------------------------------------------- files

    /**
     * Writes {@value #JSON_FILE} and {@value #MARKDOWN_FILE} into {@code directory}, creating it if needed.
     *
     * @return the JSON file written
     */
    public Path write(Path directory) {
        try {
            Files.createDirectories(directory);
        } catch (IOException e) {
            throw new UncheckedIOException("Failed to create report directory " + directory + ": " + e.getMessage(), e);
        }
        Path json = directory.resolve(JSON_FILE);
        writeJson(json);
        writeMarkdown(directory.resolve(MARKDOWN_FILE));
        return json;
    }

    /** Writes the JSON report to {@code file} through a temporary file renamed into place. */
    public void writeJson(Path file) {
        writeAtomically(file, toJson());
    }

    /** Writes the Markdown summary to {@code file} through a temporary file renamed into place. */
    public void writeMarkdown(Path file) {
        writeAtomically(file, toMarkdown());
    }

    private static void writeAtomically(Path file, String text) {
        try {
            AtomicFiles.write(file, text.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("Failed to write pruning report " + file + ": " + e.getMessage(), e);
        }
    }

    // ---------------------------------------------------------------- Markdown

    /** Returns the Markdown summary: totals, widths, a row per layer and the score histograms of every shot. */
    public String toMarkdown() {
        StringBuilder out = new StringBuilder("# TransAct pruning report\n\n");
        if (shots.isEmpty()) {
            return out.append("No shots recorded.\n").toString();
        }
        ShotReport first = shots.get(0);
        ShotReport last = shots.get(shots.size() - 1);
        out.append(String.format(Locale.ROOT, "%d shot%s. Parameters %,d -> %,d (%s).%n%n", shots.size(),
                shots.size() == 1 ? "" : "s", first.totalBefore().parameters(), last.totalAfter().parameters(),
                change(first.totalBefore().parameters(), last.totalAfter().parameters())));
        for (ShotReport shot : shots) {
            ReportMarkdown.appendShot(out, shot);
        }
        return out.toString();
    }

    /** Returns the relative change from {@code before} to {@code after} as a signed percentage. */
    static String change(long before, long after) {
        return String.format(Locale.ROOT, "%+.2f%%", 100.0 * (after - before) / before);
    }
}
