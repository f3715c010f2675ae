"""The recipes' network: numpy_impl.TwoLayerNet's maths with label smoothing and a fixed first-layer projection,
computed with one compiled pass over the hidden layer each way (numpy_recipe.kernels) beside the matrix products."""

from __future__ import annotations

import numpy as np

from common.dtypes import check_float_dtype
from common.init import PARAM_NAMES
from numpy_impl.layers import softmax_loss
from numpy_recipe import kernels


def smoothed_softmax_loss(x: np.ndarray, y: np.ndarray, smoothing: float) -> tuple[float, np.ndarray]:
    """Softmax cross-entropy against q = (1 - e) onehot(y) + e / C (torch's ``label_smoothing``), averaged over N.

    x: (N, C) scores, y: (N,) -> (loss, dx (N, C)): L = -(1/N) sum_ij q_ij log p_ij, dx = (p - q) / N.
    With e = 0 this is the lab's softmax_loss, which computes it.
    """
    if not smoothing:
        return softmax_loss(x, y)
    n, c = x.shape
    rows = np.arange(n)
    shifted = x - x.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -(1 - smoothing) * log_probs[rows, y].sum() / n - smoothing / c * log_probs.sum() / n
    dx = np.exp(log_probs)
    dx -= smoothing / c
    dx[rows, y] -= 1 - smoothing
    dx /= n
    return loss, dx


class RecipeNet:
    """scores = relu(x P W1 + b1) W2 + b2 (P: an optional fixed projection (D, k), then W1 is (k, H)); loss =
    smoothed softmax cross-entropy + 0.5 * reg * (|W1|^2 + |W2|^2).

    ``params`` holds copies of the given W1, b1, W2, b2 in their dtype. ``loss`` keeps numpy_impl.TwoLayerNet's
    interface; it computes no gradient for x, the ReLU overwrites the hidden layer and its backward the hidden layer's
    gradient, in place.
    ``folded_params()`` gives the same net for x itself, W1 = P W1 (D, H): what model.npz holds.
    """

    def __init__(
        self,
        params: dict[str, np.ndarray],
        reg: float = 0.0,
        label_smoothing: float = 0.0,
        projection: np.ndarray | None = None,
    ):
        self.dtype = check_float_dtype(params["W1"].dtype)
        self.params = {name: np.array(params[name], dtype=self.dtype) for name in PARAM_NAMES}
        self.reg = float(reg)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1]; got {label_smoothing!r}")
        self.label_smoothing = float(label_smoothing)
        self.projection = None if projection is None else np.asarray(projection, dtype=self.dtype)
        k = self.params["W1"].shape[0]
        if self.projection is not None and (self.projection.ndim != 2 or self.projection.shape[1] != k):
            raise ValueError(f"projection must be (D, k) with k = W1's {k} rows; got {np.shape(projection)}")

    @property
    def input_dim(self) -> int:
        return self.params["W1"].shape[0] if self.projection is None else self.projection.shape[0]

    def folded_params(self, params: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
        """params (default: the model's) with the projection folded in, W1 = P W1 (D, H): the same scores from x."""
        params = self.params if params is None else params
        folded = {name: value.copy() for name, value in params.items()}
        if self.projection is not None:
            folded["W1"] = self.projection @ params["W1"]
        return folded

    def loss(self, X: np.ndarray, y: np.ndarray | None = None):
        """X: (N, d1, ..., dk) -> scores (N, C) if y is None, else (loss, grads) with grads keyed like params."""
        X = np.asarray(X, dtype=self.dtype).reshape(len(X), -1)
        if self.projection is not None:
            X = X @ self.projection
        W1, b1, W2, b2 = (self.params[name] for name in PARAM_NAMES)
        hidden = X @ W1
        kernels.add_bias_relu(hidden, b1)  # one pass: hidden = max(0, hidden + b1)
        scores = hidden @ W2
        scores += b2
        if y is None:
            return scores

        loss, dscores = smoothed_softmax_loss(scores, y, self.label_smoothing)
        dW2, db2 = hidden.T @ dscores, dscores.sum(axis=0)
        dhidden = dscores @ W2.T
        db1 = np.empty_like(b1)
        kernels.relu_backward_bias_grad(dhidden, hidden, db1)  # one pass: dhidden *= [hidden > 0], db1 = its sums
        dW1 = X.T @ dhidden
        if self.reg:
            loss += 0.5 * self.reg * (np.vdot(W1, W1) + np.vdot(W2, W2))  # vdot: sum of squares, no temporary
            dW1 += self.reg * W1
            dW2 += self.reg * W2
        return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
