"""An Optuna study of the two-layer net: trials, workers, resuming, the lab's report and the best run retrained.

tune.py is the command line over this module. Every strategy runs as a study stored in a
database, so re-running the same command resumes it; --jobs worker processes share it.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import itertools
import json
import logging
import math
import os
import signal
import socket
import stat
import sys
import time
import traceback
from pathlib import Path

import numpy as np

from common.artifacts import atomic_open, file_kind, load_json
from common.config import NAMES, Config
from common.lab_folder import is_student_impl
from common.plots import plot_accuracy, plot_against_params, plot_loss, save_figure
from common.runtime import check_memory, process_identity, process_running, retain_freed_memory
from common.signals import STOP_SIGNALS, DeferredSignals, Interrupted, exit_code
from experiment.models import training_memory
from experiment.runs import CLAIM, RUN_FILES, claim_out, fit, library_versions, load_splits, release_claim, train_run
from experiment.student import describe_error
from tuning.greedy import config_key, greedy_search
from tuning.report import best_record, lab_table, results_csv, summary
from tuning.space import LAB_START, SearchSpace

STATES = {"COMPLETE": "complete", "PRUNED": "pruned", "FAIL": "failed", "RUNNING": "running", "WAITING": "running"}

_DATA: dict | None = None  # the data of this process, loaded once and shared by its trials
_RANK = 0  # this worker's number among --jobs: 0 for tune.py itself, which prints the search's summary


class UsageError(Exception):
    """Bad input: one line on stderr, exit code 2."""


# ----------------------------------------------------------------------------- one trial


def trial_config(settings: dict, args: argparse.Namespace) -> Config:
    """The Config of a trial: its tuned and fixed settings, with the study's impl, seed and training-set size."""
    return Config.from_dict(
        {**settings, "impl": args.impl, "seed": args.seed, "num_train": args.num_train, "dtype": "float32"}, "trial"
    )


def check_space(space: SearchSpace, args: argparse.Namespace) -> Config:
    """Refuse, before the first trial, a study whose trials could not run; -> the fixed settings' Config.

    Checks the fixed settings with --num-train and --seed, then each tuned parameter's candidates
    (greedy, grid) or range ends (random, TPE) on top of them, with train.py's own validation,
    and that the largest hidden layer fits in memory. Raises UsageError naming the setting.
    """
    try:
        fixed = trial_config(space.fixed, args)
    except ValueError as err:
        raise UsageError(f"[fixed]: {err}" if args.space else str(err)) from None
    largest = fixed
    for name, param in space.params.items():
        tried = param.values if args.strategy in ("greedy", "grid") else (param.low, param.high)
        for value in tried:
            value = int(value) if param.integer else value
            try:
                config = trial_config({**space.fixed, name: value}, args)
            except ValueError as err:
                raise UsageError(f"--space: {name} = {value!r} cannot be trained: {err}") from None
            if config.hidden_size > largest.hidden_size:
                largest = config
    try:
        check_memory(training_memory(largest), f"a trial with hidden_size {largest.hidden_size}")
    except ValueError as err:
        raise UsageError(str(err)) from None
    return fixed


def trial_data(config: Config, data_dir: str | None) -> dict:
    """The training and validation splits for a trial's Config; kept for the next trial with the same data."""
    global _DATA
    key = (config.num_train, config.preprocessing, config.zca_epsilon)
    if _DATA is None or _DATA["key"] != key:
        _DATA = load_splits(config, data_dir, num_test=0)
        _DATA["key"] = key
    return _DATA


def train_config(config: Config, data: dict, on_epoch=None) -> dict:
    """Train one trial's Config -> val acc (best check), train acc there, histories, seconds, diverged.

    A Ctrl-C or SIGTERM noted by ``DEFERRED`` stops it after the update in progress."""
    started = time.perf_counter()
    solver, diverged = fit(config, data, on_epoch=on_epoch, on_iteration=stop_if_interrupted)
    best = int(np.argmax(solver.val_acc_history)) if solver.val_acc_history else 0
    per_epoch = solver.iterations_per_epoch
    epoch_loss = [
        float(np.mean(solver.loss_history[i : i + per_epoch])) for i in range(0, len(solver.loss_history), per_epoch)
    ]
    return {
        "val_acc": solver.best_val_acc if solver.val_acc_history else 0.0,
        "train_acc": solver.train_acc_history[best] if solver.train_acc_history else 0.0,
        "diverged": diverged,
        "seconds": time.perf_counter() - started,
        "train_acc_history": solver.train_acc_history,
        "val_acc_history": solver.val_acc_history,
        "epoch_loss": epoch_loss,
    }


def suggest(trial, space: SearchSpace, strategy: str) -> dict:
    """The trial's tuned hyperparameters: candidate values for greedy/grid, ranges for random/TPE."""
    params = {}
    for name, p in space.params.items():
        if strategy in ("greedy", "grid"):
            params[name] = trial.suggest_categorical(name, list(p.values))
        elif p.integer:
            params[name] = trial.suggest_int(name, int(p.low), int(p.high), log=p.log)
        else:
            params[name] = trial.suggest_float(name, p.low, p.high, log=p.log)
    return params


class NotTrained(Exception):
    """A trial that holds no place in the study (a duplicate, or beyond --trials): failed at once, never trained."""


def claim_place(trial, config: dict, args: argparse.Namespace, space: SearchSpace) -> None:
    """Raise NotTrained unless ``trial`` may train ``config``: the earliest trial of a configuration trains it, and
    a random or TPE trial only while fewer than --trials precede it (Optuna numbers trials one at a time)."""
    while True:  # a trial is numbered before its parameters are written: wait for those of the trials ahead
        stop_if_interrupted()
        ahead = [t for t in counted_trials(trial.study) if t.number < trial.number]
        if all(t.state.name != "RUNNING" or params_key(t, space) is not None for t in ahead):
            break
        fail_dead_trials(trial.study)
        time.sleep(0.05)
    key = config_key({name: config[name] for name in space.params})
    same = next((t for t in ahead if params_key(t, space) == key), None)
    if same is not None:
        trial.set_user_attr("duplicate_of", same.number)
        raise NotTrained(f"trial {same.number} holds this configuration")
    total = args.trials or 20  # random and TPE's default
    if args.strategy in ("random", "tpe") and len(ahead) >= total:
        trial.set_user_attr("surplus", True)
        raise NotTrained(f"the study already holds its {total} trials")


def objective(trial, args: argparse.Namespace, space: SearchSpace) -> float:
    """Optuna objective: train the suggested configuration, report val acc each epoch, return the best."""
    import optuna

    global _RUNNING
    _RUNNING = trial._trial_id

    def report(solver):
        stop_if_interrupted()
        if solver.epoch > 0:
            trial.report(solver.val_acc_history[-1], solver.epoch)
            if trial.should_prune():
                trial.set_user_attr("pruned_epoch", solver.epoch)
                trial.set_user_attr("train_acc", solver.train_acc_history[-1])
                raise optuna.TrialPruned()

    try:  # a signal noted from here on, in a database write too, marks the trial interrupted
        pid = os.getpid()  # who runs it: on a storage without heartbeats, fail_dead_trials checks this process
        trial.set_user_attr("worker", {"host": socket.gethostname(), "pid": pid, "process": process_identity(pid)})
        config = {**space.fixed, **suggest(trial, space, args.strategy)}
        claim_place(trial, config, args, space)
        trial.set_user_attr("fixed", space.fixed)
        stop_if_interrupted()
        run_config = trial_config(config, args)
        result = train_config(run_config, trial_data(run_config, args.data_dir), report)
    except (optuna.TrialPruned, optuna.exceptions.UpdateFinishedTrialError, NotTrained):
        raise  # the second: another worker failed this trial as stale (fail_stale_trials); its retry trains it
    except KeyboardInterrupt as interrupt:  # Ctrl-C or SIGTERM: failed, and run again when the study resumes
        trial.set_user_attr("error", f"interrupted ({str(interrupt) or 'SIGINT'})")
        trial.set_user_attr("interrupted", True)
        raise
    except Exception as err:  # recorded as a failed trial with its error; the study goes on
        student = is_student_impl(args.impl)  # a student's own code: where it raised, file:line
        error = describe_error(err, args.impl) if student else f"{type(err).__name__}: {err}"
        trial.set_user_attr("error", error)
        print(f"trial {trial.number} failed: {error}", flush=True)
        raise
    for key in ("train_acc", "diverged", "seconds", "train_acc_history", "val_acc_history", "epoch_loss"):
        trial.set_user_attr(key, result[key])
    shown = ", ".join(f"{name}={config[name]:g}" for name in space.params)
    print(
        f"trial {trial.number}: {shown} -> val acc {result['val_acc']:.4f}, train acc {result['train_acc']:.4f}"
        f"{' (diverged)' if result['diverged'] else ''} in {result['seconds']:.0f} s",
        flush=True,
    )
    return result["val_acc"]


# ----------------------------------------------------------------------------- the study's database


def mask_password(text: str, url: str) -> str:
    """text with storage ``url`` shown with its password as ***, and the password replaced wherever else it is."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url) if "://" in url else None
    except Exception:  # not a URL SQLAlchemy reads: it holds no password it would use
        return text
    if parsed is None or not parsed.password:
        return text
    masked = parsed.render_as_string(hide_password=True)
    return masked.join(piece.replace(str(parsed.password), "***") for piece in text.split(url))


def storage_file(url: str) -> Path | None:
    """The file of an SQLite URL (sqlite:///relative, sqlite:////absolute) or a journal:FILE, or None."""
    if url.startswith(JOURNAL):
        if not url.removeprefix(JOURNAL):
            raise UsageError("--storage journal:FILE needs the journal file's path, e.g. journal:study.log")
        return Path(url.removeprefix(JOURNAL))
    if not url.startswith("sqlite:///"):
        return None
    path = url.removeprefix("sqlite:///").split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


def check_storage_file(url: str) -> None:
    """Refuse a study file that exists but is not a regular file (a FIFO would block, a link to /dev/zero
    read forever, a folder fail deep in SQLAlchemy), without opening it: UsageError."""
    path = storage_file(url)
    if path is None or not os.path.lexists(path):
        return
    try:
        mode = path.stat().st_mode  # follows links: what SQLite would open
    except OSError as err:  # a dangling or looping link
        raise UsageError(f"--storage {path}: cannot use it as the study's database ({err.strerror or err})") from None
    if not stat.S_ISREG(mode):
        raise UsageError(f"--storage {path}: is {file_kind(mode)}; the study's database must be a regular file")


JOURNAL = "journal:"  # --storage journal:FILE: Optuna's JournalStorage on a file, no server


def make_storage(url: str, heartbeat: int = 10):
    """The study's storage: a JournalStorage for journal:FILE, else an RDBStorage whose running trials send a
    heartbeat every ``heartbeat`` s; one silent for 6 heartbeats is failed and retried (up to 3 times)."""
    import optuna

    if url.startswith(JOURNAL):
        from optuna.storages.journal import JournalFileBackend

        return optuna.storages.JournalStorage(JournalFileBackend(url.removeprefix(JOURNAL)))
    sqlite = url.startswith("sqlite")
    storage = optuna.storages.RDBStorage(
        url,
        # SQLite waits up to a minute for a lock held by another process; the driver's own transactions off
        engine_kwargs={"connect_args": {"timeout": 60, "isolation_level": None}} if sqlite else {},
        heartbeat_interval=heartbeat,
        grace_period=6 * heartbeat,
        heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=3),
    )
    if sqlite:  # SQLite has no row locks: a read then a write (popping a queued trial) must be one locked step
        from sqlalchemy import event

        event.listen(storage.engine, "begin", lambda connection: connection.exec_driver_sql("BEGIN IMMEDIATE"))
    return storage


DRIVER_HINT = "; install the database driver and name it in the URL, e.g. pip install psycopg2-binary with postgresql+psycopg2://..."


def check_same_search(study, args: argparse.Namespace, space: SearchSpace) -> None:
    """Record the search a study runs (strategy, space, training-set size) at its first command; UsageError when
    a later command, or another worker, asks the same study for another (its trials would not be comparable, and a
    grid's values could not be drawn). --trials may change (the study's total: the largest wins), --seed too."""
    wanted = {"strategy": args.strategy, "space": space.describe(), "num_train": args.num_train}
    wanted = json.loads(json.dumps(wanted))  # as the storage gives it back (tuples as lists)
    recorded = study.user_attrs.get("search")
    if recorded is None:
        study.set_user_attr("search", wanted)
    elif recorded != wanted:
        differ = ", ".join(key for key in wanted if recorded.get(key) != wanted[key])
        raise UsageError(
            f"--study {args.study}: it holds a search with another {differ}; run it with the same settings, "
            "or give this search a new --study"
        )


def make_study(args: argparse.Namespace, space: SearchSpace):
    """Create or load (resume) the study; its sampler follows the strategy, its pruner --prune."""
    import optuna

    from tuning.samplers import PerTrialRandomSampler, PerTrialTPESampler

    check_storage_file(args.storage)
    sampler = PerTrialTPESampler if args.strategy == "tpe" else PerTrialRandomSampler  # greedy, grid: fixed
    pruners = {
        "none": optuna.pruners.NopPruner,
        "median": lambda: optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=1),
        "halving": optuna.pruners.SuccessiveHalvingPruner,
    }
    for attempt in range(5):
        try:
            return optuna.create_study(
                study_name=args.study,
                storage=make_storage(args.storage, args.heartbeat),
                sampler=sampler(args.seed),
                pruner=pruners[args.prune](),
                direction="maximize",
                load_if_exists=True,
            )
        except Exception as err:  # sqlalchemy errors, a missing database driver, ...
            # Workers started together race to create the tables, the schema version or the study;
            # the loser retries. Any other failure (no such server, no driver) is reported at once.
            transient = ("already exists", "UNIQUE constraint failed", "duplicate key", "database is locked")
            if any(text in str(err) for text in transient) and attempt < 4:
                time.sleep(0.5 + attempt)
                continue
            first_line = str(err).splitlines()[0] if str(err) else ""
            hint = DRIVER_HINT if isinstance(err, ImportError) else ""
            if args.storage.startswith("postgres://"):
                hint = "; SQLAlchemy names PostgreSQL postgresql://, e.g. postgresql+psycopg2://user:password@host/db"
            message = f"--storage {args.storage}: cannot open the study ({type(err).__name__}: {first_line}){hint}"
            raise UsageError(mask_password(message, args.storage)) from None


# ----------------------------------------------------------------------------- worker processes


def limit_threads(jobs: int) -> None:
    """Give each of `jobs` worker processes its share of the cores, for BLAS and torch alike."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1  # (macOS)
    threads = max(1, cores // jobs)  # the cores this process may use
    from threadpoolctl import threadpool_limits

    threadpool_limits(threads)
    if "torch" in sys.modules or jobs > 1:
        import torch

        torch.set_num_threads(threads)


# In a process that runs trials, Ctrl-C and SIGTERM are noted and raised at the next safe point
# (stop_if_interrupted), never inside a write to the study's database: an SQLite write cut short
# can keep its lock, and every later write then waits for it.
DEFERRED = DeferredSignals()
stop_if_interrupted = DEFERRED.check  # a safe point: raises Interrupted (a KeyboardInterrupt) for a noted signal


class Workers:
    """--jobs processes on the study: this one and --jobs - 1 forked ones, each running the whole search as
    another machine would (claim_place keeps them from training a configuration twice)."""

    def __init__(self, args: argparse.Namespace, space: SearchSpace):
        """Set this process up to run trials: Ctrl-C and SIGTERM deferred to its safe points (a trial stopped by one
        is recorded as interrupted), Optuna's logging quiet, its share of the cores."""
        import optuna

        DEFERRED.start()
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        logging.getLogger("optuna.study._optimize").setLevel(logging.ERROR)  # the objective says why a trial failed
        limit_threads(args.jobs)
        retain_freed_memory()
        self.args, self.space, self.children = args, space, []

    def run(self, search, study) -> None:
        """search(args, space, study) in every worker; a signal to this one is passed on to the others."""
        parent = os.getpid()
        for rank in range(1, self.args.jobs):
            pid = os.fork()
            if pid == 0:
                os._exit(self._child(search, rank, parent))
            self.children.append(pid)
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._pass_on)
        search(self.args, self.space, study)

    def _pass_on(self, signum, frame) -> None:
        DEFERRED.note(signum)
        for pid in self.children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    def _child(self, search, rank: int, parent: int) -> int:
        """A forked worker: the search on a study of its own (its parent's connections left alone) -> exit code.
        On Linux it is stopped as by SIGTERM when its parent dies, instead of searching on unseen."""
        global _RANK
        _RANK, code = rank, 0
        if sys.platform == "linux":
            ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        try:
            if os.getppid() != parent:  # it died before that
                raise Interrupted(signal.SIGTERM)
            search(self.args, self.space, make_study(self.args, self.space))
        except KeyboardInterrupt as interrupt:  # its trial is marked interrupted; the parent reports it once
            code = exit_code(interrupt)
        except UsageError as err:
            print(f"tune.py: error: {err}", file=sys.stderr)
            code = 2
        except BaseException:
            traceback.print_exc()
            code = 1
        sys.stdout.flush(), sys.stderr.flush()
        return code

    def close(self, stop: bool = False) -> tuple[int | None, list[int]]:
        """Wait for the forked workers (sent SIGTERM first if ``stop``), give Ctrl-C and SIGTERM back to their handlers;
        -> (a signal noted since the last safe point or that stopped a worker, or None; failed workers' exit codes)."""
        if stop:
            self._pass_on(signal.SIGTERM, None)
        codes = []
        while self.children:  # each taken off once reaped: its pid may belong to another process after
            codes.append(os.waitstatus_to_exitcode(os.waitpid(self.children[0], 0)[1]))
            self.children.pop(0)
        stopped = [code - 128 for code in codes if code - 128 in STOP_SIGNALS]
        return next(iter(DEFERRED.stop() + stopped), None), [c for c in codes if c != 0 and c - 128 not in stopped]


# ----------------------------------------------------------------------------- the study's trials


def counted_trials(trials) -> list:
    """The trials that hold a place: not interrupted or retried (each runs again), not refused by claim_place."""
    trials = trials.get_trials(deepcopy=False) if hasattr(trials, "get_trials") else trials
    retried = {number for t in trials for number in t.system_attrs.get("retry_history", ())}  # Optuna's retries
    not_counted = {"interrupted", "duplicate_of", "surplus"}  # the user attributes of trials that hold no place
    return [t for t in trials if t.number not in retried and not not_counted & t.user_attrs.keys()]


def state(trial) -> str:
    """The trial's state name, RUNNING for 10 s (as this process sees it) after Optuna failed it as stale: its
    retry is queued just after."""
    if not (trial.state.name == "FAIL" and "error" not in trial.user_attrs):
        return trial.state.name
    first_seen = _SEEN_FAILED.setdefault(trial._trial_id, time.monotonic())
    return "RUNNING" if time.monotonic() - first_seen < 10 else "FAIL"


_SEEN_FAILED: dict[int, float] = {}  # trial id -> when this process first saw it failed as stale
_SEEN_BARE: dict[int, float] = {}  # trial id -> when this process first saw it running without a worker record
_RUNNING: int | None = None  # the id of the trial this process runs (or ran last), once it has one
BARE_SECONDS = 60.0  # a trial still without a worker record after this: its process died while Optuna created it


def params_key(trial, space: SearchSpace) -> tuple | None:
    """The tuned configuration of a trial as config_key, or None while it has not all its parameters."""
    complete = all(name in trial.params for name in space.params)
    return config_key({name: trial.params[name] for name in space.params}) if complete else None


def fail_dead_trials(study) -> int:
    """Fail the running trials whose worker is gone; -> how many this call marked interrupted. With heartbeats
    (RDBStorage) Optuna's fail_stale_trials fails and retries them. Hand-written for a JournalStorage, which
    keeps no heartbeat in Optuna 5.1: a trial of this host whose process ended (other hosts' go unseen); and on
    any storage a trial that has had no worker record for BARE_SECONDS (its process died inside Optuna's ask,
    before its objective and its heartbeat started)."""
    import optuna
    from optuna.storages._heartbeat import is_heartbeat_enabled

    marked, storage = 0, study._storage
    heartbeats = is_heartbeat_enabled(storage)
    if heartbeats:
        optuna.storages.fail_stale_trials(study)
    for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        worker = t.user_attrs.get("worker")
        if worker is None:  # its process may have died inside Optuna, before the objective (no heartbeat either)
            if time.monotonic() - _SEEN_BARE.setdefault(t._trial_id, time.monotonic()) < BARE_SECONDS:
                continue
            why = "interrupted (its process never started it)"
        elif heartbeats or worker.get("host") != socket.gethostname():
            continue  # Optuna's heartbeats judge it, or another host's process (not seen from here)
        elif process_running(worker["pid"], worker.get("process")):
            continue
        else:
            why = f"interrupted (its process {worker['pid']} ended)"
        try:
            storage.set_trial_user_attr(t._trial_id, "error", why)
            storage.set_trial_user_attr(t._trial_id, "interrupted", True)
            marked += storage.set_trial_state_values(t._trial_id, state=optuna.trial.TrialState.FAIL)
        except optuna.exceptions.UpdateFinishedTrialError:  # another process got there first
            continue
    return marked


def run_one_trial(study, args: argparse.Namespace, space: SearchSpace) -> None:
    """Run the study's next trial: a queued one (a retry) first, else a new one from the sampler."""
    try:
        study.optimize(lambda t: objective(t, args, space), n_trials=1, catch=(Exception,))
    except Exception:  # Optuna's tell of a trial failed meanwhile: ValueError (RDB), an assertion (journal), ...
        trial = study._storage.get_trial(_RUNNING) if _RUNNING is not None else None
        attrs = trial.user_attrs if trial else {}
        if trial is None or trial.state.name != "FAIL" or ("error" in attrs and "interrupted" not in attrs):
            raise  # else another worker failed it as its dead process's (Optuna as stale, or fail_dead_trials)
        # while it ran (a paused machine, a lost heartbeat): its retry runs it


def _run_configs(args: argparse.Namespace, space: SearchSpace, configs: list[dict]) -> list[tuple[dict, float | None]]:
    """Worker: have configurations (greedy, grid) trained in the study -> (params, value or None) for each.

    It trains the first one no trial holds (claim_place; a --jobs worker of rank r the r-th, so that they start
    apart), looks again, and so on; one that another
    worker's trial holds is left to it, and taken over if that trial fails as its worker dies."""
    import optuna

    study, results = make_study(args, space), {}
    sampler = study.sampler
    while len(results) < len(configs):
        stop_if_interrupted()
        fail_dead_trials(study)
        holders = {params_key(t, space): t for t in reversed(counted_trials(study))}  # the earliest of each
        free = [c for c in configs if holders.get(config_key(c)) is None or state(holders[config_key(c)]) == "WAITING"]
        for config in configs:
            holder = holders.get(config_key(config))
            if holder is not None and state(holder) not in ("RUNNING", "WAITING"):
                results[config_key(config)] = holder.value if holder.state.name == "COMPLETE" else None
        if free:
            study.sampler = optuna.samplers.PartialFixedSampler(free[_RANK % len(free)], sampler)  # a new trial
            run_one_trial(study, args, space)  # (a queued retry goes first)
        elif len(results) < len(configs):
            time.sleep(1.0)
    return [(config, results[config_key(config)]) for config in configs]


def run_sampled(args, space: SearchSpace, study) -> None:
    """Random or TPE: run the sampler's trials until the study holds --trials (default 20) finished ones, shared
    by every worker."""
    while True:
        stop_if_interrupted()
        fail_dead_trials(study)
        counted = counted_trials(study)
        states = {state(t) for t in counted}
        if len(counted) < (args.trials or 20) or "WAITING" in states:
            run_one_trial(study, args, space)
        elif "RUNNING" in states:
            time.sleep(1.0)  # all places taken; a running trial may still fail as stale and free one
        else:
            return


def finished_configs(study, space: SearchSpace) -> dict[tuple, float | None]:
    """Configurations already tried in the study (finished, pruned or failed, not interrupted) -> their value."""
    done = [(params_key(t, space), t) for t in counted_trials(study) if t.state.name in ("COMPLETE", "PRUNED", "FAIL")]
    return {key: t.value if t.state.name == "COMPLETE" else None for key, t in done if key is not None}


def greedy_order(args, space: SearchSpace) -> list[str]:
    """The order greedy sweeps the tuned hyperparameters in (--order, or the space's); UsageError if invalid."""
    order = list(space.params) if args.order is None else [name.strip() for name in args.order.split(",")]
    if sorted(order) != sorted(space.params):
        raise UsageError(f"--order must name each of {', '.join(space.params)} once, got {args.order!r}")
    return order


def run_greedy(args, space: SearchSpace, study) -> None:
    order = greedy_order(args, space)
    start = {
        name: LAB_START[name] if LAB_START.get(name) in p.values else p.values[0] for name, p in space.params.items()
    }
    cache = finished_configs(study, space)

    def evaluate(configs):
        results = {config_key(params): value for params, value in _run_configs(args, space, configs)}
        return [results.get(config_key(c)) for c in configs]

    total = args.trials if args.trials is not None else 40  # trials in the study, earlier runs included
    result = greedy_search(start, space.grid(), evaluate, order, cache=cache, max_new=max(0, total - len(cache)))
    if _RANK == 0:
        print(
            f"greedy search: {result.passes} pass(es), best val acc {result.best_value:.4f} with {result.best}"
            + (" (trial budget reached)" if result.exhausted_budget else ""),
            flush=True,
        )


def run_grid(args, space: SearchSpace, study) -> None:
    """Every configuration of the grid, in order, each once (up to --trials in the study)."""
    names = list(space.params)
    grid = (dict(zip(names, values)) for values in itertools.product(*space.grid().values()))  # lazily: it may be
    done = finished_configs(study, space)  # far larger than memory (1000 values each of four: 10^12)
    total = args.trials if args.trials is not None else math.prod(len(p.values) for p in space.params.values())
    todo = list(itertools.islice((c for c in grid if config_key(c) not in done), max(0, total - len(done))))
    _run_configs(args, space, todo)


# ----------------------------------------------------------------------------- reporting


def trial_records(study, space: SearchSpace) -> list[dict]:
    """One record per trial of the study (those never trained left out: duplicates, beyond --trials)."""
    trials = study.get_trials(deepcopy=False)
    retried_as = {t.system_attrs["retry_history"][-1]: t.number for t in trials if t.system_attrs.get("retry_history")}
    holders = {params_key(t, space): t.number for t in reversed(counted_trials(trials))}  # the earliest of each
    records = []
    for t in trials:
        attrs = t.user_attrs
        refused, key = "duplicate_of" in attrs or "surplus" in attrs, params_key(t, space)  # by claim_place; or
        if refused or (t.state.name == "RUNNING" and key is not None and holders[key] < t.number):  # about to be
            continue
        val = t.value
        if t.state.name == "PRUNED" and t.intermediate_values:
            val = max(t.intermediate_values.values())
        state, error = STATES.get(t.state.name, t.state.name.lower()), attrs.get("error")
        if attrs.get("interrupted"):
            state = "interrupted"
        elif t.number in retried_as:  # failed by Optuna's heartbeat check: its worker went silent
            state, error = "interrupted", f"its worker stopped (no heartbeat); retried as trial {retried_as[t.number]}"
        elif t.state.name == "FAIL" and error is None:
            error = "its worker stopped (no heartbeat), too often to retry"
        records.append(
            {
                "number": t.number,
                "state": state,
                "params": {**attrs.get("fixed", space.fixed), **t.params},
                **{key: attrs.get(key) for key in ("train_acc", "seconds", "pruned_epoch")},
                "val_acc": val,
                "diverged": attrs.get("diverged", False),
                "error": error,
                "user_attrs": attrs,
            }
        )
    return records


def write_report(
    out: Path, records: list[dict], space: SearchSpace, lang: str, strategy: str, analysis: bool = True
) -> None:
    def border(name, value):
        return name in space.params and space.params[name].on_border(value)

    with atomic_open(out / "results.csv", "w") as f:
        f.write(results_csv(records))
    title = {
        "en": f"# Hyperparameter search ({strategy}, {len(records)} trials)",
        "ko": f"# 하이퍼파라미터 탐색 ({strategy}, trial {len(records)}개)",
    }[lang]
    with atomic_open(out / "results.md", "w") as f:
        table, text = lab_table(records, lang, border, analysis), summary(records, lang, border, analysis)
        f.write(f"{title}\n\n{table}\n\n{text}\n")
    finished = [r for r in records if r["val_acc"] is not None and not r["diverged"]]
    points = {
        n: ([r["params"][n] for r in finished], [r["val_acc"] for r in finished], p.log)
        for n, p in space.params.items()
    }
    save_figure(plot_against_params(points, lang), out / "val_acc_vs_params.png")
    best = best_record(records)
    if best is not None:
        attrs = best["user_attrs"]
        accuracy = plot_accuracy(attrs["train_acc_history"], attrs["val_acc_history"], lang)
        save_figure(accuracy, out / "best_accuracy.png")
        save_figure(plot_loss(attrs["epoch_loss"], 1, unit="epoch", lang=lang), out / "best_loss.png")


REPORT_TITLES = ("# Hyperparameter search (", "# 하이퍼파라미터 탐색 (")  # write_report's first line


def check_out_files(out: Path, retrain: bool) -> None:
    """Refuse, before the study is opened, an --out whose files tune.py would replace but did not write.

    A results.md that does not start with the report's title is the user's: tune.py will not overwrite
    it (the report's name is fixed, so writing beside it would hide the table where nobody looks).
    Files in best-run/ that are not a run's: the retrain replaces that folder, so they would be deleted
    (or, left there, mixed into the new run). UsageError naming them.
    """
    report = out / "results.md"
    if os.path.lexists(report):
        own = False
        if report.is_file():  # never open a FIFO or a device
            with open(report, "rb") as f:
                own = f.read(200).decode("utf-8", "replace").startswith(REPORT_TITLES)
        if not own:
            raise UsageError(
                f"--out {out}: holds a results.md that tune.py did not write; move it, or give another --out "
                "(tune.py writes its report there)"
            )
    best_run = out / "best-run"
    if retrain and os.path.lexists(best_run):
        if not best_run.is_dir():
            raise UsageError(f"--out {out}: best-run is not a folder; move it (the best run is retrained there)")
        foreign = sorted(
            p.name for p in best_run.iterdir() if p.name not in (*RUN_FILES, CLAIM) and not p.name.endswith(".tmp")
        )
        if foreign:
            raise UsageError(
                f"--out {out}: best-run/ holds {', '.join(foreign[:4])}{', ...' if len(foreign) > 4 else ''}, "
                "which tune.py did not write; move them out (best-run/ is replaced by each retrain) or pass "
                "--no-retrain"
            )


def retrain_best(args, records: list[dict], out: Path) -> tuple[int, dict | None]:
    """Retrain the best configuration with its seed as a train.py run in out/best-run; -> (exit code, metrics).

    The code is train.py's: 0, 1 for a failure (named on stderr by the run), 130/143 for Ctrl-C/SIGTERM.
    Metrics are None unless the run completed. No finished trial: (0, None).
    """
    best = best_record(records)
    if best is None:
        return 0, None
    config = trial_config({key: value for key, value in best["params"].items() if key in NAMES}, args)
    data = load_splits(config, args.data_dir)
    record = {
        **config.to_dict(),
        "recipe": None,
        "data": data["source"],
        "command": ["tune.py", "retrain best"],
        "versions": library_versions(),
    }
    _, claim = claim_out(out / "best-run", overwrite=True)  # a resumed study retrains its (new) best
    try:
        code = train_run(config, data, out / "best-run", record, quiet=True, lang=args.lang)
    finally:
        release_claim(claim)  # however the retrain ended: the folder is free again
    if code != 0:
        return code, None
    return 0, load_json(out / "best-run" / "metrics.json")
