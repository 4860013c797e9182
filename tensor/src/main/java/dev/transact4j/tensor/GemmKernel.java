package dev.transact4j.tensor;

import static dev.transact4j.tensor.GemmBlocking.MC;
import static dev.transact4j.tensor.GemmBlocking.MR;
import static dev.transact4j.tensor.GemmBlocking.NC;
import static dev.transact4j.tensor.GemmBlocking.NR;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Packed, register-blocked SIMD GEMM: {@code C = alpha * op(A) * op(B) + beta * C}.
 *
 * <p>Dimensions: {@code op(A)} is {@code [M, K]}, {@code op(B)} is {@code [K, N]}, C is
 * {@code [M, N]}, all row-major with leading dimensions. Loop nest, outermost first:
 * <pre>
 *   jc over N in steps of NC    B block  [KC, NC]  packed once per (jc, pc)
 *   pc over K in steps of KC
 *   ic over M in steps of MC    A block  [MC, KC]  packed once per (jc, pc, ic)
 *   jr over NC in steps of NR   B micro-panel [KC, NR] reused across the A block
 *   ir over MC in steps of MR   A micro-panel [KC, MR] streams from L2
 *   micro-kernel: MR x NR tile of C in 2 * MR vector registers
 * </pre>
 * A block is packed in one of two layouts, whichever is a plain copy of the stored matrix. A
 * row-major A is packed row-major ({@code [MC, KC]}, rows kc apart), so each row is one contiguous
 * copy. A transposed A (stored {@code [K, M]}) is packed in micro-panels that store, for each step
 * p of K, the MR values {@code op(A)[i..i+MR, p]}, copied from a stored row. The micro-kernel
 * reads either through a row stride and a step stride. Packed B micro-panels store, for each p,
 * the NR values {@code op(B)[p, j..j+NR]}. Rows and columns past the edge of the matrix are packed
 * as zeros, so edge tiles run the same micro-kernel and only their write-back to C is cut to the
 * valid rows and columns.
 *
 * <p>Each element of C accumulates its products in the order p = 0, 1, ..., K-1 with one fused
 * multiply-add each, restarting at every K block ({@link GemmBlocking#kBlock}) and adding the
 * block's sum to C as {@code alpha * sum + beta' * C} (beta' is beta for the first block, 1 after).
 * Threads split M or N at tile boundaries and never K, so results do not depend on the thread
 * count.
 */
final class GemmKernel {

    static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    static final int LANES = SPECIES.length();

    /**
     * Minimum floating-point operations of a chunk handed to another thread. With the spinning
     * workers of {@link WorkerPool}, a 128 x 128 x 128 product (4 MFLOP) took 19 us split over two
     * threads against 30 us on one (JMH {@code GemmBench} on a 2-core AVX-512 machine).
     */
    private static final long MIN_CHUNK_FLOPS = 1L << 20;

    /** Packing buffers and the edge tile of one thread, grown on demand and reused. */
    private static final class Buffers {
        float[] packedA = new float[0];
        float[] packedB = new float[0];
        final float[] tile = new float[MR * NR];

        float[] packedA(int size) {
            if (packedA.length < size) {
                packedA = new float[size];
            }
            return packedA;
        }

        float[] packedB(int size) {
            if (packedB.length < size) {
                packedB = new float[size];
            }
            return packedB;
        }
    }

    private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);

    private GemmKernel() {
    }

    /** Runs the packed GEMM; arguments are validated by {@link Gemm}, with m, n, k >= 1. */
    static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                      float[] a, int aOffset, int lda,
                      float[] b, int bOffset, int ldb,
                      float beta, float[] c, int cOffset, int ldc) {
        // Each chunk is a whole number of tiles. A chunk of rows packs all of op(B) and a chunk of
        // columns all of op(A), so split the dimension whose other operand is smaller to pack,
        // unless it has too few tiles to share.
        int rowTiles = ceilDiv(m, MR);
        int colTiles = ceilDiv(n, NR);
        int threads = Parallel.threads();
        boolean splitRows = n <= m ? rowTiles >= threads || rowTiles >= colTiles
                : colTiles < threads && rowTiles >= colTiles;
        int tiles = splitRows ? rowTiles : colTiles;
        long flopsPerTile = 2L * k * (splitRows ? (long) MR * n : (long) NR * m);
        int grain = (int) Math.min(tiles, Math.max(1, ceilDiv(MIN_CHUNK_FLOPS, flopsPerTile)));

        // NOTE: the split is static, one chunk per thread, so when another process runs on one of
        // the cores the product waits for the slower thread; dynamic chunks would re-pack the
        // shared operand once per chunk.
        Parallel.forRange(0, tiles, grain, (t0, t1) -> {
            int i0 = splitRows ? t0 * MR : 0;
            int i1 = splitRows ? Math.min(m, t1 * MR) : m;
            int j0 = splitRows ? 0 : t0 * NR;
            int j1 = splitRows ? n : Math.min(n, t1 * NR);
            block(transA, transB, i0, i1, j0, j1, k, alpha, a, aOffset, lda, b, bOffset, ldb,
                    beta, c, cOffset, ldc);
        });
    }

    /** Computes rows {@code [i0, i1)} and columns {@code [j0, j1)} of C on this thread. */
    private static void block(boolean transA, boolean transB, int i0, int i1, int j0, int j1, int k,
                              float alpha, float[] a, int aOffset, int lda,
                              float[] b, int bOffset, int ldb,
                              float beta, float[] c, int cOffset, int ldc) {
        Buffers buffers = BUFFERS.get();
        int kBlock = GemmBlocking.kBlock(k);
        for (int jc = j0; jc < j1; jc += NC) {
            int nc = Math.min(NC, j1 - jc);
            for (int pc = 0; pc < k; pc += kBlock) {
                int kc = Math.min(kBlock, k - pc);
                float blockBeta = pc == 0 ? beta : 1f;

                float[] packedB = buffers.packedB(kc * ceilDiv(nc, NR) * NR);
                if (transB) {
                    packBTransposed(b, bOffset, ldb, pc, kc, jc, nc, packedB);
                } else {
                    packB(b, bOffset, ldb, pc, kc, jc, nc, packedB);
                }

                for (int ic = i0; ic < i1; ic += MC) {
                    int mc = Math.min(MC, i1 - ic);
                    float[] packedA = buffers.packedA(kc * ceilDiv(mc, MR) * MR);
                    if (transA) {
                        packATransposed(a, aOffset, lda, ic, mc, pc, kc, packedA);
                    } else {
                        packA(a, aOffset, lda, ic, mc, pc, kc, packedA);
                    }
                    macroKernel(mc, nc, kc, alpha, packedA, transA ? 1 : kc, transA ? MR : 1, packedB, blockBeta,
                            c, cOffset + ic * ldc + jc, ldc, buffers.tile);
                }
            }
        }
    }

    /**
     * Multiplies a packed [mc, kc] A block by a packed [kc, nc] B block into C. Element (i, p) of
     * an A micro-panel lies at {@code i * rowStride + p * stepStride} from the panel's start.
     */
    private static void macroKernel(int mc, int nc, int kc, float alpha, float[] packedA, int rowStride,
                                    int stepStride, float[] packedB, float beta, float[] c, int cOffset, int ldc,
                                    float[] tile) {
        boolean unitAlpha = alpha == 1f;
        for (int jr = 0; jr < nc; jr += NR) {
            int nr = Math.min(NR, nc - jr);
            int bo = jr * kc;
            for (int ir = 0; ir < mc; ir += MR) {
                int mr = Math.min(MR, mc - ir);
                int co = cOffset + ir * ldc + jr;
                boolean full = mr == MR && nr == NR;
                if (full && unitAlpha && beta == 0f) {
                    // C = sum straight from the registers, rounded as writeTile rounds it because
                    // multiplying by 1 is exact.
                    microKernel(kc, packedA, ir * kc, rowStride, stepStride, packedB, bo, c, co, ldc);
                } else if (full && unitAlpha && beta == 1f) {
                    // C = sum + C, the later K blocks of a product.
                    microKernel(kc, packedA, ir * kc, rowStride, stepStride, packedB, bo, tile, 0, NR);
                    addTile(tile, c, co, ldc);
                } else {
                    microKernel(kc, packedA, ir * kc, rowStride, stepStride, packedB, bo, tile, 0, NR);
                    writeTile(tile, mr, nr, alpha, beta, c, co, ldc);
                }
            }
        }
    }

    /**
     * Multiplies an A micro-panel [MR, kc] by a B micro-panel [kc, NR] and stores the MR x NR
     * sums at {@code out[oo]} with row stride {@code ldo}. Element (i, p) of the A micro-panel is
     * {@code pa[ao + i * rs + p * ps]}: rs = kc and ps = 1 for a row-major block, rs = 1 and
     * ps = MR for interleaved micro-panels.
     *
     * <p>The body has 2 * MR lane-wise operations (the FMAs) and no branch, because both decide
     * how well C2 compiles it. When a call takes a branch that C2 pruned, C2 deoptimises the kernel,
     * which then runs its Vector API calls as Java code in the interpreter. The operator look-up
     * those calls make ({@code VectorOperators.opCode}) is then compiled on its own and records
     * class-check traps as operators of other classes arrive. C2 adds the recorded traps of a
     * method once per inlined call, and past {@code PerMethodTrapLimit} (100 by default) it stops
     * speculating on receiver classes for the rest of the compilation. With 32 lane-wise
     * operations (the FMAs and an add of C) and 5 traps each, the species of the last vectors
     * stored was no longer a constant and their store intrinsics failed. Every call then left the
     * compiled code at its last store and finished in the interpreter, about 15 times slower.
     * So beta = 1 adds the tile to C in {@link #addTile}, in a compilation of its own.
     *
     * <p>Alpha, beta and partial tiles go through a scratch tile rather than a helper called from
     * here: C2 does not inline a helper of ours into a method this large (the Vector API methods
     * are forced inline), and vectors passed to a call that is not inlined are boxed on the heap.
     */
    static void microKernel(int kc, float[] pa, int ao, int rs, int ps, float[] pb, int bo,
                            float[] out, int oo, int ldo) {
        if (MR == 8) {
            eightRows(kc, pa, ao, rs, ps, pb, bo, out, oo, ldo);
        } else {
            sixRows(kc, pa, ao, rs, ps, pb, bo, out, oo, ldo);
        }
    }

    /** {@link #microKernel} with 8 rows. */
    private static void eightRows(int kc, float[] pa, int ao, int rs, int ps, float[] pb, int bo,
                                  float[] out, int oo, int ldo) {
        FloatVector ca0 = FloatVector.zero(SPECIES);
        FloatVector ca1 = ca0;
        FloatVector cb0 = ca0;
        FloatVector cb1 = ca0;
        FloatVector cc0 = ca0;
        FloatVector cc1 = ca0;
        FloatVector cd0 = ca0;
        FloatVector cd1 = ca0;
        FloatVector ce0 = ca0;
        FloatVector ce1 = ca0;
        FloatVector cf0 = ca0;
        FloatVector cf1 = ca0;
        FloatVector cg0 = ca0;
        FloatVector cg1 = ca0;
        FloatVector ch0 = ca0;
        FloatVector ch1 = ca0;

        // one step of K per pass: two vectors of B, one broadcast of A per row
        int r1 = rs;
        int r2 = 2 * rs;
        int r3 = 3 * rs;
        int r4 = 4 * rs;
        int r5 = 5 * rs;
        int r6 = 6 * rs;
        int r7 = 7 * rs;
        int aEnd = ao + kc * ps;
        for (; ao < aEnd; ao += ps, bo += NR) {
            FloatVector b0 = FloatVector.fromArray(SPECIES, pb, bo);
            FloatVector b1 = FloatVector.fromArray(SPECIES, pb, bo + LANES);
            FloatVector av = FloatVector.broadcast(SPECIES, pa[ao]);
            ca0 = b0.fma(av, ca0);
            ca1 = b1.fma(av, ca1);
            av = FloatVector.broadcast(SPECIES, pa[ao + r1]);
            cb0 = b0.fma(av, cb0);
            cb1 = b1.fma(av, cb1);
            av = FloatVector.broadcast(SPECIES, pa[ao + r2]);
            cc0 = b0.fma(av, cc0);
            cc1 = b1.fma(av, cc1);
            av = FloatVector.broadcast(SPECIES, pa[ao + r3]);
            cd0 = b0.fma(av, cd0);
            cd1 = b1.fma(av, cd1);
            av = FloatVector.broadcast(SPECIES, pa[ao + r4]);
            ce0 = b0.fma(av, ce0);
            ce1 = b1.fma(av, ce1);
            av = FloatVector.broadcast(SPECIES, pa[ao + r5]);
            cf0 = b0.fma(av, cf0);
            cf1 = b1.fma(av, cf1);
            av = FloatVector.broadcast(SPECIES, pa[ao + r6]);
            cg0 = b0.fma(av, cg0);
            cg1 = b1.fma(av, cg1);
            av = FloatVector.broadcast(SPECIES, pa[ao + r7]);
            ch0 = b0.fma(av, ch0);
            ch1 = b1.fma(av, ch1);
        }

        // the tile's rows in out, ldo apart
        int oa = oo;
        int ob = oa + ldo;
        int oc = ob + ldo;
        int od = oc + ldo;
        int oe = od + ldo;
        int of = oe + ldo;
        int og = of + ldo;
        int oh = og + ldo;
        ca0.intoArray(out, oa);
        ca1.intoArray(out, oa + LANES);
        cb0.intoArray(out, ob);
        cb1.intoArray(out, ob + LANES);
        cc0.intoArray(out, oc);
        cc1.intoArray(out, oc + LANES);
        cd0.intoArray(out, od);
        cd1.intoArray(out, od + LANES);
        ce0.intoArray(out, oe);
        ce1.intoArray(out, oe + LANES);
        cf0.intoArray(out, of);
        cf1.intoArray(out, of + LANES);
        cg0.intoArray(out, og);
        cg1.intoArray(out, og + LANES);
        ch0.intoArray(out, oh);
        ch1.intoArray(out, oh + LANES);
    }

    /** {@link #microKernel} with 6 rows. */
    private static void sixRows(int kc, float[] pa, int ao, int rs, int ps, float[] pb, int bo,
                                float[] out, int oo, int ldo) {
        FloatVector ca0 = FloatVector.zero(SPECIES);
        FloatVector ca1 = ca0;
        FloatVector cb0 = ca0;
        FloatVector cb1 = ca0;
        FloatVector cc0 = ca0;
        FloatVector cc1 = ca0;
        FloatVector cd0 = ca0;
        FloatVector cd1 = ca0;
        FloatVector ce0 = ca0;
        FloatVector ce1 = ca0;
        FloatVector cf0 = ca0;
        FloatVector cf1 = ca0;

        // one step of K per pass: two vectors of B, one broadcast of A per row
        int r1 = rs;
        int r2 = 2 * rs;
        int r3 = 3 * rs;
        int r4 = 4 * rs;
        int r5 = 5 * rs;
        int aEnd = ao + kc * ps;
        for (; ao < aEnd; ao += ps, bo += NR) {
            FloatVector b0 = FloatVector.fromArray(SPECIES, pb, bo);
            FloatVector b1 = FloatVector.fromArray(SPECIES, pb, bo + LANES);
            FloatVector av = FloatVector.broadcast(SPECIES, pa[ao]);
            ca0 = b0.fma(av, ca0);
            ca1 = b1.fma(av, ca1);
            av = FloatVector.broadcast(SPECIES, pa[ao + r1]);
            cb0 = b0.fma(av, cb0);
            cb1 = b1.fma(av, cb1);
            av = FloatVector.broadcast(SPECIES, pa[ao + r2]);
            cc0 = b0.fma(av, cc0);
            cc1 = b1.fma(av, cc1);
            av = FloatVector.broadcast(SPECIES, pa[ao + r3]);
            cd0 = b0.fma(av, cd0);
            cd1 = b1.fma(av, cd1);
            av = FloatVector.broadcast(SPECIES, pa[ao + r4]);
            ce0 = b0.fma(av, ce0);
            ce1 = b1.fma(av, ce1);
            av = FloatVector.broadcast(SPECIES, pa[ao + r5]);
            cf0 = b0.fma(av, cf0);
            cf1 = b1.fma(av, cf1);
        }

        // the tile's rows in out, ldo apart
        int oa = oo;
        int ob = oa + ldo;
        int oc = ob + ldo;
        int od = oc + ldo;
        int oe = od + ldo;
        int of = oe + ldo;
        ca0.intoArray(out, oa);
        ca1.intoArray(out, oa + LANES);
        cb0.intoArray(out, ob);
        cb1.intoArray(out, ob + LANES);
        cc0.intoArray(out, oc);
        cc1.intoArray(out, oc + LANES);
        cd0.intoArray(out, od);
        cd1.intoArray(out, od + LANES);
        ce0.intoArray(out, oe);
        ce1.intoArray(out, oe + LANES);
        cf0.intoArray(out, of);
        cf1.intoArray(out, of + LANES);
    }

    /**
     * Adds a full MR x NR tile to its place in C: {@code C = tile + C}, with the rounding of
     * {@link #writeTile} for alpha = beta = 1 (multiplying by 1 is exact). Straight-line code with
     * one add per vector, cheaper than the general loop of writeTile.
     */
    private static void addTile(float[] tile, float[] c, int co, int ldc) {
        for (int r = 0; r < MR; r++) {
            addRow(tile, r * NR, c, co + r * ldc);
        }
    }

    /** Adds the NR floats of {@code tile[t]} to {@code c[co]}, two vectors. */
    private static void addRow(float[] tile, int t, float[] c, int co) {
        FloatVector.fromArray(SPECIES, tile, t).add(FloatVector.fromArray(SPECIES, c, co)).intoArray(c, co);
        FloatVector.fromArray(SPECIES, tile, t + LANES).add(FloatVector.fromArray(SPECIES, c, co + LANES))
                .intoArray(c, co + LANES);
    }

    /**
     * Writes {@code alpha * tile + beta * C} to the top-left [mr, nr] of the tile's place in C,
     * reading C only when beta is not 0. Full-width rows use vectors, partial ones the same
     * operations lane by lane, so an element's result does not depend on which tile it is in.
     */
    private static void writeTile(float[] tile, int mr, int nr, float alpha, float beta,
                                  float[] c, int co, int ldc) {
        for (int r = 0; r < mr; r++) {
            int row = co + r * ldc;
            int t = r * NR;
            if (nr == NR) {
                for (int v = 0; v < NR; v += LANES) {
                    FloatVector sum = FloatVector.fromArray(SPECIES, tile, t + v).mul(alpha);
                    if (beta != 0f) {
                        sum = sum.add(FloatVector.fromArray(SPECIES, c, row + v).mul(beta));
                    }
                    sum.intoArray(c, row + v);
                }
            } else {
                for (int j = 0; j < nr; j++) {
                    c[row + j] = beta == 0f ? alpha * tile[t + j] : alpha * tile[t + j] + beta * c[row + j];
                }
            }
        }
    }

    /**
     * Packs {@code A[ic .. ic+mc, pc .. pc+kc]} of a row-major A into a row-major [mc, kc] block
     * ({@code dst[i * kc + p]}), followed by zero rows up to a whole number of MR-row panels.
     *
     * <p>Each row is one contiguous copy. Interleaving the rows into micro-panels instead (MR
     * values per step of K) took about 10% of a 2048 x 256 x 768 product at one thread, five times
     * as long as these copies.
     */
    static void packA(float[] a, int aOffset, int lda, int ic, int mc, int pc, int kc, float[] dst) {
        for (int i = 0; i < mc; i++) {
            System.arraycopy(a, aOffset + (ic + i) * lda + pc, dst, i * kc, kc);
        }
        java.util.Arrays.fill(dst, mc * kc, ceilDiv(mc, MR) * MR * kc, 0f);
    }

    /**
     * Packs {@code op(A) = A^T} where A is stored [K, M]: each MR-row slice of a panel is a
     * contiguous run of a stored row.
     *
     * <p>Eight stored rows (steps of K) are read side by side, each across every full panel of
     * the block, which writes 8 * MR contiguous floats per panel and keeps eight read streams in
     * flight: twice as fast as one panel at a time when rows are 32 KiB apart.
     */
    static void packATransposed(float[] a, int aOffset, int lda, int ic, int mc, int pc, int kc,
                                float[] dst) {
        int full = mc - mc % MR;
        int panel = kc * MR;
        int p = 0;
        for (; p + 8 <= kc; p += 8) {
            int s0 = aOffset + (pc + p) * lda + ic;
            int s1 = s0 + lda;
            int s2 = s1 + lda;
            int s3 = s2 + lda;
            int s4 = s3 + lda;
            int s5 = s4 + lda;
            int s6 = s5 + lda;
            int s7 = s6 + lda;
            int d = p * MR;
            for (int ir = 0; ir < full; ir += MR, d += panel) {
                System.arraycopy(a, s0 + ir, dst, d, MR);
                System.arraycopy(a, s1 + ir, dst, d + MR, MR);
                System.arraycopy(a, s2 + ir, dst, d + 2 * MR, MR);
                System.arraycopy(a, s3 + ir, dst, d + 3 * MR, MR);
                System.arraycopy(a, s4 + ir, dst, d + 4 * MR, MR);
                System.arraycopy(a, s5 + ir, dst, d + 5 * MR, MR);
                System.arraycopy(a, s6 + ir, dst, d + 6 * MR, MR);
                System.arraycopy(a, s7 + ir, dst, d + 7 * MR, MR);
            }
        }
        for (; p < kc; p++) {
            int src = aOffset + (pc + p) * lda + ic;
            int d = p * MR;
            for (int ir = 0; ir < full; ir += MR, d += panel) {
                System.arraycopy(a, src + ir, dst, d, MR);
            }
        }
        if (full < mc) {
            // Edge panel: the remaining rows of op(A), zero-padded to MR.
            int mr = mc - full;
            int base = full * kc;
            for (p = 0; p < kc; p++) {
                int src = aOffset + (pc + p) * lda + ic + full;
                int d = base + p * MR;
                for (int r = 0; r < mr; r++) {
                    dst[d + r] = a[src + r];
                }
                for (int r = mr; r < MR; r++) {
                    dst[d + r] = 0f;
                }
            }
        }
    }

    /**
     * Packs {@code B[pc .. pc+kc, jc .. jc+nc]} of a row-major B into NR-column micro-panels.
     *
     * <p>Full rows are copied with {@code System.arraycopy}, not vectors: C2 inlines this method
     * into {@link #block}, and in a training run the vector stores here failed to compile as
     * intrinsics and ran as plain Java calls.
     */
    static void packB(float[] b, int bOffset, int ldb, int pc, int kc, int jc, int nc, float[] dst) {
        for (int jr = 0; jr < nc; jr += NR) {
            int nr = Math.min(NR, nc - jr);
            int base = jr * kc;
            for (int p = 0; p < kc; p++) {
                int src = bOffset + (pc + p) * ldb + jc + jr;
                int d = base + p * NR;
                if (nr == NR) {
                    System.arraycopy(b, src, dst, d, NR);
                } else {
                    for (int j = 0; j < nr; j++) {
                        dst[d + j] = b[src + j];
                    }
                    for (int j = nr; j < NR; j++) {
                        dst[d + j] = 0f;
                    }
                }
            }
        }
    }

    /**
     * Packs {@code op(B) = B^T} where B is stored [N, K]: column j of op(B) is row j of B.
     *
     * <p>A full panel is written in NR / 8 passes, each reading eight rows of B side by side
     * into eight adjacent columns of every step, a third faster than one row at a time.
     */
    static void packBTransposed(float[] b, int bOffset, int ldb, int pc, int kc, int jc, int nc,
                                float[] dst) {
        for (int jr = 0; jr < nc; jr += NR) {
            int nr = Math.min(NR, nc - jr);
            int base = jr * kc;
            int src = bOffset + (jc + jr) * ldb + pc;
            if (nr < NR) {
                packEdge(b, src, ldb, nr, kc, dst, base, NR);
                continue;
            }
            for (int j = 0; j < NR; j += 8) {
                int s0 = src + j * ldb;
                int s1 = s0 + ldb;
                int s2 = s1 + ldb;
                int s3 = s2 + ldb;
                int s4 = s3 + ldb;
                int s5 = s4 + ldb;
                int s6 = s5 + ldb;
                int s7 = s6 + ldb;
                int d = base + j;
                for (int p = 0; p < kc; p++, d += NR) {
                    dst[d] = b[s0 + p];
                    dst[d + 1] = b[s1 + p];
                    dst[d + 2] = b[s2 + p];
                    dst[d + 3] = b[s3 + p];
                    dst[d + 4] = b[s4 + p];
                    dst[d + 5] = b[s5 + p];
                    dst[d + 6] = b[s6 + p];
                    dst[d + 7] = b[s7 + p];
                }
            }
        }
    }

    /**
     * Packs the edge panel of {@code rows < width} stored rows, {@code kc} floats each from
     * {@code src} with stride {@code ld}, into a panel {@code width} floats wide at {@code dst[d]}:
     * row r goes to column r of every step, and columns rows .. width-1 are zeros.
     */
    private static void packEdge(float[] x, int src, int ld, int rows, int kc, float[] dst, int d, int width) {
        for (int r = 0; r < rows; r++) {
            int s = src + r * ld;
            for (int p = 0; p < kc; p++) {
                dst[d + p * width + r] = x[s + p];
            }
        }
        for (int r = rows; r < width; r++) {
            for (int p = 0; p < kc; p++) {
                dst[d + p * width + r] = 0f;
            }
        }
    }

    static int ceilDiv(int x, int y) {
        return (x + y - 1) / y;
    }

    static long ceilDiv(long x, long y) {
        return (x + y - 1) / y;
    }
}
