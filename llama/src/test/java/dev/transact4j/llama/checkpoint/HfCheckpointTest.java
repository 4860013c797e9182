package dev.transact4j.llama.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.transact4j.llama.LlamaConfig;
import dev.transact4j.nn.safetensors.DType;
import dev.transact4j.nn.safetensors.SafeTensorsFormatException;
import dev.transact4j.nn.safetensors.SafeTensorsWriter;
import dev.transact4j.tensor.HalfFloats;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Reads, writes and rejects model directories, starting from the committed Llama fixtures. */
class HfCheckpointTest {

    private static final List<String> FIXTURES = List.of("mha", "gqa", "tied", "rope_linear", "rope_llama3", "bias",
            "head_dim", "bf16");

    @TempDir
    Path temp;

    private static Path fixture(String name) {
        URL url = HfCheckpointTest.class.getClassLoader().getResource("fixtures/llama/" + name + "/config.json");
        assertTrue(url != null, "fixture fixtures/llama/" + name + " not found; run src/test/python/make_llama_fixtures.py");
        try {
            return Path.of(url.toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Copies a fixture's config.json and model.safetensors into a new directory under temp. */
    private Path copyFixture(String name, String as) throws IOException {
        Path directory = Files.createDirectories(temp.resolve(as));
        Files.copy(fixture(name).resolve("config.json"), directory.resolve("config.json"));
        Files.copy(fixture(name).resolve("model.safetensors"), directory.resolve("model.safetensors"));
        return directory;
    }

    /** Rewrites a directory's model.safetensors from the fixture's arrays after {@code edit}. */
    private static void rewriteWeights(Path directory, HfCheckpoint source, Consumer<Map<String, NamedArray>> edit)
            throws IOException {
        Map<String, NamedArray> arrays = new TreeMap<>(source.weights());
        edit.accept(arrays);
        SafeTensorsWriter writer = new SafeTensorsWriter().metadata("format", "pt");
        arrays.forEach((name, array) -> writer.add(name, array.data(), array.shape()));
        writer.write(directory.resolve("model.safetensors"));
    }

    private static String messageOf(Path directory) {
        return assertThrows(IllegalArgumentException.class, () -> HfCheckpoint.load(directory)).getMessage();
    }

    @ParameterizedTest
    @ValueSource(strings = {"mha", "gqa", "tied", "rope_linear", "rope_llama3", "bias", "head_dim", "bf16"})
    void fixturesLoad(String name) throws IOException {
        HfCheckpoint checkpoint = HfCheckpoint.load(fixture(name));
        LlamaConfig config = LlamaConfig.load(fixture(name));
        assertEquals(config, checkpoint.config());
        Map<String, LlamaWeights.Expected> expected = LlamaWeights.expected(config);
        assertEquals(expected.keySet(), checkpoint.weights().keySet());
        for (Map.Entry<String, LlamaWeights.Expected> entry : expected.entrySet()) {
            assertArrayEquals(entry.getValue().shape(), checkpoint.weight(entry.getKey()).shape(), entry.getKey());
        }
        assertNull(checkpoint.generationConfig());
        assertTrue(checkpoint.tokenizerFiles().isEmpty());
    }

    @Test
    void allFixturesCovered() {
        assertEquals(8, FIXTURES.size());
        for (String name : FIXTURES) {
            assertTrue(Files.isDirectory(fixture(name)), name);
        }
    }

    @Test
    void fixtureShapesFollowConfig() throws IOException {
        HfCheckpoint headDim = HfCheckpoint.load(fixture("head_dim"));
        assertArrayEquals(new int[] {24, 32}, headDim.weight("model.layers.0.self_attn.q_proj.weight").shape());
        assertArrayEquals(new int[] {12, 32}, headDim.weight("model.layers.1.self_attn.k_proj.weight").shape());
        assertArrayEquals(new int[] {32, 24}, headDim.weight("model.layers.1.self_attn.o_proj.weight").shape());

        HfCheckpoint tied = HfCheckpoint.load(fixture("tied"));
        assertTrue(tied.config().tieWordEmbeddings());
        assertFalse(tied.weights().containsKey(LlamaWeights.LM_HEAD));
        assertArrayEquals(new int[] {8, 32}, tied.weight("model.layers.0.self_attn.v_proj.weight").shape());

        HfCheckpoint bias = HfCheckpoint.load(fixture("bias"));
        assertArrayEquals(new int[] {32}, bias.weight("model.layers.0.self_attn.o_proj.bias").shape());
        assertArrayEquals(new int[] {56}, bias.weight("model.layers.1.mlp.up_proj.bias").shape());
    }

    @Test
    void bf16FixtureGivesRoundedValues() throws IOException {
        Path file = fixture("bf16").resolve("model.safetensors");
        HfCheckpoint checkpoint = HfCheckpoint.load(fixture("bf16"));
        assertEquals(DType.BF16, checkpoint.storedTypes().get("model.embed_tokens.weight"));

        // decode the raw bytes here: a bfloat16 is the upper half of a float32
        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int headerLength = (int) buffer.getLong(0);
        JsonNode header = new ObjectMapper().readTree(new String(bytes, 8, headerLength, StandardCharsets.UTF_8));
        int checked = 0;
        for (Map.Entry<String, NamedArray> entry : checkpoint.weights().entrySet()) {
            JsonNode info = header.get(entry.getKey());
            assertEquals("BF16", info.get("dtype").asText(), entry.getKey());
            long begin = 8 + headerLength + info.get("data_offsets").get(0).asLong();
            float[] values = entry.getValue().data();
            for (int i = 0; i < values.length; i++) {
                int bits = (buffer.getShort((int) (begin + 2L * i)) & 0xffff) << 16;
                assertEquals(bits, Float.floatToRawIntBits(values[i]), entry.getKey() + "[" + i + "]");
            }
            checked += values.length;
        }
        assertTrue(checked > 10_000, "every weight was compared");
    }

    @Test
    void saveLoadRoundTripIsBitwise() throws IOException {
        for (String name : FIXTURES) {
            HfCheckpoint original = HfCheckpoint.load(fixture(name));
            Path saved = original.save(temp.resolve("saved-" + name), DType.F32);
            HfCheckpoint reloaded = HfCheckpoint.load(saved);
            assertEquals(original.weights().keySet(), reloaded.weights().keySet(), name);
            for (String weight : original.weights().keySet()) {
                float[] a = original.weight(weight).data();
                float[] b = reloaded.weight(weight).data();
                for (int i = 0; i < a.length; i++) {
                    assertEquals(Float.floatToRawIntBits(a[i]), Float.floatToRawIntBits(b[i]), name + " " + weight);
                }
            }
            assertEquals(DType.F32, reloaded.storedTypes().get(LlamaWeights.EMBED_TOKENS));
            assertEquals("float32", reloaded.config().torchDtype());
            assertEquals(original.config().toBuilder().torchDtype("float32").build(), reloaded.config(), name);
        }
    }

    @Test
    void bf16SaveRoundsToNearestEven() throws IOException {
        HfCheckpoint original = HfCheckpoint.load(fixture("mha"));
        HfCheckpoint reloaded = HfCheckpoint.load(original.save(temp.resolve("bf16"), DType.BF16));
        assertEquals("bfloat16", reloaded.config().torchDtype());
        assertEquals(DType.BF16, reloaded.storedTypes().get(LlamaWeights.EMBED_TOKENS));
        float[] a = original.weight(LlamaWeights.EMBED_TOKENS).data();
        float[] b = reloaded.weight(LlamaWeights.EMBED_TOKENS).data();
        for (int i = 0; i < a.length; i++) {
            assertEquals(HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(a[i])), b[i], "element " + i);
        }
    }

    @Test
    void shardedRoundTrip() throws IOException {
        HfCheckpoint original = HfCheckpoint.load(fixture("gqa"));
        Path saved = original.save(temp.resolve("sharded"), DType.F32, 20_000);
        assertTrue(Files.exists(saved.resolve("model.safetensors.index.json")));
        assertFalse(Files.exists(saved.resolve("model.safetensors")));
        try (Stream<Path> files = Files.list(saved)) {
            assertTrue(files.filter(p -> p.getFileName().toString().matches("model-\\d{5}-of-\\d{5}\\.safetensors"))
                    .count() > 2, "several shards");
        }
        HfCheckpoint reloaded = HfCheckpoint.load(saved);
        for (String weight : original.weights().keySet()) {
            assertArrayEquals(original.weight(weight).data(), reloaded.weight(weight).data(), weight);
        }
    }

    @Test
    void truncatedGenerationConfigNamesLine() throws IOException {
        Path directory = copyFixture("tied", "truncated-generation");
        Path file = Files.writeString(directory.resolve("generation_config.json"), "{\n  \"eos_token_id\": [2,\n");

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HfCheckpoint.load(directory));

        String m = e.getMessage();
        assertTrue(m.startsWith(file + ": invalid JSON at line 3, column "), m);
        assertTrue(m.contains(" (Unexpected end-of-input"), m);
        assertTrue(m.endsWith("). Fix the file or delete it to use the default generation settings."), m);
        assertFalse(m.contains("[Source:"), m);
    }

    @Test
    void generationConfigAndTokenizerFilesAreCopied() throws IOException {
        Path directory = copyFixture("tied", "with-files");
        String generation = "{\n  \"bos_token_id\": 1,\n  \"do_sample\": true,\n  \"eos_token_id\": [2, 3],\n"
                + "  \"temperature\": 0.6,\n  \"top_p\": 0.9\n}\n";
        Files.writeString(directory.resolve("generation_config.json"), generation);
        try (InputStream in = new GZIPInputStream(HfCheckpointTest.class.getResourceAsStream(
                "/tokenizers/mistral-7b/tokenizer.json.gz"))) {
            Files.copy(in, directory.resolve("tokenizer.json"));
        }
        try (InputStream in = HfCheckpointTest.class.getResourceAsStream("/tokenizers/mistral-7b/tokenizer_config.json")) {
            Files.copy(in, directory.resolve("tokenizer_config.json"));
        }

        HfCheckpoint checkpoint = HfCheckpoint.load(directory);
        assertEquals(0.6, checkpoint.generationConfig().get("temperature").asDouble());
        assertEquals(List.of("tokenizer.json", "tokenizer_config.json"), new ArrayList<>(checkpoint.tokenizerFiles().keySet()));

        Path saved = checkpoint.save(temp.resolve("copy"), DType.F32);
        ObjectNode written = (ObjectNode) new ObjectMapper().readTree(saved.resolve("generation_config.json").toFile());
        assertEquals(new ObjectMapper().readTree(generation), written);
        assertArrayEquals(Files.readAllBytes(directory.resolve("tokenizer.json")),
                Files.readAllBytes(saved.resolve("tokenizer.json")));
        assertArrayEquals(Files.readAllBytes(directory.resolve("tokenizer_config.json")),
                Files.readAllBytes(saved.resolve("tokenizer_config.json")));
        assertFalse(Files.exists(saved.resolve("special_tokens_map.json")));
    }

    @Test
    void saveReplacesModelDirectory() throws IOException {
        Path target = temp.resolve("target");
        HfCheckpoint.load(fixture("mha")).save(target, DType.F32);
        Files.writeString(target.resolve("notes.txt"), "old");
        HfCheckpoint.load(fixture("tied")).save(target, DType.F32);

        assertTrue(HfCheckpoint.load(target).config().tieWordEmbeddings());
        assertFalse(Files.exists(target.resolve("notes.txt")), "the directory is replaced as a whole");
        try (Stream<Path> files = Files.list(temp)) {
            assertEquals(List.of("target"), files.map(p -> p.getFileName().toString()).toList(),
                    "no temporary or old directory is left");
        }
    }

    @Test
    void saveOverItsOwnDirectory() throws IOException {
        Path directory = copyFixture("bias", "self");
        Files.writeString(directory.resolve("special_tokens_map.json"), "{\"bos_token\": \"<s>\"}\n");
        HfCheckpoint checkpoint = HfCheckpoint.load(directory);
        checkpoint.save(directory, DType.F32);
        assertEquals("{\"bos_token\": \"<s>\"}\n", Files.readString(directory.resolve("special_tokens_map.json")));
        assertEquals(checkpoint.weights().keySet(), HfCheckpoint.load(directory).weights().keySet());
    }

    @Test
    void saveRefusesOtherDirectory() throws IOException {
        Path other = Files.createDirectories(temp.resolve("photos"));
        Files.writeString(other.resolve("cat.jpg"), "not a model");
        HfCheckpoint checkpoint = HfCheckpoint.load(fixture("mha"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> checkpoint.save(other, DType.F32));
        assertTrue(e.getMessage().contains("exists and is not a model directory"), e.getMessage());
        assertTrue(Files.exists(other.resolve("cat.jpg")));
        assertThrows(IllegalArgumentException.class, () -> checkpoint.save(temp.resolve("f16"), DType.F16));
    }

    @Test
    void failedSaveLeavesNothing() throws IOException {
        Path directory = copyFixture("mha", "vanishing");
        Files.writeString(directory.resolve("tokenizer_config.json"), "{}\n");
        HfCheckpoint checkpoint = HfCheckpoint.load(directory);
        Files.delete(directory.resolve("tokenizer_config.json"));
        Path target = temp.resolve("never");
        assertThrows(NoSuchFileException.class, () -> checkpoint.save(target, DType.F32));
        try (Stream<Path> files = Files.list(temp)) {
            assertEquals(List.of("vanishing"), files.map(p -> p.getFileName().toString()).toList(),
                    "neither the target nor a temporary directory exists");
        }
    }

    @Test
    void missingConfigIsReported() throws IOException {
        Path directory = copyFixture("mha", "no-config");
        Files.delete(directory.resolve("config.json"));
        String message = messageOf(directory);
        assertTrue(message.contains(directory.resolve("config.json") + " not found"), message);
    }

    @Test
    void missingDirectoryIsReported() {
        String message = messageOf(temp.resolve("absent"));
        assertTrue(message.contains("absent not found"), message);
    }

    @Test
    void missingWeightsFileIsReported() throws IOException {
        Path directory = copyFixture("mha", "no-weights");
        Files.delete(directory.resolve("model.safetensors"));
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> HfCheckpoint.load(directory));
        assertTrue(e.getMessage().contains("neither model.safetensors nor model.safetensors.index.json"),
                e.getMessage());
    }

    @Test
    void missingWeightIsReported() throws IOException {
        HfCheckpoint source = HfCheckpoint.load(fixture("gqa"));
        Path directory = copyFixture("gqa", "missing");
        rewriteWeights(directory, source, arrays -> arrays.remove("model.layers.1.mlp.up_proj.weight"));
        String message = messageOf(directory);
        assertTrue(message.startsWith(directory.resolve("model.safetensors").toString()), message);
        assertTrue(message.contains("1 missing, 0 unexpected, 0 with the wrong shape"), message);
        assertTrue(message.contains("missing: model.layers.1.mlp.up_proj.weight [56, 32] "
                + "(intermediate_size, hidden_size)"), message);
    }

    @Test
    void wrongShapeIsReported() throws IOException {
        HfCheckpoint source = HfCheckpoint.load(fixture("gqa"));
        Path directory = copyFixture("gqa", "misshapen");
        rewriteWeights(directory, source, arrays -> arrays.put("model.layers.0.self_attn.k_proj.weight",
                new NamedArray(new float[32 * 32], new int[] {32, 32})));
        String message = messageOf(directory);
        assertTrue(message.contains("0 missing, 0 unexpected, 1 with the wrong shape"), message);
        assertTrue(message.contains("wrong shape: model.layers.0.self_attn.k_proj.weight is [32, 32], expected "
                + "[16, 32] (num_key_value_heads * head_dim = 2 * 8, hidden_size)"), message);
        assertTrue(message.contains(directory.resolve("config.json").toString()), message);
    }

    @Test
    void extraTensorIsReported() throws IOException {
        HfCheckpoint source = HfCheckpoint.load(fixture("mha"));
        Path directory = copyFixture("mha", "extra");
        rewriteWeights(directory, source, arrays -> {
            arrays.put("model.layers.2.mlp.up_proj.weight", new NamedArray(new float[6], new int[] {2, 3}));
            // a rotary buffer of older checkpoints is ignored
            arrays.put("model.layers.0.self_attn.rotary_emb.inv_freq", new NamedArray(new float[4], new int[] {4}));
        });
        String message = messageOf(directory);
        assertTrue(message.contains("0 missing, 1 unexpected, 0 with the wrong shape"), message);
        assertTrue(message.contains("unexpected: model.layers.2.mlp.up_proj.weight [2, 3]"), message);
        assertFalse(message.contains("inv_freq"), message);
    }

    @Test
    void everyProblemInOneMessage() throws IOException {
        HfCheckpoint source = HfCheckpoint.load(fixture("bias"));
        Path directory = copyFixture("bias", "many");
        rewriteWeights(directory, source, arrays -> {
            arrays.remove("model.norm.weight");
            arrays.remove("model.layers.0.self_attn.q_proj.bias");
            arrays.put("extra.weight", new NamedArray(new float[1], new int[] {1}));
            arrays.put("model.layers.1.mlp.down_proj.weight", new NamedArray(new float[56 * 32], new int[] {56, 32}));
        });
        String message = messageOf(directory);
        assertTrue(message.contains("2 missing, 1 unexpected, 1 with the wrong shape"), message);
        assertTrue(message.contains("missing: model.norm.weight [32] (hidden_size)"), message);
        assertTrue(message.contains("missing: model.layers.0.self_attn.q_proj.bias [32] "
                + "(num_attention_heads * head_dim = 4 * 8)"), message);
        assertTrue(message.contains("unexpected: extra.weight [1]"), message);
        assertTrue(message.contains("wrong shape: model.layers.1.mlp.down_proj.weight is [56, 32], expected [32, 56]"),
                message);
    }

    @Test
    void missingLmHeadReadsAsTied() throws IOException {
        HfCheckpoint source = HfCheckpoint.load(fixture("mha"));
        Path directory = copyFixture("mha", "headless");
        rewriteWeights(directory, source, arrays -> arrays.remove(LlamaWeights.LM_HEAD));
        assertFalse(LlamaConfig.load(directory).tieWordEmbeddings());
        HfCheckpoint checkpoint = HfCheckpoint.load(directory);
        assertTrue(checkpoint.config().tieWordEmbeddings());
        assertFalse(checkpoint.weights().containsKey(LlamaWeights.LM_HEAD));
        assertTrue(HfCheckpoint.load(checkpoint.save(temp.resolve("tied-copy"), DType.F32)).config()
                .tieWordEmbeddings());
    }

    @Test
    void lmHeadWithTiedConfigIsReported() throws IOException {
        HfCheckpoint source = HfCheckpoint.load(fixture("tied"));
        Path directory = copyFixture("tied", "tied-with-head");
        rewriteWeights(directory, source, arrays -> arrays.put(LlamaWeights.LM_HEAD,
                arrays.get(LlamaWeights.EMBED_TOKENS)));
        String message = messageOf(directory);
        assertTrue(message.contains("unexpected: lm_head.weight [97, 32] (the config ties the embeddings"), message);
    }

    @Test
    void integerTensorIsReported() throws IOException {
        HfCheckpoint source = HfCheckpoint.load(fixture("mha"));
        Path directory = copyFixture("mha", "ints");
        SafeTensorsWriter writer = new SafeTensorsWriter();
        source.weights().forEach((name, array) -> {
            if (name.equals("model.norm.weight")) {
                writer.addInts(name, new int[32], array.shape());
            } else {
                writer.add(name, array.data(), array.shape());
            }
        });
        writer.write(directory.resolve("model.safetensors"));
        String message = messageOf(directory);
        assertTrue(message.contains("wrong dtype: model.norm.weight is I32, expected F32, F16, BF16 or F64"), message);
    }

    @Test
    void missingShardIsReported() throws IOException {
        Path saved = HfCheckpoint.load(fixture("gqa")).save(temp.resolve("shards"), DType.F32, 20_000);
        Path shard;
        try (Stream<Path> files = Files.list(saved)) {
            shard = files.filter(p -> p.getFileName().toString().startsWith("model-00002-of-")).findFirst().orElseThrow();
        }
        Files.delete(shard);
        SafeTensorsFormatException e = assertThrows(SafeTensorsFormatException.class, () -> HfCheckpoint.load(saved));
        assertTrue(e.getMessage().contains("model.safetensors.index.json"), e.getMessage());
        assertTrue(e.getMessage().contains(shard.getFileName() + " of tensor"), e.getMessage());
        assertTrue(e.getMessage().contains("not found"), e.getMessage());
    }

    @Test
    void singleAndShardedTogetherAreRejected() throws IOException {
        Path saved = HfCheckpoint.load(fixture("gqa")).save(temp.resolve("both"), DType.F32, 20_000);
        Files.copy(fixture("gqa").resolve("model.safetensors"), saved.resolve("model.safetensors"));
        String message = messageOf(saved);
        assertTrue(message.contains("both model.safetensors and model.safetensors.index.json exist"), message);
    }

    @Test
    void inMemoryCheckpointIsChecked() throws IOException {
        HfCheckpoint source = HfCheckpoint.load(fixture("mha"));
        Map<String, NamedArray> arrays = new TreeMap<>(source.weights());
        arrays.remove("model.layers.0.input_layernorm.weight");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> source.withWeights(source.config(), arrays));
        assertTrue(e.getMessage().startsWith("state dict: the weights do not match"), e.getMessage());
        assertTrue(e.getMessage().contains("missing: model.layers.0.input_layernorm.weight [32]"), e.getMessage());

        // a layer fewer in both config and weights is consistent
        LlamaConfig oneLayer = source.config().withNumHiddenLayers(1);
        arrays.keySet().removeIf(name -> name.startsWith("model.layers.1.") || name.startsWith("model.layers.0."));
        source.weights().forEach((name, array) -> {
            if (name.startsWith("model.layers.0.")) {
                arrays.put(name, array);
            }
        });
        HfCheckpoint pruned = source.withWeights(oneLayer, arrays);
        assertEquals(1, HfCheckpoint.load(pruned.save(temp.resolve("one-layer"), DType.F32)).config().numHiddenLayers());
        assertEquals(Arrays.asList(LlamaWeights.expected(oneLayer).keySet().toArray()).size(), pruned.weights().size());
    }
}
