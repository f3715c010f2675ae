"""Grade an implementation of the lab, part by part: against torch autograd (the truth), the numerical
gradient of its own forward pass, and the lab's expected figures.

The submission's code never runs in this process. Each part starts a child (compare.sandbox) in a
scratch copy of the submission; the child only calls the student's functions on the inputs chosen
here and sends back plain arrays. Everything else happens here: the inputs (the lab's fixtures, and
inputs drawn from a secret seed per run, so answers written in by hand fail), the truth, the
numerical gradient (from forward values the child computes at the points chosen here), every
error, status and verdict. A part whose child raises, exits, hangs, sends garbage or NaN scores zero;
the next part starts a fresh child.
"""

from __future__ import annotations

import math
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from compare.adapter import leaf
from compare.messages import language, status, tr, tr_known
from compare.metrics import relative_error
from compare.sandbox import CHILD_MESSAGES, Child, ChildFailed, Scratch

AUTOGRAD_TOLERANCE = 1e-10  # float64: a correct part sums in its own order (~1e-15); a bug, or a backward pass
# taken by finite differences (~1e-11 at best, far worse on the inputs below that are built for it), is off by more
NUMERICAL_TOLERANCE = 1e-6  # the lab's loosest figure for a centered difference with h = 1e-5
STEP = 1e-5  # h of the centered differences
KINK_MARGIN = 1e-4  # inputs to a ReLU kept this far from 0: a move of STEP times a factor below 10 stays on one side
TIME_LIMIT_SECONDS = 20.0
MESSAGE_CHARACTERS = 300  # what a child's message may take of a table cell

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


def clean(text: str) -> str:
    """Text from a submission made safe for one table cell: no control characters or escapes, bounded."""
    text = str(text).encode("utf-8", "replace").decode("utf-8")  # lone surrogates cannot be printed
    text = re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+", " ", text).strip()
    return text if len(text) <= MESSAGE_CHARACTERS else text[: MESSAGE_CHARACTERS - 1] + "…"


# ----------------------------------------------------------------------------- comparing


def _as_array(name: str, value) -> np.ndarray:
    if not isinstance(value, np.ndarray):
        raise PartFailed("wrong", tr("{name} is not a NumPy array or a number", name=name))
    return value


def compare(name: str, got, truth, dtype=np.float64) -> float:
    """Relative error of ``got`` against ``truth``; PartFailed for a wrong shape or dtype, or NaN."""
    got, truth = _as_array(name, got), np.asarray(truth, dtype=np.float64)
    if got.shape != truth.shape:
        hint = tr(" (transposed?)") if got.shape == truth.shape[::-1] and got.ndim == 2 else ""
        if got.size == truth.size and got.ndim != truth.ndim:
            hint = tr(" (reshape it back to {shape}, the input's shape)", shape=truth.shape)
        said = tr(
            "{name} has shape {got}, expected {expected}{hint}",
            name=name,
            got=got.shape,
            expected=truth.shape,
            hint=hint,
        )
        raise PartFailed("wrong shape", said)
    if not np.issubdtype(got.dtype, np.floating) or got.dtype != np.dtype(dtype):
        raise PartFailed(
            "wrong dtype",
            tr("{name} is {got}, expected {expected}", name=name, got=got.dtype, expected=np.dtype(dtype).name),
        )
    if not np.all(np.isfinite(got)):
        raise PartFailed("nan", tr("{name} holds NaN or infinity", name=name))
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
        return tr("{name} has the wrong sign everywhere", name=name)
    for factor, words in ((extra or {}).get("factors", {})).items():
        if close(got, truth * factor):
            return tr("{name} is {words}", name=name, words=words)
    for words, candidate in ((extra or {}).get("alternatives", {})).items():
        if close(got, candidate):
            return tr("{name} {words}", name=name, words=words)
    wrong = ~np.isclose(got, truth, rtol=1e-6, atol=1e-9 * scale)
    if not wrong.any():  # off everywhere by less than 1e-6 relative, yet beyond the tolerance
        error = relative_error(got, truth)[1]
        return tr(
            "{name} is off by up to {error:.1e} relative: a rounding or a constant differs", name=name, error=error
        )
    first = tuple(int(i) for i in np.argwhere(wrong)[0])
    return tr(
        "{name}: {count} of {size} entries differ; the first at {first}: {got:.6g} where {truth:.6g} is right",
        name=name,
        count=int(wrong.sum()),
        size=wrong.size,
        first=first,
        got=got[first],
        truth=truth[first],
    )


# ----------------------------------------------------------------------------- asking the child


def call(child: Child, fn: str, *args) -> tuple[list, list]:
    """The submission's fn(*args) -> (its outputs, its arguments afterwards), as plain values."""
    answer = child.probe("call", fn=fn, args=list(args))
    return _list(answer.get("outputs"), tr("outputs")), _list(answer.get("args_after"), tr("arguments"))


def _list(value, what: str) -> list:
    if not isinstance(value, list):
        raise PartFailed("wrong", tr("the child sent no {what}", what=what))
    return value


def _output(values: list, index: int, name: str):
    if index >= len(values):
        raise PartFailed(
            "wrong", tr("{name} is missing: the function returned {count} value(s)", name=name, count=len(values))
        )
    return values[index]


def numerical(child: Child, fn: str, args: list, wrt: int, dout=None) -> np.ndarray:
    """Centered-difference gradient of the submission's fn (output 0) in args[wrt], contracted with dout."""
    answer = child.probe("numerical", fn=fn, args=list(args), wrt=wrt, h=STEP)
    return _difference(answer, args[wrt], dout)


def _difference(answer: dict, x: np.ndarray, dout=None) -> np.ndarray:
    """(f(x + h) - f(x - h)) / 2h from the child's values at each moved entry; PartFailed for unusable ones."""
    plus, minus = answer.get("plus"), answer.get("minus")
    out_shape = () if dout is None else np.shape(dout)
    for values in (plus, minus):
        if not isinstance(values, np.ndarray) or values.shape != (x.size, *out_shape):
            raise PartFailed("wrong", tr("the forward pass gives outputs of another shape when its input moves"))
    with np.errstate(all="ignore"):
        change = (plus.astype(np.float64) - minus.astype(np.float64)) / (2 * STEP)
        if dout is not None:
            change = (change * np.asarray(dout)[None]).reshape(x.size, -1).sum(axis=1)
    return change.reshape(x.shape)


def _unchanged(name: str, before: np.ndarray, after, instead: str) -> None:
    """PartFailed when the function wrote into its input ``name``, saying what to write ``instead``."""
    if not (isinstance(after, np.ndarray) and after.shape == before.shape and np.array_equal(before, after)):
        said = tr("writes into its input {name}, which belongs to the caller: {instead}", name=name, instead=instead)
        raise PartFailed(WRONG, said)


def _max(*errors: float) -> float:
    """The largest error; NaN when any is NaN (so a NaN never hides behind a smaller figure)."""
    return float("nan") if any(math.isnan(e) for e in errors) else max(errors)


# ----------------------------------------------------------------------------- the parts


def _affine_problem(rng: np.random.Generator, x_shape: tuple, m: int) -> tuple[np.ndarray, ...]:
    """x (x_shape), w (D, m), b (m,), dout (N, m) for an affine layer's checks, from rng."""
    d = math.prod(x_shape[1:])
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal((d, m)), rng.standard_normal(m)
    return x, w, b, rng.standard_normal((x_shape[0], m))


def _affine_truth(x, w, b) -> np.ndarray:
    return (torch.from_numpy(x).reshape(len(x), -1) @ torch.from_numpy(w) + torch.from_numpy(b)).numpy()


def grade_affine_forward(child: Child, r: PartResult, rng: np.random.Generator) -> None:
    x = np.linspace(-0.1, 0.5, num=240).reshape(2, 4, 5, 6)
    w = np.linspace(-0.2, 0.3, num=360).reshape(120, 3)
    b = np.linspace(-0.3, 0.1, num=3)
    outputs, after = call(child, "layers.affine_forward", x, w, b)
    out = _output(outputs, 0, "out")
    _unchanged("x", x, after[0], tr("compute out as a new array"))
    lab = [[1.49834967, 1.70660132, 1.91485297], [3.25553199, 3.5141327, 3.77273342]]
    errors = [compare("out", out, _affine_truth(x, w, b))]
    r.vs_lab = relative_error(out.astype(np.float64), np.asarray(lab))[1]
    x2, w2, b2, _ = _affine_problem(rng, (4, 3, 5), 6)
    out2 = _output(call(child, "layers.affine_forward", x2, w2, b2)[0], 0, "out")
    errors.append(compare("out", out2, _affine_truth(x2, w2, b2)))
    r.vs_autograd = _max(*errors)
    flat = x2.reshape(4, -1)
    r.message = diagnose("out", out2, flat @ w2 + b2, {"alternatives": {tr("ignores b"): flat @ w2}})
    try:
        single = call(child, "layers.affine_forward", *(a.astype(np.float32) for a in (x2, w2, b2)))[0]
    except (ChildFailed, PartFailed):  # float32 is a note only: a float64-only layer is still correct
        single = [None]
    if isinstance(single[0], np.ndarray) and single[0].dtype == np.float64:
        r.notes.append(tr("turns float32 inputs into a float64 output (silent upcast: twice the memory, slower)"))


def _autograd_affine(x, w, b, dout, relu: bool = False) -> dict[str, np.ndarray]:
    """out and dx, dw, db of (relu of) x.reshape(N, D) @ w + b, by torch autograd."""
    tx, tw, tb = leaf(x), leaf(w), leaf(b)
    out = tx.reshape(len(x), -1) @ tw + tb
    out = torch.relu(out) if relu else out
    out.backward(torch.from_numpy(dout))
    return {"out": out.detach().numpy(), "dx": tx.grad.numpy(), "dw": tw.grad.numpy(), "db": tb.grad.numpy()}


def _backward(child: Child, forward: str, args: list, backward: str, dout: np.ndarray) -> tuple[list, list]:
    """(forward's outputs, backward's outputs) of the submission: backward(dout, cache of forward(*args))."""
    answer = child.probe("backward", forward=forward, args=list(args), backward=backward, dout=dout)
    return _list(answer.get("forward"), tr("forward outputs")), _list(answer.get("outputs"), tr("outputs"))


def grade_affine_backward(child: Child, r: PartResult, rng: np.random.Generator) -> None:
    x, w, b, dout = _affine_problem(rng, (10, 2, 3), 5)
    _, (dx, dw, db) = _padded(_backward(child, "layers.affine_forward", [x, w, b], "layers.affine_backward", dout), 3)
    truth = {k: v for k, v in _autograd_affine(x, w, b, dout).items() if k != "out"}
    got = {"dx": dx, "dw": dw, "db": db}
    errors = [compare(k, got[k], truth[k]) for k in truth]
    far = b + 1e6  # outputs near 1e6: a difference quotient of them loses 5 digits, the chain rule none
    _, far_grads = _padded(_backward(child, "layers.affine_forward", [x, w, far], "layers.affine_backward", dout), 3)
    far_truth = _autograd_affine(x, w, far, dout)
    errors += [compare(k, g, far_truth[k]) for k, g in zip(("dx", "dw", "db"), far_grads)]
    r.vs_autograd = _max(*errors)
    numeric = {k: numerical(child, "layers.affine_forward", [x, w, b], i, dout) for i, k in enumerate(truth)}
    r.vs_numerical = _max(*(relative_error(got[k].astype(np.float64), numeric[k])[1] for k in truth))
    factors = {
        1 / 10: tr("divided by N = {n}: this layer has no 1/N, the loss does", n=10),
        10: tr("multiplied by N = {n}", n=10),
    }
    r.message = "; ".join(filter(None, (diagnose(k, got[k], truth[k], {"factors": factors}) for k in truth)))


def _padded(answer: tuple[list, list], count: int) -> tuple[list, list]:
    forward, outputs = answer
    if len(outputs) != count:
        said = tr(
            "the backward pass returned {count} value(s), expected {expected}", count=len(outputs), expected=count
        )
        raise PartFailed("wrong", said)
    return forward, outputs


def grade_relu_forward(child: Child, r: PartResult, rng: np.random.Generator) -> None:
    x = np.linspace(-0.5, 0.5, num=12).reshape(3, 4)
    outputs, after = call(child, "layers.relu_forward", x)
    out = _output(outputs, 0, "out")
    _unchanged("x", x, after[0], tr("make a new array, e.g. out = np.maximum(0, x)"))
    errors = [compare("out", out, np.maximum(x, 0))]
    lab = [[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.04545455, 0.13636364], [0.22727273, 0.31818182, 0.40909091, 0.5]]
    r.vs_lab = relative_error(out.astype(np.float64), np.asarray(lab))[1]
    x2 = rng.standard_normal((6, 7))
    out2 = _output(call(child, "layers.relu_forward", x2)[0], 0, "out")
    errors.append(compare("out", out2, torch.relu(torch.from_numpy(x2)).numpy()))
    r.vs_autograd = _max(*errors)
    r.message = diagnose("out", out2, np.maximum(x2, 0))


def clear_of_kinks(draw: Callable[[], tuple], inputs_to_relu: Callable[..., np.ndarray]) -> tuple:
    """draw() again until no input to a ReLU lies within KINK_MARGIN of 0, where a centered difference
    with h = STEP would straddle the kink and disagree with a correct gradient."""
    for _ in range(100):
        drawn = draw()
        if np.min(np.abs(inputs_to_relu(*drawn))) > KINK_MARGIN:
            return drawn
    raise RuntimeError("no draw clear of the ReLU's kink in 100 tries")


def grade_relu_backward(child: Child, r: PartResult, rng: np.random.Generator) -> None:
    x, dout = clear_of_kinks(lambda: (rng.standard_normal((10, 10)), rng.standard_normal((10, 10))), lambda x, _: x)
    answer = child.probe(
        "backward", forward="layers.relu_forward", args=[x], backward="layers.relu_backward", dout=dout
    )
    dx = _output(_list(answer.get("outputs"), tr("outputs")), 0, "dx")
    _unchanged("dout", dout, answer.get("dout_after"), tr("make dx a new array, e.g. dx = dout * (x > 0)"))
    tx = leaf(x)
    torch.relu(tx).backward(torch.from_numpy(dout))
    truth = tx.grad.numpy()
    near = np.where(x > 0, 1, -1) * rng.uniform(1e-9, 1e-7, size=x.shape)  # within h of the kink: no difference
    near_outputs = _backward(child, "layers.relu_forward", [near], "layers.relu_backward", dout)[1]  # quotient can
    near_dx = _output(near_outputs, 0, "dx")  # tell the sides apart there; the mask does
    r.vs_autograd = _max(compare("dx", dx, truth), compare("dx", near_dx, dout * (near > 0)))
    r.vs_numerical = relative_error(dx.astype(np.float64), numerical(child, "layers.relu_forward", [x], 0, dout))[1]
    alternatives = {
        tr("is dout itself: the ReLU mask (x > 0) is missing"): dout,
        tr("uses the mask x < 0"): dout * (x < 0),
    }
    r.message = diagnose("dx", dx, truth, {"alternatives": alternatives})


def grade_affine_relu(child: Child, r: PartResult, rng: np.random.Generator) -> None:
    x, w, b, dout = clear_of_kinks(
        lambda: _affine_problem(rng, (2, 3, 4), 10), lambda x, w, b, _: _affine_truth(x, w, b)
    )
    forward, (dx, dw, db) = _padded(
        _backward(child, "layer_utils.affine_relu_forward", [x, w, b], "layer_utils.affine_relu_backward", dout), 3
    )
    truth = _autograd_affine(x, w, b, dout, relu=True)
    got = {"out": _output(forward, 0, "out"), "dx": dx, "dw": dw, "db": db}
    r.vs_autograd = _max(*(compare(k, got[k], truth[k]) for k in truth))
    numeric = numerical(child, "layer_utils.affine_relu_forward", [x, w, b], 0, dout)
    r.vs_numerical = relative_error(dx.astype(np.float64), numeric)[1]
    r.message = "; ".join(filter(None, (diagnose(k, got[k], truth[k]) for k in truth)))


def _loss_part(
    child: Child, fn: str, truth_fn: Callable, mistakes: Callable, lab_loss: float, lab_tolerance: float, r, rng, big
) -> None:
    x = 0.001 * rng.standard_normal((50, 10))
    y = rng.integers(10, size=50)
    outputs, _ = call(child, fn, x, y)
    loss, dx = _output(outputs, 0, "loss"), _output(outputs, 1, "dx")
    tx = leaf(x)
    t_loss = truth_fn(tx, torch.from_numpy(y))
    t_loss.backward()
    errors = [compare("loss", loss, t_loss.item()), compare("dx", dx, tx.grad.numpy())]
    numeric = _difference(child.probe("numerical", fn=fn, args=[x, y], wrt=0, h=STEP), x)
    r.vs_numerical = relative_error(dx.astype(np.float64), numeric)[1]
    r.vs_lab, r.lab_tolerance = abs(float(loss) - lab_loss), lab_tolerance  # the lab checks |loss - figure|
    factors = {50: tr("N = {n} times too large: divide by N (the loss is a mean over the batch)", n=50)}
    r.message = diagnose("dx", dx, tx.grad.numpy(), {"factors": factors, "alternatives": mistakes(x, y)})
    if not r.message and not abs(float(loss) - t_loss.item()) <= AUTOGRAD_TOLERANCE * abs(t_loss.item()):
        ratio, extra = float(loss) / t_loss.item(), float(loss) - t_loss.item()
        r.message = tr("loss is {loss:.6g}, expected {truth:.6g}", loss=float(loss), truth=t_loss.item()) + (
            tr(" (N = {n} times too large: divide by N)", n=50)
            if math.isclose(ratio, 50, rel_tol=1e-6)
            else tr(" (1 too large: the correct class's own margin, always 1, is counted; skip j == y)")
            if math.isclose(extra, 1, rel_tol=1e-6)
            else ""
        )
    if big:  # large scores: a softmax without the max shift overflows
        big_x = 5 * rng.standard_normal((5, 10)) + 1000  # gaps of a few units: log(p) is finite in any correct form
        big = call(child, fn, big_x, y[:5])[0]
        big_loss, big_dx = _output(big, 0, "loss"), _output(big, 1, "dx")
        finite = all(isinstance(v, np.ndarray) and np.all(np.isfinite(v)) for v in (big_loss, big_dx))
        if not finite:
            raise PartFailed(
                "nan",
                tr(
                    "scores near 1000 give a NaN or infinite loss: subtract each row's max before exp "
                    "(exp(1000) overflows)"
                ),
            )
    x2 = 3 * rng.standard_normal((20, 7)) + 1e3  # a trained net's scores, all near 1e3: the chain rule is exact
    # there, a difference quotient is not (x + h rounds at 1e-13)
    y2 = rng.integers(7, size=20)
    outputs2, _ = call(child, fn, x2, y2)
    tx2 = leaf(x2)
    t_loss2 = truth_fn(tx2, torch.from_numpy(y2))
    t_loss2.backward()
    errors += [compare("loss", _output(outputs2, 0, "loss"), t_loss2.item())]
    errors += [compare("dx", _output(outputs2, 1, "dx"), tx2.grad.numpy())]
    r.vs_autograd = _max(*errors)


def _svm_truth(scores, y):
    correct = scores.gather(1, y[:, None])
    margins = torch.clamp(scores - correct + 1, min=0)
    return (margins.sum() - len(y)) / len(y)  # the correct class's margin is exactly 1: not counted


def _svm_mistakes(x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """The SVM's classic wrong gradients on scores x (N, C) and labels y (N,)."""
    n = len(x)
    positive = (x - x[np.arange(n), y][:, None] + 1 > 0).astype(np.float64)
    positive[np.arange(n), y] = 0
    return {tr("misses the correct class's column: dx[i, y_i] = -(number of positive margins) / N"): positive / n}


def _softmax_mistakes(x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """The softmax loss's classic wrong gradients on scores x (N, C) and labels y (N,)."""
    n = len(x)
    probs = np.exp(x - x.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    return {
        tr("misses the -1 at the correct class: dx = (softmax - one_hot(y)) / N"): probs / n,
        tr("subtracts 1 from every class, not only the correct one: only dx[i, y_i] gets the -1"): (probs - 1) / n,
    }


def grade_svm_loss(child: Child, r: PartResult, rng: np.random.Generator) -> None:
    _loss_part(child, "layers.svm_loss", _svm_truth, _svm_mistakes, 9.0, 1e-2, r, rng, big=False)


def grade_softmax_loss(child: Child, r: PartResult, rng: np.random.Generator) -> None:
    truth = lambda s, y: F.cross_entropy(s, y)  # noqa: E731
    _loss_part(child, "layers.softmax_loss", truth, _softmax_mistakes, 2.3026, 1e-3, r, rng, big=True)


N, D, H, C = 3, 5, 50, 7
LAB_INIT = {"input_dim": D, "hidden_dim": H, "num_classes": C, "weight_scale": 1e-3}
LAB_SCORES = np.asarray(
    [
        [11.53165108, 12.2917344, 13.05181771, 13.81190102, 14.57198434, 15.33206765, 16.09215096],
        [12.05769098, 12.74614105, 13.43459113, 14.1230412, 14.81149128, 15.49994135, 16.18839143],
        [12.58373087, 13.20054771, 13.81736455, 14.43418138, 15.05099822, 15.66781506, 16.2846319],
    ]
)


def _lab_params() -> dict[str, np.ndarray]:
    return {
        "W1": np.linspace(-0.7, 0.3, num=D * H).reshape(D, H),
        "b1": np.linspace(-0.1, 0.9, num=H),
        "W2": np.linspace(-0.3, 0.4, num=H * C).reshape(H, C),
        "b2": np.linspace(-0.9, 0.1, num=C),
    }


def _random_params(rng: np.random.Generator, scale: float = 0.5, sizes=(D, H, C)) -> dict[str, np.ndarray]:
    d, h, c = sizes
    shapes = {"W1": (d, h), "b1": (h,), "W2": (h, c), "b2": (c,)}
    return {k: scale * rng.standard_normal(shape) for k, shape in shapes.items()}


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


def _model(child: Child, init: dict, params=None, X=None, y=None, reg=None) -> dict:
    """The submission's TwoLayerNet(**init) after np.random.seed(231): {"params"} and, given X, {"loss": outputs}."""
    answer = child.probe("model", init=init, params=params, X=X, y=y, reg=reg)
    if not isinstance(answer.get("params"), dict):
        raise PartFailed("wrong", tr("model.params is not a dict of arrays"))
    return answer


def grade_twolayer_init(child: Child, r: PartResult, rng: np.random.Generator) -> None:
    shapes = {"W1": (D, H), "b1": (H,), "W2": (H, C), "b2": (C,)}
    params = _model(child, LAB_INIT)["params"]
    for name, shape in shapes.items():
        compare(name, params.get(name), np.zeros(shape))  # shape and dtype only
    problems = [tr("{name} is not all zeros", name=n) for n in ("b1", "b2") if np.any(params[n] != 0)]
    # a second, larger net with a weight_scale drawn per run: enough entries to judge the spread
    scale, sizes = float(10 ** rng.uniform(-3, -1)), (300, 200, 10)
    big = _model(child, {**dict(zip(("input_dim", "hidden_dim", "num_classes"), sizes)), "weight_scale": scale})
    big = big["params"]
    for name, shape in {"W1": sizes[:2], "W2": sizes[1:]}.items():
        compare(f"{name} of TwoLayerNet(input_dim=300, hidden_dim=200)", big.get(name), np.zeros(shape))
        w = big[name].astype(np.float64)
        if not (abs(w.std() / scale - 1) <= 0.08 and abs(w.mean()) <= 6 * scale / math.sqrt(w.size)):
            problems.append(
                tr(
                    "with weight_scale = {scale:.3g}, {name} has mean {mean:.2e} and std {std:.2e}; "
                    "expected N(0, weight_scale^2) entries",
                    scale=scale,
                    name=name,
                    mean=w.mean(),
                    std=w.std(),
                )
            )
    if np.array_equal(big["W1"][:, 0], big["W1"][:, 1]):
        problems.append(tr("W1's columns are all alike: draw each weight on its own"))
    if problems:
        raise PartFailed(WRONG, "; ".join(problems))
    r.vs_autograd = None


def _scores(child: Child, params: dict, X: np.ndarray) -> np.ndarray:
    return _output(_model(child, LAB_INIT, params, X)["loss"], 0, "scores")


def grade_twolayer_scores(child: Child, r: PartResult, rng: np.random.Generator) -> None:
    X, _ = _lab_inputs()
    scores = _scores(child, _lab_params(), X)
    errors = [compare("scores", scores, torch_net(_lab_params(), X, None, 0.0)[0].detach().numpy())]
    r.vs_lab = float(np.abs(scores.astype(np.float64) - LAB_SCORES).sum())  # the lab's measure: sum |diff|
    params, X2 = _random_params(rng), rng.standard_normal((4, D))
    scores2 = _scores(child, params, X2)
    truth = torch_net(params, X2, None, 0.0)[0].detach().numpy()
    errors.append(compare("scores", scores2, truth))
    r.vs_autograd = _max(*errors)
    no_relu = (X2 @ params["W1"] + params["b1"]) @ params["W2"] + params["b2"]
    r.message = diagnose("scores", scores2, truth, {"alternatives": {tr("skip the ReLU"): no_relu}})


def grade_twolayer_loss(child: Child, r: PartResult, rng: np.random.Generator) -> None:
    errors, lab_errors, messages = [], [], []
    X, y = _lab_inputs()
    cases = [(_lab_params(), X, y, 0.0, 3.4702243556), (_lab_params(), X, y, 1.0, 26.5948426952)]
    cases.append((_random_params(rng), rng.standard_normal((4, D)), rng.integers(C, size=4), rng.uniform(0.1, 2), None))
    for params, X, y, reg, lab in cases:
        loss = _output(_model(child, LAB_INIT, params, X, y, reg)["loss"], 0, "loss")
        truth = torch_net(params, X, y, reg)[1].item()
        errors.append(compare(f"loss (reg {reg:g})", loss, truth))
        if lab is not None:
            lab_errors.append(abs(float(loss) - lab) / lab)
        if not errors[-1] <= AUTOGRAD_TOLERANCE:
            said = tr(
                "with reg = {reg:.3g} the loss is {loss:.10g}, expected {truth:.10g}",
                reg=reg,
                loss=float(loss),
                truth=truth,
            )
            for words, wrong in _loss_mistakes(params, X, y, reg).items():
                if math.isclose(float(loss), wrong, rel_tol=1e-9):
                    said += f": {words}"
                    break
            messages.append(said)
    r.vs_autograd, r.vs_lab = _max(*errors), _max(*lab_errors)
    if messages and errors[0] <= AUTOGRAD_TOLERANCE:
        messages.append(tr("only the regularization differs: it is 0.5 * reg * (sum W1^2 + sum W2^2), no biases"))
    r.message = "; ".join(messages)


def _loss_mistakes(params: dict, X: np.ndarray, y: np.ndarray, reg: float) -> dict[str, float]:
    """TwoLayerNet's classic wrong losses: {what the code does: the loss it gives}."""
    data_loss = torch_net(params, X, y, 0.0)[1].item()
    weights = float((params["W1"] ** 2).sum() + (params["W2"] ** 2).sum())
    biases = float((params["b1"] ** 2).sum() + (params["b2"] ** 2).sum())
    return {
        tr("the regularization lacks its 1/2: 0.5 * reg * (sum W1^2 + sum W2^2)"): data_loss + reg * weights,
        tr("the biases are regularized too; only W1 and W2 are"): data_loss + 0.5 * reg * (weights + biases),
        tr("the data loss is a sum over the batch, not a mean"): len(X) * data_loss + 0.5 * reg * weights,
        tr("the regularization is missing"): data_loss,
    }


def grade_twolayer_grads(child: Child, r: PartResult, rng: np.random.Generator) -> None:
    X, params = clear_of_kinks(
        lambda: (rng.standard_normal((N, D)), _random_params(rng, 5e-2)), lambda X, p: X @ p["W1"] + p["b1"]
    )
    y, reg = rng.integers(C, size=N), 0.7
    init = {**LAB_INIT, "weight_scale": 5e-2}
    outputs = _model(child, init, params, X, y, reg)["loss"]
    grads = _output(outputs, 1, "grads")
    if not isinstance(grads, dict):
        raise PartFailed("wrong", tr("grads is not a dict of arrays"))
    _, loss, leaves = torch_net(params, X, y, reg)
    loss.backward()
    truth = {k: leaves[k].grad.numpy() for k in params}
    errors = [compare(f"grads[{k!r}]", grads.get(k), truth[k]) for k in truth]
    heavy, strong = _random_params(rng, 1.0), 10.0  # a loss in the thousands: a difference quotient of it loses
    heavy_grads = _output(_model(child, init, heavy, X, y, strong)["loss"], 1, "grads")  # digits, the chain rule none
    _, heavy_loss, heavy_leaves = torch_net(heavy, X, y, strong)
    heavy_loss.backward()
    if not isinstance(heavy_grads, dict):
        raise PartFailed("wrong", tr("grads is not a dict of arrays"))
    errors += [compare(f"grads[{k!r}]", heavy_grads.get(k), heavy_leaves[k].grad.numpy()) for k in heavy]
    r.vs_autograd = _max(*errors)
    numeric = {}
    for k in params:
        answer = child.probe("model_numerical", init=init, params=params, X=X, y=y, reg=reg, name=k, h=STEP)
        numeric[k] = _difference(answer, params[k])
    r.vs_numerical = _max(*(relative_error(grads[k].astype(np.float64), numeric[k])[1] for k in params))
    messages = []
    for k in truth:
        alternatives = {}
        if k.startswith("b"):
            alternatives[tr("adds reg * b: the biases are regularized, they should not be")] = (
                truth[k] + reg * params[k]
            )
        else:
            alternatives[tr("lacks reg * W: the regularization gradient is missing")] = truth[k] - reg * params[k]
            alternatives[tr("has 2 * reg * W: the loss is 0.5 * reg * sum(W^2), its gradient reg * W")] = (
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


LAB_DEFAULTS = {  # each rule's hyperparameters and state when config leaves them out, as the lab's docstrings say
    "sgd": {"learning_rate": 1e-2},
    "sgd_momentum": {"learning_rate": 1e-2, "momentum": 0.9, "velocity": 0.0},
    "rmsprop": {"learning_rate": 1e-2, "decay_rate": 0.99, "epsilon": 1e-8, "cache": 0.0},
    "adam": {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8, "m": 0.0, "v": 0.0, "t": 0},
}
OTHER_HYPERPARAMETERS = {"momentum": 0.5, "decay_rate": 0.9, "beta1": 0.8, "beta2": 0.99, "epsilon": 1e-6}


def with_defaults(rule: str, w: np.ndarray, config: dict | None) -> dict:
    """config completed with the lab's defaults for rule (state arrays as zeros like w)."""
    full = {k: np.zeros_like(w) if k in ("velocity", "cache", "m", "v") else v for k, v in LAB_DEFAULTS[rule].items()}
    return {**full, **(config or {})}


def lab_update_in_torch(rule: str, w: np.ndarray, dw: np.ndarray, config: dict | None) -> np.ndarray:
    """One step of the lab's rule, written out in torch ops (config's omissions take the lab's defaults)."""
    c = with_defaults(rule, w, config)
    tw, tdw, lr = torch.from_numpy(w), torch.from_numpy(dw), c["learning_rate"]
    if rule == "sgd":
        return (tw - lr * tdw).numpy()
    if rule == "sgd_momentum":
        return (tw + (c["momentum"] * torch.from_numpy(c["velocity"]) - lr * tdw)).numpy()
    if rule == "rmsprop":
        cache = c["decay_rate"] * torch.from_numpy(c["cache"]) + (1 - c["decay_rate"]) * tdw**2
        return (tw - lr * tdw / (cache.sqrt() + c["epsilon"])).numpy()
    step, b1, b2 = c["t"] + 1, c["beta1"], c["beta2"]
    m = b1 * torch.from_numpy(c["m"]) + (1 - b1) * tdw
    v = b2 * torch.from_numpy(c["v"]) + (1 - b2) * tdw**2
    m_hat, v_hat = m / (1 - b1**step), v / (1 - b2**step)
    return (tw - lr * m_hat / (v_hat.sqrt() + c["epsilon"])).numpy()


def update_mistakes(rule: str, w: np.ndarray, dw: np.ndarray, config: dict) -> dict[str, np.ndarray]:
    """The classic wrong versions of one step of rule: {what the code does instead: its next_w}."""
    lr, eps = config["learning_rate"], 1e-8
    if rule == "sgd_momentum":
        return {tr("adds the gradient: v = mu * v - lr * dw, then w + v"): w + (0.9 * config["velocity"] + lr * dw)}
    if rule == "rmsprop":
        cache = 0.99 * config["cache"] + 0.01 * dw**2
        return {
            tr("puts epsilon inside the square root: divide by sqrt(cache) + eps"): w - lr * dw / np.sqrt(cache + eps)
        }
    if rule != "adam":
        return {}
    m = 0.9 * config["m"] + 0.1 * dw
    v = 0.999 * config["v"] + 0.001 * dw**2
    step, mistakes = config["t"] + 1, {}
    if config["t"] > 0:
        stale = m / (1 - 0.9 ** config["t"]), v / (1 - 0.999 ** config["t"])
        mistakes[tr("corrects the bias with t before its increment: t = t + 1 first, then 1 - beta ** t")] = (
            w - lr * stale[0] / (np.sqrt(stale[1]) + eps)
        )
    m_hat, v_hat = m / (1 - 0.9**step), v / (1 - 0.999**step)
    mistakes[tr("puts epsilon inside the square root: divide by sqrt(v_hat) + eps")] = w - lr * m_hat / np.sqrt(
        v_hat + eps
    )
    mistakes[tr("leaves out the bias correction: m / (1 - beta1 ** t), v / (1 - beta2 ** t)")] = w - lr * m / (
        np.sqrt(v) + eps
    )
    return mistakes


def lab_state_after(rule: str, w: np.ndarray, dw: np.ndarray, config: dict | None) -> dict[str, np.ndarray]:
    """The state the lab's rule leaves in config after one step (velocity, cache, or m, v and t)."""
    c = with_defaults(rule, w, config)
    if rule == "sgd_momentum":
        return {"velocity": c["momentum"] * c["velocity"] - c["learning_rate"] * dw}
    if rule == "rmsprop":
        return {"cache": c["decay_rate"] * c["cache"] + (1 - c["decay_rate"]) * dw**2}
    if rule == "adam":
        m, v = c["beta1"] * c["m"] + (1 - c["beta1"]) * dw, c["beta2"] * c["v"] + (1 - c["beta2"]) * dw**2
        return {"m": m, "v": v, "t": np.asarray(c["t"] + 1)}
    return {}


def grade_update(rule: str) -> Callable:
    def grade(child: Child, r: PartResult, rng: np.random.Generator) -> None:
        w, dw = lab_w_dw()
        config, lab = LAB_UPDATES[rule]
        next_w, _ = _update(child, rule, w, dw, config)
        errors = [compare("next_w", next_w, lab_update_in_torch(rule, w, dw, config))]
        if lab:
            first_row, last = lab["next_w"]
            got = np.concatenate([next_w.astype(np.float64)[0], [next_w.astype(np.float64)[-1, -1]]])
            r.vs_lab = relative_error(got, np.asarray([*first_row, last]))[1]
        cases = [(w, dw, config, next_w)]
        w2 = rng.standard_normal((6, 3))
        config2 = {k: _like(v, rng) for k, v in config.items()}
        config2["learning_rate"] = float(10 ** rng.uniform(-3, -1))
        small = {
            k: (np.zeros_like(v) if isinstance(v, np.ndarray) else 0 if k == "t" else v) for k, v in config2.items()
        }
        tuned = {**config2, **{k: v for k, v in OTHER_HYPERPARAMETERS.items() if k in LAB_DEFAULTS[rule]}}
        # random gradients; tiny ones on a fresh state, where epsilon's place and the bias correction tell; other
        # hyperparameters than the defaults, which a rule must use; no config at all, where the defaults apply
        for dw2, config_used in (
            (rng.standard_normal((6, 3)), config2),
            (1e-6 * rng.standard_normal((6, 3)), small),
            (rng.standard_normal((6, 3)), tuned),
            (rng.standard_normal((6, 3)), None),
        ):
            next_w2, state = _update(child, rule, w2, dw2, config_used)
            try:
                errors.append(compare("next_w", next_w2, lab_update_in_torch(rule, w2, dw2, config_used)))
            except PartFailed as err:
                if err.status == "nan" and rule == "adam" and with_defaults(rule, w2, config_used)["t"] == 0:
                    said = tr(
                        ": on a fresh state (t = 0), 1 - beta1 ** t is 0 and the bias correction divides by it; "
                        "add 1 to t first"
                    )
                    raise PartFailed("nan", f"{err}{said}") from None
                raise
            cases.append((w2, dw2, with_defaults(rule, w2, config_used), next_w2))
            for key, truth in lab_state_after(rule, w2, dw2, config_used).items():
                got = state.get(key) if isinstance(state, dict) else None
                if got is None or np.shape(got) != np.shape(truth) or not np.allclose(got, truth, rtol=1e-8, atol=0):
                    r.message = tr(
                        "the returned config[{key}] is not the lab's state after the step", key=repr(key)
                    ) + (
                        tr(": it has the opposite sign (the lab keeps v = mu * v - lr * dw)")
                        if got is not None and np.shape(got) == np.shape(truth) and np.allclose(got, -truth)
                        else ""
                    )
                    errors.append(float("inf"))
        r.vs_autograd = _max(*errors)
        for w_, dw_, config_, got in cases:
            said = diagnose(
                "next_w",
                got,
                lab_update_in_torch(rule, w_, dw_, config_),
                {"alternatives": update_mistakes(rule, w_, dw_, config_)},
            )
            if said:
                r.message = "; ".join(filter(None, [r.message, said]))  # the contract on config first
                break

    return grade


def _like(value, rng: np.random.Generator):
    """A fresh value for an optimizer's state entry: positive arrays of its shape, a step count in 1..100."""
    if isinstance(value, np.ndarray):
        return rng.uniform(0.1, 1.0, size=(6, 3))
    return int(rng.integers(1, 100)) if isinstance(value, int) else value


def _update(child: Child, rule: str, w, dw, config: dict) -> tuple[np.ndarray, dict]:
    """The submission's optim.<rule>(w, dw, config) -> (next_w, the config it returned)."""
    answer = child.probe("update", rule=rule, w=w, dw=dw, config=config)
    return answer.get("next_w"), answer.get("config")


MAX_SOLVER_CALLS = 2000  # loss calls one Solver part may make (10 epochs take about 70)
SOLVER_DATA = {"classes": 5, "features": 20, "hidden": 30, "train": 50, "val": 10}
SOLVER_SETTINGS = {
    "update_rule": "sgd",
    "optim_config": {"learning_rate": 0.1},
    "lr_decay": 0.9,
    "num_epochs": 10,
    "batch_size": 10,
    "verbose": False,
}


class ParentModel:
    """The model the Solver trains, computed here: it answers the child's loss calls and keeps every one."""

    def __init__(self, shapes: dict[str, tuple]):
        self.shapes, self.calls, self.losses = shapes, [], []
        self.classes = shapes["b2"][0]

    def answer(self, question) -> dict:
        """loss(X, y) for the child: {"scores"} or {"loss", "grads"}; {"status": "refused"} for unusable input."""
        try:
            X, y, params = self._check(question)
        except ValueError as err:
            return {"status": "refused", "message": str(err)}
        scores, loss, leaves = torch_net(params, X, y, 0.0)
        if y is None:
            self.calls.append((params, X, None, None))
            return {"scores": scores.detach().numpy()}
        loss.backward()
        grads = {k: leaves[k].grad.numpy() for k in params}
        self.calls.append((params, X, y, grads))
        self.losses.append(loss.item())
        return {"loss": loss.item(), "grads": grads}

    def _check(self, question) -> tuple:
        if len(self.calls) >= MAX_SOLVER_CALLS:
            raise ValueError(
                tr("model.loss was called {count} times; training takes far fewer", count=MAX_SOLVER_CALLS)
            )
        X, y, params = (question.get(k) for k in ("X", "y", "params")) if isinstance(question, dict) else (None,) * 3
        rows, features, classes = SOLVER_DATA["train"] + SOLVER_DATA["val"], SOLVER_DATA["features"], self.classes
        if not (isinstance(X, np.ndarray) and X.ndim == 2 and X.shape[1] == features and 0 < len(X) <= rows):
            raise ValueError(
                tr(
                    "model.loss: X must be an (N, {features}) array of the data's rows, N <= {rows}",
                    features=features,
                    rows=rows,
                )
            )
        if X.dtype.kind != "f" or not np.all(np.isfinite(X)):
            raise ValueError(tr("model.loss: X must hold finite floats"))
        if y is not None:
            if not (isinstance(y, np.ndarray) and y.shape == (len(X),) and y.dtype.kind in "iu"):
                raise ValueError(tr("model.loss: y must be an (N,) integer array"))
            if not np.all((y >= 0) & (y < classes)):
                raise ValueError(tr("model.loss: labels must be in 0..{last}", last=classes - 1))
            y = y.astype(np.int64)
        if not isinstance(params, dict) or set(params) != set(self.shapes):
            raise ValueError(tr("model.params must hold W1, b1, W2, b2"))
        for k, shape in self.shapes.items():
            v = params[k]
            if not (
                isinstance(v, np.ndarray) and v.shape == shape and v.dtype == np.float64 and np.all(np.isfinite(v))
            ):
                raise ValueError(
                    tr("model.params[{key}] must be a finite float64 array of shape {shape}", key=repr(k), shape=shape)
                )
        return X.astype(np.float64), y, params


def grade_solver(child: Child, r: PartResult, rng: np.random.Generator) -> None:
    """The Solver trains a model computed here on separable data: every step checked, the result scored here."""
    k, d, h, n, v = (SOLVER_DATA[key] for key in ("classes", "features", "hidden", "train", "val"))
    centers = rng.standard_normal((k, d)) * 3
    y = rng.integers(k, size=n + v)
    X = centers[y] + 0.3 * rng.standard_normal((n + v, d))
    data = {"X_train": X[:n], "y_train": y[:n], "X_val": X[n:], "y_val": y[n:]}
    params = _random_params(rng, 0.1, (d, h, k))
    model = ParentModel({key: value.shape for key, value in params.items()})
    child.answer = model.answer
    answer = child.probe("solver", params=params, data=data, settings=SOLVER_SETTINGS)
    steps = [call for call in model.calls if call[2] is not None]
    per_epoch = n // SOLVER_SETTINGS["batch_size"]
    expected = SOLVER_SETTINGS["num_epochs"] * per_epoch
    if len(steps) != expected:
        said = tr(
            "the Solver made {count} training steps; {expected} expected (10 epochs of 5)",
            count=len(steps),
            expected=expected,
        )
        raise PartFailed(WRONG, said)
    rows = {row.tobytes(): i for i, row in enumerate(data["X_train"])}
    batches = []
    for _, X_batch, y_batch, _ in steps:
        if len(X_batch) != SOLVER_SETTINGS["batch_size"]:
            raise PartFailed(
                WRONG, tr("the Solver trained on a batch of {rows} rows; batch_size is 10", rows=len(X_batch))
            )
        indices = [rows.get(row.astype(np.float64).tobytes()) for row in X_batch]
        if None in indices or not np.array_equal(data["y_train"][indices], y_batch):
            raise PartFailed(WRONG, tr("the Solver trained on rows (or labels) that are not the training data's"))
        batches.append(tuple(sorted(indices)))
    if len(set(batches)) <= expected // 2:
        said = tr(
            "the Solver trained on only {count} different minibatches in {expected}",
            count=len(set(batches)),
            expected=expected,
        )
        raise PartFailed(WRONG, said)
    for step, ((before, *_, grads), (after, *_)) in enumerate(zip(steps, steps[1:])):
        lr = SOLVER_SETTINGS["optim_config"]["learning_rate"] * SOLVER_SETTINGS["lr_decay"] ** (step // per_epoch)
        error = _max(*(relative_error(after[key], before[key] - lr * grads[key])[1] for key in before))
        if not error <= 1e-10:
            said = tr(
                "after step {step} the weights are not w - learning_rate * dw with learning_rate = {lr:.4g} "
                "(0.1, times lr_decay = 0.9 after each epoch); check optim.sgd and the Solver's decay",
                step=step + 1,
                lr=lr,
            )
            raise PartFailed(WRONG, said)
    before, _, _, grads = steps[-1]
    lr = SOLVER_SETTINGS["optim_config"]["learning_rate"] * SOLVER_SETTINGS["lr_decay"] ** ((expected - 1) // per_epoch)
    trained = {key: before[key] - lr * grads[key] for key in before}  # the weights after the last step
    final = answer.get("params")
    if not isinstance(final, dict) or not any(_same_params(final, p) for p in [trained, *(c[0] for c in model.calls)]):
        raise PartFailed(WRONG, tr("after train() the model's params are none of the weights training went through"))
    scores = torch_net(trained, data["X_train"], None, 0.0)[0].detach().numpy()
    accuracy = float(np.mean(np.argmax(scores, axis=1) == data["y_train"]))
    if not accuracy >= 0.9:  # 300 draws of this problem all reach 1.0 with the lab's Solver
        said = tr(
            "training accuracy after 10 epochs is {accuracy:.2f}; a working Solver reaches 1.0", accuracy=accuracy
        )
        raise PartFailed(WRONG, said)
    _check_best_and_histories(model, data, final, answer, trained)


def _check_best_and_histories(model: ParentModel, data: dict, final: dict, answer: dict, trained: dict) -> None:
    """The Solver checked accuracy after the first step and after each epoch, as the lab's does, restored the
    weights of its best validation accuracy, and its histories are what happened."""
    steps = [call for call in model.calls if call[2] is not None]
    per_epoch = SOLVER_DATA["train"] // SOLVER_SETTINGS["batch_size"]
    after = [state for state, *_ in steps[1:]] + [trained]  # after[k]: the weights after step k + 1
    expected = [after[0]] + [after[k - 1] for k in range(per_epoch, len(after) + 1, per_epoch)]
    val_rows = sorted(row.tobytes() for row in data["X_val"])
    checks = [
        state
        for state, X_asked, y_asked, _ in model.calls
        if y_asked is None and sorted(row.astype(np.float64).tobytes() for row in X_asked) == val_rows
    ]
    if len(checks) != len(expected) or not all(map(_close_params, checks, expected)):
        said = tr(
            "the Solver checked the validation accuracy {count} times; the lab's checks it after the first step and "
            "after each epoch ({expected} times), on the weights training reached then",
            count=len(checks),
            expected=len(expected),
        )
        raise PartFailed(WRONG, said)

    def accuracy(state: dict, X: np.ndarray, y: np.ndarray) -> float:
        return float(np.mean(np.argmax(torch_net(state, X, None, 0.0)[0].detach().numpy(), axis=1) == y))

    val = [accuracy(state, data["X_val"], data["y_val"]) for state in checks]
    best = int(np.argmax(val))  # the first of the best, as the lab's `val_acc > best_val_acc` keeps
    if not _same_params(final, checks[best]):
        said = tr(
            "after train() the model's params are not those of the best validation accuracy ({accuracy:.2f}, check "
            "{check} of {count}): keep best_params at each better check and restore them at the end",
            accuracy=val[best],
            check=best + 1,
            count=len(checks),
        )
        raise PartFailed(WRONG, said)
    train = [accuracy(state, data["X_train"], data["y_train"]) for state in checks]
    for name, truth in (("loss_history", model.losses), ("val_acc_history", val), ("train_acc_history", train)):
        got = answer.get(name)
        if not (isinstance(got, list) and len(got) == len(truth) and np.allclose(got, truth, rtol=1e-12, atol=0)):
            raise PartFailed(
                WRONG, tr("solver.{name} is not the {count} values training went through", name=name, count=len(truth))
            )


def _close_params(got: dict, state: dict) -> bool:
    """got equals state to the last bits (the last step's weights are computed here and in the child alike)."""
    return set(got) == set(state) and all(
        got[k].shape == state[k].shape and np.allclose(got[k], state[k], rtol=1e-12, atol=0) for k in state
    )


def _same_params(got: dict, state: dict) -> bool:
    return set(got) == set(state) and all(
        isinstance(got[k], np.ndarray) and got[k].shape == state[k].shape and np.array_equal(got[k], state[k])
        for k in state
    )


@dataclass(frozen=True)
class Part:
    """A graded part: its grader, its section of docs/derivations.md, whether the kit gives it written, and
    the parts whose code it runs (when one of those fails, this one's failure may be theirs)."""

    name: str
    grader: Callable
    section: str
    given: bool = False
    uses: tuple[str, ...] = ()


LAYERS = ("affine forward", "affine backward", "ReLU forward", "ReLU backward")
PARTS: list[Part] = [
    Part("affine forward", grade_affine_forward, "1"),
    Part("affine backward", grade_affine_backward, "1", uses=("affine forward",)),
    Part("ReLU forward", grade_relu_forward, "2"),
    Part("ReLU backward", grade_relu_backward, "2", uses=("ReLU forward",)),
    Part("affine-ReLU sandwich", grade_affine_relu, "3", given=True, uses=LAYERS),
    Part("SVM loss", grade_svm_loss, "5"),
    Part("softmax loss", grade_softmax_loss, "4"),
    Part("TwoLayerNet init", grade_twolayer_init, "11"),
    Part("TwoLayerNet scores", grade_twolayer_scores, "7", uses=("affine forward", "ReLU forward")),
    Part("TwoLayerNet loss", grade_twolayer_loss, "6", uses=("TwoLayerNet scores", "softmax loss")),
    Part("TwoLayerNet gradients", grade_twolayer_grads, "7", uses=("softmax loss", *LAYERS)),
    *(Part(f"update rule {rule}", grade_update(rule), "8", given=rule == "sgd") for rule in LAB_UPDATES),
    Part("Solver", grade_solver, "", given=True, uses=("update rule sgd",)),
]
PART_NAMES = [part.name for part in PARTS]
GIVEN_PARTS = frozenset(part.name for part in PARTS if part.given)  # the kit gives them written


# ----------------------------------------------------------------------------- running


def grade_part(scratch: Scratch, part: Part, rng: np.random.Generator, time_limit=TIME_LIMIT_SECONDS) -> PartResult:
    """Run one part in a fresh child on the scratch copy, whatever the submission does -> its PartResult."""
    result = PartResult(part.name, CORRECT, derivation=part.section)
    child = None
    try:
        child = Child(scratch, time_limit)
        with np.errstate(all="ignore"):
            part.grader(child, result, rng)
    except ChildFailed as err:
        result.status = "timeout" if err.status == "timeout" else err.status
        result.message = clean(tr_known(str(err), CHILD_MESSAGES)) + (f" ({clean(err.where)})" if err.where else "")
    except PartFailed as err:
        result.status, result.message = err.status, clean(str(err))
    except Exception as err:  # an answer in a form no check foresaw: the part's, never the grading's, failure
        result.status = "error"
        said = tr(
            "the grader could not use the submission's answer ({kind}: {error})", kind=type(err).__name__, error=err
        )
        result.message = clean(said)
    else:
        problems = []
        if result.vs_autograd is not None and not result.vs_autograd <= result.tolerance:
            problems.append(result.message or tr("differs from autograd beyond the tolerance"))
        if result.vs_numerical is not None and not result.vs_numerical <= NUMERICAL_TOLERANCE:
            if result.vs_autograd is not None and result.vs_autograd <= result.tolerance:
                result.notes.append(
                    tr(
                        "the backward pass is right (it agrees with autograd), but not with the numerical gradient "
                        "of your forward pass: the forward pass or the loss is what is wrong"
                    )
                )
            else:
                problems.append(tr("the backward pass disagrees with the numerical gradient of its own forward pass"))
        if result.vs_lab is not None and not result.vs_lab <= result.lab_tolerance:
            problems.append(tr("differs from the lab's expected figures"))
        result.status = WRONG if problems else CORRECT
        result.message = "; ".join(dict.fromkeys(problems))
    finally:
        if child is not None:
            child.close()
    if (
        child is not None and child.printed() and result.status != "timeout"
    ):  # (a timeout's output is the child's own traceback)
        result.notes.append(tr("prints while it runs"))
    return result


def grade_folder(
    folder: Path,
    seed: int | None = None,
    time_limit: float = TIME_LIMIT_SECONDS,
    slot: int = 0,
    only: tuple[str, ...] | None = None,
    lang: str = "en",
) -> tuple[list[PartResult], list[str]]:
    """The lab's parts (or those named in only) graded on the lab files in folder -> (results, files left out).

    Inputs beyond the lab's fixtures come from seed (a secret one per call when None); slot is the job
    slot, which picks the child's uid; lang, the language of the messages ("en" or "ko").
    """
    with language(lang):
        return _grade_folder(folder, seed, time_limit, slot, only)


def _grade_folder(folder, seed, time_limit, slot, only) -> tuple[list[PartResult], list[str]]:
    seed = secrets.randbits(64) if seed is None else seed
    parts = [(index, part) for index, part in enumerate(PARTS) if only is None or part.name in only]
    try:
        scratch = Scratch(folder, slot)
    except Exception as err:  # too large, too deep, unreadable: the submission's problem, never the grading's
        message = clean(tr("cannot copy the submission: {error}", error=err))
        return [PartResult(part.name, "error", message=message) for _, part in parts], []
    try:
        results = [grade_part(scratch, part, np.random.default_rng([seed, index]), time_limit) for index, part in parts]
    finally:
        scratch.close()
    return blame_upstream(results), scratch.skipped


def blame_upstream(results: list[PartResult]) -> list[PartResult]:
    """Add to each failing part the failing parts whose code it runs: the mistake may be theirs."""
    failed = {r.part for r in results if not r.passed}
    uses = {part.name: part.uses for part in PARTS}
    for r in results:
        upstream = [name for name in uses[r.part] if name in failed]
        if not r.passed and upstream:
            parts = tr(" and ").join(upstream)
            if len(upstream) == 1:
                r.notes.append(tr("it runs {parts}, which fails: fix that first", parts=parts))
            else:
                r.notes.append(tr("it runs {parts}, which fail: fix those first", parts=parts))
    return results


def grade(
    target: str,
    time_limit: float = TIME_LIMIT_SECONDS,
    seed: int | None = None,
    only: tuple[str, ...] | None = None,
    lang: str = "en",
) -> list[PartResult]:
    """The lab's parts (or those named in only) graded on the target: a folder with the lab's files, or a
    package name. Raises TargetError for a target that is neither.
    """
    from compare.target import resolve_target

    return grade_folder(resolve_target(target), seed, time_limit, only=only, lang=lang)[0]


def format_grades(results: list[PartResult], lang: str = "en") -> str:
    """The table (part, status, each error against the tolerance that judged it, what went wrong) and the score:
    the parts the student writes, then those the kit gives (their code runs the student's, so they count too)."""
    with language(lang):
        return _format_grades(results)


def _format_grades(results: list[PartResult]) -> str:

    def judged(value: float | None, tolerance: float) -> str:
        if value is None:
            return "—"
        return f"{value:.1e} {'≤' if value <= tolerance else '>'} {tolerance:.0e}"

    correct, parts, given_correct, given_parts = counted(results)
    rows = [
        tr("| part | status | vs autograd | vs numerical | vs the lab's figures | what went wrong |"),
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        said = "; ".join(filter(None, [r.message, *r.notes])).replace("|", "/")
        rows.append(
            f"| {r.part}{tr(' (given)') if r.part in GIVEN_PARTS else ''} | {status(r.status)} "
            f"| {judged(r.vs_autograd, r.tolerance)} | {judged(r.vs_numerical, NUMERICAL_TOLERANCE)} "
            f"| {judged(r.vs_lab, r.lab_tolerance)} | {said} |"
        )
    score = tr("{correct}/{total} parts correct", correct=correct, total=parts)
    if given_parts:
        score += tr(
            " (the parts you write; the parts the kit gives: {given_correct}/{given})",
            given=given_parts,
            given_correct=given_correct,
        )
    return "\n".join(rows) + "\n\n" + score


def counted(results: list[PartResult]) -> tuple[int, int, int, int]:
    """-> (correct, of the parts the student writes; correct, of the parts the kit gives): the score line's."""
    own = [r.passed for r in results if r.part not in GIVEN_PARTS]
    kit = [r.passed for r in results if r.part in GIVEN_PARTS]
    return sum(own), len(own), sum(kit), len(kit)


DERIVATIONS = {"en": "derivations.md", "ko": "derivations.ko.md"}  # the same sections (tests/test_docs.py)


def derivation(section: str, lang: str = "en") -> str:
    """Section ``section`` ("4") of docs/derivations.md (lang "ko": derivations.ko.md), heading included; '' when
    there is none."""
    docs = Path(__file__).resolve().parents[1] / "docs"
    path = docs / DERIVATIONS[lang]
    if not path.is_file():  # a copy of the grader without the translation: English rather than nothing
        path = docs / DERIVATIONS["en"]
    if not section or not path.is_file():
        return ""
    text = path.read_text(encoding="utf-8")
    start = text.find(f"\n## {section}. ")
    if start < 0:
        return ""
    end = text.find("\n## ", start + 1)
    return text[start + 1 : end if end > 0 else None].strip()


def explain_failures(results: list[PartResult], lang: str = "en") -> str:
    """For each part that is not correct: what differs; each derivation to follow once, after its parts."""
    with language(lang):
        return _explain_failures(results, lang)


def _explain_failures(results: list[PartResult], lang: str) -> str:
    blocks, sections = [], {}
    for r in results:
        if not r.passed:
            sections.setdefault(r.derivation, []).append(r)
    for section, failing in sections.items():
        for r in failing:
            said = (
                tr("Not implemented yet: write it, then run this again.") if r.status == NOT_IMPLEMENTED else r.message
            )
            notes = "".join(f"\n{note}." for note in r.notes)
            shown = status(r.status)
            blocks.append(
                tr(
                    "### {part}: {status}\n\nWhat differs: {said}{notes}",
                    part=r.part,
                    status=shown,
                    said=said or shown,
                    notes=notes,
                )
            )
        if section:
            names = ", ".join(r.part for r in failing)
            where = tr("docs/{file}, section {section}", file=DERIVATIONS[lang], section=section)
            text = derivation(section, lang)
            blocks.append(
                tr("The derivation to follow for {names} ({where}):\n\n{text}", names=names, where=where, text=text)
            )
    return "\n\n".join(blocks) if blocks else tr("Every part is correct.")
