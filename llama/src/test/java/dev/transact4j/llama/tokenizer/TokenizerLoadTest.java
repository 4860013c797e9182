package dev.transact4j.llama.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading errors name the file, the JSON path and the offending type or value. */
class TokenizerLoadTest {
    private static final String MODEL = "{'type':'BPE','vocab':{'a':0,'b':1,'ab':2},'merges':[['a','b']]}";

    private static Tokenizer read(String json) throws Exception {
        return Tokenizer.read(new ByteArrayInputStream(json.replace('\'', '"').getBytes(StandardCharsets.UTF_8)),
                "test.json");
    }

    @Test
    void minimalModelEncodes() throws Exception {
        Tokenizer t = read("{'model':" + MODEL + "}");
        assertEquals(3, t.vocabSize());
        assertEquals(2, t.encodeIds("ab", false)[0]);
        assertEquals(1, t.encodeIds("ab", false).length);
        assertEquals("ab", t.decode(new int[] {2}, false));
    }

    @Test
    void unsupportedNormalizerNamesTypeAndPath() {
        TokenizerFormatException e = assertThrows(TokenizerFormatException.class, () -> read(
                "{'normalizer':{'type':'Sequence','normalizers':[{'type':'NFC'},{'type':'BertNormalizer'}]},'model':"
                        + MODEL + "}"));
        assertTrue(e.getMessage().contains("'BertNormalizer'"), e.getMessage());
        assertTrue(e.getMessage().contains("$.normalizer.normalizers[1]"), e.getMessage());
        assertTrue(e.getMessage().startsWith("test.json: "), e.getMessage());
    }

    @Test
    void unsupportedComponentsAreRejected() {
        String[][] cases = {
            {"{'pre_tokenizer':{'type':'BertPreTokenizer'},'model':" + MODEL + "}", "$.pre_tokenizer", "BertPreTokenizer"},
            {"{'decoder':{'type':'WordPiece'},'model':" + MODEL + "}", "$.decoder", "WordPiece"},
            {"{'post_processor':{'type':'RobertaProcessing'},'model':" + MODEL + "}", "$.post_processor", "RobertaProcessing"},
            {"{'model':{'type':'Unigram','vocab':[]}}", "$.model", "Unigram"},
        };
        for (String[] c : cases) {
            TokenizerFormatException e = assertThrows(TokenizerFormatException.class, () -> read(c[0]));
            assertTrue(e.getMessage().contains(c[1]), e.getMessage());
            assertTrue(e.getMessage().contains("'" + c[2] + "'"), e.getMessage());
        }
    }

    @Test
    void mergeWithUnknownTokenIsRejected() {
        TokenizerFormatException e = assertThrows(TokenizerFormatException.class,
                () -> read("{'model':{'type':'BPE','vocab':{'a':0,'b':1},'merges':['a b']}}"));
        assertTrue(e.getMessage().contains("$.model.merges[0]"), e.getMessage());
        assertTrue(e.getMessage().contains("'ab'"), e.getMessage());
    }

    @Test
    void invalidRegexNamesPattern() {
        TokenizerFormatException e = assertThrows(TokenizerFormatException.class, () -> read(
                "{'pre_tokenizer':{'type':'Split','pattern':{'Regex':'(unclosed'},'behavior':'Isolated'},'model':"
                        + MODEL + "}"));
        assertTrue(e.getMessage().contains("$.pre_tokenizer.pattern.Regex"), e.getMessage());
    }

    @Test
    void invalidJsonNamesFile() {
        TokenizerFormatException e = assertThrows(TokenizerFormatException.class, () -> read("{'model': "));
        String reason = ((JsonProcessingException) e.getCause()).getOriginalMessage();
        assertTrue(reason.startsWith("Unexpected end-of-input"), reason);
        assertEquals("test.json: invalid JSON at line 1, column 11 (" + reason + "). Fix the file or restore it from"
                + " the model's source.", e.getMessage());
    }

    @Test
    void truncatedFileNamesLineWithoutJacksonSource(@TempDir Path dir) throws Exception {
        String whole = ("{'model':" + MODEL + "}").replace('\'', '"').replace(",", ",\n");
        Path file = Files.writeString(dir.resolve("tokenizer.json"), whole.substring(0, whole.length() / 2));
        long lines = Files.readString(file).lines().count();

        TokenizerFormatException e = assertThrows(TokenizerFormatException.class, () -> Tokenizer.load(dir));

        String m = e.getMessage();
        assertTrue(m.startsWith(file + ": invalid JSON at line " + lines + ", column "), m);
        assertTrue(m.contains(" (Unexpected end-of-input"), m);
        assertTrue(m.endsWith("). Fix the file or restore it from the model's source."), m);
        assertFalse(m.contains("[Source:"), m);
        assertFalse(m.contains("StreamReadFeature"), m);
        assertFalse(m.contains("start marker"), m);
    }

    @Test
    void missingFileIsReported(@TempDir Path dir) {
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> Tokenizer.load(dir));
        assertTrue(e.getMessage().contains("tokenizer.json"), e.getMessage());
    }

    @Test
    void directoryAndGzipAreAccepted(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("tokenizer.json"), ("{'model':" + MODEL + "}").replace('\'', '"'));
        assertEquals(3, Tokenizer.load(dir).vocabSize());
        assertEquals(151669, Tokenizer.load(HfOracle.unpackResource("/tokenizers/qwen3/tokenizer.json.gz",
                dir.resolve("qwen")).getParent()).vocabSize());
    }
}
