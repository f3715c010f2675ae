"""train.py --resume: a run killed mid-way continues from its checkpoint to exactly the numbers of an uninterrupted
run, in either implementation; a folder that cannot be resumed is refused in one line."""

import csv
import json
import os
import signal
import socket
import subprocess
import sys

import numpy as np
import pytest

import train
from common.artifacts import load_npz, save_json
from common.runtime import process_identity
from experiment.runs import read_status
from tests.test_train import ROOT, run_train

# A run of the recipe engine's moving parts (AdamW, warm-up and cosine, flips and crops, label smoothing), float64.
SETTINGS = [
    *("--dtype", "float64", "--num-train", "500", "--num-epochs", "4", "--hidden-size", "20"),
    *("--batch-size", "50", "--seed", "5", "--update-rule", "adam", "--learning-rate", "1e-3"),
    *("--weight-decay", "0.01", "--lr-schedule", "cosine", "--warmup-epochs", "1", "--flip", "--crop-padding", "2"),
    *("--label-smoothing", "0.1", "--quiet"),
]
KILLED_AFTER_EPOCH = 2
# train.py, killed outright (SIGKILL, as by kill -9) once the accuracy check of epoch sys.argv[1] is saved.
KILLED_RUN = """
import os, signal, sys
from experiment.progress import Progress
shown = Progress.on_epoch
def on_epoch(self, solver):
    shown(self, solver)
    if solver.epoch == int(sys.argv[1]):
        os.kill(os.getpid(), signal.SIGKILL)
Progress.on_epoch = on_epoch
import train
sys.exit(train.main(sys.argv[2:]))
"""


# train.py, stopped by SIGTERM in the middle of epoch sys.argv[1] + 1 (its last checkpoint: epoch sys.argv[1]'s end).
TERMINATED_RUN = """
import os, signal, sys
from experiment.progress import Progress
def on_iteration(self, solver):
    if solver.iteration == int(sys.argv[1]) * solver.iterations_per_epoch + 5:
        os.kill(os.getpid(), signal.SIGTERM)
Progress.on_iteration = on_iteration
import train
sys.exit(train.main(sys.argv[2:]))
"""


def history(out):
    with open(out / "history.csv") as f:
        return list(csv.DictReader(f))


@pytest.mark.slow
@pytest.mark.parametrize("impl", ["numpy", "torch"])
def test_a_killed_run_resumes_to_exactly_the_numbers_of_an_uninterrupted_one(fake_cifar, tmp_path, impl):
    settings = [*SETTINGS, "--impl", impl, "--data-dir", fake_cifar]
    whole, resumed = tmp_path / "whole", tmp_path / "resumed"
    proc = run_train(*settings, "--out", str(whole))
    assert proc.returncode == 0, proc.stderr
    assert not (whole / "checkpoint").exists()  # a completed run keeps no checkpoint

    killed = subprocess.run(
        [sys.executable, "-c", KILLED_RUN, str(KILLED_AFTER_EPOCH), *settings, "--out", str(resumed)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert read_status(resumed)["status"] == "died"
    assert [path.name for path in (resumed / "checkpoint").iterdir()] != []

    proc = run_train("--resume", str(resumed), "--data-dir", fake_cifar, "--quiet")
    assert proc.returncode == 0, proc.stderr
    metrics, expected = (json.loads((out / "metrics.json").read_text()) for out in (resumed, whole))
    assert metrics["status"] == "completed" and metrics["resumed_from_epoch"] == KILLED_AFTER_EPOCH
    for key in ("val_acc", "train_acc", "test_acc_1k", "test_acc_10k", "best_epoch", "best_iteration"):
        assert metrics[key] == expected[key], key
    assert metrics["iterations_completed"] == expected["iterations_completed"] == 40
    assert history(resumed) == history(whole)
    saved, uninterrupted = load_npz(resumed / "model.npz"), load_npz(whole / "model.npz")
    assert saved.keys() == uninterrupted.keys()
    for name in saved:
        np.testing.assert_array_equal(saved[name], uninterrupted[name], err_msg=name)
    assert not (resumed / "checkpoint").exists()


def run_folder(out, status: str, **metrics):
    """A run folder's config.json and metrics.json, as train.py writes them, with no training behind them."""
    out.mkdir()
    save_json(out / "config.json", {"impl": "numpy", "hidden_size": 20, "command": ["train.py"]})
    save_json(out / "metrics.json", {"status": status, **metrics})
    return out


def test_resume_refuses_what_it_cannot_continue_in_one_line(tmp_path, capsys):
    here = {"host": socket.gethostname(), "pid": os.getpid(), "process_start": process_identity(os.getpid())}
    cases = [
        (run_folder(tmp_path / "done", "completed"), "the run completed; there is nothing to resume"),
        (run_folder(tmp_path / "alive", "running", **here), f"the run is still running (process {os.getpid()}"),
        (run_folder(tmp_path / "early", "interrupted"), "no checkpoint in"),
        (tmp_path / "nothing", "not a run folder"),
    ]
    for out, message in cases:
        assert train.main(["--resume", str(out)]) == 2, out
        err = capsys.readouterr().err
        assert err.startswith(f"train.py: error: --resume {out}: {message}") and err.count("\n") == 1, err
    assert train.main(["--resume", str(tmp_path / "done"), "--hidden-size", "64", "--recipe", "best"]) == 2
    assert capsys.readouterr().err == (
        "train.py: error: --resume continues a run with the settings in its config.json and writes to its folder; "
        "it takes no --hidden-size, --recipe\n"
    )


@pytest.mark.slow
def test_a_resumed_runs_tensorboard_shows_each_update_once(fake_cifar, tmp_path):
    """The updates logged after the last checkpoint, before the stop, are trained again on resume: their old
    events are purged, so each step appears once."""
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out = tmp_path / "run"
    settings = [*SETTINGS, "--impl", "numpy", "--data-dir", fake_cifar, "--tensorboard", "--out", str(out)]
    stopped = subprocess.run(
        [sys.executable, "-c", TERMINATED_RUN, str(KILLED_AFTER_EPOCH), *settings],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert stopped.returncode == 128 + signal.SIGTERM, stopped.stderr
    before = EventAccumulator(str(out / "tensorboard")).Reload()
    assert [e.step for e in before.Scalars("train/loss")] == list(range(1, 25))  # 4 updates past the checkpoint
    proc = run_train("--resume", str(out), "--data-dir", fake_cifar, "--quiet", "--tensorboard")
    assert proc.returncode == 0, proc.stderr
    events = EventAccumulator(str(out / "tensorboard")).Reload()
    assert [e.step for e in events.Scalars("train/loss")] == list(range(1, 41))
    assert [e.step for e in events.Scalars("accuracy/val")] == [1, 10, 20, 30, 40]
