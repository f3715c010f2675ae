"""Solver for torch_impl.TwoLayerNet: numpy_impl.Solver's loop, with autograd, torch.optim and a DataLoader.

The loop, histories, best-validation restore, checkpoints and every random draw are
numpy_impl.Solver's own (this class inherits them), so the same seed yields the same
minibatch indices, and the same augmented images, in both: the DataLoader's dataset is the
NumPy Solver's own batch gathering. What differs is the step: forward, ``loss.backward()``,
``optimizer.step()``, with the learning rate set by ``ExponentialLR`` (the lab's per-epoch
decay) or ``LambdaLR`` over numpy_impl.schedules' warm-up + cosine factor, stepped per update.
Dropout masks come from torch's generator, seeded with the Solver's seed.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from numpy_impl.schedules import warmup_cosine_factor
from numpy_impl.solver import Solver as NumpySolver
from torch_impl.model import resolve_device
from torch_impl.optim import make_optimizer


class DrawnBatches(Sampler):
    """Yields one minibatch of indices per step, drawn on demand by ``draw()``: an endless stream."""

    def __init__(self, draw):
        self.draw = draw

    def __iter__(self):
        while True:
            yield torch.from_numpy(self.draw())


class GatheredBatches(Dataset):
    """Dataset whose item for a batch of indices is the (X, y) minibatch gathered (and augmented) by ``gather``."""

    def __init__(self, gather):
        self.gather = gather

    def __getitem__(self, indices: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        X, y = self.gather(indices.numpy())
        return torch.from_numpy(X), torch.from_numpy(np.asarray(y, dtype=np.int64))


class Solver(NumpySolver):
    """Same arguments and semantics as numpy_impl.Solver, plus ``device`` ("cpu" or "cuda")."""

    def __init__(self, model, data: dict, device: str | torch.device | None = None, **kwargs):
        self.device = resolve_device(device) if device is not None else model.device
        model.to(self.device)
        super().__init__(model, data, **kwargs)
        if self.seed is not None:
            torch.manual_seed(self.seed)  # the dropout masks
        # Each batch is gathered (and augmented) in NumPy by the parent's code, then moves to the device.
        loader = DataLoader(GatheredBatches(self._gather_batch), sampler=DrawnBatches(self._sample_batch_indices),
                            batch_size=None)
        self._batches = iter(loader)

    def _init_optimizer(self) -> None:
        constant_lr = self.lr_schedule == "step" and self.lr_decay == 1.0
        self.optimizer = make_optimizer(self.update_rule_name, self.model.parameters(), self.optim_config,
                                        constant_lr=constant_lr)
        if self.lr_schedule == "step":
            self.scheduler = torch.optim.lr_scheduler.ExponentialLR(self.optimizer, gamma=self.lr_decay)
        else:
            total, warmup = self.num_iterations, self.warmup_iterations
            self.scheduler = torch.optim.lr_scheduler.LambdaLR(
                self.optimizer, lambda done: warmup_cosine_factor(min(done + 1, total), total, warmup))
        self.optim_configs = {}

    @property
    def learning_rate(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def _step(self) -> float:
        X_batch, y_batch = next(self._batches)
        X_batch = X_batch.to(self.device, self.model.dtype, non_blocking=True)
        self.model.train()
        loss = self.model.objective(self.model(X_batch), y_batch.to(self.device))
        self._check_finite(loss.item())
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        if self.lr_schedule != "step":
            self.scheduler.step()
        return loss.item()

    def _decay_learning_rate(self) -> None:
        if self.lr_schedule == "step":
            self.scheduler.step()

    @torch.no_grad()
    def _predict(self, X: np.ndarray) -> np.ndarray:
        self.model.eval()
        scores = self.model(torch.from_numpy(np.ascontiguousarray(X)).to(self.device, self.model.dtype))
        return scores.argmax(dim=1).cpu().numpy()

    def current_params(self) -> dict[str, np.ndarray]:
        return self.model.numpy_params()

    def load_params(self, params: dict[str, np.ndarray]) -> None:
        self.model.load_numpy_params(params)

    def _optimizer_state(self) -> tuple[dict[str, np.ndarray], dict[str, dict]]:
        """The optimizer's per-parameter tensors (torch layout) as arrays, and its hyperparameters."""
        arrays, scalars = {}, {}
        for name, p in self.model.lab_parameters().items():
            scalars[name] = {"learning_rate": self.learning_rate}
            for key, value in self.optimizer.state.get(p, {}).items():
                if torch.is_tensor(value) and value.ndim > 0:
                    arrays[f"optim/{name}/{key}"] = value.detach().cpu().numpy()
                else:
                    scalars[name][key] = value.item() if torch.is_tensor(value) else value
        return arrays, scalars
