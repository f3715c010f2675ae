"""The lab notebook runs top to bottom (quick budget) and is stored without outputs."""

import ast
import importlib
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "two_layer_net.ipynb"


def test_notebook_speaks_korean_and_english():
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    markdown = ["".join(c["source"]) for c in cells if c["cell_type"] == "markdown"]
    assert all("**한국어.**" in text for text in markdown)
    colab = "".join(cells[1]["source"])
    installs = [line for line in colab.splitlines() if "pip install" in line]
    assert any("--no-deps" in line for line in installs)  # Colab's own torch and torchvision stay
    assert not any("torch" in line for line in installs)


def test_notebook_is_stored_without_outputs():
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    assert len(code) > 10
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in code)


PROJECT = ("common", "compare", "experiment", "numpy_impl", "numpy_recipe", "torch_impl", "tuning")


def test_every_code_cell_parses_and_imports_only_names_the_project_has():
    """Without CIFAR-10 at hand: the cells are Python, and each `from <project module> import name` finds name."""
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    imported = []
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        lines = "".join(cell["source"]).splitlines()  # IPython's %magic and !shell lines become pass
        source = "\n".join(
            line[: len(line) - len(line.lstrip())] + "pass" if line.lstrip()[:1] in ("%", "!") else line
            for line in lines
        )
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in PROJECT:
                imported += [(node.module, alias.name) for alias in node.names]
    assert ("numpy_impl", "Solver") in imported
    missing = [(module, name) for module, name in imported if not hasattr(importlib.import_module(module), name)]
    assert missing == []


def test_notebook_runs_top_to_bottom(real_data_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("TWO_LAYER_NET_QUICK", "1")
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    sys.path.insert(0, str(ROOT / "notebooks"))
    from execute import execute

    notebook = execute(NOTEBOOK, timeout=900, workdir=tmp_path)
    text = "\n".join(
        output.get("text", "") for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs
    )
    assert "budget: quick (CI), 2000 training images" in text
    assert "X_train: (2000, 3, 32, 32)" in text
    assert "reg 0.0: loss 3.4702243556" in text and "reg 1.0: loss 26.5948426952" in text
    assert "tune.py exit code: 0" in text and "best configuration, retrained: validation" in text
    assert "the lab's target for this first run, about 36% (0.36): " in text
    assert "the lab's target after tuning, above 48% on validation and test: " in text
    images = [
        o
        for cell in notebook.cells
        if cell.cell_type == "code"
        for o in cell.outputs
        if "image/png" in o.get("data", {})
    ]
    assert len(images) >= 5  # loss, accuracy, weights of the first run; accuracy, weights of the second
    tables = [
        o["data"]["text/markdown"]
        for cell in notebook.cells
        if cell.cell_type == "code"
        for o in cell.outputs
        if "text/markdown" in o.get("data", {})
    ]
    assert any("검증정확도" in t for t in tables) and any("torch val acc" in t for t in tables)


if __name__ == "__main__":
    pytest.main([__file__])
