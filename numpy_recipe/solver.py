"""The recipes' Solver: numpy_impl.Solver's loop with the recipe engine's update rules, a cosine schedule,
flips and crops, progress hooks, and checkpoints that resume a run exactly.

    solver = Solver(model, data, update_rule="adam", optim_config={"learning_rate": 1e-3, "weight_decay": 0.05},
                    lr_schedule="cosine", warmup_epochs=1, augment={"flip": True, "padding": 4}, seed=0)
    solver.train()

Beyond numpy_impl.Solver's arguments: lr_schedule "step" (the lab's: lr *= lr_decay after each epoch) or
"cosine" (linear warm-up over warmup_epochs to the peak rate, then cosine decay to 0 at the last update;
see warmup_cosine_factor); augment, None or {"flip": bool, "padding": int}, applied to each training batch as
the batch stream draws it; on_iteration(solver) after each update and on_epoch(solver) after each accuracy
check. Histories beyond the lab's: lr_history (the rate each update used) and accuracy_iterations (updates
made before each check). With checkpoint_name, every accuracy check writes everything needed to continue
(``load_checkpoint``): a resumed run ends with exactly the numbers of an uninterrupted one.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from types import SimpleNamespace

import numpy as np

import numpy_impl
from common.artifacts import load_json, load_npz, save_json, save_npz
from common.batches import Augmentation, BatchStream
from common.choices import LR_SCHEDULES, RULE_DEFAULTS
from common.training import (
    HISTORIES,
    check_checkpoint,
    check_finite,
    checkpoint_prefix,
    restore_progress,
    run_settings,
)
from numpy_recipe import optim
from numpy_recipe.augment import flip_and_shift


def warmup_cosine_factor(step: int, total_steps: int, warmup_steps: int = 0) -> float:
    """Multiplier of the peak learning rate for update number ``step`` (1-based) of ``total_steps``.

    Linear warm-up over the first warmup_steps updates, factor = step / warmup_steps, then
    cosine decay to 0 at the last update: factor = (1 + cos(pi (step - w) / (T - w))) / 2.
    """
    if not 1 <= step <= total_steps:
        raise ValueError(f"step must be in [1, {total_steps}]; got {step}")
    if step <= warmup_steps:
        return step / warmup_steps
    return 0.5 * (1.0 + math.cos(math.pi * (step - warmup_steps) / (total_steps - warmup_steps)))


class Solver(numpy_impl.Solver):
    """numpy_impl.Solver with the recipes' extras (see the module docstring)."""

    optim = SimpleNamespace(**optim.RULES)

    def __init__(self, model, data: dict, **kwargs):
        self.lr_schedule = kwargs.pop("lr_schedule", "step")
        self.warmup_epochs = kwargs.pop("warmup_epochs", 0.0)
        self.augmentation = Augmentation.from_dict(kwargs.pop("augment", None))
        self.on_iteration = kwargs.pop("on_iteration", None)
        self.on_epoch = kwargs.pop("on_epoch", None)
        super().__init__(model, data, **kwargs)
        self._check_recipe_arguments()
        self.stream = BatchStream(len(self.X_train), self.batch_size, self.seed, self.augmentation)
        self._X_batch = self._y_batch = None
        self._checkpoint_written = None  # the prefix of this run's newest checkpoint, deleted when the next is written

    def _check_recipe_arguments(self) -> None:
        """Raise ValueError for a schedule or augmentation that cannot train."""
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(
                f"Solver: unknown lr_schedule {self.lr_schedule!r}; expected one of {', '.join(LR_SCHEDULES)}"
            )
        if not (isinstance(self.warmup_epochs, (int, float)) and 0 <= self.warmup_epochs <= self.num_epochs):
            raise ValueError(
                f"Solver: warmup_epochs must be a number in [0, num_epochs = {self.num_epochs}]; "
                f"got {self.warmup_epochs!r}"
            )
        if self.optim_config.get("weight_decay") and self.update_rule_name != "adam":
            raise ValueError(
                f"Solver: weight_decay goes with update_rule 'adam' (AdamW), not {self.update_rule_name!r}"
            )
        lr = self.optim_config.get("learning_rate", 1.0)
        if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
            raise ValueError(f"Solver: optim_config['learning_rate'] must be a positive number; got {lr!r}")
        if self.augmentation.active:
            if np.ndim(self.X_train) != 4:
                raise ValueError(f"Solver: augment needs images (N, C, H, W); X_train has shape {self.X_train.shape}")
            if self.augmentation.padding >= min(self.X_train.shape[2:]):
                raise ValueError(
                    f"Solver: augment padding must be smaller than the images "
                    f"{self.X_train.shape[2:]}; got {self.augmentation.padding}"
                )

    def _reset(self) -> None:
        super()._reset()
        self.lr_history: list[float] = []
        self.accuracy_iterations: list[int] = []

    @property
    def warmup_iterations(self) -> int:
        return round(self.warmup_epochs * self.iterations_per_epoch)

    @property
    def initial_learning_rate(self) -> float:
        return float(self.optim_config.get("learning_rate", RULE_DEFAULTS[self.update_rule_name]["learning_rate"]))

    def _gather(self, batch) -> tuple[np.ndarray, np.ndarray]:
        """The batch's images, flipped and cropped as drawn, and labels, in buffers reused at every step."""
        if self._X_batch is None:
            self._X_batch = np.empty((self.batch_size, *self.X_train.shape[1:]), dtype=self.X_train.dtype)
            self._y_batch = np.empty(self.batch_size, dtype=self.y_train.dtype)
        np.take(self.y_train, batch.indices, axis=0, out=self._y_batch)
        if batch.flips is None:
            np.take(self.X_train, batch.indices, axis=0, out=self._X_batch)
        else:  # the rows' gather, flips and crops in one pass
            flip_and_shift(self.X_train, batch.flips, batch.shifts, out=self._X_batch, rows=batch.indices)
        return self._X_batch, self._y_batch

    def _step(self) -> None:
        """One gradient update on the stream's next minibatch, at the schedule's learning rate."""
        if self.lr_schedule == "cosine":
            factor = warmup_cosine_factor(self.iteration + 1, self.num_iterations, self.warmup_iterations)
            for config in self.optim_configs.values():
                config["learning_rate"] = self.initial_learning_rate * factor
        X, y = self._gather(self.stream.next_batch())
        loss, grads = self.model.loss(X, y)
        check_finite(float(loss), self.iteration, self.epoch, self.initial_learning_rate, inputs=X)
        for name, w in self.model.params.items():
            self.model.params[name], self.optim_configs[name] = self.update_rule(
                w, grads[name], self.optim_configs[name]
            )
        self.loss_history.append(float(loss))
        self.lr_history.append(float(next(iter(self.optim_configs.values()))["learning_rate"]))
        self.iteration += 1
        if self.on_iteration is not None:
            self.on_iteration(self)

    def restore_best_params(self) -> None:
        """Put the best-validation params into the model (train() ends so; an interrupted run calls this)."""
        if self.best_params:
            self.model.params = {name: value.copy() for name, value in self.best_params.items()}

    def settings(self) -> dict:
        """What fixes this run's numbers besides the model and data (common.training.run_settings)."""
        return run_settings(self, self.update_rule_name, self.model.params["W1"].dtype.name)

    def _save_checkpoint(self) -> None:
        """After each accuracy check: note its iteration; with checkpoint_name, write <checkpoint_name>_epoch_<epoch>
        .npz (params, best params, optimizer arrays) and .json (the rest), then delete the previous pair."""
        self.accuracy_iterations.append(self.iteration)
        if self.checkpoint_name is not None:
            prefix = f"{self.checkpoint_name}_epoch_{self.epoch}"
            arrays = {f"params/{name}": value for name, value in self.model.params.items()}
            arrays.update({f"best/{name}": value for name, value in self.best_params.items()})
            optim_state = {}
            for name, config in self.optim_configs.items():
                optim_state[name] = {k: v for k, v in config.items() if not isinstance(v, np.ndarray)}
                arrays.update({f"optim/{name}/{k}": v for k, v in config.items() if isinstance(v, np.ndarray)})
            save_npz(f"{prefix}.npz", arrays)
            save_json(
                f"{prefix}.json",
                {
                    **self.settings(),
                    "optim_state": optim_state,
                    "stream": self.stream.state_dict(),
                    "epoch": self.epoch,
                    "iteration": self.iteration,
                    "best_val_acc": self.best_val_acc,
                    **{name: getattr(self, name) for name in HISTORIES},
                },
            )
            previous = self._checkpoint_written
            if previous is not None and previous != prefix:
                for suffix in (".npz", ".json"):
                    Path(f"{previous}{suffix}").unlink(missing_ok=True)
            self._checkpoint_written = prefix
        if self.on_epoch is not None:
            self.on_epoch(self)

    def load_checkpoint(self, path: str | os.PathLike) -> None:
        """Continue from a checkpoint this Solver's settings wrote (path: its .npz, its .json or their prefix):
        the next ``train()`` resumes at its iteration. ValueError when it is no checkpoint or has other settings."""
        prefix = checkpoint_prefix(path)
        if self.iteration:
            raise ValueError(f"load_checkpoint: this Solver has trained {self.iteration} updates; load into a new one")
        saved = check_checkpoint(
            load_json(f"{prefix}.json"), prefix, ("optim_state", "stream"), self.settings(), "numpy_recipe"
        )
        arrays = load_npz(f"{prefix}.npz")
        params = {key.split("/", 1)[1]: value for key, value in arrays.items() if key.startswith("params/")}
        if set(params) != set(self.model.params) or any(
            params[name].shape != value.shape for name, value in self.model.params.items()
        ):
            raise ValueError(f"{prefix}: the checkpoint's parameters do not fit this model")
        self.model.params = params
        self.best_params = {key.split("/", 1)[1]: value for key, value in arrays.items() if key.startswith("best/")}
        self.optim_configs = {name: dict(values) for name, values in saved["optim_state"].items()}
        for key, value in arrays.items():
            if key.startswith("optim/"):
                _, name, field = key.split("/", 2)
                self.optim_configs[name][field] = value
        if restore_progress(self, saved, prefix):
            self._checkpoint_written = prefix  # this run's own: replaced by the next one it writes
