#!/usr/bin/env python3
"""Split the prefill and decode of a Java Flight Recorder recording of InferenceBench into parts.

Reads the execution samples of a recording (through the JDK's `jfr print --json`) and keeps those
taken after the warm-up rounds, at or after the timed_start_epoch_ms of InferenceBench's result
line, so that code not yet compiled does not count. A sample inside LlamaForCausalLM.decode is a
decode sample, any other inside InferenceBench.round a prefill sample. A sample counts for the
first part, in the order of PARTS, that one of its frames belongs to. Prints one JSON line with
the sample count and the share of each part, per phase.

JFR samples only threads running Java code, so the shares are of CPU time and do not move with
the time other processes take from the core.
"""

import argparse
import collections
import datetime
import json
import subprocess
import sys

# (part, substrings of "package.Class.method" of which any one puts a sample in the part)
PARTS = [
    # The KV cache append comes first, because it writes keys through KeyTiles.store. Attention
    # comes before GEMM, because a prefill computes its scores and weighted sums with Gemm.sgemm.
    ("KV cache append", ("KvCache.append",)),
    ("attention: key tiling", ("KeyTiles.store", "KeyTiles.untile")),
    ("attention: row-by-row scores", ("KeyTiles.scores",)),
    ("attention: softmax, weighted sum, prefill products", ("CausalAttention.",)),
    ("GEMM: packing the weight matrix", ("GemmKernel.packB",)),
    ("projections: other GEMM and gemv work", ("tensor.Gemv.", "tensor.Gemm.", "tensor.GemmKernel.")),
    ("RMSNorm", ("fused.RmsNorm.",)),
    ("rotary", ("Rotary", "Rope")),
    ("SwiGLU", ("SwiGlu", "swiglu")),
    ("embedding", ("Embedding.",)),
]
OTHER = "other (residual adds, views, allocation, argmax)"


def frames(event):
    return [f["method"]["type"]["name"].replace("/", ".") + "." + f["method"]["name"]
            for f in event["values"]["stackTrace"]["frames"]]


def timed_start(bench_output, config):
    """Return the UTC datetime at which the timed rounds of `config` began, from InferenceBench's output."""
    with open(bench_output) as f:
        for line in f:
            if line.startswith("{") and f'"config": "{config}"' in line:
                millis = json.loads(line)["timed_start_epoch_ms"]
                return datetime.datetime.fromtimestamp(millis / 1000, datetime.timezone.utc)
    sys.exit(f"{bench_output} has no result line for {config}; see that file for the failed run")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recording", help="the .jfr file of one InferenceBench run")
    parser.add_argument("--bench-output", required=True, help="the standard output of that run")
    parser.add_argument("--config", required=True, help="the configuration the run measured")
    parser.add_argument("--threads", type=int, required=True, help="the thread count of the run")
    args = parser.parse_args()
    start = timed_start(args.bench_output, args.config)

    printed = subprocess.run(["jfr", "print", "--json", "--stack-depth", "64", "--events",
                              "jdk.ExecutionSample", args.recording],
                             capture_output=True, text=True, check=False)
    if printed.returncode != 0:
        sys.exit(f"jfr print failed on {args.recording}: {printed.stderr.strip()}")
    events = json.loads(printed.stdout)["recording"]["events"]

    counts = {"prefill": collections.Counter(), "decode": collections.Counter()}
    for event in events:
        if datetime.datetime.fromisoformat(event["values"]["startTime"]) < start:
            continue
        stack = frames(event)
        if any(frame.endswith("LlamaForCausalLM.decode") for frame in stack):
            phase = "decode"
        elif any(frame.endswith("InferenceBench.round") for frame in stack):
            phase = "prefill"
        else:
            continue
        part = next((name for name, keys in PARTS if any(k in f for f in stack for k in keys)), OTHER)
        counts[phase][part] += 1

    phases = {}
    for phase, counter in counts.items():
        total = sum(counter.values())
        if total == 0:
            sys.exit(f"{args.recording} has no {phase} samples after the warm-up rounds; run more --repeats")
        phases[phase] = {"samples": total,
                         "shares": {name: counter[name] / total for name, _ in PARTS + [(OTHER, ())]}}
    print(json.dumps({"config": args.config, "threads": args.threads, "phases": phases}))


if __name__ == "__main__":
    main()
