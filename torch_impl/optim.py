"""The lab's update rules and schedules in torch: torch.optim where it computes the same update, ours where not.

    lab rule       torch optimizer                              same update?
    sgd            torch.optim.SGD(lr)                          yes: w -= lr * dw
    sgd_momentum   torch.optim.SGD(lr, momentum)                only while lr is constant (see below)
                   LabMomentumSGD when lr changes               yes, by construction
    sgd_nesterov   torch.optim.SGD(lr, momentum, nesterov=True) yes: numpy_recipe's rule is torch's form
    rmsprop        torch.optim.RMSprop(lr, alpha, eps)          yes: epsilon is added after the sqrt in both
    adam           torch.optim.Adam(lr, betas, eps)             yes: sqrt(v / bc2) + eps == sqrt(v) / sqrt(bc2) + eps

Momentum differs in where the learning rate enters. The lab keeps v_lab = mu v_lab - lr dw
and adds it; torch keeps v_t = mu v_t + dw and subtracts lr v_t. With a constant lr,
v_lab = -lr v_t at every step, so the two agree. Once lr decays, torch rescales the whole
accumulated velocity by the new lr while the lab keeps the old steps at the old lr, and the
trajectories part. So when the lr changes (lr_decay < 1, or the cosine schedule),
make_optimizer runs the lab's rule on tensors.

The hyperparameters are optim_config's keys (the lab's names), with the lab's defaults from
common.choices.RULE_DEFAULTS. Adam's config may hold ``weight_decay``: decoupled weight decay,
w *= 1 - lr * weight_decay before each step, as numpy_recipe.optim applies it: torch.optim.AdamW
(the same shrink, inside the fused kernel's one pass).

Both schedules are one LambdaLR, stepped after every update; update s (1-based) of T, with
E updates per epoch and w warm-up updates, uses lr * factor:

    schedule       factor for update s
    step           lr_decay ** ((s - 1) // E)                   the lab's decay after each epoch
    cosine         s / w                                        while s <= w (linear warm-up)
                   (1 + cos(pi (s - w) / (T - w))) / 2          after it, down to 0 at update T
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
from torch.optim import lr_scheduler

from common.choices import LR_SCHEDULES, RULE_DEFAULTS, UPDATE_RULES


class LabMomentumSGD(torch.optim.Optimizer):
    """The lab's momentum rule on tensors: v = momentum * v - lr * dw; w += v (v starts at zero)."""

    def __init__(self, params: Iterable[torch.Tensor], lr: float = 1e-2, momentum: float = 0.9):
        super().__init__(params, {"lr": lr, "momentum": momentum})

    @torch.no_grad()
    def step(self, closure=None):
        loss = None if closure is None else closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if "velocity" not in state:
                    state["velocity"] = torch.zeros_like(p)
                v = state["velocity"]
                v.mul_(group["momentum"]).sub_(p.grad, alpha=group["lr"])
                p.add_(v)
        return loss


def check_lr_schedule(lr_schedule: str) -> str:
    """lr_schedule itself when it is one of common.choices.LR_SCHEDULES, else a ValueError."""
    if lr_schedule not in LR_SCHEDULES:
        raise ValueError(f"unknown lr_schedule {lr_schedule!r}; expected one of {', '.join(LR_SCHEDULES)}")
    return lr_schedule


def make_optimizer(
    update_rule: str,
    params: Iterable[torch.Tensor],
    optim_config: dict | None = None,
    lr_decay: float = 1.0,
    lr_schedule: str = "step",
) -> torch.optim.Optimizer:
    """The optimizer that performs the lab's ``update_rule`` with ``optim_config`` (lab key names) on params,
    under a learning rate that changes unless lr_schedule is "step" with lr_decay 1."""
    if update_rule not in UPDATE_RULES:
        raise ValueError(f"unknown update_rule {update_rule!r}; expected one of {', '.join(UPDATE_RULES)}")
    lr_changes = check_lr_schedule(lr_schedule) != "step" or lr_decay != 1.0
    takes = [*RULE_DEFAULTS[update_rule], *(["weight_decay"] if update_rule == "adam" else [])]
    unknown = sorted(set(optim_config or {}) - set(takes))
    if unknown:
        raise ValueError(
            f"optim_config keys {', '.join(unknown)} do not apply to {update_rule}; it takes {', '.join(takes)}"
        )
    config = {**RULE_DEFAULTS[update_rule], **(optim_config or {})}
    lr = config["learning_rate"]
    # fused=True: torch's one-pass kernels, the same arithmetic as the default implementation
    if update_rule == "adam":  # with weight_decay, AdamW: p *= 1 - lr * weight_decay, then Adam's step
        weight_decay = float(config.get("weight_decay", 0.0))
        adam = torch.optim.AdamW if weight_decay else torch.optim.Adam
        betas, eps = (config["beta1"], config["beta2"]), config["epsilon"]
        return adam(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, fused=True)
    if update_rule == "sgd":
        return torch.optim.SGD(params, lr=lr, fused=True)
    if update_rule == "sgd_momentum" and lr_changes:
        return LabMomentumSGD(params, lr=lr, momentum=config["momentum"])
    if update_rule in ("sgd_momentum", "sgd_nesterov"):
        nesterov = update_rule == "sgd_nesterov"
        return torch.optim.SGD(params, lr=lr, momentum=config["momentum"], nesterov=nesterov, fused=True)
    return torch.optim.RMSprop(params, lr=lr, alpha=config["decay_rate"], eps=config["epsilon"])


def lr_factor(
    updates_made: int,
    lr_schedule: str,
    lr_decay: float,
    iterations_per_epoch: int,
    total_updates: int,
    warmup_updates: int = 0,
) -> float:
    """The factor of the initial learning rate that the next update, s = updates_made + 1, uses (table above)."""
    if lr_schedule == "step":
        return lr_decay ** (updates_made // iterations_per_epoch)
    s, w = min(updates_made + 1, total_updates), warmup_updates  # after the last update: its factor, 0
    if s <= w:
        return s / w
    return 0.5 * (1.0 + math.cos(math.pi * (s - w) / (total_updates - w)))


def make_scheduler(
    optimizer: torch.optim.Optimizer,
    lr_schedule: str,
    lr_decay: float,
    iterations_per_epoch: int,
    total_updates: int,
    warmup_updates: int = 0,
) -> lr_scheduler.LambdaLR:
    """The schedule as one LambdaLR over ``lr_factor``, to be stepped after every update."""
    check_lr_schedule(lr_schedule)

    def factor(updates_made: int) -> float:
        return lr_factor(updates_made, lr_schedule, lr_decay, iterations_per_epoch, total_updates, warmup_updates)

    return lr_scheduler.LambdaLR(optimizer, factor)
