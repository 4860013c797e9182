package dev.transact4j.train.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Opens pre-tokenised flat token files as nanoGPT and llm.c write them.
 *
 * <ul>
 *   <li>nanoGPT ({@code prepare.py}): raw little-endian ids, no header. The width cannot be read
 *       from the file, so the caller gives it (nanoGPT writes uint16).
 *   <li>llm.c ({@code dev/data/data_common.py}, {@code write_datafile}): a header of 256 little-endian
 *       int32 values, then the ids. header[0] is the magic, header[1] the version and header[2] the
 *       token count. Magic 20240520 with version 1 means uint16 ids (GPT-2), magic 20240801 with
 *       version 7 means uint32 ids (Llama 3). The other header values are zero.
 * </ul>
 *
 * A file whose first int32 is one of the llm.c magics is read as llm.c, anything else as raw. So a
 * raw uint16 file that starts with the ids 55432 and 308 is taken for llm.c and then rejected by
 * the header checks. Neither the GPT-2 nor the Llama 2 vocabulary has an id 55432.
 * Shards, such as llm.c's {@code fineweb_train_000001.bin} and onwards, are read as one sequence
 * when they share format and dtype.
 */
public final class TokenFiles {

    /** llm.c magic for uint16 token files, written with version 1. */
    public static final int LLMC_MAGIC_UINT16 = 20240520;
    /** llm.c magic for uint32 token files, written with version 7. */
    public static final int LLMC_MAGIC_UINT32 = 20240801;
    /** Number of int32 values in an llm.c header. */
    public static final int LLMC_HEADER_INTS = 256;

    private static final int LLMC_VERSION_UINT16 = 1;
    private static final int LLMC_VERSION_UINT32 = 7;

    private TokenFiles() {
    }

    /**
     * Opens a token file, detecting an llm.c header by its magic.
     *
     * @param rawDtype width of the ids when the file has no llm.c header
     * @throws DatasetException when the file is missing or its size does not fit its format
     */
    public static TokenSequence open(Path file, TokenDtype rawDtype) throws IOException {
        return open(file, rawDtype, TokenSequence.DEFAULT_CHUNK_SHIFT);
    }

    /**
     * Opens shard files as one sequence named {@code root}, in the order given.
     *
     * @throws DatasetException when a file is malformed or the files differ in format
     */
    public static TokenSequence openShards(Path root, List<Path> files, TokenDtype rawDtype) throws IOException {
        return openShards(root, files, rawDtype, TokenSequence.DEFAULT_CHUNK_SHIFT);
    }

    static TokenSequence openShards(Path root, List<Path> files, TokenDtype rawDtype, int chunkShift)
            throws IOException {
        List<TokenSequence> parts = new ArrayList<>(files.size());
        for (Path file : files) {
            parts.add(open(file, rawDtype, chunkShift));
        }
        return TokenSequence.concat(root, parts);
    }

    static TokenSequence open(Path file, TokenDtype rawDtype, int chunkShift) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new DatasetException("Token file not found: " + file + ". Check the path, or write the file"
                    + " with nanoGPT's or llm.c's data preparation script first.");
        }
        long size = Files.size(file);
        int magic = size >= 4 ? readHeaderInts(file, 1)[0] : 0;
        if (magic == LLMC_MAGIC_UINT16 || magic == LLMC_MAGIC_UINT32) {
            return openLlmc(file, size, magic, chunkShift);
        }
        if (size % rawDtype.bytes() != 0) {
            throw new DatasetException("Token file " + file + " has " + size + " bytes, which is not a multiple of "
                    + rawDtype.bytes() + " (" + rawDtype.jsonName() + "). It is not a flat " + rawDtype.jsonName()
                    + " token file: check the dtype, or whether the file was cut short.");
        }
        return TokenSequence.map(file, 0, rawDtype, size / rawDtype.bytes(), List.of(), -1, chunkShift);
    }

    private static TokenSequence openLlmc(Path file, long size, int magic, int chunkShift) throws IOException {
        long headerBytes = 4L * LLMC_HEADER_INTS;
        if (size < headerBytes) {
            throw new DatasetException("Token file " + file + " starts with the llm.c magic " + magic + " but has only "
                    + size + " bytes, fewer than the " + headerBytes + "-byte header. The file is truncated.");
        }
        int[] header = readHeaderInts(file, 3);
        TokenDtype dtype = magic == LLMC_MAGIC_UINT16 ? TokenDtype.UINT16 : TokenDtype.UINT32;
        int expectedVersion = magic == LLMC_MAGIC_UINT16 ? LLMC_VERSION_UINT16 : LLMC_VERSION_UINT32;
        if (header[1] != expectedVersion) {
            throw new DatasetException("Token file " + file + " has llm.c magic " + magic + " but version " + header[1]
                    + "; only version " + expectedVersion + " is known for this magic.");
        }
        long count = header[2];
        long expectedSize = headerBytes + count * dtype.bytes();
        if (count < 0 || size != expectedSize) {
            throw new DatasetException("Token file " + file + " declares " + count + " " + dtype.jsonName()
                    + " tokens in its llm.c header, so it should have " + expectedSize + " bytes, but it has " + size
                    + ". The file is truncated or was not written by llm.c.");
        }
        return TokenSequence.map(file, headerBytes, dtype, count, List.of(), -1, chunkShift);
    }

    private static int[] readHeaderInts(Path file, int count) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(4 * count).order(ByteOrder.LITTLE_ENDIAN);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            while (buffer.hasRemaining() && channel.read(buffer) >= 0) {
                // keep reading until the header values are in
            }
        }
        buffer.flip();
        int[] values = new int[count];
        for (int i = 0; i < count; i++) {
            values[i] = buffer.getInt();
        }
        return values;
    }
}
