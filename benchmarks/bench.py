"""Benchmark: the NumPy code train.py runs (numpy_recipe) against torch_impl on CPU, side by side in one run.

    python benchmarks/bench.py            # H in {100, 500, 1000, 4096} x {float32, float64}, 3 repeats
    python benchmarks/bench.py --quick    # a short run: H in {100, 1000}, float32, a 1/10 epoch scaled up
    python benchmarks/bench.py --out benchmarks/results.json

    python benchmarks/bench.py --hidden 1000 4096 --dtype float32 --against HEAD~1   # vs an earlier commit's

It measures, on the training shapes (49,000 x 3072 inputs, 10 classes, batch 200):
training epoch time of each implementation's real Solver (forward, backward, update and
the per-epoch accuracy checks); the time the implementation's own library needs for that
epoch's matrix products (np.matmul or torch.matmul, in its weight layout) and the epoch's
ratio to it; evaluation throughput over 50,000 images, the machine's sgemm/dgemm peak,
CIFAR-10 loading time, and the peak memory of a default train.py run.
Repeats are interleaved (numpy, torch, numpy, torch, ...) and the median is reported.
GFLOP/s counts 6 * N * (D*H + H*C) per epoch (forward + both backward products of both
layers, whether or not an implementation skips one), so it compares like with like.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from threadpoolctl import threadpool_info

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

import numpy_recipe  # noqa: E402
import torch_impl  # noqa: E402
from common.artifacts import save_json  # noqa: E402
from common.init import initial_params  # noqa: E402
from common.runtime import retain_freed_memory  # noqa: E402
from experiment.models import model_from_params, predict  # noqa: E402

D, C, BATCH, NUM_TRAIN, NUM_EVAL = 3 * 32 * 32, 10, 200, 49_000, 50_000
IMPLS = {"numpy": numpy_recipe, "torch": torch_impl}


def lab_model(impl: str, hidden: int, dtype: str):
    """The lab's network (D inputs, H hidden, C classes, weight scale 1e-3, seed 0) as impl trains it."""
    return model_from_params(impl, initial_params(D, hidden, C, 1e-3, dtype, 0))


def synthetic_images(count: int, dtype: str) -> tuple[np.ndarray, np.ndarray]:
    """count random images (count, 3, 32, 32) at roughly CIFAR-10's scale, and labels (timing ignores values)."""
    rng = np.random.default_rng(0)
    return (50 * rng.standard_normal((count, 3, 32, 32))).astype(dtype), rng.integers(C, size=count)


def split(X: np.ndarray, y: np.ndarray, num_train: int) -> dict[str, np.ndarray]:
    """The Solver's data dict: the first num_train rows to train on, the next 1000 to validate (views)."""
    val = slice(num_train, num_train + 1000)
    return {"X_train": X[:num_train], "y_train": y[:num_train], "X_val": X[val], "y_val": y[val]}


def epoch_seconds(impl: str, hidden: int, data: dict) -> float:
    """Wall time of one Solver epoch (lab settings: sgd_momentum, accuracy checks on 1000 + 1000 images)."""
    dtype = data["X_train"].dtype.name
    model = lab_model(impl, hidden, dtype)
    solver = IMPLS[impl].Solver(
        model,
        data,
        update_rule="sgd_momentum",
        optim_config={"learning_rate": 1e-6},
        batch_size=BATCH,
        num_epochs=1,
        verbose=False,
        seed=0,
    )
    start = time.perf_counter()
    solver.train()
    return time.perf_counter() - start


def eval_images_per_second(impl: str, hidden: int, X: np.ndarray) -> float:
    """Images classified per second, 1000 at a time, over all of X."""
    model = lab_model(impl, hidden, X.dtype.name)
    start = time.perf_counter()
    predict(impl, model, X, batch_size=1000)
    return len(X) / (time.perf_counter() - start)


def gemm_peak(dtype: str, n: int = 4096, repeats: int = 3) -> float:
    """GFLOP/s of NumPy's n x n x n matrix product (the BLAS that both implementations' CPU paths rely on)."""
    a = np.random.default_rng(0).standard_normal((n, n)).astype(dtype)
    a @ a
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        a @ a
        times.append(time.perf_counter() - start)
    return 2 * n**3 / min(times) / 1e9


def nominal_gflop_per_epoch(hidden: int, num_train: int = NUM_TRAIN) -> float:
    return 6 * num_train * (D * hidden + hidden * C) / 1e9


def data_loading_seconds() -> float | None:
    """Median wall time to load CIFAR-10 from its .tar.gz and prepare the default splits (None without data)."""
    if not os.environ.get("CIFAR10_DIR"):
        return None
    from bench_data import measure

    return measure("float32", 3, "")["seconds"]


TRAIN_PY = """
import runpy, sys, tempfile
sys.argv = ["train.py", "--impl", "{impl}", "--quiet", "--out", tempfile.mkdtemp()]
try:
    runpy.run_path("train.py", run_name="__main__")
except SystemExit:
    pass
print(peak_rss_mib())
"""


def products_seconds(impl: str, hidden: int, dtype: str, iterations: int, repeats: int = 5) -> float:
    """Seconds the implementation's own library needs for one epoch's matrix products at the training shapes.

    Per update: X W1 and the W1 gradient, and the second layer's scores, weight gradient and hidden-layer
    gradient (not the input gradient, which nobody uses), in the layout the implementation keeps its weights:
    NumPy W (in, out) with np.matmul, torch nn.Linear's W (out, in) with torch.matmul. Median of repeats
    of 10 updates' products, times the epoch's updates.
    """
    rng = np.random.default_rng(0)
    X, dh, h, ds = (
        rng.standard_normal(shape).astype(dtype) for shape in ((BATCH, D), (BATCH, hidden), (BATCH, hidden), (BATCH, C))
    )
    if impl == "numpy":
        W1, W2 = rng.standard_normal((D, hidden)).astype(dtype), rng.standard_normal((hidden, C)).astype(dtype)
        products = (lambda: X @ W1, lambda: X.T @ dh, lambda: h @ W2, lambda: h.T @ ds, lambda: ds @ W2.T)
    else:
        X, dh, h, ds = (torch.from_numpy(a) for a in (X, dh, h, ds))
        W1, W2 = torch.randn(hidden, D, dtype=X.dtype), torch.randn(C, hidden, dtype=X.dtype)
        products = (lambda: X @ W1.T, lambda: dh.T @ X, lambda: h @ W2.T, lambda: ds.T @ h, lambda: ds @ W2)
    return update_products_seconds(products, repeats) * iterations


def update_products_seconds(products, repeats: int) -> float:
    """Median seconds to run one update's matrix products (zero-argument callables): repeats of 10 updates, after
    one warm-up."""
    times = []
    for _ in range(repeats + 1):  # the first is a warm-up
        start = time.perf_counter()
        for _ in range(10):
            for product in products:
                product()
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:]) / 10


BASELINE_EPOCH = """
import sys, time
import numpy as np
sys.path.insert(0, ".")
try:
    from common.runtime import retain_freed_memory
except ImportError:
    from numpy_impl.runtime import retain_freed_memory
retain_freed_memory()
hidden, dtype, num_train = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
rng = np.random.default_rng(0)
X, y = (50 * rng.standard_normal((num_train + 1000, 3, 32, 32))).astype(dtype), rng.integers(10, size=num_train + 1000)
data = {"X_train": X[:num_train], "y_train": y[:num_train], "X_val": X[num_train:], "y_val": y[num_train:]}
try:  # the recipe engine, where the commit has one; before it, numpy_impl was what train.py ran
    from common.init import initial_params
    from numpy_recipe import RecipeNet, Solver
    model = RecipeNet(initial_params(3072, hidden, 10, 1e-3, dtype, 0))
except ImportError:
    from numpy_impl import Solver, TwoLayerNet
    model = TwoLayerNet(3072, hidden, 10, weight_scale=1e-3, dtype=dtype, seed=0)
solver = Solver(model, data, update_rule="sgd_momentum", optim_config={"learning_rate": 1e-6},
                batch_size=200, num_epochs=1, verbose=False, seed=0)
start = time.perf_counter()
solver.train()
print(time.perf_counter() - start)
"""


def baseline_epoch_seconds(tree: Path, hidden: int, dtype: str, num_train: int) -> float:
    """epoch_seconds of the NumPy training code as it was at another commit (checked out in tree), in a fresh
    process."""
    proc = subprocess.run(
        [sys.executable, "-c", BASELINE_EPOCH, str(hidden), dtype, str(num_train)],
        cwd=tree,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(proc.stdout.strip().splitlines()[-1])


def checkout(ref: str) -> Path:
    """The repository's tree at ref, extracted into a temporary folder (git archive; the work tree is untouched)."""
    import tempfile

    tree = Path(tempfile.mkdtemp(prefix="bench-baseline-"))
    archive = subprocess.run(["git", "archive", ref], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return tree


def train_peak_memory_mib(impl: str) -> float | None:
    """Peak resident memory (MiB) of a default `train.py` run in a fresh process (None without data)."""
    if not os.environ.get("CIFAR10_DIR"):
        return None
    from bench_data import PEAK_RSS

    code = PEAK_RSS + TRAIN_PY.format(impl=impl)
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return float(proc.stdout.strip().splitlines()[-1])


def cpu() -> dict:
    """The CPU the timings ran on: its model name (Linux: /proc/cpuinfo, else platform's) and whether it has
    AVX-512, which the matrix libraries' fastest kernels use."""
    name, flags = platform.processor() or platform.machine(), []
    try:
        with open("/proc/cpuinfo") as f:
            first_cpu = f.read().split("\n\n")[0]
        fields = {key.strip(): value for key, _, value in (line.partition(":") for line in first_cpu.splitlines())}
        name, flags = fields.get("model name", name).strip(), fields.get("flags", "").split()
    except OSError:
        pass
    return {"model": name, "avx512": "avx512f" in flags if flags else None}


def environment() -> dict:
    """What the timings were measured with: the CPU, the libraries and their threads."""
    blas = [
        {k: info.get(k) for k in ("internal_api", "version", "num_threads", "architecture", "threading_layer")}
        for info in threadpool_info()
    ]
    return {
        "cpu": cpu(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "blas": blas,
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
    }


def run(
    hiddens,
    dtypes,
    repeats: int,
    fraction: float,
    memory: bool,
    retained: bool,
    baseline: tuple[str, Path] | None = None,
) -> dict:
    """Every row; baseline (ref, tree): also time the NumPy code as it was at ref, interleaved with the others."""
    num_train = int(NUM_TRAIN * fraction)
    iterations = NUM_TRAIN // BATCH
    peaks = {dtype: gemm_peak(dtype) for dtype in dtypes}
    rows = []
    for dtype in dtypes:
        X, y = synthetic_images(max(NUM_EVAL, num_train + 1000), dtype)
        data, eval_X = split(X, y, num_train), X[: max(num_train, 1000) if fraction < 1 else NUM_EVAL]
        for hidden in hiddens:
            times = {impl: [] for impl in IMPLS}
            evals = {impl: [] for impl in IMPLS}
            products = {impl: [] for impl in IMPLS}
            before, now = [], []
            for _ in range(repeats):
                for impl in IMPLS:  # interleaved, so slow drifts of the machine hit both alike
                    times[impl].append(epoch_seconds(impl, hidden, data) / fraction)
                    evals[impl].append(eval_images_per_second(impl, hidden, eval_X))
                    products[impl].append(products_seconds(impl, hidden, dtype, iterations))
                if baseline is not None:  # both in fresh processes, the same script: like with like
                    now.append(baseline_epoch_seconds(ROOT, hidden, dtype, num_train) / fraction)
                    before.append(baseline_epoch_seconds(baseline[1], hidden, dtype, num_train) / fraction)
            row = {"hidden": hidden, "dtype": dtype, "gemm_peak_gflops": peaks[dtype]}
            for impl in IMPLS:
                seconds = statistics.median(times[impl])
                gflops = nominal_gflop_per_epoch(hidden) / seconds
                own_products = statistics.median(products[impl])
                row[impl] = {
                    "seconds_per_epoch": seconds,
                    "all_seconds": times[impl],
                    "gflops": gflops,
                    "percent_of_peak": 100 * gflops / peaks[dtype],
                    "products_seconds_per_epoch": own_products,
                    "epoch_over_products": seconds / own_products,
                    "train_images_per_second": NUM_TRAIN / seconds,
                    "eval_images_per_second": statistics.median(evals[impl]),
                }
            row["numpy_over_torch"] = row["numpy"]["seconds_per_epoch"] / row["torch"]["seconds_per_epoch"]
            if baseline is not None:
                row["numpy_before"] = {
                    "ref": baseline[0],
                    "seconds_per_epoch": statistics.median(before),
                    "all_seconds": before,
                    "now_seconds_per_epoch": statistics.median(now),
                    "now_all_seconds": now,
                }
                row["numpy_over_before"] = statistics.median(now) / statistics.median(before)
            rows.append(row)
            print(format_row(row), flush=True)
    result = {
        "environment": {**environment(), "retain_freed_memory": retained},
        "repeats": repeats,
        "epoch_fraction": fraction,
        "gemm_peak_gflops": peaks,
        "rows": rows,
    }
    if memory:
        result["data_loading_seconds"] = data_loading_seconds()
        result["train_peak_memory_mib"] = {impl: train_peak_memory_mib(impl) for impl in IMPLS}
    return result


HEADER = (
    "| H | dtype | numpy s/epoch | torch s/epoch | numpy/torch | numpy products s (epoch / products) | "
    "torch products s (epoch / products) | numpy GFLOP/s (% peak) | torch GFLOP/s (% peak) | "
    "numpy eval img/s | torch eval img/s | numpy now / before, fresh processes (s/epoch) |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def format_row(row: dict) -> str:
    n, t = row["numpy"], row["torch"]
    before = row.get("numpy_before")
    return (
        f"| {row['hidden']} | {row['dtype']} | {n['seconds_per_epoch']:.2f} | {t['seconds_per_epoch']:.2f} | "
        f"{row['numpy_over_torch']:.2f} | {n['products_seconds_per_epoch']:.2f} ({n['epoch_over_products']:.2f}) | "
        f"{t['products_seconds_per_epoch']:.2f} ({t['epoch_over_products']:.2f}) | "
        f"{n['gflops']:.0f} ({n['percent_of_peak']:.0f}%) | "
        f"{t['gflops']:.0f} ({t['percent_of_peak']:.0f}%) | {n['eval_images_per_second']:,.0f} | "
        f"{t['eval_images_per_second']:,.0f} | "
        + (
            f"{row['numpy_over_before']:.2f} ({before['now_seconds_per_epoch']:.2f} / "
            f"{before['seconds_per_epoch']:.2f}) |"
            if before
            else "|"
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="H 100 and 1000, float32, a tenth of an epoch")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results.json"), help="JSON results file")
    parser.add_argument(
        "--default-allocator",
        action="store_true",
        help="leave glibc's malloc as it is (train.py keeps freed memory; see common/runtime.py)",
    )
    parser.add_argument("--hidden", type=int, nargs="+", default=None, help="hidden sizes (default: all four)")
    parser.add_argument(
        "--dtype", nargs="+", default=None, choices=["float32", "float64"], help="dtypes (default: both)"
    )
    parser.add_argument(
        "--against",
        metavar="GIT_REF",
        default=None,
        help="also time the NumPy code as it was at this commit, interleaved, e.g. --against HEAD~1",
    )
    args = parser.parse_args()
    retained = False if args.default_allocator else retain_freed_memory()
    env = {**environment(), "retain_freed_memory": retained}
    print(
        f"python {env['python']}, numpy {env['numpy']}, torch {env['torch']} ({env['torch_threads']} threads), "
        f"{env['cpu_count']} CPUs; BLAS: {env['blas']}; allocator keeps freed memory: {retained}"
    )
    hiddens, dtypes, fraction = (
        ((100, 1000), ("float32",), 0.1) if args.quick else ((100, 500, 1000, 4096), ("float32", "float64"), 1.0)
    )
    hiddens, dtypes = args.hidden or hiddens, args.dtype or dtypes
    baseline = (args.against, checkout(args.against)) if args.against else None
    print(HEADER, flush=True)
    result = run(
        hiddens,
        dtypes,
        args.repeats,
        fraction,
        memory=not args.quick and args.hidden is None,
        retained=retained,
        baseline=baseline,
    )
    peaks = ", ".join(f"{dtype} {gflops:.0f} GFLOP/s" for dtype, gflops in result["gemm_peak_gflops"].items())
    print(f"\nMeasured 4096^3 GEMM peak: {peaks}")
    if result.get("data_loading_seconds") is not None:
        print(
            f"CIFAR-10 load + default splits (float32, median of 3 fresh processes): "
            f"{result['data_loading_seconds']:.2f} s"
        )
        memory = result["train_peak_memory_mib"]
        print(
            f"Peak memory of a default train.py run: numpy {memory['numpy']:.0f} MiB, torch {memory['torch']:.0f} MiB"
        )
    save_json(args.out, result)
    print(f"results written to {args.out}")


if __name__ == "__main__":
    main()
