"""The same two-layer network in PyTorch: an nn.Module and a training loop of its own (torch + common only)."""

from common.training import TrainingDivergedError
from torch_impl.data import batch_loader, flip_and_shift
from torch_impl.model import TwoLayerNet, fold_projection
from torch_impl.optim import LabMomentumSGD, make_optimizer, make_scheduler
from torch_impl.solver import Solver

__all__ = [
    "LabMomentumSGD",
    "Solver",
    "TrainingDivergedError",
    "TwoLayerNet",
    "batch_loader",
    "flip_and_shift",
    "fold_projection",
    "make_optimizer",
    "make_scheduler",
]
