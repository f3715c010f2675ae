"""Execute notebooks/two_layer_net.ipynb top to bottom and save a copy with its outputs.

    python notebooks/execute.py                      # full budget -> notebooks/two_layer_net.executed.ipynb
    TWO_LAYER_NET_QUICK=1 python notebooks/execute.py --out /tmp/quick.ipynb

The stored notebook itself has no outputs, so its diffs stay readable.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
NOTEBOOK = HERE / "two_layer_net.ipynb"


def execute(path: Path = NOTEBOOK, timeout: int = 1800, workdir: Path = HERE) -> nbformat.NotebookNode:
    """Run every cell in a fresh kernel (cwd: workdir); raises nbclient's CellExecutionError on the first error."""
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}
    ).execute()
    return notebook


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(HERE / "two_layer_net.executed.ipynb"))
    args = parser.parse_args()
    notebook = execute()
    nbformat.write(notebook, args.out)
    budget = "quick" if os.environ.get("TWO_LAYER_NET_QUICK") == "1" else "full"
    print(f"executed ({budget} budget): {args.out}")


if __name__ == "__main__":
    main()
