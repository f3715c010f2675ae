"""tune.py spread over worker processes as over machines: one study on a real PostgreSQL server (and on
Optuna's JournalStorage file), three workers started separately, one of them killed with SIGKILL mid-trial.

Each worker is its own `python tune.py` with its own --out, as on another machine; the only thing they
share is the --storage URL. The trials train on a synthetic CIFAR-10 copy, 60 epochs of a tiny network.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import pytest

from tests.postgres import postgres  # noqa: F401 - the session's server, a fixture

ROOT = Path(__file__).resolve().parents[1]
SPACE = {  # a grid of 6 configurations; ranges for random and TPE
    "hidden_size": {"values": [10, 20, 30], "low": 10, "high": 30},
    "learning_rate": {"values": [1e-4, 3e-4], "low": 1e-4, "high": 3e-4},
    "num_epochs": {"values": [60], "low": 60, "high": 60},  # a trial lasts about 0.5 s: a worker is caught in one
    "reg": {"values": [0.0], "low": 1e-3, "high": 1e-2},
}
TRIALS = {"greedy": 4, "grid": 6, "random": 6, "tpe": 6}  # greedy's first pass over this space holds 4
HEARTBEAT = 1  # seconds: a killed worker's trial is stale after 6 s


def on_one_core(index: int) -> None:
    """Run this process on one core of this machine (the index-th, round robin), as on a machine of its own."""
    cores = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cores[index % len(cores)]})


def storage_url(kind: str, server, tmp_path: Path, name: str) -> str:
    """A fresh study's storage: the PostgreSQL server's database or a journal file."""
    return server.url() if kind == "postgresql" else f"journal:{tmp_path / f'{name}.log'}"


def worker_command(strategy: str, storage: str, study: str, out: Path, space: Path, data: str) -> list[str]:
    """The command each machine would run: the same everywhere but for its --out."""
    return [
        sys.executable,
        str(ROOT / "tune.py"),
        *("--strategy", strategy, "--trials", str(TRIALS[strategy]), "--storage", storage, "--study", study),
        *("--num-train", "500", "--space", str(space), "--data-dir", data, "--out", str(out)),
        *("--heartbeat", str(HEARTBEAT), "--no-retrain"),
    ]


def load_trials(storage: str, study: str) -> list:
    """Every trial of the study, as Optuna stores it."""
    import optuna

    from tuning.study import make_storage

    return optuna.load_study(study_name=study, storage=make_storage(storage, HEARTBEAT)).get_trials()


def kill_mid_trial(workers: list[subprocess.Popen], storage: str, study: str) -> tuple[subprocess.Popen, int]:
    """SIGKILL the first worker seen training a trial -> (the worker, its trial's number).

    The worker is frozen (SIGSTOP) before the trial is read again, so that it cannot finish the trial
    between the read and the kill; a worker that finished it before freezing goes on (SIGCONT).
    """
    import optuna

    from tuning.study import make_storage

    deadline, loaded = time.monotonic() + 120, None
    while time.monotonic() < deadline:
        time.sleep(0.1)
        try:
            loaded = loaded or optuna.load_study(study_name=study, storage=make_storage(storage, HEARTBEAT))
        except Exception:  # the study is not created yet
            continue
        pids = {w.pid: w for w in workers}
        for t in loaded.get_trials(deepcopy=False):
            pid = t.user_attrs.get("worker", {}).get("pid")
            if t.state.name == "RUNNING" and pid in pids and len(t.params) == len(SPACE):
                victim = pids[pid]
                victim.send_signal(signal.SIGSTOP)
                time.sleep(0.5)  # a write it sent before it froze reaches the storage
                if loaded.get_trials(deepcopy=False)[t.number].state.name == "RUNNING":
                    victim.send_signal(signal.SIGKILL)
                    victim.wait(timeout=30)  # gone, as with a machine that lost power
                    return victim, t.number
                victim.send_signal(signal.SIGCONT)
                break
    raise AssertionError("no worker was seen mid-trial within 2 minutes")


@pytest.mark.slow
@pytest.mark.parametrize("storage_kind", ["postgresql", "journal"])
@pytest.mark.parametrize("strategy", ["greedy", "grid", "random", "tpe"])
def test_three_workers_one_killed_train_each_configuration_once(request, fake_cifar, tmp_path, strategy, storage_kind):
    study = f"{strategy}-{storage_kind}-{tmp_path.name}"
    server = request.getfixturevalue("postgres") if storage_kind == "postgresql" else None
    storage = storage_url(storage_kind, server, tmp_path, study)
    space = tmp_path / "space.json"
    space.write_text(json.dumps(SPACE))
    outs = [tmp_path / f"machine{i}" for i in range(3)]
    workers = [
        subprocess.Popen(
            worker_command(strategy, storage, study, out, space, fake_cifar),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=partial(on_one_core, i),
        )
        for i, out in enumerate(outs)
    ]
    try:
        victim, killed = kill_mid_trial(workers, storage, study)
        survivors = [(w, out) for w, out in zip(workers, outs) if w is not victim]
        for worker, _ in survivors:
            stdout, stderr = worker.communicate(timeout=300)
            assert worker.returncode == 0, stderr
    finally:
        for worker in workers:
            worker.kill()

    trials = load_trials(storage, study)
    by_number = {t.number: t for t in trials}
    complete = [t for t in trials if t.state.name == "COMPLETE"]
    configs = [tuple(sorted(t.params.items())) for t in complete]
    assert len(complete) == TRIALS[strategy] and len(set(configs)) == len(configs), configs  # exactly, none twice
    never_trained = [t for t in trials if "duplicate_of" in t.user_attrs or "surplus" in t.user_attrs]
    assert all(t.state.name == "FAIL" and "seconds" not in t.user_attrs for t in never_trained)
    assert by_number[killed].state.name == "FAIL"
    if storage_kind == "postgresql":  # Optuna's heartbeat check failed it, its retry trained the configuration
        retries = [t for t in trials if t.system_attrs.get("failed_trial") == killed]
        assert retries and by_number[killed].params == retries[0].params
    else:  # no heartbeats in a journal: a worker on this host saw its process gone
        assert by_number[killed].user_attrs["error"] == f"interrupted (its process {victim.pid} ended)"
    others = set(by_number) - {t.number for t in complete + never_trained} - {killed}
    assert all(by_number[n].system_attrs.get("failed_trial") == killed for n in others), others  # failed retries

    # the report of every surviving worker lists the same trials: the study's
    reports = [(out / "results.csv").read_text() for _, out in survivors]
    assert reports[0] == reports[1] and reports[0].count("\n") == 1 + TRIALS[strategy] + 1  # + the killed trial
    assert ",interrupted," in reports[0]

    # resuming after all workers stopped trains nothing and adds no trial
    resumed = subprocess.run(
        worker_command(strategy, storage, study, outs[0], space, fake_cifar),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert "-> val acc" not in resumed.stdout and len(load_trials(storage, study)) == len(trials)
    assert (outs[0] / "results.csv").read_text() == reports[0]


@pytest.mark.slow
def test_a_wrong_password_is_refused_in_one_line_without_showing_it(postgres, tmp_path):  # noqa: F811
    url = postgres.url(password="not-the-password")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tune.py"), "--storage", url, "--out", str(tmp_path / "o")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "cannot open the study" in proc.stderr and "password authentication failed" in proc.stderr
    assert "not-the-password" not in proc.stderr + proc.stdout and "postgres:***@127.0.0.1" in proc.stderr
