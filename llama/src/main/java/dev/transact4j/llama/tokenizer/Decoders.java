package dev.transact4j.llama.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The decoders of tokenizer.json that this implementation supports. A decoder maps the list of
 * token strings to a new list (Hugging Face {@code decode_chain}); the decoded text is their
 * concatenation.
 */
final class Decoders {
    static final String SUPPORTED = "Sequence, ByteLevel, ByteFallback, Fuse, Strip, Replace, Metaspace";

    /** One step of decoding. */
    interface Decoder {
        List<String> decodeChain(List<String> tokens);
    }

    private Decoders() {
    }

    static Decoder parse(JsonReader json, JsonNode node, String path) {
        String type = json.type(node, path);
        switch (type) {
            case "Sequence": {
                JsonNode items = json.array(node, "decoders", path);
                List<Decoder> list = new ArrayList<>();
                for (int i = 0; i < items.size(); i++) {
                    list.add(parse(json, items.get(i), path + ".decoders[" + i + "]"));
                }
                return tokens -> {
                    List<String> t = tokens;
                    for (Decoder d : list) {
                        t = d.decodeChain(t);
                    }
                    return t;
                };
            }
            case "ByteLevel":
                return Decoders::byteLevel;
            case "ByteFallback":
                return Decoders::byteFallback;
            case "Fuse":
                return tokens -> List.of(String.join("", tokens));
            case "Strip": {
                String content = json.text(node, "content", path);
                if (content.codePointCount(0, content.length()) != 1) {
                    throw json.error(path + ".content", "expected one character, found '" + content + "'");
                }
                return strip(content, json.integer(node, "start", 0), json.integer(node, "stop", 0));
            }
            case "Replace": {
                Pattern pattern = Splitting.compile(json, node.get("pattern"), path + ".pattern");
                String content = Matcher.quoteReplacement(json.text(node, "content", path));
                return tokens -> {
                    List<String> out = new ArrayList<>(tokens.size());
                    for (String t : tokens) {
                        out.add(pattern.matcher(t).replaceAll(content));
                    }
                    return out;
                };
            }
            case "Metaspace": {
                String replacement = json.optionalText(node, "replacement", "\u2581");
                String scheme = json.optionalText(node, "prepend_scheme",
                        json.bool(node, "add_prefix_space", true) ? "always" : "never");
                boolean stripFirst = !scheme.equals("never");
                // Every replacement char of the first token is dropped, not only a leading one,
                // as in Hugging Face's Metaspace decoder.
                return tokens -> {
                    List<String> out = new ArrayList<>(tokens.size());
                    for (int i = 0; i < tokens.size(); i++) {
                        String space = i == 0 && stripFirst ? "" : " ";
                        out.add(tokens.get(i).replace(replacement, space));
                    }
                    return out;
                };
            }
            default:
                throw json.unsupported("decoder", node, path);
        }
    }

    /**
     * Maps byte-level chars back to bytes and decodes them as UTF-8, invalid sequences becoming
     * U+FFFD. A token with a char outside the byte table contributes its own UTF-8 bytes.
     */
    static List<String> byteLevel(List<String> tokens) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (String t : tokens) {
            byte[] b = ByteLevelAlphabet.decode(t);
            if (b == null) {
                b = t.getBytes(StandardCharsets.UTF_8);
            }
            bytes.write(b, 0, b.length);
        }
        return List.of(Utf8.decodeLossy(bytes.toByteArray()));
    }

    /**
     * Turns runs of {@code <0xNN>} tokens into text. A run that is not valid UTF-8 becomes one
     * U+FFFD per byte, as Hugging Face's ByteFallback decoder does.
     */
    static List<String> byteFallback(List<String> tokens) {
        List<String> out = new ArrayList<>(tokens.size());
        ByteArrayOutputStream run = new ByteArrayOutputStream();
        for (String t : tokens) {
            int b = byteToken(t);
            if (b >= 0) {
                run.write(b);
                continue;
            }
            flushBytes(run, out);
            out.add(t);
        }
        flushBytes(run, out);
        return out;
    }

    private static void flushBytes(ByteArrayOutputStream run, List<String> out) {
        if (run.size() == 0) {
            return;
        }
        byte[] bytes = run.toByteArray();
        String s = Utf8.decodeStrict(bytes);
        if (s != null) {
            out.add(s);
        } else {
            for (int i = 0; i < bytes.length; i++) {
                out.add("\uFFFD");
            }
        }
        run.reset();
    }

    /** Returns the byte of a {@code <0xNN>} token, or -1. */
    static int byteToken(String t) {
        if (t.length() != 6 || !t.startsWith("<0x") || t.charAt(5) != '>') {
            return -1;
        }
        int hi = Character.digit(t.charAt(3), 16);
        int lo = Character.digit(t.charAt(4), 16);
        return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
    }

    /** Removes up to {@code start} leading and {@code stop} trailing {@code content} chars from each token. */
    static Decoder strip(String content, int start, int stop) {
        return tokens -> {
            List<String> out = new ArrayList<>(tokens.size());
            for (String t : tokens) {
                int from = 0;
                for (int k = 0; k < start && t.startsWith(content, from); k++) {
                    from += content.length();
                }
                int to = t.length();
                for (int k = 0; k < stop && to - content.length() >= from && t.startsWith(content, to - content.length()); k++) {
                    to -= content.length();
                }
                out.add(t.substring(from, to));
            }
            return out;
        };
    }
}
