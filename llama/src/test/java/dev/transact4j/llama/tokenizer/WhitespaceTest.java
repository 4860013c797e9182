package dev.transact4j.llama.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The hand-written White_Space test agrees with Java's Unicode property on every code point. */
class WhitespaceTest {
    @Test
    void whitespaceMatchesUnicodeProperty() {
        Pattern property = Pattern.compile("\\p{IsWhite_Space}");
        int count = 0;
        for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
            boolean expected = property.matcher(new String(Character.toChars(cp))).matches();
            assertEquals(expected, Normalizers.isWhitespace(cp), "U+" + Integer.toHexString(cp));
            if (expected) {
                count++;
            }
        }
        assertEquals(25, count, "White_Space has 25 code points");
    }
}
