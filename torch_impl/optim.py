"""The lab's update rules and schedules in torch: torch.optim where it computes the same update, ours where not.

    lab rule       torch optimizer                              same update?
    sgd            torch.optim.SGD(lr)                          yes: w -= lr * dw
    sgd_momentum   torch.optim.SGD(lr, momentum)                only while lr is constant (see below)
                   LabMomentumSGD otherwise                     yes, by construction
    sgd_nesterov   torch.optim.SGD(lr, momentum, nesterov=True) yes: numpy_impl's rule is torch's form
    rmsprop        torch.optim.RMSprop(lr, alpha, eps)          yes: epsilon is added after the sqrt in both
    adam           torch.optim.Adam(lr, betas, eps)             yes: sqrt(v / bc2) + eps == sqrt(v) / sqrt(bc2) + eps

Momentum differs in where the learning rate enters. The lab keeps v_lab = mu v_lab - lr dw
and adds it; torch keeps v_t = mu v_t + dw and subtracts lr v_t. With a constant lr,
v_lab = -lr v_t at every step, so the two agree. Once lr decays, torch rescales the whole
accumulated velocity by the new lr while the lab keeps the old steps at the old lr, and the
trajectories part. So with lr_decay < 1 (or any schedule), sgd_momentum runs the lab's rule on tensors.

A ``weight_decay`` in optim_config is decoupled weight decay, w *= 1 - lr * weight_decay
before each step, as numpy_impl.optim applies it: a step pre-hook on whichever optimizer.

    schedule       torch.optim.lr_scheduler                     stepped
    step           ExponentialLR(gamma=lr_decay)                after each epoch
    cosine         SequentialLR(LinearLR(1/w -> 1 over w steps),  after each update
                   CosineAnnealingLR(T_max=T - w), milestone w)
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch.optim import lr_scheduler

# The lab's hyperparameters and defaults per rule, in the lab's names (optim_config's keys).
DEFAULT_CONFIGS = {
    "sgd": {"learning_rate": 1e-2},
    "sgd_momentum": {"learning_rate": 1e-2, "momentum": 0.9},
    "sgd_nesterov": {"learning_rate": 1e-2, "momentum": 0.9},
    "rmsprop": {"learning_rate": 1e-2, "decay_rate": 0.99, "epsilon": 1e-8},
    "adam": {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8},
}
LR_SCHEDULES = ("step", "cosine")


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


def decoupled_weight_decay(weight_decay: float):
    """A step pre-hook for any optimizer: p *= 1 - lr * weight_decay for every parameter, before the step."""

    @torch.no_grad()
    def hook(optimizer: torch.optim.Optimizer, args, kwargs) -> None:
        for group in optimizer.param_groups:
            for p in group["params"]:
                p.mul_(1.0 - group["lr"] * weight_decay)

    return hook


def make_optimizer(
    update_rule: str,
    params: Iterable[torch.Tensor],
    optim_config: dict | None = None,
    lr_decay: float = 1.0,
    constant_lr: bool | None = None,
) -> torch.optim.Optimizer:
    """The optimizer that performs the lab's ``update_rule`` with ``optim_config`` (lab key names).

    constant_lr (default: lr_decay == 1) says whether the learning rate never changes.
    """
    if update_rule not in DEFAULT_CONFIGS:
        raise ValueError(f"unknown update_rule {update_rule!r}; expected one of {', '.join(DEFAULT_CONFIGS)}")
    defaults = DEFAULT_CONFIGS[update_rule]
    config = {**defaults, **(optim_config or {})}
    weight_decay = float(config.pop("weight_decay", 0.0))
    unknown = sorted(set(config) - set(defaults))
    if unknown:
        raise ValueError(
            f"optim_config keys {', '.join(unknown)} do not apply to {update_rule}; "
            f"it takes {', '.join(defaults)} and weight_decay"
        )
    optimizer = _make_rule(update_rule, params, config, lr_decay == 1.0 if constant_lr is None else constant_lr)
    if weight_decay:
        optimizer.register_step_pre_hook(decoupled_weight_decay(weight_decay))
    return optimizer


def _make_rule(
    update_rule: str, params: Iterable[torch.Tensor], config: dict, constant_lr: bool
) -> torch.optim.Optimizer:
    lr = config["learning_rate"]
    if update_rule == "sgd":
        return torch.optim.SGD(params, lr=lr)
    if update_rule == "sgd_momentum":
        if constant_lr:
            return torch.optim.SGD(params, lr=lr, momentum=config["momentum"])
        return LabMomentumSGD(params, lr=lr, momentum=config["momentum"])
    if update_rule == "sgd_nesterov":
        return torch.optim.SGD(params, lr=lr, momentum=config["momentum"], nesterov=True)
    if update_rule == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=config["decay_rate"], eps=config["epsilon"])
    return torch.optim.Adam(params, lr=lr, betas=(config["beta1"], config["beta2"]), eps=config["epsilon"])


def make_scheduler(
    optimizer: torch.optim.Optimizer, lr_schedule: str, lr_decay: float, total_steps: int, warmup_steps: int = 0
) -> tuple[lr_scheduler.LRScheduler, str]:
    """The schedule as a torch scheduler, and when to step it: "epoch" (step) or "update" (cosine).

    cosine: the rate for update t (0-based) is lr (t + 1) / w during the w warm-up updates, then
    lr (1 + cos(pi (t - w) / (T - w))) / 2 from the peak down.
    """
    if lr_schedule not in LR_SCHEDULES:
        raise ValueError(f"unknown lr_schedule {lr_schedule!r}; expected one of {', '.join(LR_SCHEDULES)}")
    if lr_schedule == "step":
        return lr_scheduler.ExponentialLR(optimizer, gamma=lr_decay), "epoch"
    warmup = (
        lr_scheduler.LinearLR(
            optimizer, start_factor=1 / warmup_steps, end_factor=1.0, total_iters=max(warmup_steps - 1, 1)
        )
        if warmup_steps
        else None
    )
    if warmup_steps >= total_steps:
        return warmup, "update"
    cosine = lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps - warmup_steps)
    if warmup is None:
        return cosine, "update"
    return lr_scheduler.SequentialLR(optimizer, [warmup, cosine], milestones=[warmup_steps]), "update"
