"""The house's shape, as facts about its imports: the two implementations share data, not code; the lab stands alone
and the NumPy recipe engine builds on it."""

import ast
from pathlib import Path

import numpy_impl
import numpy_recipe
import torch_impl

ROOT = Path(__file__).resolve().parents[1]
LIBRARIES = ("common", "numpy_impl", "numpy_recipe", "torch_impl", "compare", "experiment", "tuning", "benchmarks")


def imported_modules(path: Path) -> set[str]:
    """The top-level names of every module a file imports (import x.y / from x.y import z -> x)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def files(package: str) -> list[Path]:
    found = sorted((ROOT / package).glob("*.py"))
    assert found, package
    return found


def test_torch_impl_imports_torch_and_common_only():
    for path in files("torch_impl"):
        assert not imported_modules(path) & {"numpy_impl", "numpy_recipe"}, path.name


def test_common_imports_neither_implementation_nor_torch():
    for path in files("common"):
        assert not imported_modules(path) & {"numpy_impl", "numpy_recipe", "torch_impl", "torch", "torchvision"}, path


def test_numpy_impl_imports_no_framework_and_not_the_torch_twin():
    for path in files("numpy_impl"):
        assert not imported_modules(path) & {"torch_impl", "torch", "compare", "experiment"}, path.name


def test_the_lab_does_not_import_the_recipe_engine():
    """numpy_impl is the lab alone: the engine builds on it, never the other way."""
    for path in files("numpy_impl"):
        assert "numpy_recipe" not in imported_modules(path), path.name


def test_the_recipe_engine_is_numpy_on_the_lab_and_common():
    for path in files("numpy_recipe"):
        assert not imported_modules(path) & {"torch_impl", "torch", "compare", "experiment", "tuning"}, path.name
    assert issubclass(numpy_recipe.Solver, numpy_impl.Solver)


def test_no_library_module_imports_a_script():
    for package in LIBRARIES:
        for path in files(package):
            assert not imported_modules(path) & {"train", "tune"}, path


def test_the_torch_loop_is_its_own():
    assert not issubclass(torch_impl.Solver, numpy_impl.Solver)
    assert torch_impl.Solver.__mro__ == (torch_impl.Solver, object)
