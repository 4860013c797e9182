package dev.transact4j.llama.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checks each supported component against Hugging Face. Each test edits the real Mistral or Qwen3
 * file into a variant that uses the component (as the files of Llama 2, TinyLlama, GPT-2 and
 * Llama 3 do), then compares ids, token strings, offsets and decoded text on the hard cases.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ComponentOracleTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String LLAMA3_PATTERN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+"
            + "|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    private Path temp;
    private ObjectNode mistral;
    private ObjectNode qwen;
    private int variantCount;

    @BeforeAll
    void load(@TempDir Path dir) throws IOException {
        temp = dir;
        mistral = (ObjectNode) JSON.readTree(HfOracle.unpackResource("/tokenizers/mistral-7b/tokenizer.json.gz",
                dir.resolve("mistral")).toFile());
        qwen = (ObjectNode) JSON.readTree(HfOracle.unpackResource("/tokenizers/qwen3/tokenizer.json.gz",
                dir.resolve("qwen")).toFile());
    }

    private static JsonNode node(String json) {
        try {
            return JSON.readTree(json.replace('\'', '"'));
        } catch (IOException e) {
            throw new IllegalArgumentException(json, e);
        }
    }

    /** Writes an edited copy of {@code base} and compares both tokenizers on the hard cases. */
    private void assertVariantMatches(String name, ObjectNode base, Consumer<ObjectNode> edit) throws IOException {
        ObjectNode variant = base.deepCopy();
        edit.accept(variant);
        Path file = temp.resolve("variant" + (variantCount++)).resolve("tokenizer.json");
        Files.createDirectories(file.getParent());
        JSON.writeValue(file.toFile(), variant);

        Tokenizer tokenizer = Tokenizer.load(file);
        List<String> texts = new ArrayList<>(HardCases.TEXTS);
        texts.addAll(List.of("yes, yes! yesterday [MASK] is   [MASK]  here", "<tool>  call</tool>", "Yes YES",
                "2026 has 365 days, 12 months", "a1b22c333d4444"));
        try (HfOracle oracle = HfOracle.load(file)) {
            for (String text : texts) {
                for (boolean special : new boolean[] {true, false}) {
                    int[] expected = oracle.encode(text, special);
                    int[] actual = tokenizer.encodeIds(text, special);
                    assertArrayEquals(expected, actual, () -> name + " ids of '" + text + "' (special " + special
                            + ")\n expected " + Arrays.toString(expected) + "\n actual   " + Arrays.toString(actual));
                }
                assertEquals(oracle.offsets(text), HfOracle.codePointOffsets(tokenizer, text, tokenizer.encode(text, true)),
                        name + " offsets of '" + text + "'");
                assertEquals(Arrays.asList(oracle.tokenizer.encode(text, true, false).getTokens()),
                        Arrays.asList(tokenizer.encode(text, true).tokens()), name + " tokens of '" + text + "'");
                int[] ids = tokenizer.encodeIds(text, true);
                for (boolean skip : new boolean[] {true, false}) {
                    assertEquals(oracle.decode(ids, skip), tokenizer.decode(ids, skip),
                            name + " decode of '" + text + "' (skip special " + skip + ")");
                    StreamDecoder stream = tokenizer.streamDecoder(skip);
                    StringBuilder streamed = new StringBuilder();
                    for (int id : ids) {
                        String piece = stream.step(id);
                        if (piece != null) {
                            streamed.append(piece);
                        }
                    }
                    assertEquals(tokenizer.decode(ids, skip), streamed.toString(),
                            name + " stream decode of '" + text + "' (skip special " + skip + ")");
                }
            }
        }
    }

    @Test
    void metaspaceFirstLikeLlama2() throws IOException {
        assertVariantMatches("metaspace first", mistral, t -> {
            t.putNull("normalizer");
            t.set("pre_tokenizer", node("{'type':'Metaspace','replacement':'\u2581','prepend_scheme':'first','split':false}"));
            t.set("decoder", node("{'type':'Sequence','decoders':[{'type':'ByteFallback'},"
                    + "{'type':'Metaspace','replacement':'\u2581','prepend_scheme':'first','split':false}]}"));
        });
    }

    @Test
    void metaspaceAlwaysSplitWithMetaspaceDecoder() throws IOException {
        assertVariantMatches("metaspace always split", mistral, t -> {
            t.putNull("normalizer");
            t.set("pre_tokenizer", node("{'type':'Metaspace','replacement':'\u2581','prepend_scheme':'always','split':true}"));
            t.set("decoder", node("{'type':'Sequence','decoders':[{'type':'ByteFallback'},"
                    + "{'type':'Metaspace','replacement':'\u2581','prepend_scheme':'always','split':true}]}"));
        });
    }

    @Test
    void normalizersDigitsAndAddedTokenFlags() throws IOException {
        assertVariantMatches("normalizers and added tokens", mistral, t -> {
            t.set("normalizer", node("{'type':'Sequence','normalizers':[{'type':'NFKC'},{'type':'Lowercase'},"
                    + "{'type':'Strip','strip_left':false,'strip_right':true},"
                    + "{'type':'Replace','pattern':{'Regex':'\\\\s+'},'content':' '},"
                    + "{'type':'Prepend','prepend':'\u2581'},{'type':'Replace','pattern':{'String':' '},'content':'\u2581'}]}"));
            t.set("pre_tokenizer", node("{'type':'Digits','individual_digits':true}"));
            ArrayNode added = (ArrayNode) t.get("added_tokens");
            added.add(node("{'id':32000,'content':'[MASK]','single_word':false,'lstrip':true,'rstrip':false,'normalized':false,'special':true}"));
            added.add(node("{'id':32001,'content':'yes','single_word':true,'lstrip':false,'rstrip':false,'normalized':true,'special':false}"));
            added.add(node("{'id':32002,'content':'<tool>','single_word':false,'lstrip':false,'rstrip':true,'normalized':false,'special':false}"));
        });
    }

    @Test
    void unicodeNormalizationForms() throws IOException {
        for (String form : new String[] {"NFC", "NFD", "NFKC", "NFKD"}) {
            assertVariantMatches(form, mistral, t -> t.set("normalizer", node("{'type':'Sequence','normalizers':["
                    + "{'type':'" + form + "'},{'type':'Prepend','prepend':'\u2581'},"
                    + "{'type':'Replace','pattern':{'String':' '},'content':'\u2581'}]}")));
        }
    }

    @Test
    void unknownTokensWithoutByteFallback() throws IOException {
        for (boolean fuse : new boolean[] {true, false}) {
            assertVariantMatches("unk fuse " + fuse, mistral, t -> {
                ObjectNode model = (ObjectNode) t.get("model");
                model.put("byte_fallback", false);
                model.put("fuse_unk", fuse);
            });
        }
    }

    @Test
    void byteLevelWithRegexLikeGpt2() throws IOException {
        assertVariantMatches("gpt2", qwen, t -> {
            t.putNull("normalizer");
            t.set("pre_tokenizer", node("{'type':'ByteLevel','add_prefix_space':true,'trim_offsets':true,'use_regex':true}"));
            t.set("post_processor", node("{'type':'ByteLevel','add_prefix_space':true,'trim_offsets':true,'use_regex':true}"));
        });
    }

    @Test
    void byteLevelTrimmedOffsetsWithoutPrefixSpace() throws IOException {
        assertVariantMatches("trim offsets", qwen, t -> t.set("post_processor", node("{'type':'Sequence','processors':["
                + "{'type':'ByteLevel','add_prefix_space':false,'trim_offsets':true,'use_regex':true},"
                + "{'type':'TemplateProcessing','single':[{'SpecialToken':{'id':'<|endoftext|>','type_id':0}},"
                + "{'Sequence':{'id':'A','type_id':0}}],'pair':[{'Sequence':{'id':'A','type_id':0}},"
                + "{'Sequence':{'id':'B','type_id':1}}],'special_tokens':{'<|endoftext|>':{'id':'<|endoftext|>',"
                + "'ids':[151643],'tokens':['<|endoftext|>']}}}]}")));
    }

    @Test
    void llama3PatternIgnoreMergesAndTemplate() throws IOException {
        assertVariantMatches("llama3", qwen, t -> {
            ObjectNode split = (ObjectNode) node("{'type':'Split','behavior':'Isolated','invert':false}");
            split.set("pattern", JSON.createObjectNode().put("Regex", LLAMA3_PATTERN));
            ArrayNode sequence = JSON.createArrayNode().add(split)
                    .add(node("{'type':'ByteLevel','add_prefix_space':false,'trim_offsets':true,'use_regex':false}"));
            t.set("pre_tokenizer", JSON.createObjectNode().put("type", "Sequence").set("pretokenizers", sequence));
            ((ObjectNode) t.get("model")).put("ignore_merges", true);
            t.set("post_processor", node("{'type':'Sequence','processors':[{'type':'ByteLevel','add_prefix_space':true,"
                    + "'trim_offsets':false,'use_regex':true},{'type':'TemplateProcessing',"
                    + "'single':[{'SpecialToken':{'id':'<|endoftext|>','type_id':0}},{'Sequence':{'id':'A','type_id':0}},"
                    + "{'SpecialToken':{'id':'<|im_end|>','type_id':0}}],"
                    + "'pair':[{'Sequence':{'id':'A','type_id':0}},{'Sequence':{'id':'B','type_id':1}}],"
                    + "'special_tokens':{'<|endoftext|>':{'id':'<|endoftext|>','ids':[151643],'tokens':['<|endoftext|>']},"
                    + "'<|im_end|>':{'id':'<|im_end|>','ids':[151645],'tokens':['<|im_end|>']}}}]}"));
        });
    }

    @Test
    void splitBehaviours() throws IOException {
        assertVariantMatches("split behaviours", qwen, t -> t.set("pre_tokenizer", node("{'type':'Sequence','pretokenizers':["
                + "{'type':'Split','pattern':{'Regex':'[,.!?]'},'behavior':'MergedWithPrevious','invert':false},"
                + "{'type':'Split','pattern':{'String':' '},'behavior':'MergedWithNext','invert':false},"
                + "{'type':'Split','pattern':{'Regex':'\\\\p{L}+'},'behavior':'Contiguous','invert':true},"
                + "{'type':'Digits','individual_digits':false},"
                + "{'type':'Split','pattern':{'String':'\\t'},'behavior':'Removed','invert':false},"
                + "{'type':'ByteLevel','add_prefix_space':false,'trim_offsets':false,'use_regex':false}]}")));
    }
}
