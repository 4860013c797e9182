"""Writes fixtures/tensor_ops.safetensors: PyTorch results for the tensor core's ops and gradients.

Covers broadcasting arithmetic, reductions, softmax and log-softmax (including a fully masked row),
batched matmul with broadcast batch dims, and the gradients of a small network loss built from
index select, matmul, SiLU, log-softmax and gather. Values are float32 inputs with float64
references computed from them, so the Java test picks its own tolerance.
"""

import torch

from fixture_io import write_fixture


def main():
    torch.manual_seed(1234)
    f64 = torch.float64

    # element-wise with broadcasting: [3, 1, 17] against [4, 17]
    a = torch.randn(3, 1, 17)
    b = torch.randn(4, 17)
    positive = torch.rand(4, 17) + 0.5

    # softmax over the last dim, one row fully masked and one partly masked
    logits = torch.randn(5, 33) * 8
    logits[1, :] = float("-inf")
    logits[3, ::2] = float("-inf")

    # batched matmul: [2, 1, 15, 17] @ [3, 17, 33]
    m1 = torch.randn(2, 1, 15, 17)
    m2 = torch.randn(3, 17, 33)

    # a small network: embedding lookup, linear, SiLU, linear, log-softmax, gather, mean
    emb = torch.randn(11, 8)
    w1 = torch.randn(8, 17) * 0.3
    b1 = torch.randn(17) * 0.1
    w2 = torch.randn(17, 5) * 0.3
    ids = torch.tensor([3, 0, 7, 3, 10, 1], dtype=torch.int64)
    targets = torch.tensor([[1], [4], [0], [2], [2], [3]], dtype=torch.int64)
    leaves = [t.to(f64).requires_grad_(True) for t in (emb, w1, b1, w2)]
    e, p1, q1, p2 = leaves
    hidden = torch.nn.functional.silu(e.index_select(0, ids) @ p1 + q1)
    loss = -torch.log_softmax(hidden @ p2, dim=-1).gather(1, targets).mean()
    loss.backward()

    x = a.to(f64)
    y = b.to(f64)
    write_fixture("tensor_ops", {
        "a": a, "b": b, "positive": positive,
        "add": x + y, "mul": x * y, "div": x / positive.to(f64), "pow": positive.to(f64) ** y,
        "maximum": torch.maximum(x, y),
        "sum_0_2": (x * y).sum(dim=(0, 2), keepdim=True),
        "mean_1": (x * y).mean(dim=1),
        "amax_0": torch.amax(x * y, dim=0),
        "norm_2": torch.linalg.vector_norm(x * y, dim=2),
        "logits": logits,
        # PyTorch gives NaN for the fully masked row; the tensor core defines 0 and -inf there
        "softmax": torch.nan_to_num(torch.softmax(logits.to(f64), dim=-1), nan=0.0),
        "log_softmax": torch.nan_to_num(torch.log_softmax(logits.to(f64), dim=-1), nan=float("-inf"),
                                        neginf=float("-inf")),
        "m1": m1, "m2": m2, "matmul": m1.to(f64) @ m2.to(f64),
        "emb": emb, "w1": w1, "b1": b1, "w2": w2, "ids": ids, "targets": targets,
        "loss": loss.detach(),
        "d_emb": e.grad, "d_w1": p1.grad, "d_b1": q1.grad, "d_w2": p2.grad,
    }, metadata={"script": "make_tensor_fixtures.py"})


if __name__ == "__main__":
    main()
