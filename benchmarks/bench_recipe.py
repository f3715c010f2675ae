"""Benchmark: what the recipe's extras cost, next to the training step they feed (numpy vs torch).

    python benchmarks/bench_recipe.py [--repeats 5] [--data-dir DIR] [--out benchmarks/recipe_results.json]

On the real training split (49,000 images) it measures: fitting and applying each
preprocessing (mean image, per-channel standardization, ZCA with epsilon 0.1) and the projection
onto the top k principal directions; applying one batch stream draw of flips and crops (4-pixel
padding) to 512 images, with each implementation's own code (NumPy slicing, torch indexing); and
one training update of the network of `--recipe best` (v3: AdamW) and of `--recipe v2` (Nesterov, L2),
both projection k, H, batch 512, label smoothing, in each implementation's Solver, against the time that
implementation's own library needs for the update's matrix products (the ratio is the step's
overhead: 1.00 would be pure matrix products). Then v3's step taken apart, on one fixed batch: the
model's step without the Solver and its batches (forward, loss, backward, update), its update
(timed inside it), and the hidden layer's four elementwise passes alone (bias add, ReLU, ReLU backward, bias
gradient), each as the implementation computes them; 1 + (update + passes) / products is the ratio
that a Solver and batches costing nothing would leave. Every time is paired with the products timed
in turn with it (after each Solver update, or alternately), so that a shared machine that changes
speed mid-run moves both sides of a ratio alike. Medians of the repeats are reported.
The results (benchmarks/recipe_results.json) render the speed tables of docs/performance.md
(python docs/samples.py).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy_recipe  # noqa: E402
import torch_impl  # noqa: E402
from common.artifacts import save_json  # noqa: E402
from common.batches import Augmentation, BatchStream  # noqa: E402
from common.cifar10 import load_raw_cifar10  # noqa: E402
from common.config import RECIPES, Config  # noqa: E402
from common.init import initial_params  # noqa: E402
from common.preprocess import PREPROCESSINGS, fit_preprocessing, preprocess, principal_directions  # noqa: E402
from common.runtime import retain_freed_memory  # noqa: E402
from numpy_recipe.augment import flip_and_shift  # noqa: E402

NUM_TRAIN, PADDING = 49_000, 4
BATCH, HIDDEN, COMPONENTS = (RECIPES["best"][key] for key in ("batch_size", "hidden_size", "pca_components"))


def median_seconds(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def paired_seconds(fn, products, repeats: int) -> dict:
    """fn and the products (update_products) timed in turn, repeats times after a warm-up of each: medians
    {"seconds", "products_seconds"}. Paired, so that a machine that speeds up or slows down mid-run moves both
    figures of a ratio alike."""
    fn()
    products()
    times: dict = {"seconds": [], "products_seconds": []}
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times["seconds"].append(time.perf_counter() - start)
        products()
        times["products_seconds"].append(products.seconds)
    return {key: statistics.median(values) for key, values in times.items()}


def recipe_model(impl, config: Config, projection: np.ndarray):
    """The recipe's network (k inputs through the projection, H hidden units, float32, seed 0) in impl."""
    init = initial_params(COMPONENTS, HIDDEN, 10, config.weight_scale, np.float32, 0)
    if impl is numpy_recipe:
        return numpy_recipe.RecipeNet(init, config.reg, config.label_smoothing, projection)
    from experiment.models import model_from_params

    return model_from_params(
        "torch", init, reg=config.reg, label_smoothing=config.label_smoothing, projection=torch.from_numpy(projection)
    )


def update_products(impl) -> Callable[[], None]:
    """A callable that runs one update's matrix products twice and keeps the second run's seconds in its
    ``seconds`` attribute (operands in cache, as a loop of products has them). The products are those at the
    recipe's shapes, in impl's own library and weight layout (NumPy (in, out) with np.matmul, torch nn.Linear's
    (out, in)): the projection X P, the first layer's scores and weight gradient, the second layer's scores,
    weight gradient and hidden-layer gradient."""
    rng = np.random.default_rng(0)
    shapes = ((BATCH, 3072), (3072, COMPONENTS), (BATCH, COMPONENTS), (BATCH, HIDDEN), (BATCH, 10))
    X, P, Xp, h, ds = (rng.standard_normal(shape).astype(np.float32) for shape in shapes)
    if impl is numpy_recipe:
        W1, W2 = (
            rng.standard_normal((COMPONENTS, HIDDEN), dtype=np.float32),
            rng.standard_normal((HIDDEN, 10), dtype=np.float32),
        )
        products = (
            lambda: X @ P,
            lambda: Xp @ W1,
            lambda: Xp.T @ h,
            lambda: h @ W2,
            lambda: h.T @ ds,
            lambda: ds @ W2.T,
        )
    else:
        X, P, Xp, h, ds = (torch.from_numpy(a) for a in (X, P, Xp, h, ds))
        W1, W2 = torch.randn(HIDDEN, COMPONENTS), torch.randn(10, HIDDEN)
        products = (
            lambda: X @ P,
            lambda: Xp @ W1.T,
            lambda: h.T @ Xp,
            lambda: h @ W2.T,
            lambda: ds.T @ h,
            lambda: ds @ W2,
        )

    def run() -> None:
        for product in products:
            product()

    def warm_run() -> None:  # run once untimed first, so the figure is the library's with its operands in cache
        run()
        started = time.perf_counter()
        run()
        warm_run.seconds = time.perf_counter() - started

    return warm_run


def step_parts_seconds(impl, X: np.ndarray, y: np.ndarray, projection: np.ndarray, repeats: int) -> dict:
    """v3's step taken apart on one fixed batch of X (N, 3, 32, 32), each part a paired measurement (paired_seconds):
    the model step (no Solver, no batch pipeline) and, timed inside it, its update (after the backward pass, as in
    training); and the hidden layer's elementwise passes alone (bias add, ReLU, ReLU backward, bias gradient on
    (batch, H)), as the implementation computes them."""
    config = Config(**RECIPES["best"])
    options = config.solver_options()
    model = recipe_model(impl, config, projection)
    rng = np.random.default_rng(1)
    hidden = rng.standard_normal((BATCH, HIDDEN), dtype=np.float32)
    upstream = rng.standard_normal((BATCH, HIDDEN), dtype=np.float32)
    if impl is numpy_recipe:
        X, y = X[:BATCH], y[:BATCH]
        rule = numpy_recipe.optim.RULES[options["update_rule"]]
        configs = {name: dict(options["optim_config"]) for name in model.params}

        def forward_backward() -> dict:
            return model.loss(X, y)[1]

        def update(grads: dict) -> None:
            for name, w in model.params.items():
                rule(w, grads[name], configs[name])

        b1 = model.params["b1"]

        def passes() -> None:  # as numpy_recipe.RecipeNet.loss does them
            np.add(hidden, b1, out=hidden)
            np.maximum(hidden, 0, out=hidden)
            np.multiply(upstream, hidden > 0, out=upstream)
            upstream.sum(axis=0)

    else:
        X, y = torch.from_numpy(X[:BATCH]), torch.from_numpy(y[:BATCH]).long()
        optimizer = torch_impl.make_optimizer(
            options["update_rule"],
            model.parameters(),
            options["optim_config"],
            options["lr_decay"],
            options["lr_schedule"],
        )

        def forward_backward() -> None:
            loss = model.objective(model(X), y)
            optimizer.zero_grad()
            loss.backward()

        def update(_) -> None:
            optimizer.step()

        t_hidden, t_upstream, b1 = torch.from_numpy(hidden), torch.from_numpy(upstream), model.fc1.bias.detach()

        def passes() -> None:  # the bias nn.Linear adds, nn.ReLU(inplace=True) and the backward autograd runs for them
            t_hidden.add_(b1)
            t_hidden.relu_()
            torch.ops.aten.threshold_backward(t_upstream, t_hidden, 0)
            t_upstream.sum(dim=0)

    products = update_products(impl)
    times: dict = {"model_step": [], "update": [], "products_seconds": []}
    for repeat in range(4 * repeats + 1):  # the first is a warm-up: buffers, the optimizer's state
        started = time.perf_counter()
        gradients = forward_backward()
        backward_done = time.perf_counter()
        update(gradients)
        updated = time.perf_counter()
        products()
        if repeat:
            times["model_step"].append(updated - started)
            times["update"].append(updated - backward_done)
            times["products_seconds"].append(products.seconds)
    products_seconds = statistics.median(times.pop("products_seconds"))
    return {
        **{name: {"seconds": statistics.median(t), "products_seconds": products_seconds} for name, t in times.items()},
        "hidden_passes": paired_seconds(passes, products, 4 * repeats),
    }


def step_seconds(
    impl, X: np.ndarray, y: np.ndarray, projection: np.ndarray, recipe: str, repeats: int, augment: bool = True
) -> dict:
    """One Solver update of a recipe's network (its update rule, rate, weight decay, L2 and label smoothing), with
    the recipe's flips and crops or (augment=False) without, paired with the products: after every update the
    on_iteration callback runs one update's products, timed apart from the steps. One epoch of repeats + 2
    updates; the first two are left out (buffers, the first accuracy check). {"seconds", "products_seconds"}."""
    config = Config(**RECIPES[recipe])
    options = config.solver_options()  # update rule and optim_config (rate, weight decay) as train.py builds them
    rows = BATCH * (repeats + 2)
    data = {"X_train": X[:rows], "y_train": y[:rows], "X_val": X[:BATCH], "y_val": y[:BATCH]}
    model = recipe_model(impl, config, projection)
    products = update_products(impl)
    times: dict = {"seconds": [], "products_seconds": []}
    step_started = [time.perf_counter()]

    def between_steps(_) -> None:
        times["seconds"].append(time.perf_counter() - step_started[0])
        products()
        times["products_seconds"].append(products.seconds)
        step_started[0] = time.perf_counter()

    solver = impl.Solver(
        model,
        data,
        update_rule=options["update_rule"],
        optim_config=options["optim_config"],
        augment={"flip": True, "padding": PADDING} if augment else None,
        batch_size=BATCH,
        num_epochs=1,
        verbose=False,
        seed=0,
        on_iteration=between_steps,
    )
    solver.train()
    return {key: statistics.median(values[2:]) for key, values in times.items()}


def ratio(measured: dict) -> float:
    """seconds / products_seconds of a paired measurement."""
    return measured["seconds"] / measured["products_seconds"]


def extras_table(results: dict) -> str:
    """What the recipe's preprocessing, projection and augmentation cost: markdown, from a results dict."""
    lines = [
        f"| preprocessing of the {NUM_TRAIN:,} training images | fit | apply, float32 |",
        "|---|---|---|",
        *(
            f"| {kind} | {times['fit_seconds']:.2f} s | {times['apply_seconds']:.2f} s |"
            for kind, times in results["preprocessing"].items()
        ),
        f"| projection onto the top {results['shape']['pca_components']} principal directions of the ZCA images | "
        f"{results['projection_seconds']:.2f} s | |",
        "",
        f"| flips and crops (padding {PADDING}) of a batch of {results['shape']['batch']} | "
        + " | ".join(results["augment_batch_seconds"])
        + " |",
        "|---|" + "---|" * len(results["augment_batch_seconds"]),
        "| ms (share of v3's Solver step) | "
        + " | ".join(
            f"{1e3 * seconds:.2f} ({100 * results['augment_share'][impl]:.1f}%)"
            for impl, seconds in results["augment_batch_seconds"].items()
        )
        + " |",
    ]
    return "\n".join(lines)


def speed_table(results: dict) -> str:
    """The recipe's step against its matrix products, then v3's step taken apart: markdown, from a results dict."""
    steps, unaugmented, parts, shape = (
        results[key] for key in ("step_seconds", "step_without_augmentation_seconds", "step_parts_seconds", "shape")
    )
    names = {"best": f"v3 (`--recipe best`, {RECIPES['best']['update_rule']})", "v2": "v2 (Nesterov, L2)"}
    lines = [
        f"| recipe | implementation | the Solver's step (k = {shape['pca_components']}, H = {shape['hidden']}, "
        f"batch {shape['batch']}) | its matrix products | step / products | without flips and crops: step "
        "(/ products) |",
        "|---|---|---|---|---|---|",
    ]
    for recipe, by_impl in steps.items():
        for impl, measured in by_impl.items():
            plain = unaugmented[impl]
            without = f"{1e3 * plain['seconds']:.1f} ms ({ratio(plain):.2f})" if recipe == "best" else ""
            lines.append(
                f"| {names.get(recipe, recipe)} | {impl} | {1e3 * measured['seconds']:.1f} ms | "
                f"{1e3 * measured['products_seconds']:.1f} ms | **{ratio(measured):.2f}** | {without} |"
            )
    lines += [
        "",
        "| v3, one fixed batch | model step, no Solver: ms (/ products) | its update | the hidden layer's "
        "4 elementwise passes alone | products + update + passes (/ products) | the Solver's batches and loop "
        "(/ products) |",
        "|---|---|---|---|---|---|",
    ]
    for impl, part in parts.items():
        cells = [
            f"{1e3 * part[name]['seconds']:.1f} ms ({ratio(part[name]):.2f})"
            for name in ("model_step", "update", "hidden_passes")
        ]
        floor = 1 + ratio(part["update"]) + ratio(part["hidden_passes"])
        solver = ratio(steps["best"][impl]) - ratio(part["model_step"])
        lines.append(f"| {impl} | {' | '.join(cells)} | **{floor:.2f}** | {solver:+.2f} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "recipe_results.json"))
    args = parser.parse_args()
    retain_freed_memory()
    raw = load_raw_cifar10(args.data_dir)
    images, labels = raw.x_train[:NUM_TRAIN], raw.y_train[:NUM_TRAIN]
    results: dict = {"repeats": args.repeats, "preprocessing": {}}

    print("fitting and applying the preprocessings ...", flush=True)
    for kind in PREPROCESSINGS:
        fit = median_seconds(partial(fit_preprocessing, kind, images), max(1, args.repeats // 2))
        fitted = fit_preprocessing(kind, images)
        preprocess(images[:5000], fitted, np.float32)  # warm-up: the first big allocation pays page faults
        apply = median_seconds(partial(preprocess, images, fitted, np.float32), max(1, args.repeats // 2))
        results["preprocessing"][kind] = {"fit_seconds": fit, "apply_seconds": apply}

    X = preprocess(images, fitted, np.float32)  # ZCA, as the recipe trains on
    started = time.perf_counter()
    projection = principal_directions(X, COMPONENTS)
    results["projection_seconds"] = time.perf_counter() - started
    draws = BatchStream(NUM_TRAIN, BATCH, seed=0, augmentation=Augmentation(flip=True, padding=PADDING)).next_batch()
    batch, out = X[draws.indices], np.empty((BATCH, *X.shape[1:]), dtype=X.dtype)
    t_batch, t_flips, t_shifts = (torch.from_numpy(a) for a in (batch, draws.flips, draws.shifts))
    augment = {
        "numpy": median_seconds(partial(flip_and_shift, batch, draws.flips, draws.shifts, out), 20 * args.repeats),
        "torch": median_seconds(
            partial(torch_impl.flip_and_shift, t_batch, t_flips, t_shifts, PADDING), 20 * args.repeats
        ),
    }
    impls = {"numpy": numpy_recipe, "torch": torch_impl}
    steps = {
        recipe: {name: step_seconds(impl, X, labels, projection, recipe, args.repeats) for name, impl in impls.items()}
        for recipe in ("best", "v2")
    }
    unaugmented = {
        name: step_seconds(impl, X, labels, projection, "best", args.repeats, False) for name, impl in impls.items()
    }
    parts = {name: step_parts_seconds(impl, X, labels, projection, args.repeats) for name, impl in impls.items()}
    results.update(
        shape={"batch": BATCH, "hidden": HIDDEN, "pca_components": COMPONENTS},
        augment_batch_seconds=augment,
        step_seconds=steps,
        step_without_augmentation_seconds=unaugmented,
        step_over_products={
            recipe: {name: ratio(m) for name, m in by_impl.items()} for recipe, by_impl in steps.items()
        },
        augment_share={name: augment[name] / steps["best"][name]["seconds"] for name in impls},
        step_parts_seconds=parts,
    )
    print(f"{extras_table(results)}\n\n{speed_table(results)}")
    save_json(args.out, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
