package dev.transact4j.llama.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/** The normalizers of tokenizer.json that this implementation supports, and their parser. */
final class Normalizers {
    static final String SUPPORTED = "Sequence, Prepend, Replace, NFC, NFD, NFKC, NFKD, Lowercase, Strip";

    private Normalizers() {
    }

    static Normalizer parse(JsonReader json, JsonNode node, String path) {
        String type = json.type(node, path);
        switch (type) {
            case "Sequence": {
                JsonNode items = json.array(node, "normalizers", path);
                List<Normalizer> list = new ArrayList<>();
                for (int i = 0; i < items.size(); i++) {
                    list.add(parse(json, items.get(i), path + ".normalizers[" + i + "]"));
                }
                return segment -> {
                    Segment s = segment;
                    for (Normalizer n : list) {
                        s = n.normalize(s);
                    }
                    return s;
                };
            }
            case "Prepend":
                return prepend(json.text(node, "prepend", path));
            case "Replace":
                return replace(Splitting.compile(json, node.get("pattern"), path + ".pattern"),
                        json.text(node, "content", path));
            case "NFC":
                return unicode(java.text.Normalizer.Form.NFC);
            case "NFD":
                return unicode(java.text.Normalizer.Form.NFD);
            case "NFKC":
                return unicode(java.text.Normalizer.Form.NFKC);
            case "NFKD":
                return unicode(java.text.Normalizer.Form.NFKD);
            case "Lowercase":
                return Normalizers::lowercase;
            case "Strip":
                return strip(json.bool(node, "strip_left", true), json.bool(node, "strip_right", true));
            default:
                throw json.unsupported("normalizer", node, path);
        }
    }

    /** Prepends {@code prefix} to a non-empty segment, aligned to its first char. */
    static Normalizer prepend(String prefix) {
        return segment -> {
            if (segment.isEmpty()) {
                return segment;
            }
            Segment.Builder b = new Segment.Builder(segment.length() + prefix.length());
            b.append(prefix, segment.starts[0], segment.ends[0]);
            appendAll(b, segment, 0, segment.length());
            return b.build(segment);
        };
    }

    /** Replaces every match of {@code pattern} by {@code content}, aligned to the matched range. */
    static Normalizer replace(Pattern pattern, String content) {
        return segment -> {
            List<int[]> matches = Splitting.regexMatches(pattern, segment.text);
            Segment.Builder b = new Segment.Builder(segment.length());
            for (int[] m : matches) {
                if (m[2] == 1) {
                    appendReplacement(b, segment, m[0], m[1], content);
                } else {
                    appendAll(b, segment, m[0], m[1]);
                }
            }
            return b.build(segment);
        };
    }

    /**
     * Appends {@code content} in place of the segment chars {@code [from, to)}. As in Hugging Face,
     * a replacement shorter than the match is aligned to the last chars of the match, one to one;
     * chars beyond the match length take the range of its last char. An empty match gives its
     * chars the range of the char before it.
     */
    private static void appendReplacement(Segment.Builder b, Segment segment, int from, int to, String content) {
        int n = to - from;
        int m = content.length();
        for (int k = 0; k < m; k++) {
            int source;
            if (n == 0) {
                source = from > 0 ? from - 1 : -1;
            } else if (m <= n) {
                source = to - m + k;
            } else {
                source = Math.min(from + k, to - 1);
            }
            if (source < 0) {
                b.append(content.charAt(k), segment.originalStart, segment.originalStart);
            } else {
                b.append(content.charAt(k), segment.starts[source], segment.ends[source]);
            }
        }
    }

    /**
     * Applies a Unicode normalization form. Each base character with its following combining marks
     * is normalized as a unit so that offsets stay precise; where that differs from normalizing the
     * whole text (Hangul jamo, for example), every output char is aligned to the whole segment.
     */
    static Normalizer unicode(java.text.Normalizer.Form form) {
        return segment -> {
            String text = segment.text;
            if (java.text.Normalizer.isNormalized(text, form)) {
                return segment;
            }
            String whole = java.text.Normalizer.normalize(text, form);
            Segment.Builder b = new Segment.Builder(whole.length());
            int i = 0;
            while (i < text.length()) {
                int end = i + Character.charCount(text.codePointAt(i));
                while (end < text.length() && isCombiningMark(text.codePointAt(end))) {
                    end += Character.charCount(text.codePointAt(end));
                }
                String unit = java.text.Normalizer.normalize(text.substring(i, end), form);
                appendAligned(b, segment, i, end, unit);
                i = end;
            }
            Segment aligned = b.build(segment);
            if (aligned.text.equals(whole)) {
                return aligned;
            }
            Segment.Builder coarse = new Segment.Builder(whole.length());
            coarse.append(whole, segment.originalStart, segment.originalEnd);
            return coarse.build(segment);
        };
    }

    /**
     * Appends {@code unit}, the normalization of the segment chars {@code [from, to)}: output code
     * point k takes the range of input code point k, and extra output code points take the range of
     * the last input one. A composed char thus keeps the range of its base char only, as in Hugging
     * Face, and the parts of an expanded char all keep its range.
     */
    private static void appendAligned(Segment.Builder b, Segment segment, int from, int to, String unit) {
        int input = from;
        int lastStart = segment.starts[from];
        int lastEnd = segment.ends[from];
        for (int k = 0; k < unit.length(); ) {
            int cp = unit.codePointAt(k);
            if (input < to) {
                int width = Character.charCount(segment.text.codePointAt(input));
                lastStart = segment.starts[input];
                lastEnd = segment.ends[input + width - 1];
                input += width;
            }
            for (int c = 0; c < Character.charCount(cp); c++) {
                b.append(unit.charAt(k + c), lastStart, lastEnd);
            }
            k += Character.charCount(cp);
        }
    }

    private static boolean isCombiningMark(int cp) {
        int type = Character.getType(cp);
        return type == Character.NON_SPACING_MARK || type == Character.COMBINING_SPACING_MARK
                || type == Character.ENCLOSING_MARK;
    }

    /**
     * Lowercases code point by code point, without the context-dependent rules of
     * {@link String#toLowerCase}, as the Rust {@code char::to_lowercase} used by Hugging Face does.
     */
    static Segment lowercase(Segment segment) {
        String text = segment.text;
        Segment.Builder b = new Segment.Builder(text.length());
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            int n = Character.charCount(cp);
            int start = segment.starts[i];
            int end = segment.ends[i + n - 1];
            if (cp == 0x130) {
                // The one code point whose lowercase is two code points: i + combining dot above.
                b.append("i\u0307", start, end);
            } else {
                b.append(new String(Character.toChars(Character.toLowerCase(cp))), start, end);
            }
            i += n;
        }
        return b.build(segment);
    }

    static Normalizer strip(boolean left, boolean right) {
        return segment -> {
            String text = segment.text;
            int from = 0;
            int to = text.length();
            while (left && from < to && isWhitespace(text.codePointAt(from))) {
                from += Character.charCount(text.codePointAt(from));
            }
            while (right && to > from && isWhitespace(text.codePointBefore(to))) {
                to -= Character.charCount(text.codePointBefore(to));
            }
            return segment.slice(from, to);
        };
    }

    /**
     * Returns whether {@code cp} has the Unicode White_Space property, the definition of Rust's
     * {@code char::is_whitespace} (unlike {@link Character#isWhitespace}, it includes U+00A0 and
     * excludes U+001C..U+001F).
     */
    static boolean isWhitespace(int cp) {
        if (cp <= 0x20) {
            return cp == 0x20 || (cp >= 0x09 && cp <= 0x0D);
        }
        return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028
                || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
    }

    static void appendAll(Segment.Builder b, Segment segment, int from, int to) {
        for (int i = from; i < to; i++) {
            b.append(segment.text.charAt(i), segment.starts[i], segment.ends[i]);
        }
    }
}
