"""One training run from a Config: load the data, train either implementation, score it, write the run folder.

A run folder holds config.json (the settings, the command, library versions, where the data was
read from and its md5s), history.csv (loss and learning rate per update, accuracies where they
were checked), metrics.json (status: running, completed, interrupted or failed; accuracies and
timings), model.npz (the best-validation weights and the input preprocessing, lab layout) and the
plots loss.png, accuracy.png, weights.png and confusion.png. Every file is written atomically.

While training, every accuracy check rewrites history.csv, model.npz (when validation improved)
and metrics.json (with the process id and a heartbeat), so a run killed outright keeps its best
model; ``read_status`` then reports it as "died". SIGTERM is handled as Ctrl-C is, from the projection on.

Before anything is written, train.py claims the folder (``claim_folder``: .claim.json, created with
O_EXCL), and removes the claim when the run ends, so two runs never write one folder; a killed run's
claim is taken over.

The Solver also writes its newest checkpoint to checkpoint/ after every accuracy check, so a run
that was killed or interrupted continues with ``train.py --resume RUN_DIR`` (``resume_point``) and
ends with the numbers of an uninterrupted run; a completed run's checkpoint is removed.
"""

from __future__ import annotations

import csv
import importlib.metadata
import io
import json
import math
import os
import platform
import shutil
import socket
import sys
import tempfile
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from common.artifacts import atomic_open, load_json, load_model, save_json, save_model, writable_folder
from common.cifar10 import CLASS_NAMES, IMAGE_SHAPE, get_CIFAR10_data, load_raw_cifar10
from common.config import LAB_TEST_SIZE, NUM_TEST, NUM_VALIDATION, Config
from common.lab_folder import impl_name, is_student_impl
from common.plots import confusion_matrix, plot_accuracy, plot_confusion, plot_loss, plot_weights, save_figure
from common.preprocess import preprocess
from common.runtime import STALE_AFTER_SECONDS, process_identity, recorded_process_alive
from common.signals import DeferredSignals, Interrupted, exit_code, held, raising
from experiment.models import (
    NUM_CLASSES,
    best_params,
    make_model,
    make_solver,
    model_from_params,
    model_params,
    predict,
)
from experiment.progress import Progress
from experiment.student import StudentCodeError, describe_error


def load_splits(config: Config, data_dir: str | None = None, num_test: int = NUM_TEST) -> dict:
    """The lab's splits for the config (its num_train, dtype and preprocessing): X_train, y_train, X_val, ..."""
    return get_CIFAR10_data(
        num_training=config.num_train,
        num_validation=NUM_VALIDATION,
        num_test=num_test,
        dtype=np.dtype(config.dtype),
        root=data_dir,
        preprocessing=config.preprocessing,
        zca_epsilon=config.zca_epsilon,
        with_source=True,
    )


def fit(config: Config, data: dict, **hooks):
    """Train a fresh model on data with the config's settings -> (solver, diverged: bool). hooks: on_epoch, ...

    A diverging run (non-finite loss) stops and keeps its histories; the model holds its best params.
    """
    model = make_model(config, data["X_train"])
    solver = make_solver(config, model, data, verbose=False, **hooks)
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            solver.train()
    except FloatingPointError:  # both implementations' TrainingDivergedError
        solver.restore_best_params()
        return solver, True
    return solver, False


def library_versions() -> dict:
    """Python, NumPy, torch (read from its metadata: a NumPy run does not import it), platform and cores."""
    versions = {"python": platform.python_version(), "numpy": np.__version__, "platform": platform.platform()}
    try:
        versions["torch"] = importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        pass
    if "torch" in sys.modules:
        versions["torch_threads"] = sys.modules["torch"].get_num_threads()
    versions["cpu_count"] = os.cpu_count()
    return versions


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def default_out(impl: str) -> Path:
    """runs/<impl>-<timestamp> (a student's folder: its name, common.lab_folder.impl_name), with a suffix if that
    folder exists."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    impl = impl_name(impl)
    out = Path("runs") / f"{impl}-{stamp}"
    suffix = 1
    while out.exists():
        suffix += 1
        out = Path("runs") / f"{impl}-{stamp}-{suffix}"
    return out


# ----------------------------------------------------------------------------- the run folder

RUN_FILES = (
    "config.json",
    "metrics.json",
    "history.csv",
    "model.npz",
    "loss.png",
    "accuracy.png",
    "weights.png",
    "confusion.png",
    "tensorboard",
    "checkpoint",
)
CHECKPOINTS = "checkpoint"  # the run folder's subfolder for the Solver's checkpoints: solver_epoch_<e>.npz/.json
CLAIM = ".claim.json"  # who is writing the run folder now (claim_folder): created with O_EXCL, removed at the end
CLAIM_BEING_WRITTEN_SECONDS = 10  # an empty claim younger than this is another run's, being written


def read_claim(path: Path) -> dict | None:
    """A claim file's record: None when it does not exist, {} when it is empty or unreadable (being written)."""
    try:
        with open(path, encoding="utf-8") as f:
            record = json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def claim_alive(path: Path, holder: dict) -> bool:
    """Whether the run that claimed a folder (its claim file at ``path`` holds ``holder``) still runs.

    Same host: its process is checked. Another host: the claim's or metrics.json's last change must be
    younger than STALE_AFTER_SECONDS. An empty claim is alive for its first seconds (being written)."""
    try:
        times = [path.stat().st_mtime]
    except OSError:
        return False  # released meanwhile
    if not holder:
        return time.time() - times[0] < CLAIM_BEING_WRITTEN_SECONDS
    pid = holder.get("pid")
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False
    try:
        times.append((path.parent / "metrics.json").stat().st_mtime)  # rewritten at every accuracy check
    except OSError:
        pass
    identity = holder.get("process_start")
    return recorded_process_alive(holder.get("host"), pid, identity if isinstance(identity, str) else None, max(times))


def claim_folder(out: Path, flag: str = "--out", overwrite: bool = False) -> Path:
    """Claim run folder ``out`` for this process before anything is written to it; -> the claim file.

    The claim (CLAIM: pid, host, process identity, when, the command) is created with O_EXCL, so of
    two runs on one folder exactly one gets it; the other is refused (ValueError naming ``flag`` and
    the live run). A claim whose process has ended (killed outright) is taken over. ``release_claim``
    removes it when the run ends.
    """
    path = out / CLAIM
    pid = os.getpid()
    record = {
        "pid": pid,
        "host": socket.gethostname(),
        "process_start": process_identity(pid),
        "claimed_at": now(),
        "command": sys.argv,
    }
    for _ in range(10):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            holder = read_claim(path)
            if holder is None:  # released meanwhile: try again
                continue
            if claim_alive(path, holder):
                who = (
                    f"process {holder.get('pid')} on {holder.get('host')}, since {holder.get('claimed_at')}"
                    if holder
                    else "a run starting now"
                )
                raise ValueError(
                    f"{flag} {out}: in use by a run that is still running ({who}); "
                    + ("--overwrite does not replace a live run: " if overwrite else "")
                    + "wait for it to end or stop it, or give another folder"
                ) from None
            take_over_stale_claim(path, holder)
            continue
        except OSError as err:
            raise ValueError(f"{flag} {out}: cannot claim the folder for this run ({err.strerror or err})") from None
        try:
            os.write(fd, (json.dumps(record) + "\n").encode())
        except OSError as err:
            os.close(fd)
            path.unlink(missing_ok=True)
            raise ValueError(f"{flag} {out}: cannot claim the folder for this run ({err.strerror or err})") from None
        os.close(fd)
        return path
    raise ValueError(f"{flag} {out}: cannot claim the folder: other processes keep claiming it")


def take_over_stale_claim(path: Path, holder: dict) -> None:
    """Remove the claim ``holder`` of a run that has ended, and only it (another process may be doing the same)."""
    aside = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        os.rename(path, aside)
    except FileNotFoundError:
        return  # another process removed it first
    if read_claim(aside) != holder:  # another process had taken it over meanwhile: give its claim back
        try:
            os.link(aside, path)
        except OSError:
            pass
    aside.unlink(missing_ok=True)


def release_claim(path: Path | None) -> None:
    """Remove a claim made by claim_folder, if it is still this process's."""
    if path is None:
        return
    holder = read_claim(path)
    if holder and holder.get("pid") == os.getpid() and holder.get("process_start") == process_identity(os.getpid()):
        path.unlink(missing_ok=True)


def claim_out(out: Path, overwrite: bool = False) -> tuple[bool, Path]:
    """Claim ``out`` (claim_folder), then check it can receive a new run (prepare_out); -> (created, the claim).

    Refuses (ValueError) a folder another live run has claimed, or, with ``overwrite``, one whose
    metrics.json says its run still runs. Nothing is left behind when refused.
    """
    created = writable_folder(out)  # refuses a file, or a place nothing can be written
    claim = None
    try:
        claim = claim_folder(out, "--out", overwrite)
        if (out / "metrics.json").is_file():
            try:
                status = read_status(out)
            except ValueError:
                status = {}
            if isinstance(status, dict) and status.get("status") == "running":
                raise ValueError(
                    f"--out {out}: its run is still running (process {status.get('pid')} on {status.get('host')}); "
                    "--overwrite does not replace a live run: stop it first, or give another folder"
                )
        prepare_out(out, overwrite)
    except BaseException:
        release_claim(claim)
        if created and not any(out.iterdir()):
            out.rmdir()
        raise
    return created, claim


def prepare_out(out: Path, overwrite: bool = False) -> bool:
    """Check, before any data is loaded, that ``out`` can receive a new run; -> whether the folder was created.

    Refuses (ValueError, naming --out) a file, a folder that cannot be written, and a folder that
    already holds files; with ``overwrite``, a previous run's files are removed first (and any
    other files are refused), so the folder never mixes two runs.
    """
    created = writable_folder(out)  # refuses a file, or a place nothing can be written
    existing = sorted(path.name for path in out.iterdir() if path.name != CLAIM)  # the claim is this run's own
    if existing and not overwrite:
        raise ValueError(
            f"--out {out}: already holds {', '.join(existing[:4])}{', ...' if len(existing) > 4 else ''}; "
            "give a new folder, or pass --overwrite to replace the run in it"
        )
    foreign = [name for name in existing if name not in RUN_FILES and not name.endswith(".tmp")]
    if foreign:
        raise ValueError(
            f"--out {out}: --overwrite replaces a run folder's files, but this folder also holds "
            f"{', '.join(foreign[:4])}; give a new folder"
        )
    for name in ("metrics.json", *(name for name in existing if name != "metrics.json")):  # the status first
        path = out / name
        try:
            shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
        except OSError as err:
            raise ValueError(f"--out {out}: cannot remove the previous run's {name} ({err.strerror})") from None
    return created


def read_status(folder: str | Path) -> dict:
    """A run folder's metrics.json, with status "died" for a run still marked running whose process is gone.

    Same host: the recorded process is checked. Another host: the heartbeat must be younger than
    STALE_AFTER_SECONDS and than three of the run's epochs. Raises ValueError for a missing file.
    """
    metrics = load_json(Path(folder) / "metrics.json")
    if not isinstance(metrics, dict) or metrics.get("status") != "running" or "pid" not in metrics:
        return metrics
    pid, identity, seconds_per_epoch = metrics["pid"], metrics.get("process_start"), metrics.get("seconds_per_epoch")
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:  # no process can be checked: none runs
        return {**metrics, "status": "died"}
    if not isinstance(seconds_per_epoch, (int, float)) or not math.isfinite(seconds_per_epoch):
        seconds_per_epoch = 0
    try:
        heartbeat = datetime.fromisoformat(metrics.get("heartbeat_at") or metrics.get("started_at")).timestamp()
    except (TypeError, ValueError, OverflowError):  # no heartbeat recorded, or not a time
        heartbeat = None
    alive = recorded_process_alive(
        metrics.get("host") if isinstance(metrics.get("host"), str) else None,
        pid,
        identity if isinstance(identity, str) else None,
        heartbeat,
        stale_after=max(STALE_AFTER_SECONDS, 3 * seconds_per_epoch),
    )
    return metrics if alive else {**metrics, "status": "died"}


def solver_checkpoint_name(out: Path) -> Path:
    """The Solvers' ``checkpoint_name`` for a run folder: they write <prefix>_epoch_<e>.npz and .json."""
    return out / CHECKPOINTS / "solver"


def newest_checkpoint(out: Path) -> Path | None:
    """The run folder's newest complete checkpoint (its .json, beside its .npz), or None."""
    prefix = solver_checkpoint_name(out)
    epochs = []
    for path in prefix.parent.glob(f"{prefix.name}_epoch_*.json"):
        epoch = path.stem.rsplit("_", 1)[1]
        if epoch.isdigit() and path.with_suffix(".npz").is_file():
            epochs.append((int(epoch), path))
    return max(epochs)[1] if epochs else None


def resume_point(out: Path) -> tuple[Config, dict, Path]:
    """What ``train.py --resume out`` continues: (the run's Config, its config.json, its newest checkpoint).

    Raises ValueError, naming --resume, for a folder that is not a run, a run that completed, one
    that is still running, and one with no checkpoint.
    """
    where = f"--resume {out}"
    if not (out / "config.json").is_file() or not (out / "metrics.json").is_file():
        raise ValueError(f"{where}: not a run folder (a run folder holds config.json and metrics.json)")
    record = load_json(out / "config.json")
    if not isinstance(record, dict):
        raise ValueError(f"{where}: config.json holds {type(record).__name__}, expected a JSON object of settings")
    config = Config.from_run(record)
    status = read_status(out)
    if status.get("status") == "completed":
        raise ValueError(f"{where}: the run completed; there is nothing to resume (--eval scores it)")
    if status.get("status") == "running":
        raise ValueError(
            f"{where}: the run is still running (process {status.get('pid')} on {status.get('host')}); "
            "stop it first, then resume"
        )
    checkpoint = newest_checkpoint(out)
    if checkpoint is None:
        raise ValueError(
            f"{where}: no checkpoint in {out / CHECKPOINTS} to resume from (the run stopped before its first "
            "accuracy check); start it again with --out and --overwrite"
        )
    return config, record, checkpoint


class RunFolder:
    """Everything written to the run folder, always atomically, from the first second of the run.

    A new run (``record``: its config.json) starts the folder; a resumed one (``record`` None) keeps
    config.json, history and model, and marks metrics.json running again with when it resumed.
    """

    def __init__(self, out: Path, record: dict | None):
        self.out = out
        pid = os.getpid()
        started = now() if record is not None else load_json(out / "metrics.json").get("started_at")
        self.metrics: dict = {
            "status": "running",
            "started_at": started,
            **({} if record is not None else {"resumed_at": now()}),
            "heartbeat_at": now(),
            "host": socket.gethostname(),
            "pid": pid,
            "process_start": process_identity(pid),
        }
        self.saved_check: int | None = None  # the accuracy check whose best model is in model.npz
        self.first_iteration = 0  # the iteration this process started at (a resumed run's checkpoint)
        out.mkdir(parents=True, exist_ok=True)
        if record is not None:
            save_json(out / "config.json", record)
        save_json(out / "metrics.json", self.metrics)

    def resumed(self, solver) -> None:
        """The solver continues from a checkpoint: note where, so timings count only what this process trains."""
        self.first_iteration = len(solver.loss_history)
        self.saved_check = None  # a kill may have come between the checkpoint and model.npz: write it at the next check
        self.metrics["resumed_from_epoch"] = solver.epoch
        save_json(self.out / "metrics.json", self.metrics)

    def checkpoint(self, solver, impl: str, preprocessing: dict, started: float) -> None:
        """After an accuracy check: history, the best model if it changed, and a heartbeat in metrics.json."""
        self.write_history(solver)
        best_check = int(np.argmax(solver.val_acc_history))
        if best_check != self.saved_check:
            save_model(self.out / "model.npz", best_params(impl, solver), preprocessing)
            self.saved_check = best_check
        seconds = time.perf_counter() - started
        epochs_trained = (len(solver.loss_history) - self.first_iteration) / solver.iterations_per_epoch
        self.metrics.update(
            heartbeat_at=now(),
            epochs_completed=solver.epoch,
            iterations_completed=len(solver.loss_history),
            best_val_acc_so_far=solver.best_val_acc,
            seconds_per_epoch=round(seconds / epochs_trained, 3) if solver.epoch and epochs_trained else None,
        )
        save_json(self.out / "metrics.json", self.metrics)

    def write_history(self, solver) -> None:
        """history.csv: one row per update (loss, learning rate), accuracies on the rows where they were checked."""
        checked = {
            iteration: accuracies
            for iteration, accuracies in zip(
                solver.accuracy_iterations, zip(solver.train_acc_history, solver.val_acc_history)
            )
        }
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["iteration", "epoch", "loss", "learning_rate", "train_acc", "val_acc"])
        for t, (loss, lr) in enumerate(zip(solver.loss_history, solver.lr_history), start=1):
            train_acc, val_acc = checked.get(t, ("", ""))
            writer.writerow(
                [t, (t - 1) // solver.iterations_per_epoch + 1, f"{loss:.6g}", f"{lr:.6g}", train_acc, val_acc]
            )
        with atomic_open(self.out / "history.csv", "w") as f:
            f.write(buffer.getvalue())

    def finish(self, status: str, **metrics) -> None:
        self.metrics.update(status=status, finished_at=now(), **metrics)
        save_json(self.out / "metrics.json", self.metrics)


def test_accuracies(impl: str, model, X_test: np.ndarray, y_test: np.ndarray, tta: bool = False) -> dict:
    """Accuracy on the lab's test split (the first 1,000) and on all of X_test, plus the predictions (test_pred)."""
    test_pred = predict(impl, model, X_test, tta=tta)
    return {
        "test_acc_1k": float(np.mean(test_pred[:LAB_TEST_SIZE] == y_test[:LAB_TEST_SIZE])),
        "test_acc_10k": float(np.mean(test_pred == y_test)),
        "test_pred": test_pred,
    }


def train_run(
    config: Config,
    data: dict,
    out: Path,
    record: dict,
    quiet: bool = False,
    tensorboard: bool = False,
    data_seconds: float = 0.0,
    lang: str = "en",
    resume: Path | None = None,
) -> int:
    """Train with config on data, writing the run folder out (config.json gets ``record``); -> exit code.
    ``lang`` ("en" or "ko") labels the plots. ``resume``: a checkpoint of this run (``resume_point``) to
    continue from, in its folder ``out``; its config.json is kept and ``record`` unused.

    Ctrl-C and SIGTERM stop training and keep everything so far (exit 130 / 143).
    """
    run = None
    with raising() as stop_if_raised:  # SIGTERM stops training as Ctrl-C does, even if a library swallowed it
        train_started = time.perf_counter()  # the projection (pca_components), if any, counts as training
        try:
            try:  # a resumed run's folder is rewritten only once its checkpoint loads
                run = RunFolder(out, record) if resume is None else None
            except OSError as err:  # nothing trained yet, nothing lost
                print(f"train.py: error: {err}", file=sys.stderr, flush=True)
                return 1
            model = make_model(config, data["X_train"])
            hooks = [Progress(quiet)]
            if tensorboard:
                from experiment.tensorboard import TensorBoardLogger

                hooks.append(TensorBoardLogger(out / "tensorboard", lambda m: model_params(config.impl, m)))

            def on_epoch(solver) -> None:
                run.checkpoint(solver, config.impl, data["preprocessing"], train_started)  # saved before it is shown
                for hook in hooks:
                    hook.on_epoch(solver)

            solver = make_solver(
                config,
                model,
                data,
                verbose=False,
                checkpoint_name=str(solver_checkpoint_name(out)),
                on_iteration=lambda s: [stop_if_raised(), *(hook.on_iteration(s) for hook in hooks)],
                on_epoch=on_epoch,
            )
            if resume is not None:
                try:
                    solver.load_checkpoint(resume)
                    run = RunFolder(out, None)
                except (OSError, ValueError) as err:  # unreadable, not this run's, or the folder is not writable
                    print(f"train.py: error: --resume: cannot load {resume}: {err}", file=sys.stderr, flush=True)
                    return 1  # the run folder is left as the killed run left it
                run.resumed(solver)
            stop_if_raised()
        except KeyboardInterrupt as interrupt:  # Ctrl-C or SIGTERM during the projection: nothing trained yet
            return stopped_before_training(run, config, out, interrupt, resume is not None)
        except StudentCodeError as err:  # a student's TwoLayerNet or Solver raised while being built
            return student_failed_before_training(run, out, err)
        status, error, code = "completed", None, 0
        try:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # divergence is reported below
                solver.train()
        except KeyboardInterrupt as interrupt:  # Ctrl-C or SIGTERM
            status, code = "interrupted", exit_code(interrupt)
        except FloatingPointError as err:  # both implementations' TrainingDivergedError
            status, error, code = "failed", str(err), 1
        except OSError as err:  # a checkpoint could not be written: the disk is full, the folder went away, ...
            status, error, code = "failed", str(err), 1
        except Exception as err:  # a bug: record it in the run, then report it
            status, error, code = "failed", f"{type(err).__name__}: {err}", 1
            if is_student_impl(config.impl):  # the student's code: where it raised, in one line
                error = describe_error(err, config.impl)
            run.metrics["traceback"] = traceback.format_exc()
        finally:
            for hook in hooks:
                hook.close()
        train_seconds = time.perf_counter() - train_started

        with DeferredSignals() as signals:  # a signal now stops the final steps between two, never inside one
            try:
                timings = (train_seconds, data_seconds)
                code = finish_run(run, config, solver, data, status, error, code, *timings, lang=lang, signals=signals)
            except OSError as err:  # the disk filled up (or the folder vanished) while saving
                code = save_elsewhere(run, config, solver, data, err)
    return code


def stopped_before_training(
    run: RunFolder | None, config: Config, out: Path, interrupt: BaseException, resumed: bool = False
) -> int:
    """Ctrl-C or SIGTERM before the first update (while projecting onto the principal directions): the run is
    marked interrupted, saying where it stopped, in one line; -> the signal's exit code (130 / 143)."""
    where = (
        f"before training, while projecting onto the top {config.pca_components} principal directions"
        if config.pca_components
        else "before training, while building the model"
    )
    code = exit_code(interrupt)
    try:
        with held():  # the status is written whole; a second signal meanwhile is delivered after it
            if run is not None:
                run.finish("interrupted", error=f"stopped {where}")
    except KeyboardInterrupt:
        pass
    except OSError as err:
        print(f"train.py: error: interrupted {where}; {err}", file=sys.stderr, flush=True)
        return code
    kept = (
        f"no update was made; {out} says interrupted"
        if run is not None
        else f"{out} is left as it was"
        if resumed
        else f"no update was made, no model saved in {out}"
    )
    print(f"train.py: interrupted {where}: {kept}", file=sys.stderr, flush=True)
    return code


def student_failed_before_training(run: RunFolder | None, out: Path, err: StudentCodeError) -> int:
    """A student's model or Solver raised while being built: the run is marked failed, one line says where; -> 1."""
    if run is not None:
        run.metrics["traceback"] = "".join(traceback.format_exception(err.__cause__ or err))
        try:
            run.finish("failed", error=str(err))
        except OSError:
            pass
    kept = f"{out} says failed" if run is not None else f"{out} is left as it was"
    print(f"train.py: error: your lab raised before training: {err}; {kept}", file=sys.stderr, flush=True)
    return 1


def save_elsewhere(run: RunFolder, config: Config, solver, data: dict, err: OSError) -> int:
    """The run folder cannot be written: put the best weights in a temp folder, record what was lost; -> 1."""
    params = best_params(config.impl, solver)
    lost = f"{err}"
    if params is not None:
        try:
            rescue = Path(tempfile.mkdtemp(prefix="two-layer-net-rescue-"))
            save_model(rescue / "model.npz", params, data["preprocessing"])
            lost += f"; the best weights were saved to {rescue / 'model.npz'} instead"
        except OSError as rescue_err:
            lost += f"; the trained weights are lost (saving them to a temp folder failed too: {rescue_err})"
    try:
        run.finish("failed", error=lost)
    except OSError:
        lost += f"; {run.out / 'metrics.json'} still says running"
    print(f"train.py: error: {lost}", file=sys.stderr, flush=True)
    return 1


def finish_run(
    run: RunFolder,
    config: Config,
    solver,
    data: dict,
    status: str,
    error: str | None,
    code: int,
    train_seconds: float,
    data_seconds: float,
    lang: str = "en",
    signals: DeferredSignals | None = None,
) -> int:
    """Write history, best model, metrics and plots for a run that ended with ``status``; returns ``code``.

    A signal noted in ``signals`` stops it after the step it came in (saving, scoring, a plot): the run is
    then "interrupted" while that step, with what was done kept, and the signal's exit code is returned.
    Raises OSError (ArtifactWriteError) when a file cannot be written.
    """
    stopped_while = ""

    def stop_after(step: str) -> bool:  # a safe point: was a signal noted during step (or before)?
        nonlocal stopped_while
        if not stopped_while and signals is not None and signals.pending:
            stopped_while = step
        return bool(stopped_while)

    out = run.out
    run.write_history(solver)
    iterations = len(solver.loss_history)
    trained = iterations - run.first_iteration  # by this process: a resumed run's timings count from its checkpoint
    timing = {
        "train_seconds": round(train_seconds, 3),
        "data_seconds": round(data_seconds, 3),
        "iterations_completed": iterations,
        "epochs_completed": solver.epoch,
        "seconds_per_epoch": round(train_seconds / (trained / solver.iterations_per_epoch), 3) if trained else None,
        "images_per_second": round(trained * solver.batch_size / train_seconds, 1) if trained else None,
    }
    if not solver.val_acc_history:
        run.finish(status, error=error, **timing)
        print(
            f"train.py: {status} before the first accuracy check: {error or 'nothing to save'}; see {out}",
            file=sys.stderr,
        )
        return code

    solver.restore_best_params()  # train() does this when it finishes; a run cut short has not
    impl, model = config.impl, solver.model
    params = model_params(impl, model)
    save_model(out / "model.npz", params, data["preprocessing"])
    best_check = int(np.argmax(solver.val_acc_history))
    results = {
        "val_acc": solver.best_val_acc,
        "best_epoch": best_check,
        "best_iteration": solver.accuracy_iterations[best_check],
        "train_acc": solver.train_acc_history[best_check],
    }
    test_pred = None
    if not stop_after("saving the model"):
        scored = test_accuracies(impl, model, data["X_test"], data["y_test"])
        test_pred = scored.pop("test_pred")
        results.update(scored)
    if config.tta and not stop_after("scoring the test set"):
        results["val_acc_tta"] = float(np.mean(predict(impl, model, data["X_val"], tta=True) == data["y_val"]))
        scored = test_accuracies(impl, model, data["X_test"], data["y_test"], tta=True)
        results.update({f"{key}_tta": value for key, value in scored.items() if key != "test_pred"})
    figures = {
        "loss.png": lambda: plot_loss(solver.loss_history, solver.iterations_per_epoch, lang=lang),
        "accuracy.png": lambda: plot_accuracy(solver.train_acc_history, solver.val_acc_history, lang),
        "weights.png": lambda: plot_weights(params["W1"], lang=lang),
        "confusion.png": lambda: plot_confusion(
            confusion_matrix(data["y_test"], test_pred, len(CLASS_NAMES)), CLASS_NAMES, lang
        ),
    }
    done = "scoring the test set with flips" if config.tta else "scoring the test set"
    for name, draw in figures.items():
        if stop_after(done):
            break
        save_figure(draw(), out / name)
        done = f"plotting {name}"
    if stop_after(done) and status == "completed":  # (a run already failed or interrupted keeps its status)
        status, code = "interrupted", exit_code(Interrupted(signals.pending[0]))
        error = f"stopped while {stopped_while}; train.py --resume {out} finishes the evaluation"
    run.finish(status, error=error, **results, **timing)  # last: a run cut short before this still says "running"
    if status == "completed":  # nothing left to resume
        shutil.rmtree(out / CHECKPOINTS, ignore_errors=True)
    if stopped_while:
        print(f"train.py: interrupted: {error}; the best model is in {out}/", file=sys.stderr, flush=True)
        return code

    summary = (
        f"val acc {results['val_acc']:.4f} (epoch {best_check})  test-1k {results['test_acc_1k']:.4f}  "
        f"test-10k {results['test_acc_10k']:.4f}"
        + (
            f"  |  with flip TTA: val {results['val_acc_tta']:.4f}  test-1k {results['test_acc_1k_tta']:.4f}  "
            f"test-10k {results['test_acc_10k_tta']:.4f}"
            if config.tta
            else ""
        )
        + f"  |  {timing['seconds_per_epoch']}s/epoch, "
        f"{timing['images_per_second'] or 0:.0f} images/s, {train_seconds:.1f}s training"
    )
    if status == "completed":
        print(f"done: {summary}\nsaved to {out}/", flush=True)
    elif status == "interrupted":
        print(
            f"interrupted after {iterations} iterations; history and the best model so far are in {out}/ ({summary})",
            file=sys.stderr,
            flush=True,
        )
    else:
        print(
            f"train.py: training failed: {error.rstrip('.')}; the run up to that point is in {out}/",
            file=sys.stderr,
            flush=True,
        )
    return code


def evaluate(target: str | Path, impl: str, device: str = "cpu", data_dir: str | None = None, tta: bool = False) -> str:
    """Validation and test accuracy of a saved model (a run folder or a model.npz), as one line.

    Raises ValueError (naming the file) for a model, a config.json or data that cannot be read or
    do not fit CIFAR-10. A run that did not complete is named in the line with its status.
    """
    target = Path(target)
    model_path = target / "model.npz" if target.is_dir() else target
    params, preprocessing = load_model(model_path, input_size=math.prod(IMAGE_SHAPE), num_classes=NUM_CLASSES)
    num_train, status = Config().num_train, None
    config_path = model_path.parent / "config.json"
    if config_path.is_file():  # evaluate on the run's own validation split
        recorded = load_json(config_path)
        if not isinstance(recorded, dict):
            raise ValueError(f"{config_path}: expected a JSON object of settings, got {type(recorded).__name__}")
        num_train = Config.from_run(recorded).num_train
    if (model_path.parent / "metrics.json").is_file():
        status = read_status(model_path.parent)
    raw = load_raw_cifar10(data_dir)
    model = model_from_params(impl, params, device)
    dtype = params["W1"].dtype

    val_rows = slice(num_train, num_train + NUM_VALIDATION)
    X_val = preprocess(raw.x_train[val_rows], preprocessing, dtype)
    X_test = preprocess(raw.x_test, preprocessing, dtype)
    line = f"{model_path} ({impl}, {dtype}, H={params['W1'].shape[1]}):"
    for flip_average in (False, True) if tta else (False,):
        val_acc = float(np.mean(predict(impl, model, X_val, tta=flip_average) == raw.y_train[val_rows]))
        results = test_accuracies(impl, model, X_test, raw.y_test, tta=flip_average)
        line += (
            f"{'  | with flip TTA:' if flip_average else ''} val acc {val_acc:.4f}  "
            f"test-1k {results['test_acc_1k']:.4f}  test-10k {results['test_acc_10k']:.4f}"
        )
    if isinstance(status, dict) and status.get("status") != "completed":
        ended = {"running": "is still running", "interrupted": "was interrupted"}.get(status.get("status"))
        line += (
            f"  [the run {ended or status.get('status')} after epoch {status.get('epochs_completed', 0)}: "
            "this is its best model so far]"
        )
    return line
