"""benchmarks/ablation.py: its rows are valid train.py commands and its table marks the steps that hurt."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import ablation  # noqa: E402

from common.config import NAMES, config_from_argv  # noqa: E402

CURRENT_ROWS = [index for index in range(len(ablation.ROWS)) if index not in ablation.HISTORY]


@pytest.mark.parametrize("index", CURRENT_ROWS)
def test_every_row_but_the_history_is_a_valid_train_py_command(index):
    _, flags, _ = ablation.ROWS[index]
    config = config_from_argv(ablation.command(flags)[2:])  # checked: raises ConfigError on any bad combination
    assert config.impl == "numpy" and config.seed == 0


@pytest.mark.parametrize("index", sorted(ablation.HISTORY))
def test_history_rows_use_a_removed_flag_and_name_the_commit_that_recorded_them(index):
    _, flags, _ = ablation.ROWS[index]
    assert {"--dropout-keep-ratio", "--init", "--mix", "--ema-decay", "lamb"} & set(flags)
    with pytest.raises((SystemExit, ValueError)):  # the flag or the rule no longer exists: train.py refuses it
        config_from_argv(ablation.command(flags)[2:])
    assert ablation.HISTORY[index] in ablation.table({str(index): fake_metrics(0.5, tta=0.5)})


def test_rows_add_one_step_at_a_time():
    settings = {
        index: config_from_argv(ablation.command(ablation.ROWS[index][1])[2:]).to_dict() for index in CURRENT_ROWS
    }

    def changed(a, b):
        return {k for k in NAMES if settings[a][k] != settings[b][k]}

    assert changed(0, 1) == {"hidden_size"}
    assert changed(3, 4) == {"preprocessing"}  # standardization -> ZCA
    assert changed(4, 5) == {"flip"} and changed(5, 6) == {"crop_padding"} and changed(6, 7) == {"label_smoothing"}
    assert ablation.EXCURSIONS == {8, 9, 11, *range(13, 20), *range(22, 28), *range(30, 41)}
    assert changed(7, 9) == {"preprocessing"}  # tried, then left out
    assert changed(7, 10) == {"num_epochs", "tta"}  # the recipe: label smoothing's row, trained longer
    assert changed(10, 11) == {"crop_padding"}  # the recipe without crops
    assert changed(10, 12) == set()  # test-time flips: the same run, flip-averaged scores
    for row in range(13, 18):  # the projection leads: row 7 (v1 at 15 epochs, scored without TTA) + a projection
        assert changed(7, row) == {"pca_components", "tta"}
    assert changed(10, 20) == {"pca_components", "hidden_size", "num_epochs"}  # v2 = v1 + projection, width, length
    assert changed(20, 18) == changed(20, 19) == {"num_epochs"}  # v2 at shorter lengths, for the time curve
    assert changed(20, 21) == set()
    assert changed(16, 22) == {"hidden_size"}  # v2 at 15 epochs: row 16 twice as wide
    assert [changed(22, row) for row in range(25, 28)] == [
        {"batch_size", "learning_rate"},
        {"update_rule", "learning_rate", "weight_decay", "reg"},
        {"warmup_epochs"},
    ]
    assert all(ablation.BASES[row] == 22 for row in range(23, 28))
    assert changed(20, 28) == changed(22, 26) | {"num_epochs"} and ablation.BASES[28] == 20  # v3: v2 with AdamW
    assert changed(28, 29) == set() and ablation.ROWS[29][2] == "tta"  # v3's test-time flips: the same run
    assert changed(29, 34) == {"label_smoothing"}  # a short-budget lead at full length
    for row in (35, 36):  # width against epochs: narrower, longer, in v3's minutes
        assert changed(29, row) == {"hidden_size", "num_epochs"}
        hidden, epochs = settings[row]["hidden_size"], settings[row]["num_epochs"]
        assert hidden < settings[29]["hidden_size"] and epochs > settings[29]["num_epochs"]
    assert all(ablation.BASES[row] == 26 for row in range(37, 41))  # LAMB (history) against row 26's AdamW
    assert all(ablation.BASES[row] == 29 for row in range(31, 37))


def fake_metrics(test_10k, tta=None):
    metrics = {
        "status": "completed",
        "val_acc": test_10k + 0.01,
        "test_acc_1k": test_10k,
        "test_acc_10k": test_10k,
        "train_seconds": 90,
    }
    if tta is not None:
        metrics.update(val_acc_tta=tta, test_acc_1k_tta=tta, test_acc_10k_tta=tta)
    return metrics


def test_table_marks_harmful_steps_and_compares_with_the_last_kept_step():
    results = {
        "0": fake_metrics(0.50),
        "7": fake_metrics(0.60),
        "8": fake_metrics(0.58),
        "9": fake_metrics(0.59),
        "10": fake_metrics(0.66, tta=0.67),
        "11": fake_metrics(0.65),
        "12": fake_metrics(0.66, tta=0.67),
    }
    lines = ablation.table(results).splitlines()
    assert "| 50.0% | 50.00% | 1.5 min |" in lines[2] and "| 60.00% |" in lines[3]
    assert "-2.0 pts (hurts)" in lines[4]  # dropout, against label smoothing
    assert "-1.0 pts (hurts)" in lines[5]  # standardization instead of ZCA, against label smoothing
    assert "+6.0 pts" in lines[6]  # longer training, against label smoothing again
    assert "-1.0 pts (hurts)" in lines[7]  # no crops, against the recipe
    assert "+1.0 pts" in lines[8]  # TTA, against the recipe's plain scores
    assert lines[9:12] == ["", "Commands (each also takes `--quiet --out DIR`):", ""]
    assert lines[12].startswith("- 0: `python train.py --impl numpy --hidden-size 1000")
    assert lines[-1] == "- 12: `python train.py --impl numpy --recipe v1` (its flip-averaged scores)"


def test_a_failed_row_stays_in_the_table_without_becoming_the_baseline():
    failed = {"status": "failed", "error": "loss became inf at iteration 7", "train_seconds": 6}
    lines = ablation.table({"0": fake_metrics(0.50), "1": failed, "2": fake_metrics(0.52)}).splitlines()
    assert "failed: loss became inf at iteration 7" in lines[3] and "(hurts)" in lines[3]
    assert "+2.0 pts" in lines[4]  # against row 0


def test_v2_rows_compare_with_their_base_rows_and_the_time_curves_use_completed_rows():
    results = {
        "7": fake_metrics(0.60),
        "10": fake_metrics(0.66, tta=0.67),
        "12": fake_metrics(0.66, tta=0.67),
        "16": fake_metrics(0.61),
        "18": fake_metrics(0.62, tta=0.625),
        "19": {"status": "failed", "error": "interrupted", "train_seconds": 60},
        "20": fake_metrics(0.70, tta=0.71),
        "21": fake_metrics(0.70, tta=0.71),
    }
    rows = {line.split(" | ")[0].lstrip("| "): line for line in ablation.table(results).splitlines() if "pts" in line}
    assert "+1.0 pts" in rows["16"]  # a projection lead, against v1 at 15 epochs (row 7)
    assert "-4.0 pts (hurts)" in rows["18"]  # v2 at 26 epochs, against v1 at 80 epochs (row 10)
    assert "+4.0 pts" in rows["20"] and "+1.0 pts" in rows["21"]  # v2 against v1; its flips against itself
    series = ablation.curves(results)
    assert series["v1 (3072 inputs, H=4096)"] == [(1.5, 0.60, None), (1.5, 0.66, 0.67)]
    assert [point[1] for point in series["v2 (top 512 directions, H=8192)"]] == [
        0.62,
        0.70,
    ]  # the failed row is left out
    assert "lab's tuned baseline (H=1000, 15 epochs)" not in series
