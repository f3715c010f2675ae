"""The engine's compiled loops (Numba): each fuses passes that plain NumPy makes one at a time.

Each runs on one core: spread over both (``prange``), the update measured slower inside the training step,
where it follows the matrix products and their library's threads (docs/performance.md, "Levers"). Each
computes, in the arrays' own dtype (every scalar is passed in it: no float64 inside a float32 run), what the
lab's plain formula computes; compare/checks.py's ``check_engine_kernels`` checks each against it. Compiled on
first use and cached beside this file (where no cache folder is writable, compiled afresh in each process).
"""

from __future__ import annotations

import numpy as np
from numba import njit


def compiled(**options):
    """numba.njit(**options) with the machine code cached beside this file; where no cache folder is writable (a
    read-only install), Numba refuses to cache, and the loop is compiled afresh in each process instead."""

    def decorate(function):
        try:
            return njit(cache=True, **options)(function)
        except RuntimeError:  # "cannot cache function ...: no locator available"
            return njit(**options)(function)

    return decorate


@compiled(error_model="numpy")  # NumPy's division (no ZeroDivisionError check): the loop vectorizes
def adamw_flat(w, dw, m, v, shrink, beta1, one_minus_beta1, beta2, one_minus_beta2, step_size, correction2, epsilon):
    """w, dw, m, v (n,), in place: m = b1 m + (1 - b1) dw; v = b2 v + (1 - b2) dw^2;
    w = shrink w - step_size m / (sqrt(v) / correction2 + epsilon), one pass (step_size = lr / (1 - b1^t),
    correction2 = sqrt(1 - b2^t), shrink = 1 - lr weight_decay: torch's AdamW)."""
    for i in range(w.size):
        g = dw[i]
        m_i = beta1 * m[i] + one_minus_beta1 * g
        v_i = beta2 * v[i] + one_minus_beta2 * (g * g)
        m[i] = m_i
        v[i] = v_i
        w[i] = w[i] * shrink - step_size * m_i / (np.sqrt(v_i) / correction2 + epsilon)


@compiled()
def nesterov_flat(w, dw, velocity, momentum, learning_rate, learning_rate_times_momentum):
    """w, dw, velocity (n,), in place: v = momentum v + dw; w -= lr dw, then w -= (lr momentum) v (torch's form)."""
    for i in range(w.size):
        g = dw[i]
        v_i = momentum * velocity[i] + g
        velocity[i] = v_i
        w[i] = (w[i] - learning_rate * g) - learning_rate_times_momentum * v_i


@compiled()
def add_bias_relu(hidden, bias):
    """hidden (N, H) = max(0, hidden + bias (H,)), in place; NaN stays NaN (a diverging run is still seen)."""
    n, h = hidden.shape
    zero = hidden.dtype.type(0)  # a bare 0 would make the branch float64
    for i in range(n):
        for j in range(h):
            a = hidden[i, j] + bias[j]
            hidden[i, j] = zero if a < 0 else a


@compiled()
def relu_backward_bias_grad(dhidden, hidden, dbias):
    """dhidden (N, H) = dhidden * [hidden > 0] in place (0 where the ReLU was off, as torch's threshold_backward),
    and dbias (H,) = its column sums over the rows in order, in one pass."""
    n, h = dhidden.shape
    zero = dhidden.dtype.type(0)  # a bare 0 would make d, and the sums, float64
    dbias[:] = zero
    for i in range(n):
        for j in range(h):
            d = dhidden[i, j] if hidden[i, j] > 0 else zero
            dhidden[i, j] = d
            dbias[j] += d


@compiled()
def gather_flip_shift(images, rows, flips, shifts, out):
    """out[i] (C, H, W) = images[rows[i]], mirrored left-right if flips[i], then cropped from its zero-padded copy
    at offset shifts[i] = (dy, dx): out[i, :, r, c] = flipped[:, r + dy, c + dx], 0 outside. One pass per image."""
    _, channels, height, width = images.shape
    for i in range(len(rows)):
        source = images[rows[i]]
        dy, dx, flip = shifts[i, 0], shifts[i, 1], flips[i]
        for channel in range(channels):
            for r in range(height):
                source_row = r + dy
                if source_row < 0 or source_row >= height:
                    out[i, channel, r, :] = 0
                    continue
                for c in range(width):
                    column = c + dx
                    if column < 0 or column >= width:
                        out[i, channel, r, c] = 0
                    else:
                        out[i, channel, r, c] = source[channel, source_row, width - 1 - column if flip else column]
