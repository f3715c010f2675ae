"""The initial weights as data: one draw, loaded into either implementation, so twins start equal."""

from __future__ import annotations

import numpy as np

from common.dtypes import check_float_dtype
from common.rng import make_rng

PARAM_NAMES = ("W1", "b1", "W2", "b2")


def initial_params(
    input_dim: int, hidden_dim: int, num_classes: int, weight_scale: float, dtype=np.float64, seed: int | None = None
) -> dict[str, np.ndarray]:
    """Weights ~ N(0, weight_scale^2), biases 0, in the lab's layout: W1 (D, H), b1 (H,), W2 (H, C), b2 (C,).

    W1 is drawn first, then W2, from ``make_rng(seed)``: the draws numpy_impl.TwoLayerNet makes
    for the same seed, so either implementation loaded with these starts where the oracle does.
    """
    for name, value in (("input_dim", input_dim), ("hidden_dim", hidden_dim), ("num_classes", num_classes)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer; got {value!r}")
    if not np.isfinite(weight_scale) or weight_scale < 0:
        raise ValueError(f"weight_scale must be a finite number >= 0; got {weight_scale!r}")
    dtype = check_float_dtype(dtype)
    rng = make_rng(seed)
    return {
        "W1": (weight_scale * rng.standard_normal((input_dim, hidden_dim))).astype(dtype),
        "b1": np.zeros(hidden_dim, dtype=dtype),
        "W2": (weight_scale * rng.standard_normal((hidden_dim, num_classes))).astype(dtype),
        "b2": np.zeros(num_classes, dtype=dtype),
    }


INITS = ("normal", "he", "images")


def initial_weights(
    init: str,
    input_dim: int,
    hidden_dim: int,
    num_classes: int,
    weight_scale: float,
    dtype=np.float64,
    seed: int | None = None,
    inputs: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """The initial params for an ``init`` scheme (the same draws for either implementation):

        normal  W ~ N(0, weight_scale^2): the lab's (``initial_params``)
        he      W1 ~ N(0, 2 / D), W2 ~ N(0, 2 / H): He et al.'s scaling for layers that feed ReLUs
        images  W2 as he; W1's columns are random rows of ``inputs`` (N, D), each rescaled to norm sqrt(2), the
                norm a he column has on average: the first layer starts out matching real images

    The same standard-normal draws as ``initial_params`` (from ``make_rng(seed)``) are scaled, and the
    images are chosen by stream 3 of the seed.
    """
    if init not in INITS:
        raise ValueError(f"unknown init {init!r}; expected one of {', '.join(INITS)}")
    if init == "normal":
        return initial_params(input_dim, hidden_dim, num_classes, weight_scale, dtype, seed)
    dtype = check_float_dtype(dtype)
    params = initial_params(input_dim, hidden_dim, num_classes, 1.0, np.float64, seed)
    params["W1"] *= np.sqrt(2.0 / input_dim)
    params["W2"] *= np.sqrt(2.0 / hidden_dim)
    if init == "images":
        if inputs is None or np.ndim(inputs) != 2 or np.shape(inputs)[1] != input_dim:
            raise ValueError(f"init 'images' needs inputs (N, {input_dim}); got {np.shape(inputs)}")
        rows = make_rng(seed, stream=3).choice(len(inputs), hidden_dim, replace=hidden_dim > len(inputs))
        chosen = np.asarray(inputs[rows], dtype=np.float64)
        norms = np.linalg.norm(chosen, axis=1, keepdims=True)
        params["W1"] = (np.sqrt(2.0) * chosen / np.where(norms > 0, norms, 1.0)).T
    return {name: np.ascontiguousarray(value, dtype=dtype) for name, value in params.items()}
