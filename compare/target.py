"""Load an implementation of the lab's API to grade: an importable package name, or a folder of .py files.

A folder needs the lab's files: layers.py, layer_utils.py, fc_net.py, optim.py (solver.py
optional). Its files may import each other as the lab's package (``from cs231n.layers import
...``), as this project's (``from numpy_impl.layers import ...``), or relatively; while the folder
loads, those names point into it, so the oracle is never mixed into a student's code.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import itertools
import sys
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

LAB_MODULES = ("layers", "layer_utils", "fc_net", "optim", "solver")
ALIASES = ("numpy_impl", "cs231n")  # package names a lab folder's files may import each other by
_loaded = itertools.count()


class TargetError(ValueError):
    """A target that cannot be graded at all: no such package or folder."""


class _FolderPackages(importlib.abc.MetaPathFinder):
    """Resolves the given package names to namespace packages over one folder."""

    def __init__(self, names: tuple[str, ...], folder: Path):
        self.names, self.folder = names, str(folder)

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in self.names:
            return None
        spec = importlib.machinery.ModuleSpec(fullname, None, is_package=True)
        spec.submodule_search_locations = [self.folder]
        return spec


@contextmanager
def _imports_point_into(folder: Path, package: str):
    """While loading, ``package``, the lab's package names and the folder's own name resolve to ``folder``
    (a student's `lab/` imports itself as `lab`); afterwards everything is as before."""
    aliases = (*ALIASES, folder.name) if folder.name.isidentifier() else ALIASES
    names = (package, *aliases)
    hidden = {name: module for name, module in sys.modules.items() if name.split(".")[0] in aliases}
    for name in hidden:
        del sys.modules[name]
    finder = _FolderPackages(names, folder)
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
        for name in [name for name in sys.modules if name.split(".")[0] in aliases]:
            del sys.modules[name]
        sys.modules.update(hidden)


def load_target(target: str) -> tuple[SimpleNamespace, dict[str, str]]:
    """-> (namespace with one attribute per lab module found, {module: why it could not be imported}).

    A module that is missing is absent from both; one that fails to import is in the second.
    """
    folder = Path(target)
    found, broken = {}, {}
    if folder.is_dir():
        package = f"graded_{next(_loaded)}"
        with _imports_point_into(folder.resolve(), package):
            for name in LAB_MODULES:
                if (folder / f"{name}.py").is_file():
                    _import(f"{package}.{name}", name, found, broken)
        return SimpleNamespace(**found), broken
    if "/" in target or target.endswith(".py"):
        raise TargetError(f"--impl {target}: no such folder; give a folder with the lab's files or a package name")
    try:
        importlib.import_module(target)
    except ImportError as err:
        raise TargetError(f"--impl {target}: cannot import it ({err}); give a package name or a folder") from None
    for name in LAB_MODULES:
        _import(f"{target}.{name}", name, found, broken, missing_ok=True)
    return SimpleNamespace(**found), broken


def _import(module: str, name: str, found: dict, broken: dict, missing_ok: bool = False) -> None:
    try:
        found[name] = importlib.import_module(module)
    except ModuleNotFoundError as err:
        if not (missing_ok and err.name == module):
            broken[name] = f"{type(err).__name__}: {err}"
    except Exception as err:  # a syntax error, an import-time crash: graded as such, part by part
        broken[name] = f"{type(err).__name__}: {err}"
