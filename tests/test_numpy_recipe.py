"""The NumPy recipe engine (numpy_recipe): its in-place rules are the formulas, and a resumed run is the same run."""

from __future__ import annotations

import numpy as np
import pytest

import numpy_recipe
from common.init import initial_params
from numpy_recipe.optim import RULES


def whole_array_step(rule: str, w, dw, state: dict, t: int, lr: float = 1e-2):
    """One step of each rule written on whole arrays from its docstring formula (lab defaults) -> (w, state)."""
    if rule == "sgd":
        return w - lr * dw, state
    if rule == "sgd_momentum":
        v = 0.9 * state.get("v", 0) - lr * dw
        return w + v, {"v": v}
    if rule == "sgd_nesterov":
        v = 0.9 * state.get("v", 0) + dw
        return w - lr * (dw + 0.9 * v), {"v": v}
    if rule == "rmsprop":
        cache = 0.99 * state.get("cache", 0) + 0.01 * dw**2
        return w - lr * dw / (np.sqrt(cache) + 1e-8), {"cache": cache}
    m = 0.9 * state.get("m", 0) + 0.1 * dw
    v = 0.999 * state.get("v", 0) + 0.001 * dw**2
    return w - lr * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8), {"m": m, "v": v}


@pytest.mark.parametrize("rule, weight_decay", [*((rule, 0.0) for rule in sorted(RULES)), ("adam", 0.05)])
def test_block_by_block_updates_equal_the_formula_on_whole_arrays(rule, weight_decay):
    """W (700, 300) float64 spans several of the blocks the rules work in, the last one partial."""
    rng = np.random.default_rng(0)
    w = rng.standard_normal((700, 300))
    expected, state, config = w.copy(), {}, {"learning_rate": 1e-2, "weight_decay": weight_decay}
    for t in range(1, 4):
        dw = rng.standard_normal(w.shape)
        expected, state = whole_array_step(rule, expected * (1 - 1e-2 * weight_decay), dw, state, t)
        w, config = RULES[rule](w, dw.copy(), config)
    np.testing.assert_allclose(w, expected, rtol=1e-12, atol=1e-14)  # w is O(1): rounding only


@pytest.mark.parametrize("rule", sorted(RULES))
def test_float32_stays_float32_even_with_numpy_float64_hyperparameters(rule):
    rng = np.random.default_rng(0)
    w, dw = rng.standard_normal((5, 4)).astype(np.float32), rng.standard_normal((5, 4)).astype(np.float32)
    config = {"learning_rate": np.float64(1e-2), **({"weight_decay": np.float64(0.1)} if rule == "adam" else {})}
    for _ in range(3):
        w, config = RULES[rule](w, dw, config)
    assert w.dtype == np.float32
    assert all(v.dtype == np.float32 for v in config.values() if isinstance(v, np.ndarray))


def small_run(tmp_path, **options) -> numpy_recipe.Solver:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((130, 3, 4, 4))
    y = np.argmax(X.reshape(130, -1) @ rng.standard_normal((48, 5)), axis=1)
    data = {"X_train": X[:100], "y_train": y[:100], "X_val": X[100:], "y_val": y[100:]}
    model = numpy_recipe.RecipeNet(initial_params(48, 16, 5, 0.1, np.float64, 0), reg=1e-3, label_smoothing=0.1)
    settings = {
        "update_rule": "adam",
        "optim_config": {"learning_rate": 1e-2, "weight_decay": 0.05},
        "lr_schedule": "cosine",
        "warmup_epochs": 1.0,
        "augment": {"flip": True, "padding": 1},
        "batch_size": 20,
        "num_epochs": 6,
        "num_train_samples": 50,
        "num_val_samples": 20,
        "verbose": False,
        "seed": 3,
        "checkpoint_name": str(tmp_path / "run"),
    }
    return numpy_recipe.Solver(model, data, **{**settings, **options})


def outcome(solver: numpy_recipe.Solver) -> dict:
    histories = ("loss_history", "lr_history", "train_acc_history", "val_acc_history", "accuracy_iterations")
    return {
        **{name: getattr(solver, name) for name in histories},
        "best_val_acc": solver.best_val_acc,
        **{name: value.tolist() for name, value in solver.model.params.items()},
    }


@pytest.mark.parametrize("stop_after_update, last_checkpoint", [(2, 0), (10, 2), (13, 2), (29, 5)])
def test_a_run_resumed_from_its_checkpoint_ends_with_exactly_the_numbers_of_an_uninterrupted_one(
    tmp_path, stop_after_update, last_checkpoint
):
    """Killed right after epoch 2's checkpoint (update 10), or mid-epoch (updates 2, 13, 29, 5 updates an epoch):
    the updates after the last checkpoint are lost and redone."""
    uninterrupted = small_run(tmp_path / "whole")
    uninterrupted.train()

    class Killed(Exception):
        pass

    def kill(solver):
        if len(solver.loss_history) == stop_after_update and solver.epoch == last_checkpoint:
            raise Killed

    first = small_run(tmp_path / "killed", on_epoch=kill, on_iteration=kill)
    with pytest.raises(Killed):
        first.train()
    checkpoints = sorted((tmp_path / "killed").glob("*.json"))
    assert [path.name for path in checkpoints] == [f"run_epoch_{last_checkpoint}.json"]  # only the newest is kept
    resumed = small_run(tmp_path / "killed")
    resumed.load_checkpoint(checkpoints[0])
    resumed.train()
    assert outcome(resumed) == outcome(uninterrupted)


def test_a_checkpoint_with_other_settings_is_refused(tmp_path):
    solver = small_run(tmp_path, num_epochs=1)
    solver.train()
    other = small_run(tmp_path, num_epochs=2, seed=4)
    with pytest.raises(ValueError, match=r"num_epochs 1 \(this Solver: 2\).*seed 3 \(this Solver: 4\)"):
        other.load_checkpoint(tmp_path / "run_epoch_1")


@pytest.mark.parametrize("rule", ["sgd", "sgd_momentum", "rmsprop", "adam"])
def test_the_labs_inline_defaults_are_the_shared_table(rule):
    from common.choices import RULE_DEFAULTS
    from numpy_impl import optim

    _, config = getattr(optim, rule)(np.zeros(3), np.ones(3), None)
    assert {key: config[key] for key in RULE_DEFAULTS[rule]} == RULE_DEFAULTS[rule]
    assert {key for key, value in config.items() if not isinstance(value, (np.ndarray, int))} <= set(
        RULE_DEFAULTS[rule]
    )


def test_a_checkpoint_of_another_learning_rate_or_dtype_is_refused_and_another_runs_checkpoint_is_kept(tmp_path):
    small_run(tmp_path / "a", num_epochs=1).train()
    checkpoint = tmp_path / "a" / "run_epoch_1"
    with pytest.raises(ValueError, match="optim_config"):
        small_run(tmp_path / "b", num_epochs=1, optim_config={"learning_rate": 5.0}).load_checkpoint(checkpoint)
    other = small_run(tmp_path / "b", num_epochs=2)
    with pytest.raises(ValueError, match="num_epochs"):
        other.load_checkpoint(checkpoint)
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "run_epoch_0.json").write_text('{"epoch": 0}')
    with pytest.raises(ValueError, match="not a numpy_recipe checkpoint"):
        other.load_checkpoint(tmp_path / "c" / "run_epoch_0")


def test_resuming_from_another_folders_checkpoint_leaves_that_checkpoint_in_place(tmp_path):
    first = small_run(tmp_path / "a", num_epochs=2)
    first.on_epoch = lambda solver: None
    first.train()
    source = tmp_path / "a" / "run_epoch_2"
    copy = small_run(tmp_path / "b", num_epochs=2)
    copy.load_checkpoint(source)
    copy.iteration = copy.epoch = 0  # train again from the start, writing into folder b
    copy.loss_history, copy.lr_history, copy.accuracy_iterations = [], [], []
    copy.train_acc_history, copy.val_acc_history = [], []
    copy.train()
    assert source.with_suffix(".json").is_file() and source.with_suffix(".npz").is_file()
