package dev.transact4j.nn.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.transact4j.tensor.HalfFloats;
import dev.transact4j.tensor.testing.Fixture;
import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsFileTest {

    @TempDir
    Path dir;

    private static Path resource(String name) throws URISyntaxException {
        URL url = SafeTensorsFileTest.class.getClassLoader().getResource("fixtures/" + name);
        if (url == null) {
            throw new IllegalStateException("fixtures/" + name + " not found; run src/test/python/make_safetensors_fixtures.py");
        }
        return Path.of(url.toURI());
    }

    private static float[] randomFloats(SplittableRandom random, int n) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = (float) Math.scalb(random.nextDouble(-1.0, 1.0), random.nextInt(-20, 20));
        }
        return out;
    }

    private static void assertFloatsEqual(double[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + " length");
        for (int i = 0; i < expected.length; i++) {
            assertEquals(Float.floatToRawIntBits((float) expected[i]), Float.floatToRawIntBits(actual[i]),
                    what + "[" + i + "] expected " + expected[i] + " but was " + actual[i]);
        }
    }

    @Test
    void handwrittenFileLoadsExactly() throws Exception {
        Fixture expected = Fixture.load("safetensors_expected");
        try (SafeTensorsFile file = SafeTensorsFile.open(resource("safetensors_handwritten.safetensors"))) {
            assertEquals(List.of("a_f16", "b_f32", "c_bf16", "d_i64", "e_empty", "f_f64"), file.names());
            assertEquals(Map.of("format", "pt", "source", "make_safetensors_fixtures.py"), file.metadata());

            TensorInfo b = file.info("b_f32");
            assertEquals(DType.F32, b.dtype());
            assertArrayEquals(new long[] {2, 3}, b.shape());
            assertEquals(6, b.begin(), "offset not a multiple of 4");
            assertEquals(30, b.end());

            assertFloatsEqual(expected.get("a_f16").values(), file.readFloat32("a_f16"), "a_f16");
            assertFloatsEqual(expected.get("b_f32").values(), file.readFloat32("b_f32"), "b_f32");
            assertFloatsEqual(expected.get("c_bf16").values(), file.readFloat32("c_bf16"), "c_bf16");
            assertArrayEquals(expected.get("f_f64").values(), file.readDoubles("f_f64"));

            long[] longs = file.readLongs("d_i64");
            double[] expectedLongs = expected.get("d_i64").values();
            for (int i = 0; i < longs.length; i++) {
                assertEquals((long) expectedLongs[i], longs[i], "d_i64[" + i + "]");
            }
            assertEquals(1L << 40, longs[2]);

            TensorInfo empty = file.info("e_empty");
            assertArrayEquals(new long[] {0, 4}, empty.shape());
            assertEquals(empty.begin(), empty.end());
            assertEquals(0, file.readFloat32("e_empty").length);
        }
    }

    @Test
    void handwrittenFileReadsInSmallMappings() throws Exception {
        Path path = resource("safetensors_handwritten.safetensors");
        try (SafeTensorsFile whole = SafeTensorsFile.open(path);
             SafeTensorsFile pieces = SafeTensorsFile.open(path, 8)) {
            for (String name : List.of("a_f16", "b_f32", "c_bf16", "e_empty", "f_f64")) {
                assertArrayEquals(whole.readFloat32(name), pieces.readFloat32(name), name);
            }
            assertArrayEquals(whole.readLongs("d_i64"), pieces.readLongs("d_i64"));
        }
    }

    @Test
    void readIntsRejectsLongOutOfRange() throws Exception {
        try (SafeTensorsFile file = SafeTensorsFile.open(resource("safetensors_handwritten.safetensors"))) {
            ArithmeticException e = assertThrows(ArithmeticException.class, () -> file.readInts("d_i64"));
            assertTrue(e.getMessage().contains("tensor 'd_i64' element 2 is 1099511627776"), e.getMessage());
            assertTrue(e.getMessage().contains("use readLongs"), e.getMessage());
        }
    }

    @Test
    void roundTripEveryDtype() throws Exception {
        SplittableRandom random = new SplittableRandom(11);
        SafeTensorsWriter writer = new SafeTensorsWriter();
        float[] f32 = randomFloats(random, 257);
        float[] bf16 = randomFloats(random, 33);
        float[] f16 = randomFloats(random, 17);
        double[] f64 = {Math.PI, -0.0, Double.MAX_VALUE};
        long[] i64 = {Long.MIN_VALUE, -1, 0, Long.MAX_VALUE};
        int[] i32 = {Integer.MIN_VALUE, -5, 7, Integer.MAX_VALUE, 0};
        byte[] u8 = {0, 1, (byte) 200, (byte) 255};
        byte[] i8 = {-128, -1, 0, 127};
        boolean[] bool = {true, false, false, true, true};
        writer.add("f32", f32, new int[] {257})
                .add("bf16", bf16, new int[] {3, 11}, DType.BF16)
                .add("f16", f16, new int[] {17, 1}, DType.F16)
                .addDoubles("f64", f64, new int[] {3})
                .addLongs("i64", i64, new int[] {2, 2})
                .addInts("i32", i32, new int[] {5})
                .addBytes("u8", u8, new int[] {4}, DType.U8)
                .addBytes("i8", i8, new int[] {4}, DType.I8)
                .addBooleans("bool", bool, new int[] {5})
                .add("scalar", new float[] {42.5f}, new int[0])
                .add("empty", new float[0], new int[] {3, 0})
                .metadata("format", "pt")
                .metadata("step", "7");
        Path path = dir.resolve("all.safetensors");
        writer.write(path);

        try (SafeTensorsFile file = SafeTensorsFile.open(path)) {
            assertEquals(Map.of("format", "pt", "step", "7"), file.metadata());
            assertArrayEquals(f32, file.readFloat32("f32"));
            assertArrayEquals(HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(bf16)), file.readFloat32("bf16"));
            assertArrayEquals(HalfFloats.halfToFloat(HalfFloats.floatToHalf(f16)), file.readFloat32("f16"));
            assertArrayEquals(f64, file.readDoubles("f64"));
            assertArrayEquals(i64, file.readLongs("i64"));
            assertArrayEquals(i32, file.readInts("i32"));
            assertArrayEquals(new long[] {0, 1, 200, 255}, file.readLongs("u8"));
            assertArrayEquals(u8, file.readBytes("u8"));
            assertArrayEquals(i8, file.readBytes("i8"));
            assertArrayEquals(new int[] {-128, -1, 0, 127}, file.readInts("i8"));
            assertArrayEquals(bool, file.readBooleans("bool"));
            assertArrayEquals(new float[] {42.5f}, file.readFloat32("scalar"));
            assertArrayEquals(new long[0], file.info("scalar").shape());
            assertEquals(0, file.readFloat32("empty").length);
            assertArrayEquals(new long[] {3, 0}, file.info("empty").shape());
            assertEquals(DType.BF16, file.info("bf16").dtype());
            assertArrayEquals(new int[] {3, 11}, file.info("bf16").intShape());
        }
    }

    @Test
    void writtenFileFollowsFormatRules() throws Exception {
        Path path = dir.resolve("rules.safetensors");
        new SafeTensorsWriter()
                .add("z", new float[3], new int[] {3})
                .add("a", new float[] {1f}, new int[] {1}, DType.BF16)
                .add("m", new float[0], new int[] {0})
                .addLongs("b", new long[] {1, 2}, new int[] {2})
                .write(path);

        byte[] bytes = Files.readAllBytes(path);
        long headerLength = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        assertEquals(0, (8 + headerLength) % 8, "data section starts at a multiple of 8");
        String header = new String(bytes, 8, (int) headerLength, StandardCharsets.UTF_8);
        assertTrue(header.startsWith("{\"a\":"), header);
        assertTrue(header.stripTrailing().endsWith("}"), header);

        try (SafeTensorsFile file = SafeTensorsFile.open(path)) {
            assertEquals(List.of("a", "b", "m", "z"), file.names());
            long expectedBegin = 0;
            for (String name : file.names()) {
                TensorInfo info = file.info(name);
                assertEquals(expectedBegin, info.begin(), "offsets of " + name + " follow the previous tensor");
                expectedBegin = info.end();
            }
            assertEquals(bytes.length - 8 - headerLength, expectedBegin, "no bytes after the last tensor");
            assertTrue(file.metadata().isEmpty());
        }
        assertEquals(List.of("rules.safetensors"), listDir());
    }

    @Test
    void failedWriteKeepsPreviousFile() throws Exception {
        Path path = dir.resolve("model.safetensors");
        new SafeTensorsWriter().add("w", new float[] {1f, 2f}, new int[] {2}).write(path);
        byte[] before = Files.readAllBytes(path);

        SafeTensorsWriter failing = new SafeTensorsWriter()
                .add("a", new float[4096], new int[] {4096})
                .add("b", DType.F32, new int[] {2}, () -> {
                    throw new IOException("source checkpoint unreadable");
                });
        IOException e = assertThrows(IOException.class, () -> failing.write(path));
        assertEquals("source checkpoint unreadable", e.getMessage());

        assertArrayEquals(before, Files.readAllBytes(path));
        assertEquals(List.of("model.safetensors"), listDir(), "temporary file removed");
    }

    @Test
    void writtenFileHasDefaultPermissions() throws Exception {
        Path reference = Files.createFile(dir.resolve("plain.bin"));
        Path path = dir.resolve("perm.safetensors");
        new SafeTensorsWriter().add("w", new float[] {1f}, new int[] {1}).write(path);
        assumeTrue(Files.getFileStore(path).supportsFileAttributeView("posix"), "file system has no POSIX permissions");
        assertEquals(Files.getPosixFilePermissions(reference), Files.getPosixFilePermissions(path));
    }

    @Test
    void sourceOfWrongSizeFailsWrite() throws Exception {
        Path path = dir.resolve("x.safetensors");
        SafeTensorsWriter writer = new SafeTensorsWriter().add("b", DType.BF16, new int[] {2, 2}, () -> new float[3]);
        IOException e = assertThrows(IOException.class, () -> writer.write(path));
        assertTrue(e.getMessage().contains("tensor 'b' supplied 3 values, but its shape [2, 2] has 4"), e.getMessage());
        assertTrue(Files.notExists(path));
    }

    @Test
    void writerRejectsBadInput() {
        SafeTensorsWriter writer = new SafeTensorsWriter().add("w", new float[2], new int[] {2});
        IllegalArgumentException duplicate = assertThrows(IllegalArgumentException.class,
                () -> writer.add("w", new float[2], new int[] {2}));
        assertTrue(duplicate.getMessage().contains("tensor 'w' was already added"), duplicate.getMessage());

        IllegalArgumentException reserved = assertThrows(IllegalArgumentException.class,
                () -> writer.add("__metadata__", new float[1], new int[] {1}));
        assertTrue(reserved.getMessage().contains("reserved"), reserved.getMessage());

        IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                () -> writer.add("v", new float[5], new int[] {2, 3}));
        assertTrue(shape.getMessage().contains("tensor 'v' has shape [2, 3] of 6 elements, but its data has 5"),
                shape.getMessage());

        IllegalArgumentException dtype = assertThrows(IllegalArgumentException.class,
                () -> writer.add("u", new float[1], new int[] {1}, DType.I32));
        assertTrue(dtype.getMessage().contains("cannot be stored as I32"), dtype.getMessage());
    }

    @Test
    void largeTensorReadsInPieces() throws Exception {
        SplittableRandom random = new SplittableRandom(3);
        float[] f32 = randomFloats(random, 1001);
        float[] bf16 = randomFloats(random, 999);
        long[] longs = random.longs(37).toArray();
        Path path = dir.resolve("pieces.safetensors");
        new SafeTensorsWriter()
                .add("f32", f32, new int[] {1001})
                .add("bf16", bf16, new int[] {999}, DType.BF16)
                .addLongs("longs", longs, new int[] {37})
                .write(path);
        try (SafeTensorsFile file = SafeTensorsFile.open(path, 24)) {
            assertArrayEquals(f32, file.readFloat32("f32"));
            assertArrayEquals(HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(bf16)), file.readFloat32("bf16"));
            assertArrayEquals(longs, file.readLongs("longs"));
        }
    }

    @Test
    void readIntoArrayAtOffset() throws Exception {
        Path path = dir.resolve("offset.safetensors");
        new SafeTensorsWriter().add("w", new float[] {1f, 2f, 3f}, new int[] {3}).write(path);
        try (SafeTensorsFile file = SafeTensorsFile.open(path)) {
            float[] dst = new float[5];
            file.readFloat32("w", dst, 2);
            assertArrayEquals(new float[] {0f, 0f, 1f, 2f, 3f}, dst);
            IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
                    () -> file.readFloat32("w", dst, 3));
            assertTrue(e.getMessage().contains("tensor 'w' has 3 elements, which do not fit an array of 5 from offset 3"),
                    e.getMessage());
        }
    }

    @Test
    void readRejectsUnknownNameAndWrongType() throws Exception {
        Path path = dir.resolve("types.safetensors");
        new SafeTensorsWriter()
                .add("w", new float[] {1f}, new int[] {1})
                .addLongs("ids", new long[] {1}, new int[] {1})
                .write(path);
        try (SafeTensorsFile file = SafeTensorsFile.open(path)) {
            IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> file.readFloat32("v"));
            assertTrue(missing.getMessage().contains("types.safetensors: no tensor named 'v'"), missing.getMessage());

            IllegalArgumentException floats = assertThrows(IllegalArgumentException.class, () -> file.readFloat32("ids"));
            assertTrue(floats.getMessage().contains("tensor 'ids' has dtype I64, which readFloat32 does not read"),
                    floats.getMessage());

            IllegalArgumentException longs = assertThrows(IllegalArgumentException.class, () -> file.readLongs("w"));
            assertTrue(longs.getMessage().contains("tensor 'w' has dtype F32, which readLongs does not read"),
                    longs.getMessage());
        }
    }

    private List<String> listDir() throws IOException {
        try (var stream = Files.list(dir)) {
            return stream.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
