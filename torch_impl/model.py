"""TwoLayerNet as a torch.nn.Module: Linear -> ReLU -> Linear; its objective adds L2 on the weights."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

DTYPES = {"float32": torch.float32, "float64": torch.float64}


def torch_dtype(dtype: str | torch.dtype) -> torch.dtype:
    """ "float32" / "float64" (or the torch dtype itself) -> the torch dtype; anything else is a ValueError."""
    if dtype in DTYPES.values():
        return dtype
    if str(dtype) not in DTYPES:
        raise ValueError(f"dtype must be float32 or float64; got {dtype}")
    return DTYPES[str(dtype)]


def resolve_device(device: str | torch.device | None) -> torch.device:
    """ "cpu", "cuda", "cuda:N" (or None for cpu) -> torch.device, with a clear error when it is missing."""
    device = torch.device(device or "cpu")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was requested but no CUDA GPU is available here; use device='cpu'")
    return device


class TwoLayerNet(nn.Module):
    """scores = fc2(relu(fc1(X.flatten(1)))); objective = cross-entropy + 0.5 * reg * (|W1|^2 + |W2|^2).

    The constructor takes numpy_impl.TwoLayerNet's arguments. Weights start as N(0, weight_scale^2)
    drawn from torch's generator (seeded by ``seed``), biases at 0; to start from given weights,
    use ``load_state_dict``. ``label_smoothing`` goes to F.cross_entropy.
    A fixed ``projection`` P (D, input_dim) is kept as a buffer and applied first, fc1(x P);
    ``fold_projection`` turns a state_dict of such a model into the plain model's, fc1.weight @ P^T.
    """

    def __init__(
        self,
        input_dim: int = 3 * 32 * 32,
        hidden_dim: int = 100,
        num_classes: int = 10,
        *,
        dtype: str | torch.dtype = "float64",
        weight_scale: float = 1e-3,
        reg: float = 0.0,
        seed: int | None = None,
        label_smoothing: float = 0.0,
        projection: torch.Tensor | None = None,
        device: str | torch.device | None = "cpu",
    ):
        super().__init__()
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1]; got {label_smoothing!r}")
        self.reg = reg
        self.label_smoothing = float(label_smoothing)
        dtype, device = torch_dtype(dtype), resolve_device(device)
        self.fc1 = nn.Linear(input_dim, hidden_dim, dtype=dtype, device=device)
        self.relu = nn.ReLU(inplace=True)  # fc1's output is needed no more: one (N, H) array fewer per step
        self.fc2 = nn.Linear(hidden_dim, num_classes, dtype=dtype, device=device)
        if projection is not None:
            projection = torch.as_tensor(projection).to(device, dtype)
            if projection.ndim != 2 or projection.shape[1] != input_dim:
                raise ValueError(
                    f"projection must be (D, input_dim = {input_dim}): fc1 takes x P; got {tuple(projection.shape)}"
                )
        self.register_buffer("projection", projection)  # None: no buffer in the state_dict
        generator = torch.Generator(device).manual_seed(seed) if seed is not None else None
        with torch.no_grad():
            for layer in (self.fc1, self.fc2):
                nn.init.normal_(layer.weight, std=weight_scale, generator=generator)
                nn.init.zeros_(layer.bias)

    @property
    def dtype(self) -> torch.dtype:
        return self.fc1.weight.dtype

    @property
    def device(self) -> torch.device:
        return self.fc1.weight.device

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """X (N, d1, ..., dk) -> scores (N, C)."""
        X = X.flatten(1) if self.projection is None else X.flatten(1) @ self.projection
        return self.fc2(self.relu(self.fc1(X)))

    def objective(self, scores: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The training loss for scores (N, C) and labels (N,): mean cross-entropy + 0.5 * reg * sum of W^2."""
        loss = F.cross_entropy(scores, y, label_smoothing=self.label_smoothing)
        if self.reg:  # biases are not regularized
            loss = loss + 0.5 * self.reg * (self.fc1.weight.square().sum() + self.fc2.weight.square().sum())
        return loss


def fold_projection(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A TwoLayerNet state_dict with its projection P (D, k) folded into fc1: weight (H, k) -> weight P^T (H, D)."""
    state = dict(state)
    projection = state.pop("projection", None)
    if projection is not None:
        state["fc1.weight"] = state["fc1.weight"] @ projection.T
    return state
