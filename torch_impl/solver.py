"""Solver: trains a torch TwoLayerNet with a PyTorch training loop, with the lab Solver's arguments and histories.

    solver = Solver(model, data, update_rule="sgd_momentum", optim_config={"learning_rate": 1e-4},
                    lr_decay=0.95, num_epochs=10, batch_size=200, seed=0)
    solver.train()

The loop is the usual one: DataLoader -> zero_grad -> loss.backward() -> optimizer.step() ->
scheduler.step(), torch.optim optimizers (torch_impl.optim), torch.optim.lr_scheduler schedules,
and the best-validation parameters kept and restored as a state_dict. Only the draws are shared
with numpy_impl: which rows each step trains on, their flips and crops, and which rows each
accuracy estimate uses come from common.batches.BatchStream, so the same seed gives both
Solvers the same data and compare/ can check that their independent loops agree.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import numpy as np
import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from common.artifacts import save_json, save_npz
from common.batches import Augmentation, BatchStream
from torch_impl.data import batch_loader
from torch_impl.model import resolve_device
from torch_impl.optim import make_optimizer, make_scheduler


class TrainingDivergedError(FloatingPointError):
    """The loss became NaN or infinite: training stopped instead of continuing on garbage."""


class Solver:
    """Minibatch training of ``model`` on data (X_train, y_train, X_val, y_val), as numpy_impl.Solver does it.

    Arguments as numpy_impl.Solver's (update_rule, optim_config, lr_decay, lr_schedule,
    warmup_epochs, ema_decay, augment, batch_size, num_epochs, num_train_samples, num_val_samples,
    checkpoint_name, print_every, verbose, seed, on_iteration, on_epoch), plus ``device``.
    ema_decay > 0 keeps torch's own moving average of the weights (``swa_utils.AveragedModel`` with
    ``get_ema_multi_avg_fn``), which the accuracy checks, the best-validation choice and the restore use.
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
        ema_decay: float = 0.0,
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
        if not (isinstance(ema_decay, (int, float)) and 0 <= ema_decay < 1):
            raise ValueError(f"Solver: ema_decay must be in [0, 1) (0: no averaging); got {ema_decay!r}")
        missing = [key for key in ("X_train", "y_train", "X_val", "y_val") if key not in data]
        if missing:
            raise ValueError(f"Solver: data is missing {', '.join(missing)}")
        self.device = resolve_device(device) if device is not None else model.device
        self.model = model.to(self.device)
        self.X_train, self.y_train = torch.from_numpy(data["X_train"]), torch.from_numpy(data["y_train"]).long()
        self.X_val, self.y_val = torch.from_numpy(data["X_val"]), torch.from_numpy(data["y_val"]).long()
        self.update_rule, self.lr_decay, self.lr_schedule = update_rule, lr_decay, lr_schedule
        self.batch_size, self.num_epochs, self.seed = batch_size, num_epochs, seed
        self.num_train_samples, self.num_val_samples = num_train_samples, num_val_samples
        self.checkpoint_name, self.print_every, self.verbose = checkpoint_name, print_every, verbose
        self.on_iteration, self.on_epoch = on_iteration, on_epoch

        self.iterations_per_epoch = max(len(self.X_train) // batch_size, 1)
        self.num_iterations = num_epochs * self.iterations_per_epoch
        image_size = tuple(self.X_train.shape[2:]) if self.X_train.ndim == 4 else None
        self.stream = BatchStream(len(self.X_train), batch_size, seed, Augmentation.from_dict(augment), image_size)
        self.loader = batch_loader(self.X_train, self.y_train, self.stream)
        self.optimizer = make_optimizer(
            update_rule, self.model.parameters(), optim_config, constant_lr=lr_schedule == "step" and lr_decay == 1.0
        )
        self.initial_learning_rate = float(self.optimizer.param_groups[0]["lr"])
        warmup_iterations = round(warmup_epochs * self.iterations_per_epoch)
        self.scheduler, self.scheduler_interval = make_scheduler(
            self.optimizer, lr_schedule, lr_decay, self.num_iterations, warmup_iterations
        )
        self.ema_decay = ema_decay
        self.ema_model = AveragedModel(self.model, multi_avg_fn=get_ema_multi_avg_fn(ema_decay)) if ema_decay else None
        if seed is not None:
            torch.manual_seed(seed)  # nn.Dropout's masks

        self.epoch = self.iteration = 0
        self.best_val_acc, self.best_state = 0.0, None
        self.loss_history: list[float] = []
        self.lr_history: list[float] = []
        self.train_acc_history: list[float] = []
        self.val_acc_history: list[float] = []
        self.accuracy_iterations: list[int] = []

    def train(self) -> None:
        """num_epochs epochs of updates; accuracy is checked after the first update and after every epoch."""
        batches = iter(self.loader)
        for _ in range(self.num_epochs):
            self.model.train()
            for X, y, mix in itertools.islice(batches, self.iterations_per_epoch):
                X, y = X.to(self.device, self.model.dtype), y.to(self.device)
                mix = None if mix is None else (mix[0].to(self.device), mix[1])
                lr = self.optimizer.param_groups[0]["lr"]
                loss = self.model.objective(self.model(X), y, mix)
                self._check_finite(loss.item())
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
                if self.ema_model is not None:
                    self.ema_model.update_parameters(self.model)  # the first call copies the weights
                if self.scheduler_interval == "update":
                    self.scheduler.step()
                self._record_update(loss.item(), lr)
                if self.iteration == 1 and self.iterations_per_epoch > 1:
                    self._check_accuracies()  # the lab also checks after the first update
            self.epoch += 1
            if self.scheduler_interval == "epoch":
                self.scheduler.step()
            self._check_accuracies()
        self.restore_best_params()

    def _record_update(self, loss: float, lr: float) -> None:
        self.iteration += 1
        self.loss_history.append(loss)
        self.lr_history.append(lr)
        if self.verbose and (self.iteration - 1) % self.print_every == 0:
            print(f"(Iteration {self.iteration} / {self.num_iterations}) loss: {loss:f}")
        if self.on_iteration is not None:
            self.on_iteration(self)

    def _check_finite(self, loss: float) -> None:
        """Stop with a clear message when the loss is NaN or infinite."""
        if not math.isfinite(loss):
            lr = self.initial_learning_rate
            if self.iteration == 0:  # no update has happened yet: the learning rate cannot be the cause
                raise TrainingDivergedError(
                    f"loss is {loss} at the first iteration, before any update: the initial weights (their "
                    "scale) or the inputs overflow, not the learning rate; try a smaller weight scale."
                )
            raise TrainingDivergedError(
                f"loss became {loss} at iteration {self.iteration + 1} (epoch {self.epoch + 1}): training "
                f"diverged. The learning rate {lr:g} is probably too large; try a smaller one, e.g. {lr / 10:g}."
            )

    def _check_accuracies(self) -> None:
        """Record train and validation accuracy; keep the parameters if validation is the best so far.

        With ema_decay, the moving average is what is checked and kept."""
        evaluated = self.ema_model.module if self.ema_model is not None else self.model
        train_acc = self.check_accuracy(self.X_train, self.y_train, self.num_train_samples, model=evaluated)
        val_acc = self.check_accuracy(self.X_val, self.y_val, self.num_val_samples, model=evaluated)
        self.train_acc_history.append(train_acc)
        self.val_acc_history.append(val_acc)
        self.accuracy_iterations.append(self.iteration)
        if self.verbose:
            print(f"(Epoch {self.epoch} / {self.num_epochs}) train acc: {train_acc:f}; val_acc: {val_acc:f}")
        if val_acc > self.best_val_acc or self.best_state is None:
            self.best_val_acc = val_acc
            self.best_state = {name: value.detach().clone() for name, value in evaluated.state_dict().items()}
        self._save_checkpoint()
        if self.on_epoch is not None:
            self.on_epoch(self)

    def restore_best_params(self) -> None:
        """Load the best-validation state into the model (train() ends with this; an interrupted run may call it)."""
        if self.best_state is not None:
            self.model.load_state_dict(self.best_state)

    @torch.no_grad()
    def predict(self, X: np.ndarray | torch.Tensor, batch_size: int = 100, *, model=None) -> np.ndarray:
        """Predicted class for every row of X (N, ...) -> (N,), computed batch_size rows at a time, without dropout,
        by ``model`` (default: the Solver's model)."""
        model = self.model if model is None else model
        training = model.training
        model.eval()
        X = torch.as_tensor(X)
        labels = [
            model(X[start : start + batch_size].to(self.device, model.dtype)).argmax(dim=1)
            for start in range(0, len(X), batch_size)
        ]
        model.train(training)
        return torch.cat(labels).cpu().numpy()

    def check_accuracy(
        self,
        X: np.ndarray | torch.Tensor,
        y: np.ndarray | torch.Tensor,
        num_samples: int | None = None,
        batch_size: int = 100,
        *,
        model=None,
    ) -> float:
        """Fraction of rows of X (N, ...) classified as y (N,) by ``model`` (default: the Solver's), on a random
        subset of num_samples if given."""
        X, y = torch.as_tensor(X), torch.as_tensor(y)
        subset = self.stream.subsample(len(X), num_samples)
        if subset is not None:
            X, y = X[torch.from_numpy(subset)], y[torch.from_numpy(subset)]
        return float(np.mean(self.predict(X, batch_size, model=model) == y.numpy()))

    def _save_checkpoint(self) -> None:
        """Write <checkpoint_name>_epoch_<epoch>.npz (state_dict, optimizer tensors) and .json (the rest)."""
        if self.checkpoint_name is None:
            return
        prefix = f"{self.checkpoint_name}_epoch_{self.epoch}"
        arrays = {f"state/{name}": value.cpu().numpy() for name, value in self.model.state_dict().items()}
        if self.ema_model is not None:
            arrays.update({f"ema/{name}": v.cpu().numpy() for name, v in self.ema_model.module.state_dict().items()})
        names = {p: name for name, p in self.model.named_parameters()}
        for p, state in self.optimizer.state.items():
            arrays.update(
                {
                    f"optim/{names[p]}/{key}": value.cpu().numpy()
                    for key, value in state.items()
                    if torch.is_tensor(value) and value.ndim > 0
                }
            )
        save_npz(f"{prefix}.npz", arrays)
        save_json(
            f"{prefix}.json",
            {
                "update_rule": self.update_rule,
                "lr_schedule": self.lr_schedule,
                "lr_decay": self.lr_decay,
                "ema_decay": self.ema_decay,
                "batch_size": self.batch_size,
                "num_epochs": self.num_epochs,
                "seed": self.seed,
                "epoch": self.epoch,
                "iteration": self.iteration,
                "best_val_acc": self.best_val_acc,
                "scheduler": self.scheduler.state_dict(),
                "loss_history": self.loss_history,
                "lr_history": self.lr_history,
                "train_acc_history": self.train_acc_history,
                "val_acc_history": self.val_acc_history,
                "accuracy_iterations": self.accuracy_iterations,
            },
        )
