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
    dtype = check_float_dtype(dtype)
    rng = make_rng(seed)
    return {
        "W1": (weight_scale * rng.standard_normal((input_dim, hidden_dim))).astype(dtype),
        "b1": np.zeros(hidden_dim, dtype=dtype),
        "W2": (weight_scale * rng.standard_normal((hidden_dim, num_classes))).astype(dtype),
        "b2": np.zeros(num_classes, dtype=dtype),
    }
