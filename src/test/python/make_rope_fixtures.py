"""Write rotary embedding references: inverse frequencies, attention scaling and cos/sin tables.

The formulas follow transformers' modeling_rope_utils (the `_compute_*_parameters` functions of
transformers 4.4x-5.x) and LlamaRotaryEmbedding, written out here independently. Each config is
computed twice:

* `*_f64`: every step in float64 (the Java tables compute angles in double), the exact values the Java tables should match;
* `*_f32`: the transformers path, in float32, to show how far it drifts at large positions.

Each case stores its config.json text in the metadata under `config.<case>`, and the dynamic
cases their sequence length under `seq_len.<case>`, so the Java test builds the same config.
"""

import json
import math

import torch

from fixture_io import write_fixture

POSITIONS = [0, 1, 2, 3, 17, 255, 1000, 2047, 4095, 4096, 8191, 32767, 65535, 131071, 500000]


def llama_config(hidden, heads, theta, max_positions, scaling=None):
    return {
        "vocab_size": 1000,
        "hidden_size": hidden,
        "intermediate_size": 2 * hidden,
        "num_hidden_layers": 2,
        "num_attention_heads": heads,
        "num_key_value_heads": heads,
        "max_position_embeddings": max_positions,
        "rope_theta": theta,
        "rope_scaling": scaling,
    }


CASES = {
    "default_theta1e4_d64": (llama_config(256, 4, 10000.0, 2048), None),
    "default_theta5e5_d128": (llama_config(512, 4, 500000.0, 8192), None),
    "linear_f4_d64": (llama_config(256, 4, 10000.0, 8192, {"rope_type": "linear", "factor": 4.0}), None),
    "dynamic_f2_d64_init": (llama_config(256, 4, 10000.0, 2048, {"type": "dynamic", "factor": 2.0}), None),
    "dynamic_f2_d64_len5000": (llama_config(256, 4, 10000.0, 2048, {"type": "dynamic", "factor": 2.0}), 5000),
    "dynamic_f4_d128_len1000": (llama_config(512, 4, 500000.0, 2048, {"rope_type": "dynamic", "factor": 4.0}), 1000),
    "llama3_d128": (llama_config(4096, 32, 500000.0, 131072, {
        "rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
        "original_max_position_embeddings": 8192}), None),
    "llama3_d64_f32": (llama_config(256, 4, 10000.0, 65536, {
        "rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0, "high_freq_factor": 8.0,
        "original_max_position_embeddings": 2048}), None),
    "yarn_f16_d128": (llama_config(4096, 32, 10000.0, 65536, {
        "type": "yarn", "factor": 16.0, "original_max_position_embeddings": 4096}), None),
    "yarn_mscale_d64": (llama_config(256, 4, 500000.0, 32768, {
        "rope_type": "yarn", "factor": 8.0, "original_max_position_embeddings": 4096, "beta_fast": 16.0,
        "beta_slow": 2.0, "mscale": 1.0, "mscale_all_dim": 0.5, "truncate": False}), None),
    "yarn_attention_factor_d64": (llama_config(256, 4, 10000.0, 16384, {
        "rope_type": "yarn", "factor": 4.0, "attention_factor": 1.5}), None),
}


def get_mscale(scale, mscale=1.0):
    if scale <= 1:
        return 1.0
    return 0.1 * mscale * math.log(scale) + 1.0


def exponents(dim, dtype):
    """Return 2i/dim for i in [0, dim/2), computed as transformers does (int arange, then divide)."""
    return torch.arange(0, dim, 2, dtype=torch.int64).to(dtype) / dim


def inverse_frequencies(config, seq_len, dtype):
    """Return (inverse frequencies, attention scaling) for one config."""
    theta = config["rope_theta"]
    dim = config["hidden_size"] // config["num_attention_heads"]
    max_positions = config["max_position_embeddings"]
    scaling = config["rope_scaling"] or {}
    rope_type = scaling.get("rope_type", scaling.get("type", "default"))

    if rope_type == "default":
        return 1.0 / (theta ** exponents(dim, dtype)), 1.0

    if rope_type == "linear":
        return 1.0 / (theta ** exponents(dim, dtype)) / scaling["factor"], 1.0

    if rope_type == "dynamic":
        factor = scaling["factor"]
        length = max(seq_len or max_positions, max_positions)
        base = theta * ((factor * length / max_positions) - (factor - 1)) ** (dim / (dim - 2))
        return 1.0 / (base ** exponents(dim, dtype)), 1.0

    if rope_type == "llama3":
        inv = 1.0 / (theta ** exponents(dim, dtype))
        factor = scaling["factor"]
        low = scaling["low_freq_factor"]
        high = scaling["high_freq_factor"]
        old_context = scaling["original_max_position_embeddings"]
        low_freq_wavelength = old_context / low
        high_freq_wavelength = old_context / high
        wavelength = 2 * math.pi / inv
        scaled = torch.where(wavelength > low_freq_wavelength, inv / factor, inv)
        smooth = (old_context / wavelength - low) / (high - low)
        smoothed = (1 - smooth) * scaled / factor + smooth * scaled
        medium = (wavelength >= high_freq_wavelength) & (wavelength <= low_freq_wavelength)
        return torch.where(medium, smoothed, scaled), 1.0

    if rope_type == "yarn":
        original = scaling.get("original_max_position_embeddings") or max_positions
        factor = scaling.get("factor") or max_positions / original
        attention = scaling.get("attention_factor")
        mscale = scaling.get("mscale")
        mscale_all_dim = scaling.get("mscale_all_dim")
        if attention is None:
            if mscale and mscale_all_dim:
                attention = get_mscale(factor, mscale) / get_mscale(factor, mscale_all_dim)
            else:
                attention = get_mscale(factor)
        beta_fast = scaling.get("beta_fast") or 32
        beta_slow = scaling.get("beta_slow") or 1

        def correction_dim(rotations):
            return dim * math.log(original / (rotations * 2 * math.pi)) / (2 * math.log(theta))

        low = correction_dim(beta_fast)
        high = correction_dim(beta_slow)
        if scaling.get("truncate", True):
            low, high = math.floor(low), math.ceil(high)
        low, high = max(low, 0), min(high, dim - 1)
        if low == high:
            high += 0.001
        ramp = torch.clamp((torch.arange(dim // 2, dtype=dtype) - low) / (high - low), 0, 1)
        extrapolation_weight = 1 - ramp
        powers = theta ** exponents(dim, dtype)
        inv = (1.0 / (factor * powers)) * (1 - extrapolation_weight) + (1.0 / powers) * extrapolation_weight
        return inv, attention

    raise ValueError(f"unknown rope type {rope_type}")


def tables(inv, attention, dtype):
    """Return cos and sin [positions, len(inv)] times the attention scaling.

    The rotate-half layout repeats these columns for the second half of the head
    (torch.cat([angles, angles], dim=-1) in transformers), so only the first half is stored.
    """
    positions = torch.tensor(POSITIONS, dtype=dtype)
    angles = positions[:, None] * inv[None, :]
    return torch.cos(angles) * attention, torch.sin(angles) * attention


def main():
    arrays = {"positions": torch.tensor(POSITIONS, dtype=torch.int64)}
    metadata = {}
    for case, (config, seq_len) in CASES.items():
        metadata["config." + case] = json.dumps(config)
        if seq_len is not None:
            metadata["seq_len." + case] = seq_len
        for suffix, dtype in (("f64", torch.float64), ("f32", torch.float32)):
            inv, attention = inverse_frequencies(config, seq_len, dtype)
            cos, sin = tables(inv.to(dtype), attention, dtype)
            arrays[f"{case}.inv_freq_{suffix}"] = inv.to(dtype)
            arrays[f"{case}.cos_half_{suffix}"] = cos
            arrays[f"{case}.sin_half_{suffix}"] = sin
        arrays[f"{case}.attention_scaling"] = torch.tensor([attention], dtype=torch.float64)
    print(write_fixture("rope", arrays, metadata))


if __name__ == "__main__":
    main()
