"""Writes reference fixtures for the fused kernels in dev.transact4j.tensor.fused.

For every case the inputs are drawn once in float32 and stored as F32. The reference is then
computed twice with torch autograd, once on the inputs widened to float64 and once in float32,
given the same random upstream gradient. Outputs and input gradients are stored with the suffix
`.f64` and `.f32`. Every key of a case starts with `caseN.`; the metadata `cases` gives the count.

Run from the repository root: /usr/bin/python3 src/test/python/make_fused_fixtures.py
"""

import math

import torch
import torch.nn.functional as F

from fixture_io import write_fixture

GEN = torch.Generator().manual_seed(20261204)


def randn(*shape, scale=1.0):
    return (torch.randn(*shape, generator=GEN, dtype=torch.float64) * scale).float()


def run_both(inputs, upstream, fn, grad_keys):
    """Run `fn` in float64 and float32; return {name.f64/.f32: value} for outputs and grads."""
    result = {}
    for dtype, suffix in ((torch.float64, "f64"), (torch.float32, "f32")):
        leaves = {}
        for key, value in inputs.items():
            if value.is_floating_point():
                leaf = value.to(dtype).clone().requires_grad_(key in grad_keys)
            else:
                leaf = value
            leaves[key] = leaf
        outputs = fn(leaves)
        total = None
        for key, out in outputs.items():
            result[f"{key}.{suffix}"] = out.detach().to(dtype)
            if key in upstream:
                term = (out * upstream[key].to(dtype)).sum()
                total = term if total is None else total + term
        total.backward()
        for key in grad_keys:
            result[f"d{key}.{suffix}"] = leaves[key].grad.detach()
    return result


def store(cases):
    tensors = {}
    for index, case in enumerate(cases):
        for key, value in case.items():
            tensors[f"case{index}.{key}"] = value
    return tensors


# --- cross entropy -------------------------------------------------------------------------------

def cross_entropy_cases():
    cases = []
    # (N, V, ignored rows, reduction)
    for n, v, ignored, reduction in ((1, 33, [], "mean"), (17, 257, [2, 5, 16], "mean"),
                                     (17, 33, [0, 9], "sum"), (3, 33, [0, 1, 2], "mean")):
        logits = randn(n, v, scale=3.0)
        targets = torch.randint(0, v, (n,), generator=GEN)
        targets[ignored] = -100
        dloss = randn(1)

        def fn(t, reduction=reduction):
            loss = F.cross_entropy(t["logits"], t["targets"], ignore_index=-100, reduction=reduction)
            lse = torch.logsumexp(t["logits"], dim=-1)
            return {"loss": loss, "lse": lse}

        case = {"logits": logits, "targets": targets.to(torch.int64), "dloss": dloss,
                "shape": torch.tensor([n, v], dtype=torch.int64),
                "sum_reduction": torch.tensor([1 if reduction == "sum" else 0], dtype=torch.int64)}
        case.update(run_both({"logits": logits, "targets": targets}, {"loss": dloss.reshape(())},
                             fn, ["logits"]))
        # float32 gradient when the loss is NaN (all rows ignored) is zero; keep the keys anyway
        cases.append(case)
    write_fixture("fused_cross_entropy", store(cases), {"cases": len(cases)})


# --- RMSNorm (Hugging Face LlamaRMSNorm, float32 path) ------------------------------------------

def rms_norm_cases():
    cases = []
    eps = 1e-5
    for n, c in ((1, 16), (3, 257), (17, 33)):
        x = randn(n, c)
        weight = (1.0 + randn(c, scale=0.2))
        dy = randn(n, c)

        def fn(t):
            x_ = t["x"]
            variance = x_.pow(2).mean(-1, keepdim=True)
            rstd = torch.rsqrt(variance + eps)
            return {"y": t["weight"] * (x_ * rstd), "rstd": rstd.squeeze(-1)}

        case = {"x": x, "weight": weight, "dy": dy, "eps": torch.tensor([eps], dtype=torch.float64)}
        case.update(run_both({"x": x, "weight": weight}, {"y": dy}, fn, ["x", "weight"]))
        cases.append(case)
    write_fixture("fused_rms_norm", store(cases), {"cases": len(cases)})


# --- SwiGLU --------------------------------------------------------------------------------------

def swiglu_cases():
    cases = []
    for n, i in ((1, 16), (3, 33), (17, 65)):
        gate = randn(n, i, scale=2.0)
        up = randn(n, i)
        dout = randn(n, i)

        def fn(t):
            return {"out": F.silu(t["gate"]) * t["up"]}

        case = {"gate": gate, "up": up, "dout": dout}
        case.update(run_both({"gate": gate, "up": up}, {"out": dout}, fn, ["gate", "up"]))
        cases.append(case)
    write_fixture("fused_swiglu", store(cases), {"cases": len(cases)})


# --- RoPE (rotate-half convention of Hugging Face Llama) -----------------------------------------

def rope_tables(head_size, max_positions, theta=10000.0):
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_size, 2, dtype=torch.float64) / head_size))
    freqs = torch.outer(torch.arange(max_positions, dtype=torch.float64), inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos().float(), emb.sin().float()


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def rope_cases():
    cases = []
    # (B, NH, T, HS, T_max, position mode): "offset" uses offset + t, "ids" explicit position ids
    for b, nh, t, hs, t_max, mode in ((2, 3, 5, 16, 40, "offset"), (1, 4, 33, 34, 64, "ids"),
                                      (2, 2, 1, 16, 40, "ids")):
        x = randn(b, nh, t, hs)
        dout = randn(b, nh, t, hs)
        cos, sin = rope_tables(hs, t_max)
        if mode == "offset":
            offset = 7
            positions = (torch.arange(t) + offset).unsqueeze(0).expand(b, t).contiguous()
        else:
            offset = 0
            positions = torch.randint(0, t_max, (b, t), generator=GEN)

        def fn(tt, positions=positions):
            c = tt["cos"][positions].unsqueeze(1)  # [B, 1, T, HS]
            s = tt["sin"][positions].unsqueeze(1)
            return {"out": tt["x"] * c + rotate_half(tt["x"]) * s}

        case = {"x": x, "dout": dout, "cos": cos, "sin": sin, "positions": positions.to(torch.int64),
                "offset": torch.tensor([offset if mode == "offset" else -1], dtype=torch.int64)}
        case.update(run_both({"x": x, "cos": cos, "sin": sin}, {"out": dout}, fn, ["x"]))
        cases.append(case)
    write_fixture("fused_rope", store(cases), {"cases": len(cases)})


# --- causal attention with grouped-query heads ----------------------------------------------------

def attention_reference(q, k, v, scale, mask):
    """Plain softmax(Q K^T * scale + mask) V; a row with every key masked gives zeros."""
    nh, nkv = q.shape[1], k.shape[1]
    k = k.repeat_interleave(nh // nkv, dim=1)
    v = v.repeat_interleave(nh // nkv, dim=1)
    tq, tk = q.shape[2], k.shape[2]
    scores = q @ k.transpose(-1, -2) * scale
    i = torch.arange(tq).unsqueeze(1)
    j = torch.arange(tk).unsqueeze(0)
    allowed = (j <= i + (tk - tq)).expand(q.shape[0], 1, tq, tk)
    if mask is not None:
        scores = scores + mask.unsqueeze(1).to(scores.dtype)
    scores = scores.masked_fill(~allowed, float("-inf"))
    row_max = scores.amax(dim=-1, keepdim=True).detach()
    row_max = torch.where(torch.isfinite(row_max), row_max, torch.zeros_like(row_max))
    e = torch.exp(scores - row_max)
    total = e.sum(dim=-1, keepdim=True)
    p = e / torch.where(total > 0, total, torch.ones_like(total))
    lse = (torch.log(total) + row_max).squeeze(-1)
    return p @ v, lse


def attention_cases():
    cases = []
    # (B, NH, NKV, Tq, Tk, HS, custom scale, with mask)
    for b, nh, nkv, tq, tk, hs, scale, masked in ((2, 4, 4, 5, 5, 16, None, False),
                                                  (1, 4, 2, 33, 33, 34, None, False),
                                                  (1, 6, 2, 1, 5, 16, None, False),
                                                  (2, 4, 2, 5, 33, 16, 0.3, False),
                                                  (2, 6, 2, 5, 5, 16, None, True)):
        q = randn(b, nh, tq, hs)
        k = randn(b, nkv, tk, hs)
        v = randn(b, nkv, tk, hs)
        dout = randn(b, nh, tq, hs)
        used_scale = scale if scale is not None else 1.0 / math.sqrt(hs)
        mask = None
        if masked:
            # additive mask [B, Tq, Tk]: some -inf entries, row 1 of batch 0 fully masked
            mask = torch.zeros(b, tq, tk, dtype=torch.float32)
            mask[torch.rand(b, tq, tk, generator=GEN) < 0.3] = float("-inf")
            mask[0, 1, :] = float("-inf")
            mask[1, 3, :] += randn(tk)

        def fn(t, used_scale=used_scale, mask=mask):
            out, lse = attention_reference(t["q"], t["k"], t["v"], used_scale, mask)
            return {"out": out, "lse": lse}

        case = {"q": q, "k": k, "v": v, "dout": dout,
                "shape": torch.tensor([b, nh, nkv, tq, tk, hs], dtype=torch.int64),
                "scale": torch.tensor([used_scale], dtype=torch.float64)}
        if mask is not None:
            case["mask"] = mask
        case.update(run_both({"q": q, "k": k, "v": v}, {"out": dout}, fn, ["q", "k", "v"]))
        cases.append(case)
    write_fixture("fused_attention", store(cases), {"cases": len(cases)})


if __name__ == "__main__":
    cross_entropy_cases()
    rms_norm_cases()
    swiglu_cases()
    rope_cases()
    attention_cases()
