"""numpy_impl (the lab, the oracle), numpy_recipe (the engine) and torch_impl agree: layers vs autograd, the models,
the update rules, and their independent training loops; and the cross-check covers those loops and the engine: a bug
put into any one alone makes it fail."""

import inspect
import sys

import numpy as np
import pytest
import torch

import numpy_impl
import numpy_recipe
import torch_impl
from common.choices import LAB_UPDATE_RULES
from common.init import initial_params
from compare.__main__ import main as compare_main
from compare.adapter import lab_params, torch_state
from compare.checks import (
    ENGINE_VS_ORACLE,
    TRAJECTORIES,
    check_engine_model,
    check_layers,
    check_model,
    check_preprocessing,
    check_projection,
    check_trajectories,
    check_update_rules,
    compare_runs,
    train_twins,
    trajectory_data,
)
from compare.metrics import relative_error
from numpy_impl.optim import sgd_momentum
from tests.test_engine_kernels import mutant_kernel

DTYPES = ["float64", "float32"]
SEEDS = [0, 1, 2]
LAYER_SIZES = [  # N=1, odd sizes, M=1, several trailing dims
    {"n": 1, "dims": (5,), "m": 3, "c": 2},
    {"n": 7, "dims": (3, 1, 5), "m": 1, "c": 3},
    {"n": 3, "dims": (2, 3, 2, 2), "m": 9, "c": 11},
]
MODEL_SIZES = [
    {"n": 1, "dims": (7,), "hidden": 3, "c": 2},
    {"n": 9, "dims": (3, 5, 5), "hidden": 1, "c": 4},  # H = 1
    {"n": 4, "dims": (2, 3), "hidden": 13, "c": 10, "reg": 0.0},
]


def assert_all_pass(checks):
    failed = [c for c in checks if not c.passed]
    assert checks and not failed, "\n".join(
        f"{c.group} {c.name} {c.dtype}: {c.rel_error:.2e} > {c.tolerance}" for c in failed
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("sizes", LAYER_SIZES)
def test_layers_match_autograd(dtype, seed, sizes):
    assert_all_pass(check_layers(dtype, seed, **sizes))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("sizes", MODEL_SIZES)
def test_models_agree(dtype, seed, sizes):
    assert_all_pass(check_model(dtype, seed, **sizes))


BEYOND_THE_LAB_CHECKS = {  # each check function and how many checks it makes
    "the engine's model vs the oracle, and with label smoothing vs autograd": (check_engine_model, 11),
    "the projection and its folding": (check_projection, 10),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("part", BEYOND_THE_LAB_CHECKS)
def test_the_models_agree_beyond_the_lab(part, dtype, seed):
    check, count = BEYOND_THE_LAB_CHECKS[part]
    checks = check(dtype, seed)
    assert len(checks) == count
    assert_all_pass(checks)


def test_the_engines_model_is_checked_against_the_oracle():
    """Scores, loss and the four gradients of RecipeNet are compared with the lab's TwoLayerNet on the same weights."""
    names = [c.name for c in check_engine_model("float64", 0) if c.group == ENGINE_VS_ORACLE]
    assert names == ["model scores", "model loss"] + [f"model grad {name}" for name in ("W1", "b1", "W2", "b2")]


def mutant_source(module, original: str, replacement: str) -> dict:
    """The namespace of module's source with one deliberate bug: ``original`` (found exactly once) replaced."""
    source = inspect.getsource(module)
    assert source.count(original) == 1, original
    namespace = {"__name__": f"mutant_of_{module.__name__}"}
    exec(compile(source.replace(original, replacement), module.__file__, "exec"), namespace)  # noqa: S102
    return namespace


def test_a_wrong_relu_mask_in_the_engine_fails_against_the_oracle_and_autograd(monkeypatch):
    """The engine's in-place ReLU backward with the mask hidden >= 0 (all ones after the ReLU) is caught in W1 and
    b1, by the oracle and by torch; W2 and b2 do not see the mask."""
    broken = mutant_kernel("relu_backward_bias_grad", "if hidden[i, j] > 0 else zero", "if hidden[i, j] >= 0 else zero")
    monkeypatch.setattr(numpy_recipe.kernels, "relu_backward_bias_grad", broken)
    failed = {(c.group, c.name) for c in check_engine_model("float64", 0) if not c.passed}
    assert failed == {
        (ENGINE_VS_ORACLE, "model grad W1"),
        (ENGINE_VS_ORACLE, "model grad b1"),
        ("engine model", "grad W1 (label smoothing)"),
        ("engine model", "grad b1 (label smoothing)"),
    }


def test_a_wrong_fold_fails_the_projection_check(monkeypatch):
    """Folding with the directions in the wrong order (P reversed) is caught: scores and W1 no longer agree."""
    monkeypatch.setattr(
        numpy_recipe.RecipeNet,
        "folded_params",
        lambda self, params=None: {**self.params, "W1": self.projection[:, ::-1] @ self.params["W1"]},
    )
    failed = {c.name for c in check_projection("float64", 0) if not c.passed}
    assert failed == {"folded W1 = P W1 (numpy vs torch)", "folded numpy net on x = projected net on x P"}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", SEEDS)
def test_preprocessing_and_augmentation_agree_with_torch(dtype, seed):
    checks = check_preprocessing(dtype, seed)
    assert [c.name for c in checks] == [
        "ZCA whitening matrix",
        "ZCA whitened images",
        "standardization vs torchvision normalize",
        "flips + crops vs torchvision",
        "flips + crops vs torch_impl",
        "rows gathered into a kept padded buffer + flips + crops, batch 1, vs torch_impl",
        "rows gathered into a kept padded buffer + flips + crops, batch 2, vs torch_impl",
    ]
    assert_all_pass(checks)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", SEEDS)
def test_update_rules_agree(dtype, seed):
    checks = check_update_rules(dtype, seed)
    engine_vs_oracle = [c.name for c in checks if c.group == ENGINE_VS_ORACLE]
    assert engine_vs_oracle == [f"update rule {rule}: 3 steps" for rule in LAB_UPDATE_RULES]
    assert_all_pass(checks)


def test_a_bug_in_an_engine_rule_fails_against_the_oracle_and_torch(monkeypatch):
    """Adam's bias correction one step ahead in the engine's in-place rule is caught by the lab's adam and by torch's,
    with and without weight decay."""
    broken = mutant_source(numpy_recipe.optim, "lr / (1 - beta1**t)", "lr / (1 - beta1 ** (t + 1))")["adam"]
    monkeypatch.setitem(numpy_recipe.optim.RULES, "adam", broken)
    failed = {(c.group, c.name) for c in check_update_rules("float64", 0) if not c.passed}
    assert failed == {
        (ENGINE_VS_ORACLE, "update rule adam: 3 steps"),
        ("update rule", "adam (engine): 3 steps"),
        ("update rule", "adam (engine), weight decay 0.05: 3 steps"),
    }


@pytest.mark.slow
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", [0, 5])
def test_trajectories_agree(dtype, seed):
    assert_all_pass(check_trajectories(dtype, seed))


def test_checks_can_fail():
    """A wrong backward is caught: the measure is not vacuous."""
    _, rel = relative_error(np.ones(3), np.array([1.0, 1.0, 1.0 + 1e-6]))
    assert 5e-7 < rel < 2e-6
    assert relative_error(np.zeros(2), np.zeros(2)) == (0.0, 0.0)
    with pytest.raises(ValueError, match="shapes"):
        relative_error(np.zeros(2), np.zeros(3))


def test_torch_momentum_differs_from_the_lab_once_lr_decays():
    """Why LabMomentumSGD exists: torch.optim.SGD's momentum rescales past steps by the new lr."""
    rng = np.random.default_rng(0)
    w0, dws = rng.standard_normal(5), [rng.standard_normal(5) for _ in range(6)]
    lab_w, config = w0.copy(), {"learning_rate": 0.1, "momentum": 0.9}
    torch_w, ours_w = torch.tensor(w0), torch.tensor(w0)
    torch_sgd = torch.optim.SGD([torch_w], lr=0.1, momentum=0.9)
    ours = torch_impl.LabMomentumSGD([ours_w], lr=0.1, momentum=0.9)
    for step, dw in enumerate(dws):
        if step == 3:  # decay the learning rate halfway through
            config["learning_rate"] *= 0.5
            for opt in (torch_sgd, ours):
                opt.param_groups[0]["lr"] *= 0.5
        lab_w, config = sgd_momentum(lab_w, dw, config)
        for w, opt in ((torch_w, torch_sgd), (ours_w, ours)):
            w.grad = torch.from_numpy(dw)
            opt.step()
    assert relative_error(lab_w, ours_w.numpy())[1] < 1e-14
    assert relative_error(lab_w, torch_w.numpy())[1] > 1e-3


def test_make_optimizer_picks_torch_optim_where_it_matches():
    params = [torch.zeros(2, requires_grad=True)]
    assert type(torch_impl.make_optimizer("sgd_momentum", params, lr_decay=1.0)) is torch.optim.SGD
    assert type(torch_impl.make_optimizer("sgd_momentum", params, lr_decay=0.95)) is torch_impl.LabMomentumSGD
    assert type(torch_impl.make_optimizer("rmsprop", params)) is torch.optim.RMSprop
    assert type(torch_impl.make_optimizer("adam", params)) is torch.optim.Adam
    nesterov = torch_impl.make_optimizer("sgd_nesterov", params)
    assert type(nesterov) is torch.optim.SGD and nesterov.param_groups[0]["nesterov"]
    with pytest.raises(ValueError, match="unknown update_rule 'nag'"):
        torch_impl.make_optimizer("nag", params)
    with pytest.raises(ValueError, match="optim_config keys momentum do not apply to adam"):
        torch_impl.make_optimizer("adam", params, {"momentum": 0.9})


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_lab_params_round_trip_losslessly_through_the_torch_layout(dtype):
    ours = numpy_impl.TwoLayerNet(input_dim=7, hidden_dim=5, num_classes=3, weight_scale=0.3, dtype=dtype, seed=4)
    ours.params["b1"] = np.arange(5, dtype=dtype)
    theirs = torch_impl.TwoLayerNet(input_dim=7, hidden_dim=5, num_classes=3, dtype=dtype, seed=9)
    theirs.load_state_dict(torch_state(ours.params))
    assert theirs.fc1.weight.shape == (5, 7)  # nn.Linear's (out, in) layout
    exported = lab_params(theirs)
    for name, value in ours.params.items():
        assert exported[name].dtype == value.dtype and exported[name].shape == value.shape
        np.testing.assert_array_equal(exported[name], value)
    exported["W1"][0, 0] = 123.0  # an export is a copy, not a view of the module
    assert theirs.fc1.weight[0, 0].item() != 123.0


def test_torch_model_draws_its_own_seeded_initialization():
    a, b = (torch_impl.TwoLayerNet(50, 40, 10, weight_scale=0.01, seed=3) for _ in range(2))
    for (name, p), q in zip(a.named_parameters(), b.parameters()):
        assert torch.equal(p, q), name
    assert a.fc1.weight.std().item() == pytest.approx(0.01, rel=0.05) and not a.fc1.bias.any()
    assert not torch.equal(a.fc1.weight, torch_impl.TwoLayerNet(50, 40, 10, weight_scale=0.01, seed=4).fc1.weight)


@pytest.mark.slow
@pytest.mark.parametrize("update_rule", ["sgd", "sgd_momentum", "rmsprop", "adam"])
def test_solvers_produce_the_same_loss_history(update_rule):
    ours, theirs = train_twins(update_rule, "float64", seed=3, num_epochs=5, lr_decay=0.9)
    assert len(ours["loss"]) == len(theirs["loss"]) == 50
    np.testing.assert_allclose(ours["loss"], theirs["loss"], rtol=1e-10)


@pytest.mark.slow
def test_solvers_agree_on_histories_and_best_params():
    """The engine's Solver on a RecipeNet and torch_impl's on its net, from the same weights: the same histories,
    rates, check iterations and restored parameters."""
    data = trajectory_data("float64", 1)
    init = initial_params(48, 20, 5, 0.1, "float64", seed=2)
    ours_model, theirs_model = numpy_recipe.RecipeNet(init), torch_impl.TwoLayerNet(48, 20, 5)
    theirs_model.load_state_dict(torch_state(init))
    solvers = []
    options = {"update_rule": "adam", "optim_config": {"learning_rate": 1e-2}, "lr_decay": 0.9, "num_epochs": 4}
    for solver_class, model in ((numpy_recipe.Solver, ours_model), (torch_impl.Solver, theirs_model)):
        solver = solver_class(model, data, **options, batch_size=25, verbose=False, seed=2)
        solver.train()
        solvers.append(solver)
    ours, theirs = solvers
    assert ours.train_acc_history == theirs.train_acc_history
    assert ours.val_acc_history == theirs.val_acc_history and ours.best_val_acc == theirs.best_val_acc
    assert ours.accuracy_iterations == theirs.accuracy_iterations == [1, 8, 16, 24, 32]
    np.testing.assert_allclose(theirs.lr_history, ours.lr_history, rtol=1e-15)
    assert ours.lr_history[7] == 1e-2 and ours.lr_history[8] == pytest.approx(0.9e-2)  # decayed after epoch 1
    for name, value in lab_params(theirs.model).items():
        np.testing.assert_allclose(value, ours.model.params[name], rtol=1e-10, atol=1e-14)


def test_torch_solver_checkpoint_holds_the_state_and_histories(tmp_path):
    from common.artifacts import load_json, load_npz

    data = trajectory_data("float32", 0)
    model = torch_impl.TwoLayerNet(48, 10, 5, weight_scale=0.1, dtype="float32", seed=0)
    solver = torch_impl.Solver(
        model,
        data,
        update_rule="adam",
        num_epochs=2,
        batch_size=50,
        verbose=False,
        seed=0,
        checkpoint_name=str(tmp_path / "t"),
    )
    solver.train()
    checkpoint, arrays = load_json(tmp_path / "t_epoch_2.json"), load_npz(tmp_path / "t_epoch_2.npz")
    assert checkpoint["update_rule"] == "adam" and checkpoint["loss_history"] == solver.loss_history
    assert checkpoint["accuracy_iterations"] == [1, 4, 8] and checkpoint["iteration"] == 8
    assert arrays["state/fc1.weight"].shape == (10, 48) and arrays["state/fc1.weight"].dtype == np.float32
    assert arrays["optim/fc1.weight/exp_avg"].shape == (10, 48)  # torch layout, as the optimizer keeps it


# ----------------------------------------------------------------------------- the cross-check covers the loops


def mutant(solver_class, method: str, original: str, replacement: str):
    """solver_class with one deliberate bug in ``method``: ``original`` (found exactly once in its module) replaced."""
    module = sys.modules[solver_class.__module__]
    namespace = mutant_source(module, original, replacement)
    return type(f"Broken{solver_class.__name__}", (solver_class,), {method: vars(namespace["Solver"])[method]})


MUTANTS = {
    "lab: the per-epoch decay (and epoch end) one update early": (
        numpy_impl.Solver,
        "train",
        "epoch_end = (t + 1) % self.iterations_per_epoch == 0",
        "epoch_end = (t + 2) % self.iterations_per_epoch == 0",
    ),
    "lab: accuracy subsets from a generator of their own": (
        numpy_impl.Solver,
        "check_accuracy",
        "subset = self.stream.subsample(len(X), num_samples)",
        "subset = None if num_samples is None or len(X) <= num_samples else "
        "np.random.default_rng(0).choice(len(X), num_samples)",
    ),
    "lab: keeps the parameters of the last check that ties or beats the best": (
        numpy_impl.Solver,
        "train",
        "if val_acc > self.best_val_acc or not self.best_params:",
        "if val_acc >= self.best_val_acc or not self.best_params:",
    ),
    "engine: the cosine schedule one update early": (
        numpy_recipe.Solver,
        "_step",
        "warmup_cosine_factor(self.iteration + 1, self.num_iterations",
        "warmup_cosine_factor(min(self.iteration + 2, self.num_iterations), self.num_iterations",
    ),
    "engine: trains on the batch as drawn, not as flipped and cropped": (
        numpy_recipe.Solver,
        "_gather",
        "flip_and_shift(self.X_train, batch.flips, batch.shifts, out=self._X_batch, rows=batch.indices)",
        "np.take(self.X_train, batch.indices, axis=0, out=self._X_batch)",
    ),
    "engine: the labels gathered in sorted order, apart from their images": (
        numpy_recipe.Solver,
        "_gather",
        "np.take(self.y_train, batch.indices, axis=0, out=self._y_batch)",
        "np.take(self.y_train, np.sort(batch.indices), axis=0, out=self._y_batch)",
    ),
    "torch: the scheduler stepped before the optimizer": (
        torch_impl.Solver,
        "train",
        "            self.optimizer.step()\n            self.scheduler.step()\n",
        "            self.scheduler.step()\n            self.optimizer.step()\n",
    ),
    "torch: restores the second-best parameters": (
        torch_impl.Solver,
        "_check_accuracies",
        """            self.best_val_acc = val_acc
            self.best_state = {""",
        """            self.best_val_acc = val_acc
            self.restore_best_params = lambda state=self.best_state: state and self.model.load_state_dict(state)
            self.best_state = {""",
    ),
    "torch: skips the last epoch's accuracy check": (
        torch_impl.Solver,
        "train",
        """                self.epoch += 1
                self._check_accuracies()""",
        """                self.epoch += 1
                if self.epoch < self.num_epochs:
                    self._check_accuracies()""",
    ),
    "torch: one update too few": (
        torch_impl.Solver,
        "train",
        "itertools.islice(self.loader, self.num_iterations - self.iteration)",
        "itertools.islice(self.loader, self.num_iterations - self.iteration - 1)",
    ),
}


def is_lab_run(options: dict) -> bool:
    """Whether the lab's Solver can train this entry of TRAJECTORIES (the lab's rules and settings only)."""
    return options["update_rule"] in LAB_UPDATE_RULES and set(options) <= {"update_rule", "batch_size", "lr_decay"}


def first_failures(pair) -> list:
    """The failing checks of the first of check_trajectories' runs that ``pair(options)``, the two Solver classes for
    that run (None: skip it), fails; [] if none fails."""
    for label, options in TRAJECTORIES.items():
        if pair(options) is None:
            continue
        ours, theirs = train_twins(dtype="float64", seed=0, solvers=pair(options), **options)
        failed = [c for c in compare_runs(label, ours, theirs, "float64") if not c.passed]
        if failed:
            return failed
    return []


def numpy_side(options: dict):
    """The NumPy Solver check_trajectories trains for a run: the lab's on the lab's runs, else the engine's."""
    return numpy_impl.Solver if is_lab_run(options) else numpy_recipe.Solver


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Detected call of `lr_scheduler.step\\(\\)` before")  # one of the bugs
@pytest.mark.parametrize("bug", MUTANTS)
def test_a_bug_in_any_one_loop_alone_fails_the_cross_check(bug):
    """Each broken loop, trained next to a correct one of the other side, fails a trajectory check: a broken lab
    Solver on the lab's runs, a broken engine on every run, a broken torch Solver against the NumPy side of each."""
    solver_class, *change = MUTANTS[bug]
    broken = mutant(solver_class, *change)
    if solver_class is torch_impl.Solver:
        pair = lambda options: (numpy_side(options), broken)  # noqa: E731
    elif solver_class is numpy_impl.Solver:
        pair = lambda options: (broken, torch_impl.Solver) if is_lab_run(options) else None  # noqa: E731
    else:
        pair = lambda options: (broken, torch_impl.Solver)  # noqa: E731
    assert first_failures(pair), f"the cross-check missed: {bug}"


@pytest.mark.slow
def test_the_engine_passes_the_labs_runs_against_torch_as_the_lab_does():
    """The engine as it is passes the pairing its mutants train in (the other runs: check_trajectories)."""
    assert (
        first_failures(lambda options: (numpy_recipe.Solver, torch_impl.Solver) if is_lab_run(options) else None) == []
    )


@pytest.mark.slow
def test_a_bug_in_the_engines_loop_alone_fails_the_engine_vs_oracle_check():
    """Labels gathered apart from their images in the engine's Solver: caught against the lab's Solver."""
    broken = mutant(*MUTANTS["engine: the labels gathered in sorted order, apart from their images"])
    for rule in LAB_UPDATE_RULES:
        engine, oracle = train_twins(rule, "float64", 0, solvers=(broken, numpy_impl.Solver))
        assert not all(c.passed for c in compare_runs(f"{ENGINE_VS_ORACLE}: {rule}", engine, oracle, "float64")), rule
        engine, oracle = train_twins(rule, "float64", 0, solvers=(numpy_recipe.Solver, numpy_impl.Solver))
        assert_all_pass(compare_runs(f"{ENGINE_VS_ORACLE}: {rule}", engine, oracle, "float64"))


def test_torch_solver_rejects_missing_cuda():
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(ValueError, match="no CUDA GPU is available"):
        torch_impl.TwoLayerNet(device="cuda")


@pytest.mark.slow
def test_python_m_compare_passes_and_prints_the_table(capsys):
    assert compare_main(["--dtype", "float64"]) == 0
    out = capsys.readouterr().out
    assert "Error measure: relative error = max|numpy - torch|" in out
    assert "| trajectory | adam (lab decay 0.95): best-validation W1 restored | float64 | 48x20 |" in out
    assert f"| {ENGINE_VS_ORACLE} | update rule adam: 3 steps | float64 |" in out
    assert f"| trajectory | {ENGINE_VS_ORACLE}: adam (lab decay 0.95): loss at every update (100) | float64 |" in out
    assert out.rstrip().endswith("passed, 0 failed")


def test_explain_prints_the_lesson_alone_through_the_network_and_the_update_rules(capsys):
    assert compare_main(["--explain"]) == 0
    out = capsys.readouterr().out
    assert "| trajectory |" not in out  # no table to scroll the lesson away
    assert "dw = X^T . dout" in out and "vs numerical gradient" in out
    assert "the lab's rel_error is max over entries" in out.lower()
    assert "== the whole network" in out and "dW1 (6, 8): vs autograd" in out
    assert "sgd_momentum: one step vs torch" in out


def test_python_m_compare_exits_non_zero_on_a_failure(monkeypatch, capsys):
    from compare.metrics import make_check

    bad = make_check("model", "grad W1", np.ones(2), np.array([1.0, 2.0]), "float64")
    monkeypatch.setattr("compare.checks.run_all", lambda dtypes, seed: [bad])
    assert compare_main([]) == 1
    assert "| FAIL |" in capsys.readouterr().out
