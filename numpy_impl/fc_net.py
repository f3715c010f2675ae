"""TwoLayerNet: affine -> ReLU -> affine -> softmax, with L2 regularization, in plain NumPy."""

from __future__ import annotations

import numpy as np

from common.dtypes import check_float_dtype
from common.init import PARAM_NAMES, initial_params
from common.rng import make_rng
from numpy_impl.layer_utils import affine_relu_forward
from numpy_impl.layers import (
    affine_backward,
    affine_forward,
    affine_param_backward,
    dropout_backward,
    dropout_forward,
    relu_backward,
    softmax_loss,
)


class TwoLayerNet:
    """Two-layer fully-connected net: scores = relu(X W1 + b1) W2 + b2, softmax loss, L2 on W1 and W2.

    ``params`` is a plain dict of arrays (W1 (D, H), b1 (H,), W2 (H, C), b2 (C,)) that
    the Solver and the gradient checks update in place; ``reg`` may be changed at any time.
    Beyond the lab: inverted dropout on the hidden layer while training (``dropout_keep_ratio``
    < 1, the lab's name: the probability of keeping a unit) and ``label_smoothing`` in the loss.
    The dropout masks come from ``dropout_param["rng"]``, seeded from ``seed`` (stream 1).
    With a fixed ``projection`` P (D, k), the net sees x P instead of x and W1 is (k, H), so the
    first layer costs k·H instead of D·H per image; ``folded_params()`` gives the same net with
    W1 = P W1 (D, H), which takes x itself.
    """

    def __init__(
        self,
        input_dim: int = 3 * 32 * 32,
        hidden_dim: int = 100,
        num_classes: int = 10,
        weight_scale: float = 1e-3,
        reg: float = 0.0,
        dtype=np.float64,
        seed: int | None = None,
        dropout_keep_ratio: float = 1.0,
        label_smoothing: float = 0.0,
        projection: np.ndarray | None = None,
    ):
        self.reg = reg
        self.dtype = check_float_dtype(dtype)
        self.projection = None if projection is None else np.asarray(projection, dtype=self.dtype)
        if self.projection is not None and (self.projection.ndim != 2 or self.projection.shape[1] != input_dim):
            raise ValueError(
                f"projection must be (D, input_dim = {input_dim}): the first layer takes x P; got "
                f"{np.shape(projection)}"
            )
        ### BEGIN SOLUTION
        self.params = initial_params(input_dim, hidden_dim, num_classes, weight_scale, self.dtype, seed)
        ### END SOLUTION
        if not 0.0 < dropout_keep_ratio <= 1.0:
            raise ValueError(f"dropout_keep_ratio must be in (0, 1]; got {dropout_keep_ratio!r}")
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1]; got {label_smoothing!r}")
        self.label_smoothing = float(label_smoothing)
        self.dropout_param = {"p": float(dropout_keep_ratio), "mode": "train", "rng": make_rng(seed, stream=1)}

    @classmethod
    def from_params(
        cls, params: dict[str, np.ndarray], reg: float = 0.0, seed: int | None = 0, **options
    ) -> TwoLayerNet:
        """A network holding copies of params (W1 (D, H), b1, W2 (H, C), b2), sizes and dtype taken from them.

        ``seed`` seeds the dropout masks; ``options`` are dropout_keep_ratio, label_smoothing and projection
        (D, k), whose k must be W1's first dimension.
        """
        (input_dim, hidden_dim), num_classes = params["W1"].shape, params["W2"].shape[1]
        model = cls(
            input_dim,
            hidden_dim,
            num_classes,
            weight_scale=0.0,
            reg=reg,
            dtype=params["W1"].dtype,
            seed=seed,
            **options,
        )
        model.params = {name: np.array(params[name], dtype=model.dtype) for name in PARAM_NAMES}
        return model

    def folded_params(self, params: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
        """params (default: the model's) with the projection folded in, W1 = P W1 (D, H): the same scores from x."""
        params = self.params if params is None else params
        folded = {name: value.copy() for name, value in params.items()}
        if self.projection is not None:
            folded["W1"] = self.projection @ params["W1"]
        return folded

    def loss(self, X: np.ndarray, y: np.ndarray | None = None, mix: tuple[np.ndarray, float] | None = None):
        """X: (N, d1, ..., dk) -> scores (N, C) if y is None, else (loss, grads) with grads keyed like params.

        loss = softmax cross-entropy averaged over N + 0.5 * reg * (sum W1^2 + sum W2^2).
        mix = (labels (N,) of the images mixed into X, weight lam of y) (MixUp, CutMix): the target is
        lam onehot(y) + (1 - lam) onehot(mixed-in labels), so the cross-entropy and its gradient are lam
        times y's plus 1 - lam times the mixed-in labels'.
        X is cast to the model's dtype (a no-op when it already matches), never upcast.
        Dropout (if any) acts only when y is given: scores for prediction use every unit.
        """
        X = np.asarray(X, dtype=self.dtype)
        if self.projection is not None:  # a fixed map: no gradient is needed for it
            X = X.reshape(len(X), -1) @ self.projection
        W1, b1, W2, b2 = (self.params[name] for name in PARAM_NAMES)
        ### BEGIN SOLUTION
        hidden, (fc1_cache, relu_cache) = affine_relu_forward(X, W1, b1)
        self.dropout_param["mode"] = "test" if y is None else "train"
        hidden, dropout_cache = dropout_forward(hidden, self.dropout_param)
        scores, scores_cache = affine_forward(hidden, W2, b2)
        if y is None:
            return scores

        loss, dscores = softmax_loss(scores, y, self.label_smoothing)
        if mix is not None:
            mixed_in_labels, weight = mix
            mixed_in_loss, mixed_in_dscores = softmax_loss(scores, mixed_in_labels, self.label_smoothing)
            loss = weight * loss + (1 - weight) * mixed_in_loss
            dscores *= weight
            dscores += (1 - weight) * mixed_in_dscores
        dhidden, dW2, db2 = affine_backward(dscores, scores_cache)
        dhidden = dropout_backward(dhidden, dropout_cache)
        # affine_relu_backward would also compute dX = da @ W1.T, a third of the work, for nobody.
        dW1, db1 = affine_param_backward(relu_backward(dhidden, relu_cache, out=dhidden), fc1_cache)
        if self.reg:
            loss += 0.5 * self.reg * (np.vdot(W1, W1) + np.vdot(W2, W2))  # vdot: sum of squares, no temporary
            dW1 += self.reg * W1
            dW2 += self.reg * W2
        return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
        ### END SOLUTION
