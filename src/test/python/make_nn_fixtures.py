"""Write the reference for the nn modules: a tiny Llama trained for three AdamW steps.

The model has the structure and parameter names of Hugging Face's LlamaForCausalLM, written out
with plain torch ops because transformers is not a dependency. It has a token embedding and one
pre-norm decoder layer: grouped-query self-attention (4 query heads, 2 key/value heads, head dim 4,
rotate-half RoPE with base 10000) and a SwiGLU MLP. A final RMSNorm (eps 1e-6) and an untied
lm_head follow. Weight matrices are drawn normal with std 0.2 and norm weights as 1 plus normal
noise with std 0.1, so that every term of the output matters.

fixtures/nn/tiny_llama.safetensors is the initial state dict in F32 under Hugging Face's names,
for the Java test to load through StateDicts. fixtures/nn_tiny_llama.safetensors holds:
  ids, targets           [2, 7] input ids and targets (one target set to -100, ignored)
  cos, sin               [7, 4] rotary tables for positions 0..6
  logits                 [14, 19] logits of the initial model
  loss                   mean cross entropy of the initial model
  grad/<name>            gradient of the loss for every parameter of the initial model
  step_loss              [3] loss before each AdamW step
  step_norm              [3] gradient norm before clipping to 1.0 at each step
  final/<name>           parameters after three steps of AdamW (lr 1e-2, betas (0.9, 0.999),
                         eps 1e-8, weight decay 0.1 on 2-D weights and 0 on norm weights)
"""

import math

import torch

from fixture_io import FIXTURE_DIR, write_fixture, write_safetensors

VOCAB, HIDDEN, INTER, HEADS, KV_HEADS = 19, 16, 33, 4, 2
HEAD_DIM = HIDDEN // HEADS
B, T = 2, 7
EPS = 1e-6
IGNORE = -100


def rms_norm(x, weight):
    variance = x.pow(2).mean(-1, keepdim=True)
    return weight * (x * torch.rsqrt(variance + EPS))


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def rope_tables():
    inv_freq = 1.0 / (10000 ** (torch.arange(0, HEAD_DIM, 2, dtype=torch.int64).float() / HEAD_DIM))
    freqs = torch.arange(T, dtype=torch.float32)[:, None] * inv_freq[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos(), emb.sin()


def forward(p, ids, cos, sin):
    h = p["model.embed_tokens.weight"][ids]
    pre = "model.layers.0."

    # attention block
    x = rms_norm(h, p[pre + "input_layernorm.weight"])
    q = (x @ p[pre + "self_attn.q_proj.weight"].T).view(B, T, HEADS, HEAD_DIM).transpose(1, 2)
    k = (x @ p[pre + "self_attn.k_proj.weight"].T).view(B, T, KV_HEADS, HEAD_DIM).transpose(1, 2)
    v = (x @ p[pre + "self_attn.v_proj.weight"].T).view(B, T, KV_HEADS, HEAD_DIM).transpose(1, 2)
    q = q * cos + rotate_half(q) * sin
    k = k * cos + rotate_half(k) * sin
    k = k.repeat_interleave(HEADS // KV_HEADS, dim=1)
    v = v.repeat_interleave(HEADS // KV_HEADS, dim=1)
    scores = q @ k.transpose(-1, -2) / math.sqrt(HEAD_DIM)
    future = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
    scores = scores.masked_fill(future, float("-inf"))
    a = (scores.softmax(-1) @ v).transpose(1, 2).reshape(B, T, HIDDEN)
    h = h + a @ p[pre + "self_attn.o_proj.weight"].T

    # MLP block
    x = rms_norm(h, p[pre + "post_attention_layernorm.weight"])
    gate = x @ p[pre + "mlp.gate_proj.weight"].T
    up = x @ p[pre + "mlp.up_proj.weight"].T
    h = h + (torch.nn.functional.silu(gate) * up) @ p[pre + "mlp.down_proj.weight"].T

    h = rms_norm(h, p["model.norm.weight"])
    return (h @ p["lm_head.weight"].T).reshape(B * T, VOCAB)


def main():
    g = torch.Generator().manual_seed(20261204)
    shapes = {
        "model.embed_tokens.weight": (VOCAB, HIDDEN),
        "model.layers.0.self_attn.q_proj.weight": (HEADS * HEAD_DIM, HIDDEN),
        "model.layers.0.self_attn.k_proj.weight": (KV_HEADS * HEAD_DIM, HIDDEN),
        "model.layers.0.self_attn.v_proj.weight": (KV_HEADS * HEAD_DIM, HIDDEN),
        "model.layers.0.self_attn.o_proj.weight": (HIDDEN, HEADS * HEAD_DIM),
        "model.layers.0.mlp.gate_proj.weight": (INTER, HIDDEN),
        "model.layers.0.mlp.up_proj.weight": (INTER, HIDDEN),
        "model.layers.0.mlp.down_proj.weight": (HIDDEN, INTER),
        "model.layers.0.input_layernorm.weight": (HIDDEN,),
        "model.layers.0.post_attention_layernorm.weight": (HIDDEN,),
        "model.norm.weight": (HIDDEN,),
        "lm_head.weight": (VOCAB, HIDDEN),
    }
    params = {}
    for name, shape in shapes.items():
        if len(shape) == 1:
            params[name] = (1.0 + 0.1 * torch.randn(shape, generator=g)).requires_grad_()
        else:
            params[name] = (0.2 * torch.randn(shape, generator=g)).requires_grad_()
    ids = torch.randint(0, VOCAB, (B, T), generator=g)
    targets = torch.randint(0, VOCAB, (B, T), generator=g)
    targets[1, 2] = IGNORE
    cos, sin = rope_tables()

    write_safetensors(FIXTURE_DIR + "/nn/tiny_llama.safetensors",
                      {n: p.detach().clone() for n, p in params.items()}, {"format": "pt"})

    logits = forward(params, ids, cos, sin)
    loss = torch.nn.functional.cross_entropy(logits, targets.reshape(-1), ignore_index=IGNORE)
    loss.backward()
    out = {
        "ids": ids.to(torch.int32), "targets": targets.to(torch.int32),
        "cos": cos, "sin": sin,
        "logits": logits.detach().double(), "loss": loss.detach().double().reshape(1),
    }
    for name, p in params.items():
        out["grad/" + name] = p.grad.double()

    decay = [p for p in params.values() if p.dim() >= 2]
    no_decay = [p for p in params.values() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                                   {"params": no_decay, "weight_decay": 0.0}],
                                  lr=1e-2, betas=(0.9, 0.999), eps=1e-8, foreach=False)
    losses, norms = [], []
    for _ in range(3):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(forward(params, ids, cos, sin), targets.reshape(-1),
                                                 ignore_index=IGNORE)
        loss.backward()
        norms.append(float(torch.nn.utils.clip_grad_norm_(list(params.values()), 1.0)))
        optimizer.step()
        losses.append(float(loss))
    out["step_loss"] = torch.tensor(losses, dtype=torch.float64)
    out["step_norm"] = torch.tensor(norms, dtype=torch.float64)
    for name, p in params.items():
        out["final/" + name] = p.detach().double()
    write_fixture("nn_tiny_llama", out)


if __name__ == "__main__":
    main()
