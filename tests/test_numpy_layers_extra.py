"""Beyond the lab: randomized gradient checks over many shapes, dtype preservation, bad input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from numpy_impl import (
    TwoLayerNet,
    affine_backward,
    affine_forward,
    affine_relu_backward,
    affine_relu_forward,
    eval_numerical_gradient,
    eval_numerical_gradient_array,
    grad_check_sparse,
    rel_error,
    relu_backward,
    relu_forward,
    softmax_loss,
    svm_loss,
)

shapes = st.tuples(
    st.integers(1, 4),  # N, including 1
    st.lists(st.integers(1, 3), min_size=1, max_size=3),  # trailing dims d1..dk, k up to 3
    st.integers(1, 4),  # M (or H), including 1
    st.integers(0, 2**31 - 1),  # seed
)


def assert_grad_close(analytic, numeric, rtol=1e-7):
    """Centered differences carry ~1e-11 absolute noise, so tiny entries are compared absolutely."""
    assert analytic.shape == numeric.shape
    np.testing.assert_allclose(analytic, numeric, rtol=rtol, atol=1e-9)


def random_affine_inputs(n, dims, m, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, *dims))
    w = rng.standard_normal((int(np.prod(dims)), m))
    b = rng.standard_normal(m)
    dout = rng.standard_normal((n, m))
    return x, w, b, dout


@settings(max_examples=40, deadline=None)
@given(shapes)
def test_affine_backward_random_shapes(shape):
    x, w, b, dout = random_affine_inputs(*shape)
    dx, dw, db = affine_backward(dout, affine_forward(x, w, b)[1])
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == b.shape
    assert_grad_close(dx, eval_numerical_gradient_array(lambda v: affine_forward(v, w, b)[0], x, dout))
    assert_grad_close(dw, eval_numerical_gradient_array(lambda v: affine_forward(x, v, b)[0], w, dout))
    assert_grad_close(db, eval_numerical_gradient_array(lambda v: affine_forward(x, w, v)[0], b, dout))


@settings(max_examples=40, deadline=None)
@given(shapes)
def test_affine_relu_backward_random_shapes(shape):
    x, w, b, dout = random_affine_inputs(*shape)
    dx, dw, db = affine_relu_backward(dout, affine_relu_forward(x, w, b)[1])
    f = affine_relu_forward
    # a kink of ReLU within h of a pre-activation would make the numeric gradient wrong; skip that case
    pre = affine_forward(x, w, b)[0]
    if np.min(np.abs(pre)) < 1e-4:
        return
    assert_grad_close(dx, eval_numerical_gradient_array(lambda v: f(v, w, b)[0], x, dout))
    assert_grad_close(dw, eval_numerical_gradient_array(lambda v: f(x, v, b)[0], w, dout))
    assert_grad_close(db, eval_numerical_gradient_array(lambda v: f(x, w, v)[0], b, dout))


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 6), st.integers(1, 6), st.integers(0, 2**31 - 1))
def test_relu_backward_random_shapes(rows, cols, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, cols))
    x[np.abs(x) < 1e-3] = 0.5  # keep away from the kink
    dout = rng.standard_normal(x.shape)
    dx = relu_backward(dout, relu_forward(x)[1])
    assert_grad_close(dx, eval_numerical_gradient_array(lambda v: relu_forward(v)[0], x, dout), rtol=1e-10)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 8), st.integers(2, 8), st.floats(0.01, 10.0), st.integers(0, 2**31 - 1))
@pytest.mark.parametrize("loss_fn", [softmax_loss, svm_loss])
def test_losses_random_shapes(loss_fn, n, c, scale, seed):
    rng = np.random.default_rng(seed)
    x = scale * rng.standard_normal((n, c))
    y = rng.integers(c, size=n)
    if loss_fn is svm_loss:
        margins = x - x[np.arange(n), y][:, None] + 1
        if np.min(np.abs(margins)) < 1e-4:  # a hinge kink within h: numeric gradient undefined
            return
    loss, dx = loss_fn(x, y)
    assert dx.shape == x.shape
    assert_grad_close(dx, eval_numerical_gradient(lambda v: loss_fn(v, y)[0], x, verbose=False), rtol=1e-6)


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 4), st.integers(1, 5), st.integers(1, 4), st.integers(2, 5), st.integers(0, 2**31 - 1))
def test_two_layer_net_gradients_random_shapes(n, d, h, c, seed):
    rng = np.random.default_rng(seed)
    model = TwoLayerNet(input_dim=d, hidden_dim=h, num_classes=c, weight_scale=0.5, reg=0.3, seed=seed)
    model.params["b1"] = rng.standard_normal(h)
    X = rng.standard_normal((n, d))
    y = rng.integers(c, size=n)
    hidden = X @ model.params["W1"] + model.params["b1"]
    if np.min(np.abs(hidden)) < 1e-4:
        return
    _, grads = model.loss(X, y)
    for name in grads:
        numeric = eval_numerical_gradient(lambda _: model.loss(X, y)[0], model.params[name], verbose=False)
        assert_grad_close(grads[name], numeric, rtol=1e-6)


def test_softmax_is_stable_for_huge_logits():
    x = np.array([[1e4, 0.0, -1e4], [-1e4, 1e4, 1e4]])
    loss, dx = softmax_loss(x, np.array([0, 2]))
    assert np.isfinite(loss) and np.all(np.isfinite(dx))
    assert loss == pytest.approx(np.log(2) / 2)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_function_keeps_the_dtype(dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 2, 3)).astype(dtype)
    w = rng.standard_normal((6, 5)).astype(dtype)
    b = rng.standard_normal(5).astype(dtype)
    dout = rng.standard_normal((4, 5)).astype(dtype)
    y = rng.integers(5, size=4)
    out, cache = affine_forward(x, w, b)
    assert out.dtype == dtype and all(g.dtype == dtype for g in affine_backward(dout, cache))
    out, cache = relu_forward(x)
    assert out.dtype == dtype and relu_backward(x, cache).dtype == dtype
    out, cache = affine_relu_forward(x, w, b)
    assert out.dtype == dtype and all(g.dtype == dtype for g in affine_relu_backward(dout, cache))
    for loss_fn in (softmax_loss, svm_loss):
        loss, dx = loss_fn(dout, y)
        assert np.asarray(loss).dtype == dtype and dx.dtype == dtype
    model = TwoLayerNet(input_dim=6, hidden_dim=3, num_classes=5, reg=0.1, dtype=dtype, seed=0)
    assert all(p.dtype == dtype for p in model.params.values())
    assert model.loss(x).dtype == dtype
    loss, grads = model.loss(x.astype(np.float64), y)  # float64 input is cast down, not the model up
    assert np.asarray(loss).dtype == dtype and all(g.dtype == dtype for g in grads.values())


def test_affine_forward_does_not_copy_x():
    x = np.zeros((2, 3, 4))
    _, (cached_x, _, _) = affine_forward(x, np.zeros((12, 1)), np.zeros(1))
    assert cached_x is x
    assert np.shares_memory(x.reshape(2, -1), x)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: affine_forward(np.zeros((2, 3, 4)), np.zeros((10, 5)), np.zeros(5)), r"\(12, M\).*\(10, 5\)"),
        (lambda: affine_forward(np.zeros((2, 6)), np.zeros((6, 5)), np.zeros(4)), r"\(5,\).*\(4,\)"),
        (
            lambda: affine_backward(
                np.zeros((2, 4)), affine_forward(np.zeros((2, 6)), np.zeros((6, 5)), np.zeros(5))[1]
            ),
            r"\(2, 5\).*\(2, 4\)",
        ),
        (lambda: relu_backward(np.zeros((3, 3)), relu_forward(np.zeros((2, 3)))[1]), r"\(2, 3\).*\(3, 3\)"),
        (lambda: softmax_loss(np.zeros((3, 4)), np.array([0, 1, 4])), r"\[0, 4\).*0 to 4"),
        (lambda: softmax_loss(np.zeros((3, 4)), np.array([0, -1, 2])), r"\[0, 4\)"),
        (lambda: svm_loss(np.zeros((3, 4)), np.array([0, 1])), r"\(3,\).*\(2,\)"),
        (lambda: svm_loss(np.zeros((3, 4)), np.array([0.0, 1.0, 2.0])), "integers"),
        (lambda: softmax_loss(np.zeros(4), np.array([0])), r"\(N, C\)"),
    ],
)
def test_bad_input_raises_with_shapes(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_model_loss_rejects_mismatched_input_width():
    model = TwoLayerNet(input_dim=6, hidden_dim=3, num_classes=2, seed=0)
    with pytest.raises(ValueError, match=r"\(7, M\).*\(6, 3\)"):
        model.loss(np.zeros((2, 7)))


def test_grad_check_sparse_returns_small_errors_for_correct_gradient():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 4))
    y = rng.integers(4, size=5)
    _, dx = softmax_loss(x, y)
    errors = grad_check_sparse(lambda v: softmax_loss(v, y)[0], x, dx, num_checks=8, seed=3, verbose=False)
    assert len(errors) == 8 and max(errors) < 1e-7
    wrong = grad_check_sparse(lambda v: softmax_loss(v, y)[0], x, 2 * dx, num_checks=8, seed=3, verbose=False)
    assert min(wrong) > 0.3


def test_rel_error_is_the_labs_formula():
    assert rel_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert rel_error([1.0], [3.0]) == pytest.approx(0.5)
    assert rel_error([0.0], [0.0]) == 0.0
