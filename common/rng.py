"""The one place that turns a seed into a random generator."""

from __future__ import annotations

import numpy as np


def make_rng(seed: int | None, stream: int = 0):
    """Return ``np.random.default_rng(seed)``, or NumPy's global legacy generator when seed is None.

    seed=None keeps the lab's behaviour: its cells call ``np.random.seed(231)`` and
    expect the model and Solver to draw from ``np.random``. Both objects provide the
    two draws this project uses, ``standard_normal(size)`` and ``choice(n, size)``.
    ``stream`` > 0 gives an independent generator for the same seed (``default_rng([seed, stream])``),
    so that, e.g., turning augmentation on does not change which minibatches are drawn.
    """
    if seed is None:
        return np.random.mtrand._rand
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer or None; got {seed!r}")
    return np.random.default_rng([int(seed), stream] if stream else int(seed))
