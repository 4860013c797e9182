#!/usr/bin/env python3
"""Compare transact4j GEMM (JMH) with numpy matmul on OpenBLAS and write a Markdown table.

Run through bench/gemm_compare.sh, which installs the packages and builds the benchmarks. For
each shape and thread count this script runs JMH on that one case and numpy on the same case
right beside it, so both see the same load on a shared machine. It does so in --rounds rounds
that alternate which side goes first. threadpoolctl sets the thread count of numpy. Both sides report
their fastest measurement over all rounds, since other processes can only add time. The script refuses to compare against any BLAS other than OpenBLAS, because
Debian's python3-numpy without libopenblas0 runs the unoptimised reference BLAS.
"""

import argparse
import datetime
import json
import os
import platform
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


# The causes of the gap to OpenBLAS that measurements showed, written by hand: keep the text true
# when the kernel or the host changes.
SHORTFALL = (
    "On the AMD Zen 4 host of this run, products short of 0.9x miss by a few percent, and which "
    "ones miss changes from run to run: 768x256x2048/TN at two threads measured 0.96 and 0.88 in "
    "two runs half an hour apart. Two-thread rows move most, because another job on one of the two "
    "cores makes a static split wait for the slower thread, ours and OpenBLAS's alike. Two changes "
    "brought the large products to OpenBLAS on this host. K blocks of 512 in place of 160 (two "
    "thirds of the 32 KiB L1d) halve the passes over C, which took the 2048 square product from 85 "
    "to 101-104 GFLOP/s at one thread. Packing a row-major A as plain row copies, in place of "
    "interleaving its rows into micro-panels, took products with N = 256 from 87-92 to 97-105 "
    "GFLOP/s. On an Intel Xeon host with 48 KiB L1d and 2 MiB L2, earlier runs left the 1024 "
    "and 2048 square products and the 2048-row products with N = 256 at 0.76-0.89x, and these "
    "changes have not been measured there. Tried on that host without a gain: 12 rows instead of "
    "8 in the micro-kernel (15% faster alone, no faster in the product), swapping the two inner "
    "loops so that the A micro-panel stays in L1 and B micro-panels stream from L2, packed panels "
    "aligned to cache lines, loading the lines of each C tile before its micro-kernel runs, KC of "
    "128, 192, 384 and 512, MC of 96, 168, 192 and 640, NC of 512 and 1024, running the K blocks "
    "inside each A block with B packed once, reading A in place instead of packing it, starting "
    "each K block's accumulators from C instead of adding the block to C, padding C's leading "
    "dimension by 16 or 32 floats against 4 KiB aliasing, loading the lines of the next C tile "
    "while the current one computes, and JDK 25's C2 in place of JDK 17's. OpenBLAS's kernels "
    "issue prefetch instructions for the packed panels and for C, which the Vector API does not "
    "offer."
)


# The same for the matrix-vector products that fall short of the bandwidth target.
GEMV_SHORTFALL = (
    "W is read once per call, so these rows measure how fast one or two cores stream memory, and "
    "they move with the memory traffic of other jobs on the host: the copy bandwidth in the table "
    "above is measured at the start of the run, the products minutes later. On the AMD Zen 4 host, "
    "single calls of our kernels read 25-31 GB/s at one thread, and over two runs the rows ranged "
    "from 72% to 136% of the copy bandwidth. y = x^T W reads eight rows of W per pass "
    "over whole rows; in runs of 2048 columns it read 17 GB/s on a 4096 x 11008 W. On an earlier "
    "Intel host, eight sequential streams per thread read 15-16 GB/s per CPU second from memory, "
    "and sixteen streams read no more. OpenBLAS's kernels add prefetch instructions ahead of "
    "each stream, which the Vector API does not offer."
)


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


def time_call(fn, min_seconds=0.15, batches=7):
    """Fastest over batches of the mean time of one call, in seconds, after a warm-up."""
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
    return min(means)


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
    return time_call(lambda: np.copyto(dst, src), min_seconds=0.3, batches=5)


JMH_OPTIONS = ["-wi", "3", "-w", "300ms", "-i", "5", "-r", "300ms"]


def run_jmh(jar, pattern, params, log, jvm_options):
    """Run one JMH selection and return {(method, shape, threads): (best seconds, jvm)}.

    The forked benchmark JVM gets jvm_options and -Xmx6g, in place of the options of @Fork.
    Waits while another JMH run on this machine holds /tmp/jmh.lock rather than running beside
    it. The best of the measured iterations is reported (JMH scores are us/op).
    """
    json_path = log + ".json"
    cmd = ["java", *jvm_options.split(), "-jar", jar, pattern, *JMH_OPTIONS,
           "-jvmArgsAppend", f"{jvm_options} -Xmx6g", "-rf", "json", "-rff", json_path]
    for name, value in params.items():
        cmd += ["-p", f"{name}={value}"]
    for attempt in range(60):
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        with open(log, "a") as f:
            f.write(proc.stdout + proc.stderr)
        if "Unable to acquire the JMH lock" in proc.stdout + proc.stderr:
            print(f"another JMH run holds the lock; retrying in 20 s (attempt {attempt + 1})", flush=True)
            time.sleep(20)
            continue
        if proc.returncode != 0:
            sys.exit(f"JMH failed with status {proc.returncode}; see {log}")
        break
    else:
        sys.exit("JMH lock stayed busy for 20 minutes; run again when the other benchmark ends")
    with open(json_path) as f:
        runs = json.load(f)
    results = {}
    for run in runs:
        metric = run["primaryMetric"]
        if metric["scoreUnit"] != "us/op":
            sys.exit(f"unexpected JMH unit {metric['scoreUnit']} in {json_path}")
        best = min(x for fork in metric["rawData"] for x in fork) * 1e-6
        method = run["benchmark"].rsplit(".", 1)[-1]
        p = run.get("params", {})
        key = (method, p.get("shape"), int(p["threads"]) if "threads" in p else None)
        jvm = f"{run.get('vmName', '')} {run.get('jdkVersion', '')} ({run.get('vmVersion', '')})"
        results[key] = (best, jvm)
    return results


def gemm_shapes(jar):
    """The shape parameter values declared in GemmBench, in declaration order."""
    out = subprocess.run(["java", "-jar", jar, "GemmBench", "-lp"], capture_output=True, text=True,
                         check=True).stdout
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("param \"shape\""):
            values = line.split("{", 1)[1].rsplit("}", 1)[0]
            return [v.strip() for v in values.split(",")]
    sys.exit("GemmBench declares no shape parameter; rebuild bench/target/benchmarks.jar")


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def cpu_field(name):
    """Return the first value of a field of /proc/cpuinfo, or None."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == name:
                    return value.strip()
    except OSError:
        pass
    return None


def fma_flops_per_cycle(lanes):
    """Return (FP32 FLOP per cycle and core, how it is computed), or (None, reason) when unknown.

    AMD's Zen 2 to Zen 4 cores have two 256-bit FMA pipes, and Zen 4 runs each 512-bit instruction
    on its 256-bit hardware (Alexander J. Yee, "Zen5's AVX512 Teardown", numberworld.org, 2024).
    Intel cores are assumed to have two FMA units of the full vector width, as most Xeon models do.
    """
    vendor = cpu_field("vendor_id")
    family = cpu_field("cpu family")
    if vendor == "AuthenticAMD" and family in ("23", "25"):
        return 32, "two 256-bit FMA pipes x 8 lanes x 2 FLOP (AMD Zen 2 to Zen 4)"
    if vendor == "GenuineIntel":
        return 2 * lanes * 2, f"two FMA units x {lanes} lanes x 2 FLOP, assumed for Intel; some Xeon models have one"
    return None, f"FMA units unknown for {vendor} family {family}"


def java_version():
    try:
        out = subprocess.run(["java", "-version"], capture_output=True, text=True, check=False)
        return out.stderr.splitlines()[0]
    except OSError:
        return "unknown"


def write_report(args, blas):
    log = args.log
    open(log, "w").close()
    load_before = open("/proc/loadavg").read().split()[:3]

    # Machine limits first, then each case on both sides back to back, in rounds that alternate
    # which side goes first, because this machine's speed drifts by up to 20% over minutes.
    machine_runs = run_jmh(args.jar, "MachineBench", {}, log, args.jvm_options)
    machine = {method: best for (method, _, _), (best, _) in machine_runs.items()}
    jvm = next(iter(machine_runs.values()))[1]
    numpy_copy = {}
    for threads in (1, 2):
        with threadpool_limits(limits=threads, user_api="blas"):
            numpy_copy[threads] = 2 * STREAM_FLOATS * 4 / numpy_copy_seconds() / 1e9
    gemm, numpy_times = {}, {}
    for shape in gemm_shapes(args.jar):
        for threads in (1, 2):
            ours_times, theirs_times = [], []
            for round_index in range(args.rounds):
                sides = ["ours", "numpy"] if round_index % 2 == 0 else ["numpy", "ours"]
                for side in sides:
                    if side == "ours":
                        runs = run_jmh(args.jar, "GemmBench", {"shape": shape, "threads": threads}, log,
                                       args.jvm_options)
                        ours_times.append(runs[("sgemm", shape, threads)][0])
                    else:
                        theirs_times.append(numpy_gemm(shape, threads))
            gemm[(shape, threads)] = min(ours_times)
            numpy_times[(shape, threads)] = min(theirs_times)
            print(f"{shape} threads={threads}: ours {gemm[(shape, threads)] * 1e3:.3f} ms, "
                  f"numpy {numpy_times[(shape, threads)] * 1e3:.3f} ms", flush=True)
    load_after = open("/proc/loadavg").read().split()[:3]

    lanes = args.lanes
    flops_per_cycle, flops_per_cycle_text = fma_flops_per_cycle(lanes)
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

    lines = []
    lines.append("# GEMM: transact4j against OpenBLAS")
    lines.append("")
    lines.append(f"Measured {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC by "
                 "`bench/gemm_compare.sh`: machine limits by JMH `MachineBench`, then each case "
                 "by JMH `GemmBench` and numpy right after it.")
    lines.append("")
    lines.append(f"- CPU: {cpu_model()} ({cpu_field('vendor_id')}, family {cpu_field('cpu family')}, "
                 f"model {cpu_field('model')}), {os.cpu_count()} logical CPUs; preferred float vector: "
                 f"{lanes} lanes")
    lines.append(f"- JVM: {jvm.strip()}; `{java_version()}`; options `{args.jvm_options} -Xmx6g`")
    lines.append(f"- numpy {np.__version__} on {blas['internal_api']} {blas.get('version')} "
                 f"({blas.get('architecture')} kernels, {blas.get('threading_layer')}), "
                 f"`{blas.get('filepath')}`")
    lines.append(f"- Load average (1, 5, 15 min) at the start: {' '.join(load_before)}; at the end: "
                 f"{' '.join(load_after)} (2 CPUs)")
    lines.append(f"- Each case: {args.rounds} round(s) of JMH (1 fork, 3 warm-up and 5 measured "
                 "iterations of 300 ms) and numpy (7 batches of at least 150 ms after 4 warm-up "
                 "calls) back to back, the rounds alternating which side goes first. Both sides "
                 "report their fastest iteration or batch over all rounds.")
    lines.append("")
    lines.append("NOTE: the machine is shared with other jobs (compilers, test runs) while this "
                 "runs, so single numbers move by 10-50% between runs, and 2-thread numbers most "
                 "of all, because any other busy process takes one of the two cores and a static "
                 "split then waits for the slower thread (ours and OpenBLAS alike). Ratios are "
                 "only meaningful within one run.")
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
    peak_text = ("The FMA peak is measured: 16 independent chains of vector FMAs on each thread. ")
    if flops_per_cycle and 1 in peak:
        peak_text += (f"These cores do {flops_per_cycle} FP32 FLOP per cycle ({flops_per_cycle_text}), "
                      f"so the one-thread peak implies a clock of {peak[1] / flops_per_cycle:.2f} GHz; "
                      "a clock well below the CPU's rated boost means other processes had the core "
                      "during the run. ")
    else:
        peak_text += f"({flops_per_cycle_text}.) "
    peak_text += ("Copy bandwidth counts bytes read plus bytes written for a 256 MiB array; read "
                  "bandwidth is a vector sum of it.")
    lines.append(peak_text)
    lines.append("")

    lines.append("## Matrix products (GFLOP/s)")
    lines.append("")
    lines.append("Shape `MxNxK/TT`: C is [M, N], K the inner dimension, the letters say whether A "
                 "and B are transposed. `NT` rows are linear-layer forward passes (y = x W^T), "
                 "`NN` input gradients (dX = dY W), `TN` weight gradients (dW = dY^T X).")
    lines.append("")
    lines.append("| shape | threads | transact4j | OpenBLAS | ratio | of measured FMA peak "
                 "| target 0.9x OpenBLAS |")
    lines.append("|---|---|---|---|---|---|---|")
    gemv_rows = []
    short = []
    short_gemv = []
    for (shape, threads), seconds in gemm.items():
        m, n, k, _, _ = parse_shape(shape)
        numpy_seconds = numpy_times[(shape, threads)]
        if m == 1:
            gemv_rows.append((shape, threads, seconds, numpy_seconds, n * k * 4))
            continue
        flops = 2.0 * m * n * k
        ours = flops / seconds / 1e9
        theirs = flops / numpy_seconds / 1e9
        ratio = ours / theirs
        of_peak = ours / peak[threads] if threads in peak else float("nan")
        ok = "yes" if ratio >= TARGET_RATIO else "**no**"
        lines.append(f"| {shape} | {threads} | {ours:.1f} | {theirs:.1f} | {ratio:.2f} "
                     f"| {of_peak:.0%} | {ok} |")
        if ratio < TARGET_RATIO:
            short.append(f"{shape} at {threads} thread(s) ({ratio:.2f})")
    lines.append("")
    if short:
        lines.append("### Shapes short of 0.9x, and why")
        lines.append("")
        lines.append("Short in this run: " + ", ".join(short) + ".")
        lines.append("")
        lines.append(SHORTFALL)
        lines.append("")

    lines.append("## Decode-step matrix-vector products (GB/s of the weight matrix)")
    lines.append("")
    lines.append("`1xNxK/NT` is y = W x with W [N, K] row-major; `1xNxK/NN` is y = x^T W with "
                 "W [K, N]. Bandwidth counts the bytes of W read once. A copy moves each byte twice, "
                 "once read and once written, so a kernel that only reads can exceed the copy "
                 "bandwidth, up to about the read bandwidth in the table above. W (64 to 172 MiB) "
                 "is read again on every call, so part of it may also come from the shared L3 "
                 "rather than memory.")
    lines.append("")
    lines.append("The fraction is of the fastest copy bandwidth measured at that thread count "
                 "(JMH arraycopy or numpy, table above): the copies differ by up to two times on the "
                 "same machine, and the target is meant against what the machine can move.")
    lines.append("")
    lines.append("| shape | threads | transact4j | OpenBLAS | ratio | of fastest copy bandwidth "
                 "| target 80% of copy |")
    lines.append("|---|---|---|---|---|---|---|")
    for shape, threads, seconds, numpy_seconds, nbytes in gemv_rows:
        ours = nbytes / seconds / 1e9
        theirs = nbytes / numpy_seconds / 1e9
        copies = [bw for bw in (copy_bw.get(threads), numpy_copy.get(threads)) if bw is not None]
        fraction = ours / max(copies) if copies else float("nan")
        ok = "yes" if fraction >= TARGET_BANDWIDTH_FRACTION else "**no**"
        lines.append(f"| {shape} | {threads} | {ours:.1f} | {theirs:.1f} | {ours / theirs:.2f} "
                     f"| {fraction:.1%} | {ok} |")
        if fraction < TARGET_BANDWIDTH_FRACTION:
            short_gemv.append(f"{shape} at {threads} thread(s) ({fraction:.1%})")
    lines.append("")
    if short_gemv:
        lines.append("Short of 80% in this run: " + ", ".join(short_gemv) + ". " + GEMV_SHORTFALL)
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
    parser.add_argument("--jar", help="JMH benchmarks jar (bench/target/benchmarks.jar)")
    parser.add_argument("--lanes", type=int, help="lanes of the preferred float vector species")
    parser.add_argument("--log", help="file that collects the JMH output")
    parser.add_argument("--out", help="Markdown file to write")
    parser.add_argument("--jvm-options", default="--add-modules jdk.incubator.vector",
                        help="options of the benchmark JVMs, separated by spaces (bin/jvm-options prints "
                             "those bin/transact uses); -Xmx6g is added")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds per case, alternating which side goes first (default 3)")
    args = parser.parse_args()

    blas = blas_info()
    print(f"numpy {np.__version__} uses {blas['internal_api']} {blas.get('version')} "
          f"({blas.get('architecture')}, {blas.get('threading_layer')}) from {blas.get('filepath')}")
    if args.check_blas:
        return
    if not (args.jar and args.lanes and args.log and args.out):
        parser.error("--jar, --lanes, --log and --out are required unless --check-blas is given")
    if args.rounds < 1:
        parser.error(f"--rounds {args.rounds}: expected 1 or more")
    write_report(args, blas)


if __name__ == "__main__":
    main()
