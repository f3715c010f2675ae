"""Every correct way a student writes each part passes the grader, through the kit's pre-written code.

Two kits are built from the oracle: in each, every solution region is replaced by another correct
variant (a mask ``>= 0`` ReLU, a looped SVM, an unseeded init, the forward pass without the sandwich, ...),
and the whole kit must grade 16/16: the sandwich, the Solver and the gradient checks call only the lab's
signatures, so nothing the student writes in the lab's form can break them.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from compare.grade import grade
from exercises.__main__ import ORACLE, PACKAGE, student_source
from exercises.blank import fill

# function -> two correct solutions, each unlike the oracle's
VARIANTS = {
    "affine_forward": [
        "out = np.dot(x.reshape(x.shape[0], -1), w) + b",
        "out = x.reshape(len(x), int(np.prod(x.shape[1:]))).dot(w) + b[np.newaxis, :]",
    ],
    "affine_backward": [
        """
        dx = dout.dot(w.T).reshape(*x.shape)
        dw = x.reshape(x.shape[0], -1).T.dot(dout)
        db = np.sum(dout, axis=0)
        """,
        """
        x_rows = x.reshape(x.shape[0], -1)
        dw = np.zeros_like(w)
        for i in range(x.shape[0]):
            dw += np.outer(x_rows[i], dout[i])
        dx = np.reshape(dout @ w.T, x.shape)
        db = dout.sum(0)
        """,
    ],
    "relu_forward": ["out = x * (x > 0)", "out = np.where(x > 0, x, 0)"],
    "relu_backward": [
        "dx = dout * (x >= 0)",
        """
        dx = dout.copy()
        dx[x <= 0] = 0
        """,
    ],
    "svm_loss": [
        """
        num_train, num_classes = x.shape
        loss = 0.0
        dx = np.zeros_like(x)
        for i in range(num_train):
            for j in range(num_classes):
                if j == y[i]:
                    continue
                margin = x[i, j] - x[i, y[i]] + 1
                if margin > 0:
                    loss += margin
                    dx[i, j] += 1
                    dx[i, y[i]] -= 1
        loss /= num_train
        dx /= num_train
        """,
        """
        n = x.shape[0]
        correct = x[np.arange(n), y]
        margins = np.maximum(0, x - correct[:, np.newaxis] + 1.0)
        margins[np.arange(n), y] = 0
        loss = np.sum(margins) / n
        counts = (margins > 0).astype(x.dtype)
        counts[np.arange(n), y] = -np.sum(counts, axis=1)
        dx = counts / n
        """,
    ],
    "softmax_loss": [
        """
        n = x.shape[0]
        shifted_logits = x - np.max(x, axis=1, keepdims=True)
        probs = np.exp(shifted_logits) / np.sum(np.exp(shifted_logits), axis=1, keepdims=True)
        loss = -np.sum(np.log(probs[np.arange(n), y])) / n  # the log of a probability: finite while gaps stay small
        dx = probs.copy()
        dx[np.arange(n), y] -= 1
        dx /= n
        """,
        """
        n = len(y)
        shifted = x - x.max(axis=1)[:, None]
        log_z = np.log(np.exp(shifted).sum(axis=1))
        loss = np.sum(log_z - shifted[np.arange(n), y]) / n
        onehot = np.zeros_like(x)
        onehot[np.arange(n), y] = 1
        dx = (np.exp(shifted - log_z[:, None]) - onehot) / n
        """,
    ],
    "TwoLayerNet.__init__": [
        """
        self.params["W1"] = (weight_scale * np.random.randn(input_dim, hidden_dim)).astype(self.dtype)
        self.params["b1"] = np.zeros(hidden_dim, dtype=self.dtype)
        self.params["W2"] = (weight_scale * np.random.randn(hidden_dim, num_classes)).astype(self.dtype)
        self.params["b2"] = np.zeros(num_classes, dtype=self.dtype)
        """,
        """
        self.params = {
            "W1": rng.normal(0.0, weight_scale, size=(input_dim, hidden_dim)).astype(self.dtype),
            "b1": np.zeros((hidden_dim,), self.dtype),
            "W2": rng.normal(0.0, weight_scale, size=(hidden_dim, num_classes)).astype(self.dtype),
            "b2": np.zeros((num_classes,), self.dtype),
        }
        """,
    ],
    "TwoLayerNet.loss": [
        """
        a1, fc1_cache = affine_forward(X, W1, b1)
        h1, relu_cache = relu_forward(a1)
        scores, fc2_cache = affine_forward(h1, W2, b2)
        if y is None:
            return scores
        loss, dscores = softmax_loss(scores, y)
        loss += 0.5 * self.reg * (np.sum(W1**2) + np.sum(W2**2))
        dh1, dW2, db2 = affine_backward(dscores, fc2_cache)
        da1 = relu_backward(dh1, relu_cache)
        _, dW1, db1 = affine_backward(da1, fc1_cache)
        grads = {"W1": dW1 + self.reg * W1, "b1": db1, "W2": dW2 + self.reg * W2, "b2": db2}
        """,
        """
        hidden, cache1 = affine_relu_forward(X, W1, b1)
        scores, cache2 = affine_forward(hidden, W2, b2)
        if y is None:
            return scores
        data_loss, dscores = softmax_loss(scores, y)
        reg_loss = 0.5 * self.reg * sum(np.sum(W * W) for W in (W1, W2))
        loss = data_loss + reg_loss
        dhidden, dW2, grads["b2"] = affine_backward(dscores, cache2)
        _, dW1, grads["b1"] = affine_relu_backward(dhidden, cache1)
        grads["W1"] = dW1 + self.reg * W1
        grads["W2"] = dW2 + self.reg * W2
        """,
    ],
    "sgd_momentum": [
        """
        v *= mu
        v -= lr * dw
        next_w = w + v
        """,
        """
        v = mu * v + (-lr) * dw
        next_w = w.copy()
        next_w += v
        """,
    ],
    "rmsprop": [
        """
        config["cache"] = decay * config["cache"] + (1 - decay) * (dw * dw)
        next_w = w - lr * dw / (np.sqrt(config["cache"]) + eps)
        """,
        """
        cache = config["cache"]
        cache = cache * decay + np.square(dw) * (1 - decay)
        config["cache"] = cache
        next_w = w + -lr * dw / (np.sqrt(cache) + eps)
        """,
    ],
    "adam": [
        """
        config["t"] += 1
        config["m"] = beta1 * config["m"] + (1 - beta1) * dw
        config["v"] = beta2 * config["v"] + (1 - beta2) * (dw**2)
        mt = config["m"] / (1 - beta1 ** config["t"])
        vt = config["v"] / (1 - beta2 ** config["t"])
        next_w = w - lr * mt / (np.sqrt(vt) + eps)
        """,
        """
        t, m, v = config["t"] + 1, config["m"], config["v"]
        m = m + (1 - beta1) * (dw - m)
        v = v + (1 - beta2) * (dw * dw - v)
        step = lr * np.sqrt(1 - beta2**t) / (1 - beta1**t)
        next_w = w - step * m / (np.sqrt(v) + eps * np.sqrt(1 - beta2**t))
        config["t"], config["m"], config["v"] = t, m, v
        """,
    ],
}


def solved_kit(folder: Path, choice: int) -> Path:
    """The oracle's files as a student's lab folder, each solution region replaced by VARIANTS[name][choice]."""
    lab = folder / PACKAGE
    lab.mkdir(parents=True)
    used = set()
    for path in ORACLE.glob("*.py"):
        blanked, names, solutions = student_source(path.read_text())
        for i, name in enumerate(names):
            indent = solutions[i][: len(solutions[i]) - len(solutions[i].lstrip())]
            solutions[i] = textwrap.indent(textwrap.dedent(VARIANTS[name][choice]).strip("\n"), indent)
            used.add(name)
        (lab / path.name).write_text(fill(blanked, solutions) if names else blanked)
    assert used == set(VARIANTS), "every solution region has its variants, and no variant lacks a region"
    return lab


@pytest.mark.slow
@pytest.mark.parametrize("choice", [0, 1])
def test_every_correct_variant_passes_through_the_pre_written_code(tmp_path, choice):
    results = grade(str(solved_kit(tmp_path, choice)))
    failed = {r.part: f"{r.status}: {r.message}" for r in results if not r.passed}
    assert not failed
    assert len(results) == 16
