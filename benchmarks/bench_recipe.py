"""Benchmark: what the recipe's extras cost, next to the training step they feed (numpy vs torch).

    python benchmarks/bench_recipe.py [--repeats 5] [--data-dir DIR] [--out benchmarks/recipe_results.json]

On the real training split (49,000 images) it measures: fitting and applying each
preprocessing (mean image, per-channel standardization, ZCA with epsilon 0.1) and the projection
onto the top k principal directions; applying one batch stream draw of flips and crops (4-pixel
padding) to 512 images, with each implementation's own code (NumPy slicing, torch indexing); and
one training update of the network of `--recipe best` (v3: AdamW) and of `--recipe v2` (Nesterov, L2),
both projection k, H, batch 512, label smoothing, in each implementation's Solver, next to the time that
implementation's own library needs for the update's matrix products (the ratio is the Solver's
overhead: 1.00 would be pure matrix products). Medians of the repeats are reported.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from bench import update_products_seconds  # noqa: E402

import numpy_impl  # noqa: E402
import torch_impl  # noqa: E402
from common.artifacts import save_json  # noqa: E402
from common.batches import Augmentation, BatchStream  # noqa: E402
from common.cifar10 import load_raw_cifar10  # noqa: E402
from common.config import RECIPES, Config  # noqa: E402
from common.preprocess import PREPROCESSINGS, fit_preprocessing, preprocess, principal_directions  # noqa: E402
from common.runtime import retain_freed_memory  # noqa: E402
from numpy_impl.augment import flip_and_shift  # noqa: E402

NUM_TRAIN, PADDING = 49_000, 4
BATCH, HIDDEN, COMPONENTS = (RECIPES["best"][key] for key in ("batch_size", "hidden_size", "pca_components"))


def median_seconds(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def step_seconds(
    impl, X: np.ndarray, y: np.ndarray, projection: np.ndarray, recipe: str, repeats: int, augment: bool = True
) -> float:
    """Median seconds of one Solver update of a recipe's network (its update rule, rate, weight decay, L2 and label
    smoothing), with the recipe's flips and crops or (augment=False) without: one epoch of repeats + 2 updates,
    timed between the on_iteration calls from the second update on (the first pays for buffers and a check)."""
    config = Config(**RECIPES[recipe])
    options = config.solver_options()  # update rule and optim_config (rate, weight decay) as train.py builds them
    rows = BATCH * (repeats + 2)
    data = {"X_train": X[:rows], "y_train": y[:rows], "X_val": X[:BATCH], "y_val": y[:BATCH]}
    model = impl.TwoLayerNet(
        COMPONENTS,
        HIDDEN,
        10,
        weight_scale=config.weight_scale,
        reg=config.reg,
        dtype="float32",
        seed=0,
        label_smoothing=config.label_smoothing,
        projection=projection if impl is numpy_impl else torch.from_numpy(projection),
    )
    stamps = []
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
        on_iteration=lambda _: stamps.append(time.perf_counter()),
    )
    solver.train()
    return statistics.median(np.diff(stamps[1:]))


def products_seconds(impl: str, repeats: int) -> float:
    """Seconds the implementation's own library needs for one update's matrix products at the recipe's shapes, in
    the layout it keeps its weights (NumPy (in, out) with np.matmul, torch nn.Linear's (out, in)): the projection
    X P, the first layer's scores and weight gradient, the second layer's scores, weight gradient and hidden-layer
    gradient. Median of repeats of 10 updates' products."""
    rng = np.random.default_rng(0)
    shapes = ((BATCH, 3072), (3072, COMPONENTS), (BATCH, COMPONENTS), (BATCH, HIDDEN), (BATCH, 10))
    X, P, Xp, h, ds = (rng.standard_normal(shape).astype(np.float32) for shape in shapes)
    if impl == "numpy":
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
    return update_products_seconds(products, repeats)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "recipe_results.json"))
    args = parser.parse_args()
    retain_freed_memory()
    raw = load_raw_cifar10(args.data_dir)
    images, labels = raw.x_train[:NUM_TRAIN], raw.y_train[:NUM_TRAIN]
    results: dict = {"preprocessing": {}}

    print("| preprocessing | fit (s) | apply to 49,000 images, float32 (s) |\n|---|---|---|")
    for kind in PREPROCESSINGS:
        fit = median_seconds(partial(fit_preprocessing, kind, images), max(1, args.repeats // 2))
        fitted = fit_preprocessing(kind, images)
        preprocess(images[:5000], fitted, np.float32)  # warm-up: the first big allocation pays page faults
        apply = median_seconds(partial(preprocess, images, fitted, np.float32), max(1, args.repeats // 2))
        results["preprocessing"][kind] = {"fit_seconds": fit, "apply_seconds": apply}
        print(f"| {kind} | {fit:.2f} | {apply:.2f} |", flush=True)

    X = preprocess(images, fitted, np.float32)  # ZCA, as the recipe trains on
    started = time.perf_counter()
    projection = principal_directions(X, COMPONENTS)
    results["projection_seconds"] = time.perf_counter() - started
    print(
        f"| projection onto the top {COMPONENTS} directions of the ZCA images | {results['projection_seconds']:.2f} | |"
    )
    draws = BatchStream(NUM_TRAIN, BATCH, seed=0, augmentation=Augmentation(flip=True, padding=PADDING)).next_batch()
    batch, out = X[draws.indices], np.empty((BATCH, *X.shape[1:]), dtype=X.dtype)
    t_batch, t_flips, t_shifts = (torch.from_numpy(a) for a in (batch, draws.flips, draws.shifts))
    augment = {
        "numpy": median_seconds(partial(flip_and_shift, batch, draws.flips, draws.shifts, out), 20 * args.repeats),
        "torch": median_seconds(
            partial(torch_impl.flip_and_shift, t_batch, t_flips, t_shifts, PADDING), 20 * args.repeats
        ),
    }
    impls = {"numpy": numpy_impl, "torch": torch_impl}
    products = {name: products_seconds(name, args.repeats) for name in impls}
    steps = {
        recipe: {name: step_seconds(impl, X, labels, projection, recipe, args.repeats) for name, impl in impls.items()}
        for recipe in ("best", "v2")
    }
    unaugmented = {
        name: step_seconds(impl, X, labels, projection, "best", args.repeats, False) for name, impl in impls.items()
    }
    results.update(
        step_without_augmentation_seconds=unaugmented,
        shape={"batch": BATCH, "hidden": HIDDEN, "pca_components": COMPONENTS},
        augment_batch_seconds=augment,
        products_seconds=products,
        step_seconds=steps,
        step_over_products={
            recipe: {name: seconds / products[name] for name, seconds in by_impl.items()}
            for recipe, by_impl in steps.items()
        },
        augment_share={name: augment[name] / steps["best"][name] for name in impls},
    )
    print(
        f"\n| recipe | implementation | training step (k={COMPONENTS}, H={HIDDEN}, batch {BATCH}), ms | "
        f"its matrix products, ms | step / products |\n|---|---|---|---|---|"
    )
    for recipe, by_impl in steps.items():
        for name, seconds in by_impl.items():
            print(
                f"| {recipe} ({RECIPES[recipe]['update_rule']}) | {name} | {1e3 * seconds:.1f} | "
                f"{1e3 * products[name]:.1f} | {seconds / products[name]:.2f} |"
            )
    print(
        f"\n| implementation | augmenting a batch of {BATCH} (flips, crops {PADDING}), ms | share of a step | "
        "v3's step without flips and crops, ms (/ products) |\n|---|---|---|---|"
    )
    for name in impls:
        print(
            f"| {name} | {1e3 * augment[name]:.2f} | {100 * results['augment_share'][name]:.1f}% | "
            f"{1e3 * unaugmented[name]:.1f} ({unaugmented[name] / products[name]:.2f}) |"
        )
    save_json(args.out, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
