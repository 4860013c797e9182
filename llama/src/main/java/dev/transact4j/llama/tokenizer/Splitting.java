package dev.transact4j.llama.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntPredicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** Splitting a segment at pattern matches, with the delimiter behaviours of Hugging Face tokenizers. */
final class Splitting {
    private Splitting() {
    }

    /** Treatment of a matched delimiter (Hugging Face {@code SplitDelimiterBehavior}). */
    enum Behavior {
        REMOVED, ISOLATED, MERGED_WITH_PREVIOUS, MERGED_WITH_NEXT, CONTIGUOUS;

        static Behavior parse(JsonReader json, String name, String path) {
            switch (name) {
                case "Removed": return REMOVED;
                case "Isolated": return ISOLATED;
                case "MergedWithPrevious": return MERGED_WITH_PREVIOUS;
                case "MergedWithNext": return MERGED_WITH_NEXT;
                case "Contiguous": return CONTIGUOUS;
                default:
                    throw json.error(path, "unknown split behavior '" + name
                            + "'; expected Removed, Isolated, MergedWithPrevious, MergedWithNext or Contiguous");
            }
        }
    }

    /**
     * Compiles a {@code {"String": ...}} or {@code {"Regex": ...}} pattern. Regexes use
     * UNICODE_CHARACTER_CLASS so that {@code \s}, {@code \w} and {@code (?i)} follow Unicode, as
     * they do in the Oniguruma engine used by Hugging Face tokenizers.
     */
    static Pattern compile(JsonReader json, JsonNode pattern, String path) {
        if (pattern == null || !pattern.isObject()) {
            throw json.error(path, "missing pattern; expected {\"String\": ...} or {\"Regex\": ...}");
        }
        if (pattern.has("String")) {
            return Pattern.compile(Pattern.quote(pattern.get("String").asText()));
        }
        if (pattern.has("Regex")) {
            String regex = pattern.get("Regex").asText();
            try {
                return Pattern.compile(regex, Pattern.UNICODE_CHARACTER_CLASS);
            } catch (PatternSyntaxException e) {
                throw json.error(path + ".Regex", "invalid regex '" + regex + "': " + e.getDescription());
            }
        }
        throw json.error(path, "unknown pattern kind " + pattern.fieldNames().next()
                + "; expected String or Regex");
    }

    /** Returns [start, end, isMatch] triples covering {@code text} for the matches of a regex. */
    static List<int[]> regexMatches(Pattern pattern, String text) {
        List<int[]> out = new ArrayList<>();
        if (text.isEmpty()) {
            out.add(new int[] {0, 0, 0});
            return out;
        }
        Matcher m = pattern.matcher(text);
        int previous = 0;
        while (m.find()) {
            if (previous != m.start()) {
                out.add(new int[] {previous, m.start(), 0});
            }
            out.add(new int[] {m.start(), m.end(), 1});
            previous = m.end();
        }
        if (previous != text.length()) {
            out.add(new int[] {previous, text.length(), 0});
        }
        return out;
    }

    /** Returns [start, end, isMatch] triples where every code point accepted by {@code test} is one match. */
    static List<int[]> codePointMatches(IntPredicate test, String text) {
        List<int[]> out = new ArrayList<>();
        int last = 0;
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            int next = i + Character.charCount(cp);
            if (test.test(cp)) {
                if (last < i) {
                    out.add(new int[] {last, i, 0});
                }
                out.add(new int[] {i, next, 1});
                last = next;
            }
            i = next;
        }
        if (last < text.length() || text.isEmpty()) {
            out.add(new int[] {last, text.length(), 0});
        }
        return out;
    }

    /** Splits {@code segment} at the given matches and drops the empty pieces. */
    static void split(Segment segment, List<int[]> matches, Behavior behavior, boolean invert, List<Segment> out) {
        if (invert) {
            for (int[] m : matches) {
                m[2] = 1 - m[2];
            }
        }
        List<int[]> pieces = new ArrayList<>(matches.size());
        boolean previousMatch = false;
        switch (behavior) {
            case ISOLATED:
                pieces = matches;
                for (int[] m : pieces) {
                    m[2] = 0;
                }
                break;
            case REMOVED:
                for (int[] m : matches) {
                    if (m[2] == 0) {
                        pieces.add(m);
                    }
                }
                break;
            case MERGED_WITH_PREVIOUS:
                for (int[] m : matches) {
                    boolean isMatch = m[2] == 1;
                    if (isMatch && !previousMatch && !pieces.isEmpty()) {
                        pieces.get(pieces.size() - 1)[1] = m[1];
                    } else {
                        pieces.add(new int[] {m[0], m[1], 0});
                    }
                    previousMatch = isMatch;
                }
                break;
            case MERGED_WITH_NEXT:
                for (int k = matches.size() - 1; k >= 0; k--) {
                    int[] m = matches.get(k);
                    boolean isMatch = m[2] == 1;
                    if (isMatch && !previousMatch && !pieces.isEmpty()) {
                        pieces.get(pieces.size() - 1)[0] = m[0];
                    } else {
                        pieces.add(new int[] {m[0], m[1], 0});
                    }
                    previousMatch = isMatch;
                }
                java.util.Collections.reverse(pieces);
                break;
            case CONTIGUOUS:
                for (int[] m : matches) {
                    boolean isMatch = m[2] == 1;
                    if (isMatch == previousMatch && !pieces.isEmpty()) {
                        pieces.get(pieces.size() - 1)[1] = m[1];
                    } else {
                        pieces.add(new int[] {m[0], m[1], 0});
                    }
                    previousMatch = isMatch;
                }
                break;
            default:
                throw new IllegalStateException("unhandled behavior " + behavior);
        }
        for (int[] p : pieces) {
            if (p[1] > p[0]) {
                out.add(segment.slice(p[0], p[1]));
            }
        }
    }
}
