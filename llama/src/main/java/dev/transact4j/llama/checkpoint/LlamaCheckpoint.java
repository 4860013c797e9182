package dev.transact4j.llama.checkpoint;

import dev.transact4j.llama.LlamaConfig;
import dev.transact4j.llama.LlamaForCausalLM;
import dev.transact4j.nn.Parameter;
import dev.transact4j.nn.safetensors.DType;
import dev.transact4j.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Moves a {@link LlamaForCausalLM} in and out of a Hugging Face model directory through
 * {@link HfCheckpoint}, which does the reading, the strict name and shape checks against the
 * config, and the atomic writing.
 *
 * <p>The model and the checkpoint share their float arrays, without copies: a model made by
 * {@link #load} or {@link #toModel} reads the checkpoint's arrays, and {@link #toCheckpoint} wraps
 * the model's parameters as they are at that moment.
 */
public final class LlamaCheckpoint {

    /** A loaded model, the checkpoint it came from (for its generation and tokenizer files), and a summary. */
    public record Loaded(LlamaForCausalLM model, HfCheckpoint checkpoint, LoadReport report) {
    }

    /**
     * A summary of a load: where from, how many tensors and parameters, the stored dtypes with
     * their tensor counts, and whether lm_head is tied and why.
     */
    public record LoadReport(Path directory, int tensors, long parameters, Map<String, Integer> dtypes, boolean tied,
                             String tiedReason) {

        /** Returns the report as a few lines for a log. */
        @Override
        public String toString() {
            return "loaded " + tensors + " tensors, " + parameters + " parameters from " + directory
                    + "\ndtypes: " + dtypes
                    + "\nlm_head: " + (tied ? "tied to " + LlamaWeights.EMBED_TOKENS : "own weight")
                    + " (" + tiedReason + ")";
        }
    }

    private LlamaCheckpoint() {
    }

    /**
     * Loads the model in {@code directory} (config.json and model.safetensors or a sharded index;
     * F32, F16, BF16 or F64 weights, converted to float32).
     *
     * @throws IllegalArgumentException as {@link HfCheckpoint#load}: a missing or invalid
     *     directory or config, or weights that do not match the config, every difference listed
     * @throws IOException as {@link HfCheckpoint#load}, when a file is missing, malformed or unreadable
     */
    public static Loaded load(Path directory) throws IOException {
        HfCheckpoint checkpoint = HfCheckpoint.load(directory);
        LlamaForCausalLM model = toModel(checkpoint);

        // HfCheckpoint ties a checkpoint without lm_head.weight, so the config file shows whether it asked for that
        boolean configTied = LlamaConfig.load(directory.resolve(LlamaConfig.FILE_NAME)).tieWordEmbeddings();
        String tiedReason = configTied ? "tie_word_embeddings is true"
                : model.tied() ? "the checkpoint stores no lm_head.weight" : "tie_word_embeddings is false";
        Map<String, Integer> dtypes = new TreeMap<>();
        checkpoint.storedTypes().values().forEach(dtype -> dtypes.merge(dtype.name(), 1, Integer::sum));
        LoadReport report = new LoadReport(directory, checkpoint.weights().size(), model.parameterCount(), dtypes,
                model.tied(), tiedReason);
        return new Loaded(model, checkpoint, report);
    }

    /**
     * Returns a model over the checkpoint's arrays, tied when its config sets
     * {@code tie_word_embeddings}.
     */
    public static LlamaForCausalLM toModel(HfCheckpoint checkpoint) {
        LlamaConfig config = checkpoint.config();
        // NOTE: the constructor allocates zero weights that set() then drops, so the peak memory
        // is briefly the checkpoint plus one model's worth of zeros.
        LlamaForCausalLM model = new LlamaForCausalLM(config, config.tieWordEmbeddings());
        for (Map.Entry<String, Parameter> entry : model.namedParameters().entrySet()) {
            NamedArray array = checkpoint.weight(entry.getKey());
            entry.getValue().set(Tensor.wrap(array.data(), array.shape()));
        }
        return model;
    }

    /**
     * Returns the model as a checkpoint that shares the parameters' arrays, with the generation
     * config and tokenizer files of {@code companions} (may be null). A tied model gets
     * {@code tie_word_embeddings: true} and no {@code lm_head.weight}.
     */
    public static HfCheckpoint toCheckpoint(LlamaForCausalLM model, HfCheckpoint companions) {
        Map<String, NamedArray> weights = new LinkedHashMap<>();
        for (Map.Entry<String, Parameter> entry : model.namedParameters().entrySet()) {
            weights.put(entry.getKey(), new NamedArray(entry.getValue().data(), entry.getValue().shape()));
        }
        LlamaConfig config = model.config().toBuilder().tieWordEmbeddings(model.tied()).build();
        return companions == null
                ? new HfCheckpoint(config, weights, null, Map.of())
                : companions.withWeights(config, weights);
    }

    /**
     * Writes the model to {@code directory} as {@link HfCheckpoint#save(Path, DType)} does, with the
     * generation config and tokenizer files of {@code companions} (may be null).
     *
     * @return the directory written
     * @throws IllegalArgumentException when dtype is not F32 or BF16, or the directory exists and
     *     is not a model directory
     */
    public static Path save(LlamaForCausalLM model, Path directory, DType dtype, HfCheckpoint companions)
            throws IOException {
        return toCheckpoint(model, companions).save(directory, dtype);
    }

    /** Writes the model as {@link #save(LlamaForCausalLM, Path, DType, HfCheckpoint)} in shards of at most {@code maxShardBytes}. */
    public static Path save(LlamaForCausalLM model, Path directory, DType dtype, HfCheckpoint companions,
                            long maxShardBytes) throws IOException {
        return toCheckpoint(model, companions).save(directory, dtype, maxShardBytes);
    }
}
