"""Solver: trains a classification model with minibatch gradient descent, as in the lab.

    solver = Solver(model, data, update_rule="sgd", optim_config={"learning_rate": 1e-3},
                    lr_decay=0.95, num_epochs=10, batch_size=100, print_every=100, seed=0)
    solver.train()

``model`` needs ``params`` (a dict of arrays) and ``loss(X, y=None)`` returning scores,
or ``(loss, grads)`` with grads keyed like params. ``data`` holds X_train, y_train,
X_val, y_val. After ``train()`` the model holds the params that scored best on validation.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Callable

import numpy as np

from numpy_impl.artifacts import load_json, load_npz, save_json, save_npz
from numpy_impl.augment import augment_batch
from numpy_impl.optim import DEFAULT_CONFIGS, get_update_rule
from numpy_impl.rng import make_rng
from numpy_impl.schedules import check_lr_schedule, warmup_cosine_factor

DEFAULTS = {
    "update_rule": "sgd",
    "optim_config": None,
    "lr_decay": 1.0,
    "lr_schedule": "step",
    "warmup_epochs": 0.0,
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


class Solver:
    """Minibatch training loop with per-epoch learning-rate decay, accuracy histories and best-val restore.

    Keyword arguments (defaults as in the lab): update_rule ("sgd", "sgd_momentum", "rmsprop", "adam",
    or "sgd_nesterov"), optim_config, lr_decay, batch_size, num_epochs, num_train_samples, num_val_samples,
    checkpoint_name, print_every, verbose; plus seed (one generator for every minibatch and
    accuracy subsample: same seed, same run; None draws from np.random like the lab) and the
    hooks on_iteration(solver) after each step and on_epoch(solver) after each accuracy check.

    Beyond the lab: lr_schedule "step" (the lab's: lr *= lr_decay after each epoch) or "cosine"
    (linear warm-up over warmup_epochs, then cosine decay to 0 at the last update, set before
    every update); augment, None or {"flip": bool, "padding": int}: each training batch is
    randomly flipped and cropped (numpy_impl.augment) with its own generator (seed stream 2),
    so augmentation does not change which images are drawn.
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
                raise ValueError(f"Solver: X_{split} has {len(X)} rows but y_{split} has {len(y)} labels; "
                                 "they must match and be non-empty")

        self.model = model
        self.X_train, self.y_train = np.asarray(data["X_train"]), np.asarray(data["y_train"])
        self.X_val, self.y_val = np.asarray(data["X_val"]), np.asarray(data["y_val"])
        self._X_batch = self._y_batch = self._X_augmented = None

        self.update_rule_name = options["update_rule"]
        self.update_rule = get_update_rule(self.update_rule_name)
        self.optim_config = dict(options["optim_config"] or {})
        self.lr_decay = options["lr_decay"]
        self.lr_schedule = options["lr_schedule"]
        self.warmup_epochs = options["warmup_epochs"]
        self.augment = None if options["augment"] is None else {"flip": False, "padding": 0, **options["augment"]}
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
        self.rng = make_rng(self.seed)
        self.augment_rng = make_rng(self.seed, stream=2)
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
        check_lr_schedule(self.lr_schedule)
        if not (isinstance(self.warmup_epochs, (int, float)) and 0 <= self.warmup_epochs <= self.num_epochs):
            raise ValueError(f"Solver: warmup_epochs must be a number in [0, num_epochs = {self.num_epochs}]; "
                             f"got {self.warmup_epochs!r}")
        if self.augment is not None:
            unknown = sorted(set(self.augment) - {"flip", "padding"})
            padding = self.augment["padding"]
            if unknown or isinstance(padding, bool) or not isinstance(padding, (int, np.integer)) or padding < 0:
                raise ValueError(f"Solver: augment must be None or {{'flip': bool, 'padding': int >= 0}}; "
                                 f"got {self.augment!r}")
            if self.X_train.ndim != 4:
                raise ValueError(f"Solver: augment needs images (N, C, H, W); X_train has shape {self.X_train.shape}")

    def _reset(self) -> None:
        """Fresh bookkeeping and optimizer state."""
        self.epoch = 0
        self.iteration = 0
        self.best_val_acc = 0.0
        self.best_params: dict[str, np.ndarray] = {}
        self.loss_history: list[float] = []
        self.train_acc_history: list[float] = []
        self.val_acc_history: list[float] = []
        self._init_optimizer()

    def _init_optimizer(self) -> None:
        """One optimizer config per parameter; each update rule keeps its state there."""
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
    def at_epoch_end(self) -> bool:
        """Whether the current iteration is the last of an epoch (true inside on_epoch after each epoch)."""
        return (self.iteration + 1) % self.iterations_per_epoch == 0

    @property
    def learning_rate(self) -> float:
        """The current (decayed) learning rate."""
        config = next(iter(self.optim_configs.values()), {})
        return float(config.get("learning_rate", self.initial_learning_rate))

    @property
    def initial_learning_rate(self) -> float:
        return float(self.optim_config.get("learning_rate", DEFAULT_CONFIGS[self.update_rule_name]["learning_rate"]))

    def _sample_batch_indices(self) -> np.ndarray:
        """batch_size training indices drawn with replacement, as in the lab."""
        return self.rng.choice(self.num_train, self.batch_size)

    def _gather_batch(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """X_train[batch], y_train[batch], gathered into buffers reused at every step (no fresh allocation)."""
        if self._X_batch is None or len(self._X_batch) != len(batch):
            self._X_batch = np.empty((len(batch), *self.X_train.shape[1:]), dtype=self.X_train.dtype)
            self._y_batch = np.empty(len(batch), dtype=self.y_train.dtype)
        np.take(self.X_train, batch, axis=0, out=self._X_batch)
        np.take(self.y_train, batch, axis=0, out=self._y_batch)
        if self.augment is None:
            return self._X_batch, self._y_batch
        if self._X_augmented is None or self._X_augmented.shape != self._X_batch.shape:
            self._X_augmented = np.empty_like(self._X_batch)
        augment_batch(self._X_batch, self.augment_rng, self.augment["flip"], self.augment["padding"],
                      out=self._X_augmented)
        return self._X_augmented, self._y_batch

    def _scheduled_learning_rate(self) -> float:
        """The cosine schedule's learning rate for the update about to be made (iteration + 1)."""
        factor = warmup_cosine_factor(self.iteration + 1, self.num_iterations, self.warmup_iterations)
        return self.initial_learning_rate * factor

    def _step(self) -> float:
        """One gradient update on a fresh minibatch; returns its loss."""
        if self.lr_schedule == "cosine":
            lr = self._scheduled_learning_rate()
            for config in self.optim_configs.values():
                config["learning_rate"] = lr
        loss, grads = self.model.loss(*self._gather_batch(self._sample_batch_indices()))
        self._check_finite(loss)
        for name, w in self.model.params.items():
            next_w, self.optim_configs[name] = self.update_rule(w, grads[name], self.optim_configs[name])
            self.model.params[name] = next_w
        return float(loss)

    def _check_finite(self, loss) -> None:
        """Stop with a clear message when the loss is NaN or infinite."""
        if not math.isfinite(float(loss)):
            lr = self.initial_learning_rate
            raise TrainingDivergedError(
                f"loss became {float(loss)} at iteration {self.iteration + 1} (epoch {self.epoch + 1}): "
                f"training diverged. The learning rate {lr:g} is probably too large; "
                f"try a smaller one, e.g. {lr / 10:g}."
            )

    def _decay_learning_rate(self) -> None:
        """The lab's per-epoch decay (the cosine schedule sets the rate before each step instead)."""
        if self.lr_schedule != "step":
            return
        for config in self.optim_configs.values():
            config["learning_rate"] *= self.lr_decay

    def _predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted class per row of X (N, ...) -> (N,)."""
        return np.argmax(self.model.loss(X), axis=1)

    def current_params(self) -> dict[str, np.ndarray]:
        """Copies of the model's parameters, NumPy layout."""
        return {name: np.array(value, copy=True) for name, value in self.model.params.items()}

    def load_params(self, params: dict[str, np.ndarray]) -> None:
        self.model.params = {name: value.copy() for name, value in params.items()}

    def predict(self, X: np.ndarray, batch_size: int = 100) -> np.ndarray:
        """Predicted class for every row of X (N, ...) -> (N,), computed batch_size rows at a time."""
        return np.concatenate([self._predict(X[start:start + batch_size]) for start in range(0, len(X), batch_size)])

    def check_accuracy(self, X: np.ndarray, y: np.ndarray, num_samples: int | None = None,
                       batch_size: int = 100) -> float:
        """Fraction of rows of X (N, ...) classified as y (N,); on a random subset of num_samples if given."""
        if num_samples is not None and len(X) > num_samples:
            subset = self.rng.choice(len(X), num_samples)
            X, y = X[subset], y[subset]
        return float(np.mean(self.predict(X, batch_size) == y))

    def train(self) -> None:
        """Run num_epochs of minibatch updates, checking accuracy at the first step and each epoch end."""
        for t in range(self.num_iterations):
            self.iteration = t
            loss = self._step()
            self.loss_history.append(loss)
            if self.verbose and t % self.print_every == 0:
                print(f"(Iteration {t + 1} / {self.num_iterations}) loss: {loss:f}")
            if self.on_iteration is not None:
                self.on_iteration(self)

            epoch_end = self.at_epoch_end
            if epoch_end:
                self.epoch += 1
                self._decay_learning_rate()

            if t == 0 or t == self.num_iterations - 1 or epoch_end:
                train_acc = self.check_accuracy(self.X_train, self.y_train, num_samples=self.num_train_samples)
                val_acc = self.check_accuracy(self.X_val, self.y_val, num_samples=self.num_val_samples)
                self.train_acc_history.append(train_acc)
                self.val_acc_history.append(val_acc)
                if self.verbose:
                    print(f"(Epoch {self.epoch} / {self.num_epochs}) train acc: {train_acc:f}; val_acc: {val_acc:f}")
                if val_acc > self.best_val_acc or not self.best_params:
                    self.best_val_acc = val_acc
                    self.best_params = self.current_params()
                self._save_checkpoint()
                if self.on_epoch is not None:
                    self.on_epoch(self)

        if self.best_params:
            self.load_params(self.best_params)

    def _optimizer_state(self) -> tuple[dict[str, np.ndarray], dict[str, dict]]:
        """Split the per-parameter configs into arrays (velocity, m, ...) and plain values."""
        arrays, scalars = {}, {}
        for name, config in self.optim_configs.items():
            scalars[name] = {}
            for key, value in config.items():
                if isinstance(value, np.ndarray):
                    arrays[f"optim/{name}/{key}"] = np.asarray(value)
                else:
                    scalars[name][key] = value
        return arrays, scalars

    def _save_checkpoint(self) -> None:
        """Write <checkpoint_name>_epoch_<epoch>.npz (params, optimizer arrays) and .json (the rest)."""
        if self.checkpoint_name is None:
            return
        prefix = f"{self.checkpoint_name}_epoch_{self.epoch}"
        optim_arrays, optim_scalars = self._optimizer_state()
        params = self.current_params()
        save_npz(f"{prefix}.npz", {**{f"params/{k}": v for k, v in params.items()}, **optim_arrays})
        save_json(f"{prefix}.json", {
            "update_rule": self.update_rule_name,
            "optim_config": self.optim_config,
            "optim_state": optim_scalars,
            "lr_decay": self.lr_decay,
            "lr_schedule": self.lr_schedule,
            "warmup_epochs": self.warmup_epochs,
            "augment": self.augment,
            "batch_size": self.batch_size,
            "num_epochs": self.num_epochs,
            "num_train_samples": self.num_train_samples,
            "num_val_samples": self.num_val_samples,
            "seed": self.seed,
            "epoch": self.epoch,
            "iteration": self.iteration + 1,
            "best_val_acc": self.best_val_acc,
            "loss_history": self.loss_history,
            "train_acc_history": self.train_acc_history,
            "val_acc_history": self.val_acc_history,
        })


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
