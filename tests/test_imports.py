"""Every module of the project imports: the fast loop (make test-fast) touches the modules only the slow runs use."""

import importlib
import pkgutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = sorted(path.parent.name for path in ROOT.glob("*/__init__.py") if path.parent.name != "tests")
SCRIPTS = ["train", "tune"]


def modules() -> list[str]:
    """Every module of the project's packages, and its top-level scripts."""
    names = list(SCRIPTS)
    for package in PACKAGES:
        names.append(package)
        path = [str(ROOT / package)]
        names += [
            info.name for info in pkgutil.walk_packages(path, prefix=f"{package}.") if "__main__" not in info.name
        ]
    return names


def test_the_packages_are_found():
    assert {"common", "numpy_impl", "torch_impl", "compare", "experiment", "tuning"} <= set(PACKAGES)


@pytest.mark.parametrize("name", modules())
def test_every_module_imports(name):
    importlib.import_module(name)
