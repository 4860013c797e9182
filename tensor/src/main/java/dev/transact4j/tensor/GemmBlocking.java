package dev.transact4j.tensor;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Cache block sizes of the packed GEMM.
 *
 * <p>The loop nest follows Goto and van de Geijn ("Anatomy of High-Performance Matrix
 * Multiplication", ACM TOMS 34(3), 2008): the micro-kernel sweeps a {@code KC x NR} micro-panel of
 * packed B across the {@code MC x KC} block of packed A, which stays in L2. The {@code KC x NC}
 * block of packed B is read once per {@code MC} block and may live in L3.
 *
 * <p>{@code KC} is fixed and {@code MC} follows the L2 size, read from Linux sysfs when it is
 * readable and otherwise assumed to be 1 MiB. The system properties {@code transact4j.gemm.kc},
 * {@code transact4j.gemm.mc} and {@code transact4j.gemm.nc} override them (for tuning on a new
 * machine). Results depend on {@code KC} (it fixes where partial sums over K are added to C),
 * never on the thread count or on the cache sizes.
 */
final class GemmBlocking {

    /**
     * Rows of the micro-kernel tile (rows of A broadcast per step of K). The tile keeps 2 * MR
     * accumulators, two B vectors and a broadcast in vector registers: 19 of the 32 AVX-512
     * registers with 8 rows, and 15 of 16 (AVX2, NEON) with 6, where 8 rows would spill.
     *
     * <p>NOTE: 12 rows (27 AVX-512 registers) made the micro-kernel alone about 15% faster but
     * the whole product no faster here, and its 24 FMAs bring C2 closer to the trap limit that
     * {@link GemmKernel#microKernel} describes, so AVX-512 keeps 8.
     */
    static final int MR = GemmKernel.LANES >= 16 ? 8 : 6;

    /** Columns of the micro-kernel tile: two vectors of the preferred species. */
    static final int NR = 2 * GemmKernel.LANES;

    static final int L2_BYTES = cacheBytes(2, 1024 * 1024);

    /**
     * Maximum depth of a K block. Each K block reads and writes all of C once more, so a deep
     * block saves passes over C, and the B micro-panel ({@code KC * NR} floats, 64 KiB with
     * 16-lane vectors) is read from L2 rather than L1. We measured the 2048 square product at one
     * thread on AMD Zen 4 (32 KiB L1d, 1 MiB L2), as the best of repeated calls. It ran at
     * 85 GFLOP/s with KC 160 (two thirds of L1d) and at 101-104 GFLOP/s with KC 512 to 1024. On an Intel Xeon with
     * 48 KiB L1d and 2 MiB L2, KC 256 and 512 ran within the noise of each other.
     */
    static final int KC = property("transact4j.gemm.kc", 512);

    /**
     * Returns the depth of each K block for inner dimension k: k split into {@code ceil(k / KC)}
     * equal blocks (the last one shorter by the remainder), so no block is a thin leftover that
     * pays a full pass over C. Depends on k and KC only, never on the thread count.
     */
    static int kBlock(int k) {
        int blocks = (k + KC - 1) / KC;
        return (k + blocks - 1) / blocks;
    }

    /**
     * Rows of an A block: {@code MC * KC} floats fill about a sixth of L2, which leaves L2 room
     * for the B micro-panel and the C lines passing through (measured faster than half of L2 with
     * 2 MiB L2, 48 KiB L1d).
     */
    static final int MC = roundDown(property("transact4j.gemm.mc",
            clamp(L2_BYTES / 6 / (Float.BYTES * KC), MR, 4096)), MR);

    /** Columns of a B block, a multiple of {@code NR}. */
    static final int NC = roundDown(property("transact4j.gemm.nc", 4096), NR);

    private GemmBlocking() {
    }

    private static int cacheBytes(int level, int fallback) {
        for (int index = 0; index < 8; index++) {
            Path dir = Path.of("/sys/devices/system/cpu/cpu0/cache/index" + index);
            try {
                if (!Files.isDirectory(dir)) {
                    break;
                }
                String lvl = read(dir.resolve("level"));
                String type = read(dir.resolve("type"));
                if (lvl.equals(Integer.toString(level)) && !type.equals("Instruction")) {
                    return parseSize(read(dir.resolve("size")), fallback);
                }
            } catch (IOException | RuntimeException e) {
                return fallback;
            }
        }
        return fallback;
    }

    private static String read(Path file) throws IOException {
        return new String(Files.readAllBytes(file), StandardCharsets.US_ASCII).trim();
    }

    /** Parses sysfs sizes such as {@code 48K} or {@code 2048K} or {@code 1M}. */
    static int parseSize(String text, int fallback) {
        if (text.isEmpty()) {
            return fallback;
        }
        char unit = Character.toUpperCase(text.charAt(text.length() - 1));
        long scale = 1;
        if (unit == 'K') {
            scale = 1024;
        } else if (unit == 'M') {
            scale = 1024 * 1024;
        }
        String digits = Character.isDigit(unit) ? text : text.substring(0, text.length() - 1);
        try {
            long bytes = Long.parseLong(digits) * scale;
            return bytes > 0 && bytes <= Integer.MAX_VALUE ? (int) bytes : fallback;
        } catch (NumberFormatException e) {
            return fallback;
        }
    }

    private static int property(String name, int derived) {
        String value = System.getProperty(name);
        if (value == null || value.isBlank()) {
            return derived;
        }
        try {
            int n = Integer.parseInt(value.trim());
            if (n >= 1) {
                return n;
            }
        } catch (NumberFormatException ignored) {
            // falls through to the error below
        }
        throw new IllegalArgumentException("Invalid system property " + name + "=" + value
                + ": expected a whole number of elements, 1 or more");
    }

    private static int roundDown(int value, int multiple) {
        return Math.max(multiple, value / multiple * multiple);
    }

    private static int clamp(int value, int min, int max) {
        return Math.max(min, Math.min(max, value));
    }
}
