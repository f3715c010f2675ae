"""First-order update rules, in the lab's form ``next_w, config = rule(w, dw, config)``.

``config`` is a dict holding the hyperparameters and any state the rule keeps
between steps (velocity, caches, moments); missing entries get the lab's defaults.
All arithmetic stays in w's dtype: hyperparameters are read as Python floats,
which never upcast. The rules may update ``w`` in place.
"""

from __future__ import annotations

import numpy as np

Array = np.ndarray


def sgd(w: Array, dw: Array, config: dict | None = None) -> tuple[Array, dict]:
    """Vanilla SGD: w -= learning_rate * dw.  Defaults: learning_rate 1e-2."""
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2)
    w -= float(config["learning_rate"]) * dw
    return w, config


def sgd_momentum(w: Array, dw: Array, config: dict | None = None) -> tuple[Array, dict]:
    """SGD with momentum: v = momentum * v - learning_rate * dw; w += v.

    Defaults: learning_rate 1e-2, momentum 0.9, velocity zeros like w.
    """
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity")
    if v is None:
        v = np.zeros_like(w)
    v = float(config["momentum"]) * v - float(config["learning_rate"]) * dw
    next_w = w + v
    config["velocity"] = v
    return next_w, config


def rmsprop(w: Array, dw: Array, config: dict | None = None) -> tuple[Array, dict]:
    """RMSProp: cache = decay_rate * cache + (1 - decay_rate) * dw^2; w -= lr * dw / (sqrt(cache) + epsilon).

    Defaults: learning_rate 1e-2, decay_rate 0.99, epsilon 1e-8, cache zeros like w.
    """
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    cache = config.get("cache")
    if cache is None:
        cache = np.zeros_like(w)
    decay = float(config["decay_rate"])
    cache = decay * cache + (1 - decay) * (dw * dw)
    next_w = w - float(config["learning_rate"]) * dw / (np.sqrt(cache) + float(config["epsilon"]))
    config["cache"] = cache
    return next_w, config


def adam(w: Array, dw: Array, config: dict | None = None) -> tuple[Array, dict]:
    """Adam with bias correction; t is incremented before use.

    m = beta1 m + (1 - beta1) dw;  v = beta2 v + (1 - beta2) dw^2;
    w -= lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + epsilon).
    Defaults: learning_rate 1e-3, beta1 0.9, beta2 0.999, epsilon 1e-8, m and v zeros, t 0.
    """
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("t", 0)
    m, v = config.get("m"), config.get("v")
    if m is None:
        m = np.zeros_like(w)
    if v is None:
        v = np.zeros_like(w)
    beta1, beta2 = float(config["beta1"]), float(config["beta2"])
    t = int(config["t"]) + 1
    m = beta1 * m + (1 - beta1) * dw
    v = beta2 * v + (1 - beta2) * (dw * dw)
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    next_w = w - float(config["learning_rate"]) * m_hat / (np.sqrt(v_hat) + float(config["epsilon"]))
    config.update(m=m, v=v, t=t)
    return next_w, config


UPDATE_RULES = {"sgd": sgd, "sgd_momentum": sgd_momentum, "rmsprop": rmsprop, "adam": adam}


def get_update_rule(name: str):
    """Return the update rule called ``name``, or raise ValueError listing the known ones."""
    if name not in UPDATE_RULES:
        raise ValueError(f"unknown update_rule {name!r}; expected one of {', '.join(UPDATE_RULES)}")
    return UPDATE_RULES[name]
