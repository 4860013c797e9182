package dev.transact4j.train.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every bad input gives a DatasetException whose message names the file, the position and the fix. */
class DatasetErrorsTest {

    @TempDir
    Path dir;

    private DatasetException loadFails(DatasetSource source, TokenEncoder encoder) {
        DatasetLoader loader = new DatasetLoader(dir.resolve("out"), encoder, ProgressListener.NONE);
        return assertThrows(DatasetException.class, () -> loader.load(source));
    }

    @Test
    void missingTextPath() {
        Path missing = dir.resolve("nope.txt");
        DatasetException e = loadFails(DatasetSource.text(missing), new ByteTokenizer());
        assertEquals("Dataset path not found: " + missing + ". Give an existing file or directory.", e.getMessage());
    }

    @Test
    void missingTokenFile() {
        Path missing = dir.resolve("train.bin");
        DatasetException e = loadFails(DatasetSource.tokenFile(missing, TokenDtype.UINT16), null);
        assertEquals("Token file not found: " + missing + ". Check the path, or write the file with nanoGPT's or"
                + " llm.c's data preparation script first.", e.getMessage());
    }

    @Test
    void directoryWithoutMatchingFiles() throws IOException {
        Path corpus = Files.createDirectories(dir.resolve("corpus"));
        Files.writeString(corpus.resolve("readme.md"), "not text");
        DatasetException e = loadFails(DatasetSource.text(corpus), new ByteTokenizer());
        assertEquals("Dataset directory " + corpus + " contains no file matching *.txt (searched recursively)."
                + " Add files or choose another file pattern.", e.getMessage());
        assertEquals(DatasetException.Kind.NO_MATCHING_FILES, e.kind());
        assertEquals("Dataset directory " + corpus + " contains no file matching *.txt (searched recursively).",
                e.description());
    }

    @Test
    void textWithoutTokenizer() throws IOException {
        Path file = Files.writeString(dir.resolve("a.txt"), "text");
        DatasetException e = loadFails(DatasetSource.text(file), null);
        assertEquals("Dataset " + file + " is text and needs a tokenizer, but none was given. Pass a TokenEncoder"
                + " to the DatasetLoader.", e.getMessage());
    }

    @Test
    void invalidUtf8Text() throws IOException {
        Path file = Files.write(dir.resolve("latin1.txt"), new byte[] {'c', 'a', 'f', (byte) 0xE9});
        DatasetException e = loadFails(DatasetSource.text(file), new ByteTokenizer());
        assertEquals("File " + file + " is not valid UTF-8. Convert it to UTF-8.", e.getMessage());
    }

    @Test
    void invalidJsonLineNamesFileAndLine() throws IOException {
        Path file = Files.writeString(dir.resolve("docs.jsonl"), "{\"text\": \"ok\"}\n\n{\"text\": \"broken}\n");
        DatasetException e = loadFails(DatasetSource.jsonlText(file), new ByteTokenizer());
        String prefix = "Invalid JSON at line 3 of " + file + ": ";
        assertEquals(prefix, e.getMessage().substring(0, prefix.length()), e.getMessage());
        assertEquals(true, e.getMessage().endsWith(". Each line must be one JSON object."), e.getMessage());
    }

    @Test
    void jsonLineThatIsNotAnObject() throws IOException {
        Path file = Files.writeString(dir.resolve("docs.jsonl"), "[1, 2]\n");
        DatasetException e = loadFails(DatasetSource.jsonlText(file), new ByteTokenizer());
        assertEquals("Line 1 of " + file + " is an array, not a JSON object. Each line must be one JSON object.",
                e.getMessage());
    }

    @Test
    void jsonLineWithoutField() throws IOException {
        Path file = Files.writeString(dir.resolve("docs.jsonl"), "{\"text\": \"a\"}\n{\"body\": \"b\"}\n");
        DatasetException e = loadFails(DatasetSource.jsonlText(file), new ByteTokenizer());
        assertEquals("Line 2 of " + file + " has no \"text\" field. Add it, or choose the field that holds the data.",
                e.getMessage());
        assertEquals(DatasetException.Kind.MISSING_FIELD, e.kind());
        assertEquals("Line 2 of " + file + " has no \"text\" field.", e.description());
    }

    @Test
    void jsonTextFieldThatIsNotAString() throws IOException {
        Path file = Files.writeString(dir.resolve("docs.jsonl"), "{\"text\": 42}\n");
        DatasetException e = loadFails(DatasetSource.jsonlText(file), new ByteTokenizer());
        assertEquals("Field \"text\" at line 1 of " + file + " is a number, not a string. Choose the field that holds"
                + " the document text.", e.getMessage());
    }

    @Test
    void inputIdsThatAreNotAnArray() throws IOException {
        Path file = Files.writeString(dir.resolve("ids.jsonl"), "{\"input_ids\": \"1 2 3\"}\n");
        DatasetException e = loadFails(DatasetSource.jsonlInputIds(file), null);
        assertEquals("Field \"input_ids\" at line 1 of " + file + " is a string, not an array of token ids.",
                e.getMessage());
    }

    @Test
    void inputIdsWithNegativeOrFractionalElements() throws IOException {
        Path negative = Files.writeString(dir.resolve("negative.jsonl"),
                "{\"input_ids\": [1]}\n{\"input_ids\": [4, -5]}\n");
        Path fractional = Files.writeString(dir.resolve("fractional.jsonl"), "{\"input_ids\": [1.5]}\n");
        Path tooLarge = Files.writeString(dir.resolve("large.jsonl"), "{\"input_ids\": [4294967296]}\n");

        assertEquals("Field \"input_ids\" at line 2 of " + negative + " has element 1 = -5, which is not a token id"
                + " (an integer from 0 to 4294967295).",
                loadFails(DatasetSource.jsonlInputIds(negative), null).getMessage());
        assertEquals("Field \"input_ids\" at line 1 of " + fractional + " has element 0 = 1.5, which is not a token"
                + " id (an integer from 0 to 4294967295).",
                loadFails(DatasetSource.jsonlInputIds(fractional), null).getMessage());
        assertEquals("Field \"input_ids\" at line 1 of " + tooLarge + " has element 0 = 4294967296, which is not a"
                + " token id (an integer from 0 to 4294967295).",
                loadFails(DatasetSource.jsonlInputIds(tooLarge), null).getMessage());
    }

    @Test
    void tokenFileSizeNotMultipleOfDtype() throws IOException {
        Path odd = Files.write(dir.resolve("odd.bin"), new byte[] {1, 0, 2, 0, 3});
        Path notFour = Files.write(dir.resolve("six.bin"), new byte[6]);

        assertEquals("Token file " + odd + " has 5 bytes, which is not a multiple of 2 (uint16). It is not a flat"
                + " uint16 token file: check the dtype, or whether the file was cut short.",
                loadFails(DatasetSource.tokenFile(odd, TokenDtype.UINT16), null).getMessage());
        assertEquals("Token file " + notFour + " has 6 bytes, which is not a multiple of 4 (uint32). It is not a flat"
                + " uint32 token file: check the dtype, or whether the file was cut short.",
                loadFails(DatasetSource.tokenFile(notFour, TokenDtype.UINT32), null).getMessage());
    }

    @Test
    void shardsWithDifferentFormats() throws IOException {
        Path shards = Files.createDirectories(dir.resolve("shards"));
        Path a = TokenFileIo.writeLlmc(shards.resolve("a.bin"), 20240520, 1, 2, new long[] {1, 2});
        Path b = TokenFileIo.writeLlmc(shards.resolve("b.bin"), 20240801, 7, 2, new long[] {3, 4});
        DatasetException e = loadFails(DatasetSource.tokenFile(shards, TokenDtype.UINT16), null);
        assertEquals("Token files " + a + " (llm.c header, uint16) and " + b + " (llm.c header, uint32) differ in"
                + " format. Every file of a sharded token dataset must have the same format and dtype.",
                e.getMessage());
    }

    @Test
    void tokenDirectoryWithoutShards() throws IOException {
        Path shards = Files.createDirectories(dir.resolve("shards"));
        DatasetException e = loadFails(DatasetSource.tokenFile(shards, TokenDtype.UINT16), null);
        assertEquals("Dataset directory " + shards + " contains no file matching *.bin (searched recursively)."
                + " Add files or choose another file pattern.", e.getMessage());
    }

    @Test
    void llmcFileShorterThanItsHeaderSays() throws IOException {
        long[] ids = {1, 2, 3};
        Path file = TokenFileIo.writeLlmc(dir.resolve("short.bin"), 20240520, 1, 5, ids);
        DatasetException e = loadFails(DatasetSource.tokenFile(file, TokenDtype.UINT16), null);
        assertEquals("Token file " + file + " declares 5 uint16 tokens in its llm.c header, so it should have 1034"
                + " bytes, but it has 1030. The file is truncated or was not written by llm.c.", e.getMessage());
    }

    @Test
    void llmcFileWithUnknownVersion() throws IOException {
        long[] ids = {1, 2, 3};
        Path file = TokenFileIo.writeLlmc(dir.resolve("v2.bin"), 20240520, 2, 3, ids);
        DatasetException e = loadFails(DatasetSource.tokenFile(file, TokenDtype.UINT16), null);
        assertEquals("Token file " + file + " has llm.c magic 20240520 but version 2; only version 1 is known for this"
                + " magic.", e.getMessage());
    }

    @Test
    void llmcMagicInFileShorterThanHeader() throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        buffer.putInt(20240520).putInt(1);
        Path file = Files.write(dir.resolve("cut.bin"), buffer.array());
        DatasetException e = loadFails(DatasetSource.tokenFile(file, TokenDtype.UINT16), null);
        assertEquals("Token file " + file + " starts with the llm.c magic 20240520 but has only 8 bytes, fewer than the"
                + " 1024-byte header. The file is truncated.", e.getMessage());
    }

    @Test
    void fewerTokensThanOneBlock() throws IOException {
        Path file = TokenFileIo.writeRawUint16(dir.resolve("tiny.bin"), new int[] {1, 2, 3, 4, 5, 6, 7});
        TokenSequence tokens = TokenFiles.open(file, TokenDtype.UINT16);

        DatasetException e = assertThrows(DatasetException.class, () -> PackedBlocks.pack(tokens, 7));

        assertEquals("Dataset " + file + " has 7 tokens, but a sequence length of 7 needs at least 8 tokens for one"
                + " block. Add data or lower seq_len.", e.getMessage());
        assertEquals(DatasetException.Kind.TOO_FEW_TOKENS, e.kind());
        assertEquals("Dataset " + file + " has 7 tokens, but a sequence length of 7 needs at least 8 tokens for one"
                + " block.", e.description());
    }

    @Test
    void emptyTextDataset() throws IOException {
        Path file = Files.writeString(dir.resolve("empty.txt"), "");
        TokenSequence tokens = new DatasetLoader(dir.resolve("out"), new ByteTokenizer(), ProgressListener.NONE)
                .load(DatasetSource.text(file));

        DatasetException e = assertThrows(DatasetException.class, () -> PackedBlocks.pack(tokens, 16));

        // the text file is named, not the token cache built from it
        assertEquals("Dataset " + file + " has 0 tokens, but a sequence length of 16 needs at least 17 tokens for"
                + " one block. Add data or lower seq_len.", e.getMessage());
        assertEquals(file, tokens.source());
        assertTrue(tokens.path().startsWith(dir.resolve("out")), tokens.path().toString());
    }

    @Test
    void tokenIdOutsideVocabularyInTokenFile() throws IOException {
        Path file = TokenFileIo.writeRawUint16(dir.resolve("ids.bin"), new int[] {5, 9, 50257, 3});
        TokenSequence tokens = TokenFiles.open(file, TokenDtype.UINT16);

        tokens.checkVocabulary(50258);
        DatasetException e = assertThrows(DatasetException.class, () -> tokens.checkVocabulary(50257));

        assertEquals("Token id 50257 at position 2 of " + file + " is outside the vocabulary of size 50257 (valid ids"
                + " are 0 to 50256). Tokenize the data with the model's tokenizer, or use a model whose vocab_size"
                + " covers every id.", e.getMessage());
    }

    @Test
    void uint32IdAboveIntRangeRejected() throws IOException {
        Path file = TokenFileIo.writeRawUint32(dir.resolve("ids.u32"), new long[] {1, 3_000_000_000L});
        TokenSequence tokens = TokenFiles.open(file, TokenDtype.UINT32);

        DatasetException e = assertThrows(DatasetException.class, () -> tokens.checkVocabulary(128256));

        assertEquals("Token id 3000000000 at position 1 of " + file + " is outside the vocabulary of size 128256"
                + " (valid ids are 0 to 128255). Tokenize the data with the model's tokenizer, or use a model whose"
                + " vocab_size covers every id.", e.getMessage());
    }

    @Test
    void vocabularyErrorNamesSourceFile() throws IOException {
        Files.createDirectories(dir.resolve("corpus"));
        Files.writeString(dir.resolve("corpus/a.txt"), "abc");
        Path b = Files.writeString(dir.resolve("corpus/b.txt"), "de~");
        TokenEncoder bytesWithEosZero = TokenEncoder.of("bytes-eos0", 0, ByteTokenizer::ids);
        TokenSequence tokens = new DatasetLoader(dir.resolve("out"), bytesWithEosZero, ProgressListener.NONE)
                .load(DatasetSource.text(dir.resolve("corpus")));

        // Ids: a b c EOS d e ~ EOS, with EOS = 0. '~' (126) is the only id a vocabulary of 120 rejects.
        DatasetException e = assertThrows(DatasetException.class, () -> tokens.checkVocabulary(120));

        // the token cache is not named, only the source file
        assertEquals("Token id 126 at token 2 of source " + b.toAbsolutePath().normalize() + " is outside the"
                + " vocabulary of size 120 (valid ids are 0 to 119). Tokenize the data with the model's tokenizer,"
                + " or use a model whose vocab_size covers every id.", e.getMessage());
    }

    @Test
    void negativeIdFromTokenizer() throws IOException {
        Path file = Files.writeString(dir.resolve("a.txt"), "text");
        TokenEncoder broken = TokenEncoder.of("signed-bytes", 0, s -> new int[] {1, -2});
        DatasetException e = loadFails(DatasetSource.text(file), broken);
        assertEquals("Tokenizer signed-bytes returned the negative id -2 for the file " + file + ".", e.getMessage());
    }

    @Test
    void negativeEosId() throws IOException {
        Path file = Files.writeString(dir.resolve("a.txt"), "text");
        DatasetException e = loadFails(DatasetSource.text(file), TokenEncoder.of("no-eos", -1, ByteTokenizer::ids));
        assertEquals("Tokenizer no-eos has the negative EOS id -1. Give the id of its end-of-sequence token.",
                e.getMessage());
    }

    @Test
    void nullIdsFromTokenizer() throws IOException {
        Path file = Files.writeString(dir.resolve("a.txt"), "text");
        DatasetException e = loadFails(DatasetSource.text(file), TokenEncoder.of("null", 0, s -> null));
        assertEquals("Tokenizer null returned null for the file " + file + ".", e.getMessage());
    }

    @Test
    void negativeIdFromTokenizerNamesLine() throws IOException {
        Path file = Files.writeString(dir.resolve("docs.jsonl"), "{\"text\": \"fine\"}\n{\"text\": \"\u00ff\"}\n");
        TokenEncoder signedBytes = TokenEncoder.of("signed-bytes", 0, s -> {
            byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
            int[] ids = new int[bytes.length];
            for (int i = 0; i < bytes.length; i++) {
                ids[i] = bytes[i];
            }
            return ids;
        });
        DatasetException e = loadFails(DatasetSource.jsonlText(file), signedBytes);
        assertEquals("Tokenizer signed-bytes returned the negative id -61 for line 2 of " + file + ".", e.getMessage());
    }

    @Test
    void validationFractionLeavingNoTrainingBlock() throws IOException {
        Path file = TokenFileIo.writeRawUint16(dir.resolve("ids.bin"), new int[9]);
        PackedBlocks blocks = PackedBlocks.pack(TokenFiles.open(file, TokenDtype.UINT16), 3);

        DatasetException e = assertThrows(DatasetException.class, () -> DataSplit.byFraction(blocks, 0.9));

        assertEquals("Dataset " + file + " has 2 blocks of 4 tokens; a validation fraction of 0.9 takes 2 of them and"
                + " leaves none for training. Add data, lower seq_len or lower the validation fraction.",
                e.getMessage());
    }

    @Test
    void fewerBlocksThanMicroBatch() throws IOException {
        Path file = TokenFileIo.writeRawUint16(dir.resolve("ids.bin"), new int[17]);
        PackedBlocks blocks = PackedBlocks.pack(TokenFiles.open(file, TokenDtype.UINT16), 4);

        DatasetException e = assertThrows(DatasetException.class, () -> new DataLoader(blocks, 4, true, 1));

        assertEquals("Dataset " + file + " has 3 blocks of 5 tokens, fewer than the micro-batch size 4. Add data,"
                + " lower seq_len or lower the micro-batch size.", e.getMessage());
    }
}
