"""Find the lab's files to grade: a folder (the lab's files in it or below it), or an importable package's folder.

A folder needs some of the lab's files: layers.py, layer_utils.py, fc_net.py, optim.py, solver.py.
They may import each other as any package name (``lab``, ``cs231n``, ``numpy_impl``, the folder's
own) or relatively; compare.child resolves all of those into the submission, whatever its folder is called.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from compare.sandbox import SubmissionError, find_lab_folder


class TargetError(ValueError):
    """A target that cannot be graded at all: no such package or folder."""


def resolve_target(target: str) -> Path:
    """--impl TARGET -> the folder holding its lab files; TargetError when there is none."""
    folder = Path(target)
    if folder.is_dir():
        try:
            found = find_lab_folder(folder)
        except SubmissionError as err:
            raise TargetError(f"--impl {target}: {err}") from None
        if found is None:
            raise TargetError(
                f"--impl {target}: no lab files in it (layers.py, layer_utils.py, fc_net.py, optim.py, solver.py)"
            )
        return found
    if "/" in target or target.endswith(".py") or not target.isidentifier():
        raise TargetError(f"--impl {target}: no such folder; give a folder with the lab's files or a package name")
    try:
        spec = importlib.util.find_spec(target)
    except (ImportError, ValueError) as err:
        raise TargetError(f"--impl {target}: cannot find it ({err}); give a package name or a folder") from None
    if spec is None or not spec.submodule_search_locations:
        raise TargetError(f"--impl {target}: no such folder or package; give a folder with the lab's files")
    return Path(list(spec.submodule_search_locations)[0])
