package dev.transact4j.llama.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * Compares our tokenizer with Hugging Face's on the real tokenizer files of Mistral 7B
 * (SentencePiece style with byte fallback) and Qwen3 (byte-level), on the hard cases.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PretrainedTokenizerTest {
    private final java.util.Map<String, Tokenizer> ours = new java.util.HashMap<>();
    private final java.util.Map<String, HfOracle> oracles = new java.util.HashMap<>();

    @BeforeAll
    void load(@TempDir Path temp) throws IOException {
        for (String name : List.of("mistral-7b", "qwen3")) {
            Path json = HfOracle.unpackResource("/tokenizers/" + name + "/tokenizer.json.gz", temp.resolve(name));
            ours.put(name, Tokenizer.load(json));
            oracles.put(name, HfOracle.load(json));
        }
    }

    @AfterAll
    void close() {
        oracles.values().forEach(HfOracle::close);
    }

    @ParameterizedTest
    @ValueSource(strings = {"mistral-7b", "qwen3"})
    void hardCasesEncodeLikeOracle(String name) {
        Tokenizer tokenizer = ours.get(name);
        HfOracle oracle = oracles.get(name);
        for (String text : HardCases.TEXTS) {
            for (boolean special : new boolean[] {true, false}) {
                int[] expected = oracle.encode(text, special);
                int[] actual = tokenizer.encodeIds(text, special);
                assertArrayEquals(expected, actual, () -> name + " ids of '" + text + "' (special " + special
                        + ")\n expected " + Arrays.toString(expected) + "\n actual   " + Arrays.toString(actual));
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"mistral-7b", "qwen3"})
    void hardCasesOffsetsLikeOracle(String name) {
        Tokenizer tokenizer = ours.get(name);
        HfOracle oracle = oracles.get(name);
        for (String text : HardCases.TEXTS) {
            assertEquals(oracle.offsets(text), HfOracle.codePointOffsets(tokenizer, text, tokenizer.encode(text, true)),
                    name + " offsets of '" + text + "'");
            assertEquals(Arrays.asList(oracle.tokenizer.encode(text, true, false).getTokens()),
                    Arrays.asList(tokenizer.encode(text, true).tokens()), name + " tokens of '" + text + "'");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"mistral-7b", "qwen3"})
    void hardCasesDecodeLikeOracle(String name) {
        Tokenizer tokenizer = ours.get(name);
        HfOracle oracle = oracles.get(name);
        for (String text : HardCases.TEXTS) {
            int[] ids = tokenizer.encodeIds(text, true);
            for (boolean skip : new boolean[] {true, false}) {
                assertEquals(oracle.decode(ids, skip), tokenizer.decode(ids, skip),
                        name + " decode of '" + text + "' (skip special " + skip + ")");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"mistral-7b", "qwen3"})
    void randomIdsDecodeLikeOracle(String name) {
        Tokenizer tokenizer = ours.get(name);
        HfOracle oracle = oracles.get(name);
        Random random = new Random(42);
        for (int trial = 0; trial < 300; trial++) {
            int[] ids = new int[1 + random.nextInt(17)];
            for (int i = 0; i < ids.length; i++) {
                // low ids include the special and <0xNN> byte tokens of Mistral, and single bytes of Qwen
                ids[i] = random.nextBoolean() ? random.nextInt(300) : random.nextInt(tokenizer.vocabSize());
            }
            for (boolean skip : new boolean[] {true, false}) {
                assertEquals(oracle.decode(ids, skip), tokenizer.decode(ids, skip),
                        name + " decode of " + Arrays.toString(ids) + " (skip special " + skip + ")");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"mistral-7b", "qwen3"})
    void specialTokensAsTextEncodeAsPlainText(String name) {
        Tokenizer tokenizer = ours.get(name);
        String special = name.equals("qwen3") ? "<|im_start|>" : "</s>";
        int specialId = tokenizer.tokenToId(special).getAsInt();
        String text = "before " + special + " after";

        int[] asSpecial = tokenizer.encodeIds(text, false);
        int[] asText = tokenizer.encode(text, false, true).ids();

        assertEquals(1, Arrays.stream(asSpecial).filter(id -> id == specialId).count());
        assertFalse(Arrays.stream(asText).anyMatch(id -> id == specialId));
        assertEquals(text, tokenizer.decode(asText, false));
    }

    @ParameterizedTest
    @ValueSource(strings = {"mistral-7b", "qwen3"})
    void streamDecoderEmitsCompleteCharacters(String name) {
        Tokenizer tokenizer = ours.get(name);
        for (String text : HardCases.TEXTS) {
            int[] ids = tokenizer.encodeIds(text, false);
            StreamDecoder stream = tokenizer.streamDecoder(false);
            StringBuilder out = new StringBuilder();
            List<String> pieces = new ArrayList<>();
            for (int id : ids) {
                String piece = stream.step(id);
                if (piece != null) {
                    assertFalse(piece.endsWith("\uFFFD") && !text.contains("\uFFFD"), "piece ends inside a character");
                    assertFalse(!piece.isEmpty() && Character.isHighSurrogate(piece.charAt(piece.length() - 1)),
                            "piece ends inside a surrogate pair");
                    pieces.add(piece);
                    out.append(piece);
                }
            }
            assertEquals(tokenizer.decode(ids, false), out.toString(), name + " stream of '" + text + "' " + pieces);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"mistral-7b", "qwen3"})
    void offsetsCoverTheirTokens(String name) {
        Tokenizer tokenizer = ours.get(name);
        Encoding e = tokenizer.encode("Hello, world! It's 2026.", false);
        assertNotNull(e.offsets());
        assertEquals(2 * e.size(), e.offsets().length);
        StringBuilder covered = new StringBuilder();
        int previousEnd = 0;
        for (int i = 0; i < e.size(); i++) {
            assertEquals(true, e.start(i) >= previousEnd - 1, "offsets go backwards at token " + i);
            covered.append("Hello, world! It's 2026.", Math.max(e.start(i), previousEnd), e.end(i));
            previousEnd = Math.max(previousEnd, e.end(i));
        }
        assertEquals("Hello, world! It's 2026.", covered.toString());
    }
}
