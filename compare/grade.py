"""Grade an implementation of the lab, part by part: against torch autograd (the truth), the numerical
gradient of its own forward pass, and the lab's expected figures.

Each part runs alone: with its printing captured, the global NumPy generator saved and restored,
copies of every input (an input changed in place is noted), and a time limit. A part that is
missing or raises NotImplementedError is "not implemented"; one that raises, returns the wrong
shape, the wrong dtype, NaN, or runs too long is reported as such, and the next part runs anyway.
"""

from __future__ import annotations

import contextlib
import io
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from types import SimpleNamespace

import numpy as np
import torch
import torch.nn.functional as F

from common import signals
from compare.adapter import leaf
from compare.metrics import relative_error
from numpy_impl.gradient_check import eval_numerical_gradient, eval_numerical_gradient_array

AUTOGRAD_TOLERANCE = 1e-8  # float64: a correct part sums in its own order (~1e-15); a bug is off by far more
NUMERICAL_TOLERANCE = 1e-6  # the lab's loosest figure for a centered difference with h = 1e-5
TIME_LIMIT_SECONDS = 20.0

CORRECT, WRONG, NOT_IMPLEMENTED = "correct", "wrong", "not implemented"


@dataclass
class PartResult:
    """One graded part: its status, its errors (None where not measured), the tolerances and what went wrong."""

    part: str
    status: str  # correct, wrong, not implemented, error, wrong shape, wrong dtype, nan, timeout
    vs_autograd: float | None = None
    vs_numerical: float | None = None
    vs_lab: float | None = None
    tolerance: float = AUTOGRAD_TOLERANCE
    lab_tolerance: float = 1e-6  # relative, or the lab's own figure where it gives one
    message: str = ""
    notes: list[str] = field(default_factory=list)
    derivation: str = ""  # the section of docs/derivations.md this part follows

    @property
    def passed(self) -> bool:
        return self.status == CORRECT


class PartFailed(Exception):
    """A part's output is unusable: ``status`` says how (wrong shape, wrong dtype, nan, wrong)."""

    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status = status


class _TimedOut(BaseException):
    """Raised inside a part that ran past the time limit (BaseException: student code's `except Exception`
    must not swallow it)."""


# ----------------------------------------------------------------------------- comparing


def _as_array(name: str, value) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach().numpy()
    if not isinstance(value, (np.ndarray, float, int, np.floating)):
        raise PartFailed("wrong", f"{name} is a {type(value).__name__}, expected a NumPy array or a number")
    return np.asarray(value)


def compare(name: str, got, truth, dtype=np.float64) -> float:
    """Relative error of ``got`` against ``truth``; PartFailed for a wrong shape or dtype, or NaN."""
    got, truth = _as_array(name, got), np.asarray(truth, dtype=np.float64)
    if got.shape != truth.shape:
        hint = " (transposed?)" if got.shape == truth.shape[::-1] and got.ndim == 2 else ""
        raise PartFailed("wrong shape", f"{name} has shape {got.shape}, expected {truth.shape}{hint}")
    if not np.issubdtype(got.dtype, np.floating) or got.dtype != np.dtype(dtype):
        raise PartFailed("wrong dtype", f"{name} is {got.dtype}, expected {np.dtype(dtype).name}")
    if not np.all(np.isfinite(got)):
        raise PartFailed("nan", f"{name} holds NaN or infinity")
    return relative_error(got, truth)[1]


def diagnose(name: str, got, truth, extra: dict | None = None) -> str:
    """Where ``got`` differs from ``truth``, in the terms of the classic mistakes; '' when it does not."""
    got, truth = np.asarray(got, np.float64), np.asarray(truth, np.float64)
    if got.shape != truth.shape or relative_error(got, truth)[1] <= AUTOGRAD_TOLERANCE:
        return ""
    scale = np.max(np.abs(truth)) or 1.0

    def close(a, b) -> bool:
        return a.shape == b.shape and np.max(np.abs(a - b)) <= 1e-6 * max(scale, np.max(np.abs(a)))

    if close(got, -truth):
        return f"{name} has the wrong sign everywhere"
    for factor, words in ((extra or {}).get("factors", {})).items():
        if close(got, truth * factor):
            return f"{name} is {words}"
    for words, candidate in ((extra or {}).get("alternatives", {})).items():
        if close(got, candidate):
            return f"{name} {words}"
    wrong = ~np.isclose(got, truth, rtol=1e-6, atol=1e-9 * scale)
    first = tuple(int(i) for i in np.argwhere(wrong)[0])
    return (
        f"{name}: {int(wrong.sum())} of {wrong.size} entries differ; the first at {first}: "
        f"{got[first]:.6g} where {truth[first]:.6g} is right"
    )


# ----------------------------------------------------------------------------- the parts


def _rng() -> np.random.Generator:
    return np.random.default_rng(231)


def _unchanged(name: str, before: np.ndarray, after: np.ndarray, notes: list[str]) -> None:
    if not np.array_equal(before, after):
        notes.append(f"changes its input {name} in place")


def grade_affine_forward(t, r: PartResult) -> None:
    x = np.linspace(-0.1, 0.5, num=240).reshape(2, 4, 5, 6)
    w = np.linspace(-0.2, 0.3, num=360).reshape(120, 3)
    b = np.linspace(-0.3, 0.1, num=3)
    xc = x.copy()
    out, _ = t.layers.affine_forward(xc, w.copy(), b.copy())
    _unchanged("x", x, xc, r.notes)
    lab = [[1.49834967, 1.70660132, 1.91485297], [3.25553199, 3.5141327, 3.77273342]]
    r.vs_autograd = compare(
        "out", out, (torch.from_numpy(x).reshape(2, -1) @ torch.from_numpy(w) + torch.from_numpy(b)).numpy()
    )
    r.vs_lab = relative_error(np.asarray(out, np.float64), np.asarray(lab))[1]
    r.message = diagnose("out", out, x.reshape(2, -1) @ w + b, {"alternatives": {"ignores b": x.reshape(2, -1) @ w}})
    _float32_note(lambda *a: t.layers.affine_forward(*a)[0], (x, w, b), r.notes)


def _float32_note(forward: Callable, arrays: tuple, notes: list[str]) -> None:
    out = forward(*(a.astype(np.float32) for a in arrays))
    if getattr(out, "dtype", None) == np.float64:
        notes.append("turns float32 inputs into a float64 output (silent upcast: twice the memory, slower)")


def _affine_problem(x_shape: tuple, m: int) -> tuple[np.ndarray, ...]:
    """Seeded x (x_shape), w (D, m), b (m,), dout (N, m) for an affine layer's checks."""
    rng = _rng()
    d = math.prod(x_shape[1:])
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal((d, m)), rng.standard_normal(m)
    return x, w, b, rng.standard_normal((x_shape[0], m))


def _autograd_affine(x, w, b, dout, relu: bool = False) -> dict[str, np.ndarray]:
    """out and dx, dw, db of (relu of) x.reshape(N, D) @ w + b, by torch autograd."""
    tx, tw, tb = leaf(x), leaf(w), leaf(b)
    out = tx.reshape(len(x), -1) @ tw + tb
    out = torch.relu(out) if relu else out
    out.backward(torch.from_numpy(dout))
    return {"out": out.detach().numpy(), "dx": tx.grad.numpy(), "dw": tw.grad.numpy(), "db": tb.grad.numpy()}


def grade_affine_backward(t, r: PartResult) -> None:
    x, w, b, dout = _affine_problem((10, 2, 3), 5)
    _, cache = t.layers.affine_forward(x.copy(), w.copy(), b.copy())
    dx, dw, db = t.layers.affine_backward(dout.copy(), cache)
    truth = {k: v for k, v in _autograd_affine(x, w, b, dout).items() if k != "out"}
    got = {"dx": dx, "dw": dw, "db": db}
    r.vs_autograd = max(compare(k, got[k], truth[k]) for k in truth)
    numeric = {
        "dx": eval_numerical_gradient_array(lambda v: t.layers.affine_forward(v, w, b)[0], x.copy(), dout),
        "dw": eval_numerical_gradient_array(lambda v: t.layers.affine_forward(x, v, b)[0], w.copy(), dout),
        "db": eval_numerical_gradient_array(lambda v: t.layers.affine_forward(x, w, v)[0], b.copy(), dout),
    }
    r.vs_numerical = max(relative_error(np.asarray(got[k], np.float64), numeric[k])[1] for k in truth)
    factors = {1 / 10: "divided by N = 10: this layer has no 1/N, the loss does", 10: "multiplied by N = 10"}
    r.message = "; ".join(filter(None, (diagnose(k, got[k], truth[k], {"factors": factors}) for k in truth)))


def grade_relu_forward(t, r: PartResult) -> None:
    x = np.linspace(-0.5, 0.5, num=12).reshape(3, 4)
    xc = x.copy()
    out, _ = t.layers.relu_forward(xc)
    _unchanged("x", x, xc, r.notes)
    r.vs_autograd = compare("out", out, torch.relu(torch.from_numpy(x)).numpy())
    lab = [[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.04545455, 0.13636364], [0.22727273, 0.31818182, 0.40909091, 0.5]]
    r.vs_lab = relative_error(np.asarray(out, np.float64), np.asarray(lab))[1]
    r.message = diagnose("out", out, np.maximum(x, 0))


def grade_relu_backward(t, r: PartResult) -> None:
    rng = _rng()
    x, dout = rng.standard_normal((10, 10)), rng.standard_normal((10, 10))
    _, cache = t.layers.relu_forward(x.copy())
    dx = t.layers.relu_backward(dout.copy(), cache)
    tx = leaf(x)
    torch.relu(tx).backward(torch.from_numpy(dout))
    truth = tx.grad.numpy()
    r.vs_autograd = compare("dx", dx, truth)
    numeric = eval_numerical_gradient_array(lambda v: t.layers.relu_forward(v)[0], x.copy(), dout)
    r.vs_numerical = relative_error(np.asarray(dx, np.float64), numeric)[1]
    alternatives = {"is dout itself: the ReLU mask (x > 0) is missing": dout, "uses the mask x < 0": dout * (x < 0)}
    r.message = diagnose("dx", dx, truth, {"alternatives": alternatives})


def grade_affine_relu(t, r: PartResult) -> None:
    x, w, b, dout = _affine_problem((2, 3, 4), 10)
    out, cache = t.layer_utils.affine_relu_forward(x.copy(), w.copy(), b.copy())
    dx, dw, db = t.layer_utils.affine_relu_backward(dout.copy(), cache)
    truth = _autograd_affine(x, w, b, dout, relu=True)
    got = {"out": out, "dx": dx, "dw": dw, "db": db}
    r.vs_autograd = max(compare(k, got[k], truth[k]) for k in truth)
    numeric = eval_numerical_gradient_array(lambda v: t.layer_utils.affine_relu_forward(v, w, b)[0], x.copy(), dout)
    r.vs_numerical = relative_error(np.asarray(dx, np.float64), numeric)[1]
    r.message = "; ".join(filter(None, (diagnose(k, got[k], truth[k]) for k in truth)))


def _loss_part(
    loss_fn: Callable, truth_fn: Callable, lab_loss: float, lab_tolerance: float, r: PartResult, big: bool
) -> None:
    rng = _rng()
    x = 0.001 * rng.standard_normal((50, 10))
    y = rng.integers(10, size=50)
    loss, dx = loss_fn(x.copy(), y.copy())
    tx = leaf(x)
    t_loss = truth_fn(tx, torch.from_numpy(y))
    t_loss.backward()
    r.vs_autograd = max(compare("loss", loss, t_loss.item()), compare("dx", dx, tx.grad.numpy()))
    numeric = eval_numerical_gradient(lambda v: loss_fn(v, y)[0], x.copy(), verbose=False)
    r.vs_numerical = relative_error(np.asarray(dx, np.float64), numeric)[1]
    r.vs_lab, r.lab_tolerance = abs(float(loss) - lab_loss), lab_tolerance  # the lab checks |loss - figure|
    factors = {50: "N = 50 times too large: divide by N (the loss is a mean over the batch)"}
    r.message = diagnose("dx", dx, tx.grad.numpy(), {"factors": factors})
    if not r.message and abs(float(loss) - t_loss.item()) > AUTOGRAD_TOLERANCE * abs(t_loss.item()):
        ratio = float(loss) / t_loss.item()
        r.message = f"loss is {float(loss):.6g}, expected {t_loss.item():.6g}" + (
            " (N = 50 times too large: divide by N)" if math.isclose(ratio, 50, rel_tol=1e-6) else ""
        )
    if big:  # large scores: a softmax without the max shift overflows
        with np.errstate(all="ignore"):
            big_loss, big_dx = loss_fn(1000 * rng.standard_normal((5, 10)) + 800, y[:5].copy())
        if not (np.isfinite(big_loss) and np.all(np.isfinite(big_dx))):
            raise PartFailed(
                "nan",
                "scores near 1000 give a NaN or infinite loss: subtract each row's max before exp "
                "(exp(1000) overflows)",
            )


def grade_svm_loss(t, r: PartResult) -> None:
    def truth(scores, y):
        correct = scores.gather(1, y[:, None])
        margins = torch.clamp(scores - correct + 1, min=0)
        return (margins.sum() - len(y)) / len(y)  # the correct class's margin is exactly 1: not counted

    _loss_part(t.layers.svm_loss, truth, 9.0, 1e-2, r, big=False)


def grade_softmax_loss(t, r: PartResult) -> None:
    _loss_part(t.layers.softmax_loss, lambda s, y: F.cross_entropy(s, y), 2.3026, 1e-3, r, big=True)


N, D, H, C = 3, 5, 50, 7
LAB_SCORES = np.asarray(
    [
        [11.53165108, 12.2917344, 13.05181771, 13.81190102, 14.57198434, 15.33206765, 16.09215096],
        [12.05769098, 12.74614105, 13.43459113, 14.1230412, 14.81149128, 15.49994135, 16.18839143],
        [12.58373087, 13.20054771, 13.81736455, 14.43418138, 15.05099822, 15.66781506, 16.2846319],
    ]
)


def _lab_model(t, reg: float = 0.0):
    np.random.seed(231)  # the lab's cells seed the global generator; restored after the part
    model = t.fc_net.TwoLayerNet(input_dim=D, hidden_dim=H, num_classes=C, weight_scale=1e-3)
    model.reg = reg
    return model


def _lab_params() -> dict[str, np.ndarray]:
    return {
        "W1": np.linspace(-0.7, 0.3, num=D * H).reshape(D, H),
        "b1": np.linspace(-0.1, 0.9, num=H),
        "W2": np.linspace(-0.3, 0.4, num=H * C).reshape(H, C),
        "b2": np.linspace(-0.9, 0.1, num=C),
    }


def _lab_inputs() -> tuple[np.ndarray, np.ndarray]:
    return np.linspace(-5.5, 4.5, num=N * D).reshape(D, N).T, np.asarray([0, 5, 1])


def torch_net(params: dict, X: np.ndarray, y: np.ndarray | None, reg: float):
    """The two-layer net in torch: -> (scores, loss or None, leaf params)."""
    leaves = {k: leaf(v) for k, v in params.items()}
    hidden = torch.relu(torch.from_numpy(X) @ leaves["W1"] + leaves["b1"])
    scores = hidden @ leaves["W2"] + leaves["b2"]
    if y is None:
        return scores, None, leaves
    loss = F.cross_entropy(scores, torch.from_numpy(y)) + 0.5 * reg * (
        (leaves["W1"] ** 2).sum() + (leaves["W2"] ** 2).sum()
    )
    return scores, loss, leaves


def grade_twolayer_init(t, r: PartResult) -> None:
    model = _lab_model(t)
    shapes = {"W1": (D, H), "b1": (H,), "W2": (H, C), "b2": (C,)}
    for name, shape in shapes.items():
        compare(name, model.params[name], np.zeros(shape))  # shape and dtype only
    problems = [f"{n} is not all zeros" for n in ("b1", "b2") if np.any(model.params[n] != 0)]
    problems += [
        f"{n} has std {model.params[n].std():.2e}, expected weight_scale = 1e-3"
        for n in ("W1", "W2")
        if abs(model.params[n].std() - 1e-3) > 1e-4
    ]
    if problems:
        raise PartFailed(WRONG, "; ".join(problems))
    r.vs_autograd = None


def grade_twolayer_scores(t, r: PartResult) -> None:
    model = _lab_model(t)
    model.params.update(_lab_params())
    X, _ = _lab_inputs()
    scores = model.loss(X.copy())
    truth = torch_net(_lab_params(), X, None, 0.0)[0].detach().numpy()
    r.vs_autograd = compare("scores", scores, truth)
    r.vs_lab = float(np.abs(np.asarray(scores, np.float64) - LAB_SCORES).sum())  # the lab's measure: sum |diff|
    no_relu = X @ _lab_params()["W1"] + _lab_params()["b1"]
    no_relu = no_relu @ _lab_params()["W2"] + _lab_params()["b2"]
    r.message = diagnose("scores", scores, truth, {"alternatives": {"skip the ReLU": no_relu}})


def grade_twolayer_loss(t, r: PartResult) -> None:
    errors, lab_errors, messages = [], [], []
    for reg, lab in ((0.0, 3.4702243556), (1.0, 26.5948426952)):
        model = _lab_model(t, reg)
        model.params.update(_lab_params())
        X, y = _lab_inputs()
        loss, _ = model.loss(X.copy(), y.copy())
        truth = torch_net(_lab_params(), X, y, reg)[1].item()
        errors.append(compare(f"loss (reg {reg:g})", loss, truth))
        lab_errors.append(abs(float(loss) - lab) / lab)
        if errors[-1] > AUTOGRAD_TOLERANCE:
            messages.append(f"with reg = {reg:g} the loss is {float(loss):.10g}, expected {truth:.10g}")
    r.vs_autograd, r.vs_lab = max(errors), max(lab_errors)
    if messages and errors[0] <= AUTOGRAD_TOLERANCE:
        messages.append("only the regularization differs: it is 0.5 * reg * (sum W1^2 + sum W2^2), no biases")
    r.message = "; ".join(messages)


def grade_twolayer_grads(t, r: PartResult) -> None:
    rng = _rng()
    X, y, reg = rng.standard_normal((N, D)), rng.integers(C, size=N), 0.7
    model = t.fc_net.TwoLayerNet(input_dim=D, hidden_dim=H, num_classes=C, weight_scale=5e-2, reg=reg)
    params = {k: rng.standard_normal(v.shape) * 5e-2 for k, v in _lab_params().items()}
    model.params.update({k: v.copy() for k, v in params.items()})
    _, grads = model.loss(X.copy(), y.copy())
    _, loss, leaves = torch_net(params, X, y, reg)
    loss.backward()
    truth = {k: leaves[k].grad.numpy() for k in params}
    r.vs_autograd = max(compare(f"grads[{k!r}]", grads[k], truth[k]) for k in truth)
    numeric = {
        k: eval_numerical_gradient(lambda _: model.loss(X, y)[0], model.params[k], verbose=False) for k in params
    }
    r.vs_numerical = max(relative_error(np.asarray(grads[k], np.float64), numeric[k])[1] for k in params)
    messages = []
    for k in truth:
        alternatives = {}
        if k.startswith("b"):
            alternatives["adds reg * b: the biases are regularized, they should not be"] = truth[k] + reg * params[k]
        else:
            alternatives["lacks reg * W: the regularization gradient is missing"] = truth[k] - reg * params[k]
            alternatives["has 2 * reg * W: the loss is 0.5 * reg * sum(W^2), its gradient reg * W"] = (
                truth[k] + reg * params[k]
            )
        messages.append(diagnose(f"grads[{k!r}]", grads[k], truth[k], {"alternatives": alternatives}))
    r.message = "; ".join(filter(None, messages))


def lab_w_dw() -> tuple[np.ndarray, np.ndarray]:
    """The lab's update-rule fixture: w and dw, both (4, 5)."""
    return np.linspace(-0.4, 0.6, num=20).reshape(4, 5), np.linspace(-0.6, 0.4, num=20).reshape(4, 5)


# (rule, its config, {what: expected first row and last entry}) from the lab's check cells
LAB_UPDATES = {
    "sgd": ({"learning_rate": 1e-2}, {}),
    "sgd_momentum": (
        {"learning_rate": 1e-3, "velocity": np.linspace(0.6, 0.9, num=20).reshape(4, 5)},
        {"next_w": ([0.1406, 0.20738947, 0.27417895, 0.34096842, 0.40775789], 1.4096)},
    ),
    "rmsprop": (
        {"learning_rate": 1e-2, "cache": np.linspace(0.6, 0.9, num=20).reshape(4, 5)},
        {"next_w": ([-0.39223849, -0.34037513, -0.28849239, -0.23659121, -0.18467247], 0.59576619)},
    ),
    "adam": (
        {
            "learning_rate": 1e-2,
            "m": np.linspace(0.6, 0.9, num=20).reshape(4, 5),
            "v": np.linspace(0.7, 0.5, num=20).reshape(4, 5),
            "t": 5,
        },
        {"next_w": ([-0.40094747, -0.34836187, -0.29577703, -0.24319299, -0.19060977], 0.59801459)},
    ),
}


def lab_update_in_torch(rule: str, w: np.ndarray, dw: np.ndarray, config: dict) -> np.ndarray:
    """One step of the lab's rule, written out in torch ops."""
    tw, tdw = torch.from_numpy(w), torch.from_numpy(dw)
    lr = config["learning_rate"]
    if rule == "sgd":
        return (tw - lr * tdw).numpy()
    if rule == "sgd_momentum":
        return (tw + (0.9 * torch.from_numpy(config["velocity"]) - lr * tdw)).numpy()
    if rule == "rmsprop":
        cache = 0.99 * torch.from_numpy(config["cache"]) + 0.01 * tdw**2
        return (tw - lr * tdw / (cache.sqrt() + 1e-8)).numpy()
    step = config["t"] + 1
    m = 0.9 * torch.from_numpy(config["m"]) + 0.1 * tdw
    v = 0.999 * torch.from_numpy(config["v"]) + 0.001 * tdw**2
    m_hat, v_hat = m / (1 - 0.9**step), v / (1 - 0.999**step)
    return (tw - lr * m_hat / (v_hat.sqrt() + 1e-8)).numpy()


def grade_update(rule: str) -> Callable:
    def grade(t, r: PartResult) -> None:
        w, dw = lab_w_dw()
        config, lab = LAB_UPDATES[rule]
        copies = {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in config.items()}
        next_w, _ = getattr(t.optim, rule)(w.copy(), dw.copy(), copies)
        truth = lab_update_in_torch(rule, w, dw, config)
        r.vs_autograd = compare("next_w", next_w, truth)
        if lab:
            first_row, last = lab["next_w"]
            got = np.concatenate([np.asarray(next_w, np.float64)[0], [np.asarray(next_w, np.float64)[-1, -1]]])
            r.vs_lab = relative_error(got, np.asarray([*first_row, last]))[1]
        alternatives = {}
        if rule == "sgd_momentum":
            flipped = w + (0.9 * config["velocity"] + 1e-3 * dw)
            alternatives["adds the gradient: v = mu * v - lr * dw, then w + v"] = flipped
        r.message = diagnose("next_w", next_w, truth, {"alternatives": alternatives})

    return grade


def grade_solver(t, r: PartResult) -> None:
    """The Solver overfits 50 separable examples with a known-good model (this project's)."""
    from numpy_impl.fc_net import TwoLayerNet

    rng = _rng()
    centers = rng.standard_normal((5, 20)) * 3
    y = rng.integers(5, size=60)
    X = centers[y] + 0.3 * rng.standard_normal((60, 20))
    data = {"X_train": X[:50], "y_train": y[:50], "X_val": X[50:], "y_val": y[50:]}
    model = TwoLayerNet(input_dim=20, hidden_dim=30, num_classes=5, weight_scale=1e-1, seed=0)
    solver = t.solver.Solver(
        model, data, update_rule="sgd", optim_config={"learning_rate": 0.1}, num_epochs=20, batch_size=10, verbose=False
    )
    solver.train()
    final = solver.train_acc_history[-1] if solver.train_acc_history else 0.0
    if final < 0.9:
        raise PartFailed(WRONG, f"training accuracy after 20 epochs is {final:.2f}; a working Solver reaches 1.0")


# part name, lab module, function(s) it grades, its grader, its section in docs/derivations.md
PARTS: list[tuple[str, str, tuple[str, ...], Callable, str]] = [
    ("affine forward", "layers", ("affine_forward",), grade_affine_forward, "1"),
    ("affine backward", "layers", ("affine_forward", "affine_backward"), grade_affine_backward, "1"),
    ("ReLU forward", "layers", ("relu_forward",), grade_relu_forward, "2"),
    ("ReLU backward", "layers", ("relu_forward", "relu_backward"), grade_relu_backward, "2"),
    ("affine-ReLU sandwich", "layer_utils", ("affine_relu_forward", "affine_relu_backward"), grade_affine_relu, "3"),
    ("SVM loss", "layers", ("svm_loss",), grade_svm_loss, "5"),
    ("softmax loss", "layers", ("softmax_loss",), grade_softmax_loss, "4"),
    ("TwoLayerNet init", "fc_net", ("TwoLayerNet",), grade_twolayer_init, "7"),
    ("TwoLayerNet scores", "fc_net", ("TwoLayerNet",), grade_twolayer_scores, "7"),
    ("TwoLayerNet loss", "fc_net", ("TwoLayerNet",), grade_twolayer_loss, "6"),
    ("TwoLayerNet gradients", "fc_net", ("TwoLayerNet",), grade_twolayer_grads, "7"),
    *((f"update rule {rule}", "optim", (rule,), grade_update(rule), "8") for rule in LAB_UPDATES),
    ("Solver", "solver", ("Solver",), grade_solver, ""),
]
OPTIONAL_MODULES = ("solver",)


# ----------------------------------------------------------------------------- running


def grade_part(target: SimpleNamespace, broken: dict, part, time_limit: float = TIME_LIMIT_SECONDS) -> PartResult:
    """Run one part's grader on the target, whatever it does -> its PartResult."""
    name, module_name, functions, grader, section = part
    result = PartResult(name, CORRECT, derivation=section)
    module = getattr(target, module_name, None)
    if module_name in broken:
        result.status, result.message = "error", f"{module_name}.py does not import: {broken[module_name]}"
        return result
    missing = [f for f in functions if module is None or not hasattr(module, f)]
    if missing:
        result.status, result.message = NOT_IMPLEMENTED, f"{module_name}.py has no {', '.join(missing)}"
        return result
    state = np.random.get_state()
    printed = io.StringIO()
    try:
        with signals.time_limit(time_limit, _TimedOut), contextlib.redirect_stdout(printed), np.errstate(all="ignore"):
            grader(target, result)
    except NotImplementedError as err:
        result.status, result.message = NOT_IMPLEMENTED, str(err)
    except _TimedOut:
        result.status, result.message = "timeout", f"ran past the {time_limit:g} s limit"
    except PartFailed as err:
        result.status, result.message = err.status, str(err)
    except Exception as err:
        result.status, result.message = "error", f"{type(err).__name__}: {err}"
    else:
        problems = []
        if result.vs_autograd is not None and result.vs_autograd > result.tolerance:
            problems.append(result.message or "differs from autograd beyond the tolerance")
        if result.vs_numerical is not None and result.vs_numerical > NUMERICAL_TOLERANCE:
            problems.append("the backward pass disagrees with the numerical gradient of its own forward pass")
        if result.vs_lab is not None and result.vs_lab > result.lab_tolerance:
            problems.append("differs from the lab's expected figures")
        result.status = WRONG if problems else CORRECT
        result.message = "; ".join(dict.fromkeys(problems))
    finally:
        np.random.set_state(state)
    if printed.getvalue():
        result.notes.append("prints while it runs")
    return result


def grade(target: str, time_limit: float = TIME_LIMIT_SECONDS) -> list[PartResult]:
    """Every part of the lab graded on the target (a package name or a folder) -> one PartResult each.

    The Solver is graded only when the target has a solver.py. Raises TargetError for a target that
    is neither an importable package nor a folder.
    """
    from compare.target import load_target

    loaded, broken = load_target(target)
    parts = [p for p in PARTS if p[1] not in OPTIONAL_MODULES or hasattr(loaded, p[1]) or p[1] in broken]
    return [grade_part(loaded, broken, part, time_limit) for part in parts]


def format_grades(results: list[PartResult]) -> str:
    """The table (part, status, errors, tolerance, what went wrong) and the score line."""

    def number(value):
        return "—" if value is None else f"{value:.1e}"

    rows = [
        "| part | status | vs autograd | vs numerical | vs the lab's figures | tolerance | what went wrong |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        said = "; ".join(filter(None, [r.message, *r.notes])).replace("|", "/")
        rows.append(
            f"| {r.part} | {r.status} | {number(r.vs_autograd)} | {number(r.vs_numerical)} | {number(r.vs_lab)} "
            f"| {r.tolerance:.0e} | {said} |"
        )
    correct = sum(r.passed for r in results)
    return "\n".join(rows) + f"\n\n{correct}/{len(results)} parts correct"


def grades_json(target: str, results: list[PartResult]) -> dict:
    """The result for a gradebook: target, score, and every part's fields."""
    return {
        "target": target,
        "correct": sum(r.passed for r in results),
        "parts": len(results),
        "results": [{**asdict(r), "passed": r.passed} for r in results],
    }


def derivation(section: str) -> str:
    """Section ``section`` ("4") of docs/derivations.md, heading included; '' when there is none."""
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "docs" / "derivations.md"
    if not section or not path.is_file():
        return ""
    text = path.read_text(encoding="utf-8")
    start = text.find(f"\n## {section}. ")
    if start < 0:
        return ""
    end = text.find("\n## ", start + 1)
    return text[start + 1 : end if end > 0 else None].strip()


def explain_failures(results: list[PartResult]) -> str:
    """For each part that is not correct: what differs, then the derivation it should follow."""
    blocks = []
    for r in results:
        if r.passed:
            continue
        lines = [f"### {r.part}: {r.status}", "", f"What differs: {r.message or r.status}"]
        if r.status == NOT_IMPLEMENTED:
            lines[-1] = "Not implemented yet: write it, then run this again."
        if r.derivation:
            lines += ["", f"The derivation to follow (docs/derivations.md, section {r.derivation}):", ""]
            lines.append(derivation(r.derivation))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) if blocks else "Every part is correct."
