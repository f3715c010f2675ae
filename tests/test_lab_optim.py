"""The lab's update-rule check cells: one step from known state, with its expected numbers."""

import numpy as np
import pytest

from numpy_impl.gradient_check import rel_error
from numpy_impl.optim import adam, rmsprop, sgd, sgd_momentum

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


@pytest.mark.parametrize("rule", [sgd, sgd_momentum, rmsprop, adam])
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
