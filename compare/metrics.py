"""The one error measure of the compare suite, its tolerances, and the result row every check produces."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ERROR_MEASURE = "relative error = max|numpy - torch| / max(max|numpy|, max|torch|)  (0 when both are all zero)"

# (dtype, kind) -> tolerance on the relative error
TOLERANCES = {
    ("float64", "exact"): 1e-10,  # one forward/backward or one update step
    ("float64", "trajectory"): 1e-10,  # after 100 training steps, or at every one of them
    ("float32", "exact"): 1e-4,
    ("float32", "trajectory"): 1e-4,
}


def relative_error(numpy_value, torch_value) -> tuple[float, float]:
    """-> (max abs error, relative error) between two arrays of the same shape, computed in float64."""
    a = np.asarray(numpy_value, dtype=np.float64)
    b = np.asarray(torch_value, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"cannot compare shapes {a.shape} and {b.shape}")
    max_abs = float(np.max(np.abs(a - b))) if a.size else 0.0
    scale = max(float(np.max(np.abs(a))) if a.size else 0.0, float(np.max(np.abs(b))) if b.size else 0.0)
    return max_abs, (max_abs / scale if scale > 0 else max_abs)


@dataclass(frozen=True)
class Check:
    """One agreement: what was compared, in which dtype and shape, the errors and the verdict."""

    group: str
    name: str
    dtype: str
    shape: tuple
    max_abs_error: float
    rel_error: float
    tolerance: float

    @property
    def passed(self) -> bool:
        return bool(self.rel_error <= self.tolerance)


def make_check(group: str, name: str, numpy_value, torch_value, dtype: str, kind: str = "exact") -> Check:
    """Compare numpy_value with torch_value and wrap the errors in a Check with the dtype's tolerance."""
    max_abs, rel = relative_error(numpy_value, torch_value)
    shape = tuple(np.shape(numpy_value))
    return Check(group, name, dtype, shape, max_abs, rel, TOLERANCES[(dtype, kind)])
