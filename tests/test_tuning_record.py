"""docs/tuning.md's table of many workers is rendered from benchmarks/tuning_workers.json, a measured record."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def bench():
    path = ROOT / "benchmarks" / "bench_tuning_workers.py"
    spec = importlib.util.spec_from_file_location("bench_tuning_workers", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_workers_table_in_docs_is_the_record_rendered():
    module = bench()
    record = module.load_json(module.RECORD)
    text = module.PAGE.read_text()
    assert "<!-- record: tuning-workers -->\n| strategy | storage |" in text
    stale = "docs/tuning.md is stale: python benchmarks/bench_tuning_workers.py --render"
    assert module.render(text, record) == text, stale


def test_the_record_holds_each_strategy_and_storage_alone_and_in_three_workers_with_nothing_trained_twice():
    module = bench()
    record = module.load_json(module.RECORD)
    runs = {(r["strategy"], r["storage"], r["workers"]): r for r in record["runs"]}
    assert set(runs) == {(s, st, w) for s in module.STRATEGIES for st in ("postgresql", "journal") for w in (1, 3)}
    for (strategy, storage, workers), run in runs.items():
        assert run["trained_twice"] == 0 and run["trained"] == run["distinct"], run
        if strategy == "greedy":  # its path, the same however many walk it, within the budget
            assert run["distinct"] == runs[strategy, storage, 1]["distinct"] <= run["trials_requested"], run
        else:
            assert run["distinct"] == run["trials_requested"], run
        if workers == 1:
            assert run["place_taken"] == 0, run  # alone, a worker never races for a place
