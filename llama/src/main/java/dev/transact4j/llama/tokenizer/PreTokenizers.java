package dev.transact4j.llama.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/** The pre-tokenizers of tokenizer.json that this implementation supports, and their parser. */
final class PreTokenizers {
    static final String SUPPORTED = "Sequence, Split, ByteLevel, Metaspace, Digits, Whitespace, WhitespaceSplit";

    /** The GPT-2 pre-tokenization regex, used by ByteLevel when {@code use_regex} is true. */
    static final String GPT2_PATTERN =
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

    private static final Pattern GPT2 = Pattern.compile(GPT2_PATTERN, Pattern.UNICODE_CHARACTER_CLASS);
    private static final Pattern WHITESPACE_WORDS = Pattern.compile("\\w+|[^\\w\\s]+", Pattern.UNICODE_CHARACTER_CLASS);

    private PreTokenizers() {
    }

    static PreTokenizer parse(JsonReader json, JsonNode node, String path) {
        String type = json.type(node, path);
        switch (type) {
            case "Sequence": {
                JsonNode items = json.array(node, "pretokenizers", path);
                List<PreTokenizer> list = new ArrayList<>();
                for (int i = 0; i < items.size(); i++) {
                    list.add(parse(json, items.get(i), path + ".pretokenizers[" + i + "]"));
                }
                return sequence(list);
            }
            case "Split": {
                Pattern pattern = Splitting.compile(json, node.get("pattern"), path + ".pattern");
                Splitting.Behavior behavior = Splitting.Behavior.parse(json, json.text(node, "behavior", path),
                        path + ".behavior");
                return split(pattern, behavior, json.bool(node, "invert", false));
            }
            case "ByteLevel":
                return byteLevel(json.bool(node, "add_prefix_space", true), json.bool(node, "use_regex", true));
            case "Metaspace":
                return metaspace(json, node, path);
            case "Digits": {
                boolean individual = json.bool(node, "individual_digits", false);
                Splitting.Behavior behavior = individual ? Splitting.Behavior.ISOLATED : Splitting.Behavior.CONTIGUOUS;
                return (segment, out) -> Splitting.split(segment,
                        Splitting.codePointMatches(PreTokenizers::isNumeric, segment.text), behavior, false, out);
            }
            case "Whitespace":
                return split(WHITESPACE_WORDS, Splitting.Behavior.REMOVED, true);
            case "WhitespaceSplit":
                return (segment, out) -> Splitting.split(segment,
                        Splitting.codePointMatches(Normalizers::isWhitespace, segment.text),
                        Splitting.Behavior.REMOVED, false, out);
            default:
                throw json.unsupported("pre_tokenizer", node, path);
        }
    }

    static PreTokenizer sequence(List<PreTokenizer> list) {
        return (segment, out) -> {
            List<Segment> current = new ArrayList<>();
            current.add(segment);
            for (PreTokenizer p : list) {
                List<Segment> next = new ArrayList<>();
                for (Segment s : current) {
                    p.preTokenize(s, next);
                }
                current = next;
            }
            out.addAll(current);
        };
    }

    static PreTokenizer split(Pattern pattern, Splitting.Behavior behavior, boolean invert) {
        return (segment, out) -> Splitting.split(segment, Splitting.regexMatches(pattern, segment.text),
                behavior, invert, out);
    }

    /**
     * Creates the byte-level pre-tokenizer, which optionally prepends a space, optionally splits
     * with the GPT-2 regex, then maps every UTF-8 byte to its char in {@link ByteLevelAlphabet}.
     */
    static PreTokenizer byteLevel(boolean addPrefixSpace, boolean useRegex) {
        return (segment, out) -> {
            Segment s = segment;
            if (addPrefixSpace && !s.text.startsWith(" ")) {
                s = Normalizers.prepend(" ").normalize(s);
            }
            List<Segment> words = new ArrayList<>();
            if (useRegex) {
                Splitting.split(s, Splitting.regexMatches(GPT2, s.text), Splitting.Behavior.ISOLATED, false, words);
            } else if (!s.isEmpty()) {
                words.add(s);
            }
            for (Segment w : words) {
                out.add(ByteLevelAlphabet.encode(w));
            }
        };
    }

    /**
     * Creates the SentencePiece-style pre-tokenizer. Spaces become the replacement char (U+2581 by
     * default), which is prepended per {@code prepend_scheme}, and words start at each replacement.
     */
    static PreTokenizer metaspace(JsonReader json, JsonNode node, String path) {
        String replacement = json.optionalText(node, "replacement", "\u2581");
        if (replacement.codePointCount(0, replacement.length()) != 1) {
            throw json.error(path + ".replacement", "expected one character, found '" + replacement + "'");
        }
        String scheme = json.optionalText(node, "prepend_scheme",
                json.bool(node, "add_prefix_space", true) ? "always" : "never");
        if (!scheme.equals("always") && !scheme.equals("first") && !scheme.equals("never")) {
            throw json.error(path + ".prepend_scheme", "unknown prepend_scheme '" + scheme
                    + "'; expected always, first or never");
        }
        boolean split = json.bool(node, "split", true);
        Normalizer spaces = Normalizers.replace(Pattern.compile(" ", Pattern.LITERAL), replacement);
        Normalizer prepend = Normalizers.prepend(replacement);
        Pattern delimiter = Pattern.compile(Pattern.quote(replacement));
        return (segment, out) -> {
            Segment s = spaces.normalize(segment);
            boolean prependHere = scheme.equals("always")
                    || (scheme.equals("first") && segment.originalStart == 0);
            if (prependHere && !s.text.startsWith(replacement)) {
                s = prepend.normalize(s);
            }
            if (split) {
                Splitting.split(s, Splitting.regexMatches(delimiter, s.text), Splitting.Behavior.MERGED_WITH_NEXT,
                        false, out);
            } else if (!s.isEmpty()) {
                out.add(s);
            }
        };
    }

    /** Rust's {@code char::is_numeric}: general categories Nd, Nl and No. */
    static boolean isNumeric(int cp) {
        int type = Character.getType(cp);
        return type == Character.DECIMAL_DIGIT_NUMBER || type == Character.LETTER_NUMBER
                || type == Character.OTHER_NUMBER;
    }
}
