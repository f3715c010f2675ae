"""torch_impl as a PyTorch program: its one LambdaLR, one .item() per step, the optimizer choice, and resuming."""

import json
import math
import shutil
import sys

import numpy as np
import pytest
import torch

import torch_impl
from common.artifacts import load_npz
from common.batches import Augmentation, BatchStream
from common.choices import UPDATE_RULES
from torch_impl.optim import LabMomentumSGD, make_optimizer, make_scheduler


def tiny_data(n_train=53, n_val=20, seed=0):
    """Random float64 images (N, 3, 4, 4) and labels: 53 rows make uneven epochs of batch 10 (5 updates, 3 unused)."""
    rng = np.random.default_rng(seed)
    return {
        "X_train": rng.standard_normal((n_train, 3, 4, 4)),
        "y_train": rng.integers(0, 10, n_train),
        "X_val": rng.standard_normal((n_val, 3, 4, 4)),
        "y_val": rng.integers(0, 10, n_val),
    }


def tiny_solver(**options):
    model = torch_impl.TwoLayerNet(48, 7, 10, weight_scale=0.1, reg=1e-3, seed=0, label_smoothing=0.1)
    settings = {"batch_size": 10, "num_epochs": 3, "verbose": False, "num_train_samples": 30, "num_val_samples": 10}
    return torch_impl.Solver(model, tiny_data(), **{**settings, **options})


def closed_form_rate(s, lr, schedule, lr_decay, per_epoch, total, warmup):
    """The rate update s (1-based) uses: lr decayed once per finished epoch, or the warm-up and the cosine."""
    if schedule == "step":
        return lr * lr_decay ** ((s - 1) // per_epoch)
    if s <= warmup:
        return lr * s / warmup
    return lr * (1 + math.cos(math.pi * (s - warmup) / (total - warmup))) / 2


@pytest.mark.parametrize(
    ("schedule", "lr_decay", "per_epoch", "total", "warmup"),
    [
        ("step", 0.9, 5, 17, 0),  # the last epoch unfinished
        ("step", 0.5, 1, 6, 0),
        ("cosine", 1.0, 5, 17, 0),
        ("cosine", 1.0, 5, 17, 1),
        ("cosine", 1.0, 5, 17, 3),  # warm-up ends mid-epoch
        ("cosine", 1.0, 5, 17, 17),  # all warm-up
    ],
)
def test_the_lambda_lr_gives_every_update_the_closed_form_rate(schedule, lr_decay, per_epoch, total, warmup):
    weight = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    optimizer = make_optimizer("sgd", [weight], {"learning_rate": 0.3}, lr_decay, schedule)
    scheduler = make_scheduler(optimizer, schedule, lr_decay, per_epoch, total, warmup)
    assert isinstance(scheduler, torch.optim.lr_scheduler.LambdaLR)
    used = []
    for _ in range(total):
        used.append(optimizer.param_groups[0]["lr"])
        weight.grad = torch.ones_like(weight)
        optimizer.step()
        scheduler.step()
    expected = [closed_form_rate(s, 0.3, schedule, lr_decay, per_epoch, total, warmup) for s in range(1, total + 1)]
    np.testing.assert_allclose(used, expected, rtol=1e-15, atol=0)


@pytest.mark.parametrize(
    ("options", "warmup"),
    [
        ({"update_rule": "sgd_momentum", "lr_decay": 0.8}, 0),
        ({"update_rule": "adam", "lr_schedule": "cosine", "warmup_epochs": 0.6}, 3),
        ({"update_rule": "sgd_nesterov", "lr_schedule": "cosine"}, 0),
    ],
)
def test_the_solver_records_the_closed_form_rate_each_update_used(options, warmup):
    solver = tiny_solver(optim_config={"learning_rate": 0.05}, **options)
    solver.train()
    schedule, lr_decay = options.get("lr_schedule", "step"), options.get("lr_decay", 1.0)
    expected = [closed_form_rate(s, 0.05, schedule, lr_decay, 5, 15, warmup) for s in range(1, 16)]
    np.testing.assert_allclose(solver.lr_history, expected, rtol=1e-15, atol=0)


def test_a_training_step_calls_item_once(monkeypatch):
    calls = []
    item = torch.Tensor.item

    def counted(tensor):  # counts the calls torch_impl makes (DataLoader draws its base seed with one per iter())
        if "torch_impl" in sys._getframe(1).f_code.co_filename:
            calls.append(1)
        return item(tensor)

    monkeypatch.setattr(torch.Tensor, "item", counted)
    solver = tiny_solver(update_rule="adam", lr_schedule="cosine", warmup_epochs=1.0, augment={"flip": True})
    solver.train()
    assert solver.iteration == 15
    assert len(calls) == 15


@pytest.mark.parametrize("rule", ["sgd_momentum", "sgd_nesterov"])
def test_make_optimizer_keeps_torch_sgd_for_a_constant_rate(rule):
    weight = torch.zeros(2, requires_grad=True)
    assert type(make_optimizer(rule, [weight], {}, lr_decay=1.0, lr_schedule="step")) is torch.optim.SGD


@pytest.mark.parametrize(("lr_decay", "schedule"), [(0.95, "step"), (1.0, "cosine")])
def test_make_optimizer_picks_the_lab_momentum_when_the_rate_changes(lr_decay, schedule):
    weight = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    optimizer = make_optimizer("sgd_momentum", [weight], {"learning_rate": 0.1}, lr_decay, schedule)
    assert type(optimizer) is LabMomentumSGD
    w, v = np.zeros(2), np.zeros(2)
    for lr, dw in ((0.1, np.array([1.0, -2.0])), (0.01, np.array([0.5, 3.0]))):
        optimizer.param_groups[0]["lr"] = lr
        weight.grad = torch.from_numpy(dw)
        optimizer.step()
        v = 0.9 * v - lr * dw  # the lab's momentum: the old step keeps its old rate
        w = w + v
    np.testing.assert_array_equal(weight.detach().numpy(), w)
    solver = tiny_solver(update_rule="sgd_momentum", lr_decay=lr_decay, lr_schedule=schedule)
    assert type(solver.optimizer) is LabMomentumSGD


def test_make_optimizer_takes_the_shared_rule_names_and_defaults():
    weight = torch.zeros(2, requires_grad=True)
    for rule in UPDATE_RULES:
        make_optimizer(rule, [weight])
    assert make_optimizer("adam", [weight]).param_groups[0]["lr"] == 1e-3
    with pytest.raises(ValueError, match="unknown update_rule 'lamb'; expected one of sgd, sgd_momentum"):
        make_optimizer("lamb", [weight])
    with pytest.raises(ValueError, match="optim_config keys beta1 do not apply to sgd"):
        make_optimizer("sgd", [weight], {"beta1": 0.9})
    with pytest.raises(ValueError, match="unknown lr_schedule 'linear'; expected one of step, cosine"):
        make_optimizer("sgd", [weight], lr_schedule="linear")


@pytest.mark.parametrize("augment", [{"mix": "mixup"}, {"mix_alpha": 0.4}, {"flip": True, "mix": "cutmix"}])
def test_augment_rejects_the_mixing_keys(augment):
    with pytest.raises(ValueError, match="augment takes only the keys flip, padding"):
        Augmentation.from_dict(augment)
    with pytest.raises(ValueError, match="augment takes only the keys flip, padding"):
        tiny_solver(augment=augment)


def test_flips_crops_and_minibatches_are_drawn_from_their_own_streams():
    batch = BatchStream(500, 64, seed=4, augmentation=Augmentation(True, 2)).next_batch()
    sampling, augmenting = np.random.default_rng(4), np.random.default_rng([4, 2])
    np.testing.assert_array_equal(batch.indices, sampling.choice(500, 64))
    np.testing.assert_array_equal(batch.flips, augmenting.random(64) < 0.5)
    np.testing.assert_array_equal(batch.shifts, augmenting.integers(-2, 3, size=(64, 2)))


def draws(stream, steps=4):
    """The next steps batches' indices, flips and shifts, and an accuracy subsample, as one array."""
    parts = []
    for _ in range(steps):
        batch = stream.next_batch()
        parts += [batch.indices, batch.flips, batch.shifts.ravel()]
    return np.concatenate([*parts, stream.subsample(1000, 7)]).astype(np.int64)


@pytest.mark.parametrize("seed", [7, None])
def test_the_batch_stream_state_round_trips_through_json_and_continues_the_same_draws(seed):
    np.random.seed(231)
    stream = BatchStream(100, 8, seed, Augmentation(True, 3))
    draws(stream)
    state = json.loads(json.dumps(stream.state_dict()))
    expected = draws(stream)
    np.random.seed(0)  # the global generator moves on; the state brings it back
    resumed = BatchStream(100, 8, seed, Augmentation(True, 3))
    draws(resumed, 2)
    resumed.load_state_dict(state)
    np.testing.assert_array_equal(draws(resumed), expected)


def test_the_batch_stream_refuses_another_streams_state():
    with pytest.raises(ValueError, match="BatchStream: a state for seed 3 has the keys sampling, augmenting"):
        BatchStream(10, 2, seed=3).load_state_dict(BatchStream(10, 2, seed=None).state_dict())


def run_summary(solver):
    return {
        "loss": solver.loss_history,
        "lr": solver.lr_history,
        "train_acc": solver.train_acc_history,
        "val_acc": solver.val_acc_history,
        "checked_at": solver.accuracy_iterations,
        "best_val_acc": solver.best_val_acc,
        "epoch": solver.epoch,
        "params": {name: value.numpy().tolist() for name, value in solver.model.state_dict().items()},
    }


RESUMED_RUNS = {
    "adam, cosine with warm-up, weight decay, flips and crops": {
        "update_rule": "adam",
        "optim_config": {"learning_rate": 3e-3, "weight_decay": 0.05},
        "lr_schedule": "cosine",
        "warmup_epochs": 1.5,
        "augment": {"flip": True, "padding": 1},
        "seed": 3,
    },
    "lab momentum, step decay, the global generator": {
        "update_rule": "sgd_momentum",
        "optim_config": {"learning_rate": 0.05},
        "lr_decay": 0.9,
        "seed": None,
    },
    "rmsprop": {"update_rule": "rmsprop", "optim_config": {"learning_rate": 1e-3}, "seed": 0},
    "nesterov, cosine": {"update_rule": "sgd_nesterov", "lr_schedule": "cosine", "seed": 1},
}


@pytest.mark.slow
@pytest.mark.parametrize("resume_at", [("epoch_0", ".npz"), ("epoch_2", ".json"), ("epoch_2", "")])
@pytest.mark.parametrize("run", sorted(RESUMED_RUNS))
def test_a_float64_run_resumed_from_a_checkpoint_ends_with_the_numbers_of_an_uninterrupted_one(
    tmp_path, run, resume_at
):
    options = {**RESUMED_RUNS[run], "num_epochs": 4}
    kept, (name, suffix) = tmp_path / "kept", resume_at
    kept.mkdir()

    def keep_aside(solver):  # the Solver keeps only its newest checkpoint: copy every one before it goes
        for written in tmp_path.glob("run_epoch_*"):
            shutil.copy(written, kept / written.name)

    np.random.seed(231)
    uninterrupted = tiny_solver(checkpoint_name=str(tmp_path / "run"), on_epoch=keep_aside, **options)
    uninterrupted.train()
    assert sorted(path.name for path in tmp_path.glob("run_*")) == ["run_epoch_4.json", "run_epoch_4.npz"]

    np.random.seed(0)  # the killed process's generator state is gone; the checkpoint's stands in for it
    resumed = tiny_solver(checkpoint_name=str(tmp_path / "resumed"), **options)
    resumed.load_checkpoint(kept / f"run_{name}{suffix}")
    assert resumed.iteration == (1 if name == "epoch_0" else 10)
    resumed.train()
    assert run_summary(resumed) == run_summary(uninterrupted)


def test_load_checkpoint_refuses_a_checkpoint_of_other_settings(tmp_path):
    solver = tiny_solver(num_epochs=1, update_rule="adam", seed=0, checkpoint_name=str(tmp_path / "run"))
    solver.train()
    with pytest.raises(ValueError, match=r"other settings: update_rule 'adam' \(this Solver: 'sgd'\)"):
        tiny_solver(num_epochs=1, update_rule="sgd", seed=0).load_checkpoint(tmp_path / "run_epoch_1.npz")
    with pytest.raises(ValueError, match=r"batch_size 10 \(this Solver: 5\); num_epochs 1 \(this Solver: 2\)"):
        tiny_solver(num_epochs=2, update_rule="adam", seed=0, batch_size=5).load_checkpoint(tmp_path / "run_epoch_1")
    with pytest.raises(ValueError, match="file not found"):
        tiny_solver().load_checkpoint(tmp_path / "run_epoch_7")
    (tmp_path / "other.json").write_text('{"update_rule": "sgd"}')
    with pytest.raises(ValueError, match="other.json: not a torch_impl checkpoint; expected the keys epoch, iteration"):
        tiny_solver().load_checkpoint(tmp_path / "other.json")


def test_a_checkpoint_names_each_optimizer_tensor_by_its_parameter(tmp_path):
    solver = tiny_solver(num_epochs=1, update_rule="adam", seed=0, checkpoint_name=str(tmp_path / "run"))
    solver.train()
    arrays = load_npz(tmp_path / "run_epoch_1.npz")
    assert arrays["optim/fc1.weight/exp_avg"].shape == (7, 48)  # torch's layout, as the optimizer keeps it
    assert arrays["optim/fc2.bias/step"] == 5.0
    assert sorted(name for name in arrays if name.startswith("best/")) == [
        "best/fc1.bias",
        "best/fc1.weight",
        "best/fc2.bias",
        "best/fc2.weight",
    ]
