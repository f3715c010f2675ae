"""numpy_impl and torch_impl agree: layers vs autograd, model, update rules, trajectories, Solvers."""

import numpy as np
import pytest
import torch

import numpy_impl
import torch_impl
from compare.__main__ import main as compare_main
from compare.checks import (
    check_layers,
    check_model,
    check_model_extras,
    check_preprocessing,
    check_trajectories,
    check_update_rules,
    run_twin_solvers,
    trajectory_data,
)
from compare.metrics import relative_error
from numpy_impl.optim import sgd_momentum

DTYPES = ["float64", "float32"]
SEEDS = [0, 1, 2]
LAYER_SIZES = [  # N=1, odd sizes, M=1, several trailing dims
    {"n": 1, "dims": (5,), "m": 3, "c": 2},
    {"n": 7, "dims": (3, 1, 5), "m": 1, "c": 3},
    {"n": 3, "dims": (2, 3, 2, 2), "m": 9, "c": 11},
]
MODEL_SIZES = [
    {"n": 1, "dims": (7,), "hidden": 3, "c": 2},
    {"n": 9, "dims": (3, 5, 5), "hidden": 1, "c": 4},   # H = 1
    {"n": 4, "dims": (2, 3), "hidden": 13, "c": 10, "reg": 0.0},
]


def assert_all_pass(checks):
    failed = [c for c in checks if not c.passed]
    assert checks and not failed, "\n".join(f"{c.group} {c.name} {c.dtype}: {c.rel_error:.2e} > {c.tolerance}"
                                            for c in failed)


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


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", SEEDS)
def test_models_with_dropout_and_label_smoothing_agree(dtype, seed):
    checks = check_model_extras(dtype, seed)
    assert len(checks) == 5
    assert_all_pass(checks)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", SEEDS)
def test_preprocessing_and_augmentation_agree_with_torch(dtype, seed):
    checks = check_preprocessing(dtype, seed)
    assert [c.name for c in checks] == ["ZCA whitening matrix", "ZCA whitened images",
                                        "standardization vs torchvision normalize", "flips + crops vs torchvision"]
    assert_all_pass(checks)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", SEEDS)
def test_update_rules_agree(dtype, seed):
    assert_all_pass(check_update_rules(dtype, seed))


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
    with pytest.raises(ValueError, match="unknown update_rule 'nag'"):
        torch_impl.make_optimizer("nag", params)
    with pytest.raises(ValueError, match="optim_config keys momentum do not apply to adam"):
        torch_impl.make_optimizer("adam", params, {"momentum": 0.9})


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_numpy_params_round_trip_losslessly(dtype):
    ours = numpy_impl.TwoLayerNet(input_dim=7, hidden_dim=5, num_classes=3, weight_scale=0.3, dtype=dtype, seed=4)
    ours.params["b1"] = np.arange(5, dtype=dtype)
    theirs = torch_impl.TwoLayerNet(input_dim=7, hidden_dim=5, num_classes=3, dtype=dtype, seed=9)
    theirs.load_numpy_params(ours.params)
    assert theirs.fc1.weight.shape == (5, 7)  # nn.Linear's (out, in) layout
    exported = theirs.numpy_params()
    for name, value in ours.params.items():
        assert exported[name].dtype == value.dtype and exported[name].shape == value.shape
        np.testing.assert_array_equal(exported[name], value)
    exported["W1"][0, 0] = 123.0  # an export is a copy, not a view of the module
    assert theirs.fc1.weight[0, 0].item() != 123.0


def test_load_numpy_params_rejects_wrong_shapes():
    model = torch_impl.TwoLayerNet(input_dim=7, hidden_dim=5, num_classes=3)
    params = numpy_impl.TwoLayerNet(input_dim=7, hidden_dim=5, num_classes=3).params
    with pytest.raises(ValueError, match=r"params\['W2'\] has shape \(4, 3\); this network needs \(5, 3\)"):
        model.load_numpy_params({**params, "W2": np.zeros((4, 3))})
    with pytest.raises(ValueError, match="missing b2"):
        model.load_numpy_params({k: v for k, v in params.items() if k != "b2"})


@pytest.mark.parametrize("update_rule", ["sgd", "sgd_momentum", "rmsprop", "adam"])
def test_solvers_produce_the_same_loss_history(update_rule):
    (_, ours), (_, theirs) = run_twin_solvers(update_rule, "float64", seed=3, num_epochs=5, lr_decay=0.9)
    assert len(ours) == len(theirs) == 50
    np.testing.assert_allclose(ours, theirs, rtol=1e-8)


def test_solvers_agree_on_histories_and_best_params():
    data = trajectory_data("float64", 1)
    solvers = []
    for impl in (numpy_impl, torch_impl):
        model = impl.TwoLayerNet(48, 20, 5, weight_scale=0.1, seed=2)
        solver = impl.Solver(model, data, update_rule="adam", optim_config={"learning_rate": 1e-2},
                             lr_decay=0.9, num_epochs=4, batch_size=25, verbose=False, seed=2)
        solver.train()
        solvers.append(solver)
    ours, theirs = solvers
    assert ours.train_acc_history == theirs.train_acc_history
    assert ours.val_acc_history == theirs.val_acc_history and ours.best_val_acc == theirs.best_val_acc
    assert theirs.learning_rate == pytest.approx(ours.learning_rate, rel=1e-15)
    for name, value in theirs.model.numpy_params().items():
        np.testing.assert_allclose(value, ours.model.params[name], rtol=1e-10, atol=1e-14)


def test_torch_solver_checkpoint_round_trips(tmp_path):
    data = trajectory_data("float32", 0)
    model = torch_impl.TwoLayerNet(48, 10, 5, weight_scale=0.1, dtype="float32", seed=0)
    solver = torch_impl.Solver(model, data, update_rule="adam", num_epochs=2, batch_size=50, verbose=False,
                               seed=0, checkpoint_name=str(tmp_path / "t"))
    solver.train()
    checkpoint = numpy_impl.load_checkpoint(tmp_path / "t_epoch_2")
    assert checkpoint["update_rule"] == "adam" and checkpoint["loss_history"] == solver.loss_history
    assert checkpoint["params"]["W1"].shape == (48, 10) and checkpoint["params"]["W1"].dtype == np.float32
    assert checkpoint["optim_configs"]["W1"]["exp_avg"].shape == (10, 48)  # torch layout, as the optimizer keeps it


def test_torch_solver_rejects_missing_cuda():
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(ValueError, match="no CUDA GPU is available"):
        torch_impl.TwoLayerNet(device="cuda")


def test_python_m_compare_passes_and_prints_the_table(capsys):
    assert compare_main(["--dtype", "float64", "--explain"]) == 0
    out = capsys.readouterr().out
    assert "Error measure: relative error = max|numpy - torch|" in out
    assert "| trajectory | adam: final W1 | float64 | 48x20 |" in out
    assert "dw = X^T . dout" in out and "vs numerical gradient" in out
    assert out.rstrip().endswith("passed, 0 failed")


def test_python_m_compare_exits_non_zero_on_a_failure(monkeypatch, capsys):
    from compare.metrics import make_check
    bad = make_check("model", "grad W1", np.ones(2), np.array([1.0, 2.0]), "float64")
    monkeypatch.setattr("compare.__main__.run_all", lambda dtypes, seed: [bad])
    assert compare_main([]) == 1
    assert "| FAIL |" in capsys.readouterr().out
