"""Learning-rate schedules, as a factor of the base learning rate at each update (shared by both implementations)."""

from __future__ import annotations

import math

LR_SCHEDULES = ("step", "cosine")


def warmup_cosine_factor(step: int, total_steps: int, warmup_steps: int = 0) -> float:
    """Multiplier of the peak learning rate for update number ``step`` (1-based) of ``total_steps``.

    Linear warm-up over the first warmup_steps updates, factor = step / warmup_steps, then
    cosine decay to 0 at the last update: factor = (1 + cos(pi (step - w) / (T - w))) / 2.
    """
    if not 1 <= step <= total_steps:
        raise ValueError(f"step must be in [1, {total_steps}]; got {step}")
    if not 0 <= warmup_steps <= total_steps:
        raise ValueError(f"warmup_steps must be in [0, {total_steps}]; got {warmup_steps}")
    if step <= warmup_steps:
        return step / warmup_steps
    return 0.5 * (1.0 + math.cos(math.pi * (step - warmup_steps) / (total_steps - warmup_steps)))


def check_lr_schedule(name: str) -> str:
    """Return name if it is a known schedule, else raise ValueError listing them."""
    if name not in LR_SCHEDULES:
        raise ValueError(f"unknown lr_schedule {name!r}; expected one of {', '.join(LR_SCHEDULES)}")
    return name
