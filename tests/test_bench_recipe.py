"""benchmarks/bench_recipe.py: its paired timings and the speed tables docs/performance.md is rendered from."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import bench_recipe  # noqa: E402

import numpy_recipe  # noqa: E402
import torch_impl  # noqa: E402


def paired(seconds: float, products: float) -> dict:
    return {"seconds": seconds, "products_seconds": products}


def recorded_results() -> dict:
    """A results dict shaped as main() writes it, with round numbers."""
    return {
        "repeats": 5,
        "shape": {"batch": 512, "hidden": 8192, "pca_components": 512},
        "preprocessing": {"zca": {"fit_seconds": 9.0, "apply_seconds": 4.0}},
        "projection_seconds": 6.0,
        "augment_batch_seconds": {"numpy": 0.0025, "torch": 0.002},
        "augment_share": {"numpy": 0.025, "torch": 0.04},
        "step_seconds": {
            "best": {"numpy": paired(0.100, 0.050), "torch": paired(0.060, 0.050)},
            "v2": {"numpy": paired(0.090, 0.050), "torch": paired(0.070, 0.050)},
        },
        "step_without_augmentation_seconds": {"numpy": paired(0.095, 0.050), "torch": paired(0.055, 0.050)},
        "numpy_over_torch": {"best": 1.5, "v2": 1.25, "best, without flips and crops": 1.75},
        "step_parts_seconds": {
            "numpy": {
                "model_step": paired(0.080, 0.050),
                "update": paired(0.015, 0.050),
                "hidden_passes": paired(0.010, 0.040),
            },
            "torch": {
                "model_step": paired(0.058, 0.050),
                "update": paired(0.002, 0.050),
                "hidden_passes": paired(0.004, 0.050),
            },
        },
        "levers_before": "af74711",
        "lever_seconds": {
            "update": {"before": paired(0.020, 0.050), "after": {**paired(0.005, 0.050), "ratio": 0.12}},
        },
    }


def test_the_floor_adds_the_update_and_the_passes_each_against_its_own_paired_products():
    rows = {line.split(" | ")[0].strip("| "): line for line in bench_recipe.speed_table(recorded_results()).split("\n")}
    # numpy: 1 + 15/50 + 10/40 = 1.55; the Solver adds its step ratio 100/50 = 2.00 minus the model step's 1.60
    assert "80.0 ms (1.60) | 15.0 ms (0.30) | 10.0 ms (0.25) | **1.55** | +0.40 |" in rows["numpy"]
    assert "58.0 ms (1.16) | 2.0 ms (0.04) | 4.0 ms (0.08) | **1.12** | +0.04 |" in rows["torch"]


def test_the_step_table_divides_each_step_by_the_products_timed_with_it():
    table = bench_recipe.speed_table(recorded_results())
    v3_numpy = "| numpy | 100.0 ms | 50.0 ms | **2.00** | **1.50** (1.75) | 95.0 ms (1.90) |"
    assert f"| v3, v4 (`--recipe best`, adam) {v3_numpy}" in table
    assert "| v2 (Nesterov, L2) | numpy | 90.0 ms | 50.0 ms | **1.80** | **1.25** |  |" in table
    assert "| v2 (Nesterov, L2) | torch | 70.0 ms | 50.0 ms | **1.40** |  |  |" in table


def test_the_step_table_gives_a_turns_first_update_beside_those_after_it():
    results = recorded_results()
    results["step_seconds"]["best"]["numpy"]["after_pause"] = paired(0.120, 0.050)
    assert "| numpy | 100.0 ms | 50.0 ms | **2.00** (2.40) | **1.50** (1.75) |" in bench_recipe.speed_table(results)


def test_the_levers_table_gives_before_and_after_each_against_its_products():
    table = bench_recipe.levers_table(recorded_results())
    assert "| lever (v3's shape) | before (af74711): ms (/ products) |" in table
    # after: its recorded ratio of pairs (0.12), not 5/50; after / before from the seconds, 5/20
    assert "| 20.0 (0.40) | 5.0 (0.12) | **0.25** |" in table


def test_a_paired_ratio_is_the_median_of_the_pairs_ratios():
    # the load doubles halfway: each pair's ratio is 2, the ratio of the medians would not be
    times = {"seconds": [2.0, 2.0, 4.0, 4.0, 4.0], "products_seconds": [1.0, 1.0, 2.0, 2.0, 2.0]}
    assert bench_recipe.paired_medians(times) == {"seconds": 4.0, "products_seconds": 2.0, "ratio": 2.0}
    times = {"seconds": [9.0, 2.0, 3.0, 3.0], "products_seconds": [1.0, 1.0, 1.0, 2.0]}
    assert bench_recipe.paired_medians(times, skip=1)["ratio"] == 2.0


def test_the_extras_table_lists_each_preprocessing_and_both_augmentations():
    table = bench_recipe.extras_table(recorded_results())
    assert "| zca | 9.00 s | 4.00 s |" in table
    assert "| a batch of 512: its rows gathered, flipped and cropped (padding 4) | numpy | torch |" in table
    assert "| ms (share of v3's Solver step) | 2.50 (2.5%) | 2.00 (4.0%) |" in table


def test_paired_seconds_alternates_the_function_and_the_products_and_reports_the_products_own_time():
    calls = []

    def products():
        calls.append("products")
        products.seconds = 0.25

    result = bench_recipe.paired_seconds(lambda: calls.append("fn"), products, 3)
    assert calls == ["fn", "products"] * 4  # a warm-up of each, then 3 pairs
    assert result["products_seconds"] == 0.25 and result["seconds"] >= 0


@pytest.mark.slow
def test_update_products_keeps_the_seconds_of_its_second_run():
    for impl in (numpy_recipe, torch_impl):
        products = bench_recipe.update_products(impl)
        products()
        assert 0 < products.seconds < 10


@pytest.mark.slow
def test_step_parts_time_a_real_model_step_of_the_recipe_in_both_implementations(monkeypatch):
    # a small shape, so the test takes a moment: the parts of the step come back paired with products
    monkeypatch.setattr(bench_recipe, "BATCH", 8)
    monkeypatch.setattr(bench_recipe, "HIDDEN", 16)
    monkeypatch.setattr(bench_recipe, "COMPONENTS", 4)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((8, 3, 32, 32), dtype=np.float32)
    y = rng.integers(0, 10, 8)
    projection = np.linalg.qr(rng.standard_normal((3072, 4)))[0].astype(np.float32)
    for impl in (numpy_recipe, torch_impl):
        parts = bench_recipe.step_parts_seconds(impl, X, y, projection, 1)
        assert set(parts) == {"model_step", "update", "hidden_passes"}
        assert 0 < parts["update"]["seconds"] < parts["model_step"]["seconds"]
        assert all(part["products_seconds"] > 0 for part in parts.values())


@pytest.mark.slow
def test_the_solvers_take_their_updates_in_turn(monkeypatch):
    """Each Solver's turn of three updates, each followed by its products, then the other's: the log of who stepped
    alternates turn by turn, and each implementation gets its paired figures (a turn's first apart) and numpy /
    torch."""
    monkeypatch.setattr(bench_recipe, "BATCH", 8)
    monkeypatch.setattr(bench_recipe, "HIDDEN", 16)
    monkeypatch.setattr(bench_recipe, "COMPONENTS", 4)
    order = []
    real_products = bench_recipe.update_products

    def logged_products(impl):
        products = real_products(impl)

        def run():
            order.append(impl.__name__)
            products()
            run.seconds = products.seconds

        return run

    monkeypatch.setattr(bench_recipe, "update_products", logged_products)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((8 * 12, 3, 32, 32), dtype=np.float32)
    y = rng.integers(0, 10, len(X))
    projection = np.linalg.qr(rng.standard_normal((3072, 4)))[0].astype(np.float32)
    result = bench_recipe.interleaved_step_seconds(X, y, projection, "best", 3)
    assert order == (["numpy_recipe"] * 3 + ["torch_impl"] * 3) * 4  # 3 repeats + the first turn, left out
    assert set(result) == {"numpy", "torch", "numpy_over_torch"}
    for impl in ("numpy", "torch"):
        assert result[impl]["seconds"] > 0 and result[impl]["ratio"] > 0 and result[impl]["after_pause"]["ratio"] > 0


def test_a_record_says_what_cpu_it_ran_on_and_the_docs_name_it():
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "docs"))
    try:
        import samples
    finally:
        sys.path.pop(0)
    environment = bench_recipe.environment()
    cpu = environment["cpu"]
    assert cpu["model"] and cpu["avx512"] in (True, False, None)
    with_avx512 = {**environment, "cpu_count": 2, "cpu": {"model": "Intel Xeon", "avx512": True}}
    assert samples.machine({"environment": with_avx512}) == ", on 2 cores of an Intel Xeon with AVX-512"
    without = {**with_avx512, "cpu": {"model": "AMD EPYC", "avx512": False}}
    assert samples.machine({"environment": without}) == ", on 2 cores of an AMD EPYC without AVX-512"
    assert samples.machine({}) == ""  # records from before the machine was recorded
