"""The hand-derived NumPy two-layer network: the project's oracle (CS231n two-layer-net lab API)."""

from numpy_impl.fc_net import TwoLayerNet
from numpy_impl.gradient_check import (
    eval_numerical_gradient,
    eval_numerical_gradient_array,
    grad_check_sparse,
    rel_error,
)
from numpy_impl.layer_utils import affine_relu_backward, affine_relu_forward
from numpy_impl.layers import (
    affine_backward,
    affine_forward,
    dropout_backward,
    dropout_forward,
    relu_backward,
    relu_forward,
    softmax_loss,
    svm_loss,
)
from numpy_impl.solver import Solver, TrainingDivergedError, load_checkpoint

__all__ = [
    "Solver",
    "TrainingDivergedError",
    "TwoLayerNet",
    "affine_backward",
    "affine_forward",
    "affine_relu_backward",
    "affine_relu_forward",
    "dropout_backward",
    "dropout_forward",
    "eval_numerical_gradient",
    "eval_numerical_gradient_array",
    "grad_check_sparse",
    "load_checkpoint",
    "rel_error",
    "relu_backward",
    "relu_forward",
    "softmax_loss",
    "svm_loss",
]
