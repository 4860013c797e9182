package dev.transact4j.nn;

import dev.transact4j.nn.safetensors.DType;
import dev.transact4j.nn.safetensors.SafeTensors;
import dev.transact4j.nn.safetensors.SafeTensorsWriter;
import dev.transact4j.nn.safetensors.TensorInfo;
import dev.transact4j.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Saves state dicts as safetensors checkpoints and loads them back, through
 * {@link SafeTensorsWriter} and {@link SafeTensors}.
 */
public final class StateDicts {

    private StateDicts() {
    }

    /**
     * Writes {@code state} to {@code file} with every tensor stored as {@code dtype} (F32 exactly,
     * BF16 or F16 rounded to nearest even), with the {@code format: pt} metadata that Hugging Face
     * transformers requires. The file is written to a temporary file and renamed.
     *
     * @throws IllegalArgumentException when dtype is not F32, BF16 or F16
     */
    public static void save(Map<String, Tensor> state, Path file, DType dtype) throws IOException {
        writer(state, dtype).write(file);
    }

    /**
     * Writes {@code state} as a sharded checkpoint in {@code directory}: shards
     * {@code model-00001-of-0000N.safetensors} of at most {@code maxShardBytes} of data each and the
     * index {@code model.safetensors.index.json}, as Hugging Face saves large models. Returns the
     * path of the index.
     *
     * @throws IllegalArgumentException when dtype is not F32, BF16 or F16
     */
    public static Path saveSharded(Map<String, Tensor> state, Path directory, DType dtype, long maxShardBytes)
            throws IOException {
        return writer(state, dtype).writeSharded(directory, "model", maxShardBytes);
    }

    private static SafeTensorsWriter writer(Map<String, Tensor> state, DType dtype) {
        SafeTensorsWriter writer = new SafeTensorsWriter().metadata("format", "pt");
        for (Map.Entry<String, Tensor> e : state.entrySet()) {
            Tensor t = e.getValue();
            writer.add(e.getKey(), t.toArray(), t.shape(), dtype);
        }
        return writer;
    }

    /** Writes the state dict of {@code model} to {@code file}; see {@link #save(Map, Path, DType)}. */
    public static void save(Module model, Path file, DType dtype) throws IOException {
        save(model.stateDict(), file, dtype);
    }

    /**
     * Reads every tensor of a checkpoint (a safetensors file, a sharded checkpoint's index, or a
     * directory holding either) as float32, in the checkpoint's name order.
     *
     * @throws IllegalArgumentException naming the file and tensor when a tensor is not of a
     *                                  floating-point dtype
     */
    public static Map<String, Tensor> load(Path checkpoint) throws IOException {
        Map<String, Tensor> state = new LinkedHashMap<>();
        try (SafeTensors source = SafeTensors.open(checkpoint)) {
            for (String name : source.names()) {
                TensorInfo info = source.info(name);
                if (!info.dtype().isFloatingPoint()) {
                    throw new IllegalArgumentException(checkpoint + ": tensor '" + name + "' has dtype " + info.dtype()
                            + ", but a state dict holds floating-point tensors only");
                }
                state.put(name, Tensor.wrap(source.readFloat32(name), info.intShape()));
            }
        }
        return state;
    }

    /**
     * Loads a checkpoint into {@code model} with {@link Module#loadStateDict}.
     *
     * @throws IllegalArgumentException starting with the checkpoint path, listing every missing
     *                                  and unexpected key (with {@code strict}) and every shape
     *                                  mismatch
     */
    public static Module.LoadResult loadInto(Module model, Path checkpoint, boolean strict) throws IOException {
        Map<String, Tensor> state = load(checkpoint);
        try {
            return model.loadStateDict(state, strict);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(checkpoint + ": " + e.getMessage(), e);
        }
    }
}
