"""The lab's TwoLayerNet check cells: initialization, scores, losses and gradients."""

import numpy as np
import pytest

from numpy_impl import TwoLayerNet, eval_numerical_gradient, rel_error

N, D, H, C = 3, 5, 50, 7
CORRECT_SCORES = np.asarray(
    [
        [11.53165108, 12.2917344, 13.05181771, 13.81190102, 14.57198434, 15.33206765, 16.09215096],
        [12.05769098, 12.74614105, 13.43459113, 14.1230412, 14.81149128, 15.49994135, 16.18839143],
        [12.58373087, 13.20054771, 13.81736455, 14.43418138, 15.05099822, 15.66781506, 16.2846319],
    ]
)


@pytest.fixture
def lab_model(lab_seed):
    model = TwoLayerNet(input_dim=D, hidden_dim=H, num_classes=C, weight_scale=1e-3)
    return model


def set_lab_params(model):
    model.params["W1"] = np.linspace(-0.7, 0.3, num=D * H).reshape(D, H)
    model.params["b1"] = np.linspace(-0.1, 0.9, num=H)
    model.params["W2"] = np.linspace(-0.3, 0.4, num=H * C).reshape(H, C)
    model.params["b2"] = np.linspace(-0.9, 0.1, num=C)


def lab_inputs():
    return np.linspace(-5.5, 4.5, num=N * D).reshape(D, N).T, np.asarray([0, 5, 1])


def test_initialization(lab_model):
    std = 1e-3
    assert abs(lab_model.params["W1"].std() - std) < std / 10
    assert abs(lab_model.params["W2"].std() - std) < std / 10
    assert np.all(lab_model.params["b1"] == 0)
    assert np.all(lab_model.params["b2"] == 0)
    assert lab_model.params["W1"].shape == (D, H) and lab_model.params["W2"].shape == (H, C)


def test_scores(lab_model):
    set_lab_params(lab_model)
    X, _ = lab_inputs()
    scores = lab_model.loss(X)
    assert np.abs(scores - CORRECT_SCORES).sum() < 1e-6


@pytest.mark.parametrize("reg, expected", [(0.0, 3.4702243556), (1.0, 26.5948426952)])
def test_loss(lab_model, reg, expected):
    set_lab_params(lab_model)
    X, y = lab_inputs()
    lab_model.reg = reg
    loss, _ = lab_model.loss(X, y)
    assert abs(loss - expected) < 1e-10


@pytest.mark.parametrize("reg", [0.0, 0.7])
def test_gradients_match_numeric(lab_seed, reg):
    X = np.random.randn(N, D)
    y = np.random.randint(C, size=N)
    model = TwoLayerNet(input_dim=D, hidden_dim=H, num_classes=C, weight_scale=5e-2, reg=reg)
    _, grads = model.loss(X, y)
    for name in sorted(grads):
        grad_num = eval_numerical_gradient(lambda _: model.loss(X, y)[0], model.params[name], verbose=False)
        assert rel_error(grad_num, grads[name]) < 1e-6, name


def test_seed_makes_initialization_reproducible():
    a = TwoLayerNet(input_dim=D, hidden_dim=H, num_classes=C, seed=7)
    b = TwoLayerNet(input_dim=D, hidden_dim=H, num_classes=C, seed=7)
    c = TwoLayerNet(input_dim=D, hidden_dim=H, num_classes=C, seed=8)
    for name in a.params:
        np.testing.assert_array_equal(a.params[name], b.params[name])
    assert not np.array_equal(a.params["W1"], c.params["W1"])


def test_bad_constructor_arguments_raise():
    with pytest.raises(ValueError, match="float32 or float64"):
        TwoLayerNet(dtype=np.int32)
    with pytest.raises(ValueError, match="seed"):
        TwoLayerNet(seed=-1)
    with pytest.raises(ValueError, match="hidden_dim must be a positive integer; got 0"):
        TwoLayerNet(hidden_dim=0)
