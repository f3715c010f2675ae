"""Hostile but fair: each probe of the reliability review (issue 14), one test each, on small data.

Nothing lost (signals, kill -9, a full disk, an existing --out), nothing repeated (tune.py's
workers, processes and resumes), nothing read before its size is known, and every bad input
one line on stderr.
"""

import csv
import io
import json
import os
import pickle
import signal
import socket
import sqlite3
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

import train
import tune
from common import artifacts, cifar10
from common.artifacts import load_model, save_json, save_model
from common.cifar10 import CIFAR10NotFoundError, load_raw_cifar10, parse_python_batch
from experiment.runs import now, read_status
from tests.cifar_fixtures import synthetic_batches, write_folder
from tests.test_train import QUICK, ROOT, run_train
from tuning import study
from tuning.space import SpaceError, load_space

LONG = ["--num-train", "2000", "--num-epochs", "500", "--hidden-size", "50"]
TINY_SPACE = {  # continuous ranges: random draws never coincide by chance
    "hidden_size": {"values": [10, 20], "low": 10, "high": 20},
    "learning_rate": {"values": [1e-4, 3e-4], "low": 1e-4, "high": 3e-4},
    "num_epochs": {"values": [1], "low": 1, "high": 1},
    "reg": {"values": [0.0, 0.5], "low": 1e-3, "high": 1e-2},
}


def one_line_error(proc, code=2) -> str:
    """Assert a one-line error with exit code ``code``; -> the line."""
    assert proc.returncode == code, proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr
    return proc.stderr


def main_error(capsys, *args, code=2) -> str:
    """train.py's main(args) in this process: assert a one-line error and exit code ``code``; -> the line."""
    assert train.main(list(args)) == code
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    return err


def start_train(out, *args) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-u", str(ROOT / "train.py"), *LONG, "--out", str(out), *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_epoch(proc, epoch: int) -> None:
    for line in proc.stdout:
        if line.startswith(f"epoch {epoch:3d}/"):
            return
    raise AssertionError(f"train.py ended before epoch {epoch}: {proc.stderr.read()}")


def tiny_space(tmp_path, **changes) -> str:
    path = tmp_path / "space.json"
    path.write_text(json.dumps({**TINY_SPACE, **changes}))
    return str(path)


def tune_rows(out) -> list[dict]:
    with open(out / "results.csv") as f:
        return list(csv.DictReader(f))


def param_sets(rows) -> list[tuple]:
    return [(r["hidden_size"], r["learning_rate"], r["reg"]) for r in rows]


def quick_tune(out, space, *args) -> int:
    return tune.main(["--num-train", "500", "--space", space, "--out", str(out), "--no-retrain", *args])


# ----------------------------------------------------------------------------- 1. tune.py repeats no trial


@pytest.mark.parametrize("strategy", ["random", "tpe"])
def test_two_jobs_draw_distinct_trials(real_data_dir, tmp_path, strategy):
    out = tmp_path / "jobs"
    assert quick_tune(out, tiny_space(tmp_path), "--strategy", strategy, "--trials", "4", "--jobs", "2") == 0
    drawn = param_sets(tune_rows(out))
    assert len(drawn) == 4 and len(set(drawn)) == 4, drawn


@pytest.mark.parametrize("strategy", ["random", "tpe"])
def test_a_resumed_study_draws_new_trials_and_a_fixed_seed_reproduces_it(real_data_dir, tmp_path, strategy):
    space = tiny_space(tmp_path)
    assert quick_tune(tmp_path / "a", space, "--strategy", strategy, "--trials", "2") == 0
    assert quick_tune(tmp_path / "a", space, "--strategy", strategy, "--trials", "4") == 0
    resumed = param_sets(tune_rows(tmp_path / "a"))
    assert len(set(resumed)) == 4, resumed
    assert quick_tune(tmp_path / "b", space, "--strategy", strategy, "--trials", "4") == 0
    assert param_sets(tune_rows(tmp_path / "b")) == resumed  # one process, same --seed: the same study


@pytest.mark.parametrize("strategy", ["random", "grid"])
def test_two_processes_on_one_study_repeat_nothing(real_data_dir, tmp_path, strategy):
    storage = f"sqlite:///{tmp_path / 'shared.db'}"
    command = [sys.executable, str(ROOT / "tune.py"), "--strategy", strategy, "--num-train", "500"]
    command += ["--space", tiny_space(tmp_path), "--storage", storage, "--study", "s", "--no-retrain"]
    command += ["--trials", "4"] if strategy == "random" else []
    procs = [
        subprocess.Popen([*command, "--out", str(tmp_path / f"w{i}")], cwd=ROOT, stderr=subprocess.PIPE, text=True)
        for i in range(2)  # the same --seed in both
    ]
    for proc in procs:
        assert proc.wait(timeout=300) == 0, proc.stderr.read()
    import optuna

    trials = optuna.load_study(study_name="s", storage=storage).get_trials()
    # a configuration both processes asked for at the same moment is trained by the earlier trial only
    trained = [t for t in trials if "duplicate_of" not in t.user_attrs]
    assert all(t.state.name == "FAIL" for t in trials if t not in trained)
    drawn = [tuple(sorted(t.params.items())) for t in trained]
    assert len(set(drawn)) == len(drawn), drawn
    if strategy == "grid":
        assert len(drawn) == 8  # 2 hidden sizes x 2 rates x 2 regs, each once


def test_grid_with_two_jobs_trains_each_configuration_once(real_data_dir, tmp_path):
    out = tmp_path / "grid"
    assert quick_tune(out, tiny_space(tmp_path), "--strategy", "grid", "--jobs", "2") == 0
    drawn = param_sets(tune_rows(out))
    assert len(drawn) == len(set(drawn)) == 8


# ----------------------------------------------------------------------------- 2. signals and kill -9


def test_sigterm_saves_the_run_like_ctrl_c(real_data_dir, tmp_path):
    out = tmp_path / "run"
    proc = start_train(out)
    try:
        wait_for_epoch(proc, 3)
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 143, stderr
    assert "interrupted after" in stderr and "Traceback" not in stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["status"] == "interrupted" and metrics["epochs_completed"] >= 3
    assert load_model(out / "model.npz")[0]["W1"].shape == (3072, 50)
    assert (out / "history.csv").read_text().count("\n") == metrics["iterations_completed"] + 1


def test_kill_9_leaves_the_best_model_and_a_died_status(real_data_dir, tmp_path):
    out = tmp_path / "run"
    proc = start_train(out)
    try:
        wait_for_epoch(proc, 3)
        proc.kill()
    finally:
        proc.kill()
        proc.wait(timeout=60)
    on_disk = json.loads((out / "metrics.json").read_text())
    assert on_disk["status"] == "running" and on_disk["pid"] == proc.pid
    status = read_status(out)
    assert status["status"] == "died" and status["epochs_completed"] >= 3
    with open(out / "history.csv") as f:
        assert len(list(csv.DictReader(f))) == status["iterations_completed"]
    evaluated = run_train("--eval", str(out))
    assert evaluated.returncode == 0, evaluated.stderr
    assert f"the run died after epoch {status['epochs_completed']}: this is its best model so far" in evaluated.stdout


def test_a_live_run_reads_as_running_and_a_dead_or_silent_one_as_died(tmp_path):
    from common.runtime import process_identity

    here = {"status": "running", "host": socket.gethostname(), "pid": os.getpid()}
    for recorded, status in [
        ({**here, "process_start": process_identity(os.getpid())}, "running"),
        ({**here, "process_start": "1"}, "died"),  # the pid now belongs to another process
        ({**here, "host": "elsewhere", "heartbeat_at": now()}, "running"),
        ({**here, "host": "elsewhere", "heartbeat_at": "2026-01-01T00:00:00+00:00"}, "died"),
    ]:
        save_json(tmp_path / "metrics.json", recorded)
        assert read_status(tmp_path)["status"] == status, recorded


@pytest.mark.parametrize("signum, jobs", [(signal.SIGINT, 1), (signal.SIGTERM, 1), (signal.SIGTERM, 2)])
def test_a_signal_in_greedy_marks_the_trials_interrupted_and_resuming_reruns_them(
    real_data_dir, tmp_path, signum, jobs
):
    out = tmp_path / "greedy"
    space = tiny_space(tmp_path, num_epochs={"values": [3000]})
    command = [sys.executable, str(ROOT / "tune.py"), "--num-train", "500", "--space", space, "--out", str(out)]
    proc = subprocess.Popen(
        [*command, "--jobs", str(jobs)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            time.sleep(0.2)
            try:
                with sqlite3.connect(out / "study.db") as db:
                    if db.execute("select count(*) from trials where state = 'RUNNING'").fetchone()[0]:
                        break
            except sqlite3.Error:
                continue
        time.sleep(0.5)  # inside the trials: training, and writing a heartbeat to the database every epoch
        proc.send_signal(signum)
        _, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 128 + signum, stderr
    assert "Traceback" not in stderr
    rows = tune_rows(out)
    name = signal.Signals(signum).name
    interrupted = [r for r in rows if r["state"] == "interrupted"]
    assert interrupted and all(r["error"] == f"interrupted ({name})" for r in interrupted), rows
    assert {r["state"] for r in rows} <= {"complete", "interrupted"}  # those that finished first are kept
    assert "it runs again when the study is resumed" in (out / "results.md").read_text()
    import optuna

    loaded = optuna.load_study(study_name="numpy-greedy", storage=f"sqlite:///{out / 'study.db'}")
    assert "RUNNING" not in {t.state.name for t in loaded.get_trials()}
    finished = study.finished_configs(loaded, load_space(space))
    assert len(finished) == len(rows) - len(interrupted)  # the interrupted ones are trained again on resume


@pytest.mark.slow
def test_a_trial_whose_process_died_is_marked_interrupted(tmp_path):
    import optuna

    dead = subprocess.Popen(["true"])
    dead.wait()
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    s = optuna.create_study(storage=storage, study_name="s")
    trial = s.ask()
    trial.set_user_attr("worker", {"host": socket.gethostname(), "pid": dead.pid, "process": "1"})
    alive = s.ask()
    alive.set_user_attr("worker", {"host": "another-machine", "pid": 1, "process": "1"})
    assert study.fail_dead_trials(s) == 1  # a storage without heartbeats: only this host's processes are known
    states = {t.number: (t.state.name, t.user_attrs.get("error")) for t in s.get_trials()}
    assert states == {0: ("FAIL", f"interrupted (its process {dead.pid} ended)"), 1: ("RUNNING", None)}
    # another machine's silent trial is failed by Optuna's heartbeat check: tests/test_tuning_workers.py


# ----------------------------------------------------------------------------- 3. a full disk


def test_a_full_disk_is_one_line_and_the_weights_are_saved_elsewhere(real_data_dir, tmp_path, monkeypatch, capsys):
    real_mkstemp = artifacts.tempfile.mkstemp

    def disk_full_for_the_model(*args, **kwargs):  # writing the model goes to /dev/full: ENOSPC from the kernel
        fd, path = real_mkstemp(*args, **kwargs)
        if kwargs.get("prefix", "").startswith(".model.npz") and str(tmp_path / "run") in str(kwargs.get("dir")):
            os.close(fd)
            fd = os.open("/dev/full", os.O_WRONLY)
        return fd, path

    monkeypatch.setattr(artifacts.tempfile, "mkstemp", disk_full_for_the_model)
    monkeypatch.setattr(artifacts.tempfile, "tempdir", str(tmp_path / "tmp"))  # where the weights are rescued
    (tmp_path / "tmp").mkdir()
    assert train.main([*QUICK, "--quiet", "--out", str(tmp_path / "run")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"cannot write {tmp_path / 'run' / 'model.npz'}: No space left on device" in err
    rescued = next((tmp_path / "tmp").glob("two-layer-net-rescue-*/model.npz"))
    assert f"the best weights were saved to {rescued}" in err
    assert load_model(rescued)[0]["W1"].shape == (3072, 30)
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["status"] == "failed" and "No space left on device" in metrics["error"]
    assert not (tmp_path / "run" / "model.npz").exists() and not list((tmp_path / "run").glob(".*.tmp"))


def test_a_full_disk_under_tune_is_one_line_and_the_trials_stay_in_the_study(
    real_data_dir, tmp_path, monkeypatch, capsys
):
    real_mkstemp = artifacts.tempfile.mkstemp

    def disk_full_for_reports(*args, **kwargs):
        fd, path = real_mkstemp(*args, **kwargs)
        if kwargs.get("prefix", "").startswith(".results.csv"):
            os.close(fd)
            fd = os.open("/dev/full", os.O_WRONLY)
        return fd, path

    monkeypatch.setattr(artifacts.tempfile, "mkstemp", disk_full_for_reports)
    out = tmp_path / "o"
    assert quick_tune(out, tiny_space(tmp_path), "--strategy", "random", "--trials", "1") == 1
    err = capsys.readouterr().err
    assert err == (
        f"tune.py: error: cannot write {out / 'results.csv'}: No space left on device; "
        "the finished trials are kept in the study's database\n"
    )
    import optuna

    trials = optuna.load_study(study_name="numpy-random", storage=f"sqlite:///{out / 'study.db'}").get_trials()
    assert [t.state.name for t in trials] == ["COMPLETE"]


# ----------------------------------------------------------------------------- 4. an existing --out


def test_an_existing_run_folder_is_refused_unless_overwrite(real_data_dir, tmp_path):
    out = tmp_path / "run"
    assert run_train(*QUICK, "--num-epochs", "1", "--out", str(out)).returncode == 0
    model = (out / "model.npz").read_bytes()
    refused = one_line_error(run_train(*QUICK, "--hidden-size", "20", "--out", str(out)))
    assert f"--out {out}: already holds" in refused and "--overwrite" in refused
    assert (out / "model.npz").read_bytes() == model
    assert (
        run_train(*QUICK, "--hidden-size", "20", "--num-epochs", "1", "--out", str(out), "--overwrite").returncode == 0
    )
    assert json.loads((out / "config.json").read_text())["hidden_size"] == 20
    assert load_model(out / "model.npz")[0]["W1"].shape == (3072, 20)
    (out / "notes.txt").write_text("mine")
    refused = one_line_error(run_train(*QUICK, "--out", str(out), "--overwrite"))
    assert "also holds notes.txt" in refused and (out / "notes.txt").exists()


@pytest.mark.parametrize("where", ["file", "read-only"])
def test_an_unusable_out_is_refused_before_the_data_is_loaded(tmp_path, capsys, where):
    if where == "file":
        out = tmp_path / "a-file"
        out.write_text("")
        expected = "is a file"
    else:
        out = read_only_folder(tmp_path)
        expected = "cannot write there"
    # no data anywhere: had the data been loaded first, this would be the error
    assert expected in main_error(capsys, "--out", str(out), "--data-dir", str(tmp_path / "no-data"))


def read_only_folder(tmp_path) -> Path:
    """A folder path nobody may create files in: under a mode-0500 folder, or, for root (whom modes do
    not stop), under /sys."""
    if os.geteuid() == 0:
        path = Path("/sys/two-layer-net-run")
        try:
            path.mkdir()
        except OSError:
            return path
        path.rmdir()
        pytest.skip("/sys is writable here, and as root no folder is read-only")
    (tmp_path / "ro").mkdir(mode=0o500)
    return tmp_path / "ro" / "run"


# ----------------------------------------------------------------------------- 5. sizes before reading


@pytest.fixture
def tiny_batches(monkeypatch, tmp_path):
    monkeypatch.setattr(cifar10, "IMAGES_PER_BATCH", 4)
    monkeypatch.delenv("CIFAR10_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return synthetic_batches(4)


def test_an_archive_member_larger_than_a_batch_is_refused_from_its_header(tiny_batches, tmp_path, monkeypatch):
    path = tmp_path / "cifar-10-binary.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        info = tarfile.TarInfo("cifar-10-batches-bin/data_batch_1.bin")
        info.size = 64 << 20  # 64 MiB of zeros: a few KB compressed
        archive.addfile(info, io.BytesIO(bytes(info.size)))

    def never(*args, **kwargs):
        raise AssertionError("the member was read")

    monkeypatch.setattr(tarfile.TarFile, "extractfile", never)
    with pytest.raises(ValueError, match=r"data_batch_1.bin: 67,108,864 bytes, expected 12,292 .* refused before"):
        load_raw_cifar10(path)


@pytest.mark.parametrize("size", [3 << 30, 8 << 30])
def test_a_huge_sparse_batch_file_is_refused_from_its_size(tmp_path, size):
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    with open(folder / "data_batch_1.bin", "wb") as f:
        f.truncate(size)  # sparse: no disk used, and nothing may be read
    with pytest.raises(ValueError, match=rf"{size:,} bytes, expected 30,730,000 .* refused before reading"):
        load_raw_cifar10(tmp_path)


def fake_npz(path, headers: dict[str, tuple[tuple, str]]) -> None:
    """An .npz whose members are .npy headers claiming these shapes, and no data: a file that lies."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, (shape, dtype) in headers.items():
            buffer = io.BytesIO()
            np.lib.format.write_array_header_1_0(buffer, {"descr": dtype, "fortran_order": False, "shape": shape})
            archive.writestr(f"{name}.npy", buffer.getvalue())


def test_an_npz_is_judged_by_its_headers_before_anything_is_read(tmp_path, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("np.load was called")

    monkeypatch.setattr(np, "load", never)
    model = {"W1": ((3072, 10), "<f4"), "b1": ((10,), "<f4"), "W2": ((10, 10), "<f4"), "b2": ((10,), "<f4")}
    model["mean_image"] = ((3, 32, 32), "<f4")
    fake_npz(tmp_path / "extra.npz", {**model, "extra": ((1 << 28,), "<f4")})  # 1 GiB declared
    with pytest.raises(ValueError, match="unexpected arrays extra"):
        load_model(tmp_path / "extra.npz")
    fake_npz(
        tmp_path / "huge.npz",
        {**model, "W1": ((3072, 1 << 40), "<f4"), "b1": ((1 << 40,), "<f4"), "W2": ((1 << 40, 10), "<f4")},
    )
    with pytest.raises(ValueError, match=r"huge.npz needs about [\d,.]+ GiB of memory"):
        load_model(tmp_path / "huge.npz")


# ----------------------------------------------------------------------------- 6. --data-dir means that folder


def test_a_mistyped_data_dir_is_an_error_even_with_cifar10_dir_set(real_data_dir, tmp_path):
    proc = run_train(*QUICK, "--data-dir", "/nonexistent", "--out", str(tmp_path / "run"))
    assert "CIFAR-10 was not found. Looked in: /nonexistent (given)" in one_line_error(proc)
    assert not (tmp_path / "run").exists()


def test_config_json_records_where_the_data_was_read_and_its_md5s(real_data_dir, tmp_path):
    assert run_train(*QUICK, "--num-epochs", "1", "--out", str(tmp_path / "run")).returncode == 0
    data = json.loads((tmp_path / "run" / "config.json").read_text())["data"]
    source = cifar10.find_source(real_data_dir).path.resolve()
    assert data["path"] == str(source) and data["official"] is True
    assert data["md5"] == {name: cifar10.BINARY_MD5[name] for name in sorted(cifar10.BINARY_MD5)}


# ----------------------------------------------------------------------------- 7. one line, not a traceback


def saved_model(path, inputs=3072, classes=10, dtype=np.float32, fill=0.01) -> Path:
    """A consistent model.npz of the given shape, dtype and value."""
    mean = np.zeros((3, 32, 32) if inputs == 3072 else (inputs,), dtype)
    params = {"W1": np.full((inputs, 5), fill, dtype), "b1": np.zeros(5, dtype)}
    params.update(W2=np.full((5, classes), fill, dtype), b2=np.zeros(classes, dtype))
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **params, mean_image=mean)
    return path


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda d: saved_model(d / "m.npz", dtype=np.float16), "all float32 or float64"),
        (lambda d: saved_model(d / "m.npz", inputs=100), "the model has 100 inputs; CIFAR-10 needs 3072"),
        (lambda d: saved_model(d / "m.npz", classes=7), "the model has 7 classes; CIFAR-10 needs 10"),
        (lambda d: saved_model(d / "m.npz", fill=np.nan), "W1, W2 hold NaN or infinite values"),
    ],
    ids=["float16", "input-size", "seven-classes", "nan"],
)
def test_eval_refuses_a_model_that_is_not_a_cifar10_classifier(tmp_path, capsys, make, message):
    assert message in main_error(capsys, "--eval", str(make(tmp_path)))


@pytest.mark.parametrize(
    "config, message",
    [
        ("[1, 2]", "expected a JSON object of settings, got list"),
        ('{"hidden_size": "wide"}', "hidden_size must be an int, got 'wide'"),
        ('{"num_train": 49990}', "--num-train must be at most 49000"),
        ("{broken", "not a valid JSON file"),
    ],
)
def test_eval_refuses_a_broken_config_json(tmp_path, capsys, config, message):
    run = tmp_path / "run"
    saved_model(run / "model.npz")
    (run / "config.json").write_text(config)
    assert message in main_error(capsys, "--eval", str(run))


@pytest.mark.parametrize(
    "args, message",
    [
        (["--impl", "torch", "--seed", str(10**23)], "--seed must be an integer in [0, 2**32)"),
        (["--hidden-size", "1000000000"], "training with --hidden-size 1000000000 needs about"),
    ],
)
def test_settings_that_cannot_run_are_one_line(capsys, args, message):
    assert message in main_error(capsys, *args)


def test_ctrl_c_while_loading_the_data_is_one_line_and_writes_nothing(tmp_path, monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(train, "load_splits", interrupted)
    assert train.main(["--out", str(tmp_path / "run")]) == 130
    assert capsys.readouterr().err == "train.py: error: interrupted while loading CIFAR-10; nothing was written\n"
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    "content, message",
    [
        ('[learning_rate]\nlow = "small"\n', "[learning_rate] low must be a number, got 'small'"),
        ('[hidden_size]\nvalues = ["wide"]\n', "[hidden_size] values must be a list of numbers"),
        ("hidden_size = 5\n", "hidden_size must be a table"),
        ('fixed = "adam"\n', "fixed must be a table"),
        ("[fixed]\nhidden_size = 20\n", "hidden_size is both tuned and [fixed]; to fix it"),
        ('[fixed]\nupdate_rule = "bogus"\n', "--update-rule must be one of"),
        ("[fixed]\nbatch_size = -1\n", "--batch-size must be a positive integer, got -1"),
        ("[hidden_size]\nvalues = [100000000000]\n", "hidden_size 100000000000 needs about"),
    ],
)
def test_a_bad_search_space_is_one_line_before_any_trial(tmp_path, capsys, content, message):
    path = tmp_path / "space.toml"
    path.write_text(content)
    assert tune.main(["--space", str(path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "o" / "study.db").exists()


@pytest.mark.parametrize(
    "where, message", [("space-folder", "is a folder"), ("out-file", "is a file"), ("out-read-only", "cannot write")]
)
def test_tune_paths_that_are_the_wrong_kind_are_one_line(tmp_path, capsys, where, message):
    (tmp_path / "file").write_text("")
    args = {
        "space-folder": ["--space", str(tmp_path)],
        "out-file": ["--out", str(tmp_path / "file")],
        "out-read-only": ["--out", str(read_only_folder(tmp_path))],
    }[where]
    assert tune.main(args) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


# ----------------------------------------------------------------------------- 8. the search space


@pytest.mark.parametrize("strategy", ["greedy", "grid", "random", "tpe"])
def test_a_zero_and_single_values_are_a_searchable_space(tmp_path, strategy):
    path = tmp_path / "space.toml"
    path.write_text("[reg]\nvalues = [0, 0.5]\n[num_epochs]\nvalues = [3]\n[hidden_size]\nvalues = [64]\n")
    space = load_space(path, strategy)
    assert space.params["reg"].values == (0, 0.5) and space.params["num_epochs"].values == (3,)


def test_log_range_from_zero_is_refused_for_sampling_only(tmp_path):
    path = tmp_path / "space.toml"
    path.write_text("[learning_rate]\nvalues = [0, 1e-3]\nlow = 0\n")
    with pytest.raises(SpaceError, match="a log-scale range needs low > 0"):
        load_space(path, "greedy")  # a range written out is checked whatever the strategy


def test_a_study_where_every_trial_fails_exits_1(real_data_dir, tmp_path, monkeypatch, capsys):
    def crash(*args, **kwargs):
        raise RuntimeError("simulated crash")

    monkeypatch.setattr(study, "train_config", crash)
    assert quick_tune(tmp_path / "o", tiny_space(tmp_path), "--strategy", "grid") == 1
    err = capsys.readouterr().err
    assert "tune.py: error: every trial failed (trial 0: RuntimeError: simulated crash)" in err


# ----------------------------------------------------------------------------- 9. no silently wrong advice


def test_a_huge_weight_scale_is_blamed_not_the_learning_rate(real_data_dir, tmp_path):
    proc = run_train(*QUICK, "--weight-scale", "1e30", "--out", str(tmp_path / "run"))
    assert proc.returncode == 1
    assert "before any update" in proc.stderr and "weight scale" in proc.stderr
    assert "learning rate" not in proc.stderr.replace("not the learning rate", "")


# ----------------------------------------------------------------------------- 10. permissions and secrets


def test_written_files_get_the_umask_like_any_other_file(tmp_path):
    previous = os.umask(0o027)
    try:
        save_json(tmp_path / "a.json", {})
        save_model(tmp_path / "m.npz", {k: np.zeros(1) for k in ("W1", "b1", "W2", "b2")}, np.zeros(1))
    finally:
        os.umask(previous)
    assert {(tmp_path / name).stat().st_mode & 0o777 for name in ("a.json", "m.npz")} == {0o640}


@pytest.mark.slow
def test_a_storage_password_is_never_printed(tmp_path):
    url = "postgresql://tuner:s3cr3t-pw@127.0.0.1:9/studies"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tune.py"), "--storage", url, "--out", str(tmp_path / "o")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "cannot open the study" in proc.stderr
    assert "s3cr3t-pw" not in proc.stderr + proc.stdout and "tuner:***@" in proc.stderr
    assert study.mask_password(f"study in {url}", url) == "study in postgresql://tuner:***@127.0.0.1:9/studies"


# ----------------------------------------------------------------------------- 11. the unpickler


def test_a_dtype_whose_object_flags_are_switched_on_after_the_check_is_refused(tiny_batches):
    images, labels = tiny_batches["data_batch_1"]
    payload = pickle.dumps({b"data": images.reshape(4, -1), b"labels": [int(v) for v in labels]}, protocol=2)
    plain_state = b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00t"  # (..., -1, -1, flags 0) of dtype('u1')
    assert payload.count(plain_state) == 1
    crafted = payload.replace(plain_state, b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK?t")  # flags 63: objects
    assert parse_python_batch("ok", payload)[0].shape == (4, 3, 32, 32)
    with pytest.raises(ValueError, match=r"crafted: refused dtype state \(3, '\|', None, None, None, -1, -1, 63\)"):
        parse_python_batch("crafted", crafted)


def test_an_object_array_or_a_foreign_reconstructor_is_refused(tiny_batches):
    objects = pickle.dumps({b"data": np.array([None, print], dtype=object)}, protocol=2)
    with pytest.raises(ValueError, match="refused dtype arguments 'O8'"):
        parse_python_batch("objects", objects)
    fake = pickle.dumps({b"data": np.ones(3)}, protocol=2).replace(b"ndarray", b"ndarraz")
    with pytest.raises(ValueError, match="refused to load numpy.ndarraz"):
        parse_python_batch("fake", fake)


def test_the_python_version_still_loads_through_the_new_unpickler(tiny_batches, tmp_path):
    write_folder(tmp_path, tiny_batches, "python")
    raw = load_raw_cifar10(tmp_path)
    np.testing.assert_array_equal(raw.x_test, tiny_batches["test_batch"][0])
    assert raw.md5.keys() == {
        "data_batch_1",
        "data_batch_2",
        "data_batch_3",
        "data_batch_4",
        "data_batch_5",
        "test_batch",
    }
    with pytest.raises(CIFAR10NotFoundError):
        load_raw_cifar10(tmp_path / "elsewhere")
