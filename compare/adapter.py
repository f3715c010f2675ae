"""The lab's contract for torch_impl's model: what compare/ needs to hold it next to numpy_impl's, and nothing more.

The lab names parameters W1 (D, H), b1, W2 (H, C), b2 and keeps weights as (in, out);
nn.Linear keeps them as (out, in). These functions convert explicitly, and give the torch
model the lab's ``loss(X, y)`` (NumPy scores, or the loss and NumPy gradients by autograd).
"""

from __future__ import annotations

import numpy as np
import torch

LAYERS = {"W1": "fc1.weight", "b1": "fc1.bias", "W2": "fc2.weight", "b2": "fc2.bias"}


def leaf(array: np.ndarray) -> torch.Tensor:
    """A torch leaf tensor holding a copy of array, tracking gradients (for autograd's answer)."""
    return torch.tensor(array, requires_grad=True)


def torch_state(params: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    """A lab params dict -> the torch model's state_dict (weights transposed to nn.Linear's (out, in))."""
    return {
        key: torch.from_numpy(np.ascontiguousarray(params[name].T if name.startswith("W") else params[name]))
        for name, key in LAYERS.items()
    }


def lab_params(model: torch.nn.Module | dict[str, torch.Tensor]) -> dict[str, np.ndarray]:
    """The torch model's parameters (or a state_dict of it) as a lab params dict of NumPy arrays (copies)."""
    state = model if isinstance(model, dict) else model.state_dict()
    return {
        name: (state[key].T if name.startswith("W") else state[key]).detach().cpu().numpy().copy()
        for name, key in LAYERS.items()
    }


def lab_loss(model: torch.nn.Module, X: np.ndarray, y: np.ndarray | None = None):
    """numpy_impl.TwoLayerNet.loss for the torch model: scores (N, C) if y is None, else (loss, grads by autograd)."""
    X = torch.as_tensor(X).to(model.dtype)
    if y is None:
        with torch.no_grad():
            return model.eval()(X).numpy()
    loss = model.objective(model.train()(X), torch.as_tensor(y).long())
    params = dict(model.named_parameters())
    grads = torch.autograd.grad(loss, [params[key] for key in LAYERS.values()])
    return loss.item(), {name: (g.T if name.startswith("W") else g).numpy() for name, g in zip(LAYERS, grads)}
