"""Builds small Llama models in plain PyTorch and records their logits, loss and gradients.

The model follows the math of Hugging Face transformers' LlamaForCausalLM: RMSNorm, rotate-half
rotary embedding, grouped-query attention by repeating key/value heads, causal softmax attention,
a SwiGLU MLP, and optional tied embeddings and projection biases. It is written here from the
architecture's definition, so the fixtures do not depend on the transformers package, and it runs
in float64.

For each configuration it writes, under src/test/resources/fixtures/llama/<name>/:
- config.json and model.safetensors: a Hugging Face model directory with random weights;
- reference.safetensors: input_ids and labels of a fixed batch, the logits and loss computed in
  float64, and the gradient of the loss with respect to every parameter (stored as grad.<name>).
  For the configs in ACTIVATION_CONFIGS it also contains each layer's transitional activations
  [batch * seq, width]: act.attention.<layer>, the attention output before o_proj, and
  act.mlp.<layer>, silu(gate_proj(x)) * up_proj(x) before down_proj.

Run with /usr/bin/python3 (Debian's python3-torch and python3-numpy).
"""

import json
import math
import os

import torch

from fixture_io import FIXTURE_DIR, write_fixture, write_safetensors

BATCH = 2
SEQ_LEN = 70  # longer than 64, so a rotary convention error shows in the logits
IGNORE_INDEX = -100

BASE = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "vocab_size": 97,
    "hidden_size": 32,
    "intermediate_size": 56,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 4,
    "max_position_embeddings": 128,
    "rms_norm_eps": 1e-5,
    "rope_theta": 10000.0,
    "hidden_act": "silu",
    "initializer_range": 0.1,
    "tie_word_embeddings": False,
    "attention_bias": False,
    "mlp_bias": False,
    "bos_token_id": 1,
    "eos_token_id": 2,
    "torch_dtype": "float32",
}

CONFIGS = {
    "mha": {},
    "gqa": {"num_key_value_heads": 2},
    "tied": {"tie_word_embeddings": True, "num_key_value_heads": 1},
    "rope_linear": {"rope_scaling": {"type": "linear", "factor": 2.0}},
    "rope_llama3": {
        # With head_dim 8 the wavelengths are about 6, 63, 628 and 6283 positions, so one pair is
        # kept, one smoothed and two divided by the factor: every branch of the llama3 rule runs.
        "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                         "high_freq_factor": 4.0, "original_max_position_embeddings": 128},
    },
    "bias": {"attention_bias": True, "mlp_bias": True, "num_key_value_heads": 2},
    # A head-pruned shape: 4 heads of 6 dimensions, so the attention's inner width (24) differs
    # from hidden_size (32).
    "head_dim": {"head_dim": 6, "mha_inter_size": 24, "num_key_value_heads": 2},
    # Weights stored as bfloat16. The reference runs in float64 on the rounded weights.
    "bf16": {"num_key_value_heads": 2, "torch_dtype": "bfloat16"},
    # A model pruned in rope=keep mode: heads of 6 dimensions keep 3 of the 4 rotary pairs of the
    # original 8, a different three per layer and kv head, each pair rotating at its original
    # frequency. Each query head rotates like the kv head of its group.
    "rope_keep": {
        "head_dim": 6, "mha_inter_size": 24, "num_key_value_heads": 2, "transact4j_rope": "keep",
        "rope_kept_frequencies": {"original_head_dim": 8,
                                  "per_layer_per_head": [[[0, 1, 3], [1, 2, 3]], [[0, 2, 3], [0, 1, 2]]]},
    },
}


# Configs whose reference also stores the transitional activations (kept to a few for size).
ACTIVATION_CONFIGS = ("gqa", "head_dim")


def head_dim(cfg):
    return cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]


def inverse_frequencies(cfg):
    """Rotary inverse frequencies, with the scaling types of transformers' modeling_rope_utils."""
    kept = cfg.get("rope_kept_frequencies")
    dim = kept["original_head_dim"] if kept else head_dim(cfg)
    inv_freq = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim))
    scaling = cfg.get("rope_scaling")
    if not scaling:
        return inv_freq
    kind = scaling.get("rope_type", scaling.get("type"))
    if kind == "linear":
        return inv_freq / scaling["factor"]
    if kind == "llama3":
        factor = scaling["factor"]
        low, high = scaling["low_freq_factor"], scaling["high_freq_factor"]
        old_context = scaling["original_max_position_embeddings"]
        low_freq_wavelen = old_context / low
        high_freq_wavelen = old_context / high
        wavelen = 2 * math.pi / inv_freq
        scaled = torch.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
        smooth = (old_context / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * scaled / factor + smooth * scaled
        medium = (wavelen >= high_freq_wavelen) & (wavelen <= low_freq_wavelen)
        return torch.where(medium, smoothed, scaled)
    raise ValueError(f"unsupported rope type {kind}: expected linear or llama3")


def rotary_angles(cfg, seq, layer):
    """Angles [kv_heads, seq, head_dim] of one layer: each kv head's kept frequencies, twice."""
    positions = torch.arange(seq, dtype=torch.float64)
    inv_freq = inverse_frequencies(cfg)
    kept = cfg.get("rope_kept_frequencies")
    tables = []
    for kv_head in range(cfg["num_key_value_heads"]):
        frequencies = inv_freq
        if kept:
            frequencies = inv_freq[torch.tensor(kept["per_layer_per_head"][layer][kv_head])]
        freqs = torch.outer(positions, frequencies)
        tables.append(torch.cat((freqs, freqs), dim=-1))
    return torch.stack(tables)


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def rms_norm(x, weight, eps):
    variance = x.pow(2).mean(-1, keepdim=True)
    return weight * (x * torch.rsqrt(variance + eps))


def linear(params, name, x):
    out = x @ params[name + ".weight"].T
    if name + ".bias" in params:
        out = out + params[name + ".bias"]
    return out


def init_params(cfg, generator):
    hidden, inter = cfg["hidden_size"], cfg["intermediate_size"]
    heads, kv_heads, dim = cfg["num_attention_heads"], cfg["num_key_value_heads"], head_dim(cfg)
    std = cfg["initializer_range"]

    def normal(*shape):
        return torch.randn(*shape, generator=generator, dtype=torch.float64) * std

    def norm_weight(n):
        # Around one, not exactly one, so a missing weight multiplication shows.
        return 1.0 + 0.1 * torch.randn(n, generator=generator, dtype=torch.float64)

    params = {"model.embed_tokens.weight": normal(cfg["vocab_size"], hidden)}
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        shapes = {
            "self_attn.q_proj": (heads * dim, hidden),
            "self_attn.k_proj": (kv_heads * dim, hidden),
            "self_attn.v_proj": (kv_heads * dim, hidden),
            "self_attn.o_proj": (hidden, heads * dim),
            "mlp.gate_proj": (inter, hidden),
            "mlp.up_proj": (inter, hidden),
            "mlp.down_proj": (hidden, inter),
        }
        for name, shape in shapes.items():
            params[p + name + ".weight"] = normal(*shape)
            is_attention = name.startswith("self_attn")
            if (is_attention and cfg["attention_bias"]) or (not is_attention and cfg["mlp_bias"]):
                params[p + name + ".bias"] = normal(shape[0])
        params[p + "input_layernorm.weight"] = norm_weight(hidden)
        params[p + "post_attention_layernorm.weight"] = norm_weight(hidden)
    params["model.norm.weight"] = norm_weight(hidden)
    if not cfg["tie_word_embeddings"]:
        params["lm_head.weight"] = normal(cfg["vocab_size"], hidden)
    return params


def forward(cfg, params, input_ids, activations=None):
    batch, seq = input_ids.shape
    heads, kv_heads, dim = cfg["num_attention_heads"], cfg["num_key_value_heads"], head_dim(cfg)
    eps = cfg["rms_norm_eps"]

    group = heads // kv_heads
    causal = torch.full((seq, seq), float("-inf"), dtype=torch.float64).triu(1)

    x = params["model.embed_tokens.weight"][input_ids]
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."

        # attention block
        h = rms_norm(x, params[p + "input_layernorm.weight"], eps)
        q = linear(params, p + "self_attn.q_proj", h).view(batch, seq, heads, dim).transpose(1, 2)
        k = linear(params, p + "self_attn.k_proj", h).view(batch, seq, kv_heads, dim).transpose(1, 2)
        v = linear(params, p + "self_attn.v_proj", h).view(batch, seq, kv_heads, dim).transpose(1, 2)
        angles = rotary_angles(cfg, seq, i)
        cos, sin = angles.cos(), angles.sin()
        k = k * cos + rotate_half(k) * sin
        cos, sin = cos.repeat_interleave(group, dim=0), sin.repeat_interleave(group, dim=0)
        q = q * cos + rotate_half(q) * sin
        k = k.repeat_interleave(group, dim=1)
        v = v.repeat_interleave(group, dim=1)
        scores = q @ k.transpose(-1, -2) / math.sqrt(dim) + causal
        attn = torch.softmax(scores, dim=-1) @ v
        attn = attn.transpose(1, 2).reshape(batch, seq, heads * dim)
        if activations is not None:
            activations[f"act.attention.{i}"] = attn.reshape(batch * seq, heads * dim)
        x = x + linear(params, p + "self_attn.o_proj", attn)

        # mlp block
        h = rms_norm(x, params[p + "post_attention_layernorm.weight"], eps)
        act = torch.nn.functional.silu(linear(params, p + "mlp.gate_proj", h)) * linear(params, p + "mlp.up_proj", h)
        if activations is not None:
            activations[f"act.mlp.{i}"] = act.reshape(batch * seq, -1)
        x = x + linear(params, p + "mlp.down_proj", act)

    x = rms_norm(x, params["model.norm.weight"], eps)
    head = params["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else params["lm_head.weight"]
    return x @ head.T


def causal_lm_loss(logits, labels):
    """Mean cross-entropy of each position predicting the next label, as LlamaForCausalLM does."""
    shifted_logits = logits[:, :-1, :].reshape(-1, logits.shape[-1])
    shifted_labels = labels[:, 1:].reshape(-1)
    return torch.nn.functional.cross_entropy(shifted_logits, shifted_labels, ignore_index=IGNORE_INDEX)


def make(name, overrides, seed):
    cfg = dict(BASE)
    cfg.update(overrides)
    generator = torch.Generator().manual_seed(seed)
    params = init_params(cfg, generator)
    stored_bf16 = cfg["torch_dtype"] == "bfloat16"
    if stored_bf16:
        params = {k: v.to(torch.bfloat16).to(torch.float64) for k, v in params.items()}

    input_ids = torch.randint(0, cfg["vocab_size"], (BATCH, SEQ_LEN), generator=generator)
    labels = input_ids.clone()
    labels[0, 5:9] = IGNORE_INDEX  # ignored targets inside a sequence
    labels[1, -1] = IGNORE_INDEX

    for tensor in params.values():
        tensor.requires_grad_(True)
    activations = {}
    logits = forward(cfg, params, input_ids, activations)
    loss = causal_lm_loss(logits, labels)
    loss.backward()

    directory = os.path.join(FIXTURE_DIR, "llama", name)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")
    stored = {k: (v.detach().to(torch.bfloat16) if stored_bf16 else v.detach().float()) for k, v in params.items()}
    write_safetensors(os.path.join(directory, "model.safetensors"), stored, {"format": "pt"})

    reference = {
        "input_ids": input_ids,
        "labels": labels,
        "logits": logits.detach().float(),
        "loss": loss.detach().reshape(1),
    }
    for k, v in params.items():
        reference["grad." + k] = v.grad.float()
    if name in ACTIVATION_CONFIGS:
        for k, v in activations.items():
            reference[k] = v.detach().float()
    write_fixture(os.path.join("llama", name, "reference"), reference, {"config": name, "seed": seed})


def main():
    torch.set_num_threads(1)
    for seed, (name, overrides) in enumerate(CONFIGS.items()):
        make(name, overrides, 1000 + seed)


if __name__ == "__main__":
    main()
