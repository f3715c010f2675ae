"""Layers as forward/backward pairs, in the shape of the CS231n two-layer-net lab.

Every ``*_forward`` returns ``(out, cache)``; the matching ``*_backward`` takes the
upstream gradient ``dout`` and that ``cache`` and returns the gradients of the
inputs. Everything keeps the input's floating dtype (float32 stays float32).
Derivations: docs/derivations.md.
"""

from __future__ import annotations

import numpy as np

from numpy_impl.checks import check_affine, check_dout, check_labels, check_scores


def affine_forward(x, w, b):
    """out = x.reshape(N, D) @ w + b.  x: (N, d1, ..., dk), w: (D, M), b: (M,) -> (out (N, M), cache)."""
    x, w, b = check_affine(x, w, b)
    ### BEGIN SOLUTION
    out = x.reshape(x.shape[0], -1) @ w + b
    ### END SOLUTION
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    """dout (N, M) -> dx (N, d1, ..., dk) = dout @ w.T, dw (D, M) = x2d.T @ dout, db (M,) = sum over rows of dout."""
    x, w, b = cache
    dout = check_dout(dout, (x.shape[0], w.shape[1]), "affine_backward")
    ### BEGIN SOLUTION
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = dout.sum(axis=0)
    ### END SOLUTION
    return dx, dw, db


def relu_forward(x):
    """out = max(0, x), elementwise; x of any shape -> (out, cache)."""
    x = np.asarray(x)
    ### BEGIN SOLUTION
    out = np.maximum(0, x)
    ### END SOLUTION
    cache = x
    return out, cache


def relu_backward(dout, cache):
    """dx = dout * [x > 0]: the gradient passes where the input was positive; any shape."""
    x = cache
    dout = check_dout(dout, x.shape, "relu_backward")
    ### BEGIN SOLUTION
    dx = dout * (x > 0)
    ### END SOLUTION
    return dx


def svm_loss(x, y):
    """Multiclass hinge loss averaged over N.  x: (N, C) scores, y: (N,) ints in [0, C) -> (loss, dx (N, C)).

    L = (1/N) sum_i sum_{j != y_i} max(0, x_ij - x_iy_i + 1).
    """
    x = check_scores(x, "svm_loss")
    y = check_labels(y, *x.shape, "svm_loss")
    ### BEGIN SOLUTION
    n = x.shape[0]
    rows = np.arange(n)
    margins = np.maximum(0, x - x[rows, y][:, None] + 1)
    margins[rows, y] = 0
    loss = margins.sum() / n
    positive = margins > 0
    dx = positive.astype(x.dtype)
    dx[rows, y] -= positive.sum(axis=1)  # the correct class gets -1 for every violated margin
    dx /= n
    ### END SOLUTION
    return loss, dx


def softmax_loss(x, y):
    """Cross-entropy of softmax(x) averaged over N.  x: (N, C) scores, y: (N,) ints in [0, C) -> (loss, dx (N, C)).

    Stable form: log p_ij = s_ij - log sum_k exp(s_ik), with s = x - max_j x_ij, so exp never
    overflows; dx = (p - onehot(y)) / N.
    """
    x = check_scores(x, "softmax_loss")
    y = check_labels(y, *x.shape, "softmax_loss")
    ### BEGIN SOLUTION
    n = x.shape[0]
    shifted = x - x.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(n), y].sum() / n
    dx = np.exp(log_probs)
    dx[np.arange(n), y] -= 1
    dx /= n
    ### END SOLUTION
    return loss, dx
