"""Benchmark: grading a class of submissions with `python -m compare --impl CLASS --out DIR --jobs N`.

    python benchmarks/bench_grading.py [--students 30] [--jobs 1 2] [--out benchmarks/grading_results.json]

Builds a class in a scratch folder: most students hand in the oracle's files, some with one classic
mistake, some an untouched kit (every part a stub). Grades it as a teacher would (a fresh
``python -I -m compare`` per --jobs value, so its start-up counts) and records the wall time, the
seconds per submission and the isolation the grader reported. The results render the table of
docs/grading.md (python docs/samples.py).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common.artifacts import save_json  # noqa: E402

MISTAKES = [  # (file, old, new): one classic mistake each
    ("layers.py", "dx = dout * (x > 0)", "dx = dout.copy()"),
    ("layers.py", "    dx /= n\n", "\n"),
    ("optim.py", "v = mu * v - lr * dw", "v = mu * v + lr * dw"),
]


def make_class(folder: Path, students: int) -> dict[str, int]:
    """students folders in folder: every 6th an untouched kit, every 4th a classic mistake -> the counts."""
    kinds = {"correct": 0, "one mistake": 0, "untouched kit": 0}
    kit = folder / ".kit"
    subprocess.run([sys.executable, "-m", "exercises", "make", str(kit)], cwd=ROOT, check=True, capture_output=True)
    for i in range(students):
        student = folder / f"student{i:02d}"
        if i % 6 == 5:
            shutil.copytree(kit / "lab", student / "lab")
            kinds["untouched kit"] += 1
            continue
        shutil.copytree(ROOT / "numpy_impl", student, ignore=shutil.ignore_patterns("__pycache__"))
        if i % 4 == 3:
            name, old, new = MISTAKES[i % len(MISTAKES)]
            path = student / name
            path.write_text(path.read_text().replace(old, new))
            kinds["one mistake"] += 1
        else:
            kinds["correct"] += 1
    shutil.rmtree(kit)
    return kinds


def grade_class(folder: Path, jobs: int) -> dict:
    """Grade the class once with --jobs jobs -> wall seconds, seconds per submission, the isolation line."""
    out = Path(tempfile.mkdtemp(prefix="gradebook-"))
    command = [sys.executable, "-I", "-m", "compare", "--impl", str(folder), "--out", str(out), "--jobs", str(jobs)]
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=out, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"grading failed ({proc.returncode}): {proc.stderr}")
    rows = (out / "grades.csv").read_text().splitlines()[1:]
    isolation = proc.stdout.splitlines()[0].removeprefix("isolation: ")
    shutil.rmtree(out)
    return {"jobs": jobs, "seconds": seconds, "per_submission": seconds / len(rows), "isolation": isolation}


def table(results: dict) -> str:
    """The recorded runs as a Markdown table."""
    lines = [
        "| submissions | --jobs | wall time | per submission | isolation |",
        "|---|---|---|---|---|",
    ]
    for row in results["rows"]:
        lines.append(
            f"| {results['students']} | {row['jobs']} | {row['seconds']:.1f} s | {row['per_submission']:.2f} s "
            f"| {row['isolation']} |"
        )
    kinds = ", ".join(f"{count} {kind}" for kind, count in results["class"].items())
    return "\n".join(lines) + f"\n\n(The class: {kinds}; {results['machine']}.)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "grading_results.json"))
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="class-"))
    try:
        kinds = make_class(folder, args.students)
        rows = []
        for jobs in args.jobs:
            rows.append(grade_class(folder, jobs))
            print(f"--jobs {jobs}: {rows[-1]['seconds']:.1f} s, {rows[-1]['per_submission']:.2f} s per submission")
    finally:
        shutil.rmtree(folder)
    machine = f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}"
    results = {"students": args.students, "class": kinds, "machine": machine, "rows": rows}
    save_json(args.out, results)
    print(table(results))


if __name__ == "__main__":
    main()
