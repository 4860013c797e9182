#!/usr/bin/env python3
"""Compare transact4j GEMM (JMH JSON) with numpy matmul on OpenBLAS and write a Markdown table.

Run through bench/gemm_compare.sh, which builds the benchmarks, runs JMH and then this script in
the same sitting. numpy runs the same shapes and thread counts as the JMH results, with the
thread count set by threadpoolctl. The script refuses to compare against any BLAS other than
OpenBLAS, because Debian's python3-numpy without libopenblas0 runs the unoptimised reference BLAS.
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

TARGET_RATIO = 0.9
TARGET_BANDWIDTH_FRACTION = 0.8
# Floats per array in MachineBench (copy, read) and steps of its FMA loop (16 vector FMAs each).
STREAM_FLOATS = 64 << 20
FMA_CHAINS = 16


def blas_info():
    """Return threadpoolctl's entry for the BLAS numpy uses, or exit when it is not OpenBLAS."""
    entries = [e for e in threadpool_info() if e.get("user_api") == "blas"]
    if not entries:
        sys.exit("numpy links no BLAS that threadpoolctl recognises (the reference BLAS): install "
                 "libopenblas0-pthread (apt-get install libopenblas0-pthread) and run again")
    info = entries[0]
    if info.get("internal_api") != "openblas":
        sys.exit(f"numpy uses {info.get('internal_api')} at {info.get('filepath')}, not OpenBLAS: "
                 "install libopenblas0-pthread so the comparison is against OpenBLAS")
    return info


def parse_shape(shape):
    """'MxNxK/TT' -> (m, n, k, transA, transB)."""
    dims, trans = shape.split("/")
    m, n, k = (int(x) for x in dims.split("x"))
    return m, n, k, trans[0] == "T", trans[1] == "T"


def time_call(fn, min_seconds=0.25, batches=5):
    """Median over batches of the mean time of one call, in seconds, after a warm-up."""
    for _ in range(3):
        fn()
    start = time.perf_counter()
    fn()
    once = max(time.perf_counter() - start, 1e-7)
    calls = max(1, int(min_seconds / once))
    means = []
    for _ in range(batches):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        means.append((time.perf_counter() - start) / calls)
    return statistics.median(means)


def numpy_gemm(shape, threads):
    """Seconds per C = op(A) op(B) in numpy, the same storage layout as GemmBench."""
    m, n, k, ta, tb = parse_shape(shape)
    rng = np.random.default_rng(1)
    a = (rng.random((k, m) if ta else (m, k), dtype=np.float32) - 0.5)
    b = (rng.random((n, k) if tb else (k, n), dtype=np.float32) - 0.5)
    op_a = a.T if ta else a
    op_b = b.T if tb else b
    with threadpool_limits(limits=threads, user_api="blas"):
        if m == 1:
            # Decode step: a vector times a matrix goes through sgemv, as in our kernel.
            x = np.ascontiguousarray(op_a[0])
            y = np.empty(n, dtype=np.float32)
            if tb:
                return time_call(lambda: np.matmul(b, x, out=y))
            return time_call(lambda: np.matmul(x, b, out=y))
        c = np.empty((m, n), dtype=np.float32)
        return time_call(lambda: np.matmul(op_a, op_b, out=c))


def numpy_copy_seconds():
    src = np.ones(STREAM_FLOATS, dtype=np.float32)
    dst = np.empty_like(src)
    return time_call(lambda: np.copyto(dst, src), min_seconds=0.5, batches=3)


def load_jmh(path):
    with open(path) as f:
        runs = json.load(f)
    gemm, machine = {}, {}
    jvm = ""
    for run in runs:
        name = run["benchmark"].rsplit(".", 2)
        cls, method = name[-2], name[-1]
        score = run["primaryMetric"]["score"]
        error = run["primaryMetric"].get("scoreError", float("nan"))
        if run["primaryMetric"]["scoreUnit"] != "us/op":
            sys.exit(f"unexpected JMH unit {run['primaryMetric']['scoreUnit']} in {path}")
        jvm = f"{run.get('vmName', '')} {run.get('jdkVersion', '')} ({run.get('vmVersion', '')})"
        if cls == "GemmBench":
            key = (run["params"]["shape"], int(run["params"]["threads"]))
            gemm[key] = (score * 1e-6, error * 1e-6)
        elif cls == "MachineBench":
            machine[method] = score * 1e-6
    return gemm, machine, jvm


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def java_version():
    try:
        out = subprocess.run(["java", "-version"], capture_output=True, text=True, check=False)
        return out.stderr.splitlines()[0]
    except OSError:
        return "unknown"


def write_report(args, blas):
    gemm, machine, jvm = load_jmh(args.jmh)
    lanes = args.lanes
    # MachineBench.fmaPeak is the time of one loop step (FMA_CHAINS vector FMAs) on one thread.
    # The "2" variants run on two threads at once and report the time per thread.
    peak = {}
    if "fmaPeak" in machine:
        peak[1] = FMA_CHAINS * lanes * 2 / machine["fmaPeak"] / 1e9
    if "fmaPeak2" in machine:
        peak[2] = 2 * FMA_CHAINS * lanes * 2 / machine["fmaPeak2"] / 1e9
    stream_bytes = STREAM_FLOATS * 4
    copy_bw = {}
    if "copy" in machine:
        copy_bw[1] = 2 * stream_bytes / machine["copy"] / 1e9
    if "copy2" in machine:
        copy_bw[2] = 2 * 2 * (stream_bytes / 2) / machine["copy2"] / 1e9
    read_bw = {}
    if "read" in machine:
        read_bw[1] = stream_bytes / machine["read"] / 1e9
    if "read2" in machine:
        read_bw[2] = 2 * (stream_bytes / 2) / machine["read2"] / 1e9

    # numpy on the same shapes, right after JMH.
    numpy_times = {}
    for shape, threads in gemm:
        numpy_times[(shape, threads)] = numpy_gemm(shape, threads)
    numpy_copy = {}
    for threads in (1, 2):
        with threadpool_limits(limits=threads, user_api="blas"):
            numpy_copy[threads] = 2 * stream_bytes / numpy_copy_seconds() / 1e9
    load_after = open("/proc/loadavg").read().split()[:3]

    lines = []
    lines.append("# GEMM: transact4j against OpenBLAS")
    lines.append("")
    lines.append(f"Measured {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC by "
                 "`bench/gemm_compare.sh` (JMH `GemmBench` and `MachineBench`, then numpy in the "
                 "same sitting).")
    lines.append("")
    lines.append(f"- CPU: {cpu_model()}, {os.cpu_count()} logical CPUs; preferred float vector: "
                 f"{lanes} lanes")
    lines.append(f"- JVM: {jvm.strip()}; `{java_version()}`")
    lines.append(f"- numpy {np.__version__} on {blas['internal_api']} {blas.get('version')} "
                 f"({blas.get('architecture')} kernels, {blas.get('threading_layer')}), "
                 f"`{blas.get('filepath')}`")
    lines.append(f"- Load average (1, 5, 15 min) before JMH: {args.load_before}; after numpy: "
                 f"{' '.join(load_after)}")
    lines.append("- JMH: 1 fork, 2 warm-up and 3 measured iterations of 500 ms; numpy: median of "
                 "5 batches of at least 250 ms after 4 warm-up calls.")
    lines.append("")
    lines.append("NOTE: the machine is shared with other jobs (compilers, test runs) while this "
                 "runs, so single numbers move by 10-30% between runs, and 2-thread numbers most "
                 "of all, because any other busy process takes one of the two cores. Ratios are "
                 "only meaningful within one run; the JMH error column is the 99.9% interval of "
                 "our time.")
    lines.append("")

    lines.append("## Machine limits")
    lines.append("")
    lines.append("| threads | FP32 FMA peak, measured (GFLOP/s) | copy bandwidth, JMH arraycopy (GB/s) "
                 "| copy bandwidth, numpy (GB/s) | read bandwidth, JMH (GB/s) |")
    lines.append("|---|---|---|---|---|")
    for t in (1, 2):
        lines.append(f"| {t} | {fmt(peak.get(t))} | {fmt(copy_bw.get(t))} | {fmt(numpy_copy.get(t))} "
                     f"| {fmt(read_bw.get(t))} |")
    lines.append("")
    lines.append(f"Computed peak: 2 FMA units x {lanes} lanes x 2 FLOP x about 3.3 GHz = "
                 f"{2 * lanes * 2 * 3.3:.0f} GFLOP/s per core. Copy bandwidth counts bytes read "
                 "plus bytes written for a 256 MiB array; read bandwidth is a vector sum of it.")
    lines.append("")

    lines.append("## Matrix products (GFLOP/s)")
    lines.append("")
    lines.append("Shape `MxNxK/TT`: C is [M, N], K the inner dimension, the letters say whether A "
                 "and B are transposed. `NT` rows are linear-layer forward passes (y = x W^T), "
                 "`NN` input gradients (dX = dY W), `TN` weight gradients (dW = dY^T X).")
    lines.append("")
    lines.append("| shape | threads | transact4j | +- | OpenBLAS | ratio | of FMA peak | target 0.9x |")
    lines.append("|---|---|---|---|---|---|---|---|")
    gemv_rows = []
    for (shape, threads), (seconds, error) in gemm.items():
        m, n, k, _, _ = parse_shape(shape)
        numpy_seconds = numpy_times[(shape, threads)]
        if m == 1:
            gemv_rows.append((shape, threads, seconds, numpy_seconds, n * k * 4))
            continue
        flops = 2.0 * m * n * k
        ours = flops / seconds / 1e9
        theirs = flops / numpy_seconds / 1e9
        err = flops / seconds / 1e9 - flops / (seconds + error) / 1e9 if error == error else float("nan")
        ratio = ours / theirs
        of_peak = ours / peak[threads] if threads in peak else float("nan")
        ok = "yes" if ratio >= TARGET_RATIO else "**no**"
        lines.append(f"| {shape} | {threads} | {ours:.1f} | {err:.1f} | {theirs:.1f} | {ratio:.2f} "
                     f"| {of_peak:.0%} | {ok} |")
    lines.append("")

    lines.append("## Decode-step matrix-vector products (GB/s of the weight matrix)")
    lines.append("")
    lines.append("`1xNxK/NT` is y = W x with W [N, K] row-major; `1xNxK/NN` is y = x^T W with "
                 "W [K, N]. Bandwidth counts the bytes of W read once.")
    lines.append("")
    lines.append("| shape | threads | transact4j | OpenBLAS | ratio | of JMH copy bandwidth "
                 "| target 80% |")
    lines.append("|---|---|---|---|---|---|---|")
    for shape, threads, seconds, numpy_seconds, nbytes in gemv_rows:
        ours = nbytes / seconds / 1e9
        theirs = nbytes / numpy_seconds / 1e9
        fraction = ours / copy_bw[threads] if threads in copy_bw else float("nan")
        ok = "yes" if fraction >= TARGET_BANDWIDTH_FRACTION else "**no**"
        lines.append(f"| {shape} | {threads} | {ours:.1f} | {theirs:.1f} | {ours / theirs:.2f} "
                     f"| {fraction:.0%} | {ok} |")
    lines.append("")

    tmp = args.out + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(lines))
    os.replace(tmp, args.out)


def fmt(value):
    return "n/a" if value is None else f"{value:.1f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check-blas", action="store_true",
                        help="print the BLAS numpy uses and exit; fails unless it is OpenBLAS")
    parser.add_argument("--jmh", help="JMH JSON result file of GemmBench and MachineBench")
    parser.add_argument("--lanes", type=int, help="lanes of the preferred float vector species")
    parser.add_argument("--load-before", default="unknown", help="load average before the JMH run")
    parser.add_argument("--out", help="Markdown file to write")
    args = parser.parse_args()

    blas = blas_info()
    print(f"numpy {np.__version__} uses {blas['internal_api']} {blas.get('version')} "
          f"({blas.get('architecture')}, {blas.get('threading_layer')}) from {blas.get('filepath')}")
    if args.check_blas:
        return
    if not (args.jmh and args.lanes and args.out):
        parser.error("--jmh, --lanes and --out are required unless --check-blas is given")
    write_report(args, blas)


if __name__ == "__main__":
    main()
