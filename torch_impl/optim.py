"""The lab's update rules and schedules in torch: torch.optim where it computes the same update, ours where not.

    lab rule       torch optimizer                              same update?
    sgd            torch.optim.SGD(lr)                          yes: w -= lr * dw
    sgd_momentum   torch.optim.SGD(lr, momentum)                only while lr is constant (see below)
                   LabMomentumSGD otherwise                     yes, by construction
    sgd_nesterov   torch.optim.SGD(lr, momentum, nesterov=True) yes: numpy_impl's rule is torch's form
    rmsprop        torch.optim.RMSprop(lr, alpha, eps)          yes: epsilon is added after the sqrt in both
    adam           torch.optim.Adam(lr, betas, eps)             yes: sqrt(v / bc2) + eps == sqrt(v) / sqrt(bc2) + eps
    lamb           Lamb (ours: torch.optim has no LAMB)         yes, by construction

Momentum differs in where the learning rate enters. The lab keeps v_lab = mu v_lab - lr dw
and adds it; torch keeps v_t = mu v_t + dw and subtracts lr v_t. With a constant lr,
v_lab = -lr v_t at every step, so the two agree. Once lr decays, torch rescales the whole
accumulated velocity by the new lr while the lab keeps the old steps at the old lr, and the
trajectories part. So with lr_decay < 1 (or any schedule), sgd_momentum runs the lab's rule on tensors.

A ``weight_decay`` in optim_config is decoupled weight decay, w *= 1 - lr * weight_decay
before each step, as numpy_impl.optim applies it: torch.optim.AdamW(weight_decay) for adam (the
same shrink, inside the fused kernel's one pass), a step pre-hook on any other optimizer but
Lamb, which adds weight_decay * w to its step before the trust ratio, as LAMB's paper does.

    schedule       torch.optim.lr_scheduler                     stepped
    step           ExponentialLR(gamma=lr_decay)                after each epoch
    cosine         SequentialLR(LinearLR(1/w -> (w-1)/w),         after each update
                   CosineAnnealingLR(T_max=T - w), milestone w-1)
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Iterable

import torch
from torch.optim import lr_scheduler

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


class Lamb(torch.optim.Optimizer):
    """LAMB (You et al., 2020): u = Adam's bias-corrected step + weight_decay * p; p -= lr * (|p| / |u|) * u, per
    parameter tensor (the trust ratio |p| / |u| is 1 when either norm is 0)."""

    def __init__(
        self,
        params: Iterable[torch.Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-6,
        weight_decay: float = 0.0,
    ):
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay})

    @torch.no_grad()
    def step(self, closure=None):
        loss = None if closure is None else closure()
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state.update(step=0, exp_avg=torch.zeros_like(p), exp_avg_sq=torch.zeros_like(p))
                state["step"] += 1
                t, exp_avg, exp_avg_sq = state["step"], state["exp_avg"], state["exp_avg_sq"]
                exp_avg.lerp_(p.grad, 1 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
                update = (exp_avg / (1 - beta1**t)) / ((exp_avg_sq / (1 - beta2**t)).sqrt_().add_(group["eps"]))
                update.add_(p, alpha=group["weight_decay"])
                p_norm, update_norm = torch.linalg.vector_norm(p), torch.linalg.vector_norm(update)
                trust_ratio = torch.where((p_norm > 0) & (update_norm > 0), p_norm / update_norm, 1.0)
                p.sub_(update.mul_(trust_ratio * group["lr"]))
        return loss


def decoupled_weight_decay(weight_decay: float):
    """A step pre-hook for any optimizer: p *= 1 - lr * weight_decay for every parameter, before the step."""

    @torch.no_grad()
    def hook(optimizer: torch.optim.Optimizer, args, kwargs) -> None:
        for group in optimizer.param_groups:
            for p in group["params"]:
                p.mul_(1.0 - group["lr"] * weight_decay)

    return hook


# Each lab rule as a torch optimizer: the arguments are optim_config's keys (the lab's names), with the lab's
# defaults; ``constant_lr`` says whether the learning rate never changes. fused=True: torch's one-pass kernels
# (the same arithmetic as the default implementation, about 1.5x faster on a 50 MB weight matrix).
def sgd(params, constant_lr: bool, learning_rate: float = 1e-2) -> torch.optim.Optimizer:
    return torch.optim.SGD(params, lr=learning_rate, fused=True)


def sgd_momentum(params, constant_lr: bool, learning_rate: float = 1e-2, momentum: float = 0.9):
    if constant_lr:
        return torch.optim.SGD(params, lr=learning_rate, momentum=momentum, fused=True)
    return LabMomentumSGD(params, lr=learning_rate, momentum=momentum)


def sgd_nesterov(params, constant_lr: bool, learning_rate: float = 1e-2, momentum: float = 0.9):
    return torch.optim.SGD(params, lr=learning_rate, momentum=momentum, nesterov=True, fused=True)


def rmsprop(params, constant_lr: bool, learning_rate: float = 1e-2, decay_rate: float = 0.99, epsilon: float = 1e-8):
    return torch.optim.RMSprop(params, lr=learning_rate, alpha=decay_rate, eps=epsilon)


def adam(params, constant_lr: bool, learning_rate=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8, weight_decay=0.0):
    if weight_decay:  # AdamW: p *= 1 - lr * weight_decay, then Adam's step
        return torch.optim.AdamW(
            params, lr=learning_rate, betas=(beta1, beta2), eps=epsilon, weight_decay=weight_decay, fused=True
        )
    return torch.optim.Adam(params, lr=learning_rate, betas=(beta1, beta2), eps=epsilon, fused=True)


def lamb(params, constant_lr: bool, learning_rate=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-6, weight_decay=0.0):
    return Lamb(params, lr=learning_rate, betas=(beta1, beta2), eps=epsilon, weight_decay=weight_decay)


RULES = {
    "sgd": sgd,
    "sgd_momentum": sgd_momentum,
    "sgd_nesterov": sgd_nesterov,
    "rmsprop": rmsprop,
    "adam": adam,
    "lamb": lamb,
}


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
    if update_rule not in RULES:
        raise ValueError(f"unknown update_rule {update_rule!r}; expected one of {', '.join(RULES)}")
    config = dict(optim_config or {})
    takes = [name for name in inspect.signature(RULES[update_rule]).parameters if name not in ("params", "constant_lr")]
    # weight_decay goes to the rule when it takes it (adam, lamb), else to a step pre-hook
    weight_decay = 0.0 if "weight_decay" in takes else float(config.pop("weight_decay", 0.0))
    unknown = sorted(set(config) - set(takes))
    if unknown:
        accepted = takes if "weight_decay" in takes else [*takes, "weight_decay"]
        raise ValueError(
            f"optim_config keys {', '.join(unknown)} do not apply to {update_rule}; it takes {', '.join(accepted)}"
        )
    constant_lr = lr_decay == 1.0 if constant_lr is None else constant_lr
    optimizer = RULES[update_rule](params, constant_lr, **config)
    if weight_decay:
        optimizer.register_step_pre_hook(decoupled_weight_decay(weight_decay))
    return optimizer


def make_scheduler(
    optimizer: torch.optim.Optimizer, lr_schedule: str, lr_decay: float, total_steps: int, warmup_steps: int = 0
) -> tuple[lr_scheduler.LRScheduler, str]:
    """The schedule as a torch scheduler, and when to step it: "epoch" (step) or "update" (cosine).

    cosine, for update s = 1 ... T (1-based) with w warm-up updates: lr s / w while s <= w, then
    lr (1 + cos(pi (s - w) / (T - w))) / 2, down to 0 at the last update. The warm-up's last update is
    CosineAnnealingLR's peak, so LinearLR covers the first w - 1 updates and hands over there.
    """
    if lr_schedule not in LR_SCHEDULES:
        raise ValueError(f"unknown lr_schedule {lr_schedule!r}; expected one of {', '.join(LR_SCHEDULES)}")
    if lr_schedule == "step":
        return lr_scheduler.ExponentialLR(optimizer, gamma=lr_decay), "epoch"
    w, total = warmup_steps, total_steps
    if w >= total:  # all warm-up
        return lr_scheduler.LinearLR(optimizer, start_factor=1 / w, end_factor=1.0, total_iters=max(w - 1, 1)), "update"
    if w == 0:  # no peak update: resume the cosine one update in, as from a checkpoint (lr already at its value)
        for group in optimizer.param_groups:
            group["initial_lr"] = group["lr"]
            group["lr"] = group["lr"] * (1 + math.cos(math.pi / total)) / 2
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=total, last_epoch=0), "update"
    cosine = lr_scheduler.CosineAnnealingLR(optimizer, T_max=total - w)
    if w == 1:  # the one warm-up update is the peak
        return cosine, "update"
    warmup = lr_scheduler.LinearLR(optimizer, start_factor=1 / w, end_factor=(w - 1) / w, total_iters=max(w - 2, 1))
    return lr_scheduler.SequentialLR(optimizer, [warmup, cosine], milestones=[w - 1]), "update"
