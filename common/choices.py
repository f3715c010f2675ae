"""The names a run chooses from, and the lab's defaults, in one place for every implementation and the CLI."""

from __future__ import annotations

IMPLS = ("numpy", "torch")
DTYPES = ("float32", "float64")
UPDATE_RULES = ("sgd", "sgd_momentum", "rmsprop", "adam", "sgd_nesterov")
LAB_UPDATE_RULES = UPDATE_RULES[:4]  # the lab's four; sgd_nesterov is the recipes'
LR_SCHEDULES = ("step", "cosine")

RULE_DEFAULTS = {
    "sgd": {"learning_rate": 1e-2},
    "sgd_momentum": {"learning_rate": 1e-2, "momentum": 0.9},
    "sgd_nesterov": {"learning_rate": 1e-2, "momentum": 0.9},
    "rmsprop": {"learning_rate": 1e-2, "decay_rate": 0.99, "epsilon": 1e-8},
    "adam": {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8},
}
