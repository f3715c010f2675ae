"""`python -m compare`: run every numpy-vs-torch agreement check and print a table; non-zero exit on failure.

python -m compare [--dtype float64|float32|both] [--seed S] [--explain]
python -m compare --impl TARGET [--explain] [--json FILE]    grade an implementation of the lab, part by part

TARGET is a package name (numpy_impl, the oracle) or a folder with the lab's files (layers.py,
layer_utils.py, fc_net.py, optim.py, and optionally solver.py), e.g. a student's copy: `--impl .`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from compare.checks import run_all
from compare.explain import explain
from compare.metrics import ERROR_MEASURE, Check


def format_table(checks: list[Check]) -> str:
    """A Markdown table: check, dtype, shape, max abs error, relative error, tolerance, pass/fail."""
    rows = [
        "| group | check | dtype | shape | max abs error | relative error | tolerance | result |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c in checks:
        shape = "x".join(map(str, c.shape)) or "scalar"
        rows.append(
            f"| {c.group} | {c.name} | {c.dtype} | {shape} | {c.max_abs_error:.2e} | "
            f"{c.rel_error:.2e} | {c.tolerance:.0e} | {'pass' if c.passed else 'FAIL'} |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m compare", description=__doc__.splitlines()[0])
    parser.add_argument("--dtype", choices=["float64", "float32", "both"], default="both")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--explain", action="store_true", help="teaching mode: derivations next to the checks")
    parser.add_argument("--impl", default=None, help="grade this package or folder instead (see above)")
    parser.add_argument("--json", default=None, metavar="FILE", help="with --impl: also write the grades as JSON")
    args = parser.parse_args(argv)
    if args.impl is not None:
        if args.json is not None and (problem := json_target_problem(args.json)):
            print(f"python -m compare: error: --json {args.json}: {problem}", file=sys.stderr)
            return 2
        return grade_main(args.impl, args.explain, args.json)
    if args.json is not None:
        parser.error("--json goes with --impl")
    if args.explain:  # the lesson alone: the full table would scroll it away
        print(explain(args.seed))
        print("Every agreement check, in both dtypes: python -m compare")
        return 0
    dtypes = ("float64", "float32") if args.dtype == "both" else (args.dtype,)
    checks = run_all(dtypes, args.seed)
    print(f"Error measure: {ERROR_MEASURE}\n")
    print(format_table(checks))
    failed = [c for c in checks if not c.passed]
    print(f"\n{len(checks) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


def json_target_problem(path: str) -> str | None:
    """Why the grades cannot be written to path (checked before grading, so no work is lost), or None."""
    target = Path(path)
    if target.is_dir():
        return "is a folder; give a file name for the grades, e.g. grades.json"
    if target.exists() and not target.is_file():
        return "is not a regular file; give a file name for the grades, e.g. grades.json"
    parent = target.parent
    if parent.exists() and not parent.is_dir():
        return f"{parent} is not a folder"
    return None


def grade_main(target: str, explain: bool, json_path: str | None) -> int:
    """Grade target, print the table, the score and (explain) what to fix; exit 0 only when all parts pass."""
    from common.artifacts import save_json
    from compare.grade import explain_failures, format_grades, grade, grades_json
    from compare.target import TargetError

    try:
        results = grade(target)
    except TargetError as err:
        print(f"python -m compare: error: {err}", file=sys.stderr)
        return 2
    print(format_grades(results))
    if explain:
        print("\n" + explain_failures(results))
    if json_path is not None:
        save_json(json_path, grades_json(target, results))
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
