"""`python -m compare --impl TARGET` grades any implementation of the lab: each classic mistake is caught and
named, and whatever a student's code does (raise, loop, print, upcast), one part never stops the others."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from compare.grade import PARTS, grade

ROOT = Path(__file__).resolve().parents[1]
ORACLE = ROOT / "numpy_impl"


def student_copy(tmp_path, changes: dict[str, list[tuple[str, str]]] | None = None) -> Path:
    """The oracle's files in a folder, with (old, new) source replacements per file: a student's implementation."""
    folder = tmp_path / "student"
    shutil.copytree(ORACLE, folder, ignore=shutil.ignore_patterns("__pycache__"))
    for name, replacements in (changes or {}).items():
        path = folder / name
        source = path.read_text()
        for old, new in replacements:
            assert source.count(old) == 1, (name, old)
            source = source.replace(old, new)
        path.write_text(source)
    return folder


def by_part(results) -> dict:
    return {r.part: r for r in results}


@pytest.mark.slow
def test_the_oracle_and_a_copy_of_it_get_every_part_right(tmp_path):
    for target in ("numpy_impl", str(student_copy(tmp_path))):
        results = grade(target)
        assert [r.part for r in results] == [p.name for p in PARTS]
        assert all(r.passed for r in results), [(r.part, r.status, r.message) for r in results if not r.passed]


CLASSIC_MISTAKES = {
    "missing 1/N": (
        {"layers.py": [("    dx[np.arange(n), y] -= 1\n    dx /= n\n", "    dx[np.arange(n), y] -= 1\n")]},
        "softmax loss",
        "N = 50 times too large",
    ),
    "forgotten ReLU mask": (
        {"layers.py": [("dx = dout * (x > 0)", "dx = dout.copy()")]},
        "ReLU backward",
        "the ReLU mask (x > 0) is missing",
    ),
    "transposed dW": (
        {"layers.py": [("dw = x.reshape(x.shape[0], -1).T @ dout", "dw = dout.T @ x.reshape(x.shape[0], -1)")]},
        "affine backward",
        "dw has shape (5, 6), expected (6, 5) (transposed?)",
    ),
    "no max-shift in softmax": (
        {"layers.py": [("shifted = x - x.max(axis=1, keepdims=True)", "shifted = x")]},
        "softmax loss",
        "subtract each row's max before exp",
    ),
    "regularizing the biases": (
        {
            "fc_net.py": [
                (
                    'grads["W1"] += self.reg * W1\n',
                    'grads["W1"] += self.reg * W1\n        grads["b1"] += self.reg * b1\n',
                )
            ]
        },
        "TwoLayerNet gradients",
        "grads['b1'] adds reg * b: the biases are regularized",
    ),
    "momentum sign": (
        {"optim.py": [("v = mu * v - lr * dw", "v = mu * v + lr * dw")]},
        "update rule sgd_momentum",
        "adds the gradient",
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("mistake", CLASSIC_MISTAKES)
def test_each_classic_mistake_is_caught_and_named(tmp_path, mistake):
    changes, part, named = CLASSIC_MISTAKES[mistake]
    results = by_part(grade(str(student_copy(tmp_path, changes))))
    assert not results[part].passed and named in results[part].message, (results[part].status, results[part].message)
    wrong = {name for name, r in results.items() if not r.passed}
    assert part in wrong and len(wrong) <= 4, wrong  # the mistake shows where it is (and where it is used)


# mistake -> (changes, the part it fails, the words that name it, the parts graded)
NAMED_MISTAKES = {
    "softmax without the -1": (
        {"layers.py": [("    dx[np.arange(n), y] -= 1\n", "")]},
        "softmax loss",
        "misses the -1 at the correct class",
    ),
    "SVM counting its own margin": (
        {"layers.py": [("    margins[rows, y] = 0\n    loss = margins.sum() / n", "    loss = margins.sum() / n")]},
        "SVM loss",
        "the correct class's own margin",
    ),
    "regularization without its 1/2": (
        {"fc_net.py": [("loss += 0.5 * self.reg *", "loss += self.reg *")]},
        "TwoLayerNet loss",
        "the regularization lacks its 1/2",
    ),
    "epsilon inside the square root (RMSProp)": (
        {
            "optim.py": [
                ("next_w = w - lr * dw / (np.sqrt(cache) + eps)", "next_w = w - lr * dw / np.sqrt(cache + eps)")
            ]
        },
        "update rule rmsprop",
        "puts epsilon inside the square root",
    ),
    "epsilon inside the square root (Adam)": (
        {
            "optim.py": [
                ("next_w = w - lr * m_hat / (np.sqrt(v_hat) + eps)", "next_w = w - lr * m_hat / np.sqrt(v_hat + eps)")
            ]
        },
        "update rule adam",
        "puts epsilon inside the square root",
    ),
    "Adam's bias correction with the old t": (
        {"optim.py": [('    t = int(config["t"]) + 1\n', '    t = max(int(config["t"]), 1)\n')]},
        "update rule adam",
        "corrects the bias with t before its increment",
    ),
    "the velocity kept with the other sign": (
        {
            "optim.py": [
                ("    v = mu * v - lr * dw\n    next_w = w + v\n", "    v = mu * v + lr * dw\n    next_w = w - v\n")
            ]
        },
        "update rule sgd_momentum",
        "config['velocity'] is not the lab's state after the step: it has the opposite sign",
    ),
    "dx not reshaped back": (
        {"layers.py": [("    dx = (dout @ w.T).reshape(x.shape)\n", "    dx = dout @ w.T\n")]},
        "affine backward",
        "reshape it back to (10, 2, 3), the input's shape",
    ),
    "relu_backward writing into dout": (
        {"layers.py": [("    dx = dout * (x > 0)\n", "    dout[x <= 0] = 0\n    dx = dout\n")]},
        "ReLU backward",
        "writes into its input dout",
    ),
    "Adam's t incremented after the correction": (
        {
            "optim.py": [
                ('    t = int(config["t"]) + 1\n', '    t = int(config["t"])\n'),
                ("config.update(m=m, v=v, t=t)", "config.update(m=m, v=v, t=t + 1)"),
            ]
        },
        "update rule adam",
        "1 - beta1 ** t is 0 and the bias correction divides by it; add 1 to t first",
    ),
    "init ignoring weight_scale": (
        {"fc_net.py": [("(weight_scale * rng.standard_normal((input_dim", "(1e-3 * rng.standard_normal((input_dim")]},
        "TwoLayerNet init",
        "W1 has mean",
    ),
    "init with biases of ones": (
        {"fc_net.py": [("np.zeros(hidden_dim, dtype=self.dtype)", "np.ones(hidden_dim, dtype=self.dtype)")]},
        "TwoLayerNet init",
        "b1 is not all zeros",
    ),
    "the regularization gradient doubled": (
        {"fc_net.py": [('grads["W1"] += self.reg * W1', 'grads["W1"] += 2 * self.reg * W1')]},
        "TwoLayerNet gradients",
        "has 2 * reg * W: the loss is 0.5 * reg * sum(W^2)",
    ),
    "the data loss summed over the batch": (
        {
            "fc_net.py": [
                (
                    "loss, dscores = softmax_loss(scores, y)\n",
                    "loss, dscores = softmax_loss(scores, y)\n        loss *= len(X)\n",
                )
            ]
        },
        "TwoLayerNet loss",
        "the data loss is a sum over the batch, not a mean",
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("mistake", NAMED_MISTAKES)
def test_each_mistake_fails_its_own_part_and_says_what_it_is(tmp_path, mistake):
    changes, part, named = NAMED_MISTAKES[mistake]
    result = by_part(grade(str(student_copy(tmp_path, changes)), only=(part,)))[part]
    assert not result.passed and named in result.message, (result.status, result.message)


@pytest.mark.slow
def test_a_part_that_runs_a_failing_part_says_so(tmp_path):
    changes = CLASSIC_MISTAKES["missing 1/N"][0]  # softmax's dx N times too large: the net's gradients too
    results = by_part(grade(str(student_copy(tmp_path, changes)), only=("softmax loss", "TwoLayerNet gradients")))
    assert not results["softmax loss"].passed and results["softmax loss"].notes == []
    grads = results["TwoLayerNet gradients"]
    assert not grads.passed and grads.notes == ["it runs softmax loss, which fails: fix that first"]


@pytest.mark.slow
def test_a_right_backward_pass_is_not_failed_for_its_forward_pass(tmp_path):
    """The loss lacks its 1/2 (its gradients are right): only TwoLayerNet loss fails; the gradients part passes
    and says that the numerical gradient of the student's loss disagrees because of the loss."""
    changes = NAMED_MISTAKES["regularization without its 1/2"][0]
    results = by_part(grade(str(student_copy(tmp_path, changes)), only=("TwoLayerNet loss", "TwoLayerNet gradients")))
    assert not results["TwoLayerNet loss"].passed
    grads = results["TwoLayerNet gradients"]
    assert grads.passed and grads.vs_numerical > 1e-6, (grads.status, grads.message)
    assert any("the forward pass or the loss is what is wrong" in note for note in grads.notes), grads.notes


def test_an_update_rule_that_returns_next_w_alone_is_told_to_return_the_pair(tmp_path):
    folder = student_copy(tmp_path)
    with open(folder / "optim.py", "a") as f:
        f.write("\n\ndef rmsprop(w, dw, config=None):\n    return w - 1e-2 * dw\n")
    line = len((folder / "optim.py").read_text().splitlines()) - 1  # the appended def, last but one
    result = grade(str(folder), only=("update rule rmsprop",))[0]
    assert result.status == "error"
    assert result.message == f"rmsprop returned ndarray; it must return the pair (next_w, config) (optim.py:{line})"


def test_bad_code_is_graded_part_by_part(tmp_path):
    folder = student_copy(
        tmp_path,
        {
            "layers.py": [
                (
                    '    """dx = dout * [x > 0]',
                    '    raise NotImplementedError("relu_backward: TODO")\n    """dx = dout * [x > 0]',
                ),
                ("def svm_loss(x, y)", "def svm_loss_unused(x, y)"),
                ('    """Multiclass hinge loss', '    while True:\n        pass\n    """Multiclass hinge loss'),
            ],
            "optim.py": [("    next_w = w + v\n", "    next_w = w + v\n    print('debug', v.shape)\n")],
        },
    )
    results = by_part(grade(str(folder), time_limit=3))
    assert results["ReLU backward"].status == "not implemented"
    assert results["ReLU backward"].message.startswith("relu_backward: TODO (layers.py:")
    assert results["SVM loss"].status == "not implemented" and "no svm_loss" in results["SVM loss"].message
    assert (
        results["update rule sgd_momentum"].passed
        and "prints while it runs" in results["update rule sgd_momentum"].notes
    )
    assert results["affine forward"].passed and results["TwoLayerNet scores"].passed
    assert results["TwoLayerNet loss"].status == "not implemented"  # it calls relu_backward


@pytest.mark.slow
def test_a_loop_an_exception_an_upcast_and_an_in_place_change_are_each_reported(tmp_path):
    folder = student_copy(
        tmp_path,
        {
            "layers.py": [
                ("shifted = x - x.max(axis=1, keepdims=True)", "while True:\n        pass"),
                ("    dx = (dout @ w.T).reshape(x.shape)\n", "    raise RuntimeError('my bug')\n"),
            ],
        },
    )
    (folder / "layers.py").write_text(
        (folder / "layers.py").read_text()
        + "\n\n_relu = relu_forward\n\n\ndef relu_forward(x):\n    x[x < 0] = 0\n    return _relu(x)\n"
    )
    results = by_part(grade(str(folder), time_limit=2))
    softmax = results["softmax loss"]
    assert softmax.status == "timeout" and "2 s limit" in softmax.message
    assert softmax.message.endswith("(still running at layers.py:" + softmax.message.split("layers.py:")[1])
    assert " in softmax_loss)" in softmax.message  # where it was when stopped, from faulthandler's dump
    assert results["affine backward"].status == "error"
    assert results["affine backward"].message.startswith("RuntimeError: my bug (layers.py:")  # where, in its file
    relu = results["ReLU forward"]
    assert relu.status == "wrong" and relu.message.startswith("writes into its input x, which belongs to the caller")
    assert results["update rule adam"].passed  # after all that, the next parts still run


def test_float64_in_float32_out_is_a_wrong_dtype(tmp_path):
    folder = student_copy(
        tmp_path,
        {"layers.py": [("dx = dout * (x > 0)", "dx = (dout * (x > 0)).astype(np.float32)")]},
    )
    result = by_part(grade(str(folder)))["ReLU backward"]
    assert result.status == "wrong dtype" and result.message == "dx is float32, expected float64"


def test_a_missing_solver_scores_zero_and_a_broken_module_is_named(tmp_path):
    folder = student_copy(tmp_path)
    (folder / "solver.py").unlink()
    (folder / "optim.py").write_text("def sgd(w, dw, config=None:\n")
    results = by_part(grade(str(folder)))
    assert results["Solver"].status == "not implemented" and "there is no solver.py" in results["Solver"].message
    assert results["update rule sgd"].status == "error" and "SyntaxError" in results["update rule sgd"].message


@pytest.mark.slow
def test_command_line_scores_writes_json_explains_and_exits_by_the_result(tmp_path):
    folder = student_copy(tmp_path, CLASSIC_MISTAKES["missing 1/N"][0])
    proc = subprocess.run(
        [sys.executable, "-m", "compare", "--impl", str(folder), "--explain", "--json", str(tmp_path / "g.json")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1, proc.stderr
    assert "11/13 parts correct" in proc.stdout  # the student's TwoLayerNet uses the student's softmax
    assert "### softmax loss: wrong" in proc.stdout and "## 4. Softmax cross-entropy" in proc.stdout
    graded = json.loads((tmp_path / "g.json").read_text())
    assert (graded["correct"], graded["parts"], graded["given_correct"], graded["given_parts"]) == (11, 13, 3, 3)
    assert [r["part"] for r in graded["results"] if not r["passed"]] == ["softmax loss", "TwoLayerNet gradients"]
    ok = subprocess.run([sys.executable, "-m", "compare", "--impl", "numpy_impl"], cwd=ROOT, capture_output=True)
    assert ok.returncode == 0
