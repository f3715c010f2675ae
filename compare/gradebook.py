"""Grade a whole class: find the submissions, grade them in parallel, write the gradebook.

OUT/grades.csv              one row per student: points per part, total, out of
OUT/students/<student>.json one per student: every part's fields (or Gradescope's results.json format)

A target folder with the lab's files in it (or in one folder below it, as a kit's ``lab/``) is one
submission; a folder holding two or more such folders is a class, one student per folder, named
after it. Points per part are 1 (0 for the parts the kit gives written: the sandwich, sgd and the
Solver) unless a points file (TOML or JSON: ``"part name" = points``) says otherwise.
"""

from __future__ import annotations

import csv
import io
import json
import queue
import re
import threading
import time
import tomllib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from compare.grade import PARTS, PartResult, counted, grade_folder
from compare.messages import language, status, tr_known
from compare.sandbox import SubmissionError, find_lab_folder
from compare.target import TargetError, resolve_target

FORMATS = ("native", "gradescope")
NO_LAB_FILES = "no lab files found (layers.py, layer_utils.py, fc_net.py, optim.py, solver.py)"
LINKED = "a link to another folder, not a folder: not graded"
PROBLEMS = (
    NO_LAB_FILES,
    LINKED,
    "{count} copies of the lab's files ({shown}): hand in one",
)  # Korean in compare.messages


@dataclass
class Submission:
    """One student's work: their id, the folder with their lab files (None: none found) and the grades."""

    student: str
    folder: Path | None
    results: list[PartResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # files not copied for grading (links, special files)
    seconds: float = 0.0
    problem: str = NO_LAB_FILES  # why folder is None


def find_submissions(targets: list[str], one: bool = False) -> list[Submission]:
    """--impl's targets -> the submissions in them, in order; a class folder gives one per student folder.

    ``one``: a single submission is wanted (no gradebook): a folder of several lab folders is refused.
    """
    found: list[Submission] = []
    for target in targets:
        path = Path(target)
        students = _student_folders(path) if path.is_dir() else []
        if len(students) >= 2 and one:
            shown = ", ".join(p.name for p in students[:3]) + (", ..." if len(students) > 3 else "")
            raise TargetError(
                f"--impl {target}: holds {len(students)} folders with the lab's files ({shown}): grade them as a "
                "class with --out DIR, or keep one copy if they are one student's"
            )
        if len(students) >= 2:
            found += [_submission(p) for p in students]
        else:
            folder = resolve_target(target)
            found.append(Submission(printable(path.resolve().name if path.is_dir() else target), folder))
    names = [safe_name(s.student).casefold() for s in found]  # one JSON file each, on any file system
    repeated = sorted({s.student for s, n in zip(found, names) if names.count(n) > 1})
    if repeated:
        raise TargetError(
            f"--impl: two submissions would share the name {repeated[0]!r} (names that differ only in case or "
            "punctuation share a gradebook file); give each student a folder of their own name"
        )
    return found


def _submission(folder: Path) -> Submission:
    """One student's folder as a Submission (with the problem, when its lab files cannot be told apart)."""
    if folder.is_symlink():
        return Submission(printable(folder.name), None, problem=LINKED)
    try:
        return Submission(printable(folder.name), find_lab_folder(folder))
    except SubmissionError as err:
        return Submission(printable(folder.name), None, problem=str(err))


def _has_lab(folder: Path) -> bool:
    if folder.is_symlink():
        return False
    try:
        return find_lab_folder(folder) is not None
    except SubmissionError:  # several copies: a student's folder all the same
        return True


def printable(name: str) -> str:
    """A folder name as a student id: bytes that are not UTF-8 as U+FFFD, control characters as '?'."""
    text = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return re.sub(r"[\x00-\x1f\x7f-\x9f]", "?", text)


def _student_folders(path: Path) -> list[Path]:
    """The folders directly in path that hold lab files (in them or below), when path holds none itself."""
    if any((path / name).is_file() for name in ("layers.py", "fc_net.py", "optim.py")):
        return []
    folders = sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
    with_lab = [p for p in folders if _has_lab(p)]
    return folders if len(with_lab) >= 2 else []


def default_points() -> dict[str, float]:
    """1 point for each part a student writes, 0 for those the kit gives written."""
    return {part.name: 0.0 if part.given else 1.0 for part in PARTS}


def load_points(path: str | None) -> dict[str, float]:
    """Points per part: default_points(), or what the TOML or JSON file at path says; ValueError naming what is
    wrong."""
    points = default_points()
    if path is None:
        return points
    try:
        text = Path(path).read_text(encoding="utf-8")
        given = json.loads(text) if path.endswith(".json") else tomllib.loads(text)
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise ValueError(f"--points {path}: cannot read it ({err})") from None
    if not isinstance(given, dict):
        raise ValueError(f"--points {path}: expected a table of part name = points")
    for name, value in given.items():
        if name not in points:
            raise ValueError(f"--points {path}: no part is named {name!r}; the parts: {', '.join(points)}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < float("inf"):
            raise ValueError(f"--points {path}: {name!r} = {value!r}; expected a number of points >= 0")
        points[name] = float(value)
    return points


def grade_class(
    submissions: list[Submission],
    jobs: int,
    time_limit: float,
    progress: Callable[[Submission, int], None],
    lang: str = "en",
) -> None:
    """Grade every submission, jobs at a time (each in its own job slot); progress(submission, done) after each;
    the messages in lang ("en" or "ko")."""
    slots: queue.Queue[int] = queue.Queue()
    for slot in range(jobs):
        slots.put(slot)
    done, counting = [0], threading.Lock()

    def one(submission: Submission) -> None:
        slot = slots.get()
        start = time.monotonic()
        try:
            if submission.folder is None:
                with language(lang):
                    problem = tr_known(submission.problem, PROBLEMS)
                submission.results = [PartResult(p.name, "not implemented", message=problem) for p in PARTS]
            else:
                submission.results, submission.skipped = grade_folder(
                    submission.folder, time_limit=time_limit, slot=slot, lang=lang
                )
        finally:
            slots.put(slot)
        submission.seconds = time.monotonic() - start
        with counting:
            done[0] += 1
            progress(submission, done[0])

    pool = ThreadPoolExecutor(max_workers=jobs)
    try:
        for future in [pool.submit(one, s) for s in submissions]:
            future.result()
    finally:  # Ctrl-C or SIGTERM: the students not started are not graded (those running end with their parts)
        pool.shutdown(wait=True, cancel_futures=True)


def scored(results: list[PartResult], points: dict[str, float]) -> tuple[float, float]:
    """-> (points earned, points possible)."""
    return sum(points[r.part] for r in results if r.passed), sum(points[r.part] for r in results)


def native_json(student: str, results: list[PartResult], points: dict[str, float]) -> dict:
    """One student's grades: the counts of the score line, points, every part's fields."""
    earned, possible = scored(results, points)
    correct, parts, given_correct, given_parts = counted(results)
    return {
        "student": student,
        "correct": correct,
        "parts": parts,
        "given_correct": given_correct,
        "given_parts": given_parts,
        "score": earned,
        "max_score": possible,
        "results": [{**asdict(r), "passed": r.passed, "points": points[r.part] if r.passed else 0.0} for r in results],
    }


def gradescope_json(results: list[PartResult], points: dict[str, float], lang: str = "en") -> dict:
    """Gradescope's results.json: score, max_score, and one test per part (name, score, max_score, output: the
    status and the messages, in lang)."""
    earned, possible = scored(results, points)
    with language(lang):
        shown = {r.part: status(r.status) for r in results}
    tests = []
    for r in results:
        output = "; ".join(filter(None, [r.message, *r.notes]))
        tests.append(
            {
                "name": r.part,
                "score": points[r.part] if r.passed else 0.0,
                "max_score": points[r.part],
                "status": "passed" if r.passed else "failed",
                "output": shown[r.part] + (f": {output}" if output else ""),
                "visibility": "visible",
            }
        )
    return {"score": earned, "max_score": possible, "tests": tests}


def student_json(fmt: str, student: str, results: list[PartResult], points: dict[str, float], lang: str = "en") -> dict:
    if fmt == "gradescope":
        return gradescope_json(results, points, lang)
    return native_json(student, results, points)


def safe_name(student: str) -> str:
    """A file name for a student id: letters, digits, '-', '_' and '.' kept, the rest as '_'."""
    return re.sub(r"[^\w.-]", "_", student).lstrip(".") or "_"


def gradebook_csv(submissions: list[Submission], points: dict[str, float]) -> str:
    """grades.csv: student, one column of points per part, total, out of."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    parts = [part.name for part in PARTS]
    writer.writerow(["student", *parts, "total", "out of"])
    for s in submissions:
        by_part = {r.part: r for r in s.results}
        earned, possible = scored(s.results, points)
        row = [_csv_safe(s.student)] + [f"{points[p]:g}" if by_part[p].passed else "0" for p in parts]
        writer.writerow([*row, f"{earned:g}", f"{possible:g}"])
    return buffer.getvalue()


def _csv_safe(text: str) -> str:
    """A cell a spreadsheet shows as text: one that starts like a formula gets a leading quote."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
