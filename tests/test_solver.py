"""Solver: repeatability, overfitting a tiny set, divergence, checkpoints, bad arguments."""

import numpy as np
import pytest

from numpy_impl import Solver, TrainingDivergedError, TwoLayerNet, load_checkpoint


def small_data(n_train=50, n_val=20, d=12, c=4, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return {
        "X_train": rng.standard_normal((n_train, d)).astype(dtype),
        "y_train": rng.integers(c, size=n_train),
        "X_val": rng.standard_normal((n_val, d)).astype(dtype),
        "y_val": rng.integers(c, size=n_val),
    }


def make_solver(update_rule="sgd_momentum", seed=0, dtype=np.float64, **kwargs):
    data = small_data(dtype=dtype)
    model = TwoLayerNet(input_dim=12, hidden_dim=30, num_classes=4, weight_scale=1e-1, reg=1e-3, dtype=dtype, seed=seed)
    options = dict(
        update_rule=update_rule,
        optim_config={"learning_rate": 1e-2},
        lr_decay=0.9,
        batch_size=10,
        num_epochs=3,
        num_train_samples=30,
        verbose=False,
        seed=seed,
    )
    options.update(kwargs)
    return Solver(model, data, **options)


@pytest.mark.parametrize("update_rule", ["sgd", "sgd_momentum", "rmsprop", "adam"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_same_seed_same_run_bit_for_bit(update_rule, dtype):
    a, b = make_solver(update_rule, dtype=dtype), make_solver(update_rule, dtype=dtype)
    a.train()
    b.train()
    assert a.loss_history == b.loss_history
    assert a.train_acc_history == b.train_acc_history and a.val_acc_history == b.val_acc_history
    for name in a.model.params:
        np.testing.assert_array_equal(a.model.params[name], b.model.params[name])
        assert a.model.params[name].dtype == dtype
    c = make_solver(update_rule, seed=1, dtype=dtype)
    c.train()
    assert c.loss_history != a.loss_history


def test_histories_and_epochs():
    solver = make_solver()
    solver.train()
    assert solver.iterations_per_epoch == 5 and solver.num_iterations == 15
    assert len(solver.loss_history) == 15
    assert len(solver.train_acc_history) == len(solver.val_acc_history) == 4  # first iteration + 3 epoch ends
    assert solver.epoch == 3
    assert solver.optim_configs["W1"]["learning_rate"] == pytest.approx(1e-2 * 0.9**3)
    assert solver.best_val_acc == max(solver.val_acc_history)


def test_best_params_are_restored():
    solver = make_solver(num_epochs=4)
    solver.train()
    for name, value in solver.best_params.items():
        np.testing.assert_array_equal(solver.model.params[name], value)
    assert solver.check_accuracy(solver.X_val, solver.y_val) == pytest.approx(solver.best_val_acc)


def test_overfits_50_samples():
    data = small_data(n_train=50, d=3 * 8 * 8, c=10, seed=4)
    model = TwoLayerNet(input_dim=3 * 8 * 8, hidden_dim=100, num_classes=10, weight_scale=1e-2, seed=0)
    solver = Solver(
        model,
        data,
        update_rule="adam",
        optim_config={"learning_rate": 1e-3},
        num_epochs=40,
        batch_size=25,
        verbose=False,
        seed=0,
    )
    solver.train()
    assert solver.train_acc_history[-1] == 1.0
    assert solver.check_accuracy(data["X_train"], data["y_train"]) == 1.0


def test_divergence_stops_with_clear_error():
    solver = make_solver("sgd", optim_config={"learning_rate": 1e12}, num_epochs=5)
    with (
        np.errstate(all="ignore"),
        pytest.raises(TrainingDivergedError, match=r"at iteration \d+ .*learning rate 1e\+12.*smaller"),
    ):
        solver.train()
    assert all(np.isfinite(solver.loss_history))


def test_checkpoint_round_trip(tmp_path):
    solver = make_solver("adam", checkpoint_name=str(tmp_path / "run"))
    solver.train()
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == [f"run_epoch_{e}.{ext}" for e in range(4) for ext in ("json", "npz")]
    checkpoint = load_checkpoint(tmp_path / "run_epoch_3.npz")
    assert checkpoint["epoch"] == 3 and checkpoint["update_rule"] == "adam"
    assert checkpoint["loss_history"] == solver.loss_history
    assert checkpoint["val_acc_history"] == solver.val_acc_history
    assert checkpoint["optim_configs"]["W1"]["t"] == solver.num_iterations
    np.testing.assert_array_equal(checkpoint["optim_configs"]["W2"]["m"], solver.optim_configs["W2"]["m"])
    # The last checkpoint holds the params of the last step, which the best-val restore may have replaced.
    assert set(checkpoint["params"]) == {"W1", "b1", "W2", "b2"}
    assert not any(p.name.endswith(".tmp") for p in tmp_path.iterdir())


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"learning_rat": 1e-3}, "unrecognized arguments learning_rat"),
        ({"update_rule": "nesterov"}, "unknown update_rule 'nesterov'"),
        ({"batch_size": 0}, "batch_size must be a positive integer"),
        ({"num_epochs": 2.5}, "num_epochs must be a positive integer"),
        ({"optim_config": {"learning_rate": -1.0}}, "learning_rate'\\] must be a positive number"),
        ({"lr_decay": 0}, "lr_decay must be in"),
        ({"ema_decay": 1.0}, "ema_decay must be in \\[0, 1\\)"),
    ],
)
def test_bad_arguments_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_solver(**kwargs)


def test_missing_data_is_named():
    data = small_data()
    del data["y_val"]
    with pytest.raises(ValueError, match="missing y_val"):
        Solver(TwoLayerNet(input_dim=12, num_classes=4), data)


def test_ema_is_the_hand_computed_average_and_is_what_gets_checked_and_restored():
    decay, after_each_update, checked = 0.8, [], []
    solver = make_solver(
        ema_decay=decay,
        on_iteration=lambda s: after_each_update.append({name: w.copy() for name, w in s.model.params.items()}),
    )
    original_check = solver.check_accuracy
    solver.check_accuracy = lambda X, y, **kw: (
        checked.append(solver.model.params is solver.ema_params) or original_check(X, y, **kw)
    )
    solver.train()
    average = dict(after_each_update[0])  # started from the first update's weights
    for weights in after_each_update[1:]:
        average = {name: decay * average[name] + (1 - decay) * weights[name] for name in average}
    for name in average:
        np.testing.assert_allclose(solver.ema_params[name], average[name], rtol=1e-12)
    assert checked and all(checked)  # every accuracy check saw the average
    last_trained = after_each_update[-1]["W1"]
    assert not np.allclose(solver.model.params["W1"], last_trained)  # restored: an average, not the last step
    np.testing.assert_array_equal(solver.model.params["W1"], solver.best_params["W1"])
