"""Solver: trains a classification model with minibatch gradient descent, as in the lab.

    solver = Solver(model, data, update_rule="sgd", optim_config={"learning_rate": 1e-3},
                    lr_decay=0.95, num_epochs=10, batch_size=100, print_every=100, seed=0)
    solver.train()

``model`` needs ``params`` (a dict of arrays) and ``loss(X, y=None)`` returning scores,
or ``(loss, grads)`` with grads keyed like params. ``data`` holds X_train, y_train,
X_val, y_val. After ``train()`` the model holds the params that scored best on validation.

Which images each step trains on, and which images each accuracy estimate uses, come from a
seeded ``common.batches.BatchStream``: the same draws torch_impl's Solver consumes (with
seed=None, np.random's, as the lab's ``np.random.choice``).
"""

from __future__ import annotations

import numpy as np

from common.artifacts import save_json, save_npz
from common.batches import BatchStream
from numpy_impl import optim


class Solver:
    """Minibatch training loop with per-epoch learning-rate decay, accuracy histories and best-val restore.

    Keyword arguments (defaults as in the lab): update_rule (a function name in numpy_impl.optim),
    optim_config, lr_decay, batch_size, num_epochs, num_train_samples, num_val_samples,
    checkpoint_name, print_every, verbose; and seed (the batch stream's: same seed, same run).
    """

    optim = optim  # the module whose functions are the update rules, looked up by name

    def __init__(self, model, data, **kwargs):
        self.model = model
        missing = [key for key in ("X_train", "y_train", "X_val", "y_val") if key not in data]
        if missing:
            raise ValueError(f"Solver: data is missing {', '.join(missing)}; it needs X_train, y_train, X_val, y_val")
        self.X_train, self.y_train = data["X_train"], data["y_train"]
        self.X_val, self.y_val = data["X_val"], data["y_val"]

        self.update_rule = kwargs.pop("update_rule", "sgd")
        self.optim_config = kwargs.pop("optim_config", None) or {}
        self.lr_decay = kwargs.pop("lr_decay", 1.0)
        self.batch_size = kwargs.pop("batch_size", 100)
        self.num_epochs = kwargs.pop("num_epochs", 10)
        self.num_train_samples = kwargs.pop("num_train_samples", 1000)
        self.num_val_samples = kwargs.pop("num_val_samples", None)
        self.checkpoint_name = kwargs.pop("checkpoint_name", None)
        self.print_every = kwargs.pop("print_every", 10)
        self.verbose = kwargs.pop("verbose", True)
        self.seed = kwargs.pop("seed", None)
        if kwargs:
            raise ValueError(f"Solver: unrecognized arguments {', '.join(sorted(kwargs))}")
        self._check_arguments()
        self.update_rule_name = self.update_rule
        self.update_rule = getattr(self.optim, self.update_rule)
        self.stream = BatchStream(len(self.X_train), self.batch_size, self.seed)
        self._reset()

    def _check_arguments(self):
        """Raise ValueError for data or a setting that cannot train, saying what is expected."""
        for X, y, split in ((self.X_train, self.y_train, "train"), (self.X_val, self.y_val, "val")):
            if len(X) != len(y) or len(X) == 0:
                raise ValueError(
                    f"Solver: X_{split} has {len(X)} rows but y_{split} has {len(y)} labels; "
                    "they must match and be non-empty"
                )
        for name in ("batch_size", "num_epochs", "print_every"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"Solver: {name} must be a positive integer; got {value!r}")
        if not (isinstance(self.lr_decay, (int, float)) and 0 < self.lr_decay <= 1):
            raise ValueError(f"Solver: lr_decay must be in (0, 1]; got {self.lr_decay!r}")
        if not callable(getattr(self.optim, str(self.update_rule), None)):
            rules = [name for name, value in vars(self.optim).items() if callable(value) and not name[0].isupper()]
            raise ValueError(f"Solver: unknown update_rule {self.update_rule!r}; expected one of {', '.join(rules)}")

    def _reset(self):
        """Fresh bookkeeping, and one optimizer config per parameter (each update rule keeps its state there)."""
        self.epoch = 0
        self.iteration = 0  # updates made so far
        self.best_val_acc = 0
        self.best_params = {}
        self.loss_history = []
        self.train_acc_history = []
        self.val_acc_history = []
        self.optim_configs = {p: dict(self.optim_config) for p in self.model.params}

    def _step(self):
        """One gradient update on the stream's next minibatch."""
        batch_mask = self.stream.next_batch().indices
        X_batch, y_batch = self.X_train[batch_mask], self.y_train[batch_mask]

        loss, grads = self.model.loss(X_batch, y_batch)
        self.loss_history.append(float(loss))

        for p, w in self.model.params.items():
            next_w, next_config = self.update_rule(w, grads[p], self.optim_configs[p])
            self.model.params[p] = next_w
            self.optim_configs[p] = next_config

    def check_accuracy(self, X, y, num_samples=None, batch_size=100):
        """Fraction of rows of X (N, ...) classified as y (N,); on a random subset of num_samples if given."""
        subset = self.stream.subsample(len(X), num_samples)
        if subset is not None:
            X, y = X[subset], y[subset]
        y_pred = [np.argmax(self.model.loss(X[i : i + batch_size]), axis=1) for i in range(0, len(X), batch_size)]
        return float(np.mean(np.hstack(y_pred) == y))

    @property
    def iterations_per_epoch(self):
        return max(len(self.X_train) // self.batch_size, 1)

    @property
    def num_iterations(self):
        return self.num_epochs * self.iterations_per_epoch

    def train(self):
        """Run the updates of num_epochs epochs, checking accuracy after the first update and after each epoch."""
        for t in range(self.iteration, self.num_iterations):
            self._step()
            self.iteration = t + 1
            if self.verbose and t % self.print_every == 0:
                print(f"(Iteration {t + 1} / {self.num_iterations}) loss: {self.loss_history[-1]:f}")

            epoch_end = (t + 1) % self.iterations_per_epoch == 0
            if epoch_end:
                self.epoch += 1
                for config in self.optim_configs.values():
                    config["learning_rate"] *= self.lr_decay

            if t == 0 or t == self.num_iterations - 1 or epoch_end:
                train_acc = self.check_accuracy(self.X_train, self.y_train, num_samples=self.num_train_samples)
                val_acc = self.check_accuracy(self.X_val, self.y_val, num_samples=self.num_val_samples)
                self.train_acc_history.append(train_acc)
                self.val_acc_history.append(val_acc)
                if self.verbose:
                    print(f"(Epoch {self.epoch} / {self.num_epochs}) train acc: {train_acc:f}; val_acc: {val_acc:f}")
                if val_acc > self.best_val_acc or not self.best_params:
                    self.best_val_acc = val_acc
                    self.best_params = {k: v.copy() for k, v in self.model.params.items()}
                self._save_checkpoint()

        self.model.params = {k: v.copy() for k, v in self.best_params.items()}

    def _save_checkpoint(self):
        """Write <checkpoint_name>_epoch_<epoch>.npz (params) and .json (settings and histories), if named."""
        if self.checkpoint_name is None:
            return
        prefix = f"{self.checkpoint_name}_epoch_{self.epoch}"
        save_npz(f"{prefix}.npz", {f"params/{k}": v for k, v in self.model.params.items()})
        save_json(
            f"{prefix}.json",
            {
                "update_rule": self.update_rule_name,
                "lr_decay": self.lr_decay,
                "batch_size": self.batch_size,
                "num_epochs": self.num_epochs,
                "num_train_samples": self.num_train_samples,
                "num_val_samples": self.num_val_samples,
                "seed": self.seed,
                "epoch": self.epoch,
                "iteration": self.iteration,
                "loss_history": self.loss_history,
                "train_acc_history": self.train_acc_history,
                "val_acc_history": self.val_acc_history,
            },
        )
