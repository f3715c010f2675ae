"""TwoLayerNet: affine -> ReLU -> affine -> softmax, with L2 regularization, in plain NumPy."""

from __future__ import annotations

import numpy as np

from common.dtypes import check_float_dtype
from common.rng import make_rng
from numpy_impl.checks import check_sizes
from numpy_impl.layer_utils import affine_relu_backward, affine_relu_forward
from numpy_impl.layers import affine_backward, affine_forward, relu_backward, relu_forward, softmax_loss  # noqa: F401


class TwoLayerNet:
    """Two-layer fully-connected net: scores = relu(X W1 + b1) W2 + b2, softmax loss, L2 on W1 and W2.

    ``params`` is a plain dict of arrays, W1 (D, H), b1 (H,), W2 (H, C), b2 (C,), that the Solver
    and the gradient checks update in place; ``reg`` may be changed at any time.
    """

    def __init__(
        self,
        input_dim=3 * 32 * 32,
        hidden_dim=100,
        num_classes=10,
        weight_scale=1e-3,
        reg=0.0,
        dtype=np.float64,
        seed=None,
    ):
        """Weights ~ N(0, weight_scale^2) drawn from make_rng(seed) (W1 first, then W2), biases zero, in dtype.

        seed=None draws from np.random, as the lab does after np.random.seed(231).
        """
        check_sizes(input_dim=input_dim, hidden_dim=hidden_dim, num_classes=num_classes)
        self.reg = reg
        self.dtype = check_float_dtype(dtype)
        self.params = {}
        rng = make_rng(seed)
        ### BEGIN SOLUTION
        self.params["W1"] = (weight_scale * rng.standard_normal((input_dim, hidden_dim))).astype(self.dtype)
        self.params["b1"] = np.zeros(hidden_dim, dtype=self.dtype)
        self.params["W2"] = (weight_scale * rng.standard_normal((hidden_dim, num_classes))).astype(self.dtype)
        self.params["b2"] = np.zeros(num_classes, dtype=self.dtype)
        ### END SOLUTION

    def loss(self, X, y=None):
        """X: (N, d1, ..., dk) -> scores (N, C) if y is None, else (loss, grads) with grads keyed like params.

        loss = softmax cross-entropy averaged over N + 0.5 * reg * (sum W1^2 + sum W2^2).
        X is cast to the model's dtype (a no-op when it already matches), never upcast.
        """
        X = np.asarray(X, dtype=self.dtype)
        W1, b1, W2, b2 = self.params["W1"], self.params["b1"], self.params["W2"], self.params["b2"]
        grads = {}
        ### BEGIN SOLUTION
        hidden, hidden_cache = affine_relu_forward(X, W1, b1)
        scores, scores_cache = affine_forward(hidden, W2, b2)
        if y is None:
            return scores

        loss, dscores = softmax_loss(scores, y)
        loss += 0.5 * self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
        dhidden, grads["W2"], grads["b2"] = affine_backward(dscores, scores_cache)
        _, grads["W1"], grads["b1"] = affine_relu_backward(dhidden, hidden_cache)
        grads["W2"] += self.reg * W2
        grads["W1"] += self.reg * W1
        ### END SOLUTION
        return loss, grads
