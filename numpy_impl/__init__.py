"""The CS231n two-layer-net lab in plain NumPy: the project's oracle, and the solution students' stubs are cut from."""

from numpy_impl.fc_net import TwoLayerNet
from numpy_impl.gradient_check import (
    eval_numerical_gradient,
    eval_numerical_gradient_array,
    grad_check_sparse,
    rel_error,
)
from numpy_impl.layer_utils import affine_relu_backward, affine_relu_forward
from numpy_impl.layers import affine_backward, affine_forward, relu_backward, relu_forward, softmax_loss, svm_loss
from numpy_impl.solver import Solver

__all__ = [
    "Solver",
    "TwoLayerNet",
    "affine_backward",
    "affine_forward",
    "affine_relu_backward",
    "affine_relu_forward",
    "eval_numerical_gradient",
    "eval_numerical_gradient_array",
    "grad_check_sparse",
    "rel_error",
    "relu_backward",
    "relu_forward",
    "softmax_loss",
    "svm_loss",
]
