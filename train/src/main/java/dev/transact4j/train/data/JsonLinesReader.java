package dev.transact4j.train.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Reads one field from every line of a JSON Lines file, with errors that name the file and line.
 * Blank lines and a leading byte order mark are skipped.
 */
final class JsonLinesReader {

    /** Receives the field of one line, its line number and the characters read so far in the file. */
    interface Sink<T> {
        void accept(T value, long lineNumber, long charsRead) throws IOException;
    }

    private static final ObjectMapper MAPPER = new ObjectMapper();
    /** U+FEFF, which some editors write at the start of a UTF-8 file. It is not part of the data. */
    static final String BYTE_ORDER_MARK = "\uFEFF";

    private JsonLinesReader() {
    }

    /** Calls {@code sink} with the string in {@code field} of each line. */
    static void forEachText(Path file, String field, Sink<String> sink) throws IOException {
        forEachLine(file, (node, lineNumber, charsRead) -> {
            JsonNode value = fieldOf(node, field, file, lineNumber);
            if (!value.isTextual()) {
                throw new DatasetException("Field \"" + field + "\" at line " + lineNumber + " of " + file + " is "
                        + describe(value) + ", not a string. Choose the field that holds the document text.");
            }
            sink.accept(value.textValue(), lineNumber, charsRead);
        });
    }

    /** Calls {@code sink} with the token ids in {@code field} of each line, each id in {@code [0, 2^32)}. */
    static void forEachIds(Path file, String field, Sink<long[]> sink) throws IOException {
        forEachLine(file, (node, lineNumber, charsRead) -> {
            JsonNode value = fieldOf(node, field, file, lineNumber);
            if (!value.isArray()) {
                throw new DatasetException("Field \"" + field + "\" at line " + lineNumber + " of " + file + " is "
                        + describe(value) + ", not an array of token ids.");
            }
            long[] ids = new long[value.size()];
            for (int i = 0; i < ids.length; i++) {
                JsonNode element = value.get(i);
                boolean valid = element.isIntegralNumber() && element.canConvertToLong()
                        && element.longValue() >= 0 && element.longValue() <= TokenDtype.UINT32.maxId();
                if (!valid) {
                    throw new DatasetException("Field \"" + field + "\" at line " + lineNumber + " of " + file
                            + " has element " + i + " = " + element + ", which is not a token id (an integer from 0 to "
                            + TokenDtype.UINT32.maxId() + ").");
                }
                ids[i] = element.longValue();
            }
            sink.accept(ids, lineNumber, charsRead);
        });
    }

    private interface LineHandler {
        void handle(JsonNode node, long lineNumber, long charsRead) throws IOException;
    }

    private static void forEachLine(Path file, LineHandler handler) throws IOException {
        long lineNumber = 0;
        long charsRead = 0;
        try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            while ((line = readLine(reader, file, lineNumber + 1)) != null) {
                lineNumber++;
                charsRead += line.length() + 1;
                if (lineNumber == 1 && line.startsWith(BYTE_ORDER_MARK)) {
                    line = line.substring(1);
                }
                if (line.isBlank()) {
                    continue;
                }
                JsonNode node;
                try {
                    node = MAPPER.readTree(line);
                } catch (JsonProcessingException e) {
                    throw new DatasetException("Invalid JSON at line " + lineNumber + " of " + file + ": "
                            + e.getOriginalMessage() + ". Each line must be one JSON object.", e);
                }
                if (!node.isObject()) {
                    throw new DatasetException("Line " + lineNumber + " of " + file + " is " + describe(node)
                            + ", not a JSON object. Each line must be one JSON object.");
                }
                handler.handle(node, lineNumber, charsRead);
            }
        }
    }

    private static String readLine(BufferedReader reader, Path file, long lineNumber) throws IOException {
        try {
            return reader.readLine();
        } catch (CharacterCodingException e) {
            throw new DatasetException("File " + file + " is not valid UTF-8 near line " + lineNumber
                    + ". Convert it to UTF-8.", e);
        }
    }

    private static JsonNode fieldOf(JsonNode node, String field, Path file, long lineNumber) {
        JsonNode value = node.get(field);
        if (value == null) {
            throw new DatasetException(DatasetException.Kind.MISSING_FIELD, "Line " + lineNumber + " of " + file
                    + " has no \"" + field + "\" field.", "Add it, or choose the field that holds the data.");
        }
        return value;
    }

    private static String describe(JsonNode node) {
        switch (node.getNodeType()) {
            case ARRAY:
                return "an array";
            case OBJECT:
                return "an object";
            case STRING:
                return "a string";
            case NUMBER:
                return "a number";
            case BOOLEAN:
                return "a boolean";
            case NULL:
                return "null";
            default:
                return "a " + node.getNodeType().name().toLowerCase(Locale.ROOT) + " value";
        }
    }
}
