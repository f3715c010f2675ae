"""`python -m exercises make OUT`: the student's copy imports, grades as "not implemented" part by part,
and passes once the solutions are pasted back."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from compare.grade import grade
from exercises.__main__ import ORACLE, make_exercise, student_source
from exercises.blank import blank, fill, regions

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def exercise(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("exercise") / "ex"
    proc = subprocess.run(
        [sys.executable, "-m", "exercises", "make", str(out)], cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"wrote {out}: 11 functions to implement in 3 files, graded as 13 parts")
    return out


def test_the_oracle_marks_its_solutions_in_nbgrader_style():
    marked = {path.name: len(regions(path.read_text())) for path in ORACLE.glob("*.py")}
    assert {name: count for name, count in marked.items() if count} == {"layers.py": 6, "fc_net.py": 2, "optim.py": 3}


@pytest.mark.parametrize("name", ["layers.py", "fc_net.py", "optim.py"])
def test_blanking_then_filling_gives_back_the_oracle(name):
    source = (ORACLE / name).read_text()
    student, solutions = blank(source)
    assert "### BEGIN SOLUTION" not in student and student.count("raise NotImplementedError") >= len(solutions)
    restored = fill(student, solutions)
    without_markers = "\n".join(line for line in source.split("\n") if "### " not in line or "SOLUTION" not in line)
    assert restored == without_markers


def test_the_copy_imports_and_every_blanked_part_is_not_implemented(exercise):
    proc = subprocess.run(
        [sys.executable, "-c", "import lab; print(lab.TwoLayerNet)"], cwd=exercise, capture_output=True
    )
    assert proc.returncode == 0, proc.stderr
    results = {r.part: r.status for r in grade(str(exercise / "lab"))}
    given = {"update rule sgd", "Solver"}  # not part of the exercise: they come finished
    assert {part for part, status in results.items() if status != "not implemented"} == given
    assert all(results[part] == "correct" for part in given)


LAB_FILES = sorted(
    ["__init__.py", "checks.py", "data_utils.py", "fc_net.py", "gradient_check.py", "layer_utils.py"]
    + ["layers.py", "optim.py", "solver.py", "vis_utils.py"]
)
LAB_SIGNATURES = {
    "layers.py": {
        "affine_forward": ["x", "w", "b"],
        "affine_backward": ["dout", "cache"],
        "relu_forward": ["x"],
        "relu_backward": ["dout", "cache"],
        "svm_loss": ["x", "y"],
        "softmax_loss": ["x", "y"],
    },
    "layer_utils.py": {"affine_relu_forward": ["x", "w", "b"], "affine_relu_backward": ["dout", "cache"]},
    "fc_net.py": {
        "__init__": ["self", "input_dim", "hidden_dim", "num_classes", "weight_scale", "reg", "dtype", "seed"],
        "loss": ["self", "X", "y"],
    },
    "optim.py": {rule: ["w", "dw", "config"] for rule in ("sgd", "sgd_momentum", "rmsprop", "adam")},
}


def test_the_copy_holds_the_labs_files_with_the_labs_signatures_only(exercise):
    """The student's folder holds the lab's files only, and every function in them takes exactly the lab's arguments."""
    assert sorted(p.name for p in (exercise / "lab").glob("*.py")) == LAB_FILES
    for name, expected in LAB_SIGNATURES.items():
        tree = ast.parse((exercise / "lab" / name).read_text())
        functions = [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)]
        found = {f.name: [a.arg for a in f.args.args + f.args.kwonlyargs] for f in functions}
        assert {f: found.get(f) for f in expected} == expected, name
        assert all(f.args.vararg is None and f.args.kwarg is None for f in functions), name


@pytest.mark.slow
def test_pasting_the_solutions_back_makes_every_part_pass(exercise, tmp_path):
    import shutil

    solved = tmp_path / "lab"
    shutil.copytree(exercise / "lab", solved)
    for name in ("layers.py", "fc_net.py", "optim.py"):
        _, _, solutions = student_source((ORACLE / name).read_text())
        path = solved / name
        path.write_text(fill(path.read_text(), [s.replace("numpy_impl", "lab") for s in solutions]))
    results = grade(str(solved))
    assert all(r.passed for r in results), [(r.part, r.status, r.message) for r in results if not r.passed]


def test_the_notebook_and_readme_point_at_the_students_code(exercise):
    notebook = json.loads((exercise / "two_layer_net.ipynb").read_text())
    code = "".join("".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code")
    assert "numpy_impl" not in code and "from lab import" in code
    assert all(not cell.get("outputs") for cell in notebook["cells"] if cell["cell_type"] == "code")
    readme = (exercise / "README.md").read_text()
    assert "python -m compare --impl lab" in readme and "## 한국어" in readme and "## English" in readme
    assert "1. `lab/layers.py`: `affine_forward`, `affine_backward`" in readme
    assert (exercise / "docs" / "derivations.md").is_file()


def test_an_existing_folder_is_refused(tmp_path):
    (tmp_path / "x.txt").write_text("mine")
    with pytest.raises(ValueError, match="already holds files"):
        make_exercise(tmp_path)
