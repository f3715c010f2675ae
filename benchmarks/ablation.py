"""The ablation behind `train.py --recipe v1`, `--recipe v2`, `--recipe v3` and `--recipe best` (v4): from the lab's
tuned baseline, one step at a time, then v2's leads, v2 itself at three lengths, v3 (v2 with AdamW), v3's leads at
its full length, LAMB at the short budget, and v4 (v3 for 150 epochs on the compiled engine). Rows whose feature
was later removed for losing (dropout, He and image inits, MixUp, CutMix, weight averaging, LAMB) keep their numbers
as history: the table names the commit that recorded them, whose code produced them, and they are not rerun.

    python benchmarks/ablation.py                    # every row, in order (about 6 hours on 2 cores)
    python benchmarks/ablation.py --rows 0 1         # some rows only
    python benchmarks/ablation.py --table            # just print the table from the recorded results
    python benchmarks/ablation.py --table --plot     # ... and redraw docs/recipe/accuracy-vs-minutes.png

Each row is a real train.py run (NumPy implementation, seed 0) whose run folder goes to
runs/ablation/<row>; a row whose folder already holds a completed run with the same command
is not trained again, so an interrupted ablation resumes. The measured numbers are collected
in benchmarks/ablation.json and printed as the Markdown table of docs/beyond-the-lab.md. The short rows share
one budget (15 epochs); "longer training" is v1 itself (80 epochs), v2 and v3 run 210 and 195 epochs in
under 25 minutes, and test-time flips are the same run's flip-averaged scores. ``--plot`` draws
test accuracy against training minutes for the rows in CURVES.
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
PROJECTIONS = (1536, 1024, 768, 512, 256)
V2_SHORT = ["--recipe", "v2", "--num-epochs", "15"]
ADAMW = ["--update-rule", "adam", "--learning-rate", "1e-3", "--weight-decay", "0.05", "--reg", "0"]
V3_FULL = ["--recipe", "v3"]
LAMB_RATES = ("5e-3", "1e-2", "2e-2", "4e-2")
WIDTHS_IN_V3_MINUTES = ((4096, 360), (2048, 640))  # epochs that fit v3's ~21.5 minutes (3.55 s and 2.0 s per epoch)
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
    ("longer training: 80 epochs, no dropout (= `--recipe v1`)", ["--recipe", "v1"], "plain"),
    ("the recipe without random crops (80 epochs)", ["--recipe", "v1", "--crop-padding", "0"], "plain"),
    ("+ test-time flips (same run as `--recipe v1`, flip-averaged scores)", ["--recipe", "v1"], "tta"),
    # v2: each lead from the 15-epoch v1 row (7), then the new recipe at three lengths against v1's 80 epochs.
    *[
        (
            f"row 7 (= v1 at 15 epochs) + projection onto the top {k} principal directions",
            ["--recipe", "v1", "--num-epochs", "15", "--pca-components", str(k)],
            "plain",
        )
        for k in PROJECTIONS
    ],
    ("v2 (projection k=512, H=8192) for 26 epochs", ["--recipe", "v2", "--num-epochs", "26"], "plain"),
    ("v2 for 80 epochs (v1's length)", ["--recipe", "v2", "--num-epochs", "80"], "plain"),
    ("v2 = `--recipe v2`: projection k=512, H=8192, 210 epochs", ["--recipe", "v2"], "plain"),
    ("+ test-time flips (same run as `--recipe v2`, flip-averaged scores)", ["--recipe", "v2"], "tta"),
    # v2's other leads, each tried on v2 shortened to the 15-epoch budget (row 22).
    ("v2 at 15 epochs (= row 16 with H=8192; the budget of the leads below)", V2_SHORT, "plain"),
    ("+ He initialization (W ~ N(0, 2 / fan-in))", [*V2_SHORT, "--init", "he"], "plain"),
    ("+ first-layer units started at whitened training images", [*V2_SHORT, "--init", "images"], "plain"),
    ("batch 1024 with learning rate 0.1", [*V2_SHORT, "--batch-size", "1024", "--learning-rate", "0.1"], "plain"),
    (
        "AdamW instead of Nesterov (lr 1e-3, decoupled weight decay 0.05, no L2)",
        [*V2_SHORT, *ADAMW],
        "plain",
    ),
    ("3 warm-up epochs instead of 1", [*V2_SHORT, "--warmup-epochs", "3"], "plain"),
    # v3 = v2 with row 26's lead at full length (195 epochs: Adam's extra state costs time per epoch).
    (
        "v3 = `--recipe v3`: v2 with AdamW (lr 1e-3, weight decay 0.05, no L2), 195 epochs",
        ["--recipe", "v3"],
        "plain",
    ),
    ("+ test-time flips (same run as `--recipe v3`, flip-averaged scores)", ["--recipe", "v3"], "tta"),
    # Mixing two images and their labels, at full length only (it pays, if at all, in long runs); flip-averaged.
    ("v3 + MixUp (alpha 0.4), flip-averaged scores", ["--recipe", "v3", "--mix", "mixup", "--mix-alpha", "0.4"], "tta"),
    ("v3 + CutMix (alpha 1), flip-averaged scores", ["--recipe", "v3", "--mix", "cutmix"], "tta"),
    ("v3 + weights averaged (EMA 0.999), flip-averaged scores", ["--recipe", "v3", "--ema-decay", "0.999"], "tta"),
    # v2's short-budget leads that were not yet measured on v3 at full length; flip-averaged, against row 29.
    (
        "v3 + first-layer units started at whitened images, flip-averaged",
        [*V3_FULL, "--init", "images"],
        "tta",
    ),
    ("v3 without label smoothing, flip-averaged scores", [*V3_FULL, "--label-smoothing", "0"], "tta"),
    # Width against epochs in v3's minutes (about 21.5): a narrower layer buys more epochs.
    *[
        (
            f"v3 at H={width} for {epochs} epochs (v3's minutes), flip-averaged",
            [*V3_FULL, "--hidden-size", str(width), "--num-epochs", str(epochs)],
            "tta",
        )
        for width, epochs in WIDTHS_IN_V3_MINUTES
    ],
    # LAMB against row 26's AdamW at the 15-epoch budget: its rate is the relative change of each array per update.
    *[
        (
            f"LAMB instead of AdamW (lr {rate}, weight decay 0.05 inside the trust-ratio step, no L2)",
            [*V2_SHORT, "--update-rule", "lamb", "--learning-rate", rate, "--weight-decay", "0.05", "--reg", "0"],
            "plain",
        )
        for rate in LAMB_RATES
    ],
    # v4: v3 shortened to 150 epochs on the engine with compiled loops (docs/performance.md, time to 70%).
    ("v4 = `--recipe best`: v3 for 150 epochs on the compiled engine, flip-averaged", ["--recipe", "v4"], "tta"),
]
# rows of features removed for losing -> the commit that recorded them (its code produced them; rerun them there)
HISTORY = {
    8: "136d84c",
    23: "130898f",
    24: "130898f",
    30: "d634aee",
    31: "d634aee",
    32: "a9dc6be",
    33: "c2f2d09",
    **dict.fromkeys(range(37, 41), "c2f2d09"),
}
# tried against the row they follow, not part of the recipe
EXCURSIONS = {8, 9, 11, *range(13, 20), *range(22, 28), *range(30, 41)}
BASES = {
    **dict.fromkeys(range(13, 18), 7),
    18: 10,
    19: 10,
    20: 10,
    22: 16,
    **dict.fromkeys(range(23, 28), 22),
    28: 20,
    **dict.fromkeys(range(31, 37), 29),
    **dict.fromkeys(range(37, 41), 26),
    41: 29,
}  # rows compared with a row other than the last


# The picture of docs/beyond-the-lab.md: test accuracy against training minutes, one line per recipe (its rows).
CURVES = {
    "lab's tuned baseline (H=1000, 15 epochs)": [0],
    "v1 (3072 inputs, H=4096)": [7, 10],
    "v2 (top 512 directions, H=8192)": [18, 19, 20],
    "v3 (v2 with AdamW)": [28],
    "v4 (v3 for 150 epochs, compiled engine; minutes: v3's × epochs × paired step time)": [41],
}
# Rows trained while the machine ran other work (docs/performance.md, time to 70%): drawn at the minutes of v3's run
# (row 28) times their epochs over its and the Solver step paired against v3's engine (benchmarks/recipe_results.json).
SCALED_TO_V3 = {41}
PLOT = ROOT / "docs" / "recipe" / "accuracy-vs-minutes.png"
TARGET, BUDGET_MINUTES = 0.70, 25  # the goal v2 and v3 were built for: 70% on the full test set within 25 minutes


def command(flags: list[str]) -> list[str]:
    return ["python", "train.py", "--impl", "numpy", *flags]


def same_settings(config_path: Path, flags: list[str]) -> bool:
    """Whether a run's config.json records exactly the settings these train.py flags give."""
    return Config.from_run(load_json(config_path)) == config_from_argv(command(flags)[2:])


def run_row(index: int) -> dict:
    """Train row `index` (unless its run folder already holds the same completed run) -> its metrics."""
    _, flags, _ = ROWS[index]
    out = RUNS / (f"recipe-{flags[1]}" if len(flags) == 2 and flags[0] == "--recipe" else f"row-{index}")
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

    The change column compares each row with the last row it builds on (BASES names the rows that build on
    another); a step that lowers test accuracy is marked "(hurts)" and stays in the table.
    """
    lines = [
        "| # | step | val | test-1k | test-10k | training time | change (test-10k) |",
        "|---|---|---|---|---|---|---|",
    ]
    commands = []
    previous = None
    for index, (step, flags, scores) in enumerate(ROWS):
        if index in BASES and str(BASES[index]) in results:
            previous = _score(results[str(BASES[index])], ROWS[BASES[index]][2])
        metrics = results.get(str(index))
        if metrics is None:
            continue
        if index in HISTORY:
            step = f"{step} (removed since; measured at commit {HISTORY[index]})"
        note = " (its flip-averaged scores)" if scores == "tta" else ""
        at = f" at commit {HISTORY[index]}" if index in HISTORY else ""
        commands.append(f"- {index}: `{shlex.join(command(flags))}`{note}{at}")
        minutes = metrics["train_seconds"] / 60
        if metrics.get("status") != "completed":  # e.g. diverged: kept in the table, and not a new baseline
            lines.append(
                f"| {index} | {step} | {metrics.get('status')}: {metrics.get('error') or ''} | | | "
                f"{minutes:.1f} min | (hurts) |"
            )
            continue
        suffix = "_tta" if scores == "tta" else ""
        val, test_1k = (metrics[f"{key}{suffix}"] for key in ("val_acc", "test_acc_1k"))
        test_10k = _score(metrics, scores)
        change = ""
        if previous is not None:
            points = round(100 * (test_10k - previous), 1) + 0.0  # + 0.0: no "-0.0"
            change = f"{points:+.1f} pts" + (" (hurts)" if points < 0 else "")
        lines.append(
            f"| {index} | {step} | {100 * val:.1f}% | {100 * test_1k:.1f}% | {100 * test_10k:.2f}% | "
            f"{minutes:.1f} min | {change} |"
        )
        if index not in EXCURSIONS:
            previous = test_10k
    return "\n".join(lines + ["", "Commands (each also takes `--quiet --out DIR`):", ""] + commands)


def _score(metrics: dict, scores: str) -> float:
    """A row's test-10k accuracy: plain, or flip-averaged for a "tta" row."""
    return metrics["test_acc_10k_tta" if scores == "tta" else "test_acc_10k"]


def minutes(row: int, results: dict) -> float:
    """A row's training minutes: its own, or for SCALED_TO_V3 v3's (row 28) x epochs x the paired step ratio."""
    metrics = results[str(row)]
    if row not in SCALED_TO_V3:
        return metrics["train_seconds"] / 60
    step = load_json(ROOT / "benchmarks" / "recipe_results.json")["lever_seconds"]["solver_step"]
    v3 = results["28"]
    epochs = metrics["epochs_completed"] / v3["epochs_completed"]
    return v3["train_seconds"] / 60 * epochs * step["after"]["seconds"] / step["before"]["seconds"]


def curves(results: dict) -> dict[str, list[tuple[float, float, float | None]]]:
    """Per recipe, its completed rows as (training minutes, test-10k, flip-averaged test-10k or None)."""
    series = {}
    for label, rows in CURVES.items():
        done = [row for row in rows if results.get(str(row), {}).get("status") == "completed"]
        if done:
            series[label] = [
                (minutes(row, results), results[str(row)]["test_acc_10k"], results[str(row)].get("test_acc_10k_tta"))
                for row in done
            ]
    return series


def save_plots(results: dict) -> list[Path]:
    """docs/recipe/accuracy-vs-minutes.png and its Korean twin (.ko.png), drawn from the recorded results."""
    from common.plots import plot_accuracy_against_minutes, save_figure

    paths = []
    for lang, path in (("en", PLOT), ("ko", PLOT.with_suffix(".ko.png"))):
        paths.append(save_figure(plot_accuracy_against_minutes(curves(results), TARGET, BUDGET_MINUTES, lang), path))
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="*", default=None, help="row numbers to run (default: all)")
    parser.add_argument("--table", action="store_true", help="only print the table of recorded results")
    parser.add_argument("--plot", action="store_true", help=f"also redraw {PLOT.relative_to(ROOT)} from the results")
    args = parser.parse_args(argv)
    results = load_json(RESULTS) if RESULTS.is_file() else {}
    if not args.table and (args.rows is not None or not args.plot):  # --plot alone only redraws
        for index in range(len(ROWS)) if args.rows is None else args.rows:
            if not 0 <= index < len(ROWS):
                parser.error(f"--rows: {index} is not a row number (0 to {len(ROWS) - 1})")
            if index in HISTORY:
                print(
                    f"row {index}: its feature was removed; its numbers are history (rerun at commit {HISTORY[index]})"
                )
                continue
            results[str(index)] = run_row(index)
            save_json(RESULTS, results)  # after every row: an interrupted ablation keeps what it measured
    print(table(results))
    if args.plot:
        for path in save_plots(results):
            print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
