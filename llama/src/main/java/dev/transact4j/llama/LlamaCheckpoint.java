package dev.transact4j.llama;

import dev.transact4j.nn.Parameter;
import dev.transact4j.nn.safetensors.DType;
import dev.transact4j.nn.safetensors.SafeTensors;
import dev.transact4j.nn.safetensors.SafeTensorsWriter;
import dev.transact4j.nn.safetensors.TensorInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Reads and writes a {@link LlamaForCausalLM} as a Hugging Face model directory:
 * {@code config.json}, the weights in {@code model.safetensors} or as shards listed by
 * {@code model.safetensors.index.json}, and the generation and tokenizer files next to them.
 *
 * <p>Loading is strict: every parameter {@link LlamaParameters} lists must be stored with exactly
 * its shape as F32, F16, BF16 or F64 (converted to float32), and any other tensor is an error. Two
 * exceptions follow transformers: a checkpoint without {@code lm_head.weight} is loaded with tied
 * embeddings whatever {@code tie_word_embeddings} says, and the {@code rotary_emb.inv_freq}
 * buffers that older conversions store are skipped. Every problem is collected into one
 * {@link IllegalArgumentException} that names the file, the tensors and the fix.
 */
public final class LlamaCheckpoint {

    /** Files copied along with the weights when present: generation defaults and the tokenizer. */
    public static final List<String> COMPANION_FILES = List.of("generation_config.json", "tokenizer.json",
            "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model");

    private static final Pattern INV_FREQ = Pattern.compile("model\\.layers\\.\\d+\\.self_attn\\.rotary_emb\\.inv_freq");
    private static final int MAX_LISTED_PROBLEMS = 20;

    /** A loaded model, the directory it came from, and what the loader found. */
    public record Loaded(LlamaForCausalLM model, Path directory, LoadReport report) {
    }

    /**
     * What loading a checkpoint found: the weight files, the stored dtypes with their tensor
     * counts, whether lm_head is tied and why, and the tensors skipped.
     */
    public record LoadReport(List<Path> weightFiles, Map<String, Integer> dtypes, int tensors, long parameters,
                             boolean tied, String tiedReason, List<String> skipped) {

        /** Returns the report as a few lines for a log. */
        @Override
        public String toString() {
            StringBuilder out = new StringBuilder();
            out.append("loaded ").append(tensors).append(" tensors, ").append(parameters).append(" parameters from ")
                    .append(weightFiles.size() == 1 ? weightFiles.get(0) : weightFiles.size() + " shards");
            out.append("\ndtypes: ").append(dtypes);
            out.append("\nlm_head: ").append(tied ? "tied to model.embed_tokens.weight" : "own weight")
                    .append(" (").append(tiedReason).append(')');
            if (!skipped.isEmpty()) {
                out.append("\nskipped: ").append(skipped);
            }
            return out.toString();
        }
    }

    private LlamaCheckpoint() {
    }

    /**
     * Loads the model in Hugging Face directory {@code directory}.
     *
     * @throws IllegalArgumentException when the directory, config.json or the weights are missing
     *     or invalid, or a tensor is missing, unexpected, of the wrong shape or not floating point
     * @throws IOException when a file cannot be read or a safetensors header is malformed
     */
    public static Loaded load(Path directory) throws IOException {
        if (!Files.isDirectory(directory)) {
            throw new IllegalArgumentException(directory + ": not a directory; pass a Hugging Face model directory "
                    + "containing " + LlamaConfig.FILE_NAME + " and " + SafeTensors.MODEL_FILE);
        }
        Path configFile = directory.resolve(LlamaConfig.FILE_NAME);
        if (!Files.isRegularFile(configFile)) {
            throw new IllegalArgumentException(directory + ": " + LlamaConfig.FILE_NAME + " not found; a Hugging Face "
                    + "model directory contains " + LlamaConfig.FILE_NAME + " next to its weights");
        }
        LlamaConfig config = LlamaConfig.load(configFile);
        if (!Files.exists(directory.resolve(SafeTensors.INDEX_FILE)) && !Files.exists(directory.resolve(SafeTensors.MODEL_FILE))) {
            throw new IllegalArgumentException(directory + ": neither " + SafeTensors.MODEL_FILE + " nor "
                    + SafeTensors.INDEX_FILE + " found; save the weights in the safetensors format "
                    + "(transformers: save_pretrained(..., safe_serialization=True))");
        }

        try (SafeTensors weights = SafeTensors.open(directory)) {
            String source = weightSource(directory);
            boolean stored = weights.contains(LlamaParameters.LM_HEAD);
            boolean tied = config.tieWordEmbeddings() || !stored;
            String tiedReason = config.tieWordEmbeddings()
                    ? "tie_word_embeddings is true" + (stored ? "; the stored lm_head.weight is skipped" : "")
                    : stored ? "tie_word_embeddings is false" : "the checkpoint stores no lm_head.weight";

            Map<String, int[]> shapes = LlamaParameters.shapes(config, tied);
            List<String> problems = new ArrayList<>();
            List<String> skipped = new ArrayList<>();
            Map<String, Integer> dtypes = new TreeMap<>();
            for (Map.Entry<String, int[]> entry : shapes.entrySet()) {
                checkTensor(weights, entry.getKey(), entry.getValue(), problems, dtypes);
            }
            for (String name : weights.names()) {
                if (shapes.containsKey(name)) {
                    continue;
                }
                if (INV_FREQ.matcher(name).matches() || (tied && name.equals(LlamaParameters.LM_HEAD))) {
                    skipped.add(name);
                } else {
                    problems.add("unexpected tensor " + name + " " + Arrays.toString(weights.info(name).shape()));
                }
            }
            if (!problems.isEmpty()) {
                throw new IllegalArgumentException(source + ": the weights do not match " + configFile + " ("
                        + problems.size() + " problem" + (problems.size() == 1 ? "" : "s") + "): "
                        + summarize(problems) + ". Fix the checkpoint or its config.json so they describe the same model.");
            }

            // every name and shape checked, so allocate the model and read straight into its parameters
            LlamaForCausalLM model = new LlamaForCausalLM(config, tied);
            for (Map.Entry<String, Parameter> entry : model.namedParameters().entrySet()) {
                weights.readFloat32(entry.getKey(), entry.getValue().data(), 0);
            }
            LoadReport report = new LoadReport(weightFiles(directory, weights), dtypes, shapes.size(),
                    model.parameterCount(), tied, tiedReason, List.copyOf(skipped));
            return new Loaded(model, directory, report);
        }
    }

    private static void checkTensor(SafeTensors weights, String name, int[] expected, List<String> problems,
                                    Map<String, Integer> dtypes) {
        if (!weights.contains(name)) {
            problems.add("missing tensor " + name + " " + Arrays.toString(expected));
            return;
        }
        TensorInfo info = weights.info(name);
        long[] found = info.shape();
        if (!Arrays.equals(found, Arrays.stream(expected).asLongStream().toArray())) {
            problems.add(name + " has shape " + Arrays.toString(found) + " but the config needs " + Arrays.toString(expected));
        }
        if (!info.dtype().isFloatingPoint()) {
            problems.add(name + " is stored as " + info.dtype() + "; expected F32, F16, BF16 or F64");
        }
        dtypes.merge(info.dtype().name(), 1, Integer::sum);
    }

    private static String summarize(List<String> problems) {
        if (problems.size() <= MAX_LISTED_PROBLEMS) {
            return String.join("; ", problems);
        }
        return String.join("; ", problems.subList(0, MAX_LISTED_PROBLEMS)) + "; and "
                + (problems.size() - MAX_LISTED_PROBLEMS) + " more";
    }

    private static String weightSource(Path directory) {
        Path index = directory.resolve(SafeTensors.INDEX_FILE);
        return (Files.exists(index) ? index : directory.resolve(SafeTensors.MODEL_FILE)).toString();
    }

    private static List<Path> weightFiles(Path directory, SafeTensors weights) {
        if (weights instanceof dev.transact4j.nn.safetensors.ShardedSafeTensors sharded) {
            List<Path> files = new ArrayList<>();
            sharded.shards().forEach(shard -> files.add(shard.path()));
            return List.copyOf(files);
        }
        return List.of(directory.resolve(SafeTensors.MODEL_FILE));
    }

    // ---------------------------------------------------------------- saving

    /**
     * Writes {@code model} to {@code directory} as {@code config.json} and {@code model.safetensors}
     * with every parameter stored as {@code dtype} (F32, or BF16/F16 rounded to nearest even), and
     * copies the {@link #COMPANION_FILES} present in {@code companionsFrom} (may be null). A tied
     * model stores no {@code lm_head.weight} and its config says {@code tie_word_embeddings: true};
     * {@code torch_dtype} names the stored dtype. Every file is written to a temporary file and
     * renamed. A {@code model.safetensors.index.json} left in the directory is deleted, because
     * readers would prefer it over the new file.
     *
     * @throws IllegalArgumentException when dtype is not F32, BF16 or F16
     */
    public static void save(LlamaForCausalLM model, Path directory, DType dtype, Path companionsFrom) throws IOException {
        save(model, directory, dtype, companionsFrom, 0);
    }

    /**
     * Writes {@code model} as {@link #save(LlamaForCausalLM, Path, DType, Path)} does, but in shards
     * of at most {@code maxShardBytes} with {@code model.safetensors.index.json} when
     * {@code maxShardBytes} is positive; a stale {@code model.safetensors} is then deleted.
     */
    public static void save(LlamaForCausalLM model, Path directory, DType dtype, Path companionsFrom,
                            long maxShardBytes) throws IOException {
        String torchDtype = switch (dtype) {
            case F32 -> "float32";
            case BF16 -> "bfloat16";
            case F16 -> "float16";
            default -> throw new IllegalArgumentException("LlamaCheckpoint.save: dtype " + dtype
                    + " cannot store the weights; use F32, BF16 or F16");
        };
        Files.createDirectories(directory);

        // weights first, so a config never describes weights that are not there yet
        SafeTensorsWriter writer = new SafeTensorsWriter().metadata("format", "pt");
        for (Map.Entry<String, Parameter> entry : model.namedParameters().entrySet()) {
            Parameter p = entry.getValue();
            writer.add(entry.getKey(), p.data(), p.shape(), dtype);
        }
        if (maxShardBytes > 0) {
            writer.writeSharded(directory, "model", maxShardBytes);
            Files.deleteIfExists(directory.resolve(SafeTensors.MODEL_FILE));
        } else {
            writer.write(directory.resolve(SafeTensors.MODEL_FILE));
            Files.deleteIfExists(directory.resolve(SafeTensors.INDEX_FILE));
        }

        // the config, with the dtype written and the tying the weights have
        LlamaConfig config = model.config().toBuilder()
                .torchDtype(torchDtype)
                .tieWordEmbeddings(model.tied())
                .build();
        config.save(directory.resolve(LlamaConfig.FILE_NAME));

        if (companionsFrom != null && !companionsFrom.toAbsolutePath().normalize().equals(directory.toAbsolutePath().normalize())) {
            for (String name : COMPANION_FILES) {
                Path file = companionsFrom.resolve(name);
                if (Files.isRegularFile(file)) {
                    copyAtomically(file, directory.resolve(name));
                }
            }
        }
    }

    private static void copyAtomically(Path source, Path target) throws IOException {
        Path temp = target.resolveSibling("." + target.getFileName() + "." + UUID.randomUUID() + ".tmp");
        try {
            Files.copy(source, temp);
            Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(temp);
        }
    }
}
