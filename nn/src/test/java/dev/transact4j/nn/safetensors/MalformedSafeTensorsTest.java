package dev.transact4j.nn.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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

/** Every malformed header gets an error that names the file and the tensor at fault. */
class MalformedSafeTensorsTest {

    @TempDir
    Path dir;

    /** Writes a file with the given header length field, header text and number of data bytes. */
    private Path write(String fileName, long headerLength, String header, int dataBytes) throws IOException {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buffer = ByteBuffer.allocate(8 + json.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        buffer.putLong(headerLength).put(json);
        Path path = dir.resolve(fileName);
        Files.write(path, buffer.array());
        return path;
    }

    private Path write(String fileName, String header, int dataBytes) throws IOException {
        return write(fileName, header.getBytes(StandardCharsets.UTF_8).length, header, dataBytes);
    }

    /** Opens {@code path}, expects a format error, and checks that it names the file and contains every fragment. */
    private static void assertRejected(Path path, String... fragments) {
        SafeTensorsFormatException e = assertThrows(SafeTensorsFormatException.class, () -> SafeTensorsFile.open(path));
        String message = e.getMessage();
        assertTrue(message.startsWith(path.toString() + ": "), "names the file: " + message);
        for (String fragment : fragments) {
            assertTrue(message.contains(fragment), "expected '" + fragment + "' in: " + message);
        }
    }

    @Test
    void fileShorterThanLengthField() throws IOException {
        Path path = dir.resolve("short.safetensors");
        Files.write(path, new byte[] {1, 2, 3});
        assertRejected(path, "file has 3 bytes, fewer than the 8-byte header length");
    }

    @Test
    void headerLengthLargerThanFile() throws IOException {
        Path path = write("long.safetensors", 500, "{}", 0);
        assertRejected(path, "header length 500 is larger than the 2 bytes that follow it");
    }

    @Test
    void headerLengthOverLimit() throws IOException {
        Path path = write("huge.safetensors", 200L * 1024 * 1024, "{}", 0);
        assertRejected(path, "header length 209715200 exceeds the limit of 104857600 bytes");
    }

    @Test
    void headerLengthOverflowingLong() throws IOException {
        Path path = write("negative.safetensors", -1L, "{}", 0);
        assertRejected(path, "header length 18446744073709551615 exceeds the limit");
    }

    @Test
    void invalidJson() throws IOException {
        Path path = write("json.safetensors", "{\"w\": {\"dtype\": \"F32\",", 0);
        assertRejected(path, "header is not valid JSON");
    }

    @Test
    void headerNotAnObject() throws IOException {
        Path path = write("array.safetensors", "[1, 2]", 0);
        assertRejected(path, "header is not a JSON object");
    }

    @Test
    void contentAfterHeaderObject() throws IOException {
        Path path = write("trailing.safetensors", "{} {}", 0);
        assertRejected(path, "header has content after its JSON object");
    }

    @Test
    void unknownDtype() throws IOException {
        Path path = write("dtype.safetensors", "{\"w\":{\"dtype\":\"F42\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4);
        assertRejected(path, "tensor 'w'", "unknown dtype 'F42'", "known dtypes are F64, F32");
    }

    @Test
    void missingDtype() throws IOException {
        Path path = write("nodtype.safetensors", "{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4);
        assertRejected(path, "tensor 'w'", "missing or non-string \"dtype\"");
    }

    @Test
    void negativeShape() throws IOException {
        Path path = write("shape.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4);
        assertRejected(path, "tensor 'w': shape must contain non-negative integers, found -1");
    }

    @Test
    void offsetsNotAPair() throws IOException {
        Path path = write("pair.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4);
        assertRejected(path, "tensor 'w'", "\"data_offsets\" must be an array [begin, end]");
    }

    @Test
    void shapeAndOffsetsDisagree() throws IOException {
        Path path = write("size.safetensors",
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,12]}}", 12);
        assertRejected(path, "tensor 'w': dtype F32 with shape [2, 2] needs 16 bytes, but data_offsets [0, 12] span 12");
    }

    @Test
    void offsetsEndBeforeBegin() throws IOException {
        Path path = write("reversed.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", 8);
        assertRejected(path, "tensor 'w': data_offsets [8, 4] end before they begin");
    }

    @Test
    void offsetsPastEndOfFile() throws IOException {
        Path path = write("truncated.safetensors",
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 10);
        assertRejected(path, "tensor 'w': data_offsets [0, 16] reach past the end of the data section, which has 10 bytes");
    }

    @Test
    void overlappingOffsets() throws IOException {
        Path path = write("overlap.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12);
        assertRejected(path, "tensor 'b' data_offsets [4, 12] overlap those of tensor 'a' [0, 8]");
    }

    @Test
    void duplicateTensorName() throws IOException {
        Path path = write("duplicate.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8);
        assertRejected(path, "tensor name 'w' appears twice in the header");
    }

    @Test
    void duplicateFieldInEntry() throws IOException {
        Path path = write("field.safetensors",
                "{\"w\":{\"dtype\":\"F32\",\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4);
        assertRejected(path, "key 'dtype' appears twice in the header entry of 'w'");
    }

    @Test
    void metadataValueNotString() throws IOException {
        Path path = write("metadata.safetensors", "{\"__metadata__\":{\"step\":3}}", 0);
        assertRejected(path, "__metadata__ value 'step' must be a string, found 3");
    }

    @Test
    void entryNotAnObject() throws IOException {
        Path path = write("entry.safetensors", "{\"w\":[1,2]}", 0);
        assertRejected(path, "tensor 'w': header entry must be an object with dtype, shape and data_offsets");
    }

    @Test
    void emptyMetadataAndPaddingAccepted() throws Exception {
        Path path = write("ok.safetensors", "{\"__metadata__\":{},\"w\":{\"dtype\":\"F32\",\"shape\":[1],"
                + "\"data_offsets\":[0,4]},\"z\":{\"dtype\":\"BF16\",\"shape\":[0],\"data_offsets\":[4,4]}}       ", 4);
        try (SafeTensorsFile file = SafeTensorsFile.open(path)) {
            assertTrue(file.metadata().isEmpty());
            assertArrayEquals(new float[] {0f}, file.readFloat32("w"));
            assertArrayEquals(new float[0], file.readFloat32("z"));
        }
    }
}
