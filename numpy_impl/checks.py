"""The lab's argument checks, shared by the layers: each raises ValueError saying what was expected."""

from __future__ import annotations

import numpy as np


def check_affine(x, w, b) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x (N, d1, ..., dk), w (D, M) with D = d1 * ... * dk, b (M,) as arrays, or raise."""
    x, w, b = np.asarray(x), np.asarray(w), np.asarray(b)
    if x.ndim < 1:
        raise ValueError(f"affine_forward: x must have a batch axis, got a scalar of shape {x.shape}")
    n, d = x.shape[0], int(np.prod(x.shape[1:], dtype=np.int64))
    if w.ndim != 2 or w.shape[0] != d:
        raise ValueError(
            f"affine_forward: x of shape {x.shape} flattens to (N, D) = ({n}, {d}), "
            f"so w must have shape ({d}, M); got w of shape {w.shape}"
        )
    if b.shape != (w.shape[1],):
        raise ValueError(
            f"affine_forward: b must have shape ({w.shape[1]},) to match w's {w.shape[1]} columns; "
            f"got b of shape {b.shape}"
        )
    return x, w, b


def check_sizes(**sizes) -> None:
    """Raise unless every size (name=value) is a positive integer."""
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"TwoLayerNet: {name} must be a positive integer; got {value!r}")


def check_dout(dout, expected_shape: tuple, where: str) -> np.ndarray:
    """Return dout as an array, or raise if its shape differs from the forward output's shape."""
    dout = np.asarray(dout)
    if dout.shape != tuple(expected_shape):
        raise ValueError(
            f"{where}: dout must have the forward output's shape {tuple(expected_shape)}; got {dout.shape}"
        )
    return dout


def check_scores(x, where: str) -> np.ndarray:
    """Return x as a floating (N, C) array, or raise."""
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"{where}: scores x must have shape (N, C); got shape {x.shape}")
    if not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"{where}: scores x must be floating point (float32 or float64); got {x.dtype}")
    return x


def check_labels(y, n: int, num_classes: int, where: str) -> np.ndarray:
    """Return y as an integer (N,) array with values in [0, num_classes), or raise."""
    y = np.asarray(y)
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"{where}: labels y must be integers; got dtype {y.dtype}")
    if y.shape != (n,):
        raise ValueError(f"{where}: labels y must have shape ({n},), one per row of x; got {y.shape}")
    if n and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(f"{where}: labels y must lie in [0, {num_classes}); got values from {y.min()} to {y.max()}")
    return y
