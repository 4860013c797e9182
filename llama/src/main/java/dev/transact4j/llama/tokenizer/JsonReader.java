package dev.transact4j.llama.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;

/** Field access on a tokenizer.json tree that reports errors with the file name and JSON path. */
final class JsonReader {
    private final String source;

    JsonReader(String source) {
        this.source = source;
    }

    String source() {
        return source;
    }

    TokenizerFormatException error(String path, String message) {
        return new TokenizerFormatException(source + ": " + message + " at " + path);
    }

    TokenizerFormatException unsupported(String kind, JsonNode node, String path) {
        return error(path, "unsupported " + kind + " type '" + node.path("type").asText("?")
                + "'; supported: " + supportedList(kind));
    }

    private static String supportedList(String kind) {
        switch (kind) {
            case "normalizer": return Normalizers.SUPPORTED;
            case "pre_tokenizer": return PreTokenizers.SUPPORTED;
            case "decoder": return Decoders.SUPPORTED;
            case "post_processor": return PostProcessor.SUPPORTED;
            case "model": return "BPE";
            default: return "?";
        }
    }

    String type(JsonNode node, String path) {
        JsonNode type = node.get("type");
        if (type == null || !type.isTextual()) {
            throw error(path, "missing field 'type'");
        }
        return type.asText();
    }

    JsonNode required(JsonNode node, String field, String path) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            throw error(path, "missing field '" + field + "'");
        }
        return value;
    }

    String text(JsonNode node, String field, String path) {
        JsonNode value = required(node, field, path);
        if (!value.isTextual()) {
            throw error(path + "." + field, "expected a string, found " + value.getNodeType());
        }
        return value.asText();
    }

    /** Reads an optional string field; JSON null and absence both give {@code fallback}. */
    String optionalText(JsonNode node, String field, String fallback) {
        JsonNode value = node.get(field);
        return value == null || value.isNull() ? fallback : value.asText();
    }

    boolean bool(JsonNode node, String field, boolean fallback) {
        JsonNode value = node.get(field);
        return value == null || value.isNull() ? fallback : value.asBoolean();
    }

    int integer(JsonNode node, String field, int fallback) {
        JsonNode value = node.get(field);
        return value == null || value.isNull() ? fallback : value.asInt();
    }

    JsonNode array(JsonNode node, String field, String path) {
        JsonNode value = required(node, field, path);
        if (!value.isArray()) {
            throw error(path + "." + field, "expected an array, found " + value.getNodeType());
        }
        return value;
    }
}
