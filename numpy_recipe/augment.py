"""Training-batch augmentation in NumPy: apply a batch stream's draws (common.batches) in one compiled pass."""

from __future__ import annotations

import numpy as np

from numpy_recipe import kernels


def flip_and_shift(
    images: np.ndarray,
    flips: np.ndarray,
    shifts: np.ndarray,
    out: np.ndarray | None = None,
    rows: np.ndarray | None = None,
) -> np.ndarray:
    """images (M, C, H, W) -> (N, C, H, W): image rows[i] (default: i) mirrored left-right if flips[i], then cropped
    at offset shifts[i].

    A shift (dy, dx) is the crop of the zero-padded image whose top-left corner sits (dy, dx)
    pixels from the original's: out[i, :, r, c] = flipped[rows[i], :, r + dy, c + dx], 0 outside.
    The gather of the rows, the mirror and the crop are one pass (kernels.gather_flip_shift).
    """
    rows = np.arange(len(images)) if rows is None else np.asarray(rows)
    if out is None:
        out = np.empty((len(rows), *images.shape[1:]), dtype=images.dtype)
    kernels.gather_flip_shift(images, rows, np.asarray(flips), np.asarray(shifts), out)
    return out
