"""Benchmark: one tune.py study worked by three processes, as by three machines, against one process alone.

    python benchmarks/bench_tuning_workers.py [--trials 12] [--out benchmarks/tuning_workers.json]
    python benchmarks/bench_tuning_workers.py --render      # rewrite docs/tuning.md's table from the record

For each strategy and each shared storage (a PostgreSQL server started for the run, like the tests';
Optuna's JournalStorage on a file), it runs the same `python tune.py` command once alone and once in
three processes started together, each with its own --out and pinned to one core (round robin), on a
fresh study each time. It records, from the study itself, the trials requested and trained, the
configurations trained twice, the trials that found their place taken and never trained, and the
wall time from the first start to the last exit. The record renders the table of docs/tuning.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common.artifacts import load_json, save_json  # noqa: E402

RECORD = ROOT / "benchmarks" / "tuning_workers.json"
PAGE = ROOT / "docs" / "tuning.md"
BLOCK = re.compile(r"(<!-- record: tuning-workers -->\n).*?(<!-- /record -->)", re.S)
SPACE = {  # 12 configurations, each a few seconds on 5,000 images
    "hidden_size": {"values": [50, 100, 200], "low": 50, "high": 200, "log": True},
    "learning_rate": {"values": [1e-4, 3e-4], "low": 1e-4, "high": 3e-4, "log": True},
    "num_epochs": {"values": [10], "low": 10, "high": 10},
    "reg": {"values": [0.0, 0.1], "low": 1e-3, "high": 0.1, "log": True},
}
STRATEGIES = ("greedy", "grid", "random", "tpe")


def on_one_core(index: int) -> None:
    cores = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cores[index % len(cores)]})


def run_study(strategy: str, storage: str, study: str, workers: int, folder: Path, trials: int) -> dict:
    """Run `workers` tune.py processes on one fresh study -> what the study holds and the wall time."""
    import optuna

    from tuning.study import make_storage

    space = folder / "space.json"
    space.write_text(json.dumps(SPACE))
    command = [sys.executable, str(ROOT / "tune.py"), "--strategy", strategy, "--trials", str(trials)]
    command += ["--storage", storage, "--study", study, "--num-train", "5000", "--space", str(space), "--no-retrain"]
    started = time.perf_counter()
    procs = [
        subprocess.Popen(
            [*command, "--out", str(folder / f"{study}-{i}")],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=partial(on_one_core, i),
        )
        for i in range(workers)
    ]
    for proc in procs:
        _, err = proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"{strategy} on {storage}: a worker failed: {err}")
    seconds = time.perf_counter() - started
    trials_held = optuna.load_study(study_name=study, storage=make_storage(storage)).get_trials()
    trained = [t for t in trials_held if t.state.name == "COMPLETE"]
    configs = Counter(tuple(sorted(t.params.items())) for t in trained)
    return {
        "strategy": strategy,
        "workers": workers,
        "trials_requested": trials,
        "trained": len(trained),
        "distinct": len(configs),
        "trained_twice": sum(count - 1 for count in configs.values()),
        "place_taken": sum(1 for t in trials_held if {"duplicate_of", "surplus"} & t.user_attrs.keys()),
        "seconds": round(seconds, 1),
    }


def table(record: dict) -> str:
    """The recorded 3-worker runs against 1 worker, as a Markdown table."""
    lines = [
        "| strategy | storage | trials requested | distinct trained | trained twice | place taken, not trained "
        "| 3 workers | 1 worker | speed-up |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    runs = {(r["strategy"], r["storage"], r["workers"]): r for r in record["runs"]}
    for strategy in STRATEGIES:
        for storage in record["storages"]:
            three, one = runs[strategy, storage, 3], runs[strategy, storage, 1]
            lines.append(
                f"| {strategy} | {storage} | {three['trials_requested']} | {three['distinct']} "
                f"| {three['trained_twice']} | {three['place_taken']} | {three['seconds']:.1f} s "
                f"| {one['seconds']:.1f} s | {one['seconds'] / three['seconds']:.2f}x |"
            )
    return "\n".join(lines) + f"\n\n({record['machine']}; {record['data']}.)\n"


def render(text: str, record: dict) -> str:
    """docs/tuning.md with its tuning-workers block rewritten from ``record``."""
    return BLOCK.sub(lambda m: m.group(1) + table(record) + m.group(2), text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--out", default=str(RECORD))
    parser.add_argument("--render", action="store_true", help="only rewrite docs/tuning.md from the record")
    args = parser.parse_args()
    if not args.render:
        from tests import postgres

        server = postgres.start_server(postgres.server_binaries())
        folder = Path(tempfile.mkdtemp(prefix="bench-tuning-"))
        runs = []
        try:
            postgres.create_database(server, "tuning")
            for strategy in STRATEGIES:
                for name in ("postgresql", "journal"):
                    for workers in (1, 3):
                        study = f"{strategy}-{name}-{workers}"
                        storage = server.url() if name == "postgresql" else f"journal:{folder / study}.log"
                        run = run_study(strategy, storage, study, workers, folder, args.trials)
                        runs.append({**run, "storage": name})
                        print(json.dumps(runs[-1]), flush=True)
        finally:
            postgres.stop_server(server)
        machine = f"{len(os.sched_getaffinity(0))} cores, {platform.processor() or platform.machine()}"
        data = "CIFAR-10, 5,000 training images, 10 epochs a trial, hidden 50-200"
        save_json(args.out, {"machine": machine, "data": data, "storages": ["postgresql", "journal"], "runs": runs})
    PAGE.write_text(render(PAGE.read_text(), load_json(args.out)))
    print(table(load_json(args.out)))


if __name__ == "__main__":
    main()
