package dev.transact4j.llama.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/**
 * The post-processor of tokenizer.json for single sequences: the special tokens that a template
 * puts before and after the encoded text, and the offset trimming of a ByteLevel post-processor
 * with {@code trim_offsets}, which adds no token.
 */
final class PostProcessor {
    static final String SUPPORTED = "TemplateProcessing, ByteLevel, Sequence";

    /** Ids before the text, ids after the text, and their token strings. */
    final int[] prefixIds;
    final int[] suffixIds;
    final String[] prefixTokens;
    final String[] suffixTokens;

    /** Whether a ByteLevel step trims the whitespace of tokens out of their offsets. */
    final boolean trimOffsets;
    /** The ByteLevel step's {@code add_prefix_space}, which keeps the first token's one leading space. */
    final boolean addPrefixSpace;

    static final PostProcessor NONE = new PostProcessor(new int[0], new int[0], new String[0], new String[0],
            false, false);

    private PostProcessor(int[] prefixIds, int[] suffixIds, String[] prefixTokens, String[] suffixTokens,
                          boolean trimOffsets, boolean addPrefixSpace) {
        this.prefixIds = prefixIds;
        this.suffixIds = suffixIds;
        this.prefixTokens = prefixTokens;
        this.suffixTokens = suffixTokens;
        this.trimOffsets = trimOffsets;
        this.addPrefixSpace = addPrefixSpace;
    }

    private PostProcessor withTrimming(boolean trim, boolean prefixSpace) {
        return new PostProcessor(prefixIds, suffixIds, prefixTokens, suffixTokens, trim, prefixSpace);
    }

    /**
     * Moves each token's offsets past its leading and trailing whitespace (the byte-level space
     * char or Unicode White_Space in the token string), as Hugging Face's ByteLevel
     * post-processor does with {@code trim_offsets}. The first token keeps one leading space that
     * {@code add_prefix_space} may have added. {@code offsets} contains the (start, end) pairs of
     * {@code tokens}.
     */
    void trimOffsets(List<String> tokens, int from, int[] offsets) {
        if (!trimOffsets) {
            return;
        }
        char space = ByteLevelAlphabet.charOf(' ');
        for (int i = from; i < tokens.size(); i++) {
            String token = tokens.get(i);
            int leading = 0;
            while (leading < token.length() && isSpace(token.charAt(leading), space)) {
                leading++;
            }
            int trailing = 0;
            while (trailing < token.length() && isSpace(token.charAt(token.length() - 1 - trailing), space)) {
                trailing++;
            }
            int start = offsets[2 * i];
            int end = offsets[2 * i + 1];
            if (leading > 0) {
                boolean first = i == from || start == 0;
                if (first && addPrefixSpace && leading == 1) {
                    leading = 0;
                }
                start = Math.min(start + leading, end);
            }
            if (trailing > 0 && end >= trailing) {
                end = Math.max(end - trailing, start);
            }
            offsets[2 * i] = start;
            offsets[2 * i + 1] = end;
        }
    }

    private static boolean isSpace(char c, char byteLevelSpace) {
        return c == byteLevelSpace || Normalizers.isWhitespace(c);
    }

    static PostProcessor parse(JsonReader json, JsonNode node, String path) {
        String type = json.type(node, path);
        switch (type) {
            case "ByteLevel":
                return NONE.withTrimming(json.bool(node, "trim_offsets", true), json.bool(node, "add_prefix_space", true));
            case "Sequence": {
                JsonNode items = json.array(node, "processors", path);
                PostProcessor result = NONE;
                boolean seenTemplate = false;
                for (int i = 0; i < items.size(); i++) {
                    String itemPath = path + ".processors[" + i + "]";
                    PostProcessor p = parse(json, items.get(i), itemPath);
                    if (json.type(items.get(i), itemPath).equals("ByteLevel")) {
                        if (seenTemplate) {
                            throw json.error(itemPath, "a ByteLevel step after TemplateProcessing is not supported");
                        }
                        result = result.withTrimming(p.trimOffsets, p.addPrefixSpace);
                    } else {
                        if (seenTemplate) {
                            throw json.error(itemPath, "more than one TemplateProcessing in a Sequence is not supported");
                        }
                        seenTemplate = true;
                        result = new PostProcessor(p.prefixIds, p.suffixIds, p.prefixTokens, p.suffixTokens,
                                result.trimOffsets, result.addPrefixSpace);
                    }
                }
                return result;
            }
            case "TemplateProcessing":
                return template(json, node, path);
            default:
                throw json.unsupported("post_processor", node, path);
        }
    }

    private static PostProcessor template(JsonReader json, JsonNode node, String path) {
        JsonNode single = json.array(node, "single", path);
        JsonNode specials = json.required(node, "special_tokens", path);
        List<Integer> prefix = new ArrayList<>();
        List<Integer> suffix = new ArrayList<>();
        List<String> prefixTokens = new ArrayList<>();
        List<String> suffixTokens = new ArrayList<>();
        boolean seenSequence = false;
        for (int i = 0; i < single.size(); i++) {
            JsonNode item = single.get(i);
            String itemPath = path + ".single[" + i + "]";
            if (item.has("Sequence")) {
                if (seenSequence) {
                    throw json.error(itemPath, "a single-sequence template with two sequences");
                }
                seenSequence = true;
            } else if (item.has("SpecialToken")) {
                String name = json.text(item.get("SpecialToken"), "id", itemPath + ".SpecialToken");
                JsonNode special = specials.get(name);
                if (special == null) {
                    throw json.error(path + ".special_tokens", "special token '" + name
                            + "' used by the template is not defined");
                }
                JsonNode ids = json.array(special, "ids", path + ".special_tokens." + name);
                JsonNode tokens = json.array(special, "tokens", path + ".special_tokens." + name);
                for (int k = 0; k < ids.size(); k++) {
                    (seenSequence ? suffix : prefix).add(ids.get(k).asInt());
                    (seenSequence ? suffixTokens : prefixTokens).add(tokens.get(k).asText());
                }
            } else {
                throw json.error(itemPath, "expected Sequence or SpecialToken, found " + item);
            }
        }
        return new PostProcessor(prefix.stream().mapToInt(Integer::intValue).toArray(),
                suffix.stream().mapToInt(Integer::intValue).toArray(),
                prefixTokens.toArray(new String[0]), suffixTokens.toArray(new String[0]), false, false);
    }
}
