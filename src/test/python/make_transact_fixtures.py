"""Records TransAct pruning of small Llama models in PyTorch: scores, kept indices, pruned weights.

The model is the float64 Llama of make_llama_fixtures.py, run here with hooks that return the two
transitional activations of every layer: the attention output before o_proj ([tokens, heads *
head_dim]) and act(gate(x)) * up(x) before down_proj ([tokens, intermediate_size]). Weights are
rounded to float32 first, so the stored float32 weights are exact and slicing them is exact too.

Scores are computed from the float32-rounded activations (and the float32 weights and gradients
for the Taylor scorer), accumulated in float64. A Java scorer fed the stored float32 arrays then
matches them to rounding error, so a float32 rounding cannot flip a ranking.

Selection rules (written here independently of the Java code):
- heads: score = mean + (10 / head_dim) * max over the head's channels; keep ceil(target /
  head_dim) heads. With grouped-query attention a group (one kv head and its query heads) scores
  the sum of its query heads' scores and ceil(target / (group * head_dim)) whole groups are kept.
- head dims: new head_dim = ceil(target / heads) rounded up to even. Each kv head keeps the same
  dims for q, k and v, ranked by the per-dim score summed over its query heads. rope=recompute keeps
  the top dims in ascending order and rebuilds the rotary frequencies for the new head_dim;
  rope=keep ranks rotary pairs (d, d + head_dim / 2) by their summed score, keeps the top pairs in
  ascending order laid out as [firsts..., seconds...], and each pair keeps its original frequency.
- MLP: keep the top target channels in ascending order. Layers: keep the first target layers.
- Several shots: next = current - (current - target) // (shots - s + 1) for s = 1..shots, with the
  model re-scored after every shot.

Files under src/test/resources/fixtures/transact/:
- <model>/model.safetensors: the random model's parameters (float32) and its config (metadata);
- <scenario>.safetensors: per shot the calibration activations, the scores, the targets, the kept
  indices and the widths reached; the final pruned layer weights and the pruned model's logits.

Run with /usr/bin/python3 (Debian's python3-torch and python3-numpy).
"""

import json
import math

import torch

import make_llama_fixtures as llama
from fixture_io import write_fixture

CALIBRATION_BATCHES = 2
BATCH = 2
SEQ_LEN = 10

MODELS = {
    # Multi-head attention: 4 heads of 8 dims, inner width twice hidden_size.
    "mha": {"vocab_size": 41, "hidden_size": 16, "intermediate_size": 40, "num_hidden_layers": 3,
            "num_attention_heads": 4, "num_key_value_heads": 4, "head_dim": 8,
            "mha_inter_size": 32},
    # Grouped-query attention: 6 query heads in 3 groups of 2, head_dim 6, so the inner width (36)
    # differs from hidden_size (16). Projection biases, so the cuts of bias rows are checked too.
    "gqa": {"vocab_size": 41, "hidden_size": 16, "intermediate_size": 40, "num_hidden_layers": 3,
            "num_attention_heads": 6, "num_key_value_heads": 3, "head_dim": 6,
            "mha_inter_size": 36, "attention_bias": True, "mlp_bias": True},
}

# name -> model, scorer, attention mode, rope mode, target (mha width, mlp width, layers), shots
SCENARIOS = {
    "mha_heads": ("mha", "acts", "heads", "recompute", (20, 40, 3), 1),
    "mha_mlp_layers": ("mha", "acts", "heads", "recompute", (32, 23, 2), 1),
    "mha_dim_recompute": ("mha", "acts", "head_dim", "recompute", (18, 40, 3), 1),
    "mha_dim_keep": ("mha", "acts", "head_dim", "keep", (18, 40, 3), 1),
    "mha_shots": ("mha", "acts", "heads", "recompute", (8, 17, 3), 3),
    "mha_taylor": ("mha", "taylor", "heads", "recompute", (16, 25, 3), 1),
    "gqa_groups": ("gqa", "acts", "heads", "recompute", (20, 31, 3), 1),
    "gqa_dim_recompute": ("gqa", "acts", "head_dim", "recompute", (20, 40, 3), 1),
    "gqa_dim_keep_shots": ("gqa", "acts", "head_dim", "keep", (10, 29, 2), 3),
    "gqa_taylor": ("gqa", "taylor", "heads", "recompute", (12, 33, 3), 1),
}

PROJECTIONS = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
               "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"]


def make_config(overrides):
    cfg = dict(llama.BASE)
    cfg.update(overrides)
    return cfg


def rotary_tables(cfg, inv_freq, seq):
    """Return cos and sin of shape [heads, seq, head_dim] for inv_freq [kv_heads, head_dim / 2] or None."""
    heads, kv_heads, dim = cfg["num_attention_heads"], cfg["num_key_value_heads"], llama.head_dim(cfg)
    if inv_freq is None:
        inv_freq = llama.inverse_frequencies(cfg).expand(kv_heads, dim // 2)
    positions = torch.arange(seq, dtype=torch.float64)
    freqs = positions[None, :, None] * inv_freq[:, None, :]
    angles = torch.cat((freqs, freqs), dim=-1).repeat_interleave(heads // kv_heads, dim=0)
    return angles.cos(), angles.sin()


def forward(cfg, params, input_ids, inv_freqs=None):
    """Return the logits and the transitional activations [tokens, width] of every layer.

    inv_freqs: None for the standard rotary frequencies of cfg, else one [kv_heads, head_dim / 2]
    tensor per layer (each kv head and its query heads rotate with their own frequencies).
    """
    batch, seq = input_ids.shape
    heads, kv_heads, dim = cfg["num_attention_heads"], cfg["num_key_value_heads"], llama.head_dim(cfg)
    eps = cfg["rms_norm_eps"]
    causal = torch.full((seq, seq), float("-inf"), dtype=torch.float64).triu(1)
    acts = []

    x = params["model.embed_tokens.weight"][input_ids]
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        cos, sin = rotary_tables(cfg, None if inv_freqs is None else inv_freqs[i], seq)

        # attention block
        h = llama.rms_norm(x, params[p + "input_layernorm.weight"], eps)
        q = llama.linear(params, p + "self_attn.q_proj", h).view(batch, seq, heads, dim).transpose(1, 2)
        k = llama.linear(params, p + "self_attn.k_proj", h).view(batch, seq, kv_heads, dim).transpose(1, 2)
        v = llama.linear(params, p + "self_attn.v_proj", h).view(batch, seq, kv_heads, dim).transpose(1, 2)
        group = heads // kv_heads
        q = q * cos + llama.rotate_half(q) * sin
        k = k * cos[::group] + llama.rotate_half(k) * sin[::group]
        k = k.repeat_interleave(group, dim=1)
        v = v.repeat_interleave(group, dim=1)
        scores = q @ k.transpose(-1, -2) / math.sqrt(dim) + causal
        attn = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(batch, seq, heads * dim)
        x = x + llama.linear(params, p + "self_attn.o_proj", attn)

        # mlp block
        h = llama.rms_norm(x, params[p + "post_attention_layernorm.weight"], eps)
        inner = torch.nn.functional.silu(llama.linear(params, p + "mlp.gate_proj", h)) \
            * llama.linear(params, p + "mlp.up_proj", h)
        x = x + llama.linear(params, p + "mlp.down_proj", inner)
        acts.append((attn.reshape(batch * seq, -1), inner.reshape(batch * seq, -1)))

    x = llama.rms_norm(x, params["model.norm.weight"], eps)
    head = params["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else params["lm_head.weight"]
    return x @ head.T, acts


def acts_scores(per_batch_acts, layers):
    """Return the L2 norm per channel over all calibration tokens, from the float32-rounded activations."""
    scores = []
    for i in range(layers):
        pair = []
        for module in range(2):
            rounded = torch.cat([acts[i][module].float().double() for acts in per_batch_acts])
            pair.append(rounded.pow(2).sum(0).sqrt())
        scores.append(tuple(pair))
    return scores


def taylor_scores(cfg, params, gradients):
    """Return the per-channel sum of (accumulated |grad|) * |weight|, from float32-rounded values."""
    heads, kv_heads, dim = cfg["num_attention_heads"], cfg["num_key_value_heads"], llama.head_dim(cfg)
    group = heads // kv_heads
    # query channel c = h * dim + d reads kv channel (h // group) * dim + d
    channel = torch.arange(heads * dim)
    kv_channel = (channel // dim // group) * dim + channel % dim
    scores = []
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        saliency = {}
        for name in PROJECTIONS:
            weight = params[p + name + ".weight"].detach().float().double()
            grad_sum = sum(g[p + name + ".weight"].float().double().abs() for g in gradients)
            saliency[name] = grad_sum * weight.abs()
        attention = (saliency["self_attn.q_proj"].sum(1)
                     + saliency["self_attn.k_proj"].sum(1)[kv_channel]
                     + saliency["self_attn.v_proj"].sum(1)[kv_channel]
                     + saliency["self_attn.o_proj"].sum(0))
        mlp = saliency["mlp.gate_proj"].sum(1) + saliency["mlp.up_proj"].sum(1) + saliency["mlp.down_proj"].sum(0)
        scores.append((attention, mlp))
    return scores


def ascending_top(values, k):
    return torch.topk(values, k).indices.sort().values


def plan_layer(cfg, attention_scores, mlp_scores, mode, rope, target_mha, target_mlp, frequencies):
    """Select the kept indices of one layer, given its [kv_heads, head_dim / 2] original frequency indices."""
    heads, kv_heads, dim = cfg["num_attention_heads"], cfg["num_key_value_heads"], llama.head_dim(cfg)
    group = heads // kv_heads
    plan = {}
    if mode == "heads":
        per_head = attention_scores.view(heads, dim)
        head_score = per_head.mean(1) + (10.0 / dim) * per_head.max(1).values
        group_score = head_score.view(kv_heads, group).sum(1)
        kept_groups = ascending_top(group_score, math.ceil(target_mha / (group * dim)))
        plan["kv_heads"] = kept_groups
        plan["query_heads"] = (kept_groups[:, None] * group + torch.arange(group)[None, :]).reshape(-1)
        plan["head_dims"] = torch.arange(dim).expand(len(kept_groups), dim).clone()
        plan["frequencies"] = frequencies[kept_groups]
    else:
        new_dim = math.ceil(target_mha / heads)
        new_dim += new_dim % 2
        per_dim = attention_scores.view(kv_heads, group, dim).sum(1)
        plan["kv_heads"] = torch.arange(kv_heads)
        plan["query_heads"] = torch.arange(heads)
        if rope == "recompute":
            plan["head_dims"] = torch.stack([ascending_top(per_dim[g], new_dim) for g in range(kv_heads)])
            plan["frequencies"] = torch.arange(new_dim // 2).expand(kv_heads, new_dim // 2).clone()
        else:
            half = dim // 2
            pair_score = per_dim[:, :half] + per_dim[:, half:]
            pairs = torch.stack([ascending_top(pair_score[g], new_dim // 2) for g in range(kv_heads)])
            plan["head_dims"] = torch.cat((pairs, pairs + half), dim=1)
            plan["frequencies"] = torch.gather(frequencies, 1, pairs)
    plan["mlp"] = ascending_top(mlp_scores, target_mlp)
    return plan


def prune_layer(cfg, params, p, plan):
    """Slice one layer's projections in place in params."""
    dim = llama.head_dim(cfg)
    group = cfg["num_attention_heads"] // cfg["num_key_value_heads"]
    position = {int(g): j for j, g in enumerate(plan["kv_heads"])}
    q_rows = torch.cat([h * dim + plan["head_dims"][position[int(h) // group]] for h in plan["query_heads"]])
    kv_rows = torch.cat([g * dim + plan["head_dims"][j] for j, g in enumerate(plan["kv_heads"])])
    rows = {"self_attn.q_proj": q_rows, "self_attn.k_proj": kv_rows, "self_attn.v_proj": kv_rows,
            "mlp.gate_proj": plan["mlp"], "mlp.up_proj": plan["mlp"]}
    columns = {"self_attn.o_proj": q_rows, "mlp.down_proj": plan["mlp"]}
    for name, index in rows.items():
        params[p + name + ".weight"] = params[p + name + ".weight"][index]
        if p + name + ".bias" in params:
            params[p + name + ".bias"] = params[p + name + ".bias"][index]
    for name, index in columns.items():
        params[p + name + ".weight"] = params[p + name + ".weight"][:, index]


def masked_logits(cfg, params, plans, ids):
    """Return the logits of the unpruned model with the dims that a one-shot head-dim plan drops zeroed.

    Zeroed q, k and v rows and o columns contribute nothing, and scaling the kept q rows by
    sqrt(old / new head_dim) restores the pruned model's attention scale. With rope=keep every kept
    pair still rotates with its own frequency, so these logits must equal the pruned model's.
    """
    heads, kv_heads, dim = cfg["num_attention_heads"], cfg["num_key_value_heads"], llama.head_dim(cfg)
    group = heads // kv_heads
    masked = dict(params)
    for i, plan in enumerate(plans):
        p = f"model.layers.{i}.self_attn."
        new_dim = plan["head_dims"].shape[1]
        keep_kv = torch.zeros(kv_heads * dim, dtype=torch.float64)
        for j, g in enumerate(plan["kv_heads"]):
            keep_kv[g * dim + plan["head_dims"][j]] = 1.0
        keep_q = keep_kv.view(kv_heads, 1, dim).expand(kv_heads, group, dim).reshape(-1)
        masks = {"q_proj": keep_q * math.sqrt(dim / new_dim), "k_proj": keep_kv, "v_proj": keep_kv}
        for name, mask in masks.items():
            masked[p + name + ".weight"] = params[p + name + ".weight"] * mask[:, None]
            if p + name + ".bias" in params:
                masked[p + name + ".bias"] = params[p + name + ".bias"] * mask
        masked[p + "o_proj.weight"] = params[p + "o_proj.weight"] * keep_q[None, :]
    return forward(cfg, masked, ids)[0]


def calibration_gradients(cfg, params, batches):
    gradients = []
    for ids in batches:
        leaves = {k: v.detach().clone().requires_grad_(True) for k, v in params.items()}
        logits, _ = forward(cfg, leaves, ids)
        llama.causal_lm_loss(logits, ids).backward()
        gradients.append({k: v.grad for k, v in leaves.items()})
    return gradients


def run_scenario(name, models, batches):
    model_name, scorer, mode, rope, target, shots = SCENARIOS[name]
    cfg, params = models[model_name]
    cfg = dict(cfg)
    params = dict(params)
    dim0 = llama.head_dim(cfg)
    original_inv_freq = llama.inverse_frequencies(cfg)
    frequencies = [torch.arange(dim0 // 2).expand(cfg["num_key_value_heads"], dim0 // 2).clone()
                   for _ in range(cfg["num_hidden_layers"])]
    out = {"input_ids": torch.stack(batches)}
    widths = []

    for s in range(1, shots + 1):
        # score the current model
        current = (cfg["num_attention_heads"] * llama.head_dim(cfg), cfg["intermediate_size"],
                   cfg["num_hidden_layers"])
        inv_freqs = [original_inv_freq[f] for f in frequencies] if rope == "keep" else None
        per_batch = [forward(cfg, params, ids, inv_freqs)[1] for ids in batches]
        if scorer == "acts":
            scores = acts_scores(per_batch, cfg["num_hidden_layers"])
            for b, acts in enumerate(per_batch):
                for i, (attention, mlp) in enumerate(acts):
                    out[f"shot{s}.batch{b}.layer{i}.attention"] = attention.float()
                    out[f"shot{s}.batch{b}.layer{i}.mlp"] = mlp.float()
        else:
            gradients = calibration_gradients(cfg, params, batches)
            scores = taylor_scores(cfg, params, gradients)
            for b, grads in enumerate(gradients):
                for i in range(cfg["num_hidden_layers"]):
                    for proj in PROJECTIONS:
                        key = f"model.layers.{i}.{proj}.weight"
                        out[f"shot{s}.batch{b}.grad.{key}"] = grads[key].float()

        # the schedule's widths for this shot
        shot_target = tuple(c - (c - t) // (shots - s + 1) for c, t in zip(current, target))
        out[f"shot{s}.target"] = torch.tensor(shot_target, dtype=torch.int64)

        # kept layers, then kept channels of each kept layer
        kept_layers = list(range(shot_target[2]))
        out[f"shot{s}.kept_layers"] = torch.tensor(kept_layers, dtype=torch.int64)
        new_params = {k: v for k, v in params.items() if not k.startswith("model.layers.")}
        new_frequencies = []
        plans = []
        for new_index, i in enumerate(kept_layers):
            attention, mlp = scores[i]
            out[f"shot{s}.scores.layer{i}.attention"] = attention
            out[f"shot{s}.scores.layer{i}.mlp"] = mlp
            plan = plan_layer(cfg, attention, mlp, mode, rope, shot_target[0], shot_target[1], frequencies[i])
            plans.append(plan)
            for key, value in plan.items():
                out[f"shot{s}.layer{new_index}.{key}"] = value.to(torch.int64)
            old, new = f"model.layers.{i}.", f"model.layers.{new_index}."
            layer = {old + k[len(old):]: v for k, v in params.items() if k.startswith(old)}
            prune_layer(cfg, layer, old, plan)
            new_params.update({new + k[len(old):]: v for k, v in layer.items()})
            new_frequencies.append(plan["frequencies"])

        # the new configuration
        first = plans[0]
        new_dim = first["head_dims"].shape[1]
        cfg["num_attention_heads"] = len(first["query_heads"])
        cfg["num_key_value_heads"] = len(first["kv_heads"])
        cfg["head_dim"] = new_dim
        cfg["mha_inter_size"] = cfg["num_attention_heads"] * new_dim
        cfg["intermediate_size"] = len(first["mlp"])
        cfg["num_hidden_layers"] = len(kept_layers)
        params = new_params
        frequencies = new_frequencies
        widths.append([cfg["mha_inter_size"], cfg["intermediate_size"], cfg["num_hidden_layers"],
                       cfg["num_attention_heads"], cfg["num_key_value_heads"], new_dim])
        out[f"shot{s}.widths"] = torch.tensor(widths[-1], dtype=torch.int64)

    # the pruned model: its layer weights and its logits on the first calibration batch
    for key, value in params.items():
        if key.startswith("model.layers."):
            out["pruned." + key] = value.float()
    inv_freqs = [original_inv_freq[f] for f in frequencies] if rope == "keep" else None
    logits, _ = forward(cfg, params, batches[0], inv_freqs)
    if rope != "keep":
        # the hooked forward agrees with the reference Llama on a pruned configuration
        torch.testing.assert_close(logits, llama.forward(cfg, params, batches[0]), rtol=1e-12, atol=1e-12)
    if rope == "keep" and shots == 1:
        # the kept pairs and their original frequencies make the pruned model a masked original
        original_cfg, original_params = models[model_name]
        torch.testing.assert_close(logits, masked_logits(original_cfg, original_params, plans, batches[0]),
                                   rtol=1e-10, atol=1e-12)
    out["pruned.logits"] = logits.float()

    metadata = {"model": model_name, "scorer": scorer, "mode": mode, "rope": rope, "shots": shots,
                "target": json.dumps(list(target)), "pruned_config": json.dumps(cfg, sort_keys=True)}
    write_fixture(f"transact/{name}", out, metadata)


def make_model(name, overrides, seed):
    cfg = make_config(overrides)
    generator = torch.Generator().manual_seed(seed)
    params = llama.init_params(cfg, generator)
    params = {k: v.float().double() for k, v in params.items()}
    ids = torch.randint(0, cfg["vocab_size"], (BATCH, SEQ_LEN), generator=generator)
    # the hooked forward agrees with the reference Llama on the original model
    torch.testing.assert_close(forward(cfg, params, ids)[0], llama.forward(cfg, params, ids), rtol=1e-12, atol=1e-12)
    write_fixture(f"transact/{name}/model", {k: v.float() for k, v in params.items()},
                  {"config": json.dumps(cfg, sort_keys=True), "seed": seed})
    return cfg, params


def main():
    torch.set_num_threads(1)
    models = {}
    for seed, (name, overrides) in enumerate(MODELS.items()):
        models[name] = make_model(name, overrides, 2000 + seed)
    generator = torch.Generator().manual_seed(2100)
    batches = [torch.randint(0, 41, (BATCH, SEQ_LEN), generator=generator) for _ in range(CALIBRATION_BATCHES)]
    for name in SCENARIOS:
        run_scenario(name, models, batches)


if __name__ == "__main__":
    main()
