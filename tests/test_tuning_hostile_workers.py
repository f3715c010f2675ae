"""Workers on one study under hostile conditions: a study asked for another search, a trial whose process died
inside Optuna, a worker whose trial another failed as stale while it was paused, a password with URL characters,
a report written while another worker's duplicate trial waits to be refused, a journal without a path, a storage URL
with PostgreSQL's short name, a machine without CPU affinity (macOS), a signal while a trial is set up, and --jobs
workers signalled twice, crashed, killed, or left behind by a tune.py killed with SIGKILL."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest

import tune
from common.runtime import process_running
from common.signals import DeferredSignals
from tuning import study as tuning_study
from tuning.space import SearchSpace

ROOT = Path(__file__).resolve().parents[1]
SPACE = {
    "hidden_size": {"values": [10, 20]},
    "learning_rate": {"values": [1e-4]},
    "num_epochs": {"values": [1]},
    "reg": {"values": [0.0]},
}


@pytest.fixture(autouse=True)
def fresh_process_state(monkeypatch):
    monkeypatch.setattr(tuning_study, "_DATA", None)  # no data cached from another test


def run_tune(tmp_path, fake_cifar, storage: str, space: dict, *extra: str) -> int:
    path = tmp_path / f"space-{len(list(tmp_path.glob('space-*')))}.json"
    path.write_text(json.dumps(space))
    args = ["--strategy", "grid", "--storage", storage, "--study", "s", "--space", str(path), "--num-train", "500"]
    return tune.main([*args, "--data-dir", fake_cifar, "--out", str(tmp_path / "out"), "--no-retrain", *extra])


def journal(path) -> optuna.storages.JournalStorage:
    return tuning_study.make_storage(f"journal:{path}")


def test_a_study_asked_for_another_search_is_refused_in_one_line(tmp_path, fake_cifar, capsys):
    storage = f"journal:{tmp_path / 's.log'}"
    assert run_tune(tmp_path, fake_cifar, storage, SPACE, "--trials", "1") == 0
    other = {**SPACE, "hidden_size": {"values": [10, 30]}}  # a grid value Optuna could not draw in this study
    capsys.readouterr()
    assert run_tune(tmp_path, fake_cifar, storage, other) == 2
    err = capsys.readouterr().err
    assert err == (
        "tune.py: error: --study s: it holds a search with another space; run it with the same settings, "
        "or give this search a new --study\n"
    )
    assert len(optuna.load_study(study_name="s", storage=journal(tmp_path / "s.log")).trials) == 1
    assert run_tune(tmp_path, fake_cifar, storage, SPACE, "--trials", "2") == 0  # the same search, a larger total


def test_a_trial_whose_process_died_inside_optuna_is_failed_and_the_study_goes_on(tmp_path, fake_cifar, monkeypatch):
    """A trial numbered but never started (no parameters, no worker, no heartbeat) held every later trial's
    claim forever; it is failed once it has had no worker for BARE_SECONDS."""
    monkeypatch.setattr(tuning_study, "BARE_SECONDS", 1.0)
    storage = f"journal:{tmp_path / 's.log'}"
    optuna.create_study(study_name="s", storage=journal(tmp_path / "s.log"), direction="maximize").ask()
    assert run_tune(tmp_path, fake_cifar, storage, SPACE) == 0
    trials = optuna.load_study(study_name="s", storage=journal(tmp_path / "s.log")).trials
    assert trials[0].state.name == "FAIL" and trials[0].user_attrs["interrupted"] is True
    assert trials[0].user_attrs["error"] == "interrupted (its process never started it)"
    assert sorted(t.params["hidden_size"] for t in trials if t.state.name == "COMPLETE") == [10, 20]


def test_a_worker_whose_trial_was_failed_as_stale_meanwhile_goes_on(tmp_path, monkeypatch):
    """Paused past the grace period (a laptop asleep), a worker finds its trial failed by another: Optuna's tell
    refuses its result (ValueError), and the worker goes on to the next trial instead of crashing."""
    study = optuna.create_study(storage=journal(tmp_path / "s.log"), direction="maximize")

    def objective(trial, args, space):
        monkeypatch.setattr(tuning_study, "_RUNNING", trial._trial_id)
        study._storage.set_trial_state_values(trial._trial_id, optuna.trial.TrialState.FAIL)  # the other worker
        return 0.5

    monkeypatch.setattr(tuning_study, "objective", objective)
    tuning_study.run_one_trial(study, None, None)
    assert [t.state.name for t in study.trials] == ["FAIL"]


def test_a_report_leaves_out_a_trial_another_worker_is_about_to_refuse(tmp_path):
    """At a grid's end one worker wrote its report while another's new trial of a held configuration waited to be
    refused as a duplicate: it was listed as running, and the two workers' reports differed."""
    study = optuna.create_study(storage=journal(tmp_path / "s.log"), direction="maximize")
    params = {"hidden_size": 10, "learning_rate": 1e-4, "num_epochs": 1, "reg": 0.0}
    space = {name: optuna.distributions.CategoricalDistribution([value]) for name, value in params.items()}
    space["hidden_size"] = optuna.distributions.CategoricalDistribution([10, 20])
    study.add_trial(optuna.trial.create_trial(params=params, distributions=space, value=0.5))
    for hidden_size in (10, 20):  # the same configuration (running until claim_place refuses it), then another
        study.enqueue_trial({**params, "hidden_size": hidden_size})
        study.ask(space)
    records = tuning_study.trial_records(study, SearchSpace())
    assert [(r["number"], r["state"]) for r in records] == [(0, "complete"), (2, "running")]


@pytest.mark.parametrize("password", ["pa#ss", "p/q?x", "postgres"])
def test_a_password_is_masked_whatever_characters_it_holds(password):
    url = f"postgresql+psycopg2://postgres:{password}@127.0.0.1:9/studies"
    said = tuning_study.mask_password(f"--storage {url}: cannot open the study (password {password} refused)", url)
    assert said == (
        "--storage postgresql+psycopg2://postgres:***@127.0.0.1:9/studies: cannot open the study (password *** refused)"
    )


@pytest.mark.parametrize(
    "storage, said",
    [
        ("journal:", "--storage journal:FILE needs the journal file's path, e.g. journal:study.log"),
        ("postgres://u:secret@127.0.0.1:9/db", "SQLAlchemy names PostgreSQL postgresql://"),
    ],
)
def test_a_storage_without_a_file_or_with_postgresqls_short_name_is_one_line(tmp_path, capsys, storage, said):
    assert tune.main(["--storage", storage, "--out", str(tmp_path / "o"), "--no-retrain"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and said in err and "secret" not in err


def test_threads_are_shared_out_without_cpu_affinity(monkeypatch):
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)  # as on macOS
    tuning_study.limit_threads(1)


def test_a_signal_while_a_trial_is_set_up_marks_it_interrupted(tmp_path, monkeypatch):
    """A Ctrl-C or SIGTERM noted while a trial wrote its worker record or its parameters was raised outside the
    objective's handling: Optuna failed the trial as finished, and a resumed grid never trained its configuration."""
    noted = DeferredSignals()
    noted.pending.append(signal.SIGTERM)
    monkeypatch.setattr(tuning_study, "stop_if_interrupted", noted.check)
    study = optuna.create_study(storage=journal(tmp_path / "s.log"), direction="maximize")
    args = argparse.Namespace(strategy="grid", trials=None, impl="numpy", seed=0, num_train=500, data_dir=None)
    with pytest.raises(KeyboardInterrupt):
        study.optimize(lambda trial: tuning_study.objective(trial, args, SearchSpace()), n_trials=1)
    (trial,) = study.trials
    assert trial.user_attrs["interrupted"] is True and trial.user_attrs["error"] == "interrupted (SIGTERM)"
    assert tuning_study.counted_trials(study) == []  # trained again on resume


def test_a_second_signal_while_tune_waits_for_its_workers_still_stops_the_live_ones(monkeypatch):
    """Waiting for its --jobs workers, tune.py passed a second Ctrl-C on to a worker it had already reaped: the
    ProcessLookupError ended tune.py with no report, and the workers after it searched on unseen."""
    monkeypatch.setattr(tuning_study, "DEFERRED", DeferredSignals())
    finished, live = subprocess.Popen(["true"]), subprocess.Popen(["sleep", "60"])
    finished.wait()
    workers = object.__new__(tuning_study.Workers)
    workers.children = [finished.pid, live.pid]
    workers._pass_on(signal.SIGTERM, None)
    assert live.wait(timeout=10) == -signal.SIGTERM


def test_workers_that_crashed_or_were_killed_are_counted_as_failed(monkeypatch):
    monkeypatch.setattr(tuning_study, "DEFERRED", DeferredSignals())
    commands = (["true"], ["false"], ["sleep", "60"], ["sh", "-c", "exit 143"])  # the last: stopped by SIGTERM
    workers = object.__new__(tuning_study.Workers)
    procs = [subprocess.Popen(command) for command in commands]
    procs[2].kill()
    workers.children = [proc.pid for proc in procs]
    assert workers.close() == (signal.SIGTERM, [1, -signal.SIGKILL])
    assert workers.children == []


def test_a_jobs_worker_that_crashes_fails_the_search_after_its_report(tmp_path, fake_cifar, monkeypatch, capsys):
    """A forked worker's crash left tune.py's exit code 0 (and the best retrained as if the search were whole)."""

    def grid(args, space, study):
        if tuning_study._RANK:
            raise RuntimeError("a bug in a worker")

    monkeypatch.setattr(tune, "run_grid", grid)
    assert run_tune(tmp_path, fake_cifar, f"journal:{tmp_path / 's.log'}", SPACE, "--jobs", "2") == 1
    err = capsys.readouterr().err
    assert "tune.py: error: 1 of the --jobs workers failed (exit code 1)" in err
    assert (tmp_path / "out" / "results.md").is_file()


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="a worker learns of its parent's death through prctl (Linux)")
def test_a_jobs_worker_stops_when_tune_is_killed(tmp_path, fake_cifar):
    """After a kill -9 of tune.py, its forked worker searched on alone, unseen, to the search's end."""
    space = tmp_path / "space.json"
    space.write_text(json.dumps({**SPACE, "num_epochs": {"values": [3000]}}))
    storage = f"journal:{tmp_path / 's.log'}"
    command = [sys.executable, "tune.py", "--strategy", "grid", "--storage", storage, "--study", "s", "--jobs", "2"]
    command += ["--space", str(space), "--num-train", "500", "--data-dir", fake_cifar, "--out", str(tmp_path / "o")]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline, running = time.monotonic() + 120, {}
        while len(running) < 2 and time.monotonic() < deadline:
            time.sleep(0.5)
            trials = (
                optuna.load_study(study_name="s", storage=journal(tmp_path / "s.log")).trials
                if (tmp_path / "s.log").exists()
                else []
            )
            running = {t.number: t.user_attrs["worker"] for t in trials if "worker" in t.user_attrs}
        assert len(running) == 2, running
    finally:
        proc.kill()
        proc.wait()
    ((number, worker),) = [(n, w) for n, w in running.items() if w["pid"] != proc.pid]
    deadline = time.monotonic() + 60
    while process_running(worker["pid"], worker["process"]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not process_running(worker["pid"], worker["process"])
    trial = optuna.load_study(study_name="s", storage=journal(tmp_path / "s.log")).trials[number]
    assert trial.user_attrs["error"] == "interrupted (SIGTERM)"
