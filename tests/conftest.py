"""Shared test helpers."""

import os
import signal

import numpy as np
import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_configure(config):
    """Ctrl-C raises KeyboardInterrupt in the suite and in the processes it starts, as in a terminal, also where
    pytest was started in the background of a shell without job control, which ignores SIGINT for it (and an
    ignored signal stays ignored in every child): the tests of Ctrl-C would otherwise wait for it forever."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session")
def real_data_dir():
    """The real CIFAR-10 folder from CIFAR10_DIR: skipped when unset, except in CI where it must be set."""
    folder = os.environ.get("CIFAR10_DIR")
    if not folder:
        if IN_CI:
            pytest.fail("CI=true but CIFAR10_DIR is not set: the real-data checks must run in CI")
        pytest.skip("CIFAR10_DIR is not set; set it to a folder holding CIFAR-10 to run the real-data checks")
    return folder


def pytest_collection_modifyitems(items):
    """Every test on the real CIFAR-10 (the real_data_dir fixture) trains or reads the whole set: it is slow."""
    for item in items:
        if "real_data_dir" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def fake_cifar(tmp_path_factory) -> str:
    """A full-size CIFAR-10 folder of random images (so train.py and tune.py need no real data); read-only."""
    from tests.cifar_fixtures import synthetic_batches, write_folder

    root = tmp_path_factory.mktemp("cifar")
    write_folder(root, synthetic_batches(10_000), "binary")
    return str(root)


@pytest.fixture
def lab_seed():
    """The lab seeds NumPy's global generator with 231 before each check cell."""
    np.random.seed(231)


# Property tests explore new examples locally but replay a fixed set in CI, so a run is reproducible.
from hypothesis import settings  # noqa: E402

settings.register_profile("ci", derandomize=True, print_blob=True)
if IN_CI:
    settings.load_profile("ci")
