"""The ablation behind `train.py --recipe best`: from the lab's tuned baseline, one step at a time.

    python benchmarks/ablation.py                    # every row, in order (about 85 minutes on 2 cores)
    python benchmarks/ablation.py --rows 0 1         # some rows only
    python benchmarks/ablation.py --table            # just print the table from the recorded results

Each row is a real train.py run (NumPy implementation, seed 0) whose run folder goes to
runs/ablation/<row>; a row whose folder already holds a completed run with the same command
is not trained again, so an interrupted ablation resumes. The measured numbers are collected
in benchmarks/ablation.json and printed as the Markdown table of docs/beyond-the-lab.md. The short rows share
one budget (15 epochs); "longer training" is the recipe itself (80 epochs), and test-time
flips are that same run's flip-averaged scores.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common.artifacts import load_json, save_json  # noqa: E402
from common.config import Config, config_from_argv  # noqa: E402

RESULTS = ROOT / "benchmarks" / "ablation.json"
RUNS = ROOT / "runs" / "ablation"

BASELINE = ["--hidden-size", "1000", "--learning-rate", "1e-4", "--num-epochs", "15", "--reg", "0.5"]
WIDE = ["--hidden-size", "4096", "--learning-rate", "1e-4", "--num-epochs", "15", "--reg", "0.5"]
OPTIMIZER = [
    "--hidden-size",
    "4096",
    "--num-epochs",
    "15",
    "--update-rule",
    "sgd_nesterov",
    "--batch-size",
    "512",
    "--lr-schedule",
    "cosine",
    "--warmup-epochs",
    "1",
    "--learning-rate",
    "2.5e-4",
    "--reg",
    "0.5",
]
# Unit-variance inputs take the recipe's learning rate, L2 and initial weight scale (pixels shrink ~60x).
STANDARDIZED = [
    *OPTIMIZER[:-4],
    "--learning-rate",
    "0.05",
    "--reg",
    "5e-4",
    "--weight-scale",
    "1e-2",
    "--preprocessing",
    "standardize",
]
ZCA = [*STANDARDIZED[:-2], "--preprocessing", "zca", "--zca-epsilon", "0.1"]
FLIPS = [*ZCA, "--flip"]
CROPS = [*FLIPS, "--crop-padding", "4"]
SMOOTHING = [*CROPS, "--label-smoothing", "0.1"]
DROPOUT = [*SMOOTHING, "--dropout-keep-ratio", "0.7"]
STANDARDIZED_AUGMENTED = [*STANDARDIZED, "--flip", "--crop-padding", "4", "--label-smoothing", "0.1"]

# (step, train.py flags, which accuracies to report: "plain" or "tta"). Each row adds its step to the
# row before, except the ones in EXCURSIONS: tried, then left out of the rows that follow.
ROWS = [
    ("lab's tuned baseline (H=1000, momentum SGD, 15 epochs, reg 0.5; tune.py's best)", BASELINE, "plain"),
    ("+ width: H=4096", WIDE, "plain"),
    ("+ optimizer and schedule: Nesterov, batch 512, warm-up + cosine, lr 2.5e-4", OPTIMIZER, "plain"),
    ("+ per-channel standardization (lr 0.05, reg 5e-4, init 1e-2 for unit-scale inputs)", STANDARDIZED, "plain"),
    ("+ ZCA whitening (epsilon 0.1) instead", ZCA, "plain"),
    ("+ random flips", FLIPS, "plain"),
    ("+ random crops (4-pixel padding)", CROPS, "plain"),
    ("+ label smoothing 0.1", SMOOTHING, "plain"),
    ("+ dropout 0.3 (keep ratio 0.7)", DROPOUT, "plain"),
    ("per-channel standardization instead of ZCA, with flips, crops, label smoothing", STANDARDIZED_AUGMENTED, "plain"),
    ("longer training: 80 epochs, no dropout (= `--recipe best`)", ["--recipe", "best"], "plain"),
    ("the recipe without random crops (80 epochs)", ["--recipe", "best", "--crop-padding", "0"], "plain"),
    ("+ test-time flips (same run as `--recipe best`, flip-averaged scores)", ["--recipe", "best"], "tta"),
]
EXCURSIONS = {8, 9, 11}  # tried against the row they follow, not part of the recipe


def command(flags: list[str]) -> list[str]:
    return ["python", "train.py", "--impl", "numpy", *flags]


def same_settings(config_path: Path, flags: list[str]) -> bool:
    """Whether a run's config.json records exactly the settings these train.py flags give."""
    return Config.from_run(load_json(config_path)) == config_from_argv(command(flags)[2:])


def run_row(index: int) -> dict:
    """Train row `index` (unless its run folder already holds the same completed run) -> its metrics."""
    _, flags, _ = ROWS[index]
    out = RUNS / ("recipe" if flags == ["--recipe", "best"] else f"row-{index}")
    argv = command(flags)
    metrics_path, config_path = out / "metrics.json", out / "config.json"
    if metrics_path.is_file() and config_path.is_file():
        done = load_json(metrics_path)
        if done.get("status") == "completed" and same_settings(config_path, flags):
            return done
    print(f"row {index}: {shlex.join(argv)}", flush=True)
    rerun = [sys.executable, *argv[1:], "--quiet", "--out", str(out), "--overwrite"]  # the row's own folder
    subprocess.run(rerun, cwd=ROOT)  # a failure is a result
    return load_json(metrics_path)


def table(results: dict) -> str:
    """docs/beyond-the-lab.md's Markdown table from recorded results (rows not run yet left out), then the commands.

    The change column compares each row with the last row it builds on; a step that lowers
    test accuracy is marked "(hurts)" and stays in the table.
    """
    lines = [
        "| # | step | val | test-1k | test-10k | training time | change (test-10k) |",
        "|---|---|---|---|---|---|---|",
    ]
    commands = []
    previous = None
    for index, (step, flags, scores) in enumerate(ROWS):
        metrics = results.get(str(index))
        if metrics is None:
            continue
        note = " (its flip-averaged scores)" if scores == "tta" else ""
        commands.append(f"- {index}: `{shlex.join(command(flags))}`{note}")
        minutes = metrics["train_seconds"] / 60
        if metrics.get("status") != "completed":  # e.g. diverged: kept in the table, and not a new baseline
            lines.append(
                f"| {index} | {step} | {metrics.get('status')}: {metrics.get('error') or ''} | | | "
                f"{minutes:.1f} min | (hurts) |"
            )
            continue
        suffix = "_tta" if scores == "tta" else ""
        val, test_1k, test_10k = (metrics[f"{key}{suffix}"] for key in ("val_acc", "test_acc_1k", "test_acc_10k"))
        change = "" if previous is None else f"{100 * (test_10k - previous):+.1f} pts"
        if previous is not None and test_10k < previous:
            change += " (hurts)"
        lines.append(
            f"| {index} | {step} | {100 * val:.1f}% | {100 * test_1k:.1f}% | {100 * test_10k:.2f}% | "
            f"{minutes:.1f} min | {change} |"
        )
        if index not in EXCURSIONS:
            previous = test_10k
    return "\n".join(lines + ["", "Commands (each also takes `--quiet --out DIR`):", ""] + commands)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="*", default=None, help="row numbers to run (default: all)")
    parser.add_argument("--table", action="store_true", help="only print the table of recorded results")
    args = parser.parse_args(argv)
    results = load_json(RESULTS) if RESULTS.is_file() else {}
    if not args.table:
        for index in range(len(ROWS)) if args.rows is None else args.rows:
            if not 0 <= index < len(ROWS):
                parser.error(f"--rows: {index} is not a row number (0 to {len(ROWS) - 1})")
            results[str(index)] = run_row(index)
            save_json(RESULTS, results)  # after every row: an interrupted ablation keeps what it measured
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
