"""A class at once: `python -m compare --impl CLASS --out DIR --jobs N` writes a gradebook a teacher can use."""

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from compare.grade import PARTS, PartResult
from compare.gradebook import find_submissions, gradebook_csv, gradescope_json, load_points, safe_name
from compare.target import TargetError

ROOT = Path(__file__).resolve().parents[1]
PART_NAMES = [part.name for part in PARTS]


def solved(folder: Path) -> Path:
    shutil.copytree(ROOT / "numpy_impl", folder, ignore=shutil.ignore_patterns("__pycache__"))
    return folder


def results(passed: set[str]) -> list[PartResult]:
    return [PartResult(name, "correct" if name in passed else "wrong", message="m") for name in PART_NAMES]


def test_a_folder_of_student_folders_is_a_class_and_each_student_is_named_after_their_folder(tmp_path):
    solved(tmp_path / "class" / "kim")
    solved(tmp_path / "class" / "lee" / "lab")  # a whole kit handed in: the lab files are one folder down
    (tmp_path / "class" / "park").mkdir()  # nothing handed in
    found = find_submissions([str(tmp_path / "class")])
    assert [(s.student, s.folder) for s in found] == [
        ("kim", tmp_path / "class" / "kim"),
        ("lee", tmp_path / "class" / "lee" / "lab"),
        ("park", None),
    ]
    one = find_submissions([str(tmp_path / "class" / "lee")])  # a kit alone is one submission
    assert [(s.student, s.folder) for s in one] == [("lee", tmp_path / "class" / "lee" / "lab")]


def test_two_copies_of_the_lab_in_one_folder_are_refused_naming_them(tmp_path):
    solved(tmp_path / "class" / "kim")
    solved(tmp_path / "class" / "lee" / "first")
    solved(tmp_path / "class" / "lee" / "second")
    lee = find_submissions([str(tmp_path / "class")])[1]
    assert lee.folder is None and lee.problem == "2 copies of the lab's files (first, second): hand in one"
    with pytest.raises(TargetError, match="holds 2 folders with the lab's files .first, second.: grade them as"):
        find_submissions([str(tmp_path / "class" / "lee")], one=True)


def test_two_submissions_of_one_name_and_a_missing_folder_are_refused(tmp_path):
    solved(tmp_path / "a" / "kim")
    solved(tmp_path / "b" / "kim")
    with pytest.raises(TargetError, match="would share the name 'kim'"):
        find_submissions([str(tmp_path / "a" / "kim"), str(tmp_path / "b" / "kim")])
    with pytest.raises(TargetError, match="no such folder"):
        find_submissions([str(tmp_path / "nowhere/lab")])


def test_points_come_from_toml_or_json_and_a_wrong_name_or_value_is_refused_naming_the_parts(tmp_path):
    assert load_points(None) == {p.name: 0.0 if p.given else 1.0 for p in PARTS}  # the kit's given parts: 0
    (tmp_path / "p.toml").write_text('"softmax loss" = 3\nSolver = 0.5\n')
    points = load_points(str(tmp_path / "p.toml"))
    assert points["softmax loss"] == 3 and points["Solver"] == 0.5 and points["affine forward"] == 1
    (tmp_path / "p.json").write_text(json.dumps({"SVM loss": 2}))
    assert load_points(str(tmp_path / "p.json"))["SVM loss"] == 2
    (tmp_path / "bad.toml").write_text('"softmax" = 3\n')
    with pytest.raises(ValueError, match="no part is named 'softmax'; the parts: affine forward"):
        load_points(str(tmp_path / "bad.toml"))
    (tmp_path / "neg.toml").write_text('"Solver" = -1\n')
    with pytest.raises(ValueError, match="expected a number of points >= 0"):
        load_points(str(tmp_path / "neg.toml"))
    with pytest.raises(ValueError, match="cannot read it"):
        load_points(str(tmp_path / "missing.toml"))


def test_gradescope_results_give_each_part_its_points_and_the_total():
    points = {**dict.fromkeys(PART_NAMES, 1.0), "softmax loss": 4.0}
    graded = gradescope_json(results({"softmax loss", "Solver"}), points)
    assert graded["score"] == 5 and graded["max_score"] == 19
    tests = {t["name"]: t for t in graded["tests"]}
    assert list(tests) == PART_NAMES
    assert tests["softmax loss"] == {
        "name": "softmax loss",
        "score": 4.0,
        "max_score": 4.0,
        "status": "passed",
        "output": "correct: m",
        "visibility": "visible",
    }
    assert tests["SVM loss"]["score"] == 0 and tests["SVM loss"]["status"] == "failed"


def test_a_student_id_is_a_safe_file_name_and_a_formula_looking_one_stays_text_in_the_csv():
    from compare.gradebook import Submission

    assert safe_name("../../etc/passwd") == "_.._etc_passwd"
    assert safe_name("kim min-su") == "kim_min-su"
    submission = Submission("=HYPERLINK(1)", None, results(set()))
    rows = list(csv.reader(gradebook_csv([submission], dict.fromkeys(PART_NAMES, 1.0)).splitlines()))
    assert rows[0] == ["student", *PART_NAMES, "total", "out of"] and rows[1][0] == "'=HYPERLINK(1)"


@pytest.mark.slow
def test_a_class_graded_in_parallel_writes_the_csv_and_a_json_per_student_from_any_working_folder(tmp_path):
    solved(tmp_path / "class" / "kim")
    broken = solved(tmp_path / "class" / "lee")
    mean, no_mean = "    dx[np.arange(n), y] -= 1\n    dx /= n\n", "    dx[np.arange(n), y] -= 1\n"  # softmax's 1/N
    (broken / "layers.py").write_text((broken / "layers.py").read_text().replace(mean, no_mean))
    (tmp_path / "class" / "park").mkdir()
    (tmp_path / "points.toml").write_text('"softmax loss" = 2\n')
    out = tmp_path / "gradebook"
    (out / "students").mkdir(parents=True)
    (out / "students" / "park.json").write_text('{"score": 99}')  # an earlier run's: must not survive
    command = [sys.executable, "-I", "-m", "compare", "--impl", str(tmp_path / "class"), "--out", str(out)]
    command += ["--jobs", "2", "--points", str(tmp_path / "points.toml"), "--format", "gradescope"]
    proc = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("isolation: ") and "grading 3 submissions, 2 at a time" in proc.stdout
    rows = {row["student"]: row for row in csv.DictReader((out / "grades.csv").open())}
    assert rows["kim"]["total"] == "14" and rows["kim"]["out of"] == "14"  # 13 written parts, softmax worth 2
    assert rows["kim"]["Solver"] == "0"  # the kit gives it written: 0 points by default
    assert rows["lee"]["softmax loss"] == "0" and rows["lee"]["total"] == "11"  # softmax and the net's gradients
    assert rows["park"]["total"] == "0"
    park = json.loads((out / "students" / "park.json").read_text())
    assert park["score"] == 0 and park["max_score"] == 14 and "no lab files found" in park["tests"][0]["output"]
    lee = json.loads((out / "students" / "lee.json").read_text())
    assert {t["name"] for t in lee["tests"] if t["status"] == "failed"} == {"softmax loss", "TwoLayerNet gradients"}


def test_several_submissions_need_an_out_folder_and_json_is_for_one(tmp_path):
    solved(tmp_path / "class" / "kim")
    solved(tmp_path / "class" / "lee")
    base = [sys.executable, "-I", "-m", "compare", "--impl", str(tmp_path / "class")]
    proc = subprocess.run(base, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert (
        proc.returncode == 2
        and "holds 2 folders with the lab's files (kim, lee): grade them as a class with --out" in proc.stderr
    )
    proc = subprocess.run([*base, "--out", "g", "--json", "x.json"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 2 and "--json is for one submission" in proc.stderr
    proc = subprocess.run([*base, "--out", "g", "--jobs", "0"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 2 and "--jobs 0" in proc.stderr
