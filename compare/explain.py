"""`python -m compare --explain`: each layer's derivation next to its agreement with autograd and numerics."""

from __future__ import annotations

import numpy as np

from compare.checks import LABEL_SMOOTHING, autograd_layers, layer_inputs, numpy_layers
from compare.grade import LAB_UPDATES, lab_update_in_torch, lab_w_dw, torch_net
from compare.metrics import relative_error
from numpy_impl import optim
from numpy_impl.fc_net import TwoLayerNet
from numpy_impl.gradient_check import eval_numerical_gradient, eval_numerical_gradient_array
from numpy_impl.layer_utils import affine_relu_forward
from numpy_impl.layers import affine_forward, relu_forward, softmax_loss, svm_loss
from numpy_recipe.model import smoothed_softmax_loss

# layer -> (what it computes, how the backward pass is derived); the notation of numpy_impl and
# docs/derivations.md: x (N, d1..dk) flattened to X (N, D), w (D, M), b (M,), dout = dL/dout (N, M).
DERIVATIONS = {
    "affine": (
        "out = X w + b, X = x.reshape(N, D)",
        [
            "out_nm = sum_d X_nd w_dm + b_m, so each input meets dout through w:",
            "dw = X^T . dout                       (D, M) = (D, N)(N, M)",
            "dx = (dout . w^T).reshape(x.shape)    (N, D) = (N, M)(M, D)",
            "db = sum over rows of dout            (M,): b is added to every row",
        ],
    ),
    "relu": (
        "out = max(0, a)",
        [
            "d out / d a is 1 where a > 0 and 0 elsewhere (the kink at 0 takes 0):",
            "dx = dout * [a > 0]                   elementwise mask, same shape as a",
        ],
    ),
    "affine_relu": (
        "out = max(0, X w + b)",
        [
            "chain rule through the sandwich: mask first, then the affine backward:",
            "da = dout * [X w + b > 0];  dx, dw, db = affine_backward(da)",
        ],
    ),
    "softmax_loss": (
        "L = -(1/N) sum_i log p_i,y_i,  p_ij = exp(s_ij) / sum_k exp(s_ik)",
        [
            "d(-log p_iy)/d s_ij = p_ij - [j == y_i], averaged over the N rows:",
            "dx = (p - onehot(y)) / N              (N, C)",
            "computed stably with s - max_j s_ij (log-sum-exp), which changes no p",
        ],
    ),
    "softmax_loss, label smoothing (engine)": (
        f"L = -(1/N) sum_ij q_ij log p_ij,  q = (1 - e) onehot(y) + e / C,  e = {LABEL_SMOOTHING}",
        [
            "the same derivation with a soft target q (sum_j q_ij = 1) instead of onehot(y):",
            "dx = (p - q) / N                      torch: F.cross_entropy(..., label_smoothing=e)",
        ],
    ),
    "svm_loss": (
        "L = (1/N) sum_i sum_{j != y_i} max(0, s_ij - s_iy_i + 1)",
        [
            "each violated margin (s_ij - s_iy_i + 1 > 0) adds +1 to class j and -1 to class y_i:",
            "dx_ij = [margin_ij > 0] / N,  dx_iy_i = -(number of violated margins in row i) / N",
            "torch's multi_margin_loss also divides by C, so autograd is run on C * multi_margin_loss",
        ],
    ),
    "l2": (
        "R = 0.5 * reg * sum W^2",
        ["the 0.5 cancels the 2 of the square:  dW = reg * W  (added to the data gradient; biases get none)"],
    ),
}


def numerical_layers(x, w, b, dout, scores, y, reg):
    """The same gradients by centered differences of the NumPy forward passes (float64 only)."""
    num = eval_numerical_gradient_array
    a = x.reshape(len(x), -1) @ w + b
    return {
        "affine": {
            "dx": num(lambda v: affine_forward(v, w, b)[0], x.copy(), dout),
            "dw": num(lambda v: affine_forward(x, v, b)[0], w.copy(), dout),
            "db": num(lambda v: affine_forward(x, w, v)[0], b.copy(), dout),
        },
        "relu": {"dx": num(lambda v: relu_forward(v)[0], a.copy(), dout)},
        "affine_relu": {
            "dx": num(lambda v: affine_relu_forward(v, w, b)[0], x.copy(), dout),
            "dw": num(lambda v: affine_relu_forward(x, v, b)[0], w.copy(), dout),
            "db": num(lambda v: affine_relu_forward(x, w, v)[0], b.copy(), dout),
        },
        "softmax_loss": {"dx": eval_numerical_gradient(lambda v: softmax_loss(v, y)[0], scores.copy(), False)},
        "softmax_loss, label smoothing (engine)": {
            "dx": eval_numerical_gradient(
                lambda v: smoothed_softmax_loss(v, y, LABEL_SMOOTHING)[0], scores.copy(), False
            )
        },
        "svm_loss": {"dx": eval_numerical_gradient(lambda v: svm_loss(v, y)[0], scores.copy(), False)},
        "l2": {"dW": eval_numerical_gradient(lambda v: 0.5 * reg * np.sum(v * v), w.copy(), False)},
    }


NETWORK = (
    "scores = relu(X W1 + b1) W2 + b2,  L = softmax_loss(scores, y) + 0.5 * reg * (sum W1^2 + sum W2^2)",
    [
        "the chain rule, layer by layer from the loss back (each step one of the layers above):",
        "dscores = (p - onehot(y)) / N                           softmax_loss",
        "dh, dW2, db2 = affine_backward(dscores)                  dW2 = h^T dscores, dh = dscores W2^T",
        "_, dW1, db1 = affine_relu_backward(dh)                   da = dh * [X W1 + b1 > 0], then affine",
        "dW1 += reg * W1,  dW2 += reg * W2                        l2 (biases are not regularized)",
    ],
)
UPDATES = [
    "sgd:           w -= lr * dw",
    "sgd_momentum:  v = mu * v - lr * dw;  w += v                     (torch: v = mu * v + dw; w -= lr * v)",
    "sgd_nesterov:  v = mu * v + dw;  w -= lr * (dw + mu * v)        (torch's form, nesterov=True)",
    "rmsprop:       c = rho * c + (1 - rho) * dw^2;  w -= lr * dw / (sqrt(c) + eps)",
    "adam:          m, v = moving averages of dw, dw^2;  w -= lr * m_hat / (sqrt(v_hat) + eps), bias-corrected",
]
MEASURE_NOTE = [
    "The error measure: max|ours - theirs| / max(max|ours|, max|theirs|), one number per array.",
    "The lab's rel_error is max over entries of |x - y| / max(1e-8, |x| + |y|): an entry near zero can",
    "make it large though the arrays agree to machine precision; this measure scales by the whole array.",
]


def _network_lines(seed: int) -> list[str]:
    """The whole net's gradients: numpy_impl's chain against torch autograd and the numerical gradient."""
    rng = np.random.default_rng(seed)
    X, y, reg = rng.standard_normal((4, 6)), rng.integers(5, size=4), 0.3
    params = {"W1": rng.standard_normal((6, 8)), "b1": rng.standard_normal(8)}
    params.update(W2=rng.standard_normal((8, 5)), b2=rng.standard_normal(5))
    model = TwoLayerNet(6, 8, 5, reg=reg)
    model.params = {name: value.copy() for name, value in params.items()}
    _, grads = model.loss(X, y)
    _, loss, leaves = torch_net(params, X, y, reg)
    loss.backward()
    lines = []
    for name in ("W1", "b1", "W2", "b2"):
        numeric = eval_numerical_gradient(lambda _: model.loss(X, y)[0], model.params[name], verbose=False)
        vs_autograd = relative_error(grads[name], leaves[name].grad.numpy())[1]
        vs_numeric = relative_error(grads[name], numeric)[1]
        lines.append(
            f"   d{name} {params[name].shape}: vs autograd {vs_autograd:.1e}, vs numerical gradient {vs_numeric:.1e}"
        )
    return lines


def _update_lines() -> list[str]:
    """Each of the lab's rules, one step from the lab's state, against the same step written in torch ops."""
    lines = []
    for rule, (config, _) in LAB_UPDATES.items():
        w, dw = lab_w_dw()
        copies = {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in config.items()}
        next_w, _ = getattr(optim, rule)(w.copy(), dw, copies)
        lines.append(
            f"   {rule}: one step vs torch {relative_error(next_w, lab_update_in_torch(rule, w, dw, config))[1]:.1e}"
        )
    return lines


def explain(seed: int = 0) -> str:
    """The teaching text: per layer, the derivation, then max error against autograd and numerics; then the
    whole network's chain and the update rules."""
    inputs = layer_inputs("float64", seed)
    ours, theirs, numeric = numpy_layers(*inputs), autograd_layers(*inputs), numerical_layers(*inputs)
    lines = [
        "How numpy_impl differentiates each layer, checked against torch autograd and against",
        "centered differences (float64, h = 1e-5). Full derivations: docs/derivations.md",
        "",
        *MEASURE_NOTE,
        "",
    ]
    for layer, (forward, steps) in DERIVATIONS.items():
        lines.append(f"== {layer}: {forward}")
        lines += [f"   {step}" for step in steps]
        for name, value in ours[layer].items():
            _, vs_autograd = relative_error(value, theirs[layer][name])
            line = f"   {name} {tuple(np.shape(value))}: vs autograd {vs_autograd:.1e}"
            if name in numeric[layer]:
                line += f", vs numerical gradient {relative_error(value, numeric[layer][name])[1]:.1e}"
            lines.append(line)
        lines.append("")
    forward, steps = NETWORK
    lines += [f"== the whole network: {forward}", *(f"   {step}" for step in steps), *_network_lines(seed), ""]
    lines += ["== update rules (docs/derivations.md, section 8)", *(f"   {rule}" for rule in UPDATES)]
    lines += [*_update_lines(), ""]
    return "\n".join(lines)
