"""Writes fixtures/autograd_ops.safetensors: PyTorch outputs and input gradients for every differentiable op.

Each case is one op (or a short chain of views) applied to float32 leaf tensors. For case NAME the
file stores:
  NAME.x0, NAME.x1, ...   the differentiable inputs (F32),
  NAME.c0, NAME.c1, ...   constant tensors such as masks and rotary tables (F32),
  NAME.i0, NAME.i1, ...   index arrays (I64),
  NAME.upstream           a random gradient of the output (F32),
  NAME.out                the output (F64),
  NAME.dx0, NAME.dx1, ... the gradient of sum(out * upstream) with respect to each input (F64).
The reference is computed in float64 from the stored float32 values, so the Java test
(AutogradTorchFixtureTest) picks its own tolerance. The Java test builds the same computation
for each case from a table, and also checks it by central finite differences, so the inputs stay
a finite-difference step away from kinks and ties: abs and relu inputs are away from zero,
maximum and minimum operands sit on two grids half a spacing apart, and reduced max and min
inputs are distinct values.
"""

import math

import torch
import torch.nn.functional as F

from fixture_io import write_fixture

F64 = torch.float64
GEN = torch.Generator().manual_seed(20261204)


def randn(*shape):
    return torch.randn(*shape, generator=GEN)


def positive(*shape):
    """Uniform in [0.5, 2), for log, sqrt, rsqrt, pow bases and divisors."""
    return torch.rand(*shape, generator=GEN) * 1.5 + 0.5


def away_from_zero(*shape):
    """|x| in [0.2, 2.2) with a random sign, away from the kinks of abs and relu."""
    magnitude = torch.rand(*shape, generator=GEN) * 2 + 0.2
    sign = torch.randint(0, 2, shape, generator=GEN) * 2 - 1
    return magnitude * sign


def grid(*shape, offset=0.0):
    """Multiples of 0.1 in [-2, 2] plus offset: operands with offsets 0 and 0.05 stay at least 0.05 apart."""
    return torch.randint(-20, 21, shape, generator=GEN).float() * 0.1 + offset


def distinct(*shape):
    """A shuffled ramp with steps of 0.05, so no max or min is within a finite-difference step of a tie."""
    n = math.prod(shape)
    ramp = (torch.arange(n, dtype=torch.float32) - n // 2) * 0.05
    return ramp[torch.randperm(n, generator=GEN)].reshape(shape)


def index(high, *shape):
    return torch.randint(0, high, shape, generator=GEN)


def rope_tables(positions, head_size, theta=10000.0):
    """Hugging Face Llama's cos and sin tables [positions, head_size], rounded to float32."""
    inv_freq = 1.0 / theta ** (torch.arange(0, head_size, 2, dtype=F64) / head_size)
    freqs = torch.outer(torch.arange(positions, dtype=F64), inv_freq)
    emb = torch.cat([freqs, freqs], dim=-1)
    return emb.cos().float(), emb.sin().float()


def rope(x, cos, sin, positions):
    """Rotate x [B, NH, T, HS] in the rotate-half convention, at positions [B, T]."""
    c = cos[positions].unsqueeze(1)
    s = sin[positions].unsqueeze(1)
    half = x.shape[-1] // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    return x * c + rotated * s


def causal_attention(q, k, v, mask, scale):
    """softmax(q k^T * scale + mask + causal) v, each key/value head shared by NH / NKV query heads."""
    b, nh, tq, hs = q.shape
    nkv, tk = k.shape[1], k.shape[2]
    group = nh // nkv
    kr = k.repeat_interleave(group, dim=1)
    vr = v.repeat_interleave(group, dim=1)
    scores = q @ kr.transpose(-1, -2) * scale
    if mask is not None:
        scores = scores + mask.unsqueeze(1)
    # query t is key step tk - tq + t and attends to the keys up to that step
    allowed = torch.ones(tq, tk, dtype=torch.bool).tril(tk - tq)
    scores = scores.masked_fill(~allowed, float("-inf"))
    return scores.softmax(-1) @ vr


CASES = {}


def case(name, fn, inputs, consts=(), indices=()):
    """Record case `name`, whose output is fn(inputs in float64, consts in float64, indices)."""
    CASES[name] = (fn, [t.float() for t in inputs], [t.float() for t in consts], [t.long() for t in indices])


def define_cases():
    # element-wise, binary with broadcasting
    case("add", lambda x, c, i: x[0] + x[1], [randn(3, 1, 17), randn(4, 17)])
    case("add size 1", lambda x, c, i: x[0] + x[1], [randn(3, 33), randn(1)])
    case("sub", lambda x, c, i: x[0] - x[1], [randn(4, 1), randn(3, 1, 17)])
    case("mul", lambda x, c, i: x[0] * x[1], [randn(3, 1, 17), randn(4, 17)])
    case("div", lambda x, c, i: x[0] / x[1], [randn(3, 1, 17), positive(4, 17)])
    case("pow", lambda x, c, i: x[0] ** x[1], [positive(3, 17), randn(1, 17)])
    case("maximum", lambda x, c, i: torch.maximum(x[0], x[1]), [grid(3, 1, 17), grid(4, 17, offset=0.05)])
    case("minimum", lambda x, c, i: torch.minimum(x[0], x[1]), [grid(4, 1), grid(3, 4, 17, offset=0.05)])

    # element-wise with a scalar
    case("add scalar", lambda x, c, i: x[0] + 0.75, [randn(3, 17)])
    case("sub scalar", lambda x, c, i: x[0] - 1.25, [randn(3, 17)])
    case("mul scalar", lambda x, c, i: x[0] * -1.5, [randn(3, 17)])
    case("div scalar", lambda x, c, i: x[0] / 3.0, [randn(3, 17)])
    case("pow scalar", lambda x, c, i: x[0] ** 2.5, [positive(3, 17)])
    case("pow scalar negative", lambda x, c, i: x[0] ** -1.5, [positive(17)])
    case("maximum scalar", lambda x, c, i: torch.clamp_min(x[0], 0.25), [grid(3, 17)])
    case("minimum scalar", lambda x, c, i: torch.clamp_max(x[0], -0.25), [grid(3, 17)])

    # element-wise, unary
    case("neg", lambda x, c, i: -x[0], [randn(3, 33)])
    case("exp", lambda x, c, i: x[0].exp(), [randn(3, 33)])
    case("log", lambda x, c, i: x[0].log(), [positive(3, 33)])
    case("sqrt", lambda x, c, i: x[0].sqrt(), [positive(3, 33)])
    case("rsqrt", lambda x, c, i: x[0].rsqrt(), [positive(3, 33)])
    case("abs", lambda x, c, i: x[0].abs(), [away_from_zero(3, 33)])
    case("sigmoid", lambda x, c, i: x[0].sigmoid(), [randn(3, 33)])
    case("silu", lambda x, c, i: F.silu(x[0]), [randn(3, 33)])
    case("tanh", lambda x, c, i: x[0].tanh(), [randn(3, 33)])
    case("relu", lambda x, c, i: x[0].relu(), [away_from_zero(3, 33)])

    # views
    case("view", lambda x, c, i: x[0].view(17, 3), [randn(3, 17)])
    case("reshape", lambda x, c, i: x[0].reshape(-1, 3, 1), [randn(1, 3, 17)])
    case("reshape of transpose", lambda x, c, i: x[0].transpose(0, 1).reshape(51), [randn(3, 17)])
    case("transpose", lambda x, c, i: x[0].transpose(0, 2), [randn(3, 1, 17)])
    case("permute", lambda x, c, i: x[0].permute(2, 0, 1), [randn(3, 5, 17)])
    case("narrow", lambda x, c, i: x[0].narrow(1, 4, 9), [randn(3, 17)])
    case("slice", lambda x, c, i: x[0][:, 1:-1], [randn(3, 17)])
    case("select", lambda x, c, i: x[0].select(1, 2), [randn(3, 5, 17)])
    case("unsqueeze", lambda x, c, i: x[0].unsqueeze(1), [randn(3, 17)])
    case("squeeze", lambda x, c, i: x[0].squeeze(), [randn(3, 1, 17, 1)])
    case("squeeze dim", lambda x, c, i: x[0].squeeze(1), [randn(3, 1, 17)])
    case("expand", lambda x, c, i: x[0].expand(2, 3, 17), [randn(3, 1)])
    case("flatten of permute", lambda x, c, i: x[0].permute(1, 0, 2).flatten(), [randn(3, 5, 17)])
    case("contiguous of transpose", lambda x, c, i: x[0].t().contiguous(), [randn(3, 17)])
    case("copy", lambda x, c, i: x[0].clone() * x[0], [randn(33)])
    case("view of a view", lambda x, c, i: x[0].transpose(0, 1).narrow(0, 2, 11).select(2, 1).unsqueeze(0),
         [randn(3, 17, 5)])

    # reductions
    case("sum dims keepdim", lambda x, c, i: x[0].sum(dim=(0, 2), keepdim=True), [randn(3, 5, 17)])
    case("sum dim", lambda x, c, i: x[0].sum(dim=1), [randn(3, 5, 17)])
    case("sum all", lambda x, c, i: x[0].sum(), [randn(3, 17)])
    case("mean dims keepdim", lambda x, c, i: x[0].mean(dim=(1, 2), keepdim=True), [randn(3, 5, 17)])
    case("mean dim", lambda x, c, i: x[0].mean(dim=-1), [randn(3, 33)])
    case("mean all", lambda x, c, i: x[0].mean(), [randn(3, 17)])
    case("amax dims", lambda x, c, i: x[0].amax(dim=(0, 2)), [distinct(3, 5, 7)])
    case("amax dim keepdim", lambda x, c, i: x[0].amax(dim=1, keepdim=True), [distinct(3, 17)])
    case("max values", lambda x, c, i: x[0].max(dim=1).values, [distinct(3, 17)])
    case("max values keepdim", lambda x, c, i: x[0].max(dim=0, keepdim=True).values, [distinct(3, 17)])
    case("max all", lambda x, c, i: x[0].max(), [distinct(3, 17)])
    case("min all", lambda x, c, i: x[0].min(), [distinct(3, 17)])
    case("norm dims keepdim", lambda x, c, i: torch.linalg.vector_norm(x[0], dim=(0, 2), keepdim=True),
         [randn(3, 5, 17)])
    case("norm dim", lambda x, c, i: torch.linalg.vector_norm(x[0], dim=1), [randn(3, 33)])
    case("norm all", lambda x, c, i: torch.linalg.vector_norm(x[0]), [randn(3, 17)])

    # softmax, with a mask that leaves every row at least one entry and row 1 only one
    mask = torch.rand(5, 17, generator=GEN) < 0.4
    mask[0] = False
    mask[1] = True
    mask[1, 7] = False
    case("softmax", lambda x, c, i: x[0].softmax(-1), [randn(3, 33) * 3])
    case("logSoftmax", lambda x, c, i: x[0].log_softmax(-1), [randn(3, 33) * 3])
    case("softmax masked", lambda x, c, i: x[0].masked_fill(c[0] != 0, float("-inf")).softmax(-1),
         [randn(5, 17)], consts=[mask])
    case("logSoftmax masked", lambda x, c, i: x[0].masked_fill(c[0] != 0, float("-inf")).log_softmax(-1),
         [randn(5, 17)], consts=[mask])

    # indexing and joining
    case("indexSelect rows", lambda x, c, i: x[0].index_select(0, i[0]), [randn(7, 17)],
         indices=[torch.tensor([3, 0, 6, 3, 1])])
    case("indexSelect columns", lambda x, c, i: x[0].index_select(1, i[0]), [randn(3, 17)],
         indices=[index(17, 33)])
    case("gather", lambda x, c, i: x[0].gather(1, i[0]), [randn(3, 17)], indices=[index(17, 3, 5)])
    case("gather dim 0", lambda x, c, i: x[0].gather(0, i[0]), [randn(3, 17)], indices=[index(3, 5, 17)])
    case("scatterAdd", lambda x, c, i: x[0].scatter_add(1, i[0], x[1]), [randn(3, 17), randn(3, 33)],
         indices=[index(17, 3, 33)])
    case("concat", lambda x, c, i: torch.cat([x[0], x[1], x[0]], dim=1), [randn(3, 1), randn(3, 17)])
    case("stack", lambda x, c, i: torch.stack([x[0], x[1], x[2]], dim=1), [randn(3, 17), randn(3, 17), randn(3, 17)])
    case("where", lambda x, c, i: torch.where(c[0] != 0, x[0], x[1]), [randn(3, 17), randn(17)],
         consts=[(torch.rand(3, 1, generator=GEN) < 0.5) | (torch.rand(17, generator=GEN) < 0.3)])
    case("maskedFill", lambda x, c, i: x[0].masked_fill(c[0] != 0, 2.5), [randn(3, 17)],
         consts=[torch.rand(1, 17, generator=GEN) < 0.5])
    case("triu", lambda x, c, i: x[0].triu(1), [randn(2, 5, 7)])
    case("tril", lambda x, c, i: x[0].tril(-1), [randn(7, 5)])

    # matmul
    case("matmul 2-D", lambda x, c, i: x[0] @ x[1], [randn(3, 17), randn(17, 5)])
    case("matmul batched broadcast", lambda x, c, i: x[0] @ x[1], [randn(2, 1, 3, 17), randn(3, 17, 5)])
    case("matmul vector vector", lambda x, c, i: x[0] @ x[1], [randn(33), randn(33)])
    case("matmul vector matrix", lambda x, c, i: x[0] @ x[1], [randn(17), randn(2, 17, 3)])
    case("matmul matrix vector", lambda x, c, i: x[0] @ x[1], [randn(2, 3, 17), randn(17)])
    case("matmul transposed", lambda x, c, i: x[0].t() @ x[1].t(), [randn(17, 3), randn(5, 17)])

    # Functional
    case("linear", lambda x, c, i: F.linear(x[0], x[1], x[2]), [randn(2, 3, 17), randn(5, 17) * 0.3, randn(5)])
    case("linear vector input", lambda x, c, i: F.linear(x[0], x[1], x[2]), [randn(17), randn(3, 17) * 0.3, randn(3)])
    case("linear without bias", lambda x, c, i: F.linear(x[0], x[1]), [randn(3, 17), randn(1, 17) * 0.3])
    case("rmsNorm", lambda x, c, i: x[0] * torch.rsqrt(x[0].pow(2).mean(-1, keepdim=True) + 1e-5) * x[1],
         [randn(3, 33), randn(33)])
    case("swiglu", lambda x, c, i: F.silu(x[0]) * x[1], [randn(3, 33), randn(3, 33)])
    targets = index(17, 5)
    targets[2] = -100
    case("crossEntropy", lambda x, c, i: F.cross_entropy(x[0], i[0], ignore_index=-100), [randn(5, 17) * 2],
         indices=[targets])
    case("crossEntropy normaliser",
         lambda x, c, i: F.cross_entropy(x[0], i[0], ignore_index=-100, reduction="sum") / 7.0,
         [randn(5, 17) * 2], indices=[targets])
    case("crossEntropy all ignored", lambda x, c, i: F.cross_entropy(x[0], i[0], ignore_index=-100),
         [randn(3, 17)], indices=[torch.full((3,), -100)])
    cos, sin = rope_tables(9, 6)
    case("rope offset", lambda x, c, i: rope(x[0], c[0], c[1], torch.arange(2, 5).expand(2, 3)),
         [randn(2, 3, 3, 6)], consts=[cos, sin])
    case("rope positionIds", lambda x, c, i: rope(x[0], c[0], c[1], i[0]), [randn(2, 3, 3, 6)],
         consts=[cos, sin], indices=[torch.tensor([[5, 0, 3], [8, 8, 1]])])
    scale = 1 / math.sqrt(5)
    case("causalAttention", lambda x, c, i: causal_attention(x[0], x[1], x[2], None, scale),
         [randn(2, 4, 3, 5), randn(2, 2, 5, 5), randn(2, 2, 5, 5)])
    padding = torch.zeros(2, 3, 5)
    padding[1, :, :2] = float("-inf")
    case("causalAttention masked", lambda x, c, i: causal_attention(x[0], x[1], x[2], c[0], scale),
         [randn(2, 4, 3, 5), randn(2, 1, 5, 5), randn(2, 1, 5, 5)], consts=[padding])
    case("causalAttention square", lambda x, c, i: causal_attention(x[0], x[1], x[2], None, 0.5),
         [randn(1, 3, 17, 1), randn(1, 1, 17, 1), randn(1, 1, 17, 1)])
    case("embedding", lambda x, c, i: F.embedding(i[0], x[0]), [randn(7, 17)],
         indices=[torch.tensor([[3, 0, 6], [3, 3, 1]])])


def main():
    define_cases()
    tensors = {}
    for name, (fn, inputs, consts, indices) in CASES.items():
        leaves = [t.to(F64).requires_grad_(True) for t in inputs]
        out = fn(leaves, [t.to(F64) for t in consts], indices)
        upstream = torch.randn(out.shape, generator=GEN)
        out.backward(upstream.to(F64))
        tensors[name + ".out"] = out.detach()
        tensors[name + ".upstream"] = upstream
        for k, (x, leaf) in enumerate(zip(inputs, leaves)):
            tensors[f"{name}.x{k}"] = x
            tensors[f"{name}.dx{k}"] = leaf.grad
        for k, c in enumerate(consts):
            tensors[f"{name}.c{k}"] = c
        for k, ix in enumerate(indices):
            tensors[f"{name}.i{k}"] = ix
    path = write_fixture("autograd_ops", tensors, metadata={"script": "make_autograd_fixtures.py",
                                                            "cases": len(CASES)})
    print(f"{path}: {len(CASES)} cases")


if __name__ == "__main__":
    main()
