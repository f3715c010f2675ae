"""`python -m compare`: run every numpy-vs-torch agreement check and print a table; non-zero exit on failure.

python -m compare [--dtype float64|float32|both] [--seed S] [--explain]
"""

from __future__ import annotations

import argparse
import sys

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
    args = parser.parse_args(argv)
    if args.explain:
        print(explain(args.seed))
    dtypes = ("float64", "float32") if args.dtype == "both" else (args.dtype,)
    checks = run_all(dtypes, args.seed)
    print(f"Error measure: {ERROR_MEASURE}\n")
    print(format_table(checks))
    failed = [c for c in checks if not c.passed]
    print(f"\n{len(checks) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
