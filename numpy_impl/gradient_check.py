"""Numerical gradients by centered differences, to check the hand-written backward passes."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from common.rng import make_rng


def rel_error(x, y) -> float:
    """max over elements of |x - y| / max(1e-8, |x| + |y|), the lab's relative error."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def _centered_difference(f: Callable, x: np.ndarray, ix: tuple, h: float):
    """(f(x + h e_ix) - f(x - h e_ix)) / 2h, restoring x[ix] afterwards."""
    old = x[ix]
    x[ix] = old + h
    plus = f(x)
    x[ix] = old - h
    minus = f(x)
    x[ix] = old
    return (plus - minus) / (2 * h)


def eval_numerical_gradient(
    f: Callable[[np.ndarray], float], x: np.ndarray, verbose: bool = True, h: float = 1e-5
) -> np.ndarray:
    """Gradient of scalar f at x (any shape), same shape as x; x is perturbed in place and restored."""
    grad = np.zeros_like(x)
    for ix in np.ndindex(x.shape):
        grad[ix] = _centered_difference(f, x, ix, h)
        if verbose:
            print(ix, grad[ix])
    return grad


def eval_numerical_gradient_array(
    f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, df: np.ndarray, h: float = 1e-5
) -> np.ndarray:
    """Gradient of sum(f(x) * df) at x, for array-valued f with upstream gradient df; shape of x."""
    grad = np.zeros_like(x)
    for ix in np.ndindex(x.shape):
        grad[ix] = np.sum(_centered_difference(f, x, ix, h) * df)
    return grad


def grad_check_sparse(
    f: Callable[[np.ndarray], float],
    x: np.ndarray,
    analytic_grad: np.ndarray,
    num_checks: int = 10,
    h: float = 1e-5,
    seed: int | None = None,
    verbose: bool = True,
) -> list[float]:
    """Compare analytic_grad with centered differences at num_checks random entries of x; return the errors.

    Each error is |num - ana| / (|num| + |ana|) (0 where both are 0).
    """
    rng = make_rng(seed)
    errors = []
    for _ in range(num_checks):
        ix = tuple(int(rng.choice(n)) for n in x.shape)
        numeric = float(_centered_difference(f, x, ix, h))
        analytic = float(analytic_grad[ix])
        denom = abs(numeric) + abs(analytic)
        error = abs(numeric - analytic) / denom if denom > 0 else 0.0
        errors.append(error)
        if verbose:
            print(f"numerical: {numeric:f} analytic: {analytic:f}, relative error: {error:e}")
    return errors
