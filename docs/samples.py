#!/usr/bin/env python
"""Rewrite the generated parts of the docs, so no sample or report is typed by hand.

    python docs/samples.py           # rerun each README sample's command and rewrite its block; rewrite
                                     # docs/tuning/greedy-results{,.ko}.md from the recorded trials
    python docs/samples.py --check   # exit 1 if README's blocks differ from what their commands print now

A README block sits between ``<!-- sample: NAME -->`` and ``<!-- /sample -->``; SAMPLES gives its
command. The tuning reports are rendered by this commit's report code from the run record
docs/tuning/greedy-results.csv (what the shipped greedy search measured).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SAMPLES = {"grade": ["python", "-m", "compare", "--impl", "numpy_impl"]}


def run(command: list[str]) -> str:
    """The command's output, as a fenced block that shows the command first."""
    proc = subprocess.run([sys.executable, *command[1:]], cwd=ROOT, capture_output=True, text=True, timeout=600)
    return f"```\n$ {' '.join(command)}\n{proc.stdout.rstrip()}\n```"


def rewrite(text: str) -> str:
    """text with every sample block replaced by its command's output now."""

    def block(match: re.Match) -> str:
        name = match.group(1)
        if name not in SAMPLES:
            raise SystemExit(f"README.md names an unknown sample {name!r}; known: {', '.join(SAMPLES)}")
        return f"<!-- sample: {name} -->\n{run(SAMPLES[name])}\n<!-- /sample -->"

    return re.sub(r"<!-- sample: (\w+) -->\n.*?\n<!-- /sample -->", block, text, flags=re.S)


def tuning_reports() -> dict[Path, str]:
    """docs/tuning/greedy-results.md and .ko.md, rendered from greedy-results.csv by tuning.report."""
    import csv

    sys.path.insert(0, str(ROOT))
    from tuning.report import lab_table, summary
    from tuning.space import DEFAULT_PARAMS

    def value(text: str):
        for kind in (int, float):
            try:
                return kind(text)
            except ValueError:
                pass
        return text

    names = (
        "batch_size",
        "hidden_size",
        "learning_rate",
        "lr_decay",
        "num_epochs",
        "reg",
        "update_rule",
        "weight_scale",
    )
    with open(ROOT / "docs" / "tuning" / "greedy-results.csv", encoding="utf-8") as f:
        records = [
            {
                "number": int(row["number"]),
                "state": row["state"],
                "params": {name: value(row[name]) for name in names},
                "train_acc": float(row["train_acc"]) if row["train_acc"] else None,
                "val_acc": float(row["val_acc"]) if row["val_acc"] else None,
                "diverged": row["diverged"] == "True",
                "error": row["error"] or None,
            }
            for row in csv.DictReader(f)
        ]

    def border(name, value):
        return name in DEFAULT_PARAMS and DEFAULT_PARAMS[name].on_border(value)

    titles = {"en": "# Hyperparameter search (greedy, {n} trials)", "ko": "# 하이퍼파라미터 탐색 (greedy, trial {n}개)"}
    return {
        ROOT / "docs" / "tuning" / f"greedy-results{'' if lang == 'en' else '.ko'}.md": (
            f"{titles[lang].format(n=len(records))}\n\n{lab_table(records, lang, border)}\n\n"
            f"{summary(records, lang, border)}\n"
        )
        for lang in ("en", "ko")
    }


def main(argv: list[str]) -> int:
    text = README.read_text(encoding="utf-8")
    fresh = rewrite(text)
    if "--check" in argv:
        if fresh != text:
            print("README.md's samples are stale: run python docs/samples.py", file=sys.stderr)
            return 1
        return 0
    README.write_text(fresh, encoding="utf-8")
    for path, report in tuning_reports().items():
        path.write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
