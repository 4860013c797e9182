package dev.transact4j.nn.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** One-line descriptions of JSON parse errors, from real Jackson parse failures. */
class JsonErrorsTest {

    private static JsonProcessingException parseFailure(String json) {
        return assertThrows(JsonProcessingException.class, () -> new ObjectMapper().readTree(json));
    }

    @Test
    void truncatedArrayDropsStartMarker() {
        JsonProcessingException e = parseFailure("{\n  \"a\": [1,\n 2");

        // Jackson's own message names the start of the array with a redacted source excerpt
        assertTrue(e.getOriginalMessage().contains("start marker at [Source:"), e.getOriginalMessage());
        assertEquals("Unexpected end-of-input: expected close marker for Array", JsonErrors.reason(e));
        assertEquals(" at line 3, column 3 (Unexpected end-of-input: expected close marker for Array)",
                JsonErrors.locationAndReason(e));
    }

    @Test
    void unexpectedCharacterKeepsReason() {
        JsonProcessingException e = parseFailure("{\"a\": }");

        assertEquals(" at line 1, column 7 (" + e.getOriginalMessage() + ")", JsonErrors.locationAndReason(e));
        assertTrue(e.getOriginalMessage().startsWith("Unexpected character ('}'"), e.getOriginalMessage());
    }

    @Test
    void truncatedObjectNamesEnd() {
        JsonProcessingException e = parseFailure("{\"model\": ");

        assertEquals(" at line 1, column 11 (" + e.getOriginalMessage() + ")", JsonErrors.locationAndReason(e));
        assertTrue(e.getOriginalMessage().startsWith("Unexpected end-of-input"), e.getOriginalMessage());
    }
}
