#!/usr/bin/env python
"""Train the two-layer net on CIFAR-10 with either implementation, and save everything about the run.

    python train.py --impl numpy                 # the defaults: >= 50% val and test in under 2 minutes
    python train.py --impl torch --num-train 5000 --num-epochs 3
    python train.py --recipe best                # ZCA, flips + crops, H=4096, Nesterov + cosine: >= 66% test
    python train.py --eval runs/numpy-20261130-120000 [--impl torch] [--tta]

A run folder (--out, default runs/<impl>-<timestamp>) receives config.json, history.csv,
metrics.json (status: running, completed, interrupted or failed), model.npz and the plots
loss.png, accuracy.png, weights.png and confusion.png.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import os
import platform
import signal
import sys
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

import numpy_impl
from numpy_impl.artifacts import atomic_open, load_json, load_model, save_json, save_model
from numpy_impl.data_utils import CLASS_NAMES, CIFAR10NotFoundError, get_CIFAR10_data, load_raw_cifar10
from numpy_impl.augment import flip_images
from numpy_impl.optim import UPDATE_RULES
from numpy_impl.preprocess import PREPROCESSINGS, preprocess
from numpy_impl.schedules import LR_SCHEDULES
from numpy_impl.runtime import retain_freed_memory
from numpy_impl.solver import TrainingDivergedError
from numpy_impl.vis_utils import confusion_matrix, plot_accuracy, plot_confusion, plot_loss, plot_weights, save_figure

NUM_VALIDATION, NUM_TEST = 1000, 10_000
LAB_TEST_SIZE = 1000  # the lab's test split: the first 1,000 test images
# Chosen by measurement on this project's 2-core reference machine (README, "Choosing the defaults").
DEFAULTS = {
    "impl": "numpy", "hidden_size": 500, "learning_rate": 1e-4, "lr_decay": 0.95, "num_epochs": 10,
    "batch_size": 200, "reg": 0.0, "update_rule": "sgd_momentum", "weight_scale": 1e-3, "seed": 0,
    "dtype": "float32", "num_train": 49_000, "device": "cpu",
    # Beyond the lab (README, "Beyond the lab"): all off by default.
    "preprocessing": "mean_image", "zca_epsilon": 0.1, "flip": False, "crop_padding": 0, "lr_schedule": "step",
    "warmup_epochs": 0.0, "weight_decay": 0.0, "label_smoothing": 0.0, "dropout": 0.0, "tta": False,
}
# Named settings for --recipe; flags given on the command line override them.
RECIPES = {
    "best": {"hidden_size": 4096, "preprocessing": "zca", "zca_epsilon": 0.1, "flip": True, "crop_padding": 4,
             "update_rule": "sgd_nesterov", "batch_size": 512, "learning_rate": 0.05, "lr_schedule": "cosine",
             "warmup_epochs": 1.0, "reg": 5e-4, "label_smoothing": 0.1, "weight_scale": 1e-2, "num_epochs": 80,
             "tta": True},
}


class UsageError(Exception):
    """Bad input: reported as one line on stderr with exit code 2."""


# ----------------------------------------------------------------------------- arguments

class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (exit 2) pointing at --help."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        description="Train (or --eval) the two-layer net on CIFAR-10 with the NumPy or the PyTorch implementation.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    d = DEFAULTS
    parser.add_argument("--impl", default=d["impl"], help="numpy or torch")
    parser.add_argument("--hidden-size", type=int, default=d["hidden_size"], help="hidden units H")
    parser.add_argument("--learning-rate", type=float, default=d["learning_rate"])
    parser.add_argument("--lr-decay", type=float, default=d["lr_decay"], help="learning-rate factor per epoch")
    parser.add_argument("--num-epochs", type=int, default=d["num_epochs"])
    parser.add_argument("--batch-size", type=int, default=d["batch_size"])
    parser.add_argument("--reg", type=float, default=d["reg"], help="L2 strength: loss += 0.5*reg*(|W1|^2+|W2|^2)")
    parser.add_argument("--update-rule", default=d["update_rule"], help=f"one of {', '.join(UPDATE_RULES)}")
    parser.add_argument("--recipe", default=None, choices=sorted(RECIPES),
                        help="start from a named set of settings (README, 'Beyond the lab'); other flags override it")
    beyond = parser.add_argument_group("beyond the lab")
    beyond.add_argument("--preprocessing", default=d["preprocessing"], help=f"one of {', '.join(PREPROCESSINGS)}")
    beyond.add_argument("--zca-epsilon", type=float, default=d["zca_epsilon"],
                        help="ZCA regularizer, in units of [0, 1] pixel variance")
    beyond.add_argument("--flip", action=argparse.BooleanOptionalAction, default=d["flip"],
                        help="random horizontal flips of training images")
    beyond.add_argument("--crop-padding", type=int, default=d["crop_padding"],
                        help="random crops from this many zero pixels of padding (0: no crops)")
    beyond.add_argument("--lr-schedule", default=d["lr_schedule"],
                        help="step (the lab's: x lr-decay per epoch) or cosine (warm-up, then cosine to 0)")
    beyond.add_argument("--warmup-epochs", type=float, default=d["warmup_epochs"],
                        help="cosine schedule: epochs of linear warm-up")
    beyond.add_argument("--weight-decay", type=float, default=d["weight_decay"],
                        help="decoupled weight decay: w -= lr * wd * w each step (--reg is the L2 penalty)")
    beyond.add_argument("--label-smoothing", type=float, default=d["label_smoothing"])
    beyond.add_argument("--dropout", type=float, default=d["dropout"],
                        help="probability of zeroing a hidden unit while training (torch's nn.Dropout p)")
    beyond.add_argument("--tta", action=argparse.BooleanOptionalAction, default=d["tta"],
                        help="also report accuracy averaged over each image and its mirror")
    parser.add_argument("--weight-scale", type=float, default=d["weight_scale"], help="std of the initial weights")
    parser.add_argument("--seed", type=int, default=d["seed"], help="initialization and minibatch sampling")
    parser.add_argument("--dtype", default=d["dtype"], help="float32 or float64")
    parser.add_argument("--data-dir", default=None,
                        help="CIFAR-10 folder or archive (default: $CIFAR10_DIR, else the cache, else download)")
    parser.add_argument("--num-train", type=int, default=d["num_train"],
                        help="training images (the first N; validation is the 1,000 after them)")
    parser.add_argument("--out", default=None, help="run folder (default: runs/<impl>-<timestamp>)")
    parser.add_argument("--device", default=d["device"], help="torch device: cpu or cuda")
    parser.add_argument("--quiet", action="store_true", help="no progress bars or per-epoch lines")
    parser.add_argument("--eval", metavar="RUN_DIR_OR_MODEL_NPZ", default=None,
                        help="evaluate a saved model on validation and test instead of training")
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line flags -> settings; a --recipe's settings replace the defaults, explicit flags still win."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.recipe is not None:
        parser.set_defaults(**RECIPES[args.recipe])
        args = parser.parse_args(argv)
    return args


def check_settings(args: argparse.Namespace) -> None:
    """Raise UsageError for any setting that cannot work, naming it and what is expected."""
    if args.impl not in ("numpy", "torch"):
        raise UsageError(f"--impl must be numpy or torch, got {args.impl!r}")
    if args.dtype not in ("float32", "float64"):
        raise UsageError(f"--dtype must be float32 or float64, got {args.dtype!r}")
    if args.impl == "numpy" and args.device != "cpu":
        raise UsageError(f"--device {args.device} applies to --impl torch only; numpy runs on the CPU")
    if args.impl == "torch":
        from torch_impl.model import resolve_device
        try:
            resolve_device(args.device)
        except (ValueError, RuntimeError) as err:
            raise UsageError(f"--device: {err}") from None
    if args.eval is not None:
        return
    if args.update_rule not in UPDATE_RULES:
        raise UsageError(f"--update-rule must be one of {', '.join(UPDATE_RULES)}, got {args.update_rule!r}")
    for flag, value in (("--hidden-size", args.hidden_size), ("--num-epochs", args.num_epochs),
                        ("--batch-size", args.batch_size), ("--num-train", args.num_train)):
        if value < 1:
            raise UsageError(f"{flag} must be a positive integer, got {value}")
    if args.num_train + NUM_VALIDATION > 50_000:
        raise UsageError(f"--num-train must be at most {50_000 - NUM_VALIDATION} (the last {NUM_VALIDATION} "
                         f"training images are the validation set), got {args.num_train}")
    if not (math.isfinite(args.learning_rate) and args.learning_rate > 0):
        raise UsageError(f"--learning-rate must be a positive number, got {args.learning_rate}")
    if not (0 < args.lr_decay <= 1):
        raise UsageError(f"--lr-decay must be in (0, 1], got {args.lr_decay}")
    if not (math.isfinite(args.reg) and args.reg >= 0):
        raise UsageError(f"--reg must be a number >= 0, got {args.reg}")
    if not (math.isfinite(args.weight_scale) and args.weight_scale > 0):
        raise UsageError(f"--weight-scale must be a positive number, got {args.weight_scale}")
    if args.seed < 0:
        raise UsageError(f"--seed must be >= 0, got {args.seed}")
    if args.preprocessing not in PREPROCESSINGS:
        raise UsageError(f"--preprocessing must be one of {', '.join(PREPROCESSINGS)}, got {args.preprocessing!r}")
    if args.lr_schedule not in LR_SCHEDULES:
        raise UsageError(f"--lr-schedule must be one of {', '.join(LR_SCHEDULES)}, got {args.lr_schedule!r}")
    if not (math.isfinite(args.zca_epsilon) and args.zca_epsilon > 0):
        raise UsageError(f"--zca-epsilon must be a positive number, got {args.zca_epsilon}")
    if not 0 <= args.crop_padding < 32:
        raise UsageError(f"--crop-padding must be an integer in [0, 32), got {args.crop_padding}")
    if not 0 <= args.warmup_epochs <= args.num_epochs:
        raise UsageError(f"--warmup-epochs must be in [0, --num-epochs = {args.num_epochs}], got {args.warmup_epochs}")
    if args.warmup_epochs and args.lr_schedule != "cosine":
        raise UsageError("--warmup-epochs applies to --lr-schedule cosine only")
    for flag, value, high in (("--weight-decay", args.weight_decay, math.inf),
                              ("--label-smoothing", args.label_smoothing, 1.0), ("--dropout", args.dropout, 1.0)):
        if not 0 <= value <= high or (flag == "--dropout" and value == 1):
            limit = "< 1" if flag == "--dropout" else ("<= 1" if high == 1 else "finite")
            raise UsageError(f"{flag} must be >= 0 and {limit}, got {value}")


# ----------------------------------------------------------------------------- models of either implementation

def make_model(impl: str, input_dim: int, hidden_size: int, num_classes: int, weight_scale: float, reg: float,
               dtype: str, seed: int | None, device: str = "cpu", dropout: float = 0.0, label_smoothing: float = 0.0):
    """A TwoLayerNet of the chosen implementation; the same seed gives both the same initial parameters.

    dropout is the drop probability (the models take the keep ratio, 1 - dropout).
    """
    extras = {"dropout_keep_ratio": 1.0 - dropout, "label_smoothing": label_smoothing}
    if impl == "numpy":
        return numpy_impl.TwoLayerNet(input_dim, hidden_size, num_classes, weight_scale, reg, dtype, seed, **extras)
    import torch_impl
    return torch_impl.TwoLayerNet(input_dim, hidden_size, num_classes, weight_scale, reg, dtype, seed, device,
                                  **extras)


def model_for(settings: dict, input_dim: int):
    """The TwoLayerNet that train.py settings (names as in DEFAULTS; missing ones take the defaults) describe."""
    s = {**DEFAULTS, **settings}
    return make_model(s["impl"], input_dim, int(s["hidden_size"]), len(CLASS_NAMES), float(s["weight_scale"]),
                      float(s["reg"]), s["dtype"], s["seed"], s["device"], float(s["dropout"]),
                      float(s["label_smoothing"]))


def solver_options(settings: dict) -> dict:
    """The Solver arguments for train.py settings (names as in DEFAULTS; missing ones take the defaults)."""
    s = {**DEFAULTS, **settings}
    optim_config = {"learning_rate": float(s["learning_rate"])}
    if s["weight_decay"]:
        optim_config["weight_decay"] = float(s["weight_decay"])
    augment = ({"flip": bool(s["flip"]), "padding": int(s["crop_padding"])}
               if s["flip"] or s["crop_padding"] else None)
    return {"update_rule": s["update_rule"], "optim_config": optim_config, "lr_decay": float(s["lr_decay"]),
            "lr_schedule": s["lr_schedule"], "warmup_epochs": float(s["warmup_epochs"]), "augment": augment,
            "batch_size": int(s["batch_size"]), "num_epochs": int(s["num_epochs"]), "seed": s["seed"]}


def model_from_params(impl: str, params: dict[str, np.ndarray], device: str = "cpu"):
    """A TwoLayerNet of the chosen implementation holding saved params (NumPy layout)."""
    if impl == "numpy":
        return numpy_impl.TwoLayerNet.from_params(params)
    import torch_impl
    return torch_impl.TwoLayerNet.from_params(params, device=device)


def settings_argv(settings: dict) -> list[str]:
    """The train.py flags for settings named as in DEFAULTS, e.g. {"flip": True, "reg": 0.5} -> --flip --reg 0.5."""
    argv = []
    for key, value in settings.items():
        flag = "--" + key.replace("_", "-")
        if isinstance(value, bool):
            argv.append(flag if value else "--no-" + key.replace("_", "-"))
        else:
            argv += [flag, f"{value:g}" if isinstance(value, float) else str(value)]
    return argv


def make_solver(impl: str, model, data: dict, device: str = "cpu", **options):
    """The Solver of the chosen implementation (same arguments; torch's also takes the device)."""
    if impl == "numpy":
        return numpy_impl.Solver(model, data, **options)
    import torch_impl
    return torch_impl.Solver(model, data, device=device, **options)


def predict(model, X: np.ndarray, batch_size: int = 1000, tta: bool = False) -> np.ndarray:
    """Class predictions (N,) for images X (N, 3, 32, 32); both implementations' loss(X) return NumPy scores.

    tta: average the scores of each image and its mirror image (flip test-time augmentation).
    """
    def scores(batch: np.ndarray) -> np.ndarray:
        if not tta:
            return model.loss(batch)
        return 0.5 * (model.loss(batch) + model.loss(np.ascontiguousarray(flip_images(batch))))
    return np.concatenate([np.argmax(scores(X[i:i + batch_size]), axis=1) for i in range(0, len(X), batch_size)])


def library_versions() -> dict:
    versions = {"python": platform.python_version(), "numpy": np.__version__, "platform": platform.platform()}
    try:
        import torch
        versions.update(torch=torch.__version__, torch_threads=torch.get_num_threads())
    except ImportError:
        pass
    versions["cpu_count"] = os.cpu_count()
    return versions


# ----------------------------------------------------------------------------- the run folder

class Run:
    """Everything written to the run folder, always atomically, from the first second of the run."""

    def __init__(self, out: Path, config: dict):
        self.out = out
        self.config = config
        self.metrics: dict = {"status": "running", "started_at": now()}
        out.mkdir(parents=True, exist_ok=True)
        save_json(out / "config.json", config)
        save_json(out / "metrics.json", self.metrics)

    def write_history(self, solver) -> None:
        """history.csv: one row per iteration (loss, learning rate), accuracies on the rows where they were checked."""
        checked = {}
        per_epoch = solver.iterations_per_epoch
        for k, (train_acc, val_acc) in enumerate(zip(solver.train_acc_history, solver.val_acc_history)):
            checked[0 if k == 0 else min(k * per_epoch, len(solver.loss_history)) - 1] = (train_acc, val_acc)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["iteration", "epoch", "loss", "train_acc", "val_acc"])
        for t, loss in enumerate(solver.loss_history):
            train_acc, val_acc = checked.get(t, ("", ""))
            writer.writerow([t + 1, t // per_epoch + 1, f"{loss:.6g}", train_acc, val_acc])
        with atomic_open(self.out / "history.csv", "w") as f:
            f.write(buffer.getvalue())

    def finish(self, status: str, **metrics) -> None:
        self.metrics.update(status=status, finished_at=now(), **metrics)
        save_json(self.out / "metrics.json", self.metrics)


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def default_out(impl: str) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    out = Path("runs") / f"{impl}-{stamp}"
    suffix = 1
    while out.exists():
        suffix += 1
        out = Path("runs") / f"{impl}-{stamp}-{suffix}"
    return out


# ----------------------------------------------------------------------------- progress output

class Progress:
    """A tqdm bar per epoch with the running loss, one line per accuracy check, nothing when quiet."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.bar = None
        self.epoch_started = time.perf_counter()

    def on_iteration(self, solver) -> None:
        if self.quiet:
            return
        if self.bar is None:
            from tqdm import tqdm
            self.bar = tqdm(total=solver.iterations_per_epoch, desc=f"epoch {solver.epoch + 1}/{solver.num_epochs}",
                            unit="it", leave=False, file=sys.stderr, dynamic_ncols=True,
                            disable=None)  # no bars when stderr is not a terminal
        self.bar.update(1)
        start = solver.epoch * solver.iterations_per_epoch
        if solver.iteration % 10 == 0:
            running = float(np.mean(solver.loss_history[start:]))
            self.bar.set_postfix(loss=f"{running:.4f}", refresh=False)

    def on_epoch(self, solver) -> None:
        seconds = time.perf_counter() - self.epoch_started
        epoch_end = solver.at_epoch_end
        if epoch_end:
            self.epoch_started = time.perf_counter()
        if self.quiet:
            return
        if self.bar is not None and epoch_end:
            self.bar.close()
            self.bar = None
        start = max(0, (solver.epoch - 1) * solver.iterations_per_epoch) if epoch_end else 0
        loss = float(np.mean(solver.loss_history[start:solver.iteration + 1]))
        label = f"epoch {solver.epoch:>3}/{solver.num_epochs}" if epoch_end else "start      "
        line = (f"{label}  loss {loss:.4f}  train acc {solver.train_acc_history[-1]:.3f}  "
                f"val acc {solver.val_acc_history[-1]:.3f}  lr {solver.learning_rate:.3g}"
                + (f"  {seconds:.1f}s" if epoch_end else ""))
        if self.bar is not None:
            self.bar.clear()
        print(line, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


# ----------------------------------------------------------------------------- training

def run_training(args: argparse.Namespace) -> int:
    """Train with the settings in args, writing the run folder; returns the exit code."""
    say = (lambda *a: None) if args.quiet else (lambda *a: print(*a, flush=True))
    dtype = np.dtype(args.dtype)
    started = time.perf_counter()
    try:
        data = get_CIFAR10_data(num_training=args.num_train, num_validation=NUM_VALIDATION, num_test=NUM_TEST,
                                dtype=dtype, root=args.data_dir, preprocessing=args.preprocessing,
                                zca_epsilon=args.zca_epsilon)
    except (CIFAR10NotFoundError, ValueError) as err:
        raise UsageError(str(err)) from None
    data_seconds = time.perf_counter() - started
    say(f"loaded CIFAR-10 in {data_seconds:.1f}s: {args.num_train} train, {NUM_VALIDATION} val, {NUM_TEST} test "
        f"images ({args.dtype}, preprocessing {args.preprocessing})")

    out = Path(args.out) if args.out else default_out(args.impl)
    settings = {key: getattr(args, key) for key in DEFAULTS}
    config = {**settings, "recipe": args.recipe,
              "data_dir": args.data_dir or os.environ.get("CIFAR10_DIR") or "(cache)",
              "num_validation": NUM_VALIDATION, "num_test": NUM_TEST, "command": sys.argv,
              "versions": library_versions()}
    run = Run(out, config)
    say(f"run folder: {out}")

    model = model_for(settings, data["X_train"][0].size)
    progress = Progress(args.quiet)
    solver = make_solver(args.impl, model, data, args.device, **solver_options(settings), verbose=False,
                         on_iteration=progress.on_iteration, on_epoch=progress.on_epoch)

    status, error = "completed", None
    train_started = time.perf_counter()
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # divergence is reported below
            solver.train()
    except KeyboardInterrupt:
        status = "interrupted"
    except TrainingDivergedError as err:
        status, error = "failed", str(err)
    except Exception as err:  # a bug: record it in the run, then report it
        status, error = "failed", f"{type(err).__name__}: {err}"
        run.metrics["traceback"] = traceback.format_exc()
    finally:
        progress.close()
    train_seconds = time.perf_counter() - train_started

    # Saving must not be cut short by a second Ctrl-C.
    previous_handler = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        return finish_run(run, solver, data, status, error, train_seconds, data_seconds, args.tta)
    finally:
        signal.signal(signal.SIGINT, previous_handler)


def finish_run(run: Run, solver, data: dict, status: str, error: str | None, train_seconds: float,
               data_seconds: float, tta: bool = False) -> int:
    """Write history, best model, metrics and plots for a run that ended with ``status``; returns the exit code."""
    out = run.out
    run.write_history(solver)
    iterations = len(solver.loss_history)
    timing = {"train_seconds": round(train_seconds, 3), "data_seconds": round(data_seconds, 3),
              "iterations_completed": iterations, "epochs_completed": solver.epoch,
              "seconds_per_epoch": round(train_seconds / (iterations / solver.iterations_per_epoch), 3)
              if iterations else None,
              "images_per_second": round(iterations * solver.batch_size / train_seconds, 1) if iterations else None}
    if not solver.best_params:
        run.finish(status, error=error, **timing)
        print(f"train.py: {status} before the first accuracy check: {error or 'nothing to save'}; see {out}",
              file=sys.stderr)
        return 1 if status == "failed" else 130

    if status != "completed":  # the Solver puts the best params back only when it finishes
        solver.load_params(solver.best_params)
    save_model(out / "model.npz", solver.best_params, data["preprocessing"])
    best_epoch = int(np.argmax(solver.val_acc_history))
    results = {"val_acc": solver.best_val_acc, "best_epoch": best_epoch,
               "train_acc": solver.train_acc_history[best_epoch]}
    results.update(test_accuracies(solver.model, data["X_test"], data["y_test"]))
    if tta:
        results["val_acc_tta"] = float(np.mean(predict(solver.model, data["X_val"], tta=True) == data["y_val"]))
        results.update({f"{key}_tta": value for key, value in
                        test_accuracies(solver.model, data["X_test"], data["y_test"], tta=True).items()})
    test_pred = results.pop("test_pred")
    save_figure(plot_loss(solver.loss_history, solver.iterations_per_epoch), out / "loss.png")
    save_figure(plot_accuracy(solver.train_acc_history, solver.val_acc_history), out / "accuracy.png")
    save_figure(plot_weights(solver.best_params["W1"]), out / "weights.png")
    counts = confusion_matrix(data["y_test"], test_pred, len(CLASS_NAMES))
    save_figure(plot_confusion(counts, CLASS_NAMES), out / "confusion.png")
    run.finish(status, error=error, **results, **timing)  # last: a run cut short before this still says "running"

    summary = (f"val acc {results['val_acc']:.4f} (epoch {best_epoch})  test-1k {results['test_acc_1k']:.4f}  "
               f"test-10k {results['test_acc_10k']:.4f}"
               + (f"  |  with flip TTA: val {results['val_acc_tta']:.4f}  test-1k {results['test_acc_1k_tta']:.4f}  "
                  f"test-10k {results['test_acc_10k_tta']:.4f}" if tta else "")
               + f"  |  {timing['seconds_per_epoch']}s/epoch, "
               f"{timing['images_per_second']:.0f} images/s, {train_seconds:.1f}s training")
    if status == "completed":
        print(f"done: {summary}\nsaved to {out}/", flush=True)
        return 0
    if status == "interrupted":
        print(f"interrupted after {iterations} iterations; history and the best model so far are in {out}/ "
              f"({summary})", file=sys.stderr, flush=True)
        return 130
    print(f"train.py: training failed: {error.rstrip('.')}; the run up to that point is in {out}/", file=sys.stderr,
          flush=True)
    return 1


def test_accuracies(model, X_test: np.ndarray, y_test: np.ndarray, tta: bool = False) -> dict:
    """Accuracy on the lab's test split (the first 1,000) and on all of X_test, plus the predictions (test_pred)."""
    test_pred = predict(model, X_test, tta=tta)
    return {"test_acc_1k": float(np.mean(test_pred[:LAB_TEST_SIZE] == y_test[:LAB_TEST_SIZE])),
            "test_acc_10k": float(np.mean(test_pred == y_test)), **({} if tta else {"test_pred": test_pred})}


# ----------------------------------------------------------------------------- evaluation of a saved model

def run_eval(args: argparse.Namespace) -> int:
    """Report validation and test accuracy of a saved model (a run folder or a model.npz)."""
    target = Path(args.eval)
    model_path = target / "model.npz" if target.is_dir() else target
    try:
        params, preprocessing = load_model(model_path)
    except ValueError as err:
        raise UsageError(f"--eval: {err}") from None
    num_train = DEFAULTS["num_train"]
    config_path = model_path.parent / "config.json"
    if config_path.is_file():  # evaluate on the run's own validation split
        num_train = int(load_json(config_path).get("num_train", num_train))
    try:
        raw = load_raw_cifar10(args.data_dir)
    except (CIFAR10NotFoundError, ValueError) as err:
        raise UsageError(str(err)) from None
    model = model_from_params(args.impl, params, args.device)
    dtype = params["W1"].dtype

    val_rows = slice(num_train, num_train + NUM_VALIDATION)
    X_val = preprocess(raw.x_train[val_rows], preprocessing, dtype)
    X_test = preprocess(raw.x_test, preprocessing, dtype)
    line = f"{model_path} ({args.impl}, {dtype}, H={params['W1'].shape[1]}):"
    for tta in (False, True) if args.tta else (False,):
        val_acc = float(np.mean(predict(model, X_val, tta=tta) == raw.y_train[val_rows]))
        results = test_accuracies(model, X_test, raw.y_test, tta=tta)
        line += (f"{'  | with flip TTA:' if tta else ''} val acc {val_acc:.4f}  test-1k {results['test_acc_1k']:.4f}  "
                 f"test-10k {results['test_acc_10k']:.4f}")
    print(line)
    return 0


def main(argv: list[str] | None = None) -> int:
    retain_freed_memory()  # both implementations allocate the same big arrays every step: reuse, don't refault
    args = parse_args(argv)
    try:
        check_settings(args)
        return run_eval(args) if args.eval is not None else run_training(args)
    except UsageError as err:
        print(f"train.py: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
