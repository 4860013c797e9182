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
 *   jr over NC in steps of NR   B micro-panel [KC, NR] stays in L1
 *   ir over MC in steps of MR   A micro-panel [KC, MR] streams from L2
 *   micro-kernel: MR x NR tile of C in 2 * MR vector registers
 * </pre>
 * Packed A micro-panels store, for each step p of K, the MR values {@code op(A)[i..i+MR, p]};
 * packed B micro-panels store, for each p, the NR values {@code op(B)[p, j..j+NR]}. Rows and
 * columns past the edge of the matrix are packed as zeros, so edge tiles run the same
 * micro-kernel and only their write-back to C is cut to the valid rows and columns.
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

    /** Minimum floating-point operations of a chunk handed to another thread. */
    private static final long MIN_CHUNK_FLOPS = 1L << 22;

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
                    macroKernel(mc, nc, kc, alpha, packedA, packedB, blockBeta,
                            c, cOffset + ic * ldc + jc, ldc, buffers.tile);
                }
            }
        }
    }

    /** Multiplies a packed [mc, kc] A block by a packed [kc, nc] B block into C. */
    private static void macroKernel(int mc, int nc, int kc, float alpha, float[] packedA, float[] packedB,
                                    float beta, float[] c, int cOffset, int ldc, float[] tile) {
        for (int jr = 0; jr < nc; jr += NR) {
            int nr = Math.min(NR, nc - jr);
            int bo = jr * kc;
            for (int ir = 0; ir < mc; ir += MR) {
                int mr = Math.min(MR, mc - ir);
                int co = cOffset + ir * ldc + jr;
                if (mr == MR && nr == NR && alpha == 1f && (beta == 0f || beta == 1f)) {
                    // C = sum or C = sum + C straight from the registers: the same roundings as
                    // writeTile, since multiplying by 1 is exact.
                    microKernel(kc, packedA, ir * kc, packedB, bo, c, co, ldc, beta == 1f);
                } else {
                    microKernel(kc, packedA, ir * kc, packedB, bo, tile, 0, NR, false);
                    writeTile(tile, mr, nr, alpha, beta, c, co, ldc);
                }
            }
        }
    }

    /**
     * Multiplies an A micro-panel [MR, kc] by a B micro-panel [kc, NR] and stores the MR x NR
     * sums at {@code out[oo]} with row stride {@code ldo}, added to what is there when
     * {@code accumulate}.
     *
     * <p>Other alpha and beta values go through a scratch tile and {@link #writeTile} rather than
     * a scaling helper called from here: C2 does not inline a helper of ours into a method this
     * large (the Vector API methods are forced inline), and vectors passed to a call that is not
     * inlined are boxed on the heap.
     */
    static void microKernel(int kc, float[] pa, int ao, float[] pb, int bo, float[] out, int oo, int ldo,
                            boolean accumulate) {
        if (MR == 12) {
            twelveRows(kc, pa, ao, pb, bo, out, oo, ldo, accumulate);
        } else {
            sixRows(kc, pa, ao, pb, bo, out, oo, ldo, accumulate);
        }
    }

    /** {@link #microKernel} with 12 rows. */
    private static void twelveRows(int kc, float[] pa, int ao, float[] pb, int bo, float[] out, int oo, int ldo,
                                 boolean accumulate) {
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
        FloatVector ci0 = ca0;
        FloatVector ci1 = ca0;
        FloatVector cj0 = ca0;
        FloatVector cj1 = ca0;
        FloatVector ck0 = ca0;
        FloatVector ck1 = ca0;
        FloatVector cl0 = ca0;
        FloatVector cl1 = ca0;
        int aEnd = ao + kc * 12;
        for (; ao < aEnd; ao += 12, bo += NR) {
            FloatVector b0 = FloatVector.fromArray(SPECIES, pb, bo);
            FloatVector b1 = FloatVector.fromArray(SPECIES, pb, bo + LANES);
            FloatVector av = FloatVector.broadcast(SPECIES, pa[ao]);
            ca0 = b0.fma(av, ca0);
            ca1 = b1.fma(av, ca1);
            av = FloatVector.broadcast(SPECIES, pa[ao + 1]);
            cb0 = b0.fma(av, cb0);
            cb1 = b1.fma(av, cb1);
            av = FloatVector.broadcast(SPECIES, pa[ao + 2]);
            cc0 = b0.fma(av, cc0);
            cc1 = b1.fma(av, cc1);
            av = FloatVector.broadcast(SPECIES, pa[ao + 3]);
            cd0 = b0.fma(av, cd0);
            cd1 = b1.fma(av, cd1);
            av = FloatVector.broadcast(SPECIES, pa[ao + 4]);
            ce0 = b0.fma(av, ce0);
            ce1 = b1.fma(av, ce1);
            av = FloatVector.broadcast(SPECIES, pa[ao + 5]);
            cf0 = b0.fma(av, cf0);
            cf1 = b1.fma(av, cf1);
            av = FloatVector.broadcast(SPECIES, pa[ao + 6]);
            cg0 = b0.fma(av, cg0);
            cg1 = b1.fma(av, cg1);
            av = FloatVector.broadcast(SPECIES, pa[ao + 7]);
            ch0 = b0.fma(av, ch0);
            ch1 = b1.fma(av, ch1);
            av = FloatVector.broadcast(SPECIES, pa[ao + 8]);
            ci0 = b0.fma(av, ci0);
            ci1 = b1.fma(av, ci1);
            av = FloatVector.broadcast(SPECIES, pa[ao + 9]);
            cj0 = b0.fma(av, cj0);
            cj1 = b1.fma(av, cj1);
            av = FloatVector.broadcast(SPECIES, pa[ao + 10]);
            ck0 = b0.fma(av, ck0);
            ck1 = b1.fma(av, ck1);
            av = FloatVector.broadcast(SPECIES, pa[ao + 11]);
            cl0 = b0.fma(av, cl0);
            cl1 = b1.fma(av, cl1);
        }
        int oa = oo;
        int ob = oa + ldo;
        int oc = ob + ldo;
        int od = oc + ldo;
        int oe = od + ldo;
        int of = oe + ldo;
        int og = of + ldo;
        int oh = og + ldo;
        int oi = oh + ldo;
        int oj = oi + ldo;
        int ok = oj + ldo;
        int ol = ok + ldo;
        if (accumulate) {
            ca0 = ca0.add(FloatVector.fromArray(SPECIES, out, oa));
            ca1 = ca1.add(FloatVector.fromArray(SPECIES, out, oa + LANES));
            cb0 = cb0.add(FloatVector.fromArray(SPECIES, out, ob));
            cb1 = cb1.add(FloatVector.fromArray(SPECIES, out, ob + LANES));
            cc0 = cc0.add(FloatVector.fromArray(SPECIES, out, oc));
            cc1 = cc1.add(FloatVector.fromArray(SPECIES, out, oc + LANES));
            cd0 = cd0.add(FloatVector.fromArray(SPECIES, out, od));
            cd1 = cd1.add(FloatVector.fromArray(SPECIES, out, od + LANES));
            ce0 = ce0.add(FloatVector.fromArray(SPECIES, out, oe));
            ce1 = ce1.add(FloatVector.fromArray(SPECIES, out, oe + LANES));
            cf0 = cf0.add(FloatVector.fromArray(SPECIES, out, of));
            cf1 = cf1.add(FloatVector.fromArray(SPECIES, out, of + LANES));
            cg0 = cg0.add(FloatVector.fromArray(SPECIES, out, og));
            cg1 = cg1.add(FloatVector.fromArray(SPECIES, out, og + LANES));
            ch0 = ch0.add(FloatVector.fromArray(SPECIES, out, oh));
            ch1 = ch1.add(FloatVector.fromArray(SPECIES, out, oh + LANES));
            ci0 = ci0.add(FloatVector.fromArray(SPECIES, out, oi));
            ci1 = ci1.add(FloatVector.fromArray(SPECIES, out, oi + LANES));
            cj0 = cj0.add(FloatVector.fromArray(SPECIES, out, oj));
            cj1 = cj1.add(FloatVector.fromArray(SPECIES, out, oj + LANES));
            ck0 = ck0.add(FloatVector.fromArray(SPECIES, out, ok));
            ck1 = ck1.add(FloatVector.fromArray(SPECIES, out, ok + LANES));
            cl0 = cl0.add(FloatVector.fromArray(SPECIES, out, ol));
            cl1 = cl1.add(FloatVector.fromArray(SPECIES, out, ol + LANES));
        }
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
        ci0.intoArray(out, oi);
        ci1.intoArray(out, oi + LANES);
        cj0.intoArray(out, oj);
        cj1.intoArray(out, oj + LANES);
        ck0.intoArray(out, ok);
        ck1.intoArray(out, ok + LANES);
        cl0.intoArray(out, ol);
        cl1.intoArray(out, ol + LANES);
    }

    /** {@link #microKernel} with 6 rows. */
    private static void sixRows(int kc, float[] pa, int ao, float[] pb, int bo, float[] out, int oo, int ldo,
                                 boolean accumulate) {
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
        int aEnd = ao + kc * 6;
        for (; ao < aEnd; ao += 6, bo += NR) {
            FloatVector b0 = FloatVector.fromArray(SPECIES, pb, bo);
            FloatVector b1 = FloatVector.fromArray(SPECIES, pb, bo + LANES);
            FloatVector av = FloatVector.broadcast(SPECIES, pa[ao]);
            ca0 = b0.fma(av, ca0);
            ca1 = b1.fma(av, ca1);
            av = FloatVector.broadcast(SPECIES, pa[ao + 1]);
            cb0 = b0.fma(av, cb0);
            cb1 = b1.fma(av, cb1);
            av = FloatVector.broadcast(SPECIES, pa[ao + 2]);
            cc0 = b0.fma(av, cc0);
            cc1 = b1.fma(av, cc1);
            av = FloatVector.broadcast(SPECIES, pa[ao + 3]);
            cd0 = b0.fma(av, cd0);
            cd1 = b1.fma(av, cd1);
            av = FloatVector.broadcast(SPECIES, pa[ao + 4]);
            ce0 = b0.fma(av, ce0);
            ce1 = b1.fma(av, ce1);
            av = FloatVector.broadcast(SPECIES, pa[ao + 5]);
            cf0 = b0.fma(av, cf0);
            cf1 = b1.fma(av, cf1);
        }
        int oa = oo;
        int ob = oa + ldo;
        int oc = ob + ldo;
        int od = oc + ldo;
        int oe = od + ldo;
        int of = oe + ldo;
        if (accumulate) {
            ca0 = ca0.add(FloatVector.fromArray(SPECIES, out, oa));
            ca1 = ca1.add(FloatVector.fromArray(SPECIES, out, oa + LANES));
            cb0 = cb0.add(FloatVector.fromArray(SPECIES, out, ob));
            cb1 = cb1.add(FloatVector.fromArray(SPECIES, out, ob + LANES));
            cc0 = cc0.add(FloatVector.fromArray(SPECIES, out, oc));
            cc1 = cc1.add(FloatVector.fromArray(SPECIES, out, oc + LANES));
            cd0 = cd0.add(FloatVector.fromArray(SPECIES, out, od));
            cd1 = cd1.add(FloatVector.fromArray(SPECIES, out, od + LANES));
            ce0 = ce0.add(FloatVector.fromArray(SPECIES, out, oe));
            ce1 = ce1.add(FloatVector.fromArray(SPECIES, out, oe + LANES));
            cf0 = cf0.add(FloatVector.fromArray(SPECIES, out, of));
            cf1 = cf1.add(FloatVector.fromArray(SPECIES, out, of + LANES));
        }
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

    /** Packs {@code A[ic .. ic+mc, pc .. pc+kc]} of a row-major A into MR-row micro-panels. */
    private static void packA(float[] a, int aOffset, int lda, int ic, int mc, int pc, int kc, float[] dst) {
        for (int ir = 0; ir < mc; ir += MR) {
            int mr = Math.min(MR, mc - ir);
            int base = ir * kc;
            for (int r = 0; r < mr; r++) {
                int src = aOffset + (ic + ir + r) * lda + pc;
                for (int p = 0; p < kc; p++) {
                    dst[base + p * MR + r] = a[src + p];
                }
            }
            for (int r = mr; r < MR; r++) {
                for (int p = 0; p < kc; p++) {
                    dst[base + p * MR + r] = 0f;
                }
            }
        }
    }

    /** Packs {@code op(A) = A^T} where A is stored [K, M]: each MR-row slice is contiguous. */
    private static void packATransposed(float[] a, int aOffset, int lda, int ic, int mc, int pc, int kc,
                                        float[] dst) {
        for (int ir = 0; ir < mc; ir += MR) {
            int mr = Math.min(MR, mc - ir);
            int base = ir * kc;
            for (int p = 0; p < kc; p++) {
                int src = aOffset + (pc + p) * lda + ic + ir;
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

    /** Packs {@code B[pc .. pc+kc, jc .. jc+nc]} of a row-major B into NR-column micro-panels. */
    private static void packB(float[] b, int bOffset, int ldb, int pc, int kc, int jc, int nc, float[] dst) {
        for (int jr = 0; jr < nc; jr += NR) {
            int nr = Math.min(NR, nc - jr);
            int base = jr * kc;
            for (int p = 0; p < kc; p++) {
                int src = bOffset + (pc + p) * ldb + jc + jr;
                int d = base + p * NR;
                if (nr == NR) {
                    FloatVector.fromArray(SPECIES, b, src).intoArray(dst, d);
                    FloatVector.fromArray(SPECIES, b, src + LANES).intoArray(dst, d + LANES);
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

    /** Packs {@code op(B) = B^T} where B is stored [N, K]: column j of op(B) is row j of B. */
    private static void packBTransposed(float[] b, int bOffset, int ldb, int pc, int kc, int jc, int nc,
                                        float[] dst) {
        for (int jr = 0; jr < nc; jr += NR) {
            int nr = Math.min(NR, nc - jr);
            int base = jr * kc;
            for (int j = 0; j < nr; j++) {
                int src = bOffset + (jc + jr + j) * ldb + pc;
                for (int p = 0; p < kc; p++) {
                    dst[base + p * NR + j] = b[src + p];
                }
            }
            for (int j = nr; j < NR; j++) {
                for (int p = 0; p < kc; p++) {
                    dst[base + p * NR + j] = 0f;
                }
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
