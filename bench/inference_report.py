#!/usr/bin/env python3
"""Write bench/results/inference.md from the JSON lines of InferenceBench and torch_inference.py.

Run through bench/inference_compare.sh, which produces both inputs in one sitting. The decode
bandwidth bound of a configuration is the copy bandwidth divided by the weight bytes one decode
step reads. Copy bandwidth counts bytes read plus bytes written, and InferenceBench measures it
right before each configuration. A step reads every float32 weight of ModelStats except the embedding table,
of which it reads one row.
"""

import argparse
import datetime
import json
import os
import platform
import sys

TARGET_DECODE_RATIO = 1.5
TARGET_BOUND_FRACTION = 0.8


# Reasons a row can miss a target, from the measurements this page reports.
SHORTFALL = (
    "A decode step is our decode-step product reading the weights (most of a step in the profile "
    "below) plus attention reading the KV cache, so its speed is the rate at which one core reads "
    "them. The small model's step reads about 123 MiB, where the cache sweep below falls from the "
    "rate of the last-level cache towards that of memory, and how much of the host's shared cache a "
    "run gets changes between runs. PyTorch gains from the same cache, so the ratio moves with it. "
    "The bound divides by a copy, which counts the bytes it writes as well as those it reads. On "
    "the AMD Zen 4 host with 4 KiB pages, the sweep's largest sets read 21-24 GB/s at one thread while the copies "
    "moved 28-30 GB/s, so even a step that only read its weights at the sweep's rate would reach "
    "70-85% of the bound. With 2 MiB pages (-XX:+UseTransparentHugePages, which bin/jvm-options "
    "adds where the kernel's mode is madvise) the sweep's largest sets read 29-36 GB/s on that host "
    "and the copies 31-33 GB/s. Attention adds its own reads of the KV cache. In a microbenchmark "
    "on that host, one thread's attention read 64 layers of cache, more than the last-level cache "
    "holds, at 18-23 GB/s.")


def read_lines(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip().startswith("{")]


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def last_level_cache():
    """Return the size of the CPU's highest-level cache as the kernel reports it, such as '491520K'."""
    sizes = {}
    base = "/sys/devices/system/cpu/cpu0/cache"
    try:
        for index in (name for name in os.listdir(base) if name.startswith("index")):
            with open(os.path.join(base, index, "level")) as level, open(os.path.join(base, index, "size")) as size:
                sizes[int(level.read())] = size.read().strip()
    except OSError:
        return "unknown"
    return sizes[max(sizes)] if sizes else "unknown"


def split(lines, path):
    """Return (header lines, {(config, threads): result}), keeping the round with the fastest decode."""
    headers, results = [], {}
    for line in lines:
        if "config" in line:
            key = (line["config"], line["threads"])
            best = results.get(key)
            if best is None or line["decode_tokens_per_second"] > best["decode_tokens_per_second"]:
                results[key] = line
        else:
            headers.append(line)
    if not results:
        sys.exit(f"{path} contains no result lines; see the harness output for the failed run")
    return headers, results


def decode_bytes(result):
    """Weight bytes one decode step reads: all weights but the embedding table, plus its one row."""
    return result["weight_bytes"] - result["embedding_bytes"] + 4 * result["hidden_size"]


def bound_bandwidth(mine, torch_header):
    """Return (GB/s, name) of the fastest copy measured for this thread count: our Java arraycopy,
    torch's copy_ or numpy's copy (one thread). The bound is meant as what the machine can move, so
    it takes the fastest, whichever side measured it."""
    copies = {"Java arraycopy": mine["copy_gb_per_second"]}
    if torch_header is not None:
        copies["torch copy_"] = torch_header["copy_gb_per_second"]
        if "numpy_copy_gb_per_second" in torch_header:
            copies["numpy copy"] = torch_header["numpy_copy_gb_per_second"]
    name = max(copies, key=copies.get)
    return copies[name], name


def huge_page_mode():
    """Return the kernel's transparent huge page mode, the bracketed word of its sysfs file."""
    try:
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
            text = f.read()
    except OSError:
        return "unknown (no /sys/kernel/mm/transparent_hugepage/enabled)"
    chosen = text[text.find("[") + 1:text.find("]")] if "[" in text else text.strip()
    return f"mode {chosen}"


def write_report(args):
    _, ours = split(read_lines(args.ours), args.ours)
    torch_headers, theirs = split(read_lines(args.torch), args.torch)
    jvm_line = next((line for line in read_lines(args.ours) if "jvm" in line), {"jvm": "unknown JVM"})
    torch_by_threads = {h["threads"]: h for h in torch_headers if "torch" in h}
    any_torch = next(iter(torch_by_threads.values()))
    load_after = " ".join(open("/proc/loadavg").read().split()[:3])

    lines = ["# Inference: transact4j against PyTorch", ""]
    lines.append(f"Measured {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC by "
                 "`bench/inference_compare.sh`: `InferenceBench` (Java) and `bench/torch_inference.py` "
                 "(plain-PyTorch Llama with a KV cache), alternating by thread count in one sitting.")
    lines.append("")
    lines.append(f"- CPU: {cpu_model()}, {os.cpu_count()} logical CPUs")
    lines.append(f"- JVM: {jvm_line['jvm']}, options `{jvm_line.get('jvm_options', 'not recorded')}`")
    lines.append(f"- Transparent huge pages: {huge_page_mode()}")
    lines.append(f"- PyTorch {any_torch['torch']} (Debian python3-torch), float32, `torch.inference_mode()`, "
                 "`torch.set_num_threads(threads)`, interop threads 1")
    for threads, header in sorted(torch_by_threads.items()):
        policy = header.get("omp_wait_policy") or "default"
        lines.append(f"- PyTorch BLAS at {threads} thread(s): {', '.join(header['blas'])}; "
                     f"OMP_WAIT_POLICY {policy}")
    lines.append(f"- Load average (1, 5, 15 min) at the start: {args.load_before}; at the end: {load_after}")
    lines.append(f"- Command: `{args.command}`")
    lines.append("")
    lines.append("Both sides: random weights of the same shapes, a prefill of the same number of random "
                 "tokens into an empty KV cache, then greedy decode steps of one token. After warm-up "
                 "rounds, prefill is the fastest of the timed rounds and decode the median time of all "
                 "timed steps. Each side runs in several rounds, ours and PyTorch's alternating, and the "
                 "tables show each side's round with the fastest decode, so that a slow spell of the "
                 "shared machine does not fall on one side only. PyTorch decode steps call `torch.mv`, because `F.linear` on one row runs "
                 "sgemm, which was 2.5 to 4 times slower on these matrices. The machine is shared with "
                 "other jobs, so absolute numbers move between runs; the ratios from one run are what "
                 "counts.")
    lines.append("")

    lines.append("| config | threads | prefill tok/s ours | prefill tok/s torch | prefill ratio "
                 "| decode tok/s ours | decode tok/s torch | decode ratio | decode bound tok/s "
                 "| ours of bound | torch of bound | targets (1.5x, 80%) |")
    lines.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    short = []
    for (config, threads), mine in sorted(ours.items(), key=lambda kv: (kv[0][0] != "tiny", kv[0][1])):
        other = theirs.get((config, threads))
        if other is None:
            sys.exit(f"{args.torch} has no result for {config} at {threads} threads")
        if (mine["prompt"], mine["decode"]) != (other["prompt"], other["decode"]):
            sys.exit(f"{config} at {threads} threads: prompt/decode lengths differ between the two sides")
        bandwidth, _ = bound_bandwidth(mine, torch_by_threads.get(threads))
        bound = bandwidth * 1e9 / decode_bytes(mine)
        prefill_ratio = mine["prefill_tokens_per_second"] / other["prefill_tokens_per_second"]
        decode_ratio = mine["decode_tokens_per_second"] / other["decode_tokens_per_second"]
        ours_fraction = mine["decode_tokens_per_second"] / bound
        torch_fraction = other["decode_tokens_per_second"] / bound
        met = "yes" if decode_ratio >= TARGET_DECODE_RATIO and ours_fraction >= TARGET_BOUND_FRACTION else "**no**"
        if met != "yes":
            short.append(f"{config} at {threads} thread(s) (decode {decode_ratio:.2f}x PyTorch, "
                         f"{ours_fraction:.0%} of the bound)")
        lines.append(f"| {config} | {threads} | {mine['prefill_tokens_per_second']:.0f} "
                     f"| {other['prefill_tokens_per_second']:.0f} | {prefill_ratio:.2f} "
                     f"| {mine['decode_tokens_per_second']:.1f} | {other['decode_tokens_per_second']:.1f} "
                     f"| {decode_ratio:.2f} | {bound:.0f} | {ours_fraction:.0%} | {torch_fraction:.0%} | {met} |")
    lines.append("")
    lines.append(f"Targets: a row reads yes when our decode reaches {TARGET_DECODE_RATIO}x PyTorch's tokens/s and "
                 f"{TARGET_BOUND_FRACTION:.0%} of the decode bound (defined below). Prefill has no target.")
    lines.append("")
    slower = [config for config in sorted({c for c, _ in theirs})
              if (config, 1) in theirs and (config, 2) in theirs
              and theirs[(config, 2)]["decode_tokens_per_second"] < theirs[(config, 1)]["decode_tokens_per_second"]]
    if slower:
        lines.append(f"PyTorch decoded {' and '.join(slower)} slower at 2 threads than at 1 in this run, so a "
                     "2-thread ratio there compares against PyTorch's slower setting, and its 1-thread decode is "
                     "the stronger peer.")
        lines.append("")
    if short:
        lines.append("Short of the targets in this run: " + ", ".join(short) + ". " + SHORTFALL)
        lines.append("")

    lines.append("One thread, per CPU second: the least thread CPU time of a prefill and the median "
                 "of a decode step (Java `ThreadMXBean`, Python `time.thread_time`), which leave out "
                 "the time the work waited while other jobs ran on the core. At one thread both sides compute on the "
                 "calling thread only. The bound here uses the copy bandwidth per CPU second of the "
                 "same copy.")
    lines.append("")
    lines.append("| config | prefill tok/CPU-s ours | torch | ratio | decode tok/CPU-s ours | torch | ratio "
                 "| decode bound tok/CPU-s | ours of bound | torch of bound |")
    lines.append("|---|---|---|---|---|---|---|---|---|---|")
    for (config, threads), mine in sorted(ours.items(), key=lambda kv: kv[0][0] != "tiny"):
        if threads != 1 or "decode_tokens_per_cpu_second" not in mine:
            continue
        other = theirs[(config, threads)]
        # At one thread numpy's and torch's copies run on the calling thread alone, so their
        # wall-clock rate serves as a rate per CPU second.
        bandwidth, _ = bound_bandwidth(dict(mine, copy_gb_per_second=mine["copy_gb_per_cpu_second"]),
                                       torch_by_threads.get(threads))
        bound = bandwidth * 1e9 / decode_bytes(mine)
        mine_cpu = mine["decode_tokens_per_cpu_second"]
        other_cpu = other["decode_tokens_per_cpu_second"]
        mine_prefill = mine["prefill_tokens_per_cpu_second"]
        other_prefill = other["prefill_tokens_per_cpu_second"]
        lines.append(f"| {config} | {mine_prefill:.0f} | {other_prefill:.0f} | {mine_prefill / other_prefill:.2f} "
                     f"| {mine_cpu:.1f} | {other_cpu:.1f} | {mine_cpu / other_cpu:.2f} | {bound:.0f} "
                     f"| {mine_cpu / bound:.0%} | {other_cpu / bound:.0%} |")
    lines.append("")

    first = next(iter(ours.values()))
    lines.append(f"Prefill: {first['prompt']} tokens. Decode: {first['decode']} greedy tokens after that "
                 "prefill, batch 1. Ratios are ours / torch.")
    lines.append("")
    lines.append("Decode bound: copy bandwidth / weight bytes per decode step, with the fastest copy "
                 "measured at that thread count (table below). A step reads every float32 "
                 "weight except the embedding table, of which it reads one row: "
                 + ", ".join(f"{config} {decode_bytes(r) / 1e6:.1f} MB"
                             for (config, t), r in sorted(ours.items()) if t == 1) + ". "
                 "The step also reads the KV cache, "
                 + ", ".join(f"{config} {r['kv_bytes_per_position'] / 1e3:.0f} kB"
                             for (config, t), r in sorted(ours.items()) if t == 1)
                 + " per cached position, which the bound leaves out. The copy moves 512 MiB, more "
                 f"than the last-level cache ({last_level_cache()}), so it measures memory. Weights "
                 "smaller than that cache can be read faster than memory allows, so a fraction above "
                 "100% means the weights stayed in cache between steps.")
    lines.append("")
    lines.append("| config | threads | Java arraycopy before it (GB/s) | per CPU second (GB/s) "
                 "| torch copy_ (GB/s) | numpy copy, one thread (GB/s) | bound uses |")
    lines.append("|---|---|---|---|---|---|---|")
    for (config, threads), mine in sorted(ours.items(), key=lambda kv: (kv[0][0] != "tiny", kv[0][1])):
        header = torch_by_threads.get(threads, {})
        per_cpu = f"{mine['copy_gb_per_cpu_second']:.1f}" if "copy_gb_per_cpu_second" in mine else "-"
        torch_copy = f"{header['copy_gb_per_second']:.1f}" if "copy_gb_per_second" in header else "-"
        numpy_copy = f"{header['numpy_copy_gb_per_second']:.1f}" if "numpy_copy_gb_per_second" in header else "-"
        _, used = bound_bandwidth(mine, torch_by_threads.get(threads))
        lines.append(f"| {config} | {threads} | {mine['copy_gb_per_second']:.1f} | {per_cpu} | {torch_copy} "
                     f"| {numpy_copy} | {used} |")
    lines.append("")
    lines.append("Copy bandwidth counts bytes read plus bytes written for a 256 MiB float array, the "
                 "fastest of several copies. Ours is split evenly over the threads and measured right "
                 "before each configuration; torch's and numpy's at the start of the PyTorch run with "
                 "that thread count. The three copies differ by up to two times on the same machine, "
                 "and which one is fastest differs between hosts, so the bound takes the fastest.")
    lines.append("")

    if args.profile:
        profiles = {line["config"]: line["phases"] for line in read_lines(args.profile)}
        configs = sorted(profiles, key=lambda name: name != "tiny")
        columns = [(c, phase) for c in configs for phase in ("prefill", "decode")]
        parts = list(profiles[configs[0]]["decode"]["shares"])
        lines.append("## Where our CPU time goes (1 thread)")
        lines.append("")
        lines.append("| part | " + " | ".join(f"{c} {phase}" for c, phase in columns) + " |")
        lines.append("|---|" + "---|" * len(columns))
        for part in parts:
            lines.append(f"| {part} | "
                         + " | ".join(f"{profiles[c][phase]['shares'][part]:.0%}" for c, phase in columns) + " |")
        lines.append("| samples | " + " | ".join(str(profiles[c][phase]["samples"]) for c, phase in columns) + " |")
        lines.append("")
        lines.append("Java Flight Recorder execution samples (1 ms period) of a separate `InferenceBench` "
                     "run per configuration, after its warm-up rounds, split by `bench/decode_profile.py`. "
                     "JFR samples threads running Java code, so these are shares of CPU time, not moved "
                     "by the time other jobs take.")
        lines.append("")

    if args.working_set:
        write_working_set(lines, read_lines(args.working_set), ours)

    tmp = args.out + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(lines))
    os.replace(tmp, args.out)


def write_working_set(lines, sweep, ours):
    """Appends the table of decode-step product speed by size of the weights read in turn."""
    by_threads = {}
    for line in sweep:
        if "working_set_bytes" in line:
            by_threads.setdefault(line["threads"], []).append(line)
    if not by_threads:
        return

    lines.append("## Weights from cache or from memory")
    lines.append("")
    lines.append("Our decode-step product (`Gemm.sgemm` on one row) over weight sets of growing size, "
                 "each read in the same order again and again as decode steps read a model: GB/s of "
                 "weights per pass, fastest pass (`InferenceBench --working-set`, in the same sitting).")
    lines.append("")

    threads = sorted(by_threads)
    lines.append("| weights read per pass (MiB) | " + " | ".join(f"GB/s, {t} thread(s)" for t in threads) + " |")
    lines.append("|---|" + "---|" * len(threads))
    sizes = sorted({line["working_set_bytes"] for rows in by_threads.values() for line in rows})
    for size in sizes:
        cells = []
        for t in threads:
            match = [line for line in by_threads[t] if line["working_set_bytes"] == size]
            cells.append(f"{match[0]['gemv_gb_per_second']:.1f}" if match else "-")
        lines.append(f"| {size / 2**20:.0f} | " + " | ".join(cells) + " |")
    lines.append("")

    steps = []
    for (config, t), mine in sorted(ours.items()):
        if t == 1:
            kv = mine["kv_bytes_per_position"] * (mine["prompt"] + mine["decode"] / 2)
            steps.append(f"{config} {(decode_bytes(mine) + kv) / 2**20:.0f} MiB")
    lines.append("A decode step reads its weights plus the KV cache, on average over the timed steps "
                 + ", ".join(steps) + ". "
                 "Where that total falls on this table decides whether a step streams its weights from "
                 "the last-level cache or from memory. The cache is shared with the other jobs on the "
                 "host, so how much of it a run gets, and with it the decode speed of a model near the "
                 "edge, moves between runs.")
    lines.append("")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ours", required=True, help="JSON lines written by InferenceBench")
    parser.add_argument("--torch", required=True, help="JSON lines written by torch_inference.py")
    parser.add_argument("--load-before", required=True, help="/proc/loadavg 1, 5, 15 min at the start")
    parser.add_argument("--command", required=True, help="the command that produced the inputs")
    parser.add_argument("--profile", help="JSON lines written by decode_profile.py, one per configuration")
    parser.add_argument("--working-set", help="JSON lines written by InferenceBench --working-set")
    parser.add_argument("--out", required=True, help="Markdown file to write")
    write_report(parser.parse_args())


if __name__ == "__main__":
    main()
