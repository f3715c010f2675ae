"""The NumPy recipe engine: what `train.py --recipe` runs beyond the lab, built beside numpy_impl (the lab).

The network with label smoothing and a first-layer projection (RecipeNet), the update rules in place with
decoupled weight decay and Nesterov momentum (optim), flips and crops (augment), and a Solver with a cosine
schedule, hooks and resumable checkpoints; the passes NumPy cannot fuse are compiled loops (kernels, Numba).
`python -m compare` checks each against the plain oracle and torch.
"""

from common.training import TrainingDivergedError
from numpy_recipe.model import RecipeNet, smoothed_softmax_loss
from numpy_recipe.solver import Solver, warmup_cosine_factor

__all__ = ["RecipeNet", "Solver", "TrainingDivergedError", "smoothed_softmax_loss", "warmup_cosine_factor"]
