package dev.transact4j.llama.inference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.transact4j.llama.LlamaConfig;
import dev.transact4j.llama.inference.GenerationResult.StopReason;
import dev.transact4j.llama.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Runs the generator on a bigram model counted from a small text, with the Mistral 7B tokenizer,
 * whose byte fallback splits characters outside its vocabulary (the emoji here) into one token
 * per UTF-8 byte.
 */
class GeneratorTest {

    static final List<String> DOCUMENTS = List.of(
            "The llama ate grass.",
            "The llama ate grass.",
            "The llama ate grass.",
            "Llamas say 🦙 and alpacas say 🦙🦙 too.",
            "Llamas say 🦙 when they are happy 😀.",
            "Alpacas and llamas live in the Andes 🏔 mountains.",
            "A happy llama 🦙 is a llama that ate grass 🌿 in the mountains 🏔.",
            "Vicuñas are wild relatives of the llama.",
            "Llama wool is warm, and alpaca wool 🧶 is soft.");
    static final int EOS = 2;

    private static Tokenizer tokenizer;
    private static BigramLm model;

    static Tokenizer mistralTokenizer() throws IOException {
        String resource = "/tokenizers/mistral-7b/tokenizer.json.gz";
        try (InputStream in = GeneratorTest.class.getResourceAsStream(resource)) {
            assertTrue(in != null, "missing test resource " + resource);
            return Tokenizer.read(new GZIPInputStream(in), resource);
        }
    }

    @BeforeAll
    static void countText() throws IOException {
        tokenizer = mistralTokenizer();
        model = new BigramLm(tokenizer, DOCUMENTS, EOS, 256);
    }

    private static boolean isByteToken(int id) {
        return tokenizer.idToToken(id).matches("<0x[0-9A-F]{2}>");
    }

    @Test
    void greedyStopsAtEos() {
        Generator generator = new Generator(model, tokenizer);
        GenerationResult result = generator.generate("The", GenerationOptions.greedy(50));
        assertEquals(StopReason.EOS, result.stopReason());
        int[] generated = result.generatedIds();
        assertEquals(EOS, generated[generated.length - 1], "the EOS id ends the generated ids");
        assertEquals(" llama ate grass.", result.text());
        assertArrayEquals(tokenizer.encodeIds("The", true), result.promptIds());
    }

    @Test
    void tokenLimitStops() {
        Generator generator = new Generator(model, tokenizer);
        GenerationResult result = generator.generate("The", GenerationOptions.greedy(3));
        assertEquals(StopReason.MAX_TOKENS, result.stopReason());
        assertEquals(3, result.generatedIds().length);
        assertEquals(" llama ate", result.text());
    }

    @Test
    void otherStopIdStops() {
        Generator generator = new Generator(model, tokenizer);
        int llama = generator.generate("The", GenerationOptions.greedy(1)).generatedIds()[0];
        GenerationResult result = generator.generate("The", GenerationOptions.greedy(10).withStopIds(llama));
        assertEquals(StopReason.EOS, result.stopReason());
        assertArrayEquals(new int[] {llama}, result.generatedIds());
        assertEquals("", result.text(), "a stop id is not decoded into the text");
    }

    @Test
    void ignoringEosRunsToLimit() {
        Generator generator = new Generator(model, tokenizer);
        GenerationResult result = generator.generate("The", GenerationOptions.greedy(12).withStopAtEos(false));
        assertEquals(StopReason.MAX_TOKENS, result.stopReason());
        assertEquals(12, result.generatedIds().length);
        assertTrue(Arrays.stream(result.generatedIds()).anyMatch(id -> id == EOS), "EOS is generated and passed over");
    }

    @Test
    void streamingKeepsCharactersWhole() {
        assertStreamsWholeCharacters(tokenizer, model, 20);
    }

    @Test
    void streamingKeepsByteLevelCharactersWhole() throws IOException {
        // Qwen3's byte-level BPE has no byte tokens; an emoji outside its merges spans several tokens
        String resource = "/tokenizers/qwen3/tokenizer.json.gz";
        Tokenizer qwen;
        try (InputStream in = GeneratorTest.class.getResourceAsStream(resource)) {
            assertTrue(in != null, "missing test resource " + resource);
            qwen = Tokenizer.read(new GZIPInputStream(in), resource);
        }
        int eos = qwen.tokenToId("<|im_end|>").orElseThrow();
        assertStreamsWholeCharacters(qwen, new BigramLm(qwen, DOCUMENTS, eos, 256), 6);
    }

    /**
     * Samples from "Llamas say" with several seeds and checks every streamed piece: no piece starts
     * or ends inside a character, and the pieces add up to the decoded text.
     */
    private static void assertStreamsWholeCharacters(Tokenizer tokenizer, BigramLm model, int seeds) {
        Generator generator = new Generator(model, tokenizer);
        int partialTokens = 0;
        int emojiPieces = 0;
        for (long seed = 1; seed <= seeds; seed++) {
            List<String> pieces = new ArrayList<>();
            GenerationOptions options = GenerationOptions.of(40, SamplingOptions.sample(1f, seed).withTopK(8));
            GenerationResult result = generator.generate("Llamas say", options, pieces::add);

            for (String piece : pieces) {
                assertFalse(piece.isEmpty(), "no empty pieces");
                // U+FFFD inside a piece is an invalid byte run the model generated; at the end it
                // would be a character cut in half
                assertFalse(piece.endsWith("\uFFFD"), "piece '" + piece + "' ends in a replacement character");
                assertFalse(Character.isLowSurrogate(piece.charAt(0)), "piece '" + piece + "' starts inside a character");
                assertFalse(Character.isHighSurrogate(piece.charAt(piece.length() - 1)),
                        "piece '" + piece + "' ends inside a character");
                if (piece.codePoints().anyMatch(Character::isSupplementaryCodePoint)) {
                    emojiPieces++;
                }
            }
            assertEquals(String.join("", pieces), result.text());
            for (int id : result.generatedIds()) {
                if (tokenizer.decode(new int[] {id}, true).contains("\uFFFD")) {
                    partialTokens++;
                }
            }

            // the pieces are the decoded text of prompt and generation after the prompt's text
            int[] generated = result.generatedIds();
            int textIds = result.stopReason() == StopReason.EOS ? generated.length - 1 : generated.length;
            int[] all = new int[result.promptIds().length + textIds];
            System.arraycopy(result.promptIds(), 0, all, 0, result.promptIds().length);
            System.arraycopy(generated, 0, all, result.promptIds().length, textIds);
            String full = tokenizer.decode(all, true);
            if (!full.endsWith("\uFFFD")) {
                assertEquals(full, tokenizer.decode(result.promptIds(), true) + result.text(), "seed " + seed);
            }
        }
        assertTrue(partialTokens > 0, "the runs must generate tokens holding part of a character");
        assertTrue(emojiPieces > 0, "the runs must stream characters made of several tokens");
    }

    @Test
    void limitInsideCharacterHoldsItBack() {
        Generator generator = new Generator(model, tokenizer);
        GenerationResult whole = generator.generate("Llamas say", GenerationOptions.greedy(8));
        int firstByte = -1;
        for (int i = 0; i < whole.generatedIds().length && firstByte < 0; i++) {
            if (isByteToken(whole.generatedIds()[i])) {
                firstByte = i;
            }
        }
        assertTrue(firstByte >= 0, "greedy text after 'Llamas say' must contain an emoji: " + whole.text());

        // stop after two of the emoji's four bytes
        GenerationResult cut = generator.generate("Llamas say", GenerationOptions.greedy(firstByte + 2));
        assertEquals(StopReason.MAX_TOKENS, cut.stopReason());
        assertFalse(cut.text().contains("\uFFFD"), cut.text());
        assertTrue(whole.text().startsWith(cut.text()), whole.text() + " / " + cut.text());
        assertTrue(Character.isSupplementaryCodePoint(whole.text().codePointAt(cut.text().length())),
                "the held-back character is the emoji: " + whole.text());
    }

    @Test
    void sameSeedSameText() {
        Generator generator = new Generator(model, tokenizer);
        GenerationOptions options = GenerationOptions.of(30, SamplingOptions.sample(1.2f, 42).withTopK(20))
                .withStopAtEos(false);
        GenerationResult first = generator.generate("A happy llama", options);
        GenerationResult second = new Generator(model, tokenizer).generate("A happy llama", options);
        GenerationResult other = generator.generate("A happy llama",
                options.withSampling(options.sampling().withSeed(43)));
        assertArrayEquals(first.generatedIds(), second.generatedIds());
        assertEquals(first.text(), second.text());
        assertFalse(Arrays.equals(first.generatedIds(), other.generatedIds()), "another seed gives other tokens");
    }

    @Test
    void contextFullStops() {
        int[] prompt = tokenizer.encodeIds("The llama", true);
        Generator generator = new Generator(model, tokenizer, prompt.length + 2);
        GenerationResult result = generator.generate(prompt, GenerationOptions.greedy(10).withStopAtEos(false), null);
        assertEquals(StopReason.CONTEXT_FULL, result.stopReason());
        assertEquals(3, result.generatedIds().length, "two decoding steps fill the cache, each giving one more token");
        assertEquals(prompt.length + 2, generator.cache().length());
    }

    @Test
    void hugeTokenLimitIsBoundedByCache() {
        Generator generator = new Generator(model, tokenizer, 16);
        GenerationResult result = generator.generate("The", GenerationOptions.greedy(Integer.MAX_VALUE)
                .withStopAtEos(false));
        assertEquals(StopReason.CONTEXT_FULL, result.stopReason());
        assertEquals(16 - result.promptIds().length + 1, result.generatedIds().length);
    }

    @Test
    void promptLongerThanCacheIsRejected() {
        Generator generator = new Generator(model, tokenizer, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> generator.generate("The llama ate grass in the mountains.", GenerationOptions.greedy(5)));
        assertTrue(e.getMessage().contains("but the KV cache holds 4 positions"), e.getMessage());
    }

    @Test
    void invalidPromptIdsAreRejected() {
        Generator generator = new Generator(model, null);
        assertThrows(IllegalArgumentException.class, () -> generator.generate(new int[0], GenerationOptions.greedy(1), null));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> generator.generate(new int[] {1, 32000}, GenerationOptions.greedy(1), null));
        assertTrue(e.getMessage().contains("prompt id 32000 at position 1"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> generator.generate("text", GenerationOptions.greedy(1)));
    }

    @Test
    void idsOnlyWithoutTokenizer() {
        Generator withText = new Generator(model, tokenizer);
        GenerationResult expected = withText.generate("The", GenerationOptions.greedy(50));
        GenerationResult result = new Generator(model, null).generate(expected.promptIds(),
                GenerationOptions.greedy(50), null);
        assertArrayEquals(expected.generatedIds(), result.generatedIds());
        assertEquals("", result.text());
    }

    @Test
    void ratesAreReported() {
        GenerationResult result = new Generator(model, tokenizer).generate("The", GenerationOptions.greedy(4)
                .withStopAtEos(false));
        assertTrue(result.promptTokensPerSecond() > 0, result.summary());
        assertTrue(result.generationTokensPerSecond() > 0, result.summary());
        assertTrue(result.summary().startsWith("prompt: 2 tokens, "), result.summary());
        assertTrue(result.summary().contains("generation: 4 tokens"), result.summary());
        assertTrue(result.summary().endsWith("(stopped: " + result.stopReason().description() + ")"), result.summary());
    }

    @Test
    void generationConfigSetsOptions() throws IOException {
        ObjectMapper json = new ObjectMapper();
        GenerationOptions sampled = GenerationOptions.fromGenerationConfig(json.readTree(
                "{\"do_sample\": true, \"temperature\": 0.6, \"top_p\": 0.9, \"eos_token_id\": [2, 32000],"
                        + " \"max_new_tokens\": 7}"), 100, 5);
        assertEquals(new SamplingOptions(0.6f, 50, 0.9, 0.0, 1f, 5), sampled.sampling());
        assertEquals(7, sampled.maxNewTokens());
        assertArrayEquals(new int[] {2, 32000}, sampled.stopIds());

        GenerationOptions greedy = GenerationOptions.fromGenerationConfig(json.readTree(
                "{\"temperature\": 0.6, \"repetition_penalty\": 1.1, \"eos_token_id\": 2}"), 100, 5);
        assertTrue(greedy.sampling().isGreedy(), "do_sample defaults to false");
        assertEquals(1.1f, greedy.sampling().repetitionPenalty());
        assertEquals(100, greedy.maxNewTokens());
        assertArrayEquals(new int[] {2}, greedy.stopIds());

        assertTrue(GenerationOptions.fromGenerationConfig(null, 10, 1).sampling().isGreedy());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GenerationOptions.fromGenerationConfig(json.readTree("{\"top_k\": \"many\"}"), 10, 1));
        assertTrue(e.getMessage().contains("top_k is \"many\" but must be a number"), e.getMessage());
    }

    @Test
    void modelThatSkipsCacheIsRejected() {
        CausalLm broken = new CausalLm() {
            @Override
            public LlamaConfig config() {
                return model.config();
            }

            @Override
            public float[] prefill(int[] ids, KvCache cache) {
                return new float[model.config().vocabSize()];
            }

            @Override
            public float[] decodeStep(int id, KvCache cache) {
                return new float[model.config().vocabSize()];
            }
        };
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new Generator(broken, null).generate(new int[] {1, 5}, GenerationOptions.greedy(2), null));
        assertTrue(e.getMessage().contains("the KV cache holds 0"), e.getMessage());
        assertNotEquals(null, e.getMessage());
    }
}
