"""A student trains and tunes their own lab: train.py and tune.py with --impl FOLDER (experiment/student.py).

The student's folder is a kit's lab/ with the solutions pasted in, or a copy of numpy_impl's files: its own
fc_net, optim and solver train, in this process, with the lab's settings only; their errors are one line."""

import csv
import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import train
import tune
from exercises.__main__ import ORACLE, make_exercise, student_source
from exercises.blank import fill

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["--num-train", "500", "--hidden-size", "10", "--batch-size", "50", "--num-epochs", "2", "--quiet"]


def solve(kit: Path) -> Path:
    """Paste the oracle's solutions into a kit's lab/ (as tests/test_exercises.py does) -> the lab folder."""
    for name in ("layers.py", "fc_net.py", "optim.py"):
        _, _, solutions = student_source((ORACLE / name).read_text())
        path = kit / "lab" / name
        path.write_text(fill(path.read_text(), [s.replace("numpy_impl", "lab") for s in solutions]))
    return kit / "lab"


@pytest.fixture(scope="module")
def solved_kit(tmp_path_factory) -> Path:
    kit = tmp_path_factory.mktemp("kits") / "my-lab"
    make_exercise(kit)
    solve(kit)
    return kit


def copy_of_numpy_impl(parent: Path, edits: dict[str, tuple[str, str]] | None = None) -> Path:
    """parent/lab: numpy_impl's files (importing each other as numpy_impl), with {file: (old, new)} edits."""
    folder = parent / "lab"
    shutil.copytree(ORACLE, folder, ignore=shutil.ignore_patterns("__pycache__"))
    for name, (old, new) in (edits or {}).items():
        text = (folder / name).read_text()
        assert old in text, (name, old)
        (folder / name).write_text(text.replace(old, new, 1))
    return folder


def losses(out: Path) -> list[float]:
    with open(out / "history.csv") as f:
        return [float(row["loss"]) for row in csv.DictReader(f)]


def stderr_lines(err: str) -> list[str]:
    """stderr without the fake data's warning."""
    return [line for line in err.splitlines() if not line.startswith("warning: ")]


def one_line_error(capsys, args: list[str], code: int) -> str:
    assert train.main(args) == code
    lines = stderr_lines(capsys.readouterr().err)
    assert len(lines) == 1 and "Traceback" not in lines[0], lines
    return lines[0]


def test_a_solved_kit_trains_end_to_end_and_its_run_evaluates(solved_kit, fake_cifar, tmp_path, capsys):
    out = tmp_path / "run"
    assert train.main([*SMALL, "--impl", str(solved_kit / "lab"), "--data-dir", fake_cifar, "--out", str(out)]) == 0
    for name in ("config.json", "metrics.json", "history.csv", "model.npz", "loss.png", "confusion.png"):
        assert (out / name).is_file(), name
    config = json.loads((out / "config.json").read_text())
    metrics = json.loads((out / "metrics.json").read_text())
    assert config["impl"] == str((solved_kit / "lab").resolve()) and metrics["status"] == "completed"
    assert not (out / "checkpoint").exists()
    capsys.readouterr()
    # --eval with the project's numpy and with the student's own model: the recorded accuracies
    for impl in ([], ["--impl", str(solved_kit)]):  # the kit folder: its lab/ is found
        assert train.main(["--eval", str(out), "--data-dir", fake_cifar, *impl]) == 0
        line = capsys.readouterr().out
        assert f"val acc {metrics['val_acc']:.4f}" in line and f"test-10k {metrics['test_acc_10k']:.4f}" in line
        assert (str((solved_kit / "lab").resolve()) in line) == bool(impl)


def test_the_students_own_optim_and_solver_are_used(fake_cifar, tmp_path):
    """An unchanged copy of the lab trains exactly as --impl numpy does; one whose sgd steps twice as far does not;
    without solver.py, numpy_impl's Solver runs the folder's own optim."""
    runs = {}
    doubled = {"optim.py": ('w -= float(config["learning_rate"]) * dw', 'w -= 2 * float(config["learning_rate"]) * dw')}
    folders = {
        "numpy": "numpy",
        "copy": str(copy_of_numpy_impl(tmp_path / "copy")),
        "doubled": str(copy_of_numpy_impl(tmp_path / "doubled", doubled)),
        "no_solver": str(copy_of_numpy_impl(tmp_path / "no_solver", doubled)),
    }
    (Path(folders["no_solver"]) / "solver.py").unlink()
    for name, impl in folders.items():
        out = tmp_path / f"run-{name}"
        args = [*SMALL, "--update-rule", "sgd", "--learning-rate", "1e-3"]
        assert train.main([*args, "--impl", impl, "--data-dir", fake_cifar, "--out", str(out)]) == 0
        runs[name] = losses(out)
    assert runs["copy"] == runs["numpy"]
    assert runs["doubled"] != runs["numpy"] and runs["doubled"][0] == runs["numpy"][0]  # same start, other steps
    assert runs["no_solver"] == runs["doubled"]


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--flip"], "--flip: the recipe engine's settings apply to --impl numpy and torch only"),
        (["--preprocessing", "zca", "--label-smoothing", "0.1"], "--preprocessing, --label-smoothing: the recipe"),
        (["--recipe", "best"], "--recipe best: recipes are the recipe engine's"),
        (["--update-rule", "sgd_nesterov"], "your lab's update rules are sgd, sgd_momentum, rmsprop, adam"),
        (["--device", "cuda"], "--device cuda applies to --impl torch only; a student's lab runs on the CPU"),
    ],
)
def test_the_recipe_engines_settings_are_refused_in_one_line(solved_kit, flags, message, capsys, tmp_path):
    line = one_line_error(capsys, [*flags, "--impl", str(solved_kit), "--out", str(tmp_path / "o")], 2)
    assert message in line
    assert not (tmp_path / "o").exists()


def test_a_folder_that_is_not_a_lab_is_refused(tmp_path, capsys):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "README.md").write_text("my notes\n")
    line = one_line_error(capsys, ["--impl", str(tmp_path / "notes")], 2)
    assert f"--impl {tmp_path / 'notes'}: not a lab folder" in line
    line = one_line_error(capsys, ["--impl", "nowhere"], 2)
    assert "--impl must be one of numpy, torch, got 'nowhere', which is not a folder either" in line
    line = one_line_error(capsys, ["--impl", str(tmp_path / "nowhere")], 2)
    assert f"--impl {tmp_path / 'nowhere'}: no such folder" in line


def test_the_students_exception_is_one_line_naming_file_and_line(fake_cifar, tmp_path, capsys):
    marker = "        scores, scores_cache = affine_forward(hidden, W2, b2)\n"
    bug = marker + '        if y is not None and len(self.params) == 4:\n            raise ValueError("my bug")\n'
    folder = copy_of_numpy_impl(tmp_path / "buggy", {"fc_net.py": (marker, bug)})
    line_number = (folder / "fc_net.py").read_text().splitlines().index('            raise ValueError("my bug")') + 1
    out = tmp_path / "run"
    line = one_line_error(capsys, [*SMALL, "--impl", str(folder), "--data-dir", fake_cifar, "--out", str(out)], 1)
    assert f"{folder.resolve()}/fc_net.py:{line_number}: ValueError: my bug" in line
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["status"] == "failed" and f"fc_net.py:{line_number}" in metrics["error"]

    # a fresh kit: its TwoLayerNet.__init__ is not written yet; the run folder says failed
    fresh = tmp_path / "fresh"
    make_exercise(fresh)
    out = tmp_path / "fresh-run"
    line = one_line_error(capsys, [*SMALL, "--impl", str(fresh), "--data-dir", fake_cifar, "--out", str(out)], 1)
    assert f"{(fresh / 'lab').resolve()}/fc_net.py:" in line and "NotImplementedError" in line, line
    assert json.loads((out / "metrics.json").read_text())["status"] == "failed"

    # a file that does not import: one line, before anything is written
    broken = copy_of_numpy_impl(tmp_path / "broken", {"optim.py": ("def sgd(", "def sgd(:")})
    out = tmp_path / "broken-run"
    line = one_line_error(capsys, [*SMALL, "--impl", str(broken), "--data-dir", fake_cifar, "--out", str(out)], 1)
    assert f"{broken.resolve()}/optim.py:" in line and "SyntaxError" in line, line
    assert not out.exists()


def test_a_student_run_resumes_exactly_from_its_recorded_folder(fake_cifar, tmp_path, capsys, monkeypatch):
    folder = copy_of_numpy_impl(tmp_path / "kit")
    args = [*SMALL[:-3], "--num-epochs", "3", "--quiet", "--update-rule", "adam", "--impl", str(folder)]
    args += ["--data-dir", fake_cifar]
    assert train.main([*args, "--out", str(tmp_path / "whole")]) == 0

    from experiment import runs

    progress = runs.Progress

    class StopInEpochTwo(progress):
        def on_iteration(self, solver):
            if solver.iteration == 15:
                raise KeyboardInterrupt

    monkeypatch.setattr(runs, "Progress", StopInEpochTwo)
    out = tmp_path / "cut"
    assert train.main([*args, "--out", str(out)]) == 130
    assert json.loads((out / "metrics.json").read_text())["status"] == "interrupted"
    monkeypatch.setattr(runs, "Progress", progress)
    capsys.readouterr()
    assert train.main(["--resume", str(out), "--data-dir", fake_cifar]) == 0
    assert losses(out) == losses(tmp_path / "whole")

    # the recorded folder moved away: --resume says so in one line
    impl = json.loads((out / "config.json").read_text())["impl"]
    shutil.move(folder, tmp_path / "elsewhere")
    line = one_line_error(capsys, ["--resume", str(out)], 2)
    assert f"--impl {impl}: no such folder" in line


def test_tune_searches_with_the_students_folder(solved_kit, fake_cifar, tmp_path, capsys):
    space = tmp_path / "space.toml"
    space.write_text("[hidden_size]\nlow = 8\nhigh = 16\n[num_epochs]\nlow = 1\nhigh = 2\n")
    out = tmp_path / "tune"
    args = ["--impl", str(solved_kit / "lab"), "--strategy", "random", "--trials", "2", "--num-train", "500"]
    assert tune.main([*args, "--space", str(space), "--out", str(out), "--data-dir", fake_cifar]) == 0
    search = json.loads((out / "search.json").read_text())
    assert search["impl"] == str((solved_kit / "lab").resolve()) and search["study"] == "my-lab-lab-random"
    assert (out / "results.md").is_file() and json.loads((out / "best.json").read_text())["status"] == "completed"
    best_run = json.loads((out / "best-run" / "config.json").read_text())
    assert best_run["impl"] == search["impl"]

    space.write_text("[fixed]\nflip = true\n")  # the recipe engine's settings: refused before the first trial
    capsys.readouterr()
    assert tune.main([*args, "--space", str(space), "--out", str(tmp_path / "t2"), "--data-dir", fake_cifar]) == 2
    assert "--flip: the recipe engine's settings apply" in capsys.readouterr().err


def test_the_kit_readmes_commands_run_as_written(fake_cifar, tmp_path):
    kit = tmp_path / "my-lab"
    made = subprocess.run([sys.executable, "-m", "exercises", "make", str(kit)], cwd=ROOT, capture_output=True)
    assert made.returncode == 0, made.stderr
    readme = (kit / "README.md").read_text()
    commands = [line.strip() for line in readme.splitlines() if line.startswith("    ") and "--impl lab" in line]
    train_command = f"{shlex.quote(sys.executable)} {shlex.quote(str(ROOT / 'train.py'))} --impl lab --num-epochs 5"
    assert train_command in commands and commands.count(train_command) == 2  # Korean and English
    assert "python tune.py" not in readme and f"{ROOT / 'tune.py'} --impl lab --lang ko --no-analysis" in readme
    solve(kit)
    env = {**os.environ, "CIFAR10_DIR": fake_cifar}
    small = ["--num-train", "500", "--hidden-size", "10", "--batch-size", "50", "--num-epochs", "1", "--quiet"]
    proc = subprocess.run([*shlex.split(train_command), *small], cwd=kit, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    (run,) = (kit / "runs").iterdir()
    assert run.name.startswith("my-lab-lab-")
    assert json.loads((run / "metrics.json").read_text())["status"] == "completed"
