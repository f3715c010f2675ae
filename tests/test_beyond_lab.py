"""The additions beyond the lab, unit by unit: dropout, label smoothing, preprocessing, augmentation,
Nesterov momentum, decoupled weight decay, the warm-up + cosine schedule, the first-layer projection and the
initialization schemes."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import numpy_impl
import torch_impl
from common.batches import Augmentation, BatchStream
from common.init import initial_params, initial_weights
from common.preprocess import (
    check_preprocessing,
    fit_preprocessing,
    preprocess,
    principal_directions,
    zca_whitening_matrix,
)
from numpy_impl.augment import flip_and_shift, mix_images
from numpy_impl.gradient_check import eval_numerical_gradient, eval_numerical_gradient_array, rel_error
from numpy_impl.layers import dropout_backward, dropout_forward, softmax_loss
from numpy_impl.optim import lamb, sgd_momentum, sgd_nesterov
from numpy_impl.solver import warmup_cosine_factor
from torch_impl.optim import make_optimizer

# ----------------------------------------------------------------------------- dropout


def test_dropout_gradient_with_a_fixed_mask():
    rng = np.random.default_rng(0)
    x, dout = rng.standard_normal((6, 9)), rng.standard_normal((6, 9))
    param = {"p": 0.7, "mode": "train", "seed": 123}  # the lab's way: reseeded, so every call draws the same mask
    _, cache = dropout_forward(x, param)
    dx = dropout_backward(dout, cache)
    dx_num = eval_numerical_gradient_array(lambda x: dropout_forward(x, param)[0], x, dout)
    assert rel_error(dx, dx_num) < 1e-9


def test_dropout_keeps_the_expected_fraction_and_the_mean():
    x = np.random.default_rng(1).standard_normal((500, 500)) + 10
    for keep in (0.25, 0.6, 0.9):
        out, _ = dropout_forward(x, {"p": keep, "mode": "train", "rng": np.random.default_rng(2)})
        assert np.mean(out == 0) == pytest.approx(1 - keep, abs=0.01)
        assert out.mean() == pytest.approx(x.mean(), rel=0.01)  # inverted dropout: E[out] = x
        test_out, _ = dropout_forward(x, {"p": keep, "mode": "test"})
        assert test_out is x or np.array_equal(test_out, x)


def test_dropout_keeps_float32_and_rejects_bad_settings():
    x = np.ones((3, 4), dtype=np.float32)
    out, cache = dropout_forward(x, {"p": 0.5, "mode": "train", "rng": np.random.default_rng(0)})
    assert out.dtype == np.float32 and dropout_backward(np.ones_like(x), cache).dtype == np.float32
    with pytest.raises(ValueError, match=r"p \(keep probability\) must be in \(0, 1\]; got 0"):
        dropout_forward(x, {"p": 0, "mode": "train"})
    with pytest.raises(ValueError, match="mode must be 'train' or 'test'; got 'eval'"):
        dropout_forward(x, {"p": 0.5, "mode": "eval"})


def test_model_with_dropout_passes_the_gradient_check():
    model = numpy_impl.TwoLayerNet(
        12, 8, 4, weight_scale=0.3, reg=0.1, dropout_keep_ratio=0.5, label_smoothing=0.2, seed=0
    )
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((5, 12)), rng.integers(4, size=5)
    model.dropout_param["seed"] = 5  # the same mask at every evaluation
    _, grads = model.loss(X, y)
    for name in model.params:
        numeric = eval_numerical_gradient(lambda _: model.loss(X, y)[0], model.params[name], verbose=False)
        assert rel_error(grads[name], numeric) < 1e-7, name
    scores = model.loss(X)  # prediction uses every unit, deterministically
    np.testing.assert_array_equal(scores, model.loss(X))


def test_torch_dropout_uses_the_drop_probability():
    model = torch_impl.TwoLayerNet(12, 8, 4, dropout_keep_ratio=0.7)
    assert model.dropout.p == pytest.approx(0.3)


def random_problem(d: int, c: int, n_train: int = 100, n_val: int = 10) -> dict:
    """A Solver's data of random inputs (N, d) and labels in [0, c): nothing to learn, only to run."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((n_train + n_val, d)), rng.integers(c, size=n_train + n_val)
    return {"X_train": X[:n_train], "y_train": y[:n_train], "X_val": X[n_train:], "y_val": y[n_train:]}


def test_torch_solver_trains_every_update_with_dropout_on_and_predicts_without():
    data = random_problem(d=12, c=4)
    modes = []
    solver = torch_impl.Solver(
        torch_impl.TwoLayerNet(12, 8, 4, dropout_keep_ratio=0.5),
        data,
        batch_size=10,
        num_epochs=2,
        verbose=False,
        seed=0,
        on_iteration=lambda s: modes.append(s.model.training),
    )
    solver.train()
    assert modes == [True] * 20  # the accuracy check after the first update must not leave it in eval mode
    first = solver.predict(data["X_val"])
    np.testing.assert_array_equal(first, solver.predict(data["X_val"]))  # deterministic: no dropout


# ----------------------------------------------------------------------------- label smoothing


@pytest.mark.parametrize("smoothing", [0.0, 0.1, 0.5, 1.0])
def test_label_smoothing_matches_torch_and_the_numerical_gradient(smoothing):
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((7, 5)) * 3, rng.integers(5, size=7)
    loss, dx = softmax_loss(x, y, smoothing)
    expected = F.cross_entropy(torch.from_numpy(x), torch.from_numpy(y), label_smoothing=smoothing).item()
    assert loss == pytest.approx(expected, rel=1e-12)
    dx_num = eval_numerical_gradient(lambda x: softmax_loss(x, y, smoothing)[0], x, verbose=False)
    assert np.max(np.abs(dx - dx_num)) < 1e-9  # absolute: some entries are ~1e-5, where rel_error is noise


def test_label_smoothing_zero_is_the_lab_loss_and_bad_values_raise():
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((4, 3)), rng.integers(3, size=4)
    np.testing.assert_array_equal(softmax_loss(x, y)[1], softmax_loss(x, y, 0.0)[1])
    with pytest.raises(ValueError, match=r"label_smoothing must be in \[0, 1\]; got 1.5"):
        softmax_loss(x, y, 1.5)


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


def augmented_batch(images, seed, flip=True, padding=2):
    """The stream's first batch of all of images (in order of its draws), flipped and cropped by numpy_impl."""
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
    plain = numpy_impl.Solver(numpy_impl.TwoLayerNet(64, 5, 10), data, seed=3, batch_size=32)
    augmented = numpy_impl.Solver(
        numpy_impl.TwoLayerNet(64, 5, 10), data, seed=3, batch_size=32, augment={"flip": True, "padding": 2}
    )
    for _ in range(5):
        batch = augmented.stream.next_batch()
        assert np.array_equal(batch.indices, plain.stream.next_batch().indices)  # flips and crops: own generator
        X_batch, y_batch, _ = augmented._gather(batch)
        np.testing.assert_array_equal(y_batch, y[batch.indices])
        np.testing.assert_array_equal(X_batch.max(axis=(1, 2, 3)), y_batch + 1)
        loader = torch_impl.batch_loader(torch.from_numpy(X), torch.from_numpy(y), augmented.stream)
        X_torch, y_torch, _ = loader.dataset[batch]
        np.testing.assert_array_equal(X_torch.numpy(), X_batch)  # torch_impl applies the same draws alike
        np.testing.assert_array_equal(y_torch.numpy(), y_batch)
    with pytest.raises(ValueError, match="augment takes the keys flip, padding, mix and mix_alpha; got pad"):
        numpy_impl.Solver(numpy_impl.TwoLayerNet(64, 5, 10), data, augment={"flip": True, "pad": 2})


# ----------------------------------------------------------------------------- MixUp and CutMix


@pytest.mark.parametrize("mix", ["mixup", "cutmix"])
def test_mixing_has_its_own_draws_and_leaves_the_others_alone(mix):
    plain = BatchStream(500, 64, seed=4, augmentation=Augmentation(True, 2))
    mixing = BatchStream(500, 64, seed=4, augmentation=Augmentation(True, 2, mix, 0.4), image_size=(8, 8))
    weights = []
    for _ in range(20):
        ours, theirs = mixing.next_batch(), plain.next_batch()
        for draw in ("indices", "flips", "shifts"):
            np.testing.assert_array_equal(getattr(ours, draw), getattr(theirs, draw))
        assert sorted(ours.partners) == list(range(64)) and 0 <= ours.mix_weight <= 1
        if mix == "cutmix":
            top, bottom, left, right = ours.box
            assert 0 <= top <= bottom <= 8 and 0 <= left <= right <= 8
            assert ours.mix_weight == 1 - (bottom - top) * (right - left) / 64  # the box as clipped
        else:
            assert ours.box is None
        weights.append(ours.mix_weight)
    assert 0.2 < np.mean(weights) < 0.8 and np.std(weights) > 0.1  # Beta(0.4, 0.4): mostly near 0 or 1
    with pytest.raises(ValueError, match="cutmix needs image_size"):
        BatchStream(500, 64, seed=4, augmentation=Augmentation(mix="cutmix"))
    with pytest.raises(ValueError, match="mix must be one of none, mixup, cutmix; got 'blend'"):
        Augmentation(mix="blend")
    with pytest.raises(ValueError, match=r"mix_alpha must be a number > 0 \(Beta\(alpha, alpha\)\); got 0"):
        Augmentation(mix="mixup", mix_alpha=0)


def test_mixup_blends_and_cutmix_pastes_alike_in_numpy_and_torch():
    rng = np.random.default_rng(8)
    images = rng.standard_normal((5, 3, 6, 7)).astype(np.float32)
    partners = np.array([2, 0, 1, 4, 3])
    blended = mix_images(images.copy(), partners, 0.3)
    np.testing.assert_allclose(blended, 0.3 * images + 0.7 * images[partners], rtol=1e-6)
    pasted = mix_images(images.copy(), partners, 1 - 6 / 42, (1, 3, 2, 5))
    assert np.array_equal(pasted[:, :, 1:3, 2:5], images[partners, :, 1:3, 2:5])
    outside = np.ones((6, 7), dtype=bool)
    outside[1:3, 2:5] = False
    assert np.array_equal(pasted[:, :, outside], images[:, :, outside])
    for box, ours in ((None, blended), ((1, 3, 2, 5), pasted)):
        theirs = torch_impl.mix_images(torch.from_numpy(images), torch.from_numpy(partners), 0.3, box)
        np.testing.assert_array_equal(theirs.numpy(), ours)  # the same float32 arithmetic


def test_mixed_loss_is_the_weighted_sum_and_its_gradient_checks_numerically():
    rng = np.random.default_rng(2)
    model = numpy_impl.TwoLayerNet(12, 7, 4, weight_scale=0.3, reg=0.1, dtype=np.float64, seed=0, label_smoothing=0.1)
    X, y, mixed_in = rng.standard_normal((6, 12)), rng.integers(4, size=6), rng.integers(4, size=6)
    loss, grads = model.loss(X, y, mix=(mixed_in, 0.3))
    penalty = 0.5 * 0.1 * sum(np.sum(model.params[w] ** 2) for w in ("W1", "W2"))
    own, other = (model.loss(X, labels)[0] - penalty for labels in (y, mixed_in))
    assert loss == pytest.approx(0.3 * own + 0.7 * other + penalty, rel=1e-12)
    for name, value in model.params.items():
        numeric = eval_numerical_gradient(lambda _: model.loss(X, y, mix=(mixed_in, 0.3))[0], value, verbose=False)
        assert rel_error(grads[name], numeric) < 1e-7, name


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


def test_decoupled_weight_decay_shrinks_weights_by_lr_times_decay():
    w = np.array([2.0, -4.0])
    out, config = sgd_momentum(w.copy(), np.zeros(2), {"learning_rate": 0.1, "weight_decay": 0.5})
    np.testing.assert_allclose(out, w * (1 - 0.1 * 0.5))
    for rule in ("adam", "sgd_nesterov"):  # torch.optim.AdamW's own decay; a step pre-hook on the others
        tw = torch.tensor(w)
        optimizer = make_optimizer(rule, [tw], {"learning_rate": 0.1, "weight_decay": 0.5})
        assert isinstance(optimizer, torch.optim.AdamW) == (rule == "adam")
        tw.grad = torch.zeros(2, dtype=torch.float64)
        optimizer.step()
        np.testing.assert_allclose(tw.numpy(), w * (1 - 0.1 * 0.5))


def test_lamb_keeps_its_weight_decay_inside_the_step_in_both_implementations():
    """With a zero gradient, LAMB's step is weight_decay * w, rescaled to lr |w|: w shrinks by lr, not lr * decay."""
    w = np.array([2.0, -4.0])
    out, _ = lamb(w.copy(), np.zeros(2), {"learning_rate": 0.1, "weight_decay": 0.5})
    tw = torch.tensor(w)
    optimizer = make_optimizer("lamb", [tw], {"learning_rate": 0.1, "weight_decay": 0.5})
    assert not optimizer._optimizer_step_pre_hooks  # no decoupled shrink before the step
    tw.grad = torch.zeros(2, dtype=torch.float64)
    optimizer.step()
    np.testing.assert_allclose(out, w * (1 - 0.1))
    np.testing.assert_allclose(tw.numpy(), w * (1 - 0.1))


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


@pytest.mark.parametrize("warmup_epochs", [0, 0.1, 0.2, 2, 5])  # 0, 1, 2, 20 and all 50 updates of warm-up
@pytest.mark.parametrize("impl", [numpy_impl, torch_impl])
def test_solvers_follow_the_schedule_at_every_step(impl, warmup_epochs):
    data = random_problem(d=6, c=3)
    solver = impl.Solver(
        impl.TwoLayerNet(6, 4, 3),
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
        impl.Solver(impl.TwoLayerNet(6, 4, 3), data, lr_schedule="cosine", warmup_epochs=6, num_epochs=5)
    with pytest.raises(ValueError, match="unknown lr_schedule 'linear'; expected one of step, cosine"):
        impl.Solver(impl.TwoLayerNet(6, 4, 3), data, lr_schedule="linear")


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
    """A NumPy and a torch net on x P (P the top k directions of 30 images (30, 3, 4, 4)), same weights, and X, y."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((30, 3, 4, 4)).astype(dtype)
    P = principal_directions(X, k)
    numpy_net = numpy_impl.TwoLayerNet(k, hidden, 5, weight_scale=0.3, reg=0.1, dtype=dtype, seed=seed, projection=P)
    torch_net = torch_impl.TwoLayerNet(k, hidden, 5, reg=0.1, dtype=dtype, projection=torch.from_numpy(P))
    with torch.no_grad():
        for name, value in numpy_net.params.items():
            layer = torch_net.fc1 if name.endswith("1") else torch_net.fc2
            getattr(layer, "weight" if name.startswith("W") else "bias").copy_(torch.from_numpy(value.T.copy()))
    return numpy_net, torch_net, X, rng.integers(5, size=30)


def test_a_projected_net_is_the_plain_net_on_projected_inputs_and_passes_the_gradient_check():
    net, _, X, y = projected_twins()
    plain = numpy_impl.TwoLayerNet.from_params(net.params, reg=0.1)
    projected = X.reshape(len(X), -1) @ net.projection
    np.testing.assert_array_equal(net.loss(X), plain.loss(projected))
    loss, grads = net.loss(X, y)
    assert grads["W1"].shape == (6, 7)
    for name in net.params:
        numerical = eval_numerical_gradient(lambda _: net.loss(X, y)[0], net.params[name], verbose=False)
        assert rel_error(numerical, grads[name]) < 1e-7, name
    assert loss == plain.loss(projected, y)[0]  # |P W1|^2 = |W1|^2: the L2 term is the same either way


def test_folding_the_projection_gives_the_same_scores_from_the_images_in_both():
    net, torch_net, X, _ = projected_twins()
    folded = net.folded_params()
    assert folded["W1"].shape == (48, 7) and net.params["W1"].shape == (6, 7)  # folding leaves the model alone
    np.testing.assert_allclose(numpy_impl.TwoLayerNet.from_params(folded).loss(X), net.loss(X), atol=1e-12)
    state = torch_impl.fold_projection(torch_net.state_dict())
    assert "projection" not in state and state["fc1.weight"].shape == (7, 48)
    plain = torch_impl.TwoLayerNet(48, 7, 5, dtype="float64")
    plain.load_state_dict(state)
    with torch.no_grad():
        np.testing.assert_allclose(plain(torch.from_numpy(X)).numpy(), net.loss(X), atol=1e-12)
        np.testing.assert_allclose(torch_net(torch.from_numpy(X)).numpy(), net.loss(X), atol=1e-12)


def test_a_projection_that_does_not_fit_the_first_layer_is_refused_in_both():
    with pytest.raises(ValueError, match=r"projection must be \(D, input_dim = 6\)"):
        numpy_impl.TwoLayerNet(6, 7, 5, projection=np.ones((48, 5)))
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


# ----------------------------------------------------------------------------- initialization schemes


def test_he_init_scales_the_labs_draws_by_sqrt_2_over_fan_in():
    lab = initial_params(300, 200, 10, 1.0, np.float64, seed=4)  # standard-normal draws
    he = initial_weights("he", 300, 200, 10, 1e-3, np.float32, seed=4)
    assert he["W1"].dtype == np.float32 and he["W1"].shape == (300, 200)
    np.testing.assert_allclose(he["W1"], lab["W1"] * np.sqrt(2 / 300), rtol=1e-6)
    np.testing.assert_allclose(he["W2"], lab["W2"] * np.sqrt(2 / 200), rtol=1e-6)
    assert not he["b1"].any() and not he["b2"].any()
    assert initial_weights("normal", 300, 200, 10, 1e-3, np.float64, seed=4)["W1"].tolist() == (
        initial_params(300, 200, 10, 1e-3, np.float64, seed=4)["W1"].tolist()
    )  # normal is the lab's init, draw for draw


def test_images_init_starts_each_first_layer_unit_at_a_training_image_of_norm_sqrt_2():
    inputs = np.random.default_rng(0).standard_normal((50, 12))
    params = initial_weights("images", 12, 8, 3, 1e-3, np.float64, seed=1, inputs=inputs)
    columns = params["W1"].T  # (H, D)
    np.testing.assert_allclose(np.linalg.norm(columns, axis=1), np.sqrt(2))
    unit_inputs = inputs / np.linalg.norm(inputs, axis=1, keepdims=True)
    matches = np.abs(columns / np.sqrt(2) @ unit_inputs.T - 1) < 1e-12  # each column is one of the inputs
    assert matches.sum(axis=1).tolist() == [1] * 8
    again = initial_weights("images", 12, 8, 3, 1e-3, np.float64, seed=1, inputs=inputs)
    np.testing.assert_array_equal(again["W1"], params["W1"])  # seeded: the same images again
    with pytest.raises(ValueError, match=r"init 'images' needs inputs \(N, 12\)"):
        initial_weights("images", 12, 8, 3, 1e-3, seed=1)
    with pytest.raises(ValueError, match="unknown init 'xavier'; expected one of normal, he, images"):
        initial_weights("xavier", 12, 8, 3, 1e-3, seed=1)


def test_images_init_with_a_projection_uses_the_projected_images_in_both():
    from common.config import Config
    from compare.adapter import lab_params
    from experiment.models import make_model

    X = np.random.default_rng(2).standard_normal((40, 3, 4, 4))
    config = Config(hidden_size=6, pca_components=5, init="images", dtype="float64")
    ours = make_model(config, X)
    theirs = make_model(Config(**{**config.to_dict(), "impl": "torch"}), X)
    projected = X.reshape(40, -1) @ ours.projection
    unit = projected / np.linalg.norm(projected, axis=1, keepdims=True)
    assert ours.params["W1"].shape == (5, 6)
    assert np.isclose(ours.params["W1"].T / np.sqrt(2) @ unit.T, 1).sum(axis=1).tolist() == [1] * 6
    np.testing.assert_array_equal(lab_params(theirs)["W1"], ours.params["W1"])
