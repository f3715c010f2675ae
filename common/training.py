"""What both Solvers share as data and rules, not as a loop: the histories they keep, when a loss means training
diverged, and how a checkpoint is named and accepted."""

from __future__ import annotations

import math
import os
from pathlib import Path

HISTORIES = ("loss_history", "lr_history", "train_acc_history", "val_acc_history", "accuracy_iterations")
SETTINGS = ("optim_config", "lr_decay", "lr_schedule", "warmup_epochs", "batch_size", "num_epochs", "seed")
SETTINGS += ("num_train_samples", "num_val_samples")


def run_settings(solver, update_rule: str, dtype: str) -> dict:
    """What fixes a Solver's numbers besides the model and data: a checkpoint resumes only under the same."""
    settings = {name: getattr(solver, name) for name in SETTINGS}
    augment, num_train = solver.stream.augmentation.to_dict(), len(solver.X_train)
    return {"update_rule": update_rule, **settings, "augment": augment, "num_train": num_train, "dtype": dtype}


class TrainingDivergedError(FloatingPointError):
    """The loss became NaN or infinite: training stopped instead of continuing on garbage."""


def check_finite(loss: float, iteration: int, epoch: int, learning_rate: float, inputs=None) -> None:
    """Raise TrainingDivergedError, saying the likely cause, when the loss of update iteration + 1 is not finite.

    Before any update the learning rate cannot be the cause: the inputs or the initial weights overflowed.
    ``inputs`` (the minibatch, optional) tells which: non-finite or huge inputs blame the preprocessing.
    """
    if math.isfinite(loss):
        return
    if iteration == 0:  # no update has happened yet: the learning rate cannot be the cause
        raise TrainingDivergedError(f"loss is {loss} at the first iteration, before any update: {_first_cause(inputs)}")
    raise TrainingDivergedError(
        f"loss became {loss} at iteration {iteration + 1} (epoch {epoch + 1}): training diverged. The learning "
        f"rate {learning_rate:g} is probably too large; try a smaller one, e.g. {learning_rate / 10:g}."
    )


HUGE_INPUT = 1e6  # preprocessed pixels are of order 1 to 255; far beyond that, the preprocessing blew up


def _first_cause(inputs) -> str:
    """The honest diagnosis of a loss that is not finite before any update, from the inputs when given."""
    preprocessing = "the preprocessing (e.g. a tiny --zca-epsilon, which divides by almost zero)"
    if inputs is not None:
        import numpy as np

        values = np.asarray(inputs.cpu() if hasattr(inputs, "cpu") else inputs)  # a torch tensor: to the CPU first
        finite = bool(np.isfinite(values).all())
        largest = float(np.abs(values[np.isfinite(values)]).max(initial=0.0))
        if not finite or largest > HUGE_INPUT:
            what = "not finite" if not finite else f"as large as {largest:.3g}"
            return f"the inputs are {what}, not the learning rate or the weights: check {preprocessing}."
        return (
            f"the inputs are finite (at most {largest:.3g}), so the initial weights overflow, not the learning "
            "rate; try a smaller weight scale."
        )
    return (
        f"the inputs or the initial weights overflow, not the learning rate: check {preprocessing}, "
        "then the weight scale (try a smaller one)."
    )


def checkpoint_prefix(path: str | os.PathLike) -> str:
    """A checkpoint's .npz, its .json or their shared prefix -> the prefix."""
    path = Path(path)
    return str(path.with_suffix("") if path.suffix in (".npz", ".json") else path)


def check_checkpoint(saved, prefix: str, needed: tuple[str, ...], settings: dict, kind: str) -> dict:
    """saved (a checkpoint's JSON) if it holds the keys ``needed`` and was written with these settings; else
    ValueError naming what is missing or which settings differ."""
    needed = ("epoch", "iteration", "best_val_acc", *HISTORIES, *settings, *needed)
    if not isinstance(saved, dict) or any(key not in saved for key in needed):
        raise ValueError(f"{prefix}.json: not a {kind} checkpoint; expected the keys {', '.join(needed)}")
    differ = [
        f"{name} {saved.get(name)!r} (this Solver: {value!r})"
        for name, value in settings.items()
        if saved.get(name) != value
    ]
    if differ:
        raise ValueError(f"{prefix}: the checkpoint was written with other settings: {'; '.join(differ)}")
    return saved


def restore_progress(solver, saved: dict, prefix: str) -> bool:
    """Put a checkpoint's batch-stream state, counters and histories into solver; -> whether the checkpoint is the
    solver's own (its next checkpoint replaces it)."""
    solver.stream.load_state_dict(saved["stream"])
    solver.epoch, solver.iteration, solver.best_val_acc = saved["epoch"], saved["iteration"], saved["best_val_acc"]
    for name in HISTORIES:
        setattr(solver, name, list(saved[name]))
    return prefix == f"{solver.checkpoint_name}_epoch_{solver.epoch}"
