"""Solver: trains a classification model with minibatch gradient descent, as in the lab.

    solver = Solver(model, data, update_rule="sgd", optim_config={"learning_rate": 1e-3},
                    lr_decay=0.95, num_epochs=10, batch_size=100, print_every=100, seed=0)
    solver.train()

``model`` needs ``params`` (a dict of arrays) and ``loss(X, y=None)`` returning scores,
or ``(loss, grads)`` with grads keyed like params. ``data`` holds X_train, y_train,
X_val, y_val. After ``train()`` the model holds the params that scored best on validation.

Which images each step trains on, how they are augmented, and which images each accuracy
estimate uses come from a seeded ``common.batches.BatchStream``: the same draws torch_impl's
Solver consumes. Everything else (the loop, the schedule, the updates, the bookkeeping) is
this file's own, so compare/ can check it against torch_impl's independent loop.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from common.artifacts import load_json, load_npz, save_json, save_npz
from common.batches import Augmentation, Batch, BatchStream
from numpy_impl.augment import flip_and_shift, mix_images
from numpy_impl.optim import DEFAULT_CONFIGS, get_update_rule, row_blocks

LR_SCHEDULES = ("step", "cosine")
DEFAULTS = {
    "update_rule": "sgd",
    "optim_config": None,
    "lr_decay": 1.0,
    "lr_schedule": "step",
    "warmup_epochs": 0.0,
    "ema_decay": 0.0,
    "augment": None,
    "batch_size": 100,
    "num_epochs": 10,
    "num_train_samples": 1000,
    "num_val_samples": None,
    "checkpoint_name": None,
    "print_every": 10,
    "verbose": True,
    "seed": None,
    "on_iteration": None,
    "on_epoch": None,
}
REQUIRED_DATA = ("X_train", "y_train", "X_val", "y_val")


class TrainingDivergedError(FloatingPointError):
    """The loss became NaN or infinite: training stopped instead of continuing on garbage."""


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


class Solver:
    """Minibatch training loop with per-epoch learning-rate decay, accuracy histories and best-val restore.

    Keyword arguments (defaults as in the lab): update_rule ("sgd", "sgd_momentum", "rmsprop", "adam",
    or "sgd_nesterov"), optim_config, lr_decay, batch_size, num_epochs, num_train_samples, num_val_samples,
    checkpoint_name, print_every, verbose; plus seed (the batch stream's: same seed, same run; None
    draws from np.random like the lab) and the hooks on_iteration(solver) after each update and
    on_epoch(solver) after each accuracy check.

    Beyond the lab: lr_schedule "step" (the lab's: lr *= lr_decay after each epoch) or "cosine"
    (linear warm-up over warmup_epochs to the peak rate, then cosine decay to 0 at the last
    update; see warmup_cosine_factor); augment, None or {"flip": bool, "padding": int} and optionally
    "mix" ("mixup" or "cutmix") and "mix_alpha": random flips, crops and mixing of each training batch,
    drawn by the batch stream (common.batches.Augmentation); ema_decay d in [0, 1): after each update,
    ema = ema + (1 - d) (w - ema), started from the first update's weights, and the accuracy checks,
    the best-validation choice and the restored params use the average (0, the default: no average).

    Histories: loss_history and lr_history (the rate that update used) per update;
    train_acc_history, val_acc_history and accuracy_iterations (updates made before the check) per check.
    """

    def __init__(self, model, data: dict, **kwargs):
        unknown = sorted(set(kwargs) - set(DEFAULTS))
        if unknown:
            raise ValueError(f"Solver: unrecognized arguments {', '.join(unknown)}; known: {', '.join(DEFAULTS)}")
        options = {**DEFAULTS, **kwargs}
        missing = [key for key in REQUIRED_DATA if key not in data]
        if missing:
            raise ValueError(f"Solver: data is missing {', '.join(missing)}; it needs {', '.join(REQUIRED_DATA)}")
        for split in ("train", "val"):
            X, y = data[f"X_{split}"], data[f"y_{split}"]
            if len(X) != len(y) or len(X) == 0:
                raise ValueError(
                    f"Solver: X_{split} has {len(X)} rows but y_{split} has {len(y)} labels; "
                    "they must match and be non-empty"
                )

        self.model = model
        self.X_train, self.y_train = np.asarray(data["X_train"]), np.asarray(data["y_train"])
        self.X_val, self.y_val = np.asarray(data["X_val"]), np.asarray(data["y_val"])

        self.update_rule_name = options["update_rule"]
        self.update_rule = get_update_rule(self.update_rule_name)
        self.optim_config = dict(options["optim_config"] or {})
        self.lr_decay = options["lr_decay"]
        self.lr_schedule = options["lr_schedule"]
        self.warmup_epochs = options["warmup_epochs"]
        self.ema_decay = options["ema_decay"]
        self.augmentation = Augmentation.from_dict(options["augment"])
        self.batch_size = options["batch_size"]
        self.num_epochs = options["num_epochs"]
        self.num_train_samples = options["num_train_samples"]
        self.num_val_samples = options["num_val_samples"]
        self.checkpoint_name = options["checkpoint_name"]
        self.print_every = options["print_every"]
        self.verbose = options["verbose"]
        self.seed = options["seed"]
        self.on_iteration: Callable | None = options["on_iteration"]
        self.on_epoch: Callable | None = options["on_epoch"]
        self._check_hyperparameters()
        image_size = self.X_train.shape[2:] if self.X_train.ndim == 4 else None
        self.stream = BatchStream(len(self.X_train), self.batch_size, self.seed, self.augmentation, image_size)
        self._X_batch = self._y_batch = self._X_augmented = None
        self._reset()

    def _check_hyperparameters(self) -> None:
        """Raise ValueError for a hyperparameter that cannot train."""
        for name in ("batch_size", "num_epochs", "print_every"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"Solver: {name} must be a positive integer; got {value!r}")
        if not (isinstance(self.lr_decay, (int, float)) and 0 < self.lr_decay <= 1):
            raise ValueError(f"Solver: lr_decay must be in (0, 1]; got {self.lr_decay!r}")
        lr = self.optim_config.get("learning_rate", 1.0)
        if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
            raise ValueError(f"Solver: optim_config['learning_rate'] must be a positive number; got {lr!r}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(
                f"Solver: unknown lr_schedule {self.lr_schedule!r}; expected one of {', '.join(LR_SCHEDULES)}"
            )
        if not (isinstance(self.warmup_epochs, (int, float)) and 0 <= self.warmup_epochs <= self.num_epochs):
            raise ValueError(
                f"Solver: warmup_epochs must be a number in [0, num_epochs = {self.num_epochs}]; "
                f"got {self.warmup_epochs!r}"
            )
        if not (isinstance(self.ema_decay, (int, float)) and 0 <= self.ema_decay < 1):
            raise ValueError(f"Solver: ema_decay must be in [0, 1) (0: no averaging); got {self.ema_decay!r}")
        if self.augmentation.active:
            if self.X_train.ndim != 4:
                raise ValueError(f"Solver: augment needs images (N, C, H, W); X_train has shape {self.X_train.shape}")
            if self.augmentation.padding >= min(self.X_train.shape[2:]):
                raise ValueError(
                    f"Solver: augment padding must be smaller than the images "
                    f"{self.X_train.shape[2:]}; got {self.augmentation.padding}"
                )

    def _reset(self) -> None:
        """Fresh bookkeeping and optimizer state."""
        self.epoch = 0
        self.iteration = 0  # updates made so far
        self.best_val_acc = 0.0
        self.best_params: dict[str, np.ndarray] = {}
        self.ema_params: dict[str, np.ndarray] = {}  # the weights' moving average, when ema_decay > 0
        self.loss_history: list[float] = []
        self.lr_history: list[float] = []
        self.train_acc_history: list[float] = []
        self.val_acc_history: list[float] = []
        self.accuracy_iterations: list[int] = []
        # One optimizer config per parameter; each update rule keeps its state there.
        self.optim_configs = {name: dict(self.optim_config) for name in self.model.params}

    @property
    def num_train(self) -> int:
        return len(self.X_train)

    @property
    def iterations_per_epoch(self) -> int:
        return max(self.num_train // self.batch_size, 1)

    @property
    def num_iterations(self) -> int:
        return self.num_epochs * self.iterations_per_epoch

    @property
    def warmup_iterations(self) -> int:
        return round(self.warmup_epochs * self.iterations_per_epoch)

    @property
    def initial_learning_rate(self) -> float:
        return float(self.optim_config.get("learning_rate", DEFAULT_CONFIGS[self.update_rule_name]["learning_rate"]))

    def _gather(self, batch: Batch) -> tuple[np.ndarray, np.ndarray, tuple | None]:
        """The batch's images (augmented) and labels, in buffers reused at every step (no fresh allocation), and
        with MixUp or CutMix the mixed-in images' labels and the weight of the own labels (else None)."""
        if self._X_batch is None:
            self._X_batch = np.empty((self.batch_size, *self.X_train.shape[1:]), dtype=self.X_train.dtype)
            self._y_batch = np.empty(self.batch_size, dtype=self.y_train.dtype)
        np.take(self.X_train, batch.indices, axis=0, out=self._X_batch)
        np.take(self.y_train, batch.indices, axis=0, out=self._y_batch)
        if batch.flips is None:
            return self._X_batch, self._y_batch, None
        if self._X_augmented is None:
            self._X_augmented = np.empty_like(self._X_batch)
        X = flip_and_shift(self._X_batch, batch.flips, batch.shifts, out=self._X_augmented)
        if batch.partners is None:
            return X, self._y_batch, None
        mix_images(X, batch.partners, batch.mix_weight, batch.box)
        return X, self._y_batch, (self._y_batch[batch.partners], batch.mix_weight)

    def _step(self) -> float:
        """One gradient update on the stream's next minibatch; returns its loss."""
        if self.lr_schedule == "cosine":
            factor = warmup_cosine_factor(self.iteration + 1, self.num_iterations, self.warmup_iterations)
            for config in self.optim_configs.values():
                config["learning_rate"] = self.initial_learning_rate * factor
        X, y, mix = self._gather(self.stream.next_batch())
        loss, grads = self.model.loss(X, y) if mix is None else self.model.loss(X, y, mix=mix)
        self._check_finite(loss)
        for name, w in self.model.params.items():
            next_w, self.optim_configs[name] = self.update_rule(w, grads[name], self.optim_configs[name])
            self.model.params[name] = next_w
        if self.ema_decay:
            self._update_average()
        self.lr_history.append(float(next(iter(self.optim_configs.values()))["learning_rate"]))
        return float(loss)

    def _update_average(self) -> None:
        """ema = ema + (1 - d) (w - ema) after each update (d = ema_decay); the first update's weights start it."""
        if not self.ema_params:
            self.ema_params = {name: w.copy() for name, w in self.model.params.items()}
            return
        for name, w in self.model.params.items():
            average = self.ema_params[name]
            for rows in row_blocks(w):  # block by block, so the temporary stays in cache
                block = average[rows]
                block += (1 - self.ema_decay) * (w[rows] - block)

    @contextlib.contextmanager
    def _evaluating(self):
        """Within the block the model holds the weights being evaluated: the moving average if there is one."""
        if not self.ema_params:
            yield
            return
        trained, self.model.params = self.model.params, self.ema_params
        try:
            yield
        finally:
            self.model.params = trained

    def _check_finite(self, loss) -> None:
        """Stop with a clear message when the loss is NaN or infinite."""
        if not math.isfinite(float(loss)):
            lr = self.initial_learning_rate
            if self.iteration == 0:  # no update has happened yet: the learning rate cannot be the cause
                raise TrainingDivergedError(
                    f"loss is {float(loss)} at the first iteration, before any update: the initial weights (their "
                    "scale) or the inputs overflow, not the learning rate; try a smaller weight scale."
                )
            raise TrainingDivergedError(
                f"loss became {float(loss)} at iteration {self.iteration + 1} (epoch {self.epoch + 1}): training "
                f"diverged. The learning rate {lr:g} is probably too large; try a smaller one, e.g. {lr / 10:g}."
            )

    def predict(self, X: np.ndarray, batch_size: int = 100) -> np.ndarray:
        """Predicted class for every row of X (N, ...) -> (N,), computed batch_size rows at a time."""
        return np.concatenate(
            [
                np.argmax(self.model.loss(X[start : start + batch_size]), axis=1)
                for start in range(0, len(X), batch_size)
            ]
        )

    def check_accuracy(
        self, X: np.ndarray, y: np.ndarray, num_samples: int | None = None, batch_size: int = 100
    ) -> float:
        """Fraction of rows of X (N, ...) classified as y (N,); on a random subset of num_samples if given."""
        subset = self.stream.subsample(len(X), num_samples)
        if subset is not None:
            X, y = X[subset], y[subset]
        return float(np.mean(self.predict(X, batch_size) == y))

    def train(self) -> None:
        """Run num_epochs of minibatch updates, checking accuracy after the first update and each epoch."""
        for t in range(self.num_iterations):
            loss = self._step()
            self.iteration = t + 1
            self.loss_history.append(loss)
            if self.verbose and t % self.print_every == 0:
                print(f"(Iteration {t + 1} / {self.num_iterations}) loss: {loss:f}")
            if self.on_iteration is not None:
                self.on_iteration(self)

            epoch_end = (t + 1) % self.iterations_per_epoch == 0
            if epoch_end:
                self.epoch += 1
                if self.lr_schedule == "step":
                    for config in self.optim_configs.values():
                        config["learning_rate"] *= self.lr_decay

            if t == 0 or t == self.num_iterations - 1 or epoch_end:
                with self._evaluating():  # with ema_decay, the average is what is checked, kept and saved
                    train_acc = self.check_accuracy(self.X_train, self.y_train, num_samples=self.num_train_samples)
                    val_acc = self.check_accuracy(self.X_val, self.y_val, num_samples=self.num_val_samples)
                    evaluated = self.model.params
                self.train_acc_history.append(train_acc)
                self.val_acc_history.append(val_acc)
                self.accuracy_iterations.append(self.iteration)
                if self.verbose:
                    print(f"(Epoch {self.epoch} / {self.num_epochs}) train acc: {train_acc:f}; val_acc: {val_acc:f}")
                if val_acc > self.best_val_acc or not self.best_params:
                    self.best_val_acc = val_acc
                    self.best_params = {name: value.copy() for name, value in evaluated.items()}
                self._save_checkpoint()
                if self.on_epoch is not None:
                    self.on_epoch(self)
        self.restore_best_params()

    def restore_best_params(self) -> None:
        """Put the best-validation params into the model (train() ends with this; an interrupted run may call it)."""
        if self.best_params:
            self.model.params = {name: value.copy() for name, value in self.best_params.items()}

    def _save_checkpoint(self) -> None:
        """Write <checkpoint_name>_epoch_<epoch>.npz (params, optimizer arrays) and .json (the rest)."""
        if self.checkpoint_name is None:
            return
        prefix = f"{self.checkpoint_name}_epoch_{self.epoch}"
        arrays = {f"params/{name}": value for name, value in self.model.params.items()}
        arrays.update({f"ema/{name}": value for name, value in self.ema_params.items()})
        optim_state = {}
        for name, config in self.optim_configs.items():
            optim_state[name] = {key: value for key, value in config.items() if not isinstance(value, np.ndarray)}
            arrays.update(
                {f"optim/{name}/{key}": value for key, value in config.items() if isinstance(value, np.ndarray)}
            )
        save_npz(f"{prefix}.npz", arrays)
        save_json(
            f"{prefix}.json",
            {
                "update_rule": self.update_rule_name,
                "optim_config": self.optim_config,
                "optim_state": optim_state,
                "lr_decay": self.lr_decay,
                "lr_schedule": self.lr_schedule,
                "warmup_epochs": self.warmup_epochs,
                "ema_decay": self.ema_decay,
                "augment": self.augmentation.to_dict(),
                "batch_size": self.batch_size,
                "num_epochs": self.num_epochs,
                "num_train_samples": self.num_train_samples,
                "num_val_samples": self.num_val_samples,
                "seed": self.seed,
                "epoch": self.epoch,
                "iteration": self.iteration,
                "best_val_acc": self.best_val_acc,
                "loss_history": self.loss_history,
                "lr_history": self.lr_history,
                "train_acc_history": self.train_acc_history,
                "val_acc_history": self.val_acc_history,
                "accuracy_iterations": self.accuracy_iterations,
            },
        )


def load_checkpoint(path: str | os.PathLike) -> dict:
    """Read a checkpoint written by Solver (path to its .npz, its .json, or the shared prefix).

    Returns the JSON fields plus ``params`` (name -> array) and ``optim_configs``
    (name -> config dict with its arrays restored).
    """
    prefix = Path(path)
    if prefix.suffix in (".npz", ".json"):
        prefix = prefix.with_suffix("")
    checkpoint = load_json(f"{prefix}.json")
    arrays = load_npz(f"{prefix}.npz")
    checkpoint["params"] = {k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith("params/")}
    optim_configs = {name: dict(values) for name, values in checkpoint.pop("optim_state").items()}
    for key, value in arrays.items():
        if key.startswith("optim/"):
            _, name, field = key.split("/", 2)
            optim_configs.setdefault(name, {})[field] = value
    checkpoint["optim_configs"] = optim_configs
    return checkpoint
