"""tune.py end to end on a 500-image subset of the real CIFAR-10, one epoch per trial."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

import tune
from tuning import study

ROOT = Path(__file__).resolve().parents[1]
TINY_SPACE = {  # a few cheap configurations: hidden 10 or 20, one epoch
    "hidden_size": {"values": [10, 20], "low": 10, "high": 20},
    "learning_rate": {"values": [1e-4, 3e-4], "low": 1e-4, "high": 3e-4},
    "num_epochs": {"values": [1], "low": 1, "high": 2},
    "reg": {"values": [0.0], "low": 1e-3, "high": 1e-2},
}


@pytest.fixture
def space_file(tmp_path):
    path = tmp_path / "space.json"
    path.write_text(json.dumps(TINY_SPACE))
    return str(path)


def run_tune(out, space_file, *args):
    return tune.main(["--num-train", "500", "--space", space_file, "--out", str(out), "--no-retrain", *args])


def rows(out):
    with open(out / "results.csv") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize(
    "strategy, trials, expected", [("grid", None, 4), ("random", 3, 3), ("tpe", 3, 3), ("greedy", None, 4)]
)
def test_tiny_study_per_strategy(real_data_dir, tmp_path, space_file, strategy, trials, expected):
    out = tmp_path / strategy
    assert run_tune(out, space_file, "--strategy", strategy, *(["--trials", str(trials)] if trials else [])) == 0
    results = rows(out)
    assert len(results) == expected and all(r["state"] == "complete" for r in results)
    assert all(0.0 < float(r["val_acc"]) <= 1.0 for r in results)
    table = (out / "results.md").read_text()
    assert table.count("\n| ") == expected + 1 and "Best configuration" in table
    for name in ("val_acc_vs_params.png", "best_accuracy.png", "best_loss.png", "study.db", "search.json"):
        assert (out / name).is_file(), name
    if strategy == "grid":
        assert {(r["hidden_size"], r["learning_rate"]) for r in results} == {
            ("10", "0.0001"),
            ("10", "0.0003"),
            ("20", "0.0001"),
            ("20", "0.0003"),
        }
    if strategy in ("random", "tpe"):
        assert all(10 <= int(r["hidden_size"]) <= 20 for r in results)
    if strategy == "greedy":  # from the first candidates (the lab's 50 is not one), sweep hidden, then lr, ...
        configs = [(r["hidden_size"], r["learning_rate"]) for r in results]
        assert configs[:3] == [("10", "0.0001"), ("20", "0.0001"), ("10", "0.0003")]
        assert len(set(configs)) == 4  # pass 2 re-sweeps hidden_size at the adopted rate: one new configuration


def test_greedy_resumes_where_it_stopped(real_data_dir, tmp_path, space_file):
    out = tmp_path / "greedy"
    assert run_tune(out, space_file, "--strategy", "greedy", "--trials", "2") == 0
    first = rows(out)
    assert len(first) == 2
    assert run_tune(out, space_file, "--strategy", "greedy") == 0
    second = rows(out)
    assert second[:2] == first  # kept, not retrained
    configs = [(r["hidden_size"], r["learning_rate"]) for r in second]
    assert len(configs) == len(set(configs)) == 4  # the whole greedy path, nothing trained twice


def test_sampled_study_resumes_up_to_its_total(real_data_dir, tmp_path, space_file):
    out = tmp_path / "random"
    assert run_tune(out, space_file, "--strategy", "random", "--trials", "2") == 0
    assert run_tune(out, space_file, "--strategy", "random", "--trials", "3") == 0
    assert [r["number"] for r in rows(out)] == ["0", "1", "2"]


def test_crashing_trial_is_recorded_and_the_study_goes_on(real_data_dir, tmp_path, space_file, monkeypatch):
    real_train = study.train_config

    def crash_on_hidden_20(config, *args, **kwargs):
        if config.hidden_size == 20:
            raise MemoryError("simulated out-of-memory")
        return real_train(config, *args, **kwargs)

    monkeypatch.setattr(study, "train_config", crash_on_hidden_20)
    out = tmp_path / "grid"
    assert run_tune(out, space_file, "--strategy", "grid") == 0
    states = {(r["hidden_size"], r["state"]) for r in rows(out)}
    assert states == {("10", "complete"), ("20", "failed")}
    assert "crashed: MemoryError: simulated out-of-memory" in (out / "results.md").read_text()


def test_two_jobs_and_pruning(real_data_dir, tmp_path, space_file):
    out = tmp_path / "jobs"
    assert run_tune(out, space_file, "--strategy", "random", "--trials", "4", "--jobs", "2", "--prune", "median") == 0
    assert len(rows(out)) == 4


def test_two_processes_share_one_storage(real_data_dir, tmp_path, space_file):
    storage = f"sqlite:///{tmp_path / 'shared.db'}"
    command = [
        sys.executable,
        str(ROOT / "tune.py"),
        "--strategy",
        "random",
        "--trials",
        "6",
        "--num-train",
        "500",
        "--space",
        space_file,
        "--storage",
        storage,
        "--study",
        "shared",
        "--no-retrain",
    ]
    procs = [
        subprocess.Popen(
            [*command, "--out", str(tmp_path / f"w{i}"), "--seed", str(i)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    import optuna

    trials = optuna.load_study(study_name="shared", storage=storage).get_trials()
    # --trials is the study's budget, shared: 6 trained; a trial both workers started together beyond it is
    # refused untrained (surplus) and left out of the reports
    trained = [t for t in trials if "surplus" not in t.user_attrs]
    assert len(trained) == 6 and all(t.state.name == "COMPLETE" for t in trained)
    assert all(t.state.name == "FAIL" and "seconds" not in t.user_attrs for t in trials if t not in trained)
    tables = [(tmp_path / f"w{i}" / "results.csv").read_text().count("\n") - 1 for i in range(2)]
    assert tables == [6, 6]  # each worker's report: the whole study


def test_retrains_the_best_as_a_train_py_run(real_data_dir, tmp_path, space_file):
    out = tmp_path / "best"
    assert (
        tune.main(
            [
                "--num-train",
                "500",
                "--space",
                space_file,
                "--out",
                str(out),
                "--strategy",
                "random",
                "--trials",
                "2",
                "--lang",
                "ko",
            ]
        )
        == 0
    )
    best = json.loads((out / "best.json").read_text())
    assert best["status"] == "completed" and 0 < best["test_acc_10k"] <= 1
    assert (out / "best-run" / "model.npz").is_file() and (out / "best-run" / "config.json").is_file()
    assert "검증정확도" in (out / "results.md").read_text()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--strategy", "annealing"], "argument --strategy: invalid choice: 'annealing'"),
        (["--jobs", "0"], "--jobs must be a positive integer"),
        (["--storage", "sqlite:////nonexistent-dir/deeper/study.db"], "cannot open the study"),
        (["--storage", "postgresql://nobody@127.0.0.1:9/none"], "cannot open the study"),
    ],
)
def test_bad_input_is_exit_2(tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.setenv("CIFAR10_DIR", "")
    try:
        code = tune.main(["--out", str(tmp_path / "o"), *args])
    except SystemExit as usage_error:  # argparse's own errors
        code = usage_error.code
    stderr = capsys.readouterr().err
    assert code == 2, stderr
    assert message in stderr and stderr.count("\n") == 1


def test_fixed_settings_are_checked_before_the_first_trial(tmp_path, capsys):
    space = tmp_path / "bad.toml"
    space.write_text('[fixed]\nupdate_rule = "bogus"\n')
    assert tune.main(["--space", str(space), "--out", str(tmp_path / "o")]) == 2
    assert "--update-rule must be one of sgd, sgd_momentum" in capsys.readouterr().err


def test_inverted_range_is_exit_2(tmp_path, capsys):
    space = tmp_path / "bad.toml"
    space.write_text("[learning_rate]\nlow = 1e-2\nhigh = 1e-4\n")
    assert tune.main(["--space", str(space), "--out", str(tmp_path / "o")]) == 2
    assert "learning_rate: the range is inverted (low 0.01 > high 0.0001)" in capsys.readouterr().err
