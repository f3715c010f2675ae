"""The engine's compiled loops (numpy_recipe.kernels): compare's check_engine_kernels passes, fails on a bug in any
loop, and the loops compute in the arrays' dtype."""

import inspect

import numba
import numpy as np
import pytest

import numpy_recipe
from compare.checks import check_engine_kernels
from numpy_recipe import kernels
from numpy_recipe.optim import adam, sgd_nesterov

CHECK_NAMES = [
    "fused bias + ReLU vs the lab's relu_forward(a + b)",
    "fused ReLU backward vs the lab's relu_backward",
    "its bias gradient vs the sum of the lab's",
    "one-pass AdamW, 11,100 weights, 3 steps vs the lab's adam after w *= 1 - lr wd",
    "one-pass AdamW, 11,100 weights, 3 steps vs torch's AdamW",
    "one-pass Nesterov, 11,100 weights, 3 steps vs torch's SGD(nesterov=True)",
    "gather + flips + crops in one pass vs torchvision",
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("seed", [0, 1])
def test_every_kernel_agrees_with_the_plain_formula(dtype, seed):
    checks = check_engine_kernels(dtype, seed)
    assert [c.name for c in checks] == CHECK_NAMES
    failed = [f"{c.name}: {c.rel_error:.1e}" for c in checks if not c.passed]
    assert not failed, failed


def mutant_kernel(name: str, original: str, replacement: str):
    """kernels' loop ``name`` compiled from its source with one bug (and no cache, which would give the good one)."""
    source = inspect.getsource(kernels)
    assert source.count(original) == 1, original
    namespace = {"__name__": "mutant_of_numpy_recipe.kernels"}
    source = source.replace(original, replacement).replace("cache=True", "cache=False")
    exec(compile(source, "<mutant kernels>", "exec"), namespace)  # noqa: S102
    return namespace[name]


MUTANTS = {  # a bug in each loop -> the checks it must fail
    "bias forgotten": (
        "add_bias_relu",
        "a = hidden[i, j] + bias[j]",
        "a = hidden[i, j]",
        set(CHECK_NAMES[:3]),  # the mask moves with the pre-activations
    ),
    "bias gradient summed twice": (
        "relu_backward_bias_grad",
        "dbias[j] += d",
        "dbias[j] += 2 * d",
        {CHECK_NAMES[2]},
    ),
    "Adam's second moment uncorrected": (
        "adamw_flat",
        "np.sqrt(v_i) / correction2",
        "np.sqrt(v_i)",
        {CHECK_NAMES[3], CHECK_NAMES[4]},
    ),
    "Nesterov without the look-ahead": (
        "nesterov_flat",
        "- learning_rate_times_momentum * v_i",
        "- learning_rate * v_i",
        {CHECK_NAMES[5]},
    ),
    "mirror one column off": (
        "gather_flip_shift",
        "width - 1 - column if flip",
        "width - 2 - column if flip",
        {CHECK_NAMES[6]},
    ),
}


@pytest.mark.parametrize("mutant", MUTANTS)
def test_a_bug_in_any_kernel_fails_its_check(monkeypatch, mutant):
    name, original, replacement, failing = MUTANTS[mutant]
    monkeypatch.setattr(kernels, name, mutant_kernel(name, original, replacement))
    failed = {c.name for c in check_engine_kernels("float64", 0) if not c.passed}
    assert failed == failing


def test_the_rules_pass_scalars_in_the_weights_dtype_so_float32_is_computed_in_float32():
    """A float64 scalar would make Numba compile the loop in float64 for float32 weights: every signature the rules
    compile for float32 weights is float32 throughout."""
    for dtype in (np.float32, np.float64):
        w, dw = np.ones(10, dtype), np.full(10, 0.5, dtype)
        adam(w, dw, {"learning_rate": 1e-3, "weight_decay": 0.05})
        sgd_nesterov(w, dw, {"learning_rate": 1e-2})
    for loop in (kernels.adamw_flat, kernels.nesterov_flat):
        kinds = {str(arg.dtype if hasattr(arg, "dtype") else arg) for sig in loop.signatures for arg in sig}
        assert kinds == {"float32", "float64"}
        for sig in loop.signatures:
            assert len({str(getattr(arg, "dtype", arg)) for arg in sig}) == 1, sig


def test_a_non_contiguous_weight_is_updated_as_a_copy_and_returned():
    w = np.asfortranarray(np.arange(12, dtype=np.float64).reshape(3, 4))
    dw = np.ones((3, 4))
    next_w, _ = adam(w.copy(order="F"), dw, {"learning_rate": 0.1})
    expected, _ = adam(np.ascontiguousarray(w), dw, {"learning_rate": 0.1})
    np.testing.assert_array_equal(next_w, expected)


def test_the_relu_keeps_nan_so_a_diverging_run_is_still_caught():
    hidden = np.array([[np.nan, -1.0, 2.0]], dtype=np.float32)
    kernels.add_bias_relu(hidden, np.zeros(3, np.float32))
    assert np.isnan(hidden[0, 0]) and hidden[0, 1] == 0 and hidden[0, 2] == 2


def test_the_engines_net_at_the_recipes_width_matches_the_plain_passes():
    """RecipeNet's step with its kernels, at a wide hidden layer in float32, against the same net's passes written
    in plain NumPy (the code it replaced): the same scores, loss and gradients."""
    rng = np.random.default_rng(0)
    params = {
        "W1": rng.standard_normal((64, 2048), dtype=np.float32) * 0.05,
        "b1": rng.standard_normal(2048, dtype=np.float32) * 0.1,
        "W2": rng.standard_normal((2048, 10), dtype=np.float32) * 0.05,
        "b2": np.zeros(10, np.float32),
    }
    X, y = rng.standard_normal((128, 64), dtype=np.float32), rng.integers(10, size=128)
    loss, grads = numpy_recipe.RecipeNet(params, label_smoothing=0.1).loss(X, y)
    hidden = np.maximum(X @ params["W1"] + params["b1"], 0)
    _, dscores = numpy_recipe.smoothed_softmax_loss(hidden @ params["W2"] + params["b2"], y, 0.1)
    dhidden = (dscores @ params["W2"].T) * (hidden > 0)
    np.testing.assert_allclose(grads["W1"], X.T @ dhidden, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(grads["b1"], dhidden.sum(axis=0), rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(grads["W2"], hidden.T @ dscores)
    assert grads["W1"].dtype == grads["b1"].dtype == np.float32


def test_a_loop_numba_cannot_cache_is_compiled_without_a_cache():
    """Where no cache folder is writable (or, here, the code has no file), njit(cache=True) refuses at import; the
    engine's decorator compiles the loop uncached instead."""
    namespace = {}
    exec(compile("def double(x):\n    return 2 * x\n", "<no file>", "exec"), namespace)  # noqa: S102
    with pytest.raises(RuntimeError, match="cannot cache"):
        numba.njit(cache=True)(namespace["double"])
    assert kernels.compiled()(namespace["double"])(21) == 42
