"""TwoLayerNet as a torch.nn.Module: Linear -> ReLU -> Linear, cross-entropy plus L2 on the weights."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from numpy_impl.fc_net import PARAM_NAMES, check_float_dtype, init_two_layer_params


def torch_dtype(dtype) -> torch.dtype:
    """float32/float64 given as a NumPy dtype, a string or a torch dtype -> the torch dtype."""
    if isinstance(dtype, torch.dtype):
        dtype = str(dtype).removeprefix("torch.")
    return getattr(torch, check_float_dtype(dtype).name)


def resolve_device(device: str | torch.device | None) -> torch.device:
    """"cpu", "cuda", "cuda:N" (or None for cpu) -> torch.device, with a clear error when it is missing."""
    device = torch.device(device or "cpu")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was requested but no CUDA GPU is available here; use device='cpu'")
    return device


class TwoLayerNet(nn.Module):
    """scores = fc2(dropout(relu(fc1(X.flatten(1))))); loss = mean cross-entropy + 0.5 * reg * (|W1|^2 + |W2|^2).

    Same constructor as numpy_impl.TwoLayerNet, and the same initial parameters for the
    same seed: they are drawn by the NumPy code and loaded here. ``nn.Linear`` stores its
    weight as (out, in), the transpose of the lab's W (in, out); ``load_numpy_params`` and
    ``numpy_params`` convert explicitly. ``dropout_keep_ratio`` follows the NumPy model (the
    probability of keeping a unit); nn.Dropout gets p = 1 - keep ratio. ``label_smoothing`` is
    passed to F.cross_entropy.
    """

    def __init__(self, input_dim: int = 3 * 32 * 32, hidden_dim: int = 100, num_classes: int = 10,
                 weight_scale: float = 1e-3, reg: float = 0.0, dtype=torch.float64, seed: int | None = None,
                 device: str | torch.device | None = "cpu", dropout_keep_ratio: float = 1.0,
                 label_smoothing: float = 0.0):
        super().__init__()
        if not 0.0 < dropout_keep_ratio <= 1.0:
            raise ValueError(f"dropout_keep_ratio must be in (0, 1]; got {dropout_keep_ratio!r}")
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1]; got {label_smoothing!r}")
        self.reg = reg
        self.label_smoothing = float(label_smoothing)
        dtype, device = torch_dtype(dtype), resolve_device(device)
        self.fc1 = nn.Linear(input_dim, hidden_dim, dtype=dtype, device=device)
        self.relu = nn.ReLU()
        self.dropout = nn.Dropout(p=1.0 - dropout_keep_ratio)
        self.fc2 = nn.Linear(hidden_dim, num_classes, dtype=dtype, device=device)
        numpy_dtype = np.dtype(str(dtype).removeprefix("torch."))
        self.load_numpy_params(init_two_layer_params(input_dim, hidden_dim, num_classes, weight_scale,
                                                     numpy_dtype, seed))

    @classmethod
    def from_params(cls, params: dict[str, np.ndarray], reg: float = 0.0,
                    device: str | torch.device | None = "cpu") -> "TwoLayerNet":
        """A network holding lab-layout params (W1 (D, H), b1, W2 (H, C), b2), sizes and dtype taken from them."""
        (input_dim, hidden_dim), num_classes = params["W1"].shape, params["W2"].shape[1]
        model = cls(input_dim, hidden_dim, num_classes, weight_scale=0.0, reg=reg, dtype=params["W1"].dtype,
                    seed=0, device=device)
        model.load_numpy_params(params)
        return model

    @property
    def dtype(self) -> torch.dtype:
        return self.fc1.weight.dtype

    @property
    def device(self) -> torch.device:
        return self.fc1.weight.device

    def forward(self, X: torch.Tensor, dropout_mask: torch.Tensor | None = None) -> torch.Tensor:
        """X (N, d1, ..., dk) -> scores (N, C).

        A given dropout_mask (N, H) (0 or 1/keep, e.g. NumPy's) replaces nn.Dropout's random one.
        """
        hidden = self.relu(self.fc1(X.flatten(1)))
        hidden = self.dropout(hidden) if dropout_mask is None else hidden * dropout_mask
        return self.fc2(hidden)

    def regularization(self) -> torch.Tensor:
        """0.5 * reg * (sum W1^2 + sum W2^2); biases are not regularized."""
        return 0.5 * self.reg * (self.fc1.weight.square().sum() + self.fc2.weight.square().sum())

    def objective(self, scores: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The training loss for scores (N, C) and labels (N,): mean cross-entropy + regularization."""
        return F.cross_entropy(scores, y, label_smoothing=self.label_smoothing) + self.regularization()

    def lab_parameters(self) -> dict[str, nn.Parameter]:
        """The parameters under the lab's names, in torch layout: W1 is fc1.weight (H, D), and so on."""
        return {"W1": self.fc1.weight, "b1": self.fc1.bias, "W2": self.fc2.weight, "b2": self.fc2.bias}

    @torch.no_grad()
    def load_numpy_params(self, params: dict[str, np.ndarray]) -> None:
        """Copy a lab params dict (W1 (D, H), b1 (H,), W2 (H, C), b2 (C,)) into the layers, transposing W."""
        missing = [name for name in PARAM_NAMES if name not in params]
        if missing:
            raise ValueError(f"params is missing {', '.join(missing)}; it needs {', '.join(PARAM_NAMES)}")
        for name, target in self.lab_parameters().items():
            value = torch.as_tensor(np.asarray(params[name]))
            value = value.T if name.startswith("W") else value
            if value.shape != target.shape:
                expected = tuple(target.shape[::-1]) if name.startswith("W") else tuple(target.shape)
                raise ValueError(f"params[{name!r}] has shape {tuple(params[name].shape)}; this network "
                                 f"needs {expected}")
            target.copy_(value)

    @torch.no_grad()
    def numpy_params(self) -> dict[str, np.ndarray]:
        """The parameters as a lab params dict of NumPy arrays (W1 (D, H), b1, W2 (H, C), b2), copied."""
        return {name: (p.T if name.startswith("W") else p).detach().cpu().numpy().copy()
                for name, p in self.lab_parameters().items()}

    def loss(self, X, y=None, dropout_mask=None):
        """The lab's contract, for code that treats both implementations alike (the Solver, compare/).

        X (N, ...) as array or tensor -> scores (N, C) as a NumPy array if y is None (no dropout),
        else (loss as a float, grads as a dict of NumPy arrays in the lab's names and layout),
        computed by autograd, with dropout_mask (N, H) if given.
        """
        X = torch.as_tensor(X).to(device=self.device, dtype=self.dtype)
        if y is None:
            with torch.no_grad():
                was_training = self.training
                scores = self.eval()(X).cpu().numpy()
                self.train(was_training)
                return scores
        y = torch.as_tensor(np.asarray(y), dtype=torch.long, device=self.device)
        if dropout_mask is not None:
            dropout_mask = torch.as_tensor(np.asarray(dropout_mask)).to(device=self.device, dtype=self.dtype)
        params = self.lab_parameters()
        loss = self.objective(self(X, dropout_mask), y)
        grads = torch.autograd.grad(loss, list(params.values()))
        return loss.item(), {name: (g.T if name.startswith("W") else g).cpu().numpy()
                             for name, g in zip(params, grads)}
