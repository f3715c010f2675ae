"""Shared test helpers."""

import os

import numpy as np
import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture
def lab_seed():
    """The lab seeds NumPy's global generator with 231 before each check cell."""
    np.random.seed(231)
