"""First-order update rules, in the lab's form ``next_w, config = rule(w, dw, config)``.

``config`` is a dict holding the hyperparameters and any state the rule keeps between
steps (velocity, cache, moments); missing entries get the lab's defaults. Hyperparameters
are read as Python floats, which never upcast: float32 weights stay float32.
"""

from __future__ import annotations

import numpy as np


def sgd(w, dw, config=None):
    """Vanilla SGD: w -= learning_rate * dw.  Defaults: learning_rate 1e-2."""
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)

    w -= float(config["learning_rate"]) * dw
    return w, config


def sgd_momentum(w, dw, config=None):
    """SGD with momentum: v = momentum * v - learning_rate * dw; next_w = w + v.

    Defaults: learning_rate 1e-2, momentum 0.9, velocity zeros like w.
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity", np.zeros_like(w))
    lr, mu = float(config["learning_rate"]), float(config["momentum"])

    ### BEGIN SOLUTION
    v = mu * v - lr * dw
    next_w = w + v
    ### END SOLUTION
    config["velocity"] = v
    return next_w, config


def rmsprop(w, dw, config=None):
    """RMSProp: cache = decay_rate * cache + (1 - decay_rate) * dw^2; next_w = w - lr * dw / (sqrt(cache) + epsilon).

    Defaults: learning_rate 1e-2, decay_rate 0.99, epsilon 1e-8, cache zeros like w.
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("cache", np.zeros_like(w))
    lr, decay, eps = float(config["learning_rate"]), float(config["decay_rate"]), float(config["epsilon"])

    ### BEGIN SOLUTION
    cache = decay * config["cache"] + (1 - decay) * dw**2
    next_w = w - lr * dw / (np.sqrt(cache) + eps)
    config["cache"] = cache
    ### END SOLUTION
    return next_w, config


def adam(w, dw, config=None):
    """Adam with bias correction; t is incremented before use.

    m = beta1 m + (1 - beta1) dw;  v = beta2 v + (1 - beta2) dw^2;
    next_w = w - lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + epsilon).
    Defaults: learning_rate 1e-3, beta1 0.9, beta2 0.999, epsilon 1e-8, m and v zeros, t 0.
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("m", np.zeros_like(w))
    config.setdefault("v", np.zeros_like(w))
    config.setdefault("t", 0)
    lr, eps = float(config["learning_rate"]), float(config["epsilon"])
    beta1, beta2 = float(config["beta1"]), float(config["beta2"])

    ### BEGIN SOLUTION
    t = int(config["t"]) + 1
    m = beta1 * config["m"] + (1 - beta1) * dw
    v = beta2 * config["v"] + (1 - beta2) * dw**2
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    next_w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
    config.update(m=m, v=v, t=t)
    ### END SOLUTION
    return next_w, config
