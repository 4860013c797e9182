package dev.transact4j.train.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes token files byte by byte in test code, following each tool's format independently of the reader. */
final class TokenFileIo {

    private TokenFileIo() {
    }

    /** Writes raw little-endian uint16 ids with no header, as nanoGPT's prepare.py does. */
    static Path writeRawUint16(Path file, int[] ids) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(2 * ids.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int id : ids) {
            buffer.putShort((short) id);
        }
        return Files.write(file, buffer.array());
    }

    /** Writes raw little-endian uint32 ids with no header. */
    static Path writeRawUint32(Path file, long[] ids) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(4 * ids.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long id : ids) {
            buffer.putInt((int) id);
        }
        return Files.write(file, buffer.array());
    }

    /**
     * Writes an llm.c data file: 256 little-endian int32 header values (magic, version, token
     * count, then zeros) followed by the ids, uint16 for magic 20240520 and uint32 for 20240801.
     */
    static Path writeLlmc(Path file, int magic, int version, int declaredCount, long[] ids) throws IOException {
        int width = magic == 20240520 ? 2 : 4;
        ByteBuffer buffer = ByteBuffer.allocate(256 * 4 + width * ids.length).order(ByteOrder.LITTLE_ENDIAN);
        buffer.putInt(magic).putInt(version).putInt(declaredCount);
        buffer.position(256 * 4);
        for (long id : ids) {
            if (width == 2) {
                buffer.putShort((short) id);
            } else {
                buffer.putInt((int) id);
            }
        }
        return Files.write(file, buffer.array());
    }

    /** Reads a whole sequence through {@link TokenSequence#get(long)}. */
    static int[] all(TokenSequence tokens) {
        int[] out = new int[Math.toIntExact(tokens.length())];
        for (int i = 0; i < out.length; i++) {
            out[i] = tokens.get(i);
        }
        return out;
    }
}
