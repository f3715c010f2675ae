"""Solver: trains a torch TwoLayerNet with a PyTorch training loop, with the lab Solver's arguments and histories.

    solver = Solver(model, data, update_rule="sgd_momentum", optim_config={"learning_rate": 1e-4},
                    lr_decay=0.95, num_epochs=10, batch_size=200, seed=0)
    solver.train()

The loop is the usual one: DataLoader -> zero_grad -> loss.backward() -> optimizer.step() ->
scheduler.step(), torch.optim optimizers and one LambdaLR schedule (torch_impl.optim), and the
best-validation parameters kept and restored as a state_dict. Only the draws are shared with
the NumPy Solvers: which rows each step trains on, their flips and crops, and which rows each accuracy
estimate uses come from common.batches.BatchStream, so the same seed gives both Solvers the same
data and compare/ can check that their independent loops agree.

With ``checkpoint_name``, every accuracy check writes a checkpoint that ``load_checkpoint`` resumes
from: a fresh Solver with the same settings, loaded with it, trains on to exactly the numbers of
an uninterrupted run.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from common.artifacts import load_json, load_npz, save_json, save_npz
from common.batches import Augmentation, BatchStream
from common.training import (
    HISTORIES,
    check_checkpoint,
    check_finite,
    checkpoint_prefix,
    restore_progress,
    run_settings,
)
from torch_impl.data import batch_loader
from torch_impl.model import resolve_device
from torch_impl.optim import make_optimizer, make_scheduler


class Solver:
    """Minibatch training of ``model`` on data (X_train, y_train, X_val, y_val), as the NumPy Solvers do it.

    Arguments as numpy_recipe.Solver's (update_rule, optim_config, lr_decay, lr_schedule,
    warmup_epochs, augment, batch_size, num_epochs, num_train_samples, num_val_samples,
    checkpoint_name, print_every, verbose, seed, on_iteration, on_epoch), plus ``device``.
    Histories: loss_history and lr_history (the rate each update used); train_acc_history,
    val_acc_history and accuracy_iterations (updates made before each check).
    """

    def __init__(
        self,
        model: torch.nn.Module,
        data: dict,
        *,
        update_rule: str = "sgd",
        optim_config: dict | None = None,
        lr_decay: float = 1.0,
        lr_schedule: str = "step",
        warmup_epochs: float = 0.0,
        augment: dict | None = None,
        batch_size: int = 100,
        num_epochs: int = 10,
        num_train_samples: int | None = 1000,
        num_val_samples: int | None = None,
        checkpoint_name: str | None = None,
        print_every: int = 10,
        verbose: bool = True,
        seed: int | None = None,
        device: str | torch.device | None = None,
        on_iteration: Callable | None = None,
        on_epoch: Callable | None = None,
    ):
        for name, value in (("batch_size", batch_size), ("num_epochs", num_epochs), ("print_every", print_every)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"Solver: {name} must be a positive integer; got {value!r}")
        if not (isinstance(warmup_epochs, (int, float)) and 0 <= warmup_epochs <= num_epochs):
            raise ValueError(
                f"Solver: warmup_epochs must be a number in [0, num_epochs = {num_epochs}]; got {warmup_epochs!r}"
            )
        missing = [key for key in ("X_train", "y_train", "X_val", "y_val") if key not in data]
        if missing:
            raise ValueError(f"Solver: data is missing {', '.join(missing)}")
        self.device = resolve_device(device) if device is not None else model.device
        self.model = model.to(self.device)
        self.X_train, self.y_train = torch.from_numpy(data["X_train"]), torch.from_numpy(data["y_train"]).long()
        self.X_val, self.y_val = torch.from_numpy(data["X_val"]), torch.from_numpy(data["y_val"]).long()
        self.update_rule, self.optim_config = update_rule, dict(optim_config or {})
        self.lr_decay, self.lr_schedule, self.warmup_epochs = lr_decay, lr_schedule, warmup_epochs
        self.batch_size, self.num_epochs, self.seed = batch_size, num_epochs, seed
        self.num_train_samples, self.num_val_samples = num_train_samples, num_val_samples
        self.checkpoint_name, self.print_every, self.verbose = checkpoint_name, print_every, verbose
        self.on_iteration, self.on_epoch = on_iteration, on_epoch

        self.iterations_per_epoch = max(len(self.X_train) // batch_size, 1)
        self.num_iterations = num_epochs * self.iterations_per_epoch
        self.stream = BatchStream(len(self.X_train), batch_size, seed, Augmentation.from_dict(augment))
        self.loader = batch_loader(self.X_train, self.y_train, self.stream)
        self.optimizer = make_optimizer(update_rule, self.model.parameters(), optim_config, lr_decay, lr_schedule)
        self.initial_learning_rate = float(self.optimizer.param_groups[0]["lr"])
        warmup_iterations = round(warmup_epochs * self.iterations_per_epoch)
        self.scheduler = make_scheduler(
            self.optimizer, lr_schedule, lr_decay, self.iterations_per_epoch, self.num_iterations, warmup_iterations
        )

        self.epoch = self.iteration = 0
        self.best_val_acc, self.best_state = 0.0, None
        self.loss_history: list[float] = []
        self.lr_history: list[float] = []
        self.train_acc_history: list[float] = []
        self.val_acc_history: list[float] = []
        self.accuracy_iterations: list[int] = []
        self._checkpoint: str | None = None  # the prefix of the newest checkpoint written

    def train(self) -> None:
        """Updates up to num_epochs epochs, from ``self.iteration`` on (0, or a loaded checkpoint's); accuracy is
        checked after the first update and after every epoch."""
        self.model.train()
        for X, y in itertools.islice(self.loader, self.num_iterations - self.iteration):
            X, y = X.to(self.device, self.model.dtype), y.to(self.device)
            lr = self.optimizer.param_groups[0]["lr"]
            loss = self.model.objective(self.model(X), y)
            loss_value = loss.item()  # the step's one synchronisation: checked, then recorded
            check_finite(loss_value, self.iteration, self.epoch, self.initial_learning_rate, inputs=X)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            self.scheduler.step()
            self._record_update(loss_value, lr)
            if self.iteration % self.iterations_per_epoch == 0:
                self.epoch += 1
                self._check_accuracies()
            elif self.iteration == 1:
                self._check_accuracies()  # the lab also checks after the first update
        self.restore_best_params()

    def _record_update(self, loss: float, lr: float) -> None:
        self.iteration += 1
        self.loss_history.append(loss)
        self.lr_history.append(lr)
        if self.verbose and (self.iteration - 1) % self.print_every == 0:
            print(f"(Iteration {self.iteration} / {self.num_iterations}) loss: {loss:f}")
        if self.on_iteration is not None:
            self.on_iteration(self)

    def _check_accuracies(self) -> None:
        """Record train and validation accuracy; keep the parameters if validation is the best so far."""
        train_acc = self.check_accuracy(self.X_train, self.y_train, self.num_train_samples)
        val_acc = self.check_accuracy(self.X_val, self.y_val, self.num_val_samples)
        self.train_acc_history.append(train_acc)
        self.val_acc_history.append(val_acc)
        self.accuracy_iterations.append(self.iteration)
        if self.verbose:
            print(f"(Epoch {self.epoch} / {self.num_epochs}) train acc: {train_acc:f}; val_acc: {val_acc:f}")
        if val_acc > self.best_val_acc or self.best_state is None:
            self.best_val_acc = val_acc
            self.best_state = {name: value.detach().clone() for name, value in self.model.state_dict().items()}
        self._save_checkpoint()
        if self.on_epoch is not None:
            self.on_epoch(self)

    def restore_best_params(self) -> None:
        """Load the best-validation state into the model (train() ends with this; an interrupted run may call it)."""
        if self.best_state is not None:
            self.model.load_state_dict(self.best_state)

    def check_accuracy(
        self, X: np.ndarray | torch.Tensor, y: np.ndarray | torch.Tensor, num_samples: int | None = None, batch_size=100
    ) -> float:
        """Fraction of rows of X (N, ...) classified as y (N,), on a random subset of num_samples if given."""
        X, y = torch.as_tensor(X), torch.as_tensor(y)
        subset = self.stream.subsample(len(X), num_samples)
        if subset is not None:
            X, y = X[torch.from_numpy(subset)], y[torch.from_numpy(subset)]
        self.model.eval()
        with torch.no_grad():
            labels = [
                self.model(X[i : i + batch_size].to(self.device, self.model.dtype)).argmax(dim=1)
                for i in range(0, len(X), batch_size)
            ]
        self.model.train()
        return float((torch.cat(labels).cpu() == y).double().mean())

    def settings(self) -> dict:
        """What fixes this run's numbers besides the model and data (common.training.run_settings)."""
        return run_settings(self, self.update_rule, str(self.model.dtype).removeprefix("torch."))

    def _save_checkpoint(self) -> None:
        """Write <checkpoint_name>_epoch_<epoch>.npz (the tensors) and .json (the rest), then delete the previous
        pair: the newest checkpoint holds all that load_checkpoint needs to continue."""
        if self.checkpoint_name is None:
            return
        prefix = f"{self.checkpoint_name}_epoch_{self.epoch}"
        optimizer, names = self.optimizer.state_dict(), self._parameter_names()
        arrays = {f"state/{name}": value.cpu().numpy() for name, value in self.model.state_dict().items()}
        arrays.update({f"best/{name}": value.cpu().numpy() for name, value in self.best_state.items()})
        optimizer_scalars = {}
        for index, state in optimizer["state"].items():
            for key, value in state.items():
                if torch.is_tensor(value):
                    arrays[f"optim/{names[index]}/{key}"] = value.cpu().numpy()
                else:
                    optimizer_scalars.setdefault(names[index], {})[key] = value
        save_npz(f"{prefix}.npz", arrays)
        save_json(
            f"{prefix}.json",
            {
                **self.settings(),
                "epoch": self.epoch,
                "iteration": self.iteration,
                "best_val_acc": self.best_val_acc,
                **{name: getattr(self, name) for name in HISTORIES},
                "optimizer": {"param_groups": optimizer["param_groups"], "scalars": optimizer_scalars},
                "scheduler": self.scheduler.state_dict(),
                "stream": self.stream.state_dict(),
            },
        )
        if self._checkpoint is not None and self._checkpoint != prefix:
            for suffix in (".npz", ".json"):
                Path(f"{self._checkpoint}{suffix}").unlink(missing_ok=True)
        self._checkpoint = prefix

    def _parameter_names(self) -> list[str]:
        """The model's parameter names in the optimizer's order (its state_dict numbers them)."""
        names = {id(p): name for name, p in self.model.named_parameters()}
        return [names[id(p)] for group in self.optimizer.param_groups for p in group["params"]]

    def load_checkpoint(self, path: str | os.PathLike) -> None:
        """Restore a checkpoint (its .npz, .json or their prefix) into this freshly built Solver; ``train()`` then
        continues from it. The checkpoint's settings must be this Solver's."""
        prefix = checkpoint_prefix(path)
        if self.iteration:
            raise ValueError(f"load_checkpoint: this Solver has trained {self.iteration} updates; load into a new one")
        needed = ("optimizer", "scheduler", "stream")
        saved = check_checkpoint(load_json(f"{prefix}.json"), prefix, needed, self.settings(), "torch_impl")
        arrays = load_npz(f"{prefix}.npz")

        def tensors(group: str) -> dict[str, torch.Tensor]:
            return {
                name.removeprefix(f"{group}/"): torch.from_numpy(value)
                for name, value in arrays.items()
                if name.startswith(f"{group}/")
            }

        self.model.load_state_dict(tensors("state"))
        self.best_state = {name: value.to(self.device) for name, value in tensors("best").items()}
        index = {name: i for i, name in enumerate(self._parameter_names())}
        state = {index[name]: dict(values) for name, values in saved["optimizer"]["scalars"].items()}
        for name, value in tensors("optim").items():
            parameter, key = name.rsplit("/", 1)
            state.setdefault(index[parameter], {})[key] = value
        groups = self.optimizer.state_dict()["param_groups"]
        saved_groups = [
            {key: tuple(value) if isinstance(group.get(key), tuple) else value for key, value in saved_group.items()}
            for group, saved_group in zip(groups, saved["optimizer"]["param_groups"], strict=True)
        ]
        self.optimizer.load_state_dict({"state": state, "param_groups": saved_groups})
        self.scheduler.load_state_dict(saved["scheduler"])
        if restore_progress(self, saved, prefix):
            self._checkpoint = prefix  # this run's own: replaced by the next one it writes
