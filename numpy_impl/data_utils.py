"""The lab's ``data_utils``: CIFAR-10 loading, re-exported from common.cifar10 (shared by both implementations)."""

from common.cifar10 import (
    CLASS_NAMES,
    CIFAR10NotFoundError,
    get_CIFAR10_data,
    load_CIFAR10,
    load_raw_cifar10,
    locate_cifar10,
)

__all__ = [
    "CIFAR10NotFoundError",
    "CLASS_NAMES",
    "get_CIFAR10_data",
    "load_CIFAR10",
    "load_raw_cifar10",
    "locate_cifar10",
]
