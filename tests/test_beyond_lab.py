"""The recipe engine's additions beyond the lab, unit by unit: label smoothing, preprocessing, augmentation,
Nesterov momentum, decoupled weight decay, the warm-up + cosine schedule and the first-layer projection."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import numpy_impl
import numpy_recipe
import torch_impl
from common.batches import Augmentation, BatchStream
from common.init import initial_params
from common.preprocess import (
    check_preprocessing,
    fit_preprocessing,
    preprocess,
    principal_directions,
    zca_whitening_matrix,
)
from compare.checks import check_preprocessing as check_preprocessing_against_torch
from numpy_impl.gradient_check import eval_numerical_gradient, rel_error
from numpy_impl.layers import softmax_loss
from numpy_recipe import RecipeNet, smoothed_softmax_loss, warmup_cosine_factor
from numpy_recipe.augment import flip_and_shift
from numpy_recipe.optim import RULES, sgd_nesterov
from torch_impl.optim import make_optimizer


def random_problem(d: int, c: int, n_train: int = 100, n_val: int = 10) -> dict:
    """A Solver's data of random inputs (N, d) and labels in [0, c): nothing to learn, only to run."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((n_train + n_val, d)), rng.integers(c, size=n_train + n_val)
    return {"X_train": X[:n_train], "y_train": y[:n_train], "X_val": X[n_train:], "y_val": y[n_train:]}


# ----------------------------------------------------------------------------- label smoothing


@pytest.mark.parametrize("smoothing", [0.0, 0.1, 0.5, 1.0])
def test_label_smoothing_matches_torch_and_the_numerical_gradient(smoothing):
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((7, 5)) * 3, rng.integers(5, size=7)
    loss, dx = smoothed_softmax_loss(x, y, smoothing)
    expected = F.cross_entropy(torch.from_numpy(x), torch.from_numpy(y), label_smoothing=smoothing).item()
    assert loss == pytest.approx(expected, rel=1e-12)
    dx_num = eval_numerical_gradient(lambda x: smoothed_softmax_loss(x, y, smoothing)[0], x, verbose=False)
    assert np.max(np.abs(dx - dx_num)) < 1e-9  # absolute: some entries are ~1e-5, where rel_error is noise


def test_label_smoothing_zero_is_the_lab_loss_and_bad_values_raise():
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((4, 3)), rng.integers(3, size=4)
    assert smoothed_softmax_loss(x, y, 0.0)[0] == softmax_loss(x, y)[0]
    np.testing.assert_array_equal(smoothed_softmax_loss(x, y, 0.0)[1], softmax_loss(x, y)[1])
    with pytest.raises(ValueError, match=r"label_smoothing must be in \[0, 1\]; got 1.5"):
        RecipeNet(initial_params(3, 2, 3, 0.1), label_smoothing=1.5)


# ----------------------------------------------------------------------------- preprocessing


def correlated_images(n=2000, shape=(3, 4, 4), seed=0):
    """Random 0-255 'images' (n, *shape) with strongly correlated pixels."""
    rng = np.random.default_rng(seed)
    d = int(np.prod(shape))
    mixed = rng.standard_normal((n, d)) @ rng.standard_normal((d, d))
    return np.clip(128 + 12 * mixed, 0, 255).reshape(n, *shape)


def test_zca_makes_the_training_covariance_the_identity_up_to_epsilon():
    X = correlated_images().reshape(2000, -1) / 255.0
    centred = X - X.mean(axis=0)
    variances, basis = np.linalg.eigh(centred.T @ centred / len(X))
    for epsilon in (1e-8, 0.1):
        mean, whitening = zca_whitening_matrix(X, epsilon)
        white = (X - mean) @ whitening
        covariance = white.T @ white / len(X)
        expected = (basis * (variances / (variances + epsilon))) @ basis.T  # U diag(S / (S + eps)) U^T
        np.testing.assert_allclose(covariance, expected, atol=1e-8)
        np.testing.assert_allclose(whitening, whitening.T, atol=1e-12)  # ZCA: symmetric, unlike PCA whitening
    assert np.linalg.eigvalsh(covariance).max() < 1  # eps = 0.1 damps every direction, the small ones most
    _, whitening = zca_whitening_matrix(X, 1e-8)
    white = (X - X.mean(axis=0)) @ whitening
    np.testing.assert_allclose(white.T @ white / len(X), np.eye(48), atol=1e-5)


def test_fitted_zca_maps_raw_pixels_like_whitening_in_unit_scale():
    images = correlated_images()
    fitted = fit_preprocessing("zca", images, zca_epsilon=0.1)
    assert set(fitted) == {"mean_image", "whitening"} and fitted["mean_image"].shape == (3, 4, 4)
    mean, whitening = zca_whitening_matrix(images.reshape(len(images), -1) / 255.0, 0.1)
    expected = (images.reshape(len(images), -1) / 255.0 - mean) @ whitening
    np.testing.assert_allclose(preprocess(images, fitted, np.float64).reshape(len(images), -1), expected, atol=1e-10)
    out32 = preprocess(images.astype(np.uint8), fitted, np.float32)
    assert out32.dtype == np.float32 and out32.shape == images.shape


def test_standardize_gives_each_channel_mean_0_and_std_1():
    images = correlated_images().astype(np.uint8)
    out = preprocess(images, fit_preprocessing("standardize", images), np.float64)
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-10)
    np.testing.assert_allclose(out.std(axis=(0, 2, 3)), 1, atol=1e-10)


def test_mean_image_preprocessing_is_the_lab_subtraction():
    images = correlated_images().astype(np.uint8)
    fitted = fit_preprocessing("mean_image", images)
    np.testing.assert_allclose(preprocess(images, fitted, np.float64), images - images.mean(axis=0))
    zca = fit_preprocessing("zca", images)
    assert preprocess(images[:0], zca, np.float32).shape == (0, 3, 4, 4)  # an empty split (tune.py: no test set)


def test_preprocessing_rejects_what_does_not_fit():
    images = correlated_images(n=10)
    with pytest.raises(ValueError, match="unknown preprocessing 'pca'; expected one of mean_image, standardize, zca"):
        fit_preprocessing("pca", images)
    with pytest.raises(ValueError, match=r"ZCA epsilon must be a positive number; got -1"):
        fit_preprocessing("zca", images, zca_epsilon=-1)
    with pytest.raises(ValueError, match=r"whitening \(48, 48\)"):
        check_preprocessing({"mean_image": np.zeros((3, 4, 4)), "whitening": np.eye(5)}, (3, 4, 4))


# ----------------------------------------------------------------------------- augmentation


def test_flip_and_shift_equal_padding_then_cropping():
    images = np.random.default_rng(5).standard_normal((3, 2, 6, 7)).astype(np.float32)
    flips, shifts = np.array([False, True, True]), np.array([[2, -1], [0, 0], [-2, 2]])
    out = flip_and_shift(images, flips, shifts)
    padded = np.pad(images, ((0, 0), (0, 0), (2, 2), (2, 2)))
    padded_flipped = np.pad(images[..., ::-1], ((0, 0), (0, 0), (2, 2), (2, 2)))
    for i, (flip, (dy, dx)) in enumerate(zip(flips, shifts)):
        source = padded_flipped if flip else padded
        np.testing.assert_array_equal(out[i], source[i, :, 2 + dy : 2 + dy + 6, 2 + dx : 2 + dx + 7])
    np.testing.assert_array_equal(out[1], images[1, :, :, ::-1])
    theirs = torch_impl.flip_and_shift(torch.from_numpy(images), torch.from_numpy(flips), torch.from_numpy(shifts), 2)
    np.testing.assert_array_equal(theirs.numpy(), out)  # torch_impl's own indexing, the same pixels


@pytest.mark.parametrize("padding", [0, 1, 4])
def test_torch_flips_and_crops_equal_numpy_slicing_at_every_padding(padding):
    rng = np.random.default_rng(padding)
    images = rng.standard_normal((64, 3, 8, 9)).astype(np.float32)
    flips, shifts = rng.random(64) < 0.5, rng.integers(-padding, padding + 1, (64, 2))
    theirs = torch_impl.flip_and_shift(*(torch.from_numpy(a) for a in (images, flips, shifts)), padding)
    assert theirs.is_contiguous()
    np.testing.assert_array_equal(theirs.numpy(), flip_and_shift(images, flips, shifts))


@pytest.mark.parametrize("padding", [0, 1, 4])
def test_the_torch_loaders_batches_from_its_kept_padded_buffer_equal_numpys_batch_after_batch(padding):
    rng = np.random.default_rng(padding)
    images, labels = rng.standard_normal((40, 3, 8, 9)).astype(np.float32), rng.integers(0, 10, 40)
    stream = BatchStream(len(images), 16, 3, Augmentation(True, padding))
    loader = iter(torch_impl.batch_loader(torch.from_numpy(images), torch.from_numpy(labels), stream))
    twin = BatchStream(len(images), 16, 3, Augmentation(True, padding))
    for _ in range(4):  # the buffer's border, written once, must still be 0 for every later batch
        X, y = next(loader)
        batch = twin.next_batch()
        np.testing.assert_array_equal(X.numpy(), flip_and_shift(images, batch.flips, batch.shifts, rows=batch.indices))
        np.testing.assert_array_equal(y.numpy(), labels[batch.indices])


def test_a_kept_padded_buffer_whose_border_is_not_zero_fails_the_compare_check(monkeypatch):
    real = torch_impl.flip_and_shift

    def dirty(images, flips, shifts, padding, rows=None, scratch=None):
        out = real(images, flips, shifts, padding, rows, scratch)
        if scratch is not None:
            scratch.fill_(1.0)  # the next batch would find a border of ones
        return out

    monkeypatch.setattr(torch_impl, "flip_and_shift", dirty)
    verdicts = {c.name: c.passed for c in check_preprocessing_against_torch() if "kept padded buffer" in c.name}
    assert list(verdicts.values()) == [True, False], verdicts


def augmented_batch(images, seed, flip=True, padding=2):
    """The stream's first batch of all of images (in order of its draws), flipped and cropped by numpy_recipe."""
    batch = BatchStream(len(images), len(images), seed, Augmentation(flip, padding)).next_batch()
    if batch.flips is None:
        return images[batch.indices], batch
    return flip_and_shift(images[batch.indices], batch.flips, batch.shifts), batch


def test_augmentation_keeps_shape_dtype_and_content_and_is_reproducible():
    images = np.random.default_rng(6).standard_normal((64, 3, 8, 8)).astype(np.float32)
    out, batch = augmented_batch(images, 7)
    assert out.shape == images.shape and out.dtype == np.float32
    np.testing.assert_array_equal(out, augmented_batch(images, 7)[0])
    assert not np.array_equal(out, augmented_batch(images, 8)[0])
    assert 10 < batch.flips.sum() < 54 and batch.shifts.min() == -2 and batch.shifts.max() == 2
    centre = out[:, :, 2:6, 2:6]  # every output pixel away from the border comes from the same image
    for i, row in enumerate(batch.indices):
        assert np.isin(centre[i], images[row]).all()
    plain, batch = augmented_batch(images, 0, flip=False, padding=0)
    assert batch.flips is None and batch.shifts is None
    np.testing.assert_array_equal(plain, images[batch.indices])
    with pytest.raises(ValueError, match="augment padding must be an integer >= 0; got -1"):
        Augmentation(True, -1)


def test_solver_batches_keep_their_labels_and_do_not_move_the_draws():
    """Each image's label is unchanged: the class encoded in the image survives flips and crops."""
    rng = np.random.default_rng(9)
    y = rng.integers(10, size=300)
    X = np.zeros((300, 1, 8, 8), dtype=np.float32)
    X[np.arange(300), 0, 3:5, 3:5] = y[:, None, None] + 1  # the label, in the 2x2 centre (inside any crop)
    data = {"X_train": X, "y_train": y, "X_val": X[:20], "y_val": y[:20]}
    plain = numpy_recipe.Solver(numpy_impl.TwoLayerNet(64, 5, 10), data, seed=3, batch_size=32)
    augmented = numpy_recipe.Solver(
        numpy_impl.TwoLayerNet(64, 5, 10), data, seed=3, batch_size=32, augment={"flip": True, "padding": 2}
    )
    for _ in range(5):
        batch = augmented.stream.next_batch()
        assert np.array_equal(batch.indices, plain.stream.next_batch().indices)  # flips and crops: own generator
        X_batch, y_batch = augmented._gather(batch)
        np.testing.assert_array_equal(y_batch, y[batch.indices])
        np.testing.assert_array_equal(X_batch.max(axis=(1, 2, 3)), y_batch + 1)
        loader = torch_impl.batch_loader(torch.from_numpy(X), torch.from_numpy(y), augmented.stream)
        X_torch, y_torch = loader.dataset[batch]
        np.testing.assert_array_equal(X_torch.numpy(), X_batch)  # torch_impl applies the same draws alike
        np.testing.assert_array_equal(y_torch.numpy(), y_batch)
    with pytest.raises(ValueError, match=r"augment takes only the keys flip, padding \(flips and crops\); got 'pad'"):
        numpy_recipe.Solver(numpy_impl.TwoLayerNet(64, 5, 10), data, augment={"flip": True, "pad": 2})


# ----------------------------------------------------------------------------- update rules


def test_nesterov_by_hand_and_against_torch():
    w, dw1, dw2 = np.array([1.0, -2.0]), np.array([0.5, 1.0]), np.array([-1.0, 0.25])
    config = {"learning_rate": 0.1, "momentum": 0.9}
    w1, config = sgd_nesterov(w.copy(), dw1, config)
    np.testing.assert_allclose(w1, w - 0.1 * (dw1 + 0.9 * dw1))  # v = dw1
    v2 = 0.9 * dw1 + dw2
    w2, _ = sgd_nesterov(w1.copy(), dw2, config)
    np.testing.assert_allclose(w2, w1 - 0.1 * (dw2 + 0.9 * v2))
    tw = torch.tensor(w)
    optimizer = torch.optim.SGD([tw], lr=0.1, momentum=0.9, nesterov=True)
    for dw in (dw1, dw2):
        tw.grad = torch.from_numpy(dw)
        optimizer.step()
    np.testing.assert_allclose(tw.numpy(), w2, rtol=1e-15)


def test_decoupled_weight_decay_shrinks_adams_weights_by_lr_times_decay_and_is_refused_elsewhere():
    w = np.array([2.0, -4.0])
    out, _ = RULES["adam"](w.copy(), np.zeros(2), {"learning_rate": 0.1, "weight_decay": 0.5})
    np.testing.assert_allclose(out, w * (1 - 0.1 * 0.5))
    tw = torch.tensor(w)
    optimizer = make_optimizer("adam", [tw], {"learning_rate": 0.1, "weight_decay": 0.5})
    assert isinstance(optimizer, torch.optim.AdamW)
    tw.grad = torch.zeros(2, dtype=torch.float64)
    optimizer.step()
    np.testing.assert_allclose(tw.numpy(), w * (1 - 0.1 * 0.5))
    with pytest.raises(ValueError, match="weight_decay do not apply to sgd_nesterov"):
        make_optimizer("sgd_nesterov", [tw], {"learning_rate": 0.1, "weight_decay": 0.5})


# ----------------------------------------------------------------------------- learning-rate schedule


def test_warmup_cosine_values_at_known_steps():
    assert warmup_cosine_factor(1, 100, 10) == pytest.approx(0.1)  # update 1 (1-based) of 100, 10 warm-up updates
    assert warmup_cosine_factor(5, 100, 10) == pytest.approx(0.5)
    assert warmup_cosine_factor(10, 100, 10) == 1.0  # the peak: the warm-up's last update
    assert warmup_cosine_factor(55, 100, 10) == pytest.approx(0.5)  # half-way through the cosine
    assert warmup_cosine_factor(100, 100, 10) == pytest.approx(0.0, abs=1e-15)
    assert warmup_cosine_factor(1, 100, 0) == pytest.approx((1 + math.cos(math.pi / 100)) / 2)
    factors = [warmup_cosine_factor(t, 100, 10) for t in range(10, 101)]
    assert all(a > b for a, b in zip(factors, factors[1:]))
    with pytest.raises(ValueError, match=r"step must be in \[1, 100\]; got 0"):
        warmup_cosine_factor(0, 100, 10)


SCHEDULED_SOLVERS = {
    "numpy": lambda data, **options: numpy_recipe.Solver(RecipeNet(initial_params(6, 4, 3, 1e-3)), data, **options),
    "torch": lambda data, **options: torch_impl.Solver(torch_impl.TwoLayerNet(6, 4, 3), data, **options),
}


@pytest.mark.slow
@pytest.mark.parametrize("warmup_epochs", [0, 0.1, 0.2, 2, 5])  # 0, 1, 2, 20 and all 50 updates of warm-up
@pytest.mark.parametrize("impl", SCHEDULED_SOLVERS)
def test_solvers_follow_the_schedule_at_every_step(impl, warmup_epochs):
    """numpy_recipe's and torch_impl's Solvers give update t the rate 0.2 * warmup_cosine_factor(t)."""
    data, make = random_problem(d=6, c=3), SCHEDULED_SOLVERS[impl]
    solver = make(
        data,
        update_rule="sgd_nesterov",
        lr_schedule="cosine",
        warmup_epochs=warmup_epochs,
        num_epochs=5,
        batch_size=10,
        verbose=False,
        optim_config={"learning_rate": 0.2},
    )
    solver.train()
    expected = [0.2 * warmup_cosine_factor(t, 50, round(10 * warmup_epochs)) for t in range(1, 51)]
    np.testing.assert_allclose(solver.lr_history, expected, rtol=1e-12, atol=1e-15)  # the rate each update used
    with pytest.raises(ValueError, match=r"warmup_epochs must be a number in \[0, num_epochs = 5\]; got 6"):
        make(data, lr_schedule="cosine", warmup_epochs=6, num_epochs=5)
    with pytest.raises(ValueError, match="unknown lr_schedule 'linear'; expected one of step, cosine"):
        make(data, lr_schedule="linear")


# ----------------------------------------------------------------------------- the first-layer projection


def test_principal_directions_are_the_top_k_orthonormal_directions_largest_first():
    X = correlated_images().reshape(2000, -1).astype(np.float64)
    P = principal_directions(X, 10)
    assert P.shape == (48, 10) and P.dtype == np.float64
    np.testing.assert_allclose(P.T @ P, np.eye(10), atol=1e-12)
    centred = X - X.mean(axis=0)
    variances = ((centred @ P) ** 2).mean(axis=0)
    assert np.all(np.diff(variances) <= 0)  # largest variance first
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)  # the same subspace as the SVD's
    np.testing.assert_allclose(P @ P.T, vt[:10].T @ vt[:10], atol=1e-10)
    np.testing.assert_allclose(variances, singular[:10] ** 2 / len(X), rtol=1e-10)
    assert np.all(P[np.argmax(np.abs(P), axis=0), np.arange(10)] > 0)  # the sign convention
    np.testing.assert_allclose(principal_directions(X.astype(np.float32), 10), P, atol=1e-4)  # float32 products


@pytest.mark.parametrize("k", [0, 49, 2.0, True])
def test_principal_directions_reject_a_k_outside_the_input_size(k):
    with pytest.raises(ValueError, match=r"k must be an integer in \[1, 48\]"):
        principal_directions(np.ones((5, 3, 4, 4)), k)


def projected_twins(dtype="float64", k=6, hidden=7, seed=0):
    """A RecipeNet and a torch net on x P (P: the top k directions of 30 images (30, 3, 4, 4)), same weights; X, y."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((30, 3, 4, 4)).astype(dtype)
    P = principal_directions(X, k)
    numpy_net = RecipeNet(initial_params(k, hidden, 5, 0.3, dtype, seed), reg=0.1, projection=P)
    torch_net = torch_impl.TwoLayerNet(k, hidden, 5, reg=0.1, dtype=dtype, projection=torch.from_numpy(P))
    with torch.no_grad():
        for name, value in numpy_net.params.items():
            layer = torch_net.fc1 if name.endswith("1") else torch_net.fc2
            getattr(layer, "weight" if name.startswith("W") else "bias").copy_(torch.from_numpy(value.T.copy()))
    return numpy_net, torch_net, X, rng.integers(5, size=30)


def test_a_projected_net_is_the_plain_net_on_projected_inputs_and_passes_the_gradient_check():
    """RecipeNet on x P scores like the lab's TwoLayerNet on x P, and its gradients check numerically."""
    net, _, X, y = projected_twins()
    plain = RecipeNet(net.params, reg=0.1)
    lab = numpy_impl.TwoLayerNet(6, 7, 5, reg=0.1)
    lab.params = {name: value.copy() for name, value in net.params.items()}
    projected = X.reshape(len(X), -1) @ net.projection
    np.testing.assert_array_equal(net.loss(X), plain.loss(projected))
    np.testing.assert_allclose(net.loss(X), lab.loss(projected), rtol=1e-12, atol=1e-14)
    loss, grads = net.loss(X, y)
    assert grads["W1"].shape == (6, 7)
    for name in net.params:
        numerical = eval_numerical_gradient(lambda _: net.loss(X, y)[0], net.params[name], verbose=False)
        assert rel_error(numerical, grads[name]) < 1e-7, name
    assert loss == plain.loss(projected, y)[0]  # |P W1|^2 = |W1|^2: the L2 term is the same either way
    assert loss == pytest.approx(lab.loss(projected, y)[0], rel=1e-12)


def test_folding_the_projection_gives_the_same_scores_from_the_images_in_both():
    net, torch_net, X, _ = projected_twins()
    folded = net.folded_params()
    assert folded["W1"].shape == (48, 7) and net.params["W1"].shape == (6, 7)  # folding leaves the model alone
    np.testing.assert_allclose(RecipeNet(folded).loss(X), net.loss(X), atol=1e-12)
    state = torch_impl.fold_projection(torch_net.state_dict())
    assert "projection" not in state and state["fc1.weight"].shape == (7, 48)
    plain = torch_impl.TwoLayerNet(48, 7, 5, dtype="float64")
    plain.load_state_dict(state)
    with torch.no_grad():
        np.testing.assert_allclose(plain(torch.from_numpy(X)).numpy(), net.loss(X), atol=1e-12)
        np.testing.assert_allclose(torch_net(torch.from_numpy(X)).numpy(), net.loss(X), atol=1e-12)


def test_a_projection_that_does_not_fit_the_first_layer_is_refused_in_both():
    with pytest.raises(ValueError, match=r"projection must be \(D, k\) with k = W1's 6 rows; got \(48, 5\)"):
        RecipeNet(initial_params(6, 7, 5, 0.1), projection=np.ones((48, 5)))
    with pytest.raises(ValueError, match=r"projection must be \(D, input_dim = 6\)"):
        torch_impl.TwoLayerNet(6, 7, 5, projection=torch.ones(48))


@pytest.mark.parametrize("impl", ["numpy", "torch"])
def test_a_projected_run_saves_folded_weights_that_score_like_the_model(impl):
    """make_model projects onto the training images' top directions; best_params and model_params fold them."""
    from common.config import Config
    from experiment.models import best_params, make_model, make_solver, model_from_params, model_params, predict

    rng = np.random.default_rng(1)
    X = rng.standard_normal((120, 3, 4, 4)).astype(np.float32)
    data = {
        "X_train": X[:100],
        "y_train": rng.integers(10, size=100),
        "X_val": X[100:],
        "y_val": rng.integers(10, size=20),
    }
    config = Config(impl=impl, hidden_size=9, pca_components=5, num_epochs=2, batch_size=20, learning_rate=1e-2)
    model = make_model(config, data["X_train"])
    solver = make_solver(config, model, data, verbose=False)
    solver.train()
    best, saved = best_params(impl, solver), model_params(impl, model)
    assert best["W1"].shape == saved["W1"].shape == (48, 9)
    for name in best:
        np.testing.assert_array_equal(best[name], saved[name])  # train() restored the best: the same folded weights
    plain = model_from_params(impl, saved)
    np.testing.assert_array_equal(predict(impl, plain, X), predict(impl, model, X))


# ----------------------------------------------------------------------------- initialization


def test_initial_params_are_the_labs_draws_for_the_same_seed():
    """common.init.initial_params, which loads either implementation, is TwoLayerNet's own init draw for draw."""
    for dtype in (np.float32, np.float64):
        ours = initial_params(300, 200, 10, 1e-3, dtype, seed=4)
        lab = numpy_impl.TwoLayerNet(300, 200, 10, weight_scale=1e-3, dtype=dtype, seed=4).params
        assert set(ours) == set(lab)
        for name in lab:
            assert ours[name].dtype == dtype
            np.testing.assert_array_equal(ours[name], lab[name])
    assert not np.array_equal(initial_params(300, 200, 10, 1e-3, seed=5)["W1"], ours["W1"])
