package dev.transact4j.nn.safetensors;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Read access to named tensors in the safetensors format, from one file or from a sharded
 * checkpoint. Tensors are read on request, so opening a large checkpoint reads only its headers.
 *
 * <p>The read methods convert on load: floating-point types to float32 or float64, integer types
 * to long or int, and BOOL to boolean. Each throws IllegalArgumentException for an unknown name or
 * a dtype it cannot convert, and IOException when the file cannot be read.
 */
public interface SafeTensors extends AutoCloseable {

    /** File name of a single-file Hugging Face checkpoint. */
    String MODEL_FILE = "model.safetensors";
    /** File name of the index of a sharded Hugging Face checkpoint. */
    String INDEX_FILE = "model.safetensors.index.json";

    /**
     * Opens a safetensors file, a sharded checkpoint's {@code *.index.json}, or a directory that
     * contains {@value #INDEX_FILE} or {@value #MODEL_FILE}.
     */
    static SafeTensors open(Path path) throws IOException {
        if (Files.isDirectory(path)) {
            Path index = path.resolve(INDEX_FILE);
            if (Files.exists(index)) {
                return ShardedSafeTensors.open(index);
            }
            Path single = path.resolve(MODEL_FILE);
            if (Files.exists(single)) {
                return SafeTensorsFile.open(single);
            }
            throw new SafeTensorsFormatException(path, "directory contains neither " + INDEX_FILE + " nor "
                    + MODEL_FILE + "; pass the path of the checkpoint file instead");
        }
        if (path.getFileName() != null && path.getFileName().toString().endsWith(".json")) {
            return ShardedSafeTensors.open(path);
        }
        return SafeTensorsFile.open(path);
    }

    /** Returns the tensor names in ascending order. */
    List<String> names();

    /** Returns whether a tensor named {@code name} is stored. */
    boolean contains(String name);

    /** Returns the header entry of {@code name}. */
    TensorInfo info(String name);

    /** Returns the {@code __metadata__} of the header (for an index, its {@code metadata}); empty when absent. */
    Map<String, String> metadata();

    /** Reads a F32, F16, BF16 or F64 tensor as float32 (F64 is rounded to nearest). */
    float[] readFloat32(String name) throws IOException;

    /**
     * Reads a F32, F16, BF16 or F64 tensor as float32 into {@code dst} from {@code offset}.
     *
     * @throws IndexOutOfBoundsException when the tensor does not fit {@code dst} from {@code offset}
     */
    void readFloat32(String name, float[] dst, int offset) throws IOException;

    /** Reads a F64, F32, F16 or BF16 tensor as float64 (exact). */
    double[] readDoubles(String name) throws IOException;

    /** Reads an integer or BOOL tensor (any dtype but U64) as longs. */
    long[] readLongs(String name) throws IOException;

    /** Reads an integer or BOOL tensor as ints; I64, U32 and U64 values must fit an int. */
    int[] readInts(String name) throws IOException;

    /** Reads the raw bytes of a U8, I8 or BOOL tensor. */
    byte[] readBytes(String name) throws IOException;

    /** Reads a BOOL tensor; any nonzero byte is true. */
    boolean[] readBooleans(String name) throws IOException;

    /** Releases the open files; tensors read before stay valid. */
    @Override
    void close() throws IOException;
}
