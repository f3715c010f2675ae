"""train.py end to end on a small subset of the real CIFAR-10: artifacts, --eval, bad input, Ctrl-C, failure."""

import csv
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import train
from common.artifacts import load_model, load_npz
from common.cifar10 import load_raw_cifar10
from common.config import RECIPES, Config, ConfigError, config_from_argv
from experiment.models import model_from_params, predict

ROOT = Path(__file__).resolve().parents[1]
QUICK = ["--num-train", "500", "--num-epochs", "2", "--hidden-size", "30", "--batch-size", "50"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run_train(*args, env=None, timeout=300):
    """python train.py ARGS in a subprocess -> CompletedProcess (text)."""
    return subprocess.run(
        [sys.executable, str(ROOT / "train.py"), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture(scope="module")
def runs(real_data_dir, tmp_path_factory):
    """One quick float64 run per implementation, same seed."""
    out = tmp_path_factory.mktemp("runs")
    results = {}
    for impl in ("numpy", "torch"):
        proc = run_train("--impl", impl, *QUICK, "--dtype", "float64", "--seed", "3", "--out", str(out / impl))
        assert proc.returncode == 0, proc.stderr
        results[impl] = (out / impl, proc)
    return results


@pytest.mark.parametrize("impl", ["numpy", "torch"])
def test_run_writes_every_artifact(runs, impl):
    out, proc = runs[impl]
    assert {p.name for p in out.iterdir()} == {
        "config.json",
        "history.csv",
        "metrics.json",
        "model.npz",
        "loss.png",
        "accuracy.png",
        "weights.png",
        "confusion.png",
    }
    config = json.loads((out / "config.json").read_text())
    assert config["impl"] == impl and config["seed"] == 3 and config["num_train"] == 500
    assert config["dtype"] == "float64" and "numpy" in config["versions"] and "torch" in config["versions"]
    assert Config.from_run(config) == config_from_argv([*QUICK, "--impl", impl, "--dtype", "float64", "--seed", "3"])
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["status"] == "completed" and metrics["error"] is None
    assert metrics["epochs_completed"] == 2 and metrics["iterations_completed"] == 20
    for key in ("val_acc", "train_acc", "test_acc_1k", "test_acc_10k"):
        assert 0.1 < metrics[key] <= 1.0, key
    assert metrics["seconds_per_epoch"] > 0 and metrics["images_per_second"] > 0
    with open(out / "history.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 20 and rows[0]["iteration"] == "1" and rows[-1]["epoch"] == "2"
    assert [r["iteration"] for r in rows if r["val_acc"] != ""] == ["1", "10", "20"]  # first update, epoch ends
    assert float(rows[9]["learning_rate"]) == 1e-4 and float(rows[10]["learning_rate"]) == pytest.approx(0.95e-4)
    assert float(rows[0]["loss"]) == pytest.approx(2.3026, abs=0.01)
    params, preprocessing = load_model(out / "model.npz")
    mean_image = preprocessing["mean_image"]
    assert set(preprocessing) == {"mean_image"}  # the default preprocessing: the lab's mean image
    assert params["W1"].shape == (3072, 30) and params["W2"].shape == (30, 10) and mean_image.shape == (3, 32, 32)
    assert params["W1"].dtype == np.float64
    assert 100 < mean_image.mean() < 150  # the training mean, in 0-255 pixel units
    for name in ("loss.png", "accuracy.png", "weights.png", "confusion.png"):
        data = (out / name).read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 5000, name
    assert "done: val acc" in proc.stdout and f"saved to {out}/" in proc.stdout


def test_both_implementations_reach_the_same_result(runs):
    numpy_metrics, torch_metrics = (
        json.loads((runs[impl][0] / "metrics.json").read_text()) for impl in ("numpy", "torch")
    )
    for key in ("val_acc", "test_acc_1k", "test_acc_10k"):
        assert abs(numpy_metrics[key] - torch_metrics[key]) <= 0.001, key
    numpy_model, torch_model = (load_npz(runs[impl][0] / "model.npz") for impl in ("numpy", "torch"))
    for name in numpy_model:
        np.testing.assert_allclose(numpy_model[name], torch_model[name], rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("impl", ["numpy", "torch"])
def test_eval_reproduces_the_recorded_accuracy(runs, impl):
    out, _ = runs["numpy"]
    proc = run_train("--eval", str(out), "--impl", impl)
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    expected = (
        f"val acc {metrics['val_acc']:.4f}  test-1k {metrics['test_acc_1k']:.4f}  "
        f"test-10k {metrics['test_acc_10k']:.4f}"
    )
    assert expected in proc.stdout


def test_saved_model_classifies_raw_images_identically_in_both(runs, real_data_dir):
    params, preprocessing = load_model(runs["numpy"][0] / "model.npz")
    raw = load_raw_cifar10(real_data_dir)
    X = (raw.x_test[:2000] - preprocessing["mean_image"]).astype(np.float64)
    numpy_pred = predict("numpy", model_from_params("numpy", params), X)
    torch_pred = predict("torch", model_from_params("torch", params), X)
    np.testing.assert_array_equal(numpy_pred, torch_pred)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--learning-rate", "0"], "--learning-rate must be a positive number, got 0.0"),
        (["--learning-rate=-1e-3"], "--learning-rate must be a positive number"),
        (["--num-epochs", "ten"], "argument --num-epochs: invalid int value: 'ten' (see --help)"),
        (["--hidden-size", "0"], "--hidden-size must be a positive integer, got 0"),
        (["--num-epochs", "-2"], "--num-epochs must be a positive integer, got -2"),
        (
            ["--update-rule", "nesterov"],
            "--update-rule must be one of sgd, sgd_momentum, rmsprop, adam, sgd_nesterov, got 'nesterov'",
        ),
        (["--preprocessing", "pca"], "--preprocessing must be one of mean_image, standardize, zca, got 'pca'"),
        (["--lr-schedule", "linear"], "--lr-schedule must be one of step, cosine, got 'linear'"),
        (["--zca-epsilon", "0"], "--zca-epsilon must be a positive number, got 0.0"),
        (["--crop-padding", "40"], "--crop-padding must be an integer in [0, 32), got 40"),
        (["--warmup-epochs", "2"], "--warmup-epochs applies to --lr-schedule cosine only"),
        (["--lr-schedule", "cosine", "--warmup-epochs", "20"], "--warmup-epochs must be in [0, --num-epochs = 10]"),
        (["--hidden", "10"], "unrecognized arguments: --hidden 10"),  # no abbreviations
        (["--label-smoothing", "1.5"], "--label-smoothing must be in [0, 1], got 1.5"),
        (
            ["--pca-components", "4000"],
            "--pca-components must be an integer in [0, 3072] (0: no projection; an image has 3072 values), got 4000",
        ),
        (["--weight-decay=-1"], "--weight-decay must be a finite number >= 0, got -1.0"),
        (["--recipe", "fastest"], "argument --recipe: invalid choice: 'fastest'"),
        (["--impl", "jax"], "--impl must be one of numpy, torch, got 'jax'"),
        (["--dtype", "float16"], "--dtype must be one of float32, float64"),
        (["--num-train", "49500"], "--num-train must be at most 49000"),
        (["--impl", "numpy", "--device", "cuda"], "--device cuda applies to --impl torch only"),
        (["--eval", "/nonexistent/model.npz"], "--eval: /nonexistent/model.npz: file not found"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, message, capsys):
    try:
        code = train.main(args)
    except SystemExit as usage_error:  # argparse's own errors
        code = usage_error.code
    stderr = capsys.readouterr().err
    assert code == 2
    assert stderr.strip() == f"train.py: error: {message}" or (stderr.count("\n") == 1 and message in stderr), stderr


@pytest.mark.slow
def test_bad_input_from_the_command_line_is_one_line_and_exit_2():
    proc = run_train("--hidden-size", "0")
    assert proc.returncode == 2 and proc.stderr == "train.py: error: --hidden-size must be a positive integer, got 0\n"


@pytest.mark.slow
def test_unreadable_model_file_is_exit_2(tmp_path):
    bad = tmp_path / "model.npz"
    bad.write_bytes(b"not a zip file at all")
    proc = run_train("--eval", str(bad))
    assert proc.returncode == 2 and "not a readable .npz" in proc.stderr and "Traceback" not in proc.stderr
    np.savez(bad, W1=np.zeros((5, 2)))
    proc = run_train("--eval", str(bad))
    assert proc.returncode == 2 and "missing b1, W2, b2, mean_image" in proc.stderr


def test_missing_data_is_exit_2_with_advice(tmp_path, monkeypatch, capsys):
    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr("common.cifar10.fetch", offline)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("CIFAR10_DIR", raising=False)
    assert train.main(["--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("train.py: error: CIFAR-10 was not found.") and err.count("\n") == 1
    assert "set CIFAR10_DIR" in err
    assert not (tmp_path / "run").exists()


def test_divergence_marks_the_run_failed(real_data_dir, tmp_path):
    proc = run_train("--update-rule", "sgd", "--learning-rate", "1e8", *QUICK, "--out", str(tmp_path / "run"))
    assert proc.returncode == 1
    assert proc.stderr.strip().startswith("train.py: training failed: loss became") and "Traceback" not in proc.stderr
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["status"] == "failed" and "learning rate" in metrics["error"]


def test_ctrl_c_leaves_a_valid_interrupted_run(real_data_dir, tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-u",
            str(ROOT / "train.py"),
            "--num-train",
            "2000",
            "--num-epochs",
            "500",
            "--hidden-size",
            "50",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for line in proc.stdout:  # wait until a few epochs have completed
            if line.startswith("epoch   3/"):
                break
        assert json.loads((out / "metrics.json").read_text())["status"] == "running"
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130, stderr
    assert "interrupted after" in stderr and str(out) in stderr and "Traceback" not in stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["status"] == "interrupted" and metrics["epochs_completed"] >= 3
    with open(out / "history.csv") as f:
        assert len(list(csv.DictReader(f))) == metrics["iterations_completed"] >= 30
    params, _ = load_model(out / "model.npz")
    assert params["W1"].shape == (3072, 50)
    assert (out / "loss.png").read_bytes().startswith(PNG_MAGIC)
    assert not list(out.glob(".*.tmp"))


def test_quiet_prints_only_the_summary(real_data_dir, tmp_path):
    proc = run_train(*QUICK, "--num-epochs", "1", "--quiet", "--out", str(tmp_path / "run"))
    assert proc.returncode == 0
    assert proc.stdout.startswith("done: val acc") and proc.stdout.count("\n") == 2
    assert proc.stderr == ""


RECIPE_QUICK = [
    "--recipe",
    "best",
    "--num-train",
    "2000",
    "--num-epochs",
    "8",
    "--hidden-size",
    "64",
    "--batch-size",
    "100",
    "--seed",
    "1",
    "--quiet",
]


def test_recipe_runs_end_to_end_on_a_subset_identically_in_both(real_data_dir, tmp_path):
    """--recipe best on 2,000 images: ZCA saved with the model, the projection folded into W1 (3072, H), flip TTA
    reported, numpy == torch in float64, and --eval of the folded model reproduces the run's accuracies."""
    metrics = {}
    for impl in ("numpy", "torch"):
        proc = run_train(*RECIPE_QUICK, "--impl", impl, "--dtype", "float64", "--out", str(tmp_path / impl))
        assert proc.returncode == 0, proc.stderr
        assert "with flip TTA: val" in proc.stdout
        metrics[impl] = json.loads((tmp_path / impl / "metrics.json").read_text())
    config = json.loads((tmp_path / "numpy" / "config.json").read_text())
    assert config["recipe"] == "best" and config["hidden_size"] == 64 and config["num_epochs"] == 8  # flags win
    assert {
        key: config[key]
        for key in (
            "preprocessing",
            "flip",
            "crop_padding",
            "update_rule",
            "lr_schedule",
            "label_smoothing",
            "tta",
            "learning_rate",
            "weight_decay",
            "reg",
            "pca_components",
        )
    } == {
        "preprocessing": "zca",
        "flip": True,
        "crop_padding": 4,
        "update_rule": "adam",
        "lr_schedule": "cosine",
        "label_smoothing": 0.1,
        "tta": True,
        "learning_rate": 1e-3,
        "weight_decay": 0.05,
        "reg": 0.0,
        "pca_components": 512,
    }
    for key in ("val_acc", "test_acc_1k", "test_acc_10k", "val_acc_tta", "test_acc_1k_tta", "test_acc_10k_tta"):
        assert 0.2 < metrics["numpy"][key] < 0.5, key  # chance is 0.1
        assert metrics["numpy"][key] == pytest.approx(metrics["torch"][key], abs=1e-3), key

    params, preprocessing = load_model(tmp_path / "numpy" / "model.npz")
    assert set(preprocessing) == {"mean_image", "whitening"} and preprocessing["whitening"].shape == (3072, 3072)
    assert params["W1"].shape == (3072, 64)  # the projection is folded in: a plain two-layer net
    proc = run_train("--eval", str(tmp_path / "numpy"), "--tta", "--impl", "torch")
    assert proc.returncode == 0, proc.stderr
    m = metrics["numpy"]
    assert (
        f"val acc {m['val_acc']:.4f}  test-1k {m['test_acc_1k']:.4f}  test-10k {m['test_acc_10k']:.4f}  "
        f"| with flip TTA: val acc {m['val_acc_tta']:.4f}  test-1k {m['test_acc_1k_tta']:.4f}  "
        f"test-10k {m['test_acc_10k_tta']:.4f}"
    ) in proc.stdout


def test_a_config_round_trips_through_flags_and_json():
    config = Config(
        hidden_size=64,
        learning_rate=2.5e-4,
        flip=True,
        tta=False,
        preprocessing="zca",
        lr_schedule="cosine",
        warmup_epochs=1.0,
    )
    assert Config.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    recipe = config_from_argv(["--recipe", "best", "--no-flip"])
    assert recipe.flip is False and recipe.hidden_size == 8192 and recipe.preprocessing == "zca"
    assert recipe == Config(**{**RECIPES["best"], "flip": False})
    v1 = config_from_argv(["--recipe", "v1"])  # the published recipes, kept reproducible
    assert (v1.hidden_size, v1.num_epochs, v1.pca_components, v1.crop_padding) == (4096, 80, 0, 4)
    v2 = config_from_argv(["--recipe", "v2"])
    assert (v2.hidden_size, v2.num_epochs, v2.pca_components, v2.update_rule, v2.reg) == (
        8192,
        210,
        512,
        "sgd_nesterov",
        5e-4,
    )
    assert config_from_argv(["--recipe", "v4"]) == config_from_argv(["--recipe", "best"])


def test_every_recorded_run_folder_reads_back_as_its_recipe():
    """The config.json files this project wrote (with removed settings at their off values) still read."""
    recorded = sorted(ROOT.glob("docs/recipe/*/*/config.json"))
    assert len(recorded) >= 10
    for path in recorded:
        values = json.loads(path.read_text())
        config = Config.from_run(values)
        recipe = path.parts[-3]
        expected = config_from_argv(["--recipe", recipe, "--impl", values["impl"], "--seed", str(values["seed"])])
        assert config == expected, path


def test_a_removed_setting_is_read_when_off_and_refused_naming_its_last_commit_when_on():
    off = {"init": "normal", "mix": "none", "mix_alpha": 0.4, "ema_decay": 0.0, "dropout_keep_ratio": 1, "dropout": 0}
    assert Config.from_run({**off, "hidden_size": 64, "command": ["train.py"]}) == Config(hidden_size=64)
    for name, value in [("init", "he"), ("mix", "cutmix"), ("ema_decay", 0.999), ("dropout_keep_ratio", 0.5)]:
        with pytest.raises(ConfigError, match=rf"config.json: {name} = .*was removed.*commit 1da526f is the last"):
            Config.from_run({name: value})


@pytest.mark.parametrize(
    "values, message",
    [
        ({"hidden_size": "64"}, "hidden_size must be an int, got '64'"),
        ({"flip": 1}, "flip must be a bool, got 1"),
        ({"batch_size": 2.0}, "batch_size must be an int, got 2.0"),
        ({"hidden_sise": 64}, "hidden_sise is not a setting; the settings are impl, hidden_size"),
        ({"update_rule": "bogus"}, "--update-rule must be one of sgd, sgd_momentum"),
        ({"batch_size": -1}, "--batch-size must be a positive integer, got -1"),
    ],
)
def test_config_refuses_bad_values_naming_them(values, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        Config.from_dict(values, "settings")


@pytest.mark.slow
def test_help_shows_defaults():
    proc = run_train("--help")
    assert proc.returncode == 0
    assert "--learning-rate LEARNING_RATE" in proc.stdout
    text = " ".join(proc.stdout.split())  # argparse wraps lines at the terminal's width
    for name, value in Config().to_dict().items():  # every setting shows its default
        assert f"--{name.replace('_', '-')}" in text and f"(default: {value})" in text, name


@pytest.mark.parametrize("impl", ["numpy", "torch"])
def test_tensorboard_streams_scalars_and_weights(real_data_dir, tmp_path, impl):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    proc = run_train(*QUICK, "--impl", impl, "--quiet", "--tensorboard", "--out", str(tmp_path / "run"))
    assert proc.returncode == 0, proc.stderr
    events = EventAccumulator(str(tmp_path / "run" / "tensorboard")).Reload()
    tags = events.Tags()
    assert {"train/loss", "train/learning_rate", "accuracy/train", "accuracy/val"} <= set(tags["scalars"])
    assert [e.step for e in events.Scalars("train/loss")] == list(range(1, 21))  # every update
    assert [e.step for e in events.Scalars("accuracy/val")] == [1, 10, 20]  # every check
    assert events.Scalars("train/learning_rate")[-1].value == pytest.approx(0.95e-4)
    assert "weights/W1" in tags["images"]


def test_lang_ko_labels_the_run_plots_in_korean(real_data_dir, tmp_path):
    proc = run_train(*QUICK, "--num-epochs", "1", "--quiet", "--lang", "ko", "--out", str(tmp_path / "run"))
    assert proc.returncode == 0, proc.stderr
    assert "missing from font" not in proc.stderr  # no Hangul drawn as empty boxes
    for name in ("loss.png", "accuracy.png", "weights.png", "confusion.png"):
        assert (tmp_path / "run" / name).read_bytes().startswith(PNG_MAGIC)
