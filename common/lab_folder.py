"""A student's own lab as an implementation: ``--impl PATH`` names a folder holding the lab's files.

``Config.impl`` is "numpy", "torch", or the absolute path of such a folder (what config.json records,
so --resume and tune.py's trials find the same code). ``resolve_impl`` turns what a user typed (a
relative path, or a kit folder written by ``python -m exercises make``, whose lab/ holds the files)
into that path; ``lab_folder_problem`` says why a path is not one. experiment/student.py loads it.
"""

from __future__ import annotations

from pathlib import Path

from common.choices import IMPLS

LAB_FILES = ("layers.py", "layer_utils.py", "fc_net.py", "optim.py")  # solver.py is optional
KIT_LAB = "lab"  # the folder of a kit that holds the lab's files


def is_student_impl(impl: str) -> bool:
    """Whether a Config's impl names a student's folder rather than one of the project's implementations."""
    return impl not in IMPLS


def impl_name(impl: str) -> str:
    """A short name for run folders and studies: numpy, torch, or the folder's name (lab-<kit> for a kit's lab/)."""
    if not is_student_impl(impl):
        return impl
    folder = Path(impl)
    name = f"{folder.parent.name}-{folder.name}" if folder.name == KIT_LAB and folder.parent.name else folder.name
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "lab"


def missing_lab_files(folder: Path) -> list[str]:
    """The lab's files the folder lacks (all of them for a path that is not a folder)."""
    return [name for name in LAB_FILES if not (folder / name).is_file()]


def find_lab_folders(folder: Path, complete: bool = True) -> list[Path]:
    """The folders holding the lab's files: [folder] itself, or [its lab/] (a kit), else those at the first depth
    below it (3 levels at most) where they are; [] if there are none. ``complete``: all of LAB_FILES (to train);
    else any of them or solver.py (to grade what was handed in). Links inside folder are never followed: a
    student's link to someone else's files is not their lab."""
    folder = folder.resolve()

    def holds(candidate: Path) -> bool:
        if candidate.resolve() != candidate:  # the candidate, or a folder on the way to it, is a link
            return False
        if complete:
            return not missing_lab_files(candidate)
        return any((candidate / name).is_file() for name in (*LAB_FILES, "solver.py"))

    for candidate in (folder, folder / KIT_LAB):
        if candidate.is_dir() and holds(candidate):
            return [candidate]
    for depth in range(1, 4):
        found = sorted(
            path.parent
            for path in folder.glob("/".join(["*"] * depth) + "/fc_net.py")
            if not any(part == "__pycache__" or part.startswith(".") for part in path.parts[-depth - 1 : -1])
            and holds(path.parent)
        )
        if found:
            return found
    return []


def lab_folder_problem(impl: str) -> str | None:
    """Why ``impl`` (an absolute path, as Config holds it) is not a lab folder, or None when it is one."""
    folder = Path(impl)
    if not folder.is_absolute():
        return f"--impl {impl}: a student's folder is recorded by its absolute path"
    if not folder.is_dir():
        return f"--impl {impl}: no such folder (was it moved?)"
    missing = missing_lab_files(folder)
    if missing:
        return f"--impl {impl}: not a lab folder: it lacks {', '.join(missing)}"
    return None


def resolve_impl(impl: str) -> str:
    """numpy or torch as they are; a path -> the absolute path of the lab folder in it (ValueError if none)."""
    if not is_student_impl(impl):
        return impl
    folder = Path(impl).expanduser()
    if not folder.is_dir() and ("/" in impl or folder.exists()):
        raise ValueError(
            f"--impl {impl}: no such folder (a run of a student's lab needs the folder it recorded: was it moved?)"
            if folder.is_absolute() and not folder.exists()
            else f"--impl {impl}: not a folder; give numpy, torch, or the folder of your lab's files"
        )
    if not folder.is_dir():
        raise ValueError(
            f"--impl must be one of {', '.join(IMPLS)}, got {impl!r}, which is not a folder either "
            f"(your own lab: --impl the folder holding {', '.join(LAB_FILES)}, e.g. --impl my-lab/lab)"
        )
    found = find_lab_folders(folder)
    if not found:
        raise ValueError(
            f"--impl {impl}: not a lab folder: it holds no {', '.join(LAB_FILES)} (nor does a folder in it); "
            "give the folder of your lab's files, e.g. the lab/ of a kit made by python -m exercises make"
        )
    if len(found) > 1:
        shown = ", ".join(str(path) for path in found[:4]) + (", ..." if len(found) > 4 else "")
        raise ValueError(f"--impl {impl}: holds {len(found)} lab folders ({shown}); give the one to train")
    return str(found[0].resolve())
