package dev.transact4j.llama.tokenizer;

import java.nio.charset.StandardCharsets;

/**
 * The GPT-2 byte-to-unicode table: every byte is shown as a printable char, so that byte-level
 * BPE vocabularies are strings. Bytes that are printable Latin-1 ('!'..'~', '¡'..'¬', '®'..'ÿ')
 * map to themselves; the other 68 map to U+0100, U+0101, ... in byte order.
 */
final class ByteLevelAlphabet {
    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[512];

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) next++;
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    private ByteLevelAlphabet() {
    }

    static char charOf(int unsignedByte) {
        return BYTE_TO_CHAR[unsignedByte];
    }

    /** Returns the byte a char stands for, or -1 when the char is not in the table. */
    static int byteOf(char c) {
        return c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
    }

    /** Maps the UTF-8 bytes of every char of {@code segment}, each byte char aligned to its source char. */
    static Segment encode(Segment segment) {
        String text = segment.text;
        Segment.Builder b = new Segment.Builder(text.length() * 2);
        byte[] buffer = new byte[4];
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            int n = Character.charCount(cp);
            int length = utf8(cp, buffer);
            int start = segment.starts[i];
            int end = segment.ends[i + n - 1];
            for (int k = 0; k < length; k++) {
                b.append(BYTE_TO_CHAR[buffer[k] & 0xFF], start, end);
            }
            i += n;
        }
        return b.build(segment);
    }

    /** Returns the concatenated bytes of {@code token}, or null when a char is outside the table. */
    static byte[] decode(String token) {
        byte[] out = new byte[token.length()];
        for (int i = 0; i < token.length(); i++) {
            int b = byteOf(token.charAt(i));
            if (b < 0) {
                return null;
            }
            out[i] = (byte) b;
        }
        return out;
    }

    /** Writes the UTF-8 encoding of a code point (a lone surrogate becomes U+FFFD) and returns its length. */
    static int utf8(int cp, byte[] out) {
        if (cp < 0x80) {
            out[0] = (byte) cp;
            return 1;
        }
        if (cp < 0x800) {
            out[0] = (byte) (0xC0 | (cp >> 6));
            out[1] = (byte) (0x80 | (cp & 0x3F));
            return 2;
        }
        if (cp >= 0xD800 && cp <= 0xDFFF) {
            byte[] replacement = "\uFFFD".getBytes(StandardCharsets.UTF_8);
            System.arraycopy(replacement, 0, out, 0, 3);
            return 3;
        }
        if (cp < 0x10000) {
            out[0] = (byte) (0xE0 | (cp >> 12));
            out[1] = (byte) (0x80 | ((cp >> 6) & 0x3F));
            out[2] = (byte) (0x80 | (cp & 0x3F));
            return 3;
        }
        out[0] = (byte) (0xF0 | (cp >> 18));
        out[1] = (byte) (0x80 | ((cp >> 12) & 0x3F));
        out[2] = (byte) (0x80 | ((cp >> 6) & 0x3F));
        out[3] = (byte) (0x80 | (cp & 0x3F));
        return 4;
    }
}
