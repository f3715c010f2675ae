"""benchmarks/ablation.py: its rows are valid train.py commands and its table marks the steps that hurt."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import ablation  # noqa: E402
import train  # noqa: E402


@pytest.mark.parametrize("index", range(len(ablation.ROWS)))
def test_every_row_is_a_valid_train_py_command(index):
    _, flags, _ = ablation.ROWS[index]
    args = train.parse_args(ablation.command(flags)[2:])
    train.check_settings(args)  # raises UsageError on any bad combination
    assert args.impl == "numpy" and args.seed == 0


def test_rows_add_one_step_at_a_time():
    settings = [vars(train.parse_args(ablation.command(flags)[2:])) for _, flags, _ in ablation.ROWS]
    changed = [{k for k in train.DEFAULTS if a[k] != b[k]} for a, b in zip(settings, settings[1:])]
    assert changed[0] == {"hidden_size"}
    assert changed[3] == {"preprocessing"}  # standardization -> ZCA
    assert changed[4] == {"flip"} and changed[5] == {"crop_padding"} and changed[6] == {"label_smoothing"}
    assert changed[7] == {"dropout"}
    assert changed[8] == {"num_epochs", "dropout", "tta"}  # the recipe: longer, dropout off again
    assert changed[9] == set()  # test-time flips: the same run, flip-averaged scores


def fake_metrics(test_10k, tta=None):
    metrics = {"val_acc": test_10k + 0.01, "test_acc_1k": test_10k, "test_acc_10k": test_10k, "train_seconds": 90}
    if tta is not None:
        metrics.update(val_acc_tta=tta, test_acc_1k_tta=tta, test_acc_10k_tta=tta)
    return metrics


def test_table_marks_harmful_steps_and_compares_with_the_last_kept_step():
    results = {"0": fake_metrics(0.50), "7": fake_metrics(0.60), "8": fake_metrics(0.58),
               "9": fake_metrics(0.66, tta=0.67), "10": fake_metrics(0.66, tta=0.67)}
    lines = ablation.table(results).splitlines()
    assert len(lines) == 2 + 5 and "| 50.0% |" in lines[2] and "1.5 min" in lines[2]
    assert "-2.0 pts (hurts)" in lines[4]             # dropout, against label smoothing
    assert "+6.0 pts" in lines[5]                     # longer training, against label smoothing again
    assert "+1.0 pts" in lines[6] and "(TTA on)" in lines[6]
