"""Solver for torch_impl.TwoLayerNet: numpy_impl.Solver's loop, with autograd, torch.optim and a DataLoader.

The loop, histories, best-validation restore, checkpoints and every random draw are
numpy_impl.Solver's own (this class inherits them), so the same seed yields the same
minibatch indices in both. What differs is the step: forward, ``loss.backward()``,
``optimizer.step()``, with the learning-rate decay done by ``ExponentialLR``.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader, Sampler, TensorDataset

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


class Solver(NumpySolver):
    """Same arguments and semantics as numpy_impl.Solver, plus ``device`` ("cpu" or "cuda")."""

    def __init__(self, model, data: dict, device: str | torch.device | None = None, **kwargs):
        self.device = resolve_device(device) if device is not None else model.device
        model.to(self.device)
        super().__init__(model, data, **kwargs)
        # The training set is shared with NumPy (from_numpy copies nothing); each batch moves to the device.
        train_set = TensorDataset(torch.from_numpy(np.ascontiguousarray(self.X_train)),
                                  torch.from_numpy(np.asarray(self.y_train, dtype=np.int64)))
        loader = DataLoader(train_set, sampler=DrawnBatches(self._sample_batch_indices), batch_size=None)
        self._batches = iter(loader)

    def _init_optimizer(self) -> None:
        self.optimizer = make_optimizer(self.update_rule_name, self.model.parameters(), self.optim_config,
                                        self.lr_decay)
        self.scheduler = torch.optim.lr_scheduler.ExponentialLR(self.optimizer, gamma=self.lr_decay)
        self.optim_configs = {}

    @property
    def learning_rate(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def _step(self) -> float:
        X_batch, y_batch = next(self._batches)
        X_batch = X_batch.to(self.device, self.model.dtype, non_blocking=True)
        loss = self.model.objective(self.model(X_batch), y_batch.to(self.device))
        self._check_finite(loss.item())
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return loss.item()

    def _decay_learning_rate(self) -> None:
        self.scheduler.step()

    @torch.no_grad()
    def _predict(self, X: np.ndarray) -> np.ndarray:
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
