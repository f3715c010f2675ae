"""The lab's update-rule check cells: one step from known state, with its expected numbers."""

import numpy as np
import pytest

from numpy_impl.gradient_check import rel_error
from numpy_impl.optim import adam, get_update_rule, lamb, rmsprop, sgd, sgd_momentum

N, D = 4, 5


def lab_w_dw():
    return np.linspace(-0.4, 0.6, num=N * D).reshape(N, D), np.linspace(-0.6, 0.4, num=N * D).reshape(N, D)


def test_sgd_momentum():
    w, dw = lab_w_dw()
    v = np.linspace(0.6, 0.9, num=N * D).reshape(N, D)
    next_w, config = sgd_momentum(w, dw, {"learning_rate": 1e-3, "velocity": v})
    assert rel_error(next_w[0], [0.1406, 0.20738947, 0.27417895, 0.34096842, 0.40775789]) < 1e-8
    assert rel_error(next_w[-1, -1], 1.4096) < 1e-8
    expected_velocity_second_row = [0.61138947, 0.62554737, 0.63970526, 0.65386316, 0.66802105]
    assert rel_error(config["velocity"][1], expected_velocity_second_row) < 1e-8
    assert rel_error(config["velocity"][-1, -1], 0.8096) < 1e-8


def test_rmsprop():
    w, dw = lab_w_dw()
    cache = np.linspace(0.6, 0.9, num=N * D).reshape(N, D)
    next_w, config = rmsprop(w, dw, {"learning_rate": 1e-2, "cache": cache})
    assert rel_error(next_w[0], [-0.39223849, -0.34037513, -0.28849239, -0.23659121, -0.18467247]) < 1e-7
    assert rel_error(next_w[-1, -1], 0.59576619) < 1e-7
    assert rel_error(config["cache"][0, 0], 0.5976) < 1e-8


def test_adam():
    w, dw = lab_w_dw()
    m = np.linspace(0.6, 0.9, num=N * D).reshape(N, D)
    v = np.linspace(0.7, 0.5, num=N * D).reshape(N, D)
    next_w, config = adam(w, dw, {"learning_rate": 1e-2, "m": m, "v": v, "t": 5})
    assert rel_error(next_w[0], [-0.40094747, -0.34836187, -0.29577703, -0.24319299, -0.19060977]) < 1e-7
    assert rel_error(next_w[-1, -1], 0.59801459) < 1e-7
    assert config["t"] == 6
    assert rel_error(config["m"][0, 0], 0.48) < 1e-8


def test_sgd_default_learning_rate():
    w, dw = lab_w_dw()
    next_w, config = sgd(w.copy(), dw)
    assert config["learning_rate"] == 1e-2
    np.testing.assert_allclose(next_w, lab_w_dw()[0] - 1e-2 * dw)


@pytest.mark.parametrize("rule", [sgd, sgd_momentum, rmsprop, adam, lamb])
def test_float32_stays_float32(rule):
    w, dw = (a.astype(np.float32) for a in lab_w_dw())
    config = None
    for _ in range(3):  # the second step uses the state arrays the first one made
        w, config = rule(w, dw, config)
    assert w.dtype == np.float32
    for value in config.values():
        if isinstance(value, np.ndarray):
            assert value.dtype == np.float32


def test_numpy_float64_hyperparameters_do_not_upcast():
    w, dw = (a.astype(np.float32) for a in lab_w_dw())
    next_w, _ = sgd_momentum(w, dw, {"learning_rate": np.float64(1e-3), "momentum": np.float64(0.9)})
    assert next_w.dtype == np.float32


def test_unknown_rule_is_named():
    with pytest.raises(ValueError, match="'nesterov'.*sgd, sgd_momentum, sgd_nesterov, rmsprop, adam, lamb"):
        get_update_rule("nesterov")


def whole_array_step(rule: str, w, dw, state: dict, t: int, lr: float = 1e-2):
    """One step of each rule written on whole arrays from its docstring formula (lab defaults) -> (w, state)."""
    if rule == "sgd":
        return w - lr * dw, state
    if rule == "sgd_momentum":
        v = 0.9 * state.get("v", 0) - lr * dw
        return w + v, {"v": v}
    if rule == "sgd_nesterov":
        v = 0.9 * state.get("v", 0) + dw
        return w - lr * (dw + 0.9 * v), {"v": v}
    if rule == "rmsprop":
        cache = 0.99 * state.get("cache", 0) + 0.01 * dw**2
        return w - lr * dw / (np.sqrt(cache) + 1e-8), {"cache": cache}
    m = 0.9 * state.get("m", 0) + 0.1 * dw
    v = 0.999 * state.get("v", 0) + 0.001 * dw**2
    if rule == "adam":
        return w - lr * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8), {"m": m, "v": v}
    step = (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-6)  # lamb, without weight decay
    return w - lr * np.linalg.norm(w) / np.linalg.norm(step) * step, {"m": m, "v": v}


@pytest.mark.parametrize("rule", ["sgd", "sgd_momentum", "sgd_nesterov", "rmsprop", "adam", "lamb"])
def test_block_by_block_updates_equal_the_formula_on_whole_arrays(rule):
    """W (700, 300) float64 spans several of the blocks the rules work in, the last one partial."""
    rng = np.random.default_rng(0)
    w = rng.standard_normal((700, 300))
    expected, state, config = w.copy(), {}, {"learning_rate": 1e-2}
    for t in range(1, 4):
        dw = rng.standard_normal(w.shape)
        expected, state = whole_array_step(rule, expected, dw, state, t)
        w, config = get_update_rule(rule)(w, dw.copy(), config)
    np.testing.assert_allclose(w, expected, rtol=1e-12, atol=1e-14)  # w is O(1): rounding only


def test_lamb_moves_each_array_by_the_learning_rate_times_its_norm_whatever_the_gradient_scale():
    rng = np.random.default_rng(0)
    for scale in (1e-6, 1.0, 1e6):
        w = rng.standard_normal((30, 20))
        dw = scale * rng.standard_normal(w.shape)
        before = w.copy()
        w, _ = lamb(w, dw, {"learning_rate": 0.01, "weight_decay": 0.1})
        assert np.linalg.norm(w - before) == pytest.approx(0.01 * np.linalg.norm(before), rel=1e-12)


def test_lamb_weight_decay_enters_the_step_before_the_trust_ratio():
    w, dw = lab_w_dw()
    w0 = w.copy()
    next_w, config = lamb(w, dw, {"learning_rate": 0.01, "weight_decay": 0.5})
    adam_step = (0.1 * dw / 0.1) / (np.sqrt(0.001 * dw**2 / 0.001) + 1e-6)  # t = 1: the bias-corrected moments
    step = adam_step + 0.5 * w0
    np.testing.assert_allclose(next_w, w0 - 0.01 * np.linalg.norm(w0) / np.linalg.norm(step) * step, rtol=1e-12)
    assert config["t"] == 1


def test_lamb_on_a_zero_array_takes_adams_step():
    """The trust ratio |w| / |u| is 0 / |u| for a bias at zero; LAMB takes the unscaled step (ratio 1) instead."""
    b, db = np.zeros(5), np.array([1.0, -2.0, 3.0, 0.0, 0.5])
    next_b, _ = lamb(b, db, {"learning_rate": 0.1})
    np.testing.assert_allclose(next_b, -0.1 * np.sign(db) * (np.abs(db) / (np.abs(db) + 1e-6)))
