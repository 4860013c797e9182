#!/usr/bin/env python3
"""Time prefill and greedy decode of a plain-PyTorch Llama with a KV cache.

The reference side of bench/inference_compare.sh. The model is written here in plain PyTorch
(float32, no transformers package), with the shapes of transact4j's LlamaConfig.tiny() and
small() presets and random weights. A run prints one JSON object per line: first the library
versions and the BLAS that torch loaded, then one result per configuration.

Timing: a prefill of --prompt random tokens into an empty cache, then --decode greedy steps of
one token each. Each round starts from an empty cache. After --warmup rounds, the fastest of
--repeats prefills and the median time of all timed decode steps are reported, as tokens per
second. On a machine shared with other jobs these are the estimates least moved by the moments
when another process runs on the core. The least CPU time of the calling thread per prefill and
its median per decode step are reported too: at one thread they count only the time the work ran,
not the time it waited for the core.

Run with /usr/bin/python3 (Debian's python3-torch). torch defaults to one thread on this machine, so
the script always calls torch.set_num_threads(--threads).
"""

import argparse
import json
import math
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

# Hidden size, layers, heads, MLP width of LlamaConfig.tiny() and small(); both have
# vocab_size 8192, num_key_value_heads equal to the heads, rms_norm_eps 1e-5, rope_theta 10000.
CONFIGS = {
    "tiny": (256, 4, 8, 688),
    "small": (512, 8, 8, 1376),
}
VOCAB = 8192
RMS_EPS = 1e-5
ROPE_THETA = 10000.0


def linear(x, weight):
    """Return x weight^T for x [T, in], through torch.mv when T is 1.

    F.linear on one row goes through sgemm, which OpenBLAS 0.3.21 ran 2.5 to 4 times slower than
    sgemv on the larger decode matrices of these models (1376 x 512, 8192 x 512) on this machine.
    torch.mv keeps the reference at its fastest for decode.
    """
    if x.shape[0] == 1:
        return torch.mv(weight, x[0]).unsqueeze(0)
    return F.linear(x, weight)


class Llama:
    """Llama forward pass over a preallocated KV cache of one sequence, weights as nn.Linear stores them."""

    def __init__(self, hidden, layers, heads, intermediate, vocab, capacity, seed):
        gen = torch.Generator().manual_seed(seed)

        def normal(*shape):
            return torch.randn(*shape, generator=gen) * 0.02

        self.hidden, self.heads, self.head_dim = hidden, heads, hidden // heads
        self.embed = normal(vocab, hidden)
        self.layers = []
        for _ in range(layers):
            self.layers.append({
                "input_norm": torch.ones(hidden),
                "q": normal(hidden, hidden),
                "k": normal(hidden, hidden),
                "v": normal(hidden, hidden),
                "o": normal(hidden, hidden),
                "post_norm": torch.ones(hidden),
                "gate": normal(intermediate, hidden),
                "up": normal(intermediate, hidden),
                "down": normal(hidden, intermediate),
            })
        self.norm = torch.ones(hidden)
        self.lm_head = normal(vocab, hidden)

        # rotary tables as Hugging Face builds them: the frequencies repeated over both halves
        inv_freq = 1.0 / (ROPE_THETA ** (torch.arange(0, self.head_dim, 2).float() / self.head_dim))
        freqs = torch.outer(torch.arange(capacity).float(), inv_freq)
        angles = torch.cat((freqs, freqs), dim=-1)
        self.cos, self.sin = angles.cos(), angles.sin()

        # cache [layers, 2 (key, value), heads, capacity, head_dim]
        self.cache = torch.zeros(layers, 2, heads, capacity, self.head_dim)
        self.length = 0

    def reset(self):
        self.length = 0

    @staticmethod
    def rms_norm(x, weight):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + RMS_EPS) * weight

    @staticmethod
    def rotate_half(x):
        half = x.shape[-1] // 2
        return torch.cat((-x[..., half:], x[..., :half]), dim=-1)

    def forward(self, ids):
        """Run ids [T] at the positions after the cache and return the logits [V] of the last one."""
        steps = ids.shape[0]
        start, end = self.length, self.length + steps
        h, hd = self.heads, self.head_dim
        cos, sin = self.cos[start:end], self.sin[start:end]
        mask = None
        if steps > 1:
            # new position t attends to every cached position and to new positions up to t
            mask = torch.full((steps, end), float("-inf")).triu(start + 1)

        x = self.embed[ids]
        for i, layer in enumerate(self.layers):
            # attention: projections to [H, T, HS], rotary, cache append, softmax over [0, end)
            y = self.rms_norm(x, layer["input_norm"])
            q = linear(y, layer["q"]).view(steps, h, hd).transpose(0, 1)
            k = linear(y, layer["k"]).view(steps, h, hd).transpose(0, 1)
            v = linear(y, layer["v"]).view(steps, h, hd).transpose(0, 1)
            q = q * cos + self.rotate_half(q) * sin
            k = k * cos + self.rotate_half(k) * sin
            self.cache[i, 0, :, start:end] = k
            self.cache[i, 1, :, start:end] = v
            keys = self.cache[i, 0, :, :end]
            values = self.cache[i, 1, :, :end]
            scores = torch.matmul(q, keys.transpose(1, 2)) * (1.0 / math.sqrt(hd))
            if mask is not None:
                scores = scores + mask
            attn = torch.matmul(torch.softmax(scores, dim=-1), values)
            x = x + linear(attn.transpose(0, 1).reshape(steps, self.hidden), layer["o"])

            # MLP: down(silu(gate(y)) * up(y))
            y = self.rms_norm(x, layer["post_norm"])
            x = x + linear(F.silu(linear(y, layer["gate"])) * linear(y, layer["up"]), layer["down"])
        self.length = end

        return torch.mv(self.lm_head, self.rms_norm(x[-1], self.norm))


def time_round(model, prompt, decode):
    """Return the wall and thread CPU seconds of one prefill and of each of `decode` greedy steps."""
    model.reset()
    cpu_start = time.thread_time()
    start = time.perf_counter()
    logits = model.forward(prompt)
    prefill = (time.perf_counter() - start, time.thread_time() - cpu_start)

    steps, cpu_steps = [], []
    for _ in range(decode):
        cpu_start = time.thread_time()
        start = time.perf_counter()
        token = torch.argmax(logits).view(1)
        logits = model.forward(token)
        steps.append(time.perf_counter() - start)
        cpu_steps.append(time.thread_time() - cpu_start)
    return prefill, steps, cpu_steps


def loaded_blas():
    """Return the paths of the BLAS libraries mapped into this process."""
    paths = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            if "blas" in os.path.basename(path) or "lapack" in os.path.basename(path):
                paths.add(os.path.realpath(path))
    return sorted(paths)


def copy_bandwidth(copy, floats=64 << 20, repeats=3):
    """Return the GB/s, bytes read plus bytes written, of the fastest of `repeats` calls of
    copy(target, source) on two float32 tensors of 256 MiB."""
    source = torch.ones(floats)
    target = torch.empty(floats)
    best = float("inf")
    for r in range(repeats + 2):
        start = time.perf_counter()
        copy(target, source)
        if r >= 2:
            best = min(best, time.perf_counter() - start)
    return 2 * floats * 4 / best / 1e9


def numpy_copy(target, source):
    """Copies with numpy on one thread; glibc's memcpy ran well ahead of torch's copy_ on an Intel host."""
    target.numpy()[:] = source.numpy()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", default="tiny,small", help="comma-separated names: tiny, small")
    parser.add_argument("--threads", type=int, required=True, help="torch.set_num_threads value")
    parser.add_argument("--prompt", type=int, default=256, help="prefill length in tokens")
    parser.add_argument("--decode", type=int, default=128, help="greedy decode steps after the prefill")
    parser.add_argument("--warmup", type=int, default=1, help="untimed rounds before the timed ones")
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds (fastest prefill, median decode step)")
    args = parser.parse_args()
    names = args.configs.split(",")
    for name in names:
        if name not in CONFIGS:
            sys.exit(f"unknown config '{name}'; expected one of {', '.join(CONFIGS)}")

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    print(json.dumps({
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "parallel": torch.__config__.parallel_info().splitlines()[0:3],
        "blas": loaded_blas(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", ""),
        "copy_gb_per_second": copy_bandwidth(lambda target, source: target.copy_(source)),
        "numpy_copy_gb_per_second": copy_bandwidth(numpy_copy),
    }), flush=True)

    with torch.inference_mode():
        for name in names:
            hidden, layers, heads, intermediate = CONFIGS[name]
            model = Llama(hidden, layers, heads, intermediate, VOCAB, args.prompt + args.decode, seed=1)
            prompt = torch.randint(0, VOCAB, (args.prompt,), generator=torch.Generator().manual_seed(2))
            for _ in range(args.warmup):
                time_round(model, prompt, args.decode)
            rounds = [time_round(model, prompt, args.decode) for _ in range(args.repeats)]
            prefill = min(r[0][0] for r in rounds)
            prefill_cpu = min(r[0][1] for r in rounds)
            decode = statistics.median(step for r in rounds for step in r[1])
            decode_cpu = statistics.median(step for r in rounds for step in r[2])
            print(json.dumps({
                "config": name,
                "threads": args.threads,
                "prompt": args.prompt,
                "decode": args.decode,
                "prefill_tokens_per_second": args.prompt / prefill,
                "prefill_tokens_per_cpu_second": args.prompt / prefill_cpu,
                "decode_tokens_per_second": 1 / decode,
                "decode_tokens_per_cpu_second": 1 / decode_cpu,
            }), flush=True)


if __name__ == "__main__":
    main()
