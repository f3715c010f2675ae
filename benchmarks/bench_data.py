"""Benchmark: load all 60,000 CIFAR-10 images from the .tar.gz and prepare the lab's default splits.

    python benchmarks/bench_data.py [--repeats 3] [--data-dir DIR]

Each repeat runs in a fresh process (cold NumPy state, warm page cache) and reports wall
seconds and the peak resident memory above the process's baseline, next to the size of
the arrays it returns: the difference is the extra memory the loading needed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

# Peak memory is read from /proc/self/status (VmHWM), which belongs to the process's own address space:
# getrusage's ru_maxrss survives fork and exec on Linux, so a child started by a big parent reports the parent's.
PEAK_RSS = r"""
def peak_rss_mib():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
"""
CHILD = (
    PEAK_RSS
    + r"""
import json, sys, time
import numpy as np
from common.cifar10 import get_CIFAR10_data
root, dtype = sys.argv[1] or None, sys.argv[2]
base = peak_rss_mib()
start = time.perf_counter()
data = get_CIFAR10_data(root=root, dtype=np.dtype(dtype))
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "extra_mib": peak_rss_mib() - base,
                  "result_mib": sum(v.nbytes for v in data.values()) / 2**20}))
"""
)


def measure(dtype: str, repeats: int, data_dir: str) -> dict:
    root = Path(__file__).resolve().parents[1]
    runs = [
        json.loads(
            subprocess.run(
                [sys.executable, "-c", CHILD, data_dir, dtype], check=True, cwd=root, capture_output=True, text=True
            ).stdout
        )
        for _ in range(repeats)
    ]
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data-dir", default="", help="CIFAR-10 folder (default: CIFAR10_DIR or the cache)")
    args = parser.parse_args()
    print("| dtype | seconds (median) | result MiB | peak MiB above baseline | extra MiB |")
    print("|---|---|---|---|---|")
    for dtype in ("float64", "float32"):
        m = measure(dtype, args.repeats, args.data_dir)
        print(
            f"| {dtype} | {m['seconds']:.2f} | {m['result_mib']:.0f} | {m['extra_mib']:.0f} | "
            f"{m['extra_mib'] - m['result_mib']:.0f} |"
        )


if __name__ == "__main__":
    main()
