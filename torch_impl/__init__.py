"""The same two-layer network as an idiomatic torch.nn module, with a Solver of the same semantics."""

from torch_impl.model import TwoLayerNet
from torch_impl.optim import LabMomentumSGD, make_optimizer
from torch_impl.solver import Solver

__all__ = ["LabMomentumSGD", "Solver", "TwoLayerNet", "make_optimizer"]
