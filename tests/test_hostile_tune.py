"""Hostile but fair, tune.py (issue 27, items 3, 4, 5, 7 and 9): exit codes that tell the truth, any
number of tuned hyperparameters, a lazy grid, only regular files as study databases, one line for
bad input, and nothing of the user's overwritten in --out.

The trials train on small random images (load_raw_cifar10 replaced), so no CIFAR-10 is needed.
"""

import json
import math
import os
import signal
import time
import tracemalloc
from argparse import Namespace
from types import SimpleNamespace

import numpy as np
import pytest

import tune
from common import artifacts, cifar10
from common.plots import plot_against_params
from tuning import study
from tuning.space import OPTIONAL_PARAMS, Param, SearchSpace, SpaceError, load_space

SPACE = {  # one configuration: hidden 10, one epoch
    "hidden_size": {"values": [10]},
    "learning_rate": {"values": [1e-4]},
    "num_epochs": {"values": [1]},
    "reg": {"values": [0.0]},
}


@pytest.fixture
def fake_cifar(monkeypatch):
    """load_raw_cifar10 -> 1,500 random training and 100 test images: enough for --num-train 500."""
    rng = np.random.default_rng(0)
    raw = SimpleNamespace(
        x_train=rng.integers(0, 256, size=(1500, 3, 32, 32), dtype=np.uint8),
        y_train=rng.integers(0, 10, size=1500).astype(np.int64),
        x_test=rng.integers(0, 256, size=(100, 3, 32, 32), dtype=np.uint8),
        y_test=rng.integers(0, 10, size=100).astype(np.int64),
        provenance=lambda: {"path": "fake", "md5": {}, "official": False},
    )
    monkeypatch.setattr(cifar10, "load_raw_cifar10", lambda *args, **kwargs: raw)
    monkeypatch.setattr(study, "_DATA", None)  # no data cached from another test
    return raw


def space_file(tmp_path, space=SPACE, name="space.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(space))
    return str(path)


def run_tune(tmp_path, *args, space=SPACE) -> int:
    out = tmp_path / "o"
    return tune.main(["--num-train", "500", "--space", space_file(tmp_path, space), "--out", str(out), *args])


def one_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


# ----------------------------------------------------------------------------- 3. the exit code tells the truth


@pytest.mark.slow
def test_a_study_whose_retrain_succeeds_exits_0_and_writes_best_json(fake_cifar, tmp_path):
    assert run_tune(tmp_path, "--strategy", "grid") == 0
    best = json.loads((tmp_path / "o" / "best.json").read_text())
    assert best["status"] == "completed" and (tmp_path / "o" / "best-run" / "model.npz").is_file()


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_the_retrain_exits_with_its_code_says_where_and_writes_no_best_json(
    fake_cifar, tmp_path, monkeypatch, capsys, signum
):
    from experiment import runs

    real_make_solver = runs.make_solver

    def signalled_solver(*args, **kwargs):  # the signal arrives during the retrain's first update
        on_iteration = kwargs.get("on_iteration")
        if "checkpoint_name" not in kwargs:  # a trial (fit), not the retrain (train_run)
            return real_make_solver(*args, **kwargs)

        def signal_then_go_on(solver):
            signal.raise_signal(signum)
            return on_iteration(solver)

        return real_make_solver(*args, **{**kwargs, "on_iteration": signal_then_go_on})

    monkeypatch.setattr(runs, "make_solver", signalled_solver)
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "best.json").write_text("{}")  # an earlier run's: it describes a best-run now replaced
    assert run_tune(tmp_path, "--strategy", "grid") == 128 + signum
    err = capsys.readouterr().err
    assert "tune.py: error: retraining the best configuration" in err and "was interrupted" in err, err
    assert "best.json was not written" in err and "Traceback" not in err
    assert not (tmp_path / "o" / "best.json").exists()
    assert (tmp_path / "o" / "results.md").is_file()  # the report, written before, is kept


@pytest.mark.slow
def test_a_full_disk_during_the_retrain_exits_1_naming_the_step_and_writes_no_best_json(
    fake_cifar, tmp_path, monkeypatch, capsys
):
    real_mkstemp = artifacts.tempfile.mkstemp
    best_run = str(tmp_path / "o" / "best-run")

    def disk_full_for_the_model(*args, **kwargs):  # the best run's model.npz goes to /dev/full: ENOSPC
        fd, path = real_mkstemp(*args, **kwargs)
        if kwargs.get("prefix", "").startswith(".model.npz") and best_run in str(kwargs.get("dir")):
            os.close(fd)
            fd = os.open("/dev/full", os.O_WRONLY)
        return fd, path

    monkeypatch.setattr(artifacts.tempfile, "mkstemp", disk_full_for_the_model)
    assert run_tune(tmp_path, "--strategy", "grid") == 1
    err = capsys.readouterr().err
    assert "No space left on device" in err and "Traceback" not in err
    assert f"tune.py: error: retraining the best configuration in {best_run} failed" in err
    assert not (tmp_path / "o" / "best.json").exists()


@pytest.mark.slow
def test_a_report_that_fails_exits_1_naming_the_step(fake_cifar, tmp_path, monkeypatch, capsys):
    def broken_plot(*args, **kwargs):
        raise ValueError("cannot draw")

    monkeypatch.setattr(study, "plot_against_params", broken_plot)
    assert run_tune(tmp_path, "--strategy", "grid") == 1
    err = capsys.readouterr().err
    assert err == (
        "tune.py: error: writing the report failed (ValueError: cannot draw); "
        "the finished trials are kept in the study's database\n"
    )
    assert not (tmp_path / "o" / "best.json").exists() and not (tmp_path / "o" / "best-run").exists()


# ----------------------------------------------------------------------------- 4. any number of tuned parameters


def test_the_plot_against_params_draws_five_tuned_hyperparameters(tmp_path):
    space = SearchSpace()
    space.params["label_smoothing"] = OPTIONAL_PARAMS["label_smoothing"]
    params = {"hidden_size": 10, "learning_rate": 1e-4, "num_epochs": 1, "reg": 0.0, "label_smoothing": 0.1}
    records = [{"number": 0, "params": params, "val_acc": 0.3, "diverged": False, "state": "pruned"}]
    study.write_report(tmp_path, records, space, "ko", "grid")
    assert (tmp_path / "val_acc_vs_params.png").stat().st_size > 0
    assert len(plot_against_params({name: ([value], [0.3], False) for name, value in params.items()}).axes) == 5


@pytest.mark.slow
def test_a_study_of_the_labs_four_and_label_smoothing_exits_0_with_its_plots(fake_cifar, tmp_path):
    space = {**SPACE, "label_smoothing": {"values": [0.0, 0.1]}}
    assert run_tune(tmp_path, "--strategy", "grid", space=space) == 0
    for name in ("val_acc_vs_params.png", "best.json"):
        assert (tmp_path / "o" / name).is_file(), name


# ----------------------------------------------------------------------------- 5. the grid is enumerated lazily


def test_a_grid_of_a_trillion_configurations_runs_its_first_trial_in_little_memory_and_time(monkeypatch):
    import optuna

    thousand = tuple(range(1, 1001))
    space = SearchSpace()
    for name in space.params:
        space.params[name] = Param(name, thousand, 1, 1000, True, False)
    asked = []
    monkeypatch.setattr(study, "_run_configs", lambda args, space, configs: asked.append(configs))
    args = Namespace(trials=1)
    tracemalloc.start()
    started = time.perf_counter()
    try:
        study.run_grid(args, space, optuna.create_study())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert asked == [[{"hidden_size": 1, "learning_rate": 1, "num_epochs": 1, "reg": 1}]]
    assert peak < 50e6 and time.perf_counter() - started < 5
    assert math.prod(len(p.values) for p in space.params.values()) == 10**12


# ----------------------------------------------------------------------------- 7. the study's database


@pytest.mark.parametrize("kind", ["fifo", "dev-zero-link", "folder"])
def test_a_study_database_that_is_not_a_regular_file_is_one_line_exit_2_unopened(tmp_path, capsys, kind):
    db = tmp_path / "study.db"
    if kind == "fifo":
        os.mkfifo(db)  # opening it would block forever
    elif kind == "dev-zero-link":
        db.symlink_to("/dev/zero")  # reading it would never end
    else:
        db.mkdir()
    out = tmp_path / "o"
    code = tune.main(["--storage", f"sqlite:///{db}", "--out", str(out), "--space", space_file(tmp_path)])
    assert code == 2
    err = one_line(capsys)
    assert f"--storage {db}: is " in err and "must be a regular file" in err


# ----------------------------------------------------------------------------- 9. one line, nothing overwritten


@pytest.mark.parametrize(
    "name, text",
    [
        ("space.toml", "[hidden_size]\nvalues = [inf]\n"),
        ("space.toml", "[num_epochs]\nvalues = [nan]\n"),
        ("space.json", '{"hidden_size": {"values": [Infinity]}}'),
        ("space.json", '{"num_epochs": {"values": [1e999]}}'),
        ("space.toml", "[hidden_size]\nlow = 10\nhigh = inf\n"),
    ],
)
def test_inf_or_nan_in_a_space_file_is_one_line_and_exit_2(tmp_path, capsys, name, text):
    path = tmp_path / name
    path.write_text(text)
    for strategy in ("grid", "random"):
        assert tune.main(["--space", str(path), "--strategy", strategy, "--out", str(tmp_path / "o")]) == 2
        assert "must be finite numbers" in one_line(capsys)
    assert not (tmp_path / "o" / "study.db").exists()


def test_load_space_refuses_nan_for_a_float_hyperparameter_too(tmp_path):
    path = tmp_path / "space.toml"
    path.write_text("[reg]\nvalues = [0.0, nan]\n")
    with pytest.raises(SpaceError, match="finite"):
        load_space(path, "grid")


def test_a_stray_file_in_best_run_is_refused_in_one_line_before_the_study_is_opened(tmp_path, capsys):
    out = tmp_path / "o"
    (out / "best-run").mkdir(parents=True)
    (out / "best-run" / "model.npz").write_bytes(b"")
    (out / "best-run" / "my-notes.txt").write_text("mine")
    assert tune.main(["--space", space_file(tmp_path), "--out", str(out)]) == 2
    err = one_line(capsys)
    assert "best-run/ holds my-notes.txt, which tune.py did not write" in err
    assert (out / "best-run" / "my-notes.txt").read_text() == "mine" and not (out / "study.db").exists()


@pytest.mark.slow
def test_a_stray_file_in_best_run_is_no_obstacle_with_no_retrain(fake_cifar, tmp_path):
    (tmp_path / "o" / "best-run").mkdir(parents=True)
    (tmp_path / "o" / "best-run" / "my-notes.txt").write_text("mine")
    assert run_tune(tmp_path, "--strategy", "grid", "--no-retrain") == 0
    assert (tmp_path / "o" / "best-run" / "my-notes.txt").read_text() == "mine"


def test_an_invalid_order_is_refused_before_the_study_database_is_created(tmp_path, capsys):
    out = tmp_path / "o"
    assert tune.main(["--space", space_file(tmp_path), "--out", str(out), "--order", "reg,bogus"]) == 2
    assert "--order must name each of" in one_line(capsys)
    assert not (out / "study.db").exists()


def test_a_results_md_the_user_left_in_out_is_refused_in_one_line_and_kept(tmp_path, capsys):
    out = tmp_path / "o"
    out.mkdir()
    (out / "results.md").write_text("# My lab notes\n")
    assert tune.main(["--space", space_file(tmp_path), "--out", str(out)]) == 2
    assert "holds a results.md that tune.py did not write" in one_line(capsys)
    assert (out / "results.md").read_text() == "# My lab notes\n" and not (out / "study.db").exists()


@pytest.mark.slow
def test_tunes_own_results_md_is_rewritten_when_the_study_resumes(fake_cifar, tmp_path):
    assert run_tune(tmp_path, "--strategy", "grid", "--no-retrain") == 0
    assert run_tune(tmp_path, "--strategy", "grid", "--no-retrain", "--lang", "ko") == 0
    assert (tmp_path / "o" / "results.md").read_text().startswith("# 하이퍼파라미터 탐색 (")


@pytest.mark.slow
def test_the_retrain_claims_best_run_and_a_live_claim_there_refuses_it(fake_cifar, tmp_path, monkeypatch, capsys):
    from experiment import runs

    claims = []
    real_claim_out = runs.claim_out

    def noting_claim_out(out, overwrite=False):
        created, claim = real_claim_out(out, overwrite)
        claims.append(claim)
        return created, claim

    monkeypatch.setattr(study, "claim_out", noting_claim_out)
    assert run_tune(tmp_path, "--strategy", "grid") == 0
    assert claims == [tmp_path / "o" / "best-run" / runs.CLAIM] and not claims[0].exists()  # taken, then released

    runs.claim_folder(tmp_path / "o" / "best-run")  # this live process now holds best-run/
    (tmp_path / "o" / "best.json").unlink()
    monkeypatch.setattr(study, "claim_out", real_claim_out)
    assert run_tune(tmp_path, "--strategy", "grid") == 1
    err = capsys.readouterr().err
    assert "in use by a run that is still running" in err and "Traceback" not in err
    assert not (tmp_path / "o" / "best.json").exists()
