#!/usr/bin/env python3
"""Split the decode steps of a Java Flight Recorder recording of InferenceBench into kernels.

Reads the execution samples of a recording (through the JDK's `jfr print --json`), keeps those
whose stack runs inside LlamaForCausalLM.decode, and prints one JSON line with the share of
samples in each part of a decode step. A sample counts for the first part, in the order of
PARTS, that one of its frames belongs to. JFR samples only threads running Java code, so the
shares are of CPU time and do not move with the time other processes take from the core.
"""

import argparse
import collections
import json
import subprocess
import sys

# (part, substrings of "Class.method" of which any one puts a sample in the part)
PARTS = [
    ("projections (Gemv, Gemm)", ("tensor.Gemv.", "tensor.Gemm.", "tensor.GemmKernel.")),
    ("attention: key transpose", ("CausalAttention.transpose",)),
    ("attention: scores, softmax, weighted sum", ("CausalAttention.",)),
    ("KV cache append", ("KvCache.append", "AttentionCache.append")),
    ("RMSNorm", ("fused.RmsNorm.",)),
    ("rotary", ("Rotary", "Rope")),
    ("SwiGLU", ("SwiGlu", "swiglu")),
    ("embedding", ("Embedding.",)),
]
OTHER = "other (residual adds, views, allocation, argmax)"


def frames(event):
    return [f["method"]["type"]["name"].replace("/", ".") + "." + f["method"]["name"]
            for f in event["values"]["stackTrace"]["frames"]]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recording", help="the .jfr file of one InferenceBench run")
    parser.add_argument("--config", required=True, help="the configuration the run measured")
    parser.add_argument("--threads", type=int, required=True, help="the thread count of the run")
    args = parser.parse_args()

    printed = subprocess.run(["jfr", "print", "--json", "--stack-depth", "64", "--events",
                              "jdk.ExecutionSample", args.recording],
                             capture_output=True, text=True, check=False)
    if printed.returncode != 0:
        sys.exit(f"jfr print failed on {args.recording}: {printed.stderr.strip()}")
    events = json.loads(printed.stdout)["recording"]["events"]

    counts = collections.Counter()
    for event in events:
        stack = frames(event)
        if not any(frame.endswith("LlamaForCausalLM.decode") for frame in stack):
            continue
        part = next((name for name, keys in PARTS if any(k in f for f in stack for k in keys)), OTHER)
        counts[part] += 1
    total = sum(counts.values())
    if total == 0:
        sys.exit(f"{args.recording} has no execution samples inside LlamaForCausalLM.decode")
    shares = {name: counts[name] / total for name, _ in PARTS + [(OTHER, ())]}
    print(json.dumps({"config": args.config, "threads": args.threads, "samples": total, "shares": shares}))


if __name__ == "__main__":
    main()
