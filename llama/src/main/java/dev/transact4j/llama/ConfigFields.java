package dev.transact4j.llama;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Typed reads of the fields of one JSON object, with errors that name the source file, the field
 * and the expected type. A field set to JSON {@code null} counts as absent, as in Hugging Face
 * configs ({@code "rope_scaling": null}).
 */
final class ConfigFields {

    private final ObjectNode node;
    private final String source;
    private final String prefix;

    /**
     * @param source the file or other origin, shown at the start of every message
     * @param prefix the path of this object inside the file, such as {@code "rope_scaling."}, or ""
     */
    ConfigFields(ObjectNode node, String source, String prefix) {
        this.node = node;
        this.source = source;
        this.prefix = prefix;
    }

    boolean has(String field) {
        JsonNode value = node.get(field);
        return value != null && !value.isNull();
    }

    JsonNode get(String field) {
        return has(field) ? node.get(field) : null;
    }

    int requireInt(String field, String hint) {
        if (!has(field)) {
            throw missing(field, hint);
        }
        return readInt(field);
    }

    int optionalInt(String field, int fallback) {
        return has(field) ? readInt(field) : fallback;
    }

    Integer optionalInteger(String field) {
        return has(field) ? readInt(field) : null;
    }

    double requireDouble(String field, String hint) {
        if (!has(field)) {
            throw missing(field, hint);
        }
        return readDouble(field);
    }

    double optionalDouble(String field, double fallback) {
        return has(field) ? readDouble(field) : fallback;
    }

    Double optionalDoubleObject(String field) {
        return has(field) ? readDouble(field) : null;
    }

    boolean optionalBoolean(String field, boolean fallback) {
        if (!has(field)) {
            return fallback;
        }
        JsonNode value = node.get(field);
        if (!value.isBoolean()) {
            throw wrongType(field, "a boolean (true or false)", value);
        }
        return value.booleanValue();
    }

    String optionalString(String field, String fallback) {
        if (!has(field)) {
            return fallback;
        }
        JsonNode value = node.get(field);
        if (!value.isTextual()) {
            throw wrongType(field, "a string", value);
        }
        return value.textValue();
    }

    /** Reads a field that contains either one integer or a list of integers, such as eos_token_id. */
    int[] optionalIntOrList(String field, int[] fallback) {
        if (!has(field)) {
            return fallback;
        }
        JsonNode value = node.get(field);
        if (value.isIntegralNumber()) {
            return new int[] {checkedInt(field, value)};
        }
        if (!value.isArray()) {
            throw wrongType(field, "an integer or a list of integers", value);
        }
        int[] out = new int[value.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode element = value.get(i);
            if (!element.isIntegralNumber()) {
                throw wrongType(field + "[" + i + "]", "an integer", element);
            }
            out[i] = checkedInt(field + "[" + i + "]", element);
        }
        return out;
    }

    private int readInt(String field) {
        JsonNode value = node.get(field);
        if (!value.isIntegralNumber()) {
            throw wrongType(field, "an integer", value);
        }
        return checkedInt(field, value);
    }

    private int checkedInt(String field, JsonNode value) {
        if (!value.canConvertToInt()) {
            throw invalid(field, "is " + value + ", outside the 32-bit integer range");
        }
        return value.intValue();
    }

    private double readDouble(String field) {
        JsonNode value = node.get(field);
        if (!value.isNumber()) {
            throw wrongType(field, "a number", value);
        }
        return value.doubleValue();
    }

    IllegalArgumentException missing(String field, String hint) {
        return new IllegalArgumentException(source + ": required field '" + prefix + field + "' is missing. " + hint);
    }

    IllegalArgumentException wrongType(String field, String expected, JsonNode actual) {
        return new IllegalArgumentException(source + ": field '" + prefix + field + "' must be " + expected
                + ", found " + describe(actual) + ". Fix the value in the file.");
    }

    IllegalArgumentException invalid(String field, String problem) {
        return new IllegalArgumentException(source + ": field '" + prefix + field + "' " + problem);
    }

    private static String describe(JsonNode value) {
        String kind = switch (value.getNodeType()) {
            case STRING -> "a string";
            case NUMBER -> value.isIntegralNumber() ? "an integer" : "a decimal number";
            case BOOLEAN -> "a boolean";
            case ARRAY -> "a list";
            case OBJECT -> "an object";
            default -> value.getNodeType().toString().toLowerCase(java.util.Locale.ROOT);
        };
        String text = value.toString();
        if (text.length() > 60) {
            text = text.substring(0, 57) + "...";
        }
        return kind + " " + text;
    }
}
