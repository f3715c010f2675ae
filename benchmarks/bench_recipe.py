"""Benchmark: what the recipe's extras cost, next to the training step they feed (numpy vs torch).

    python benchmarks/bench_recipe.py [--repeats 10] [--data-dir DIR] [--before af74711]
                                      [--out benchmarks/recipe_results.json]

On the real training split (49,000 images) it measures: fitting and applying each
preprocessing (mean image, per-channel standardization, ZCA with epsilon 0.1) and the projection
onto the top k principal directions; making one batch of 512 as each Solver makes it (the stream's
rows gathered, flipped and cropped with 4-pixel padding, each implementation with its own code); and
one training update of the network of `--recipe best` (v4, whose step is v3's: AdamW) and of `--recipe v2`
(Nesterov, L2), both projection k, H, batch 512, label smoothing, in each implementation's Solver, against the time that
implementation's own library needs for the update's matrix products (the ratio is the step's
overhead: 1.00 would be pure matrix products). The two Solvers take turns of three updates, so NumPy's
update and torch's are also compared round by round (numpy / torch); each turn's first update, after the
pause that lets the other library's threads stop, is reported apart from those after it, which follow an
update of their own library as in training. Then v3's step taken apart, on one
fixed batch: the model's step without the Solver and its batches (forward, loss, backward, update), its
update (timed inside it), and the hidden layer's four elementwise passes alone (bias add, ReLU, ReLU
backward, bias gradient), each as the implementation computes them; 1 + (update + passes) / products is
the ratio that a Solver and batches costing nothing would leave. Last, each of the NumPy engine's levers
before (the engine at commit --before, imported from git) and after (now), taken in turn. Every time is
paired with the products timed in turn with it (after each Solver update, or alternately), so that a
shared machine that changes speed mid-run moves both sides of a ratio alike. Medians of the repeats are
reported; a ratio is the median of the pairs' ratios. The results (benchmarks/recipe_results.json, with the
machine they were measured on) render the speed tables of docs/performance.md (python docs/samples.py).
"""

from __future__ import annotations

import argparse
import importlib
import re
import statistics
import subprocess
import sys
import tempfile
import threading
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
from numpy_recipe import kernels  # noqa: E402
from numpy_recipe.augment import flip_and_shift  # noqa: E402

sys.path.insert(0, str(ROOT / "benchmarks"))
from bench import environment  # noqa: E402

NUM_TRAIN, PADDING = 49_000, 4
RECIPE_ROWS = ("best", "v2")
# A pause before each Solver's turn, untimed: the other library's idle threads otherwise still spin on both cores
# when this step starts (measured: torch's step / products 1.65 without it, 1.23 with it; 0.5 s changes nothing).
SETTLE_SECONDS = 0.25
# Each Solver's turn: the first update after the pause, then updates back to back, as training takes them. The first
# pays the pause (caches refilled, threads woken) that training never does; it is reported apart.
UPDATES_PER_TURN = 3
LEVERS_BEFORE = "af74711"  # the engine before its compiled loops (plain NumPy, one core)
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
    return paired_medians(times)


def paired_medians(times: dict, skip: int = 0) -> dict:
    """{"seconds", "products_seconds"}: the medians of the paired lists times[...] (after the first ``skip``), and
    "ratio": the median of their ratios, pair by pair (a load that changes between pairs cancels in each)."""
    seconds, products = times["seconds"][skip:], times["products_seconds"][skip:]
    return {
        "seconds": statistics.median(seconds),
        "products_seconds": statistics.median(products),
        "ratio": statistics.median(a / b for a, b in zip(seconds, products, strict=True)),
    }


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
        db1 = np.empty_like(b1)

        def passes() -> None:  # as numpy_recipe.RecipeNet.loss does them: two compiled passes
            kernels.add_bias_relu(hidden, b1)
            kernels.relu_backward_bias_grad(upstream, hidden, db1)

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
    products_seconds = times.pop("products_seconds")
    return {
        **{name: paired_medians({"seconds": t, "products_seconds": products_seconds}) for name, t in times.items()},
        "hidden_passes": paired_seconds(passes, products, 4 * repeats),
    }


def interleaved_step_seconds(
    X: np.ndarray, y: np.ndarray, projection: np.ndarray, recipe: str, repeats: int, augment: bool = True
) -> dict:
    """One Solver update of a recipe's network (its update rule, rate, weight decay, L2 and label smoothing), with
    the recipe's flips and crops or (augment=False) without, in each implementation's Solver, the two Solvers taking
    turns of UPDATES_PER_TURN updates: NumPy's turn, torch's turn, and so on, each update followed by its products
    and each turn begun after an untimed pause of SETTLE_SECONDS. Each Solver runs in a thread of its own that waits
    (on a semaphore, idle) while the other steps, so a machine that changes speed moves both implementations' steps
    alike. The first turn is left out (buffers, the first accuracy check); then repeats turns each. -> {impl:
    paired figures (paired_medians) of the updates after the first of each turn, which follow the same library's
    update as in training, and "after_pause": those of each turn's first}, and "numpy_over_torch": the median over
    those rounds of NumPy's update / torch's in the same round."""
    config = Config(**RECIPES[recipe])
    options = config.solver_options()  # update rule and optim_config (rate, weight decay) as train.py builds them
    rows = BATCH * UPDATES_PER_TURN * (repeats + 1)
    data = {"X_train": X[:rows], "y_train": y[:rows], "X_val": X[:BATCH], "y_val": y[:BATCH]}
    impls = {"numpy": numpy_recipe, "torch": torch_impl}
    names = list(impls)
    turns = {name: threading.Semaphore(0) for name in names}
    times: dict = {
        name: {kind: {"seconds": [], "products_seconds": []} for kind in ("back_to_back", "after_pause")}
        for name in names
    }
    started: dict = {}
    updates = dict.fromkeys(names, 0)
    products = {name: update_products(impl) for name, impl in impls.items()}

    def after_update(name: str) -> Callable:
        other = names[1 - names.index(name)]

        def hook(_) -> None:
            seconds = time.perf_counter() - started[name]
            products[name]()
            if updates[name] >= UPDATES_PER_TURN:
                kind = "back_to_back" if updates[name] % UPDATES_PER_TURN else "after_pause"
                times[name][kind]["seconds"].append(seconds)
                times[name][kind]["products_seconds"].append(products[name].seconds)
            updates[name] += 1
            if updates[name] % UPDATES_PER_TURN == 0:
                turns[other].release()  # the other implementation's turn
                turns[name].acquire()
                time.sleep(SETTLE_SECONDS)
            started[name] = time.perf_counter()

        return hook

    def train(name: str) -> None:
        solver = impls[name].Solver(
            recipe_model(impls[name], config, projection),
            data,
            update_rule=options["update_rule"],
            optim_config=options["optim_config"],
            augment={"flip": True, "padding": PADDING} if augment else None,
            batch_size=BATCH,
            num_epochs=1,
            verbose=False,
            seed=0,
            on_iteration=after_update(name),
        )
        turns[name].acquire()
        time.sleep(SETTLE_SECONDS)
        started[name] = time.perf_counter()
        solver.train()
        turns[names[1 - names.index(name)]].release()  # let the other finish its epoch

    threads = [threading.Thread(target=train, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    turns[names[0]].release()
    for thread in threads:
        thread.join()
    medians = {
        name: {**paired_medians(t["back_to_back"]), "after_pause": paired_medians(t["after_pause"])}
        for name, t in times.items()
    }
    rounds = zip(times["numpy"]["back_to_back"]["seconds"], times["torch"]["back_to_back"]["seconds"], strict=True)
    return {**medians, "numpy_over_torch": statistics.median(a / b for a, b in rounds)}


def engine_before(ref: str):
    """numpy_recipe as it was at commit ref, imported as the module numpy_recipe_before (git archive into a
    temporary folder), for the levers' before-and-after."""
    folder = Path(tempfile.mkdtemp(prefix="engine_before_"))
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "numpy_recipe"], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    package = folder / "numpy_recipe_before"
    (folder / "numpy_recipe").rename(package)
    for path in package.glob("*.py"):
        path.write_text(re.sub(r"\bnumpy_recipe\b", "numpy_recipe_before", path.read_text()))
    sys.path.insert(0, str(folder))
    return importlib.import_module("numpy_recipe_before")


def lever_seconds(X: np.ndarray, y: np.ndarray, projection: np.ndarray, ref: str, repeats: int) -> dict:
    """Each NumPy lever before (the engine at commit ref) and after (now), at v3's shape on one fixed batch, the two
    taken in turn, each followed by the products (paired): {lever: {"before": {...}, "after": {...}}} of
    {"seconds", "products_seconds"} medians over 4 * repeats rounds."""
    before = engine_before(ref)
    config = Config(**RECIPES["best"])
    optim_config = config.solver_options()["optim_config"]
    draws = BatchStream(len(X), BATCH, seed=0, augmentation=Augmentation(flip=True, padding=PADDING)).next_batch()
    rng = np.random.default_rng(1)
    hidden = rng.standard_normal((BATCH, HIDDEN), dtype=np.float32)
    upstream = rng.standard_normal((BATCH, HIDDEN), dtype=np.float32)
    gathered, batch = np.empty((BATCH, *X.shape[1:]), np.float32), np.empty((BATCH, *X.shape[1:]), np.float32)
    levers = {}
    for name, engine in (("before", before), ("after", numpy_recipe)):
        model = recipe_model(numpy_recipe, config, projection)
        _, grads = model.loss(X[:BATCH], y[:BATCH])
        configs = {param: dict(optim_config) for param in model.params}
        b1, db1 = model.params["b1"], np.empty_like(model.params["b1"])
        step_model = engine.RecipeNet(model.params, config.reg, config.label_smoothing, projection)
        step_configs = {param: dict(optim_config) for param in model.params}

        def update(engine=engine, model=model, grads=grads, configs=configs) -> None:
            for param, w in model.params.items():
                engine.optim.adam(w, grads[param], configs[param])

        def model_step(engine=engine, model=step_model, configs=step_configs) -> None:
            _, step_grads = model.loss(X[:BATCH], y[:BATCH])
            for param, w in model.params.items():
                engine.optim.adam(w, step_grads[param], configs[param])

        if engine is before:

            def passes(b1=b1) -> None:  # as RecipeNet.loss did them at ref: four NumPy passes
                np.add(hidden, b1, out=hidden)
                np.maximum(hidden, 0, out=hidden)
                np.multiply(upstream, hidden > 0, out=upstream)
                upstream.sum(axis=0)

            def gather_batch() -> None:  # as the Solver did at ref: the rows, then one slice copy per image
                np.take(X, draws.indices, axis=0, out=gathered)
                before.augment.flip_and_shift(gathered, draws.flips, draws.shifts, out=batch)

        else:

            def passes(b1=b1, db1=db1) -> None:
                kernels.add_bias_relu(hidden, b1)
                kernels.relu_backward_bias_grad(upstream, hidden, db1)

            def gather_batch() -> None:
                flip_and_shift(X, draws.flips, draws.shifts, out=batch, rows=draws.indices)

        solver = engine.Solver(
            engine.RecipeNet(model.params, config.reg, config.label_smoothing, projection),
            {"X_train": X, "y_train": y, "X_val": X[:BATCH], "y_val": y[:BATCH]},
            **{key: value for key, value in config.solver_options().items() if key != "optim_config"},
            optim_config=dict(optim_config),
            verbose=False,
        )
        solver._reset()
        levers[name] = {
            "update": update,
            "hidden_passes": passes,
            "batch": gather_batch,
            "model_step": model_step,
            "solver_step": solver._step,  # its updates, without the accuracy checks at the epochs' ends
        }
    products = update_products(numpy_recipe)
    results: dict = {}
    for lever in levers["before"]:
        times: dict = {side: {"seconds": [], "products_seconds": []} for side in ("before", "after")}
        for side in ("before", "after"):  # warm-up: compilation, buffers, the optimizer's state
            levers[side][lever]()
        for _ in range(4 * repeats):
            for side in ("before", "after"):
                started = time.perf_counter()
                levers[side][lever]()
                times[side]["seconds"].append(time.perf_counter() - started)
                products()
                times[side]["products_seconds"].append(products.seconds)
        results[lever] = {side: paired_medians(t) for side, t in times.items()}
    return results


def ratio(measured: dict) -> float:
    """step / products of a paired measurement: the median of the pairs' ratios (records before it: of the medians)."""
    return measured.get("ratio", measured["seconds"] / measured["products_seconds"])


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
        f"| a batch of {results['shape']['batch']}: its rows gathered, flipped and cropped (padding {PADDING}) | "
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
    names = {"best": f"v3, v4 (`--recipe best`, {RECIPES['best']['update_rule']})", "v2": "v2 (Nesterov, L2)"}
    lines = [
        f"| recipe | implementation | the Solver's step (k = {shape['pca_components']}, H = {shape['hidden']}, "
        f"batch {shape['batch']}) | its matrix products | step / products (a turn's first, after the pause) | "
        "numpy / torch, step by step | "
        "without flips and crops: step (/ products) |",
        "|---|---|---|---|---|---|---|",
    ]
    for recipe, by_impl in steps.items():
        for impl, measured in by_impl.items():
            plain = unaugmented[impl]
            without = f"{1e3 * plain['seconds']:.1f} ms ({ratio(plain):.2f})" if recipe == "best" else ""
            versus = ""
            if impl == "numpy":
                versus = f"**{results['numpy_over_torch'][recipe]:.2f}**"
                if recipe == "best":
                    versus += f" ({results['numpy_over_torch']['best, without flips and crops']:.2f})"
            first = f" ({ratio(measured['after_pause']):.2f})" if "after_pause" in measured else ""
            lines.append(
                f"| {names.get(recipe, recipe)} | {impl} | {1e3 * measured['seconds']:.1f} ms | "
                f"{1e3 * measured['products_seconds']:.1f} ms | **{ratio(measured):.2f}**{first} | {versus} | "
                f"{without} |"
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


LEVER_NAMES = {
    "update": "AdamW's update of all four parameters: 14 NumPy passes per block -> one compiled pass, bias "
    "corrections folded into two scalars",
    "hidden_passes": "the hidden layer's bias add, ReLU, ReLU backward and bias gradient: 4 NumPy passes -> 2 "
    "compiled ones",
    "batch": "the batch: a row gather, then one slice copy per image -> one compiled gather + flip + crop",
    "model_step": "all of them in the model's step on one fixed batch (loss, gradients, update)",
    "solver_step": "all of them in v3's Solver step (its batches, flips and crops, model step and update)",
}


def levers_table(results: dict) -> str:
    """Each NumPy lever before (the engine at results['levers_before']) and after, paired with the products:
    markdown, from a results dict."""
    lines = [
        f"| lever (v3's shape) | before ({results['levers_before']}): ms (/ products) | after: ms "
        "(/ products) | after / before |",
        "|---|---|---|---|",
    ]
    for lever, sides in results["lever_seconds"].items():
        before, after = sides["before"], sides["after"]
        lines.append(
            f"| {LEVER_NAMES[lever]} | {1e3 * before['seconds']:.1f} ({ratio(before):.2f}) | "
            f"{1e3 * after['seconds']:.1f} ({ratio(after):.2f}) | **{after['seconds'] / before['seconds']:.2f}** |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "recipe_results.json"))
    parser.add_argument("--before", default=LEVERS_BEFORE, help="the commit whose engine the levers are timed against")
    args = parser.parse_args()
    retain_freed_memory()
    raw = load_raw_cifar10(args.data_dir)
    images, labels = raw.x_train[:NUM_TRAIN], raw.y_train[:NUM_TRAIN]
    results: dict = {"repeats": args.repeats, "environment": environment(), "preprocessing": {}}

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
    out = np.empty((BATCH, *X.shape[1:]), dtype=X.dtype)
    t_X, t_rows, t_flips, t_shifts = (torch.from_numpy(a) for a in (X, draws.indices, draws.flips, draws.shifts))
    padded_shape = (BATCH, X.shape[1], *(side + 2 * PADDING for side in X.shape[2:]))  # torch's kept padded batch
    augment = {  # the batch as each Solver makes it: its rows gathered, flipped and cropped
        "numpy": median_seconds(
            partial(flip_and_shift, X, draws.flips, draws.shifts, out=out, rows=draws.indices), 20 * args.repeats
        ),
        "torch": median_seconds(
            partial(torch_impl.flip_and_shift, t_X, t_flips, t_shifts, PADDING, t_rows, t_X.new_zeros(padded_shape)),
            20 * args.repeats,
        ),
    }
    impls = {"numpy": numpy_recipe, "torch": torch_impl}
    print("the Solvers' steps, in turn ...", flush=True)
    interleaved = {
        recipe: interleaved_step_seconds(X, labels, projection, recipe, args.repeats) for recipe in RECIPE_ROWS
    }
    unaugmented = interleaved_step_seconds(X, labels, projection, "best", args.repeats, False)
    numpy_over_torch = {recipe: by_impl.pop("numpy_over_torch") for recipe, by_impl in interleaved.items()}
    numpy_over_torch["best, without flips and crops"] = unaugmented.pop("numpy_over_torch")
    parts = {name: step_parts_seconds(impl, X, labels, projection, args.repeats) for name, impl in impls.items()}
    print(f"the levers against the engine at {args.before} ...", flush=True)
    results.update(
        shape={"batch": BATCH, "hidden": HIDDEN, "pca_components": COMPONENTS},
        augment_batch_seconds=augment,
        step_seconds=interleaved,
        step_without_augmentation_seconds=unaugmented,
        step_over_products={
            recipe: {name: ratio(m) for name, m in by_impl.items()} for recipe, by_impl in interleaved.items()
        },
        numpy_over_torch=numpy_over_torch,
        augment_share={name: augment[name] / interleaved["best"][name]["seconds"] for name in impls},
        step_parts_seconds=parts,
        levers_before=args.before,
        lever_seconds=lever_seconds(X, labels, projection, args.before, args.repeats),
    )
    print(f"{extras_table(results)}\n\n{speed_table(results)}\n\n{levers_table(results)}")
    save_json(args.out, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
