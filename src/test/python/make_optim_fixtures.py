"""Write the references for the optimisers, gradient clipping and learning-rate schedules.

fixtures/optim.safetensors holds, for two parameters of shapes [17] and [3, 11] and 20 steps with
gradients drawn ahead of time (so the Java test replays exactly the same ones):
  <run>/p<i>/init      parameter before the first step
  <run>/p<i>/grads     [20, ...] gradient fed at each step (before clipping)
  <run>/p<i>/params    [20, ...] parameter after each step
  <run>/p<i>/state*    optimiser state after the last step (exp_avg, exp_avg_sq or momentum_buffer)
  <run>/lr             [20] learning rate used at each step
  <run>/norm           [20] total gradient norm returned by clip_grad_norm_ (adamw_wd01 only)
for the runs
  adamw_wd01   AdamW lr 1e-2, betas (0.9, 0.999), eps 1e-8, weight_decay 0.1, cosine schedule with
               3 warm-up steps over 20, gradients clipped to norm 1.0
  adamw_wd0    AdamW lr 3e-3, betas (0.8, 0.95), eps 1e-6, weight_decay 0, linear schedule with
               warm-up ratio 0.1 over 20 (ceil(20 * 0.1) = 2 steps)
  sgd          SGD lr 0.05, momentum 0.9, dampening 0.1, weight_decay 0.01, constant schedule with
               2 warm-up steps
  sgd_nesterov SGD lr 0.02, momentum 0.8, nesterov, weight_decay 0
and, for each schedule, schedule/<name> [35]: the lr LambdaLR gives at steps 0..34 with base lr 1e-3,
30 training steps and 5 warm-up steps.

transformers is not a dependency, so the schedule lambdas below restate the formulas of
transformers/optimization.py (get_constant_schedule_with_warmup, get_linear_schedule_with_warmup,
get_cosine_schedule_with_warmup, get_cosine_with_min_lr_schedule_with_warmup) and of
TrainingArguments.get_warmup_steps (warm-up steps = ceil(total * ratio) when only a ratio is set).
"""

import math

import torch

from fixture_io import write_fixture

STEPS = 20
SHAPES = [(17,), (3, 11)]


def warmup_factor(step, warmup):
    return float(step) / float(max(1, warmup))


def constant_with_warmup(warmup):
    def factor(step):
        if step < warmup:
            return float(step) / float(max(1.0, warmup))
        return 1.0
    return factor


def linear_with_warmup(warmup, total):
    def factor(step):
        if step < warmup:
            return warmup_factor(step, warmup)
        return max(0.0, float(total - step) / float(max(1, total - warmup)))
    return factor


def cosine_with_warmup(warmup, total, cycles=0.5, min_lr_rate=0.0):
    def factor(step):
        if step < warmup:
            return warmup_factor(step, warmup)
        progress = float(step - warmup) / float(max(1, total - warmup))
        value = 0.5 * (1.0 + math.cos(math.pi * float(cycles) * 2.0 * progress))
        value = value * (1 - min_lr_rate) + min_lr_rate
        return max(0, value)
    return factor


def warmup_steps_from_ratio(total, ratio):
    return math.ceil(total * ratio)


def run(name, make_optimizer, lambda_factor, clip, generator, out):
    """Run 20 steps of one optimiser on fresh parameters and store its inputs, outputs and state."""
    params = [torch.nn.Parameter(torch.randn(*shape, generator=generator)) for shape in SHAPES]
    grads = [torch.randn(STEPS, *shape, generator=generator) * 2.0 for shape in SHAPES]
    for i, p in enumerate(params):
        out[f"{name}/p{i}/init"] = p.detach().clone()
        out[f"{name}/p{i}/grads"] = grads[i]

    optimizer = make_optimizer(params)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda_factor)
    history = [[] for _ in params]
    lrs = []
    norms = []
    for step in range(STEPS):
        optimizer.zero_grad()
        for i, p in enumerate(params):
            p.grad = grads[i][step].clone()
        if clip is not None:
            norms.append(float(torch.nn.utils.clip_grad_norm_(params, clip)))
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
        for i, p in enumerate(params):
            history[i].append(p.detach().clone())

    for i, p in enumerate(params):
        out[f"{name}/p{i}/params"] = torch.stack(history[i])
        for key, value in optimizer.state[p].items():
            if torch.is_tensor(value) and value.numel() > 1:
                out[f"{name}/p{i}/{key}"] = value.clone()
            elif key == "step":
                out[f"{name}/step"] = torch.tensor([float(value)], dtype=torch.float64)
    out[f"{name}/lr"] = torch.tensor(lrs, dtype=torch.float64)
    if clip is not None:
        out[f"{name}/norm"] = torch.tensor(norms, dtype=torch.float64)


def schedules(out):
    base_lr, total, warmup = 1e-3, 30, 5
    lambdas = {
        "constant": constant_with_warmup(warmup),
        "linear": linear_with_warmup(warmup, total),
        "cosine": cosine_with_warmup(warmup, total),
        "cosine_min_lr_rate": cosine_with_warmup(warmup, total, min_lr_rate=0.1),
        # get_cosine_with_min_lr_schedule_with_warmup(min_lr=...) divides by the optimizer's lr.
        "cosine_min_lr": cosine_with_warmup(warmup, total, min_lr_rate=2.5e-4 / base_lr),
        "cosine_ratio": cosine_with_warmup(warmup_steps_from_ratio(total, 0.15), total),
        "linear_no_warmup": linear_with_warmup(0, total),
    }
    for name, factor in lambdas.items():
        optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=base_lr)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
        lrs = []
        for _ in range(35):
            lrs.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            scheduler.step()
        out[f"schedule/{name}"] = torch.tensor(lrs, dtype=torch.float64)


def main():
    generator = torch.Generator().manual_seed(20261204)
    out = {}
    run("adamw_wd01",
        lambda ps: torch.optim.AdamW(ps, lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1, foreach=False),
        cosine_with_warmup(3, STEPS), 1.0, generator, out)
    run("adamw_wd0",
        lambda ps: torch.optim.AdamW(ps, lr=3e-3, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.0, foreach=False),
        linear_with_warmup(warmup_steps_from_ratio(STEPS, 0.1), STEPS), None, generator, out)
    run("sgd",
        lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01, foreach=False),
        constant_with_warmup(2), None, generator, out)
    run("sgd_nesterov",
        lambda ps: torch.optim.SGD(ps, lr=0.02, momentum=0.8, nesterov=True, foreach=False),
        lambda step: 1.0, None, generator, out)
    schedules(out)
    write_fixture("optim", out)


if __name__ == "__main__":
    main()
