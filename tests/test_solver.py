"""The lab's Solver (numpy_impl): repeatability, overfitting a tiny set, checkpoints, bad arguments; and the recipe
engine's Solver (numpy_recipe) built on it: divergence, hooks, the histories beyond the lab's."""

import numpy as np
import pytest

import numpy_recipe
from common.artifacts import load_json, load_npz
from numpy_impl import Solver, TwoLayerNet


def small_data(n_train=50, n_val=20, d=12, c=4, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return {
        "X_train": rng.standard_normal((n_train, d)).astype(dtype),
        "y_train": rng.integers(c, size=n_train),
        "X_val": rng.standard_normal((n_val, d)).astype(dtype),
        "y_val": rng.integers(c, size=n_val),
    }


def make_solver(update_rule="sgd_momentum", seed=0, dtype=np.float64, solver_class=Solver, **kwargs):
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
    return solver_class(model, data, **options)


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


@pytest.mark.slow
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


def test_the_lab_solver_writes_a_checkpoint_at_every_accuracy_check(tmp_path):
    """Each check writes <name>_epoch_<epoch>.npz (the parameters) and .json (the settings and the histories)."""
    solver = make_solver("adam", checkpoint_name=str(tmp_path / "run"))
    solver.train()
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == [f"run_epoch_{e}.{ext}" for e in range(4) for ext in ("json", "npz")]
    first, last = load_json(tmp_path / "run_epoch_0.json"), load_json(tmp_path / "run_epoch_3.json")
    assert first["iteration"] == 1 and first["loss_history"] == solver.loss_history[:1]
    assert last["epoch"] == 3 and last["iteration"] == 15 and last["update_rule"] == "adam"
    assert last["loss_history"] == solver.loss_history
    assert last["val_acc_history"] == solver.val_acc_history and last["seed"] == 0
    params = load_npz(tmp_path / "run_epoch_3.npz")
    assert sorted(params) == ["params/W1", "params/W2", "params/b1", "params/b2"]
    assert params["params/W1"].shape == (12, 30)
    assert not any(p.name.endswith(".tmp") for p in tmp_path.iterdir())


def test_divergence_stops_with_clear_error():
    """The engine's Solver stops on a non-finite loss, naming the iteration and a smaller learning rate."""
    solver = make_solver("sgd", optim_config={"learning_rate": 1e12}, num_epochs=5, solver_class=numpy_recipe.Solver)
    with (
        np.errstate(all="ignore"),
        pytest.raises(numpy_recipe.TrainingDivergedError, match=r"at iteration \d+ .*learning rate 1e\+12.*smaller"),
    ):
        solver.train()
    assert all(np.isfinite(solver.loss_history))


def test_a_loss_that_overflows_before_any_update_blames_the_weights_not_the_rate():
    solver = make_solver(solver_class=numpy_recipe.Solver)
    solver.model.params["W1"][:] = 1e200
    with np.errstate(all="ignore"), pytest.raises(numpy_recipe.TrainingDivergedError, match="before any update"):
        solver.train()


def test_the_engines_hooks_and_histories_follow_every_update_and_check():
    """on_iteration runs after each of the 15 updates, on_epoch after each of the 4 checks; lr_history and
    accuracy_iterations say which rate each update used and after how many updates each check came."""
    updates, checks = [], []
    solver = make_solver(
        solver_class=numpy_recipe.Solver,
        on_iteration=lambda s: updates.append(s.iteration),
        on_epoch=lambda s: checks.append((s.epoch, len(s.val_acc_history))),
    )
    solver.train()
    assert updates == list(range(1, 16))
    assert checks == [(0, 1), (1, 2), (2, 3), (3, 4)]
    assert solver.accuracy_iterations == [1, 5, 10, 15]
    np.testing.assert_allclose(solver.lr_history, [1e-2 * 0.9 ** (t // 5) for t in range(15)], rtol=1e-15)


@pytest.mark.parametrize("update_rule", ["sgd", "sgd_momentum", "rmsprop", "adam"])
def test_the_engines_solver_runs_the_lab_solvers_numbers(update_rule):
    """On the lab's settings, numpy_recipe.Solver's in-place rules give numpy_impl.Solver's losses and weights."""
    lab, engine = make_solver(update_rule), make_solver(update_rule, solver_class=numpy_recipe.Solver)
    lab.train()
    engine.train()
    np.testing.assert_allclose(engine.loss_history, lab.loss_history, rtol=1e-12)
    assert engine.val_acc_history == lab.val_acc_history
    for name in lab.model.params:
        np.testing.assert_allclose(engine.model.params[name], lab.model.params[name], rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"learning_rat": 1e-3}, "unrecognized arguments learning_rat"),
        ({"update_rule": "nesterov"}, "unknown update_rule 'nesterov'"),
        ({"update_rule": "sgd_nesterov"}, "unknown update_rule 'sgd_nesterov'; expected one of sgd, sgd_momentum"),
        ({"batch_size": 0}, "batch_size must be a positive integer"),
        ({"num_epochs": 2.5}, "num_epochs must be a positive integer"),
        ({"lr_decay": 0}, "lr_decay must be in"),
        ({"lr_schedule": "cosine"}, "unrecognized arguments lr_schedule"),
        ({"augment": {"flip": True}}, "unrecognized arguments augment"),
    ],
)
def test_bad_arguments_raise(kwargs, message):
    """The lab's Solver takes the lab's arguments only, and refuses values that cannot train."""
    with pytest.raises(ValueError, match=message):
        make_solver(**kwargs)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"optim_config": {"learning_rate": -1.0}}, "learning_rate'\\] must be a positive number"),
        ({"lr_schedule": "linear"}, "unknown lr_schedule 'linear'"),
        ({"augment": {"flip": True}}, "augment needs images"),
    ],
)
def test_bad_engine_arguments_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_solver(solver_class=numpy_recipe.Solver, **kwargs)


def test_missing_data_is_named():
    data = small_data()
    del data["y_val"]
    with pytest.raises(ValueError, match="missing y_val"):
        Solver(TwoLayerNet(input_dim=12, num_classes=4), data)
