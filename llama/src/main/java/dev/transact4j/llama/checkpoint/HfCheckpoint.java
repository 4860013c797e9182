package dev.transact4j.llama.checkpoint;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.transact4j.llama.LlamaConfig;
import dev.transact4j.nn.io.AtomicFiles;
import dev.transact4j.nn.io.JsonErrors;
import dev.transact4j.nn.safetensors.DType;
import dev.transact4j.nn.safetensors.SafeTensors;
import dev.transact4j.nn.safetensors.SafeTensorsWriter;
import dev.transact4j.nn.safetensors.ShardedSafeTensors;
import dev.transact4j.nn.safetensors.TensorInfo;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A Hugging Face Llama model directory held as arrays: the config, every weight as a float32
 * {@link NamedArray}, the optional {@code generation_config.json} and the tokenizer files found
 * next to them.
 *
 * <p>Reading ({@link #load}) takes {@code config.json}, then either {@code model.safetensors} or
 * {@code model.safetensors.index.json} and its shards (a directory with both is rejected). F32, F16, BF16 and F64 weights
 * are widened or rounded to float32. Names and shapes must be exactly those {@link LlamaWeights}
 * derives from the config, and every difference is reported in one message. A checkpoint without
 * {@code lm_head.weight} is read as tied: its config gets {@code tie_word_embeddings: true}.
 *
 * <p>Writing ({@link #save}) builds the whole directory under a temporary sibling name
 * ({@code .NAME.tmp-RANDOM}, each file itself written to a temporary file and renamed) and renames
 * it to the target at the end, so the target is either absent, the old directory or the complete
 * new one. An existing target must be a model directory (it contains config.json). It is replaced
 * as a whole, so files that {@code save} does not write are not carried over.
 */
public final class HfCheckpoint {

    /** File name of the default generation settings. */
    public static final String GENERATION_CONFIG = "generation_config.json";
    /** Tokenizer files copied along with the weights when present. */
    public static final List<String> TOKENIZER_FILES = List.of("tokenizer.json", "tokenizer_config.json",
            "special_tokens_map.json");
    /** Default maximum shard size, 5 GB (decimal): smaller models stay one model.safetensors. */
    public static final long DEFAULT_MAX_SHARD_BYTES = 5_000_000_000L;

    private static final ObjectMapper JSON = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final LlamaConfig config;
    private final Map<String, NamedArray> weights;
    private final Map<String, DType> storedTypes;
    private final ObjectNode generationConfig;
    private final Map<String, Path> tokenizerFiles;

    /**
     * Creates a checkpoint from arrays after checking them against {@code config}.
     *
     * @param weights          every tensor {@link LlamaWeights#expected} lists, by name
     * @param generationConfig the content of generation_config.json, or null
     * @param tokenizerFiles   tokenizer files to copy on save, by file name (one of
     *                         {@link #TOKENIZER_FILES}); may be empty
     * @throws IllegalArgumentException when a name or shape does not match the config
     */
    public HfCheckpoint(LlamaConfig config, Map<String, NamedArray> weights, ObjectNode generationConfig,
                        Map<String, Path> tokenizerFiles) {
        this(config, weights, Map.of(), generationConfig, tokenizerFiles, "state dict", "(in memory)");
    }

    private HfCheckpoint(LlamaConfig config, Map<String, NamedArray> weights, Map<String, DType> storedTypes,
                         ObjectNode generationConfig, Map<String, Path> tokenizerFiles, String source,
                         String configSource) {
        Map<String, int[]> shapes = new TreeMap<>();
        weights.forEach((name, array) -> shapes.put(name, array.shape()));
        LlamaWeights.check(config, shapes, Map.of(), source, configSource);
        for (String name : tokenizerFiles.keySet()) {
            if (!TOKENIZER_FILES.contains(name)) {
                throw new IllegalArgumentException("HfCheckpoint: tokenizer file name '" + name + "' is not one of "
                        + TOKENIZER_FILES);
            }
        }
        this.config = config;
        this.weights = Collections.unmodifiableMap(new TreeMap<>(weights));
        this.storedTypes = Collections.unmodifiableMap(new TreeMap<>(storedTypes));
        this.generationConfig = generationConfig == null ? null : generationConfig.deepCopy();
        this.tokenizerFiles = Collections.unmodifiableMap(new TreeMap<>(tokenizerFiles));
    }

    // ---------------------------------------------------------------- reading

    /**
     * Reads a model directory.
     *
     * @throws IllegalArgumentException when the directory or config.json is missing or invalid,
     *                                  or the weights do not match the config (the message lists
     *                                  every difference and names the weights file)
     * @throws IOException              when a weights file is missing, malformed or unreadable
     *                                  (a {@code SafeTensorsFormatException} names the file)
     */
    public static HfCheckpoint load(Path directory) throws IOException {
        if (!Files.isDirectory(directory)) {
            throw new IllegalArgumentException("Model directory " + directory + " not found or not a directory; pass "
                    + "the directory that contains config.json and the safetensors weights");
        }
        Path configFile = directory.resolve(LlamaConfig.FILE_NAME);
        LlamaConfig config = LlamaConfig.load(configFile);

        Path index = directory.resolve(SafeTensors.INDEX_FILE);
        Path single = directory.resolve(SafeTensors.MODEL_FILE);
        if (!Files.exists(index) && !Files.exists(single)) {
            throw new NoSuchFileException(single.toString(), null, "no weights in " + directory + ": neither "
                    + SafeTensors.MODEL_FILE + " nor " + SafeTensors.INDEX_FILE + " exists; copy the weights "
                    + "of the model into the directory");
        }
        for (Path weights : new Path[] {index, single}) {
            if (Files.isDirectory(weights)) {
                throw new IllegalArgumentException(weights + " is a directory, not a file; replace it with the "
                        + "model's " + weights.getFileName() + " file");
            }
        }
        if (Files.exists(index) && Files.exists(single)) {
            throw new IllegalArgumentException(directory + ": both " + SafeTensors.MODEL_FILE + " and "
                    + SafeTensors.INDEX_FILE + " exist, so it is unclear which weights belong to config.json; "
                    + "remove the stale one");
        }
        Path weightsFile = Files.exists(index) ? index : single;

        Map<String, NamedArray> weights = new TreeMap<>();
        Map<String, DType> storedTypes = new TreeMap<>();
        try (SafeTensors tensors = Files.exists(index) ? ShardedSafeTensors.open(index) : SafeTensors.open(single)) {
            // shapes and dtypes from the headers, then the check, then the data
            Map<String, int[]> shapes = new TreeMap<>();
            Map<String, String> invalidTypes = new TreeMap<>();
            for (String name : tensors.names()) {
                TensorInfo info = tensors.info(name);
                shapes.put(name, info.intShape());
                if (!info.dtype().isFloatingPoint()) {
                    invalidTypes.put(name, info.dtype().name());
                }
            }
            if (!config.tieWordEmbeddings() && !shapes.containsKey(LlamaWeights.LM_HEAD)) {
                config = config.toBuilder().tieWordEmbeddings(true).build();
            }
            LlamaWeights.check(config, shapes, invalidTypes, weightsFile.toString(), configFile.toString());
            for (String name : LlamaWeights.expected(config).keySet()) {
                weights.put(name, new NamedArray(tensors.readFloat32(name), shapes.get(name)));
                storedTypes.put(name, tensors.info(name).dtype());
            }
        }

        ObjectNode generationConfig = readGenerationConfig(directory.resolve(GENERATION_CONFIG));
        Map<String, Path> tokenizerFiles = new LinkedHashMap<>();
        for (String name : TOKENIZER_FILES) {
            Path file = directory.resolve(name);
            if (Files.isRegularFile(file)) {
                tokenizerFiles.put(name, file);
            }
        }
        return new HfCheckpoint(config, weights, storedTypes, generationConfig, tokenizerFiles,
                weightsFile.toString(), configFile.toString());
    }

    private static ObjectNode readGenerationConfig(Path file) throws IOException {
        if (!Files.exists(file)) {
            return null;
        }
        JsonNode root;
        try {
            root = JSON.readTree(Files.readString(file, StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(file + ": invalid JSON" + JsonErrors.locationAndReason(e)
                    + ". Fix the file or delete it to use the default generation settings.", e);
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException(file + ": a generation config must be a JSON object. Fix the file or "
                    + "delete it to use the default generation settings.");
        }
        return (ObjectNode) root;
    }

    // ---------------------------------------------------------------- writing

    /** Saves the directory with every weight in {@code dtype} (F32 or BF16) in one safetensors file up to 5 GB. */
    public Path save(Path directory, DType dtype) throws IOException {
        return save(directory, dtype, DEFAULT_MAX_SHARD_BYTES);
    }

    /**
     * Writes the checkpoint as a complete model directory at {@code directory}: config.json (with
     * {@code torch_dtype} set to the weights' dtype), model.safetensors or, above
     * {@code maxShardBytes}, shards with model.safetensors.index.json, generation_config.json when
     * present, and copies of the tokenizer files.
     *
     * @return the directory written
     * @throws IllegalArgumentException when dtype is not F32 or BF16, or {@code directory} exists
     *                                  and is not a model directory
     * @throws IOException              when writing fails; the target is then left as it was
     */
    public Path save(Path directory, DType dtype, long maxShardBytes) throws IOException {
        if (dtype != DType.F32 && dtype != DType.BF16) {
            throw new IllegalArgumentException("HfCheckpoint.save: dtype " + dtype + " is not supported; use F32 or BF16");
        }
        Path target = directory.toAbsolutePath().normalize();
        if (Files.exists(target) && !(Files.isDirectory(target) && Files.exists(target.resolve(LlamaConfig.FILE_NAME)))) {
            throw new IllegalArgumentException("HfCheckpoint.save: " + target + " exists and is not a model directory "
                    + "(no config.json), so it is not replaced; choose another path or remove it");
        }
        Path parent = target.getParent();
        Files.createDirectories(parent);
        Path temp = parent.resolve("." + target.getFileName() + ".tmp-" + Long.toHexString(RANDOM.nextLong()));
        Files.createDirectory(temp);
        boolean done = false;
        try {
            writeFiles(temp, dtype, maxShardBytes);
            replace(temp, target);
            done = true;
        } finally {
            if (!done) {
                AtomicFiles.deleteTree(temp);
            }
        }
        return target;
    }

    private void writeFiles(Path temp, DType dtype, long maxShardBytes) throws IOException {
        String torchDtype = dtype == DType.BF16 ? "bfloat16" : "float32";
        config.toBuilder().torchDtype(torchDtype).build().save(temp.resolve(LlamaConfig.FILE_NAME));

        SafeTensorsWriter writer = new SafeTensorsWriter().metadata("format", "pt");
        weights.forEach((name, array) -> writer.add(name, array.data(), array.shape(), dtype));
        if (writer.dataBytes() <= maxShardBytes) {
            writer.write(temp.resolve(SafeTensors.MODEL_FILE));
        } else {
            writer.writeSharded(temp, "model", maxShardBytes);
        }

        if (generationConfig != null) {
            // two-space indentation and "key": value, as transformers writes JSON
            DefaultPrettyPrinter printer = new DefaultPrettyPrinter()
                    .withSeparators(Separators.createDefaultInstance()
                            .withObjectFieldValueSpacing(Separators.Spacing.AFTER))
                    .withArrayIndenter(DefaultIndenter.SYSTEM_LINEFEED_INSTANCE.withLinefeed("\n"))
                    .withObjectIndenter(DefaultIndenter.SYSTEM_LINEFEED_INSTANCE.withLinefeed("\n"));
            byte[] json = (JSON.writer(printer).writeValueAsString(generationConfig) + "\n")
                    .getBytes(StandardCharsets.UTF_8);
            AtomicFiles.write(temp.resolve(GENERATION_CONFIG), json);
        }
        for (Map.Entry<String, Path> file : tokenizerFiles.entrySet()) {
            Path copy = temp.resolve("." + file.getKey() + ".tmp");
            Files.copy(file.getValue(), copy);
            Files.move(copy, temp.resolve(file.getKey()), StandardCopyOption.ATOMIC_MOVE);
        }
    }

    /** Renames {@code temp} to {@code target}, moving an existing target aside first and deleting it after. */
    private static void replace(Path temp, Path target) throws IOException {
        if (!Files.exists(target)) {
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            return;
        }
        Path old = target.resolveSibling("." + target.getFileName() + ".old-" + Long.toHexString(RANDOM.nextLong()));
        Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
        try {
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            Files.move(old, target, StandardCopyOption.ATOMIC_MOVE);
            throw e;
        }
        AtomicFiles.deleteTree(old);
    }


    // ---------------------------------------------------------------- accessors

    /** Returns the config; {@code tie_word_embeddings} is true when the weights have no lm_head. */
    public LlamaConfig config() {
        return config;
    }

    /** Returns every weight by name, in name order. */
    public Map<String, NamedArray> weights() {
        return weights;
    }

    /** Returns the weight named {@code name}. */
    public NamedArray weight(String name) {
        NamedArray array = weights.get(name);
        if (array == null) {
            throw new IllegalArgumentException("HfCheckpoint: no weight named '" + name + "'; the checkpoint has "
                    + weights.size() + " weights, such as " + weights.keySet().iterator().next());
        }
        return array;
    }

    /** Returns the dtype each weight was stored in when read from disk; empty for a checkpoint built in memory. */
    public Map<String, DType> storedTypes() {
        return storedTypes;
    }

    /** Returns a copy of generation_config.json, or null when the model has none. */
    public ObjectNode generationConfig() {
        return generationConfig == null ? null : generationConfig.deepCopy();
    }

    /** Returns the tokenizer files that save copies, by file name. */
    public Map<String, Path> tokenizerFiles() {
        return tokenizerFiles;
    }

    /** Returns a checkpoint with the same config and files and other weights, checked against the config. */
    public HfCheckpoint withWeights(LlamaConfig newConfig, Map<String, NamedArray> newWeights) {
        return new HfCheckpoint(newConfig, newWeights, generationConfig, tokenizerFiles);
    }
}
