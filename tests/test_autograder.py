"""`python -m exercises make OUT --autograder`: the Gradescope autograder grades a submission laid out as
Gradescope lays it out, and leaves a results.json whatever happens."""

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from compare.grade import PARTS

ROOT = Path(__file__).resolve().parents[1]
ORACLE = ROOT / "numpy_impl"


def make(out: Path, *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "exercises", "make", str(out), "--autograder", *flags],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )


@pytest.fixture(scope="module")
def autograder(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("kit") / "kit"
    proc = make(out)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"wrote {out}: 11 functions") and f"wrote {out / 'autograder'}" in proc.stdout
    return out / "autograder"


def gradescope_root(autograder: Path, where: Path, submission: list[Path]) -> Path:
    """A folder laid out as Gradescope's /autograder: the zip unpacked into source/, run_autograder beside it."""
    root = where / "autograder"
    shutil.copytree(autograder, root / "source")
    shutil.copy2(autograder / "run_autograder", root / "run_autograder")
    (root / "submission").mkdir()
    (root / "results").mkdir()
    for path in submission:
        shutil.copy(path, root / "submission" / path.name)
    return root


def run_autograder(root: Path, python: str = sys.executable) -> dict:
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "PYTHON": python}
    proc = subprocess.run(["bash", str(root / "run_autograder")], cwd=root.parent, env=env, capture_output=True)
    assert proc.returncode == 0, proc.stderr
    return json.loads((root / "results" / "results.json").read_text())


def test_the_folder_is_the_zips_root_with_the_grader_alone(autograder):
    names = {p.relative_to(autograder).as_posix() for p in autograder.rglob("*") if p.is_file()}
    assert {"setup.sh", "run_autograder", "README.md", "points.toml", "pyproject.toml", "docs/derivations.md"} <= names
    assert {"compare/__main__.py", "compare/grade.py", "compare/child.py", "common/artifacts.py"} <= names
    assert {name.split("/")[0] for name in names if "/" in name} == {"compare", "common", "docs"}
    for script in ("setup.sh", "run_autograder"):
        assert (autograder / script).stat().st_mode & stat.S_IXUSR
        proc = subprocess.run(["bash", "-n", str(autograder / script)], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
    setup = (autograder / "setup.sh").read_text()
    assert "bubblewrap" in setup and "torch==2.14.1" in setup and "download.pytorch.org/whl/cpu" in setup
    readme = (autograder / "README.md").read_text()
    assert "## 한국어" in readme and "## English" in readme and "zip -r ../autograder.zip ." in readme


def test_points_toml_names_every_part_once(autograder):
    import tomllib

    from compare.gradebook import default_points, load_points

    points = tomllib.loads((autograder / "points.toml").read_text())
    assert points == {part.name: 0 if part.given else 1 for part in PARTS}  # the kit's given parts score nothing
    assert load_points(str(autograder / "points.toml")) == default_points()


def test_grading_imports_the_grader_from_source_alone(autograder):
    """What run_autograder runs imports compare/ and common/ from the autograder's folder, nothing of the oracle's."""
    code = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "import compare.__main__, compare.grade, compare.gradebook, compare.sandbox, compare.target, common.artifacts\n"
        "ours = {n: m for n, m in sys.modules.items() if n.split('.')[0] in "
        "('compare', 'common', 'numpy_impl', 'numpy_recipe', 'torch_impl', 'experiment', 'tuning', 'exercises')}\n"
        "where = {n: getattr(m, '__file__', None) or '' for n, m in ours.items()}\n"
        "print(sorted(n for n, f in where.items() if not f.startswith(sys.argv[1] + '/')))"
    )
    proc = subprocess.run(
        [sys.executable, "-I", "-B", "-c", code, str(autograder.resolve())], cwd="/", capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


@pytest.mark.slow
def test_a_solved_submission_scores_full_marks(autograder, tmp_path):
    root = gradescope_root(autograder, tmp_path, sorted(ORACLE.glob("*.py")))
    results = run_autograder(root)
    assert (results["score"], results["max_score"], len(results["tests"])) == (13, 13, 16)  # 3 parts given: 0
    assert all(t["status"] == "passed" for t in results["tests"])
    assert not (root / "source").stat().st_mode & 0o077  # the grader hidden from another uid


@pytest.mark.slow
def test_a_kit_folder_with_one_broken_part_loses_its_points(autograder, tmp_path):
    root = gradescope_root(autograder, tmp_path, [])
    lab = root / "submission" / "my-kit" / "lab"  # a kit folder uploaded whole
    shutil.copytree(ORACLE, lab, ignore=shutil.ignore_patterns("__pycache__"))
    with open(lab / "layers.py", "a") as f:
        f.write("\n\ndef svm_loss(x, y):\n    raise NotImplementedError\n")
    points = root / "source" / "points.toml"
    points.write_text(points.read_text().replace('"SVM loss" = 1', '"SVM loss" = 4'))
    results = run_autograder(root)
    assert (results["score"], results["max_score"], len(results["tests"])) == (12, 16, 16)
    failed = [t for t in results["tests"] if t["status"] != "passed"]
    assert [(t["name"], t["score"], t["max_score"]) for t in failed] == [("SVM loss", 0, 4)]
    assert failed[0]["output"].startswith("not implemented")


@pytest.mark.slow
def test_an_autograder_made_in_korean_tells_the_student_in_korean(tmp_path):
    out = tmp_path / "kit"
    assert make(out, "--lang", "ko").returncode == 0
    root = gradescope_root(out / "autograder", tmp_path, sorted(ORACLE.glob("*.py")))
    optim = root / "submission" / "optim.py"
    optim.write_text(optim.read_text().replace("v = mu * v - lr * dw", "v = mu * v + lr * dw"))
    results = run_autograder(root)
    failed = [t for t in results["tests"] if t["status"] != "passed"]
    assert [t["name"] for t in failed] == ["update rule sgd_momentum"] and results["score"] == 12
    assert failed[0]["output"].startswith("오답: ") and "gradient를 더합니다" in failed[0]["output"], failed[0]


def test_an_empty_submission_gets_a_zero_score_saying_why(autograder, tmp_path):
    root = gradescope_root(autograder, tmp_path, [])
    results = run_autograder(root)
    assert results["score"] == 0 and results["tests"] == []
    assert "grader exit code 2" in results["output"] and "no lab files" in results["output"]


def test_a_grader_that_does_not_start_still_leaves_results(autograder, tmp_path):
    root = gradescope_root(autograder, tmp_path, sorted(ORACLE.glob("*.py")))
    (root / "results" / "results.json").write_text('{"score": 16}')  # an earlier run's must not stand
    results = run_autograder(root, python=str(tmp_path / "no-such-python"))
    assert results["score"] == 0 and "did not start" in results["output"]


def make_here(out: Path, capsys, *flags: str) -> tuple[int, str]:
    """The same command in this process (torch is imported already) -> (exit code, stderr)."""
    from exercises.__main__ import main

    code = main(["make", str(out), "--autograder", *flags])
    return code, capsys.readouterr().err


def test_an_existing_autograder_is_rewritten_only_by_the_kits_rules(tmp_path, capsys):
    out = tmp_path / "kit"
    assert make_here(out, capsys) == (0, "")
    code, err = make_here(out, capsys)
    assert code == 2 and "already holds files" in err
    assert make_here(out, capsys, "--overwrite") == (0, "")  # nothing edited: rewritten as it was
    points = out / "autograder" / "points.toml"
    points.write_text(points.read_text().replace('"softmax loss" = 1', '"softmax loss" = 3'))
    code, err = make_here(out, capsys, "--overwrite")
    assert code == 2 and "points.toml" in err and "--backup" in err
    assert '"softmax loss" = 3' in points.read_text()
    assert make_here(out, capsys, "--overwrite", "--backup") == (0, "")
    assert '"softmax loss" = 1' in points.read_text()
    [copy] = [p for p in out.iterdir() if p.name.startswith("autograder.backup-")]
    assert '"softmax loss" = 3' in (copy / "points.toml").read_text()


def test_a_folder_in_the_way_is_refused_before_the_kit_is_written(tmp_path, capsys):
    out = tmp_path / "kit"
    (out / "autograder").mkdir(parents=True)
    (out / "autograder" / "notes.txt").write_text("mine")
    code, err = make_here(out, capsys, "--overwrite")
    assert code == 2 and "not an autograder folder" in err
    assert sorted(p.name for p in out.iterdir()) == ["autograder"]
