package dev.transact4j.llama.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/**
 * The post-processor of tokenizer.json for single sequences: the special tokens that a template
 * puts before and after the encoded text. ByteLevel post-processors only adjust offsets in
 * Hugging Face and add no token here.
 */
final class PostProcessor {
    static final String SUPPORTED = "TemplateProcessing, ByteLevel, Sequence";

    /** Ids before the text, ids after the text, and their token strings. */
    final int[] prefixIds;
    final int[] suffixIds;
    final String[] prefixTokens;
    final String[] suffixTokens;

    static final PostProcessor NONE = new PostProcessor(new int[0], new int[0], new String[0], new String[0]);

    private PostProcessor(int[] prefixIds, int[] suffixIds, String[] prefixTokens, String[] suffixTokens) {
        this.prefixIds = prefixIds;
        this.suffixIds = suffixIds;
        this.prefixTokens = prefixTokens;
        this.suffixTokens = suffixTokens;
    }

    static PostProcessor parse(JsonReader json, JsonNode node, String path) {
        String type = json.type(node, path);
        switch (type) {
            case "ByteLevel":
                return NONE;
            case "Sequence": {
                JsonNode items = json.array(node, "processors", path);
                PostProcessor result = NONE;
                for (int i = 0; i < items.size(); i++) {
                    PostProcessor p = parse(json, items.get(i), path + ".processors[" + i + "]");
                    if (p != NONE) {
                        if (result != NONE) {
                            throw json.error(path, "more than one TemplateProcessing in a Sequence is not supported");
                        }
                        result = p;
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
                prefixTokens.toArray(new String[0]), suffixTokens.toArray(new String[0]));
    }
}
