"""The two floating dtypes this project computes in."""

from __future__ import annotations

import numpy as np

FLOAT_DTYPES = (np.float32, np.float64)


def check_float_dtype(dtype) -> np.dtype:
    """Return dtype as np.dtype if it is float32 or float64, else raise ValueError."""
    resolved = np.dtype(dtype)
    if resolved not in FLOAT_DTYPES:
        raise ValueError(f"dtype must be float32 or float64; got {resolved}")
    return resolved
