package dev.transact4j.train.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Location and format of a dataset. A source may be one file or a directory, which is searched
 * recursively for file names matching a glob and read in sorted order of their relative paths.
 */
public final class DatasetSource {

    /** Layout of the source files. */
    public enum Format {
        /** Plain UTF-8 text; each file is one document. */
        TEXT,
        /** JSON Lines; each line is one document whose text is in a string field. */
        JSONL_TEXT,
        /** JSON Lines; each line is one document whose ids are in an array-of-integers field. */
        JSONL_IDS,
        /** Flat token files as nanoGPT or llm.c writes them, one file or a directory of shards. */
        TOKEN_FILE
    }

    private final Format format;
    private final Path path;
    private final String field;
    private final String filePattern;
    private final TokenDtype rawDtype;

    private DatasetSource(Format format, Path path, String field, String filePattern, TokenDtype rawDtype) {
        this.format = format;
        this.path = Objects.requireNonNull(path, "path");
        this.field = field;
        this.filePattern = filePattern;
        this.rawDtype = rawDtype;
    }

    /** Creates a source of plain text from a file, or from the {@code *.txt} files under a directory. */
    public static DatasetSource text(Path fileOrDirectory) {
        return new DatasetSource(Format.TEXT, fileOrDirectory, null, "*.txt", null);
    }

    /**
     * Creates a JSON Lines source with the text in field {@code text}, from a file or the
     * {@code *.jsonl} files under a directory.
     */
    public static DatasetSource jsonlText(Path fileOrDirectory) {
        return new DatasetSource(Format.JSONL_TEXT, fileOrDirectory, "text", "*.jsonl", null);
    }

    /**
     * Creates a JSON Lines source with token ids in field {@code input_ids}, from a file or the
     * {@code *.jsonl} files under a directory.
     */
    public static DatasetSource jsonlInputIds(Path fileOrDirectory) {
        return new DatasetSource(Format.JSONL_IDS, fileOrDirectory, "input_ids", "*.jsonl", null);
    }

    /**
     * Creates a source for a flat token file, or for the {@code *.bin} shards under a directory,
     * concatenated in order. An llm.c header is detected by its magic and sets the width itself.
     *
     * @param rawDtype width of the ids in a file without a header: uint16 for nanoGPT's {@code .bin}
     */
    public static DatasetSource tokenFile(Path fileOrDirectory, TokenDtype rawDtype) {
        return new DatasetSource(Format.TOKEN_FILE, fileOrDirectory, null, "*.bin",
                Objects.requireNonNull(rawDtype, "rawDtype"));
    }

    /** Returns a copy that reads the JSON field {@code name}. */
    public DatasetSource withField(String name) {
        if (format != Format.JSONL_TEXT && format != Format.JSONL_IDS) {
            throw new IllegalArgumentException("withField: a " + format + " source has no JSON field");
        }
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("withField: the field name must not be empty");
        }
        return new DatasetSource(format, path, name, filePattern, rawDtype);
    }

    /** Returns a copy that selects directory entries whose file name matches {@code glob}, such as {@code *.md}. */
    public DatasetSource withFilePattern(String glob) {
        if (glob == null || glob.isEmpty()) {
            throw new IllegalArgumentException("withFilePattern: the pattern must not be empty");
        }
        return new DatasetSource(format, path, field, glob, rawDtype);
    }

    public Format format() {
        return format;
    }

    public Path path() {
        return path;
    }

    /** Returns the JSON field read, or null for text and token files. */
    public String field() {
        return field;
    }

    /** Returns the glob applied to file names under a directory. */
    public String filePattern() {
        return filePattern;
    }

    /** Returns the width of a token file without header, or null for other formats. */
    public TokenDtype rawDtype() {
        return rawDtype;
    }

    /**
     * Lists the files to read, in order.
     *
     * @throws DatasetException when the path does not exist or a directory has no matching file
     */
    public List<Path> files() throws IOException {
        if (Files.isRegularFile(path)) {
            return List.of(path);
        }
        if (!Files.isDirectory(path)) {
            throw new DatasetException("Dataset path not found: " + path + ". Give an existing file or directory.");
        }
        PathMatcher matcher = FileSystems.getDefault().getPathMatcher("glob:" + filePattern);
        List<Path> files;
        try (Stream<Path> walk = Files.walk(path)) {
            files = walk.filter(Files::isRegularFile)
                    .filter(p -> matcher.matches(p.getFileName()))
                    .sorted(Comparator.comparing(this::relativeName))
                    .collect(Collectors.toList());
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        if (files.isEmpty()) {
            throw new DatasetException(DatasetException.Kind.NO_MATCHING_FILES, "Dataset directory " + path
                    + " contains no file matching " + filePattern + " (searched recursively).",
                    "Add files or choose another file pattern.");
        }
        return files;
    }

    /** Relative path with '/' separators, so the order is the same on every platform. */
    private String relativeName(Path file) {
        return path.relativize(file).toString().replace(file.getFileSystem().getSeparator(), "/");
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder(format.name().toLowerCase(Locale.ROOT)).append(' ').append(path);
        if (field != null) {
            s.append(" field=").append(field);
        }
        if (rawDtype != null) {
            s.append(" dtype=").append(rawDtype.jsonName());
        }
        return s.toString();
    }
}
