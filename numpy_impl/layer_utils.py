"""Convenience "sandwich" layers built from the primitives in layers.py."""

from __future__ import annotations

from numpy_impl.layers import affine_backward, affine_forward, relu_backward, relu_forward


def affine_relu_forward(x, w, b):
    """out = relu(x @ w + b).  x: (N, d1, ..., dk), w: (D, M), b: (M,) -> (out (N, M), cache)."""
    a, fc_cache = affine_forward(x, w, b)
    out, relu_cache = relu_forward(a)
    cache = (fc_cache, relu_cache)
    return out, cache


def affine_relu_backward(dout, cache):
    """dout (N, M) -> (dx (N, d1, ..., dk), dw (D, M), db (M,)): ReLU backward, then affine backward."""
    fc_cache, relu_cache = cache
    da = relu_backward(dout, relu_cache)
    dx, dw, db = affine_backward(da, fc_cache)
    return dx, dw, db
