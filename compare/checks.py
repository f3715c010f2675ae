"""Every agreement check of the NumPy code: the lab (numpy_impl, the oracle) and the recipe engine (numpy_recipe)
against torch_impl and torch autograd, and the engine against the oracle, as functions returning Checks.

Each function takes a dtype ("float32" or "float64"), a seed and sizes, builds the same
inputs for both sides, and returns a list of Check rows (see compare/metrics.py). The
implementations share data, not code: the same initial weights (common.init) and the same
batch stream (common.batches); each trains with its own loop.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

import numpy_impl
import numpy_recipe
import torch_impl
from common.batches import draw_augmentation
from common.choices import LAB_UPDATE_RULES, UPDATE_RULES
from common.init import initial_params
from common.preprocess import fit_preprocessing, preprocess, principal_directions, zca_whitening_matrix
from compare.adapter import lab_loss, lab_params, leaf, torch_state
from compare.metrics import Check, make_check
from numpy_impl.layer_utils import affine_relu_backward, affine_relu_forward
from numpy_impl.layers import affine_backward, affine_forward, relu_backward, relu_forward, softmax_loss, svm_loss
from numpy_recipe.augment import flip_and_shift
from numpy_recipe.model import smoothed_softmax_loss

UPDATE_RULE_LRS = {"sgd": 1e-1, "sgd_momentum": 5e-2, "sgd_nesterov": 5e-2, "rmsprop": 1e-3, "adam": 1e-3}
LABEL_SMOOTHING, WEIGHT_DECAY = 0.1, 0.05
ENGINE_VS_ORACLE = "engine vs oracle"


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
    grads["softmax_loss, label smoothing (engine)"] = {"loss": loss.detach(), "dx": ts.grad}

    # torch's multi_margin_loss averages the hinge over the C classes too; the lab's sums over them.
    ts = leaf(scores)
    (scores.shape[1] * F.multi_margin_loss(ts, ty, margin=1.0)).backward()
    grads["svm_loss"] = {"dx": ts.grad}

    tw = leaf(w)
    (0.5 * reg * tw.square().sum()).backward()
    grads["l2"] = {"dW": tw.grad}
    return {layer: {k: v.numpy() for k, v in g.items()} for layer, g in grads.items()}


def numpy_layers(x, w, b, dout, scores, y, reg: float) -> dict[str, dict[str, np.ndarray]]:
    """The same gradients from numpy_impl's hand-written backward functions (label smoothing: numpy_recipe's)."""
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
        "softmax_loss, label smoothing (engine)": dict(
            zip(("loss", "dx"), smoothed_softmax_loss(scores, y, LABEL_SMOOTHING))
        ),
        "svm_loss": {"dx": svm_loss(scores, y)[1]},
        "l2": {"dW": reg * w},
    }


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
    """Each hand-written backward (affine, ReLU, affine-ReLU, softmax with and without label smoothing, SVM, L2)
    against torch autograd."""
    inputs = layer_inputs(dtype, seed, **sizes)
    ours, theirs = numpy_layers(*inputs), autograd_layers(*inputs)
    return [
        make_check("layer vs autograd", f"{layer}: {name}", ours[layer][name], theirs[layer][name], dtype)
        for layer in ours
        for name in ours[layer]
    ]


def twin_pair(
    d: int, hidden: int, c: int, dtype: str, seed: int, weight_scale: float, reg: float, engine: bool = False, **options
):
    """A NumPy and a torch net (D=d, H=hidden, C=c) starting from the same weights: common.init's draws for the seed.

    The NumPy net is the oracle's TwoLayerNet (which draws them itself), or with ``engine`` numpy_recipe's RecipeNet
    loaded with them. options (label_smoothing, projection (d', d): then the nets see x P) need the engine.
    """
    init = initial_params(d, hidden, c, weight_scale, dtype, seed)
    if engine:
        ours = numpy_recipe.RecipeNet(init, reg=reg, **options)
    elif options:
        raise ValueError(f"the lab's TwoLayerNet takes none of {', '.join(options)}; pass engine=True")
    else:
        ours = numpy_impl.TwoLayerNet(d, hidden, c, weight_scale=weight_scale, reg=reg, dtype=dtype, seed=seed)
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
    """A NumPy and a torch net from the same initial weights (see twin_pair), and a batch X (n, *dims), y (n,)."""
    ours, theirs = twin_pair(int(np.prod(dims)), hidden, c, dtype, seed, weight_scale, reg, **options)
    rng = np.random.default_rng(seed + 1)
    X = rng.standard_normal((n, *dims)).astype(dtype)
    y = rng.integers(c, size=n)
    return ours, theirs, X, y


def check_model(dtype: str = "float64", seed: int = 0, **sizes) -> list[Check]:
    """The lab's TwoLayerNet: its own initial draws, then scores, loss and the four gradients."""
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


def check_engine_model(dtype: str = "float64", seed: int = 0) -> list[Check]:
    """The engine's RecipeNet: scores, loss and gradients equal to the oracle's TwoLayerNet on the same weights, and
    with label smoothing equal to torch_impl's (autograd)."""
    oracle, _, X, y = twin_models(dtype, seed)
    engine, _ = twin_pair(X[0].size, 20, 10, dtype, seed, 0.1, 0.1, engine=True)
    checks = [make_check(ENGINE_VS_ORACLE, "model scores", engine.loss(X), oracle.loss(X), dtype)]
    (loss, grads), (o_loss, o_grads) = engine.loss(X, y), oracle.loss(X, y)
    checks.append(make_check(ENGINE_VS_ORACLE, "model loss", loss, o_loss, dtype))
    checks += [make_check(ENGINE_VS_ORACLE, f"model grad {name}", grads[name], o_grads[name], dtype) for name in grads]
    engine, theirs, X, y = twin_models(dtype, seed, engine=True, label_smoothing=LABEL_SMOOTHING)
    (loss, grads), (t_loss, t_grads) = engine.loss(X, y), lab_loss(theirs, X, y)
    checks.append(make_check("engine model", "loss (label smoothing)", loss, t_loss, dtype))
    return checks + [
        make_check("engine model", f"grad {name} (label smoothing)", grads[name], t_grads[name], dtype)
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
    ours, theirs = twin_pair(k, 20, 10, dtype, seed, 0.1, 0.1, engine=True, projection=projection)
    y = rng.integers(10, size=n)
    checks.append(make_check("projection", "scores of x P", ours.loss(X), lab_loss(theirs, X), dtype))
    (loss, grads), (t_loss, t_grads) = ours.loss(X, y), lab_loss(theirs, X, y)
    checks.append(make_check("projection", "loss of x P", loss, t_loss, dtype))
    checks += [
        make_check("projection", f"grad {name} (W1 is (k, H))", grads[name], t_grads[name], dtype) for name in grads
    ]
    folded = numpy_recipe.RecipeNet(ours.folded_params())
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
    """A few steps of each update rule on the same w and dws: the lab's four (numpy_impl.optim) against the torch
    optimizer and against the engine's (numpy_recipe.optim); every engine rule, and adam with decoupled weight
    decay, against the torch optimizer."""
    rng = np.random.default_rng(seed)
    w0 = rng.standard_normal((4, 5)).astype(dtype)
    dws = [rng.standard_normal((4, 5)).astype(dtype) for _ in range(steps)]

    def run(rule, config: dict) -> np.ndarray:
        w, config = w0.copy(), dict(config)
        for dw in dws:
            w, config = rule(w, dw, config)
        return w

    def run_torch(rule_name: str, config: dict) -> np.ndarray:
        w = torch.tensor(w0)
        optimizer = torch_impl.make_optimizer(rule_name, [w], config)
        for dw in dws:
            w.grad = torch.from_numpy(dw)
            optimizer.step()
        return w.numpy()

    checks = []
    for rule_name in LAB_UPDATE_RULES:
        config = {"learning_rate": UPDATE_RULE_LRS[rule_name]}
        lab = run(getattr(numpy_impl.optim, rule_name), config)
        checks.append(
            make_check("update rule", f"{rule_name} (lab): {steps} steps", lab, run_torch(rule_name, config), dtype)
        )
        engine = run(numpy_recipe.optim.RULES[rule_name], config)
        checks.append(make_check(ENGINE_VS_ORACLE, f"update rule {rule_name}: {steps} steps", engine, lab, dtype))
    for rule_name in UPDATE_RULES:
        for decay in (0.0, WEIGHT_DECAY) if rule_name == "adam" else (0.0,):
            config = {"learning_rate": UPDATE_RULE_LRS[rule_name], **({"weight_decay": decay} if decay else {})}
            engine = run(numpy_recipe.optim.RULES[rule_name], config)
            label = f"{rule_name} (engine){f', weight decay {decay:g}' if decay else ''}: {steps} steps"
            checks.append(make_check("update rule", label, engine, run_torch(rule_name, config), dtype))
    return checks


def check_engine_kernels(dtype: str = "float64", seed: int = 0, n: int = 37, hidden: int = 300) -> list[Check]:
    """Each of the engine's compiled loops (numpy_recipe.kernels) against the plain formula it replaces: the lab's
    relu_forward, relu_backward and update rules, torch's SGD (Nesterov) and AdamW, and torchvision's flips and crops
    of the gathered rows."""
    import torchvision.transforms.v2.functional as TF

    rng = np.random.default_rng(seed)
    a, bias, dout = (rng.standard_normal(shape).astype(dtype) for shape in ((n, hidden), (hidden,), (n, hidden)))
    a[0, :5] = -bias[:5]  # exact zeros at the kink: the ReLU and its mask take 0 there
    lab_hidden, relu_cache = relu_forward(a + bias)
    lab_dhidden = relu_backward(dout, relu_cache)
    relu_out, dmasked, dbias = a.copy(), dout.copy(), np.empty_like(bias)
    numpy_recipe.kernels.add_bias_relu(relu_out, bias)
    numpy_recipe.kernels.relu_backward_bias_grad(dmasked, relu_out, dbias)
    group = "engine kernel"
    checks = [
        make_check(group, "fused bias + ReLU vs the lab's relu_forward(a + b)", relu_out, lab_hidden, dtype),
        make_check(group, "fused ReLU backward vs the lab's relu_backward", dmasked, lab_dhidden, dtype),
        make_check(group, "its bias gradient vs the sum of the lab's", dbias, lab_dhidden.sum(axis=0), dtype),
    ]

    w0 = rng.standard_normal((n, hidden)).astype(dtype)
    dws = [rng.standard_normal((n, hidden)).astype(dtype) for _ in range(3)]
    lr = UPDATE_RULE_LRS["adam"]
    engine_w, engine_config = w0.copy(), {"learning_rate": lr, "weight_decay": WEIGHT_DECAY}
    lab_w, lab_config = w0.copy(), {"learning_rate": lr}
    torch_w = torch.tensor(w0)
    optimizer = torch_impl.make_optimizer("adam", [torch_w], dict(engine_config))
    for dw in dws:
        engine_w, engine_config = numpy_recipe.optim.adam(engine_w, dw, engine_config)
        lab_w, lab_config = numpy_impl.optim.adam(lab_w * (1 - lr * WEIGHT_DECAY), dw, lab_config)
        torch_w.grad = torch.from_numpy(dw)
        optimizer.step()
    label = f"one-pass AdamW, {w0.size:,} weights, 3 steps"
    checks.append(make_check(group, f"{label} vs the lab's adam after w *= 1 - lr wd", engine_w, lab_w, dtype))
    checks.append(make_check(group, f"{label} vs torch's AdamW", engine_w, torch_w.numpy(), dtype))

    lr = UPDATE_RULE_LRS["sgd_nesterov"]
    engine_w, config = w0.copy(), {"learning_rate": lr}
    torch_w = torch.tensor(w0)
    optimizer = torch_impl.make_optimizer("sgd_nesterov", [torch_w], dict(config))
    for dw in dws:
        engine_w, config = numpy_recipe.optim.sgd_nesterov(engine_w, dw, config)
        torch_w.grad = torch.from_numpy(dw)
        optimizer.step()
    label = f"one-pass Nesterov, {w0.size:,} weights, 3 steps vs torch's SGD(nesterov=True)"
    checks.append(make_check(group, label, engine_w, torch_w.numpy(), dtype))

    padding, dims = 3, (3, 7, 6)
    images = rng.standard_normal((2 * n, *dims)).astype(dtype)
    rows = rng.integers(len(images), size=n)
    flips, shifts = draw_augmentation(n, rng, flip=True, padding=padding)
    ours = flip_and_shift(images, flips, shifts, rows=rows)
    theirs = []
    for image, flip, (dy, dx) in zip(torch.from_numpy(images[rows]), flips, shifts):
        image = TF.horizontal_flip(image) if flip else image
        padded = TF.pad(image, [padding] * 4, fill=0)
        theirs.append(TF.crop(padded, int(dy) + padding, int(dx) + padding, dims[1], dims[2]))
    checks.append(
        make_check(group, "gather + flips + crops in one pass vs torchvision", ours, torch.stack(theirs).numpy(), dtype)
    )
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
    t_images = torch.from_numpy(images)
    scratch = t_images.new_zeros(n // 2, dims[0], dims[1] + 2 * padding, dims[2] + 2 * padding)
    for turn in (1, 2):  # the Solver's kept padded buffer: the second batch must find its border still 0
        rows = rng.integers(n, size=n // 2)
        flips, shifts = draw_augmentation(n // 2, rng, flip=True, padding=padding)
        torch_impl_batch = torch_impl.flip_and_shift(
            t_images, torch.from_numpy(flips), torch.from_numpy(shifts), padding, torch.from_numpy(rows), scratch
        )
        label = f"rows gathered into a kept padded buffer + flips + crops, batch {turn}, vs torch_impl"
        ours = flip_and_shift(images, flips, shifts, rows=rows)
        checks.append(make_check("preprocessing", label, ours, torch_impl_batch.numpy(), dtype))
    return checks


def trajectory_data(dtype: str, seed: int, num_train: int = 200, dims: tuple = (3, 4, 4), c: int = 5):
    """A small learnable problem: labels from a random linear map of the inputs; 200 train and 50 val images."""
    rng = np.random.default_rng(seed)
    d = int(np.prod(dims))
    X = rng.standard_normal((num_train + 50, *dims)).astype(dtype)
    y = np.argmax(X.reshape(len(X), -1) @ rng.standard_normal((d, c)), axis=1)
    return {"X_train": X[:num_train], "y_train": y[:num_train], "X_val": X[num_train:], "y_val": y[num_train:]}


ENGINE_OPTIONS = ("lr_schedule", "warmup_epochs", "augment")  # Solver arguments the lab's Solver does not take


def recording(solver_class):
    """solver_class (numpy_impl.Solver or a subclass), noting the learning rate of every update, and the iteration
    and parameters at every accuracy check: what torch_impl's Solver keeps in lr_history, accuracy_iterations and
    its on_epoch hook."""

    class Recording(solver_class):
        def _reset(self):
            super()._reset()
            self.rates, self.checked_at, self.at_checks = [], [], []

        def _step(self):
            super()._step()
            self.rates.append(float(next(iter(self.optim_configs.values()))["learning_rate"]))

        def _save_checkpoint(self):
            self.checked_at.append(self.iteration)
            self.at_checks.append({name: value.copy() for name, value in self.model.params.items()})
            super()._save_checkpoint()

    return Recording


def train_run(solver_class, model, params, data: dict, **options) -> dict:
    """Train model with solver_class -> its histories, the parameters at every accuracy check and at the end."""
    if issubclass(solver_class, numpy_impl.Solver):
        solver = recording(solver_class)(model, data, **options)
        solver.train()
        rates, checked_at, at_checks = solver.rates, solver.checked_at, solver.at_checks
    else:
        at_checks = []
        solver = solver_class(model, data, on_epoch=lambda s: at_checks.append(params(model)), **options)
        solver.train()
        rates, checked_at = solver.lr_history, solver.accuracy_iterations
    return {
        "loss": solver.loss_history,
        "lr": rates,
        "train_acc": solver.train_acc_history,
        "val_acc": solver.val_acc_history,
        "checked_at": checked_at,
        "best_val_acc": solver.best_val_acc,
        "at_checks": at_checks,
        "final": params(model),
    }


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
    """Train two Solvers, each with its own loop, from the same initial weights on the same batch stream -> per
    Solver: its histories, the parameters at every accuracy check, the final (best-validation) parameters.

    ``solvers`` is the pair of Solver classes: by default the oracle's (numpy_impl's, on its TwoLayerNet) against
    torch_impl's, or numpy_recipe's (on a RecipeNet) when the run needs the engine (Nesterov, a cosine schedule,
    augmentation, label smoothing, weight decay, a projection); (numpy_recipe.Solver, numpy_impl.Solver) checks
    the engine against the oracle. The tests put a deliberately broken loop in one of them.
    Accuracy is estimated on subsets (100 of 200 training images, 40 of 50 validation images), so the
    subsample draws are exercised too. pca_components k > 0 gives the nets the training images' top k principal
    directions as their projection.
    """
    data = trajectory_data(dtype, seed)
    d = int(np.prod(data["X_train"].shape[1:]))
    c = int(data["y_train"].max()) + 1
    optim_config = {"learning_rate": learning_rate or UPDATE_RULE_LRS[update_rule]}
    if weight_decay:
        optim_config["weight_decay"] = weight_decay
    model_options = {"label_smoothing": label_smoothing} if label_smoothing else {}
    if pca_components:  # the nets see x P, P the training images' top principal directions (data, not code)
        model_options["projection"] = principal_directions(data["X_train"], pca_components)
        d = pca_components
    needs_engine = bool(
        model_options
        or weight_decay
        or update_rule not in LAB_UPDATE_RULES
        or set(solver_options) & set(ENGINE_OPTIONS)
    )
    if solvers is None:
        solvers = (numpy_recipe.Solver if needs_engine else numpy_impl.Solver, torch_impl.Solver)
    options = {
        "update_rule": update_rule,
        "lr_decay": lr_decay,
        "batch_size": batch_size,
        "num_epochs": num_epochs,
        "verbose": False,
        "seed": seed,
        "num_train_samples": 100,
        "num_val_samples": 40,
        **solver_options,
    }
    results = []
    for solver_class in solvers:
        if issubclass(solver_class, numpy_impl.Solver):
            engine = issubclass(solver_class, numpy_recipe.Solver)
            model, _ = twin_pair(d, hidden, c, dtype, seed, 0.1, 1e-3, engine=engine, **model_options)
            params = lambda m: {name: value.copy() for name, value in m.params.items()}  # noqa: E731
        else:
            _, model = twin_pair(d, hidden, c, dtype, seed, 0.1, 1e-3, engine=True, **model_options)
            params = lab_params
        results.append(train_run(solver_class, model, params, data, optim_config=dict(optim_config), **options))
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
    """The NumPy Solvers' and torch_impl's independent loops, trained on the same batch stream, agree update by
    update: each update rule under the lab's decay (the lab's four on the oracle), the recipe's setup, decoupled
    weight decay under cosine, and uneven epoch sizes; and the engine's Solver agrees with the oracle's."""
    checks = []
    for label, options in TRAJECTORIES.items():
        ours, theirs = train_twins(dtype=dtype, seed=seed, solvers=solvers, **options)
        checks += compare_runs(label, ours, theirs, dtype)
    if solvers is None:
        for rule in LAB_UPDATE_RULES:
            engine, oracle = train_twins(rule, dtype, seed, solvers=(numpy_recipe.Solver, numpy_impl.Solver))
            checks += compare_runs(f"{ENGINE_VS_ORACLE}: {rule} (lab decay 0.95)", engine, oracle, dtype)
    return checks


ALL_CHECKS = (
    check_layers,
    check_model,
    check_engine_model,
    check_projection,
    check_update_rules,
    check_engine_kernels,
    check_preprocessing,
    check_trajectories,
)


def run_all(dtypes=("float64", "float32"), seed: int = 0) -> list[Check]:
    """Every check in every dtype."""
    return [check for dtype in dtypes for fn in ALL_CHECKS for check in fn(dtype, seed)]
