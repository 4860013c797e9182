package dev.transact4j.nn.io;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;

/**
 * Describes a JSON parse error in one line for a user: the line and column and Jackson's reason,
 * without the source excerpts and feature names that Jackson adds to its own messages.
 */
public final class JsonErrors {
    private JsonErrors() {
    }

    /**
     * Returns {@code " at line L, column C (reason)"}, or {@code " (reason)"} when Jackson gives no
     * location, to follow "invalid JSON" in a message.
     */
    public static String locationAndReason(JsonProcessingException e) {
        JsonLocation location = e.getLocation();
        String where = location == null || location.getLineNr() < 1 ? ""
                : " at line " + location.getLineNr() + ", column " + location.getColumnNr();
        return where + " (" + reason(e) + ")";
    }

    /**
     * Returns Jackson's reason for {@code e}: the first line of its message without the location of
     * an unclosed array or object, which Jackson appends as "(start marker at [Source: ...])".
     */
    public static String reason(JsonProcessingException e) {
        String message = e.getOriginalMessage();
        if (message == null || message.isBlank()) {
            return e.getClass().getSimpleName();
        }
        String reason = message.strip().lines().findFirst().orElse("");
        int marker = reason.indexOf(" (start marker at ");
        if (marker >= 0) {
            reason = reason.substring(0, marker);
        }
        int source = reason.indexOf("[Source:");
        if (source >= 0) {
            reason = reason.substring(0, source).strip();
        }
        return reason;
    }
}
