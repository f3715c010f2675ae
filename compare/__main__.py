"""`python -m compare`: run every numpy-vs-torch agreement check and print a table; non-zero exit on failure.

python -m compare [--dtype float64|float32|both] [--seed S] [--explain]
python -m compare --impl TARGET [--explain] [--json FILE] [--format native|gradescope]
                                            grade one implementation of the lab, part by part
python -m compare --impl TARGET [TARGET ...] --out DIR [--jobs N] [--points FILE] [--format ...]
                                            grade a class into a gradebook (DIR/grades.csv, DIR/students/)

TARGET is a folder with the lab's files (layers.py, layer_utils.py, fc_net.py, optim.py, solver.py)
in it or one folder below it (a kit's lab/), a folder of such folders (a class, one per student), or
a package name (numpy_impl, the oracle). The submission's code runs in a sandboxed child process;
see docs/grading.md.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

# The folder python -m was started in goes first on sys.path: a submission's own `common/` or `numpy/`
# there must not stand in for the grader's. (Start the grader with `python -I -m compare` so that a
# `compare/` folder there cannot either.)
_ROOT, _CWD = Path(__file__).resolve().parents[1], Path.cwd().resolve()
sys.path[:] = [p for p in sys.path if (where := Path(p or os.curdir).resolve()) == _ROOT or where != _CWD]

from compare.gradebook import FORMATS  # noqa: E402 (after the path is cleaned)
from compare.messages import LANGUAGES  # noqa: E402 (after the path is cleaned)
from compare.metrics import ERROR_MEASURE, Check  # noqa: E402 (after the path is cleaned)


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
    parser.add_argument(
        "--lang", choices=LANGUAGES, default="en", help="with --impl: the table, messages and --explain in Korean (ko)"
    )
    parser.add_argument("--impl", nargs="+", default=None, help="grade these folders or packages instead (see above)")
    parser.add_argument("--json", default=None, metavar="FILE", help="with one --impl: also write the grades as JSON")
    parser.add_argument("--out", default=None, metavar="DIR", help="with --impl: write a gradebook into DIR")
    parser.add_argument("--jobs", type=int, default=1, metavar="N", help="with --impl: grade N submissions at once")
    parser.add_argument("--points", default=None, metavar="FILE", help="points per part (TOML or JSON); 1 each")
    parser.add_argument("--format", choices=FORMATS, default="native", help="the JSON files' format")
    parser.add_argument("--time-limit", type=float, default=None, metavar="S", help="seconds per part (20)")
    parser.add_argument(
        "--no-sandbox", action="store_true", help="grade as root without bubblewrap (see docs/grading.md)"
    )
    args = parser.parse_args(argv)
    if args.impl is not None:
        return grade_main(args)
    for flag in ("json", "out", "points", "time_limit"):
        if getattr(args, flag) is not None:
            parser.error(f"--{flag.replace('_', '-')} goes with --impl")
    if args.lang != "en":
        parser.error("--lang goes with --impl (the agreement checks are in English)")
    from compare.checks import run_all
    from compare.explain import explain

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


def grade_main(args) -> int:
    """Grade --impl's targets: one gets its table (exit 0 only when every part passes), a class its gradebook."""
    from common import signals
    from compare.grade import TIME_LIMIT_SECONDS
    from compare.gradebook import find_submissions, load_points
    from compare.sandbox import detect_isolation
    from compare.target import TargetError

    def fail(message: str) -> int:
        print(f"python -m compare: error: {message}", file=sys.stderr)
        return 2

    if args.jobs < 1:
        return fail(f"--jobs {args.jobs}: expected a number of submissions to grade at once, 1 or more")
    time_limit = TIME_LIMIT_SECONDS if args.time_limit is None else args.time_limit
    if not 0 < time_limit <= 3600:
        return fail(f"--time-limit {args.time_limit}: expected seconds per part, more than 0 and at most 3600")
    try:
        points = load_points(args.points)
        submissions = find_submissions(args.impl, one=args.out is None and len(args.impl) == 1)
    except (TargetError, ValueError) as err:
        return fail(str(err))
    if args.out is None and len(submissions) > 1:
        return fail(f"--impl gives {len(submissions)} submissions: add --out DIR for their gradebook")
    if args.json is not None and (args.out is not None or len(submissions) > 1):
        return fail("--json is for one submission; a gradebook (--out) writes one JSON per student")
    if args.json is not None:
        if problem := json_target_problem(args.json):
            return fail(f"--json {args.json}: {problem}")
        Path(args.json).unlink(missing_ok=True)  # a grading that dies must not leave an earlier result there
    isolation = detect_isolation()
    if isolation.refusal() and not args.no_sandbox:
        return fail(isolation.refusal())
    print(f"isolation: {isolation.describe()}")
    if isolation.warning():
        print(isolation.warning(), file=sys.stderr)
    with signals.raising():  # SIGTERM ends the grading as Ctrl-C does: each child is killed, each scratch copy removed
        try:
            if args.out is None:
                return grade_one(submissions[0], args, points, time_limit)
            return grade_many(submissions, args, points, time_limit)
        except KeyboardInterrupt as interrupt:
            print(
                "python -m compare: interrupted; no grades were written for the submissions not finished",
                file=sys.stderr,
            )
            return signals.exit_code(interrupt)


def grade_one(submission, args, points: dict, time_limit: float) -> int:
    """Grade one submission: the table, the score, (--explain) what to fix, (--json) the grades as JSON."""
    from common.artifacts import save_json
    from compare.grade import clean, explain_failures, format_grades, grade_folder
    from compare.gradebook import student_json
    from compare.messages import language, tr

    results, skipped = grade_folder(submission.folder, time_limit=time_limit, lang=args.lang)
    if skipped:
        names = ", ".join(ascii(name) for name in skipped[:5])  # quoted and escaped: a name cannot pose as output
        with language(args.lang):
            print(clean(tr("not graded (links and special files are not copied): {names}", names=names)))
    print(format_grades(results, args.lang))
    if args.explain:
        print("\n" + explain_failures(results, args.lang))
    if args.json is not None:
        save_json(args.json, student_json(args.format, submission.student, results, points, args.lang))
    return 0 if all(r.passed for r in results) else 1


def grade_many(submissions: list, args, points: dict, time_limit: float) -> int:
    """Grade a class into args.out: grades.csv and students/<student>.json; exit 0 once the gradebook is written."""
    from common.artifacts import atomic_open, save_json, writable_folder
    from compare.grade import clean, counted
    from compare.gradebook import grade_class, gradebook_csv, safe_name, scored, student_json

    out = Path(args.out)
    try:
        writable_folder(out, "--out")
        writable_folder(out / "students", "--out")
    except (ValueError, OSError) as err:
        print(f"python -m compare: error: {err}", file=sys.stderr)
        return 2
    for s in submissions:  # an earlier gradebook's file for a student must not outlive a grading that dies
        (out / "students" / f"{safe_name(s.student)}.json").unlink(missing_ok=True)
    (out / "grades.csv").unlink(missing_ok=True)
    print(f"grading {len(submissions)} submissions, {args.jobs} at a time")

    def progress(s, done: int) -> None:
        earned, possible = scored(s.results, points)
        correct, parts, given_correct, given_parts = counted(s.results)
        print(
            f"[{done}/{len(submissions)}] {clean(s.student)}: {correct}/{parts} parts "
            f"(given {given_correct}/{given_parts}), {earned:g}/{possible:g} points ({s.seconds:.1f} s)",
            flush=True,
        )
        save_json(
            out / "students" / f"{safe_name(s.student)}.json",
            student_json(args.format, s.student, s.results, points, args.lang),
        )

    grade_class(submissions, args.jobs, time_limit, progress, args.lang)
    with atomic_open(out / "grades.csv") as f:
        f.write(gradebook_csv(submissions, points))
    print(f"wrote {out / 'grades.csv'} and {len(submissions)} files in {out / 'students'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
