"""Layers as forward/backward pairs, in the shape of the CS231n two-layer-net lab.

Every ``*_forward`` returns ``(out, cache)``; the matching ``*_backward`` takes the
upstream gradient ``dout`` and that ``cache`` and returns the gradients of the
inputs. Everything keeps the input's floating dtype (float32 stays float32).
Derivations: docs/derivations.md.
"""

from __future__ import annotations

import numpy as np

from numpy_impl.checks import check_dout, check_labels, check_scores

Array = np.ndarray


def affine_forward(x: Array, w: Array, b: Array) -> tuple[Array, tuple]:
    """out = x.reshape(N, D) @ w + b.  x: (N, d1, ..., dk), w: (D, M), b: (M,) -> out (N, M)."""
    x, w, b = np.asarray(x), np.asarray(w), np.asarray(b)
    if x.ndim < 1:
        raise ValueError(f"affine_forward: x must have a batch axis, got a scalar of shape {x.shape}")
    n = x.shape[0]
    d = int(np.prod(x.shape[1:], dtype=np.int64))
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
    ### BEGIN SOLUTION
    out = x.reshape(n, d) @ w  # reshape is a view for contiguous x: no copy
    out += b
    ### END SOLUTION
    return out, (x, w, b)


def affine_backward(dout: Array, cache: tuple) -> tuple[Array, Array, Array]:
    """dout (N, M) -> dx (N, d1, ..., dk) = dout @ w.T, dw (D, M) = x2d.T @ dout, db (M,) = sum_rows dout."""
    x, w, _ = cache
    dw, db = affine_param_backward(dout, cache)
    ### BEGIN SOLUTION
    dx = (dout @ w.T).reshape(x.shape)
    ### END SOLUTION
    return dx, dw, db


def affine_param_backward(dout: Array, cache: tuple) -> tuple[Array, Array]:
    """affine_backward without dx: dout (N, M) -> dw (D, M), db (M,), for a layer whose input needs no gradient."""
    x, w, _ = cache
    n = x.shape[0]
    dout = check_dout(dout, (n, w.shape[1]), "affine_backward")
    ### BEGIN SOLUTION
    dw = x.reshape(n, -1).T @ dout
    db = dout.sum(axis=0)
    ### END SOLUTION
    return dw, db


def relu_forward(x: Array, out: Array | None = None) -> tuple[Array, Array]:
    """out = max(0, x), elementwise; any shape. ``out=x`` overwrites x (its sign, all the cache needs, stays)."""
    x = np.asarray(x)
    ### BEGIN SOLUTION
    out = np.maximum(x, 0, out=out)
    ### END SOLUTION
    return out, x


def relu_backward(dout: Array, cache: Array, out: Array | None = None) -> Array:
    """dx = dout * [x > 0]: the gradient passes where the input was positive, any shape. ``out=dout`` reuses dout."""
    x = cache
    dout = check_dout(dout, x.shape, "relu_backward")
    ### BEGIN SOLUTION
    dx = np.multiply(dout, x > 0, out=out)  # a multiply by the boolean mask: ~10x faster than np.where here
    ### END SOLUTION
    return dx


def svm_loss(x: Array, y: Array) -> tuple[Array, Array]:
    """Multiclass hinge loss averaged over N.  x: (N, C) scores, y: (N,) ints in [0, C) -> (loss, dx (N, C)).

    L = (1/N) sum_i sum_{j != y_i} max(0, x_ij - x_iy_i + 1).
    """
    x = check_scores(x, "svm_loss")
    n, c = x.shape
    y = check_labels(y, n, c, "svm_loss")
    rows = np.arange(n)
    ### BEGIN SOLUTION
    margins = np.maximum(0, x - x[rows, y][:, None] + 1)
    margins[rows, y] = 0
    loss = margins.sum() / n
    positive = margins > 0
    dx = positive.astype(x.dtype)
    dx[rows, y] -= positive.sum(axis=1)  # the correct class gets -1 for every violated margin
    dx /= n
    ### END SOLUTION
    return loss, dx


def softmax_loss(x: Array, y: Array, label_smoothing: float = 0.0) -> tuple[Array, Array]:
    """Cross-entropy of softmax(x) averaged over N.  x: (N, C) scores, y: (N,) ints in [0, C) -> (loss, dx (N, C)).

    Stable form: log p_ij = s_ij - log sum_k exp(s_ik), with s = x - max_j x_ij,
    so exp never overflows. With label smoothing e the target is q = (1 - e) onehot(y) + e / C
    (torch's ``label_smoothing``): L = -(1/N) sum_ij q_ij log p_ij and dx = (p - q) / N.
    """
    x = check_scores(x, "softmax_loss")
    n, c = x.shape
    y = check_labels(y, n, c, "softmax_loss")
    smoothing = float(label_smoothing)
    if not 0.0 <= smoothing <= 1.0:
        raise ValueError(f"softmax_loss: label_smoothing must be in [0, 1]; got {label_smoothing!r}")
    rows = np.arange(n)
    ### BEGIN SOLUTION
    shifted = x - x.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -(1 - smoothing) * log_probs[rows, y].sum() / n
    if smoothing:
        loss -= smoothing / c * log_probs.sum() / n
    dx = np.exp(log_probs)
    if smoothing:
        dx -= smoothing / c
    dx[rows, y] -= 1 - smoothing
    dx /= n
    ### END SOLUTION
    return loss, dx


def dropout_mask(shape: tuple, keep_prob: float, rng, dtype=np.float64) -> Array:
    """Inverted-dropout mask of the given shape: 1/keep_prob with probability keep_prob, else 0."""
    return ((rng.random(shape) < keep_prob) / keep_prob).astype(dtype, copy=False)


def dropout_forward(x: Array, dropout_param: dict) -> tuple[Array, tuple]:
    """Inverted dropout, as in the lab: x (any shape) -> (out, cache).

    dropout_param: "p", the probability of KEEPING each unit (the lab's convention; torch's
    nn.Dropout(p) takes the drop probability 1 - p); "mode", "train" or "test"; optional
    "seed" (reseeds np.random like the lab) or "rng" (a np.random.Generator). In training,
    out = x * mask with mask = [u < p] / p, so E[out] = x and test mode is the identity.
    """
    keep = float(dropout_param["p"])
    mode = dropout_param.get("mode", "train")
    if not 0.0 < keep <= 1.0:
        raise ValueError(f"dropout_forward: p (keep probability) must be in (0, 1]; got {dropout_param['p']!r}")
    if mode not in ("train", "test"):
        raise ValueError(f"dropout_forward: mode must be 'train' or 'test'; got {mode!r}")
    x = np.asarray(x)
    if mode == "test" or keep == 1.0:
        return x, (dropout_param, None)
    if "seed" in dropout_param:  # the lab's way to a repeatable mask
        np.random.seed(dropout_param["seed"])
        rng = np.random.mtrand._rand
    else:
        rng = dropout_param.get("rng") or np.random.mtrand._rand
    mask = dropout_mask(x.shape, keep, rng, x.dtype)
    return x * mask, (dropout_param, mask)


def dropout_backward(dout: Array, cache: tuple) -> Array:
    """dx = dout * mask in training mode (the same mask as the forward pass), dout in test mode."""
    _, mask = cache
    if mask is None:
        return np.asarray(dout)
    return check_dout(dout, mask.shape, "dropout_backward") * mask
