"""Convenience "sandwich" layers built from the primitives in layers.py."""

from __future__ import annotations

import numpy as np

from numpy_impl.layers import affine_backward, affine_forward, relu_backward, relu_forward


def affine_relu_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, tuple]:
    """out = relu(x @ w + b).  x: (N, d1, ..., dk), w: (D, M), b: (M,) -> out (N, M)."""
    a, fc_cache = affine_forward(x, w, b)
    out, relu_cache = relu_forward(a, out=a)  # a is ours: the ReLU overwrites it instead of a second (N, M) array
    return out, (fc_cache, relu_cache)


def affine_relu_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """dout (N, M) -> (dx (N, d1, ..., dk), dw (D, M), db (M,)): ReLU backward, then affine backward."""
    fc_cache, relu_cache = cache
    da = relu_backward(dout, relu_cache)
    return affine_backward(da, fc_cache)
