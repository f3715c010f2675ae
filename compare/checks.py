"""Every agreement check between numpy_impl and torch_impl / torch autograd, as functions returning Checks.

Each function takes a dtype ("float32" or "float64"), a seed and sizes, builds the same
inputs for both sides, and returns a list of Check rows (see compare/metrics.py). The two
implementations share data, not code: the same initial weights (common.init) and the same
batch stream (common.batches); each trains with its own loop.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

import numpy_impl
import torch_impl
from common.batches import draw_augmentation
from common.init import initial_params
from common.preprocess import fit_preprocessing, preprocess, principal_directions, zca_whitening_matrix
from compare.adapter import LAYERS, lab_loss, lab_params, leaf, torch_state
from compare.metrics import Check, make_check
from numpy_impl.augment import flip_and_shift, mix_images
from numpy_impl.layer_utils import affine_relu_backward, affine_relu_forward
from numpy_impl.layers import (
    affine_backward,
    affine_forward,
    dropout_backward,
    dropout_forward,
    dropout_mask,
    relu_backward,
    relu_forward,
    softmax_loss,
    svm_loss,
)
from numpy_impl.optim import UPDATE_RULES

UPDATE_RULE_LRS = {"sgd": 1e-1, "sgd_momentum": 5e-2, "sgd_nesterov": 5e-2, "rmsprop": 1e-3, "adam": 1e-3, "lamb": 1e-2}
LABEL_SMOOTHING, KEEP_RATIO, WEIGHT_DECAY = 0.1, 0.6, 0.05


def autograd_layers(x, w, b, dout, scores, y, reg: float) -> dict[str, dict[str, np.ndarray]]:
    """Gradients by torch autograd of each layer the NumPy code differentiates by hand.

    x (N, d1, ..., dk), w (D, M), b (M,), dout (N, M), scores (N, C), y (N,).
    """
    grads = {}
    tx, tw, tb = leaf(x), leaf(w), leaf(b)
    (tx.reshape(len(x), -1) @ tw + tb).backward(torch.from_numpy(dout))
    grads["affine"] = {"dx": tx.grad, "dw": tw.grad, "db": tb.grad}

    ta = leaf(x.reshape(len(x), -1) @ w + b)  # pre-activations, so ReLU is checked alone
    torch.relu(ta).backward(torch.from_numpy(dout))
    grads["relu"] = {"dx": ta.grad}

    tx, tw, tb = leaf(x), leaf(w), leaf(b)
    torch.relu(tx.reshape(len(x), -1) @ tw + tb).backward(torch.from_numpy(dout))
    grads["affine_relu"] = {"dx": tx.grad, "dw": tw.grad, "db": tb.grad}

    ts, ty = leaf(scores), torch.from_numpy(y)
    F.cross_entropy(ts, ty).backward()
    grads["softmax_loss"] = {"dx": ts.grad}

    ts = leaf(scores)
    loss = F.cross_entropy(ts, ty, label_smoothing=LABEL_SMOOTHING)
    loss.backward()
    grads["softmax_loss, label smoothing"] = {"loss": loss.detach(), "dx": ts.grad}

    th, mask = leaf(dout), torch.from_numpy(_fixed_mask(dout))  # dout doubles as a hidden layer (N, M)
    (th * mask).backward(torch.from_numpy(scores[:, :1] * dout))
    grads["dropout (fixed mask)"] = {"dx": th.grad}

    # torch's multi_margin_loss averages the hinge over the C classes too; the lab's sums over them.
    ts = leaf(scores)
    (scores.shape[1] * F.multi_margin_loss(ts, ty, margin=1.0)).backward()
    grads["svm_loss"] = {"dx": ts.grad}

    tw = leaf(w)
    (0.5 * reg * tw.square().sum()).backward()
    grads["l2"] = {"dW": tw.grad}
    return {layer: {k: v.numpy() for k, v in g.items()} for layer, g in grads.items()}


def numpy_layers(x, w, b, dout, scores, y, reg: float) -> dict[str, dict[str, np.ndarray]]:
    """The same gradients from numpy_impl's hand-written backward functions."""
    _, cache = affine_forward(x, w, b)
    dx, dw, db = affine_backward(dout, cache)
    a = x.reshape(len(x), -1) @ w + b
    _, relu_cache = relu_forward(a)
    _, ar_cache = affine_relu_forward(x, w, b)
    ar_dx, ar_dw, ar_db = affine_relu_backward(dout, ar_cache)
    return {
        "affine": {"dx": dx, "dw": dw, "db": db},
        "relu": {"dx": relu_backward(dout, relu_cache)},
        "affine_relu": {"dx": ar_dx, "dw": ar_dw, "db": ar_db},
        "softmax_loss": {"dx": softmax_loss(scores, y)[1]},
        "softmax_loss, label smoothing": dict(zip(("loss", "dx"), softmax_loss(scores, y, LABEL_SMOOTHING))),
        "dropout (fixed mask)": {"dx": _numpy_dropout_dx(dout, scores[:, :1] * dout)},
        "svm_loss": {"dx": svm_loss(scores, y)[1]},
        "l2": {"dW": reg * w},
    }


def _fixed_mask(hidden: np.ndarray, seed: int = 7) -> np.ndarray:
    """The inverted-dropout mask numpy_impl draws from default_rng(seed) for hidden's shape."""
    return dropout_mask(hidden.shape, KEEP_RATIO, np.random.default_rng(seed), hidden.dtype)


def _numpy_dropout_dx(hidden: np.ndarray, dout: np.ndarray) -> np.ndarray:
    """dropout_backward after dropout_forward with the same generator as _fixed_mask."""
    _, cache = dropout_forward(hidden, {"p": KEEP_RATIO, "mode": "train", "rng": np.random.default_rng(7)})
    return dropout_backward(dout, cache)


def layer_inputs(dtype: str, seed: int, n: int = 4, dims: tuple = (2, 3), m: int = 5, c: int = 6):
    """Random inputs for every layer check: x (n, *dims), w (D, m), b (m,), dout (n, m), scores (n, c), y (n,)."""
    rng = np.random.default_rng(seed)
    d = int(np.prod(dims))
    x = rng.standard_normal((n, *dims)).astype(dtype)
    w = rng.standard_normal((d, m)).astype(dtype)
    b = rng.standard_normal(m).astype(dtype)
    dout = rng.standard_normal((n, m)).astype(dtype)
    scores = rng.standard_normal((n, c)).astype(dtype)
    y = rng.integers(c, size=n)
    return x, w, b, dout, scores, y, 0.3


def check_layers(dtype: str = "float64", seed: int = 0, **sizes) -> list[Check]:
    """Each hand-written backward (affine, ReLU, affine-ReLU, softmax with and without label smoothing, SVM,
    dropout with a fixed mask, L2) against torch autograd."""
    inputs = layer_inputs(dtype, seed, **sizes)
    ours, theirs = numpy_layers(*inputs), autograd_layers(*inputs)
    return [
        make_check("layer vs autograd", f"{layer}: {name}", ours[layer][name], theirs[layer][name], dtype)
        for layer in ours
        for name in ours[layer]
    ]


def twin_pair(d: int, hidden: int, c: int, dtype: str, seed: int, weight_scale: float, reg: float, **options):
    """A NumPy and a torch TwoLayerNet (D=d, H=hidden, C=c) loaded with the same initial weights (common.init).

    options (dropout_keep_ratio, label_smoothing, projection (d', d): then the models see x P) go to both models.
    """
    init = initial_params(d, hidden, c, weight_scale, dtype, seed)
    ours = numpy_impl.TwoLayerNet.from_params(init, reg=reg, seed=seed, **options)
    theirs = torch_impl.TwoLayerNet(d, hidden, c, reg=reg, dtype=dtype, **options)
    state = torch_state(init)
    if theirs.projection is not None:
        state["projection"] = theirs.projection
    theirs.load_state_dict(state)
    return ours, theirs


def twin_models(
    dtype: str,
    seed: int,
    n: int = 5,
    dims: tuple = (3, 4, 4),
    hidden: int = 20,
    c: int = 10,
    reg: float = 0.1,
    weight_scale: float = 0.1,
    **options,
):
    """A NumPy and a torch TwoLayerNet from the same initial weights, and a batch X (n, *dims), y (n,).

    options (dropout_keep_ratio, label_smoothing) go to both models.
    """
    ours, theirs = twin_pair(int(np.prod(dims)), hidden, c, dtype, seed, weight_scale, reg, **options)
    rng = np.random.default_rng(seed + 1)
    X = rng.standard_normal((n, *dims)).astype(dtype)
    y = rng.integers(c, size=n)
    return ours, theirs, X, y


def check_model(dtype: str = "float64", seed: int = 0, **sizes) -> list[Check]:
    """TwoLayerNet: the same init, then scores, loss and the four gradients."""
    ours, theirs, X, y = twin_models(dtype, seed, **sizes)
    checks = [
        make_check("model", f"init {name}", ours.params[name], value, dtype)
        for name, value in lab_params(theirs).items()
    ]
    checks.append(make_check("model", "scores", ours.loss(X), lab_loss(theirs, X), dtype))
    (loss, grads), (t_loss, t_grads) = ours.loss(X, y), lab_loss(theirs, X, y)
    checks.append(make_check("model", "loss", loss, t_loss, dtype))
    checks += [make_check("model", f"grad {name}", grads[name], t_grads[name], dtype) for name in grads]
    return checks


def check_model_extras(dtype: str = "float64", seed: int = 0) -> list[Check]:
    """TwoLayerNet with dropout (the same mask on both sides) and label smoothing: loss and gradients."""
    ours, theirs, X, y = twin_models(dtype, seed, label_smoothing=LABEL_SMOOTHING, dropout_keep_ratio=KEEP_RATIO)
    ours.dropout_param["rng"] = np.random.default_rng(7)
    hidden_shape = (len(X), ours.params["W1"].shape[1])
    mask = dropout_mask(hidden_shape, KEEP_RATIO, np.random.default_rng(7), np.dtype(dtype))
    (loss, grads), (t_loss, t_grads) = ours.loss(X, y), lab_loss(theirs, X, y, dropout_mask=mask)
    checks = [make_check("model", "loss (dropout, label smoothing)", loss, t_loss, dtype)]
    return checks + [
        make_check("model", f"grad {name} (dropout, label smoothing)", grads[name], t_grads[name], dtype)
        for name in grads
    ]


def check_projection(dtype: str = "float64", seed: int = 0, n: int = 200, dims: tuple = (3, 4, 4), k: int = 12):
    """The first-layer projection (pca_components): principal directions against torch.linalg.eigh; the projected
    nets' scores, loss and gradients against torch autograd; and folding, P W1, giving the same scores from x."""
    rng = np.random.default_rng(seed)
    d = int(np.prod(dims))
    X = (rng.standard_normal((n, *dims)) @ rng.standard_normal((dims[-1], dims[-1]))).astype(dtype)
    projection = principal_directions(X, k)
    flat = torch.from_numpy(X.reshape(n, -1)).double()
    _, basis = torch.linalg.eigh(torch.cov(flat.T, correction=0))
    t_projection = basis[:, -k:]  # eigh sorts ascending; the projector P P^T has no sign ambiguity
    checks = [
        make_check(
            "projection",
            f"top {k} of {d} principal directions (projector P P^T) vs torch.linalg.eigh",
            projection @ projection.T,
            (t_projection @ t_projection.T).numpy(),
            dtype,  # the covariance is summed from products in X's dtype
        )
    ]
    ours, theirs = twin_pair(k, 20, 10, dtype, seed, 0.1, 0.1, projection=projection)
    y = rng.integers(10, size=n)
    checks.append(make_check("projection", "scores of x P", ours.loss(X), lab_loss(theirs, X), dtype))
    (loss, grads), (t_loss, t_grads) = ours.loss(X, y), lab_loss(theirs, X, y)
    checks.append(make_check("projection", "loss of x P", loss, t_loss, dtype))
    checks += [
        make_check("projection", f"grad {name} (W1 is (k, H))", grads[name], t_grads[name], dtype) for name in grads
    ]
    folded = numpy_impl.TwoLayerNet.from_params(ours.folded_params())
    plain = torch_impl.TwoLayerNet(d, 20, 10, dtype=dtype)
    plain.load_state_dict(torch_impl.fold_projection(theirs.state_dict()))
    checks.append(
        make_check(
            "projection", "folded W1 = P W1 (numpy vs torch)", folded.params["W1"], lab_params(plain)["W1"], dtype
        )
    )
    checks.append(
        make_check("projection", "folded numpy net on x = projected net on x P", folded.loss(X), ours.loss(X), dtype)
    )
    checks.append(
        make_check(
            "projection", "folded torch net on x = projected net on x P", lab_loss(plain, X), lab_loss(theirs, X), dtype
        )
    )
    return checks


def check_update_rules(dtype: str = "float64", seed: int = 0, steps: int = 3) -> list[Check]:
    """Each update rule, without and with decoupled weight decay: a few steps of numpy_impl.optim vs the
    torch optimizer on the same w and dws."""
    rng = np.random.default_rng(seed)
    w0 = rng.standard_normal((4, 5)).astype(dtype)
    dws = [rng.standard_normal((4, 5)).astype(dtype) for _ in range(steps)]
    checks = []
    for rule_name, rule in UPDATE_RULES.items():
        for decay in (0.0, WEIGHT_DECAY):
            config = {"learning_rate": UPDATE_RULE_LRS[rule_name], **({"weight_decay": decay} if decay else {})}
            w, state = w0.copy(), dict(config)
            tw = torch.tensor(w0)
            optimizer = torch_impl.make_optimizer(rule_name, [tw], config)
            for dw in dws:
                w, state = rule(w, dw, state)
                tw.grad = torch.from_numpy(dw)
                optimizer.step()
            label = f"{rule_name}{f', weight decay {decay:g}' if decay else ''}: {steps} steps"
            checks.append(make_check("update rule", label, w, tw.numpy(), dtype))
    return checks


def check_preprocessing(
    dtype: str = "float64", seed: int = 0, n: int = 300, dims: tuple = (3, 4, 4), epsilon: float = 0.1
) -> list[Check]:
    """ZCA whitening against torch (torch.cov, torch.linalg.eigh); standardization, flips and crops against
    torchvision."""
    import torchvision.transforms.v2.functional as TF

    rng = np.random.default_rng(seed)
    images = (rng.standard_normal((n, *dims)) @ rng.standard_normal((dims[-1], dims[-1]))).astype(dtype)
    mean, whitening = zca_whitening_matrix(images.reshape(n, -1), epsilon)
    flat = torch.from_numpy(images.reshape(n, -1)).double()
    covariance = torch.cov(flat.T, correction=0)
    variances, basis = torch.linalg.eigh(covariance)
    t_whitening = basis @ torch.diag(variances.clamp(min=0).add(epsilon).rsqrt()) @ basis.T
    checks = [
        make_check("preprocessing", "ZCA whitening matrix", whitening, t_whitening.numpy(), "float64"),
        make_check(
            "preprocessing",
            "ZCA whitened images",
            (images.reshape(n, -1) - mean) @ whitening,
            ((flat - flat.mean(0)) @ t_whitening).numpy(),
            "float64",
        ),
    ]

    standardize = fit_preprocessing("standardize", images)
    channel_mean = torch.from_numpy(images).mean(dim=(0, 2, 3)).tolist()
    channel_std = torch.from_numpy(images).std(dim=(0, 2, 3), correction=0).tolist()
    checks.append(
        make_check(
            "preprocessing",
            "standardization vs torchvision normalize",
            preprocess(images, standardize, dtype),
            TF.normalize(torch.from_numpy(images), channel_mean, channel_std).numpy(),
            dtype,
        )
    )

    padding = 2
    flips, shifts = draw_augmentation(n, rng, flip=True, padding=padding)
    ours = flip_and_shift(images, flips, shifts)
    theirs = []
    for image, flip, (dy, dx) in zip(torch.from_numpy(images), flips, shifts):
        image = TF.horizontal_flip(image) if flip else image
        padded = TF.pad(image, [padding] * 4, fill=0)
        theirs.append(TF.crop(padded, int(dy) + padding, int(dx) + padding, dims[1], dims[2]))
    checks.append(make_check("preprocessing", "flips + crops vs torchvision", ours, torch.stack(theirs).numpy(), dtype))
    torch_impl_crops = torch_impl.flip_and_shift(
        torch.from_numpy(images), torch.from_numpy(flips), torch.from_numpy(shifts), padding
    )
    checks.append(make_check("preprocessing", "flips + crops vs torch_impl", ours, torch_impl_crops.numpy(), dtype))
    return checks


def check_mixing(dtype: str = "float64", seed: int = 0, n: int = 6, dims: tuple = (3, 8, 8), c: int = 10):
    """MixUp and CutMix: the mixed images and label weights against torchvision.transforms.v2's MixUp and CutMix
    (whose partner of image i is image i - 1), and the mixed loss and gradients against cross-entropy with
    torchvision's soft targets by autograd, and against torch_impl's objective."""
    from torchvision.transforms import v2

    rng = np.random.default_rng(seed)
    images, y = rng.standard_normal((n, *dims)).astype(dtype), rng.integers(c, size=n)
    onehot = np.eye(c, dtype=dtype)[y]
    partners = np.roll(np.arange(n), 1)
    ours, theirs = twin_pair(int(np.prod(dims)), 20, c, dtype, seed, 0.1, 0.0, label_smoothing=LABEL_SMOOTHING)
    checks = []
    for name, transform in (("MixUp", v2.MixUp(alpha=0.4, num_classes=c)), ("CutMix", v2.CutMix(num_classes=c))):
        torch.manual_seed(seed)
        params = transform.make_params([torch.from_numpy(images)])
        torch.manual_seed(seed)  # the same draws again, inside the transform
        t_images, soft_targets = transform(torch.from_numpy(images), torch.from_numpy(onehot))
        if name == "MixUp":
            weight, box = params["lam"], None
        else:
            (left, top, right, bottom), weight = params["box"], params["lam_adjusted"]
            box = (top, bottom, left, right)
        mixed = mix_images(images.copy(), partners, weight, box)
        checks.append(make_check("mixing", f"{name} images vs torchvision", mixed, t_images.numpy(), dtype))
        target = weight * onehot + (1 - weight) * onehot[partners]
        checks.append(make_check("mixing", f"{name} label weights vs torchvision", target, soft_targets.numpy(), dtype))

        loss, grads = ours.loss(mixed, y, mix=(y[partners], weight))
        theirs.train()
        reference = F.cross_entropy(
            theirs(torch.from_numpy(mixed)), soft_targets, label_smoothing=LABEL_SMOOTHING
        )  # reg is 0: the loss is the cross-entropy alone
        t_grads = torch.autograd.grad(reference, [dict(theirs.named_parameters())[key] for key in LAYERS.values()])
        checks.append(
            make_check("mixing", f"{name} loss vs cross-entropy of the soft targets", loss, reference.item(), dtype)
        )
        t_grads = lab_params(dict(zip(LAYERS.values(), t_grads)))  # the lab's names and (in, out) layout
        checks += [
            make_check("mixing", f"{name} grad {param} vs autograd", grads[param], t_grads[param], dtype)
            for param in grads
        ]
        t_loss, _ = lab_loss(theirs, mixed, y, mix=(y[partners], weight))
        checks.append(make_check("mixing", f"{name} loss vs torch_impl's objective", loss, t_loss, dtype))
    return checks


def trajectory_data(dtype: str, seed: int, num_train: int = 200, dims: tuple = (3, 4, 4), c: int = 5):
    """A small learnable problem: labels from a random linear map of the inputs; 200 train and 50 val images."""
    rng = np.random.default_rng(seed)
    d = int(np.prod(dims))
    X = rng.standard_normal((num_train + 50, *dims)).astype(dtype)
    y = np.argmax(X.reshape(len(X), -1) @ rng.standard_normal((d, c)), axis=1)
    return {"X_train": X[:num_train], "y_train": y[:num_train], "X_val": X[num_train:], "y_val": y[num_train:]}


def train_twins(
    update_rule: str,
    dtype: str,
    seed: int,
    num_epochs: int = 10,
    batch_size: int = 20,
    lr_decay: float = 0.95,
    hidden: int = 20,
    learning_rate: float | None = None,
    label_smoothing: float = 0.0,
    weight_decay: float = 0.0,
    pca_components: int = 0,
    solvers=None,
    **solver_options,
) -> list[dict]:
    """Train numpy_impl's and torch_impl's Solvers, each with its own loop, from the same initial weights on the
    same batch stream -> per implementation: its histories, the parameters at every accuracy check, the final
    (best-validation) parameters.

    Accuracy is estimated on subsets (100 of 200 training images, 40 of 50 validation images), so the
    subsample draws are exercised too. ``solvers`` replaces the pair of Solver classes (the tests put a
    deliberately broken loop in one of them); solver_options (lr_schedule, warmup_epochs, augment) go to both.
    pca_components k > 0 gives both models the training images' top k principal directions as their projection.
    """
    data = trajectory_data(dtype, seed)
    d = int(np.prod(data["X_train"].shape[1:]))
    c = int(data["y_train"].max()) + 1
    optim_config = {"learning_rate": learning_rate or UPDATE_RULE_LRS[update_rule]}
    if weight_decay:
        optim_config["weight_decay"] = weight_decay
    numpy_solver, torch_solver = solvers or (numpy_impl.Solver, torch_impl.Solver)
    model_options = {"label_smoothing": label_smoothing}
    if pca_components:  # both nets see x P, P the training images' top principal directions (data, not code)
        model_options["projection"] = principal_directions(data["X_train"], pca_components)
        d = pca_components
    ours, theirs = twin_pair(d, hidden, c, dtype, seed, 0.1, 1e-3, **model_options)
    results = []
    twins = ((numpy_solver, ours, lambda m: dict(m.params)), (torch_solver, theirs, lab_params))
    for solver_class, model, params in twins:
        at_checks = []

        def snapshot(solver, at_checks=at_checks, model=model, params=params):
            at_checks.append({name: value.copy() for name, value in params(model).items()})

        solver = solver_class(
            model,
            data,
            update_rule=update_rule,
            lr_decay=lr_decay,
            batch_size=batch_size,
            num_epochs=num_epochs,
            optim_config=dict(optim_config),
            verbose=False,
            seed=seed,
            num_train_samples=100,
            num_val_samples=40,
            on_epoch=snapshot,
            **solver_options,
        )
        solver.train()
        results.append(
            {
                "loss": solver.loss_history,
                "lr": solver.lr_history,
                "train_acc": solver.train_acc_history,
                "val_acc": solver.val_acc_history,
                "checked_at": solver.accuracy_iterations,
                "best_val_acc": solver.best_val_acc,
                "at_checks": at_checks,
                "final": params(model),
            }
        )
    return results


def compare_runs(label: str, ours: dict, theirs: dict, dtype: str) -> list[Check]:
    """Step by step: losses, learning rates, the iterations of the accuracy checks, accuracies, parameters at every
    check, the best validation accuracy and the parameters restored at the end."""
    steps, checks_made = len(ours["loss"]), len(ours["at_checks"])
    if len(theirs["loss"]) != steps or len(theirs["at_checks"]) != checks_made:
        return [
            Check("trajectory", f"{label}: number of updates and accuracy checks", dtype, (2,), math.inf, math.inf, 0.0)
        ]
    rows = [
        make_check(
            "trajectory", f"{label}: loss at every update ({steps})", ours["loss"], theirs["loss"], dtype, "trajectory"
        ),
        make_check(
            "trajectory", f"{label}: learning rate of every update", ours["lr"], theirs["lr"], dtype, "trajectory"
        ),
        make_check(
            "trajectory",
            f"{label}: iteration of every accuracy check",
            ours["checked_at"],
            theirs["checked_at"],
            dtype,
            "exact",
        ),
        make_check(
            "trajectory",
            f"{label}: train and val accuracy at every check",
            ours["train_acc"] + ours["val_acc"],
            theirs["train_acc"] + theirs["val_acc"],
            dtype,
            "exact",
        ),
        make_check(
            "trajectory", f"{label}: best val accuracy", ours["best_val_acc"], theirs["best_val_acc"], dtype, "exact"
        ),
    ]
    for name in ours["final"]:
        at_checks = [np.stack([params[name] for params in run["at_checks"]]) for run in (ours, theirs)]
        rows.append(
            make_check("trajectory", f"{label}: {name} at every check ({checks_made})", *at_checks, dtype, "trajectory")
        )
        rows.append(
            make_check(
                "trajectory",
                f"{label}: best-validation {name} restored",
                ours["final"][name],
                theirs["final"][name],
                dtype,
                "trajectory",
            )
        )
    return rows


# The recipe's training setup, small: Nesterov, warm-up + cosine, flips and crops, label smoothing.
RECIPE_RUN = {
    "update_rule": "sgd_nesterov",
    "lr_schedule": "cosine",
    "warmup_epochs": 1.0,
    "augment": {"flip": True, "padding": 1},
    "label_smoothing": LABEL_SMOOTHING,
}
TRAJECTORIES = {
    **{f"{rule} (lab decay 0.95)": {"update_rule": rule} for rule in UPDATE_RULES},
    "recipe (nesterov, warm-up + cosine, flips + crops, label smoothing)": RECIPE_RUN,
    "recipe, inputs projected onto their top 12 of 48 principal directions": {**RECIPE_RUN, "pca_components": 12},
    "recipe with MixUp (alpha 0.4)": {
        **RECIPE_RUN,
        "augment": {**RECIPE_RUN["augment"], "mix": "mixup", "mix_alpha": 0.4},
    },
    "recipe with CutMix (alpha 1)": {**RECIPE_RUN, "augment": {**RECIPE_RUN["augment"], "mix": "cutmix"}},
    "momentum, weights averaged (EMA 0.9) for checks, the best choice and the restore": {
        "update_rule": "sgd_momentum",
        "ema_decay": 0.9,
    },
    "adam, decoupled weight decay, cosine": {
        "update_rule": "adam",
        "lr_schedule": "cosine",
        "weight_decay": WEIGHT_DECAY,
    },
    "momentum, batch 30 (6 updates per epoch, 20 images unused), 2.5 warm-up epochs": {
        "update_rule": "sgd_momentum",
        "batch_size": 30,
        "lr_schedule": "cosine",
        "warmup_epochs": 2.5,
    },
    "momentum, one update per epoch (batch 256 > 200 images), decay 0.8": {
        "update_rule": "sgd_momentum",
        "batch_size": 256,
        "lr_decay": 0.8,
        "learning_rate": 0.2,
    },
}


def check_trajectories(dtype: str = "float64", seed: int = 0, solvers=None) -> list[Check]:
    """Both Solvers' independent loops, trained on the same batch stream, agree update by update: each update rule
    under the lab's decay, the recipe's setup, decoupled weight decay under cosine, and uneven epoch sizes."""
    checks = []
    for label, options in TRAJECTORIES.items():
        ours, theirs = train_twins(dtype=dtype, seed=seed, solvers=solvers, **options)
        checks += compare_runs(label, ours, theirs, dtype)
    return checks


ALL_CHECKS = (
    check_layers,
    check_model,
    check_model_extras,
    check_projection,
    check_update_rules,
    check_preprocessing,
    check_mixing,
    check_trajectories,
)


def run_all(dtypes=("float64", "float32"), seed: int = 0) -> list[Check]:
    """Every check in every dtype."""
    return [check for dtype in dtypes for fn in ALL_CHECKS for check in fn(dtype, seed)]
