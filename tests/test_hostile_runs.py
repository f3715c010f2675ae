"""Issue 27's promises about run folders and saved models: two runs never mix in one folder, a signal during the
projection ends like one during training, only regular files are opened as models, and --eval of a run folder
whose metrics.json holds the wrong types is one line."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from contextlib import contextmanager

import numpy as np
import pytest

import train
from common.artifacts import save_json
from common.runtime import process_identity
from experiment import models
from experiment.runs import CLAIM, claim_folder, read_claim, release_claim
from tests.test_train import ROOT

SMALL = ["--num-train", "500", "--hidden-size", "10", "--batch-size", "50", "--quiet"]


def main_error(capsys, *args, code=2) -> str:
    """train.main(args) in this process: assert exit ``code`` and a one-line error; -> the line."""
    assert train.main(list(args)) == code
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


@contextmanager
def a_live_process():
    """Another process on this host that runs until the block ends."""
    proc = subprocess.Popen(["sleep", "60"])
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


def claim_of(pid: int, **changes) -> dict:
    return {
        "pid": pid,
        "host": socket.gethostname(),
        "process_start": process_identity(pid),
        "claimed_at": "2026-12-06T09:00:00+00:00",
        **changes,
    }


# ----------------------------------------------------------------------------- 1. two runs never mix in one folder


def test_a_folder_claimed_by_a_live_run_is_refused_to_new_overwrite_and_resume_runs(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    save_json(out / "config.json", {"impl": "numpy", "hidden_size": 20})
    save_json(out / "metrics.json", {"status": "interrupted"})
    with a_live_process() as other:
        save_json(out / CLAIM, claim_of(other.pid))
        before = sorted(p.name for p in out.iterdir())
        err = main_error(capsys, "--out", str(out))
        assert f"--out {out}: in use by a run that is still running (process {other.pid} on" in err
        err = main_error(capsys, "--out", str(out), "--overwrite")
        assert f"(process {other.pid} on" in err and "--overwrite does not replace a live run" in err
        err = main_error(capsys, "--resume", str(out))
        assert f"--resume {out}: in use by a run that is still running (process {other.pid} on" in err
        assert sorted(p.name for p in out.iterdir()) == before  # nothing written, nothing removed
        assert read_claim(out / CLAIM)["pid"] == other.pid


def test_overwrite_refuses_a_folder_whose_recorded_run_is_alive_even_without_a_claim(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    with a_live_process() as other:
        running = {"status": "running", "host": socket.gethostname(), "pid": other.pid}
        save_json(out / "metrics.json", {**running, "process_start": process_identity(other.pid)})
        err = main_error(capsys, "--out", str(out), "--overwrite")
        assert f"its run is still running (process {other.pid}" in err and "--overwrite does not replace" in err
    assert (out / "metrics.json").exists() and not (out / CLAIM).exists()


def test_a_claim_is_exclusive_a_dead_runs_claim_is_taken_over_and_release_frees_the_folder(tmp_path):
    with a_live_process() as ended:
        dead = claim_of(ended.pid)
    save_json(tmp_path / CLAIM, dead)  # left by a run killed outright: its process has ended
    claim = claim_folder(tmp_path)
    mine = {"pid": os.getpid(), "process_start": process_identity(os.getpid())}
    assert read_claim(claim) == {**read_claim(claim), **mine}
    with pytest.raises(ValueError, match=f"in use by a run that is still running \\(process {os.getpid()} on"):
        claim_folder(tmp_path)  # exclusive, even to its own process
    release_claim(claim)
    assert not claim.exists()
    save_json(tmp_path / CLAIM, {**claim_of(os.getpid()), "pid": "abc"})  # unreadable as a process: nobody runs it
    release_claim(claim_folder(tmp_path))
    assert [p.name for p in tmp_path.iterdir()] == []  # no claim, no temp file left


def test_a_claim_still_being_written_is_respected(tmp_path):
    (tmp_path / CLAIM).write_text("")  # created with O_EXCL a moment ago, its record not yet written
    with pytest.raises(ValueError, match="in use by a run that is still running \\(a run starting now\\)"):
        claim_folder(tmp_path)


@pytest.mark.slow
def test_two_train_processes_on_one_out_never_mix(fake_cifar, tmp_path, capsys):
    out = tmp_path / "run"
    first = subprocess.Popen(
        [sys.executable, "-u", str(ROOT / "train.py"), *SMALL[:-1], "--num-epochs", "1000", "--out", str(out)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "CIFAR10_DIR": fake_cifar},
    )
    try:
        for line in first.stdout:  # training has begun: the claim, config.json and metrics.json are there
            if line.startswith("epoch   1/"):
                break
        else:
            raise AssertionError(f"the first run ended early: {first.stderr.read()}")
        assert read_claim(out / CLAIM)["pid"] == first.pid
        for extra in ([], ["--overwrite"]):
            err = main_error(capsys, *SMALL, "--hidden-size", "70", "--out", str(out), "--data-dir", fake_cifar, *extra)
            assert f"in use by a run that is still running (process {first.pid} on {socket.gethostname()}" in err
        resume = main_error(capsys, "--resume", str(out))
        assert f"--resume {out}: in use by a run that is still running (process {first.pid}" in resume
        first.send_signal(signal.SIGTERM)
        _, stderr = first.communicate(timeout=30)
    finally:
        first.kill()
        first.wait()
    assert first.returncode == 143, stderr
    assert json.loads((out / "config.json").read_text())["hidden_size"] == 10  # the first run's, untouched
    assert json.loads((out / "metrics.json").read_text())["pid"] == first.pid
    assert not (out / CLAIM).exists()  # released when the run ended
    # free again: a second --resume of the same run would be refused while this one ran; now it may claim it
    claim = claim_folder(out, "--resume")
    release_claim(claim)


# ----------------------------------------------------------------------------- 2. a signal during the projection


@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)], ids=["sigterm", "ctrl-c"])
def test_a_signal_during_the_projection_ends_like_one_during_training(
    fake_cifar, tmp_path, monkeypatch, capsys, signum, code
):
    projecting = models.principal_directions

    def signalled(*args, **kwargs):  # the signal arrives while the principal directions are computed
        timer = threading.Timer(0.05, os.kill, (os.getpid(), signum))
        timer.start()
        try:
            while True:  # a projection slow enough for the signal to arrive in it
                projecting(*args, **kwargs)
        finally:
            timer.cancel()

    monkeypatch.setattr(models, "principal_directions", signalled)
    out = tmp_path / "run"
    argv = [*SMALL, "--num-epochs", "1", "--pca-components", "20", "--out", str(out), "--data-dir", fake_cifar]
    assert train.main(argv) == code
    err = capsys.readouterr().err  # after the loader's warning that the fake data is not the official set
    assert "Traceback" not in err and err.splitlines()[-1] == (
        "train.py: interrupted before training, while projecting onto the top 20 principal directions: "
        f"no update was made; {out} says interrupted"
    )
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["status"] == "interrupted"
    assert metrics["error"] == "stopped before training, while projecting onto the top 20 principal directions"
    assert not (out / CLAIM).exists() and not (out / "model.npz").exists()
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # the handlers are back as they were


@pytest.mark.parametrize(
    "step, patched, stopped, saved",
    [
        ("scoring", "test_accuracies", "scoring the test set", []),
        ("plotting", "plot_accuracy", "plotting accuracy.png", ["loss.png", "accuracy.png"]),
    ],
)
def test_a_signal_during_evaluation_or_plotting_says_where_it_stopped_and_resume_finishes(
    fake_cifar, tmp_path, monkeypatch, capsys, step, patched, stopped, saved
):
    from experiment import runs

    original = getattr(runs, patched)

    def signalled(*args, **kwargs):  # SIGTERM arrives while this step runs; the step still completes
        os.kill(os.getpid(), signal.SIGTERM)
        return original(*args, **kwargs)

    monkeypatch.setattr(runs, patched, signalled)
    out = tmp_path / "run"
    assert train.main([*SMALL, "--num-epochs", "1", "--out", str(out), "--data-dir", fake_cifar]) == 143
    err = capsys.readouterr().err
    resume = f"train.py --resume {out} finishes the evaluation"
    assert "Traceback" not in err and err.splitlines()[-1] == (
        f"train.py: interrupted: stopped while {stopped}; {resume}; the best model is in {out}/"
    )
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["status"] == "interrupted" and metrics["error"] == f"stopped while {stopped}; {resume}"
    assert (out / "model.npz").is_file() and "test_acc_10k" in metrics  # the step the signal came in finished
    assert sorted(p.name for p in out.glob("*.png")) == sorted(saved)
    monkeypatch.setattr(runs, patched, original)
    assert train.main(["--resume", str(out), "--quiet", "--data-dir", fake_cifar]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["status"] == "completed" and "test_acc_10k" in metrics and len(list(out.glob("*.png"))) == 4


@pytest.mark.slow  # a 3072-dimensional ZCA
@pytest.mark.parametrize("impl", ["numpy", "torch"])
def test_a_tiny_zca_epsilon_is_blamed_on_the_preprocessing_by_both_solvers(fake_cifar, tmp_path, capsys, impl):
    out = tmp_path / "run"
    argv = [*SMALL, "--impl", impl, "--num-epochs", "1", "--preprocessing", "zca", "--zca-epsilon", "1e-300"]
    assert train.main([*argv, "--out", str(out), "--data-dir", fake_cifar]) == 1
    error = json.loads((out / "metrics.json").read_text())["error"]
    assert "before any update" in error and "the inputs are" in error and "--zca-epsilon" in error, error
    assert "weight scale" not in error and "Traceback" not in capsys.readouterr().err


# ----------------------------------------------------------------------------- 3. only regular files are models


@contextmanager
def at_most(seconds: int):
    """Fail instead of hanging: SIGALRM after ``seconds``."""

    def hung(signum, frame):
        raise AssertionError(f"still running after {seconds} s: the file was opened and blocked")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_eval_refuses_a_symlink_to_dev_zero_without_reading_it(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "model.npz").symlink_to("/dev/zero")
    with at_most(20):
        err = main_error(capsys, "--eval", str(run))
    assert err == (
        f"train.py: error: --eval: {run / 'model.npz'}: is a character device (it leads to /dev/zero); "
        "only a regular file is read\n"
    )


def test_eval_refuses_a_fifo_without_opening_it(tmp_path, capsys):
    fifo = tmp_path / "model.npz"
    os.mkfifo(fifo)
    with at_most(20):
        err = main_error(capsys, "--eval", str(fifo))
    assert err == f"train.py: error: --eval: {fifo}: is a FIFO (named pipe); only a regular file is read\n"


def test_eval_refuses_a_folder_named_model_npz(tmp_path, capsys):
    (tmp_path / "model.npz").mkdir()
    err = main_error(capsys, "--eval", str(tmp_path))
    assert err == f"train.py: error: --eval: {tmp_path / 'model.npz'}: is a folder; only a regular file is read\n"


# ----------------------------------------------------------------------------- 9. --eval of a mistyped metrics.json


def saved_model(path):
    params = {"W1": np.full((3072, 5), 0.01, np.float32), "b1": np.zeros(5, np.float32)}
    params.update(W2=np.full((5, 10), 0.01, np.float32), b2=np.zeros(10, np.float32))
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **params, mean_image=np.zeros((3, 32, 32), np.float32))
    return path


@pytest.mark.parametrize(
    "metrics, said",
    [
        ({"pid": "many", "seconds_per_epoch": "fast", "heartbeat_at": 5}, "the run died after epoch"),
        ({"pid": "SELF", "seconds_per_epoch": "fast", "epochs_completed": "two"}, "is still running after epoch two"),
        ({"pid": "SELF", "seconds_per_epoch": [1], "host": ["x"], "started_at": {}}, "the run died after epoch"),
        ({"pid": True, "process_start": 7}, "the run died after epoch"),
    ],
    ids=["pid-string", "seconds-string", "lists", "bool-pid"],
)
def test_eval_of_a_run_whose_metrics_hold_strings_for_numbers_is_one_line(fake_cifar, tmp_path, capsys, metrics, said):
    run = tmp_path / "run"
    saved_model(run / "model.npz")
    here = {"host": socket.gethostname(), "process_start": process_identity(os.getpid())}
    if metrics.get("pid") == "SELF":
        metrics = {**here, **metrics, "pid": os.getpid()}
    save_json(run / "metrics.json", {"status": "running", **here, **metrics})
    assert train.main(["--eval", str(run), "--data-dir", fake_cifar]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and said in captured.out, captured


@pytest.mark.parametrize(
    "config, message",
    [
        ('{"num_train": "many"}', "num_train must be an int, got 'many'"),
        ('{"learning_rate": "fast"}', "learning_rate must be a float, got 'fast'"),
    ],
)
def test_eval_of_a_run_whose_config_holds_a_string_for_a_number_is_one_line(tmp_path, capsys, config, message):
    run = tmp_path / "run"
    saved_model(run / "model.npz")
    (run / "config.json").write_text(config)
    assert message in main_error(capsys, "--eval", str(run))
