package dev.transact4j.train.data;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.transact4j.nn.io.AtomicFiles;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tokenizes a text or JSON Lines source once into a flat token file in a cache directory, and maps
 * that file on later opens while nothing has changed.
 *
 * <p>Each dataset gets two files named after the source and a hash of its location and format:
 * {@code NAME-KEY.bin}, the ids as little-endian uint16 when every id is below 65536 and uint32
 * otherwise, and {@code NAME-KEY.json}, the sidecar. The sidecar records the tokenizer fingerprint,
 * each source file (path, size, modification time, SHA-256 and token count), the dtype, the token
 * count and the largest id. The cache is rebuilt when the fingerprint, the list of files, a file's
 * size or a file's SHA-256 differs. Every open hashes the sources again, because a same-size edit
 * can leave the modification time unchanged within the file system's clock resolution. The
 * modification time is kept only as a diagnostic.
 *
 * <p>Documents are concatenated in file order, then line order, with the EOS id after every
 * document (the last one included). Empty documents and a leading byte order mark are skipped.
 * Ids from an {@code input_ids} field are taken as given, with no EOS added, because pre-tokenized
 * data carries its own special tokens.
 */
final class TokenCache {

    static final String FORMAT = "transact4j-token-cache";
    static final int VERSION = 1;
    /** Fingerprint recorded for {@code input_ids} sources, which need no tokenizer. */
    static final String PRETOKENIZED = "pretokenized-input-ids";

    private static final Logger LOG = LoggerFactory.getLogger(TokenCache.class);
    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** One source file as recorded in the sidecar. */
    record SourceEntry(
            @JsonProperty("path") String path,
            @JsonProperty("size") long size,
            @JsonProperty("mtime") String mtime,
            @JsonProperty("sha256") String sha256,
            @JsonProperty("tokens") long tokens) {
    }

    /** The sidecar next to a cached token file. */
    record Manifest(
            @JsonProperty("format") String format,
            @JsonProperty("version") int version,
            @JsonProperty("tokenizer") String tokenizer,
            @JsonProperty("source_format") String sourceFormat,
            @JsonProperty("field") String field,
            @JsonProperty("dtype") String dtype,
            @JsonProperty("tokens") long tokens,
            @JsonProperty("max_id") long maxId,
            @JsonProperty("sources") List<SourceEntry> sources) {
    }

    private TokenCache() {
    }

    /** Returns the path of the cached token file for {@code source} in {@code cacheDir}. */
    static Path tokenFile(DatasetSource source, Path cacheDir) {
        return cacheDir.resolve(baseName(source) + ".bin");
    }

    /** Returns the path of the sidecar for {@code source} in {@code cacheDir}. */
    static Path sidecarFile(DatasetSource source, Path cacheDir) {
        return cacheDir.resolve(baseName(source) + ".json");
    }

    static TokenSequence open(DatasetSource source, TokenEncoder encoder, Path cacheDir, ProgressListener progress,
                              int chunkShift) throws IOException {
        List<Path> files = source.files();
        String fingerprint = fingerprint(source, encoder);
        Path binPath = tokenFile(source, cacheDir);
        Path jsonPath = sidecarFile(source, cacheDir);

        // Describe the sources as they are now.
        List<SourceEntry> current = new ArrayList<>(files.size());
        for (Path file : files) {
            current.add(new SourceEntry(file.toAbsolutePath().normalize().toString(), Files.size(file),
                    Files.getLastModifiedTime(file).toString(), Sha256.ofFile(file), -1));
        }

        // Reuse the cache when its sidecar matches them.
        String staleReason = staleReason(jsonPath, binPath, source, fingerprint, current);
        if (staleReason == null) {
            Manifest manifest = MAPPER.readValue(jsonPath.toFile(), Manifest.class);
            LOG.info("Reusing token cache {} ({} tokens)", binPath, manifest.tokens());
            return map(binPath, manifest, chunkShift);
        }
        LOG.info("Building token cache {} for {}: {}", binPath, source, staleReason);

        // Build it again: remove the sidecar first, so a crash mid-build never leaves a matching one.
        Files.createDirectories(cacheDir);
        Files.deleteIfExists(jsonPath);
        Manifest manifest = build(source, encoder, fingerprint, files, current, binPath, progress);
        writeAtomically(jsonPath, MAPPER.writeValueAsBytes(manifest));
        return map(binPath, manifest, chunkShift);
    }

    private static String fingerprint(DatasetSource source, TokenEncoder encoder) {
        if (source.format() == DatasetSource.Format.JSONL_IDS) {
            return PRETOKENIZED;
        }
        if (encoder == null) {
            throw new DatasetException("Dataset " + source.path() + " is text and needs a tokenizer, but none was"
                    + " given. Pass a TokenEncoder to the DatasetLoader.");
        }
        return encoder.fingerprint();
    }

    /** Returns why the cache cannot be reused, or null when it can. */
    private static String staleReason(Path jsonPath, Path binPath, DatasetSource source, String fingerprint,
                                      List<SourceEntry> current) throws IOException {
        if (!Files.isRegularFile(jsonPath) || !Files.isRegularFile(binPath)) {
            return "no cache yet";
        }
        Manifest manifest;
        try {
            manifest = MAPPER.readValue(jsonPath.toFile(), Manifest.class);
        } catch (IOException e) {
            return "sidecar " + jsonPath + " is unreadable (" + e.getMessage() + ")";
        }
        if (!FORMAT.equals(manifest.format()) || manifest.version() != VERSION) {
            return "sidecar format " + manifest.format() + " version " + manifest.version() + " is not current";
        }
        if (!fingerprint.equals(manifest.tokenizer())) {
            return "tokenizer changed from " + manifest.tokenizer() + " to " + fingerprint;
        }
        boolean sameFormat = source.format().name().equals(manifest.sourceFormat());
        if (!sameFormat || !Objects.equals(source.field(), manifest.field())) {
            return "source format or field changed";
        }
        List<SourceEntry> recorded = manifest.sources() == null ? List.of() : manifest.sources();
        if (recorded.size() != current.size()) {
            return "the number of source files changed from " + recorded.size() + " to " + current.size();
        }
        for (int i = 0; i < current.size(); i++) {
            SourceEntry was = recorded.get(i);
            SourceEntry now = current.get(i);
            if (!now.path().equals(was.path())) {
                return "source file " + i + " is now " + now.path() + " instead of " + was.path();
            }
            if (now.size() != was.size() || !now.sha256().equals(was.sha256())) {
                return "source " + now.path() + " changed (size " + was.size() + " -> " + now.size() + ", mtime "
                        + was.mtime() + " -> " + now.mtime() + ")";
            }
        }
        TokenDtype dtype;
        try {
            dtype = TokenDtype.parse(manifest.dtype());
        } catch (DatasetException e) {
            return e.getMessage();
        }
        if (Files.size(binPath) != manifest.tokens() * dtype.bytes()) {
            return "token file size does not match the " + manifest.tokens() + " tokens in its sidecar";
        }
        return null;
    }

    private static Manifest build(DatasetSource source, TokenEncoder encoder, String fingerprint, List<Path> files,
                                  List<SourceEntry> current, Path binPath, ProgressListener progress)
            throws IOException {
        long bytesTotal = current.stream().mapToLong(SourceEntry::size).sum();
        long[] tokensPerFile = new long[files.size()];
        Files.createDirectories(binPath.toAbsolutePath().getParent());
        try (TokenFileWriter writer = new TokenFileWriter(binPath)) {
            DocumentEncoder documents = source.format() == DatasetSource.Format.JSONL_IDS ? null
                    : new DocumentEncoder(encoder, writer, files, tokensPerFile, progress, bytesTotal);
            long bytesBefore = 0;
            for (int i = 0; i < files.size(); i++) {
                int fileIndex = i;
                Path file = files.get(i);
                long fileBytes = current.get(i).size();
                long bytesDone = bytesBefore;
                switch (source.format()) {
                    case TEXT:
                        // NOTE: a text file is read and encoded whole, so its text and ids must fit in the heap.
                        documents.add(readUtf8(file), fileIndex, 0, bytesDone + fileBytes);
                        break;
                    case JSONL_TEXT:
                        JsonLinesReader.forEachText(file, source.field(), (text, lineNumber, chars) ->
                                documents.add(text, fileIndex, lineNumber, bytesDone + Math.min(chars, fileBytes)));
                        break;
                    case JSONL_IDS:
                        JsonLinesReader.forEachIds(file, source.field(), (ids, lineNumber, chars) -> {
                            for (long id : ids) {
                                writer.write(id);
                            }
                            tokensPerFile[fileIndex] += ids.length;
                            progress.onProgress(bytesDone + Math.min(chars, fileBytes), bytesTotal, writer.count());
                        });
                        break;
                    default:
                        throw new IllegalArgumentException("TokenCache: " + source.format()
                                + " sources are not cached");
                }
                bytesBefore += fileBytes;
            }
            if (documents != null) {
                documents.flush();
            }
            progress.onProgress(bytesTotal, bytesTotal, writer.count());
            writer.commit();

            List<SourceEntry> entries = new ArrayList<>(files.size());
            for (int i = 0; i < files.size(); i++) {
                SourceEntry now = current.get(i);
                entries.add(new SourceEntry(now.path(), now.size(), now.mtime(), now.sha256(), tokensPerFile[i]));
            }
            return new Manifest(FORMAT, VERSION, fingerprint, source.format().name(), source.field(),
                    writer.dtype().jsonName(), writer.count(), writer.maxId(), entries);
        }
    }

    private static String readUtf8(Path file) throws IOException {
        try {
            String text = Files.readString(file, StandardCharsets.UTF_8);
            return text.startsWith(JsonLinesReader.BYTE_ORDER_MARK) ? text.substring(1) : text;
        } catch (CharacterCodingException e) {
            throw new DatasetException("File " + file + " is not valid UTF-8. Convert it to UTF-8.", e);
        }
    }

    private static TokenSequence map(Path binPath, Manifest manifest, int chunkShift) throws IOException {
        List<TokenSequence.Span> spans = new ArrayList<>();
        long first = 0;
        for (SourceEntry entry : manifest.sources()) {
            spans.add(new TokenSequence.Span(entry.path(), first, entry.tokens()));
            first += entry.tokens();
        }
        return TokenSequence.map(binPath, 0, TokenDtype.parse(manifest.dtype()), manifest.tokens(), spans,
                manifest.maxId(), chunkShift);
    }

    private static void writeAtomically(Path target, byte[] content) throws IOException {
        AtomicFiles.write(target, content);
    }

    /** Source file name made safe for a file name, plus 16 hex digits that tell same-named sources apart. */
    private static String baseName(DatasetSource source) {
        Path absolute = source.path().toAbsolutePath().normalize();
        String description = source.format() + "\n" + source.field() + "\n" + source.filePattern() + "\n" + absolute;
        String key = Sha256.ofString(description).substring(0, 16);
        Path name = absolute.getFileName();
        String safe = name == null ? "root" : name.toString().replaceAll("[^A-Za-z0-9._-]", "_");
        return safe + "-" + key;
    }
}
