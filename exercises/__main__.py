"""`python -m exercises make OUT`: write the student's copy of the lab into OUT.

OUT/lab/        the oracle's files (numpy_impl) with each solution region replaced by a stub that
                raises NotImplementedError; they import each other as `lab`
OUT/two_layer_net.ipynb   the lab's notebook on `lab`, outputs cleared
OUT/docs/derivations.md   the derivations the stubs point to
OUT/README.md   what to implement, in which order, and how to check it (Korean and English)
OUT/autograder/ (--autograder) the grader as a Gradescope autograder, for the teacher (exercises/autograder.py)
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import shlex
import shutil
import sys
import time
from pathlib import Path

from common.artifacts import atomic_open, writable_folder
from exercises.blank import blank

ROOT = Path(__file__).resolve().parents[1]
ORACLE = ROOT / "numpy_impl"
PACKAGE = "lab"
ORDER = ("layers.py", "layer_utils.py", "fc_net.py", "optim.py")  # the order a student works in


def student_source(source: str) -> tuple[str, list[str], list[str]]:
    """An oracle file as the student gets it -> (source, its blanked functions in order, their solutions)."""
    from exercises.blank import _enclosing_name, regions

    lines = source.split("\n")
    names = [_enclosing_name(lines, start) for start, _ in regions(source)]
    blanked, solutions = blank(source)
    return blanked.replace("numpy_impl", PACKAGE), names, solutions


def graded_parts() -> tuple[int, int]:
    """-> (the graded parts the student writes, the parts the kit gives written)."""
    from compare.grade import PARTS  # torch: imported only when a kit is made

    given = sum(part.given for part in PARTS)
    return len(PARTS) - given, given


def kit_files(lang: str = "en") -> tuple[dict[str, str], dict[str, list[str]]]:
    """The student's copy in memory -> ({path inside OUT: text}, {file: the functions to implement in it}); lang is
    the grader's language in the README's commands ("en" or "ko")."""
    files, todo = {}, {}
    for path in sorted(ORACLE.glob("*.py")):
        text, names, _ = student_source(path.read_text(encoding="utf-8"))
        files[f"{PACKAGE}/{path.name}"] = text
        if names:
            todo[path.name] = names
    for name in ("derivations.md", "derivations.ko.md"):
        files[f"docs/{name}"] = (ROOT / "docs" / name).read_text(encoding="utf-8")
    notebook = json.loads((ROOT / "notebooks" / "two_layer_net.ipynb").read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        cell["source"] = [line.replace("numpy_impl", PACKAGE).replace("../docs/", "docs/") for line in cell["source"]]
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    files["two_layer_net.ipynb"] = json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"
    files["README.md"] = student_readme(todo, lang)
    return files, todo


def is_kit(out: Path) -> bool:
    """Whether out looks like a copy written by `python -m exercises make`: a lab/ package and the kit's README."""
    readme = out / "README.md"
    if not ((out / PACKAGE).is_dir() and readme.is_file() and not readme.is_symlink()):
        return False
    try:
        with open(readme, encoding="utf-8") as f:
            first = f.readline()
    except (OSError, UnicodeDecodeError):
        return False
    return first == student_readme({}).split("\n", 1)[0] + "\n"


def changed_files(out: Path, files: dict[str, str]) -> list[str]:
    """The kit's files in out whose contents differ from a fresh kit's (a student's work, or an older kit)."""
    changed = []
    for name, text in files.items():
        path = out / name
        if not path.exists() and not path.is_symlink():
            continue
        try:
            same = path.is_file() and not path.is_symlink() and path.read_text(encoding="utf-8") == text
        except (OSError, UnicodeDecodeError):
            same = False
        if not same:
            changed.append(name)
    return changed


def backup_folder(out: Path) -> Path:
    """Copy out to a new sibling named after it and the time (never an existing one) -> the copy."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for n in range(1000):
        target = out.with_name(f"{out.name}.backup-{stamp}" + (f"-{n}" if n else ""))
        if not target.exists() and not target.is_symlink():
            break
    else:
        raise ValueError(f"{out}: no free name for a backup beside it")
    shutil.copytree(out, target, symlinks=True)
    return target


def make_exercise(out: Path, overwrite: bool = False, backup: bool = False, lang: str = "en") -> dict[str, list[str]]:
    """Write the student's copy into out -> {file: the functions to implement in it}.

    A folder that already holds files is written into only with ``overwrite``, only when it is a kit,
    and only when none of its kit files differs from a fresh kit's, unless ``backup``: then the folder
    is first copied to a sibling (named on stdout). Files of the student's own are left as they are.
    """
    files, todo = kit_files(lang)
    if out.is_dir() and any(out.iterdir()):
        if not overwrite:
            raise ValueError(f"{out}: already holds files; give a new folder, or pass --overwrite")
        if not is_kit(out):
            raise ValueError(
                f"{out}: not a lab kit (no {PACKAGE}/ folder and kit README.md); --overwrite replaces only a "
                "folder written by `python -m exercises make`; give a new folder"
            )
        changed = changed_files(out, files)
        if changed and not backup:
            shown = ", ".join(changed[:8]) + (f" and {len(changed) - 8} more" if len(changed) > 8 else "")
            raise ValueError(
                f"{out}: --overwrite would replace work: {shown} differ from a fresh kit; "
                "pass --backup to copy the folder aside first, or give a new folder"
            )
        if changed:
            print(f"backed up {out} to {backup_folder(out)}")
    writable_folder(out, "OUT")
    for name, text in files.items():
        with atomic_open(out / name) as f:
            f.write(text)
    return todo


def student_readme(todo: dict[str, list[str]], lang: str = "en") -> str:
    """The student's README, in Korean then English, listing the functions to implement in order."""
    steps = [
        f"{i}. `{PACKAGE}/{name}`: {', '.join(f'`{f}`' for f in todo[name])}"
        for i, name in enumerate([n for n in ORDER if n in todo] + [n for n in todo if n not in ORDER], start=1)
    ]
    steps = "\n".join(steps)
    python = shlex.quote(sys.executable)
    commands = "\n".join(f"    {command}" for command in kit_commands(lang))
    own, given = graded_parts() if todo else (0, 0)  # (is_kit reads the first line only)
    return f"""# 2층 신경망 실습 / The two-layer net lab

## 한국어

`{PACKAGE}/` 폴더의 함수들은 아직 비어 있습니다: 각 함수는 `NotImplementedError`를 냅니다.
아래 순서대로 구현하세요. 함수마다 docstring이 입력과 출력의 shape를, `docs/derivations.ko.md`가
역전파 유도 과정을 설명합니다. 나머지 파일(`solver.py`, `gradient_check.py`, `checks.py`(입력 검사),
`data_utils.py`, `vis_utils.py`)은 완성되어 있으니 읽기만 하면 됩니다.

{steps}

명령은 모두 이 폴더에서, 프로젝트의 Python(`{python}`, 아래의 `python`)으로 적힌 그대로 실행합니다:

{commands}

채점과 확인: 위의 첫 명령(`python -m compare --impl {PACKAGE}`, `--lang ko`면 한국어)을 실행하면 부분마다
torch autograd, 수치 미분(numerical gradient), 실습의 기대값과 비교한 표와 점수가 나옵니다. 점수는 여러분이
작성하는 {own}개 부분을 셉니다(`{own}/{own} 부분 정답`; 함수 하나가 여러 부분으로 채점되기도 합니다). 이미 작성되어
있는 {given}개 부분(affine-ReLU 샌드위치, sgd, Solver)도 여러분의 코드를 실행하므로 따로 표시됩니다.
`--explain`을 붙이면 틀린 부분마다 어디가 다른지(부호, 1/N 누락, 전치 등)와 따라야 할 유도 과정을
보여 줍니다. 모두 맞으면 노트북(`two_layer_net.ipynb`)으로 학습과 하이퍼파라미터 탐색을 진행하세요.
목표: 첫 학습에서 검증 정확도 약 36%, 튜닝 후 검증과 테스트 모두 48% 이상.
위의 `train.py --impl {PACKAGE}` 는 여러분의 `{PACKAGE}/` 코드(`fc_net.py`의 `TwoLayerNet`, `optim.py`,
`solver.py`)를 이 컴퓨터의 그 프로세스 안에서 실행해 CIFAR-10으로 학습하고, 결과(기록, 그래프, 모델)를
이 폴더의 `runs/` 에 저장합니다. `tune.py --impl {PACKAGE} --lang ko --no-analysis` 는 여러분의 코드로
하이퍼파라미터를 탐색해 실험 표를 만들되 "결과 분석 및 고찰" 칸은 비워 둡니다.

## English

The functions in `{PACKAGE}/` are empty: each raises `NotImplementedError`. Implement them in this
order. Each docstring gives the shapes; `docs/derivations.md` derives each backward pass. The other
files (`solver.py`, `gradient_check.py`, `checks.py` (argument checks), `data_utils.py`, `vis_utils.py`)
come finished: read them, nothing to write.

{steps}

Run every command in this folder, as written, with the project's Python (`{python}`, the
`python` below):

{commands}

To check your work, run the first command above (`python -m compare --impl {PACKAGE}`; `--lang ko` for
Korean). It grades every part against torch autograd, the numerical gradient and the lab's expected
figures, and prints a score over the {own} parts you write (`{own}/{own} parts correct`; one function
can be graded as several parts). The {given} parts that come written (the affine-ReLU sandwich, sgd,
the Solver) run your code too, so they are shown beside the score. `--explain` says, for each
failing part, where the numbers differ (a sign, a missing 1/N, a transposed factor, ...) and which
derivation to follow. Then work through the notebook (`two_layer_net.ipynb`): train, then tune.
The targets: about 36% validation accuracy after the first run, and above 48% on validation and test
after tuning.
The `train.py --impl {PACKAGE}` command above trains your own `{PACKAGE}/` code (`fc_net.py`'s
`TwoLayerNet`, `optim.py`, `solver.py`) on CIFAR-10, running it in that process on your machine, and
saves the run (history, plots, model) in this folder's `runs/`. `tune.py --impl {PACKAGE} --lang ko
--no-analysis` searches hyperparameters with your code and writes the experiment table with the
analysis column left for you to fill.
"""


def kit_commands(lang: str = "en") -> list[str]:
    """The kit's commands, exact for this machine: the Python running `exercises make` (the project's), with
    train.py and tune.py by their absolute paths, so they run as written from the kit folder; the grader in lang."""
    python = shlex.quote(sys.executable)
    try:  # installed (pip install -e .): the project's packages import from anywhere
        importlib.metadata.distribution("two-layer-net")
        grade = f"{python} -m compare --impl {PACKAGE}"
    except importlib.metadata.PackageNotFoundError:
        grade = f"PYTHONPATH={shlex.quote(str(ROOT))} {python} -m compare --impl {PACKAGE}"
    train, tune = (shlex.quote(str(ROOT / name)) for name in ("train.py", "tune.py"))
    return [
        grade + (f" --lang {lang}" if lang != "en" else ""),
        f"{python} {train} --impl {PACKAGE} --num-epochs 5",
        f"{python} {tune} --impl {PACKAGE} --lang ko --no-analysis",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m exercises", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("make", help="write the student's copy into OUT")
    make.add_argument("out", metavar="OUT")
    make.add_argument(
        "--overwrite", action="store_true", help="rewrite a kit in OUT; refused if any of its files were changed"
    )
    make.add_argument(
        "--backup", action="store_true", help="with --overwrite: copy OUT to a sibling folder first (named)"
    )
    make.add_argument(
        "--autograder", action="store_true", help="also write OUT/autograder/: a Gradescope autograder, for the teacher"
    )
    make.add_argument(
        "--lang", choices=("en", "ko"), default="en", help="the grader's language in the kit's commands and autograder"
    )
    args = parser.parse_args(argv)
    if args.backup and not args.overwrite:
        parser.error("--backup goes with --overwrite")
    try:
        if args.autograder:  # refused before the kit is touched
            from exercises.autograder import FOLDER, autograder_files, autograder_problem, make_autograder

            folder = Path(args.out) / FOLDER
            if problem := autograder_problem(folder, autograder_files(args.lang), args.overwrite, args.backup):
                raise ValueError(problem)
        todo = make_exercise(Path(args.out), args.overwrite, args.backup, args.lang)
        count = sum(len(names) for names in todo.values())
        own, given = graded_parts()
        print(
            f"wrote {args.out}: {count} functions to implement in {len(todo)} files, graded as {own} parts "
            f"({given} more come written); start with {args.out}/README.md"
        )
        if args.autograder:
            make_autograder(folder, args.overwrite, args.backup, args.lang)
            print(f"wrote {folder}: zip it for Gradescope as {folder}/README.md says (not for students)")
    except (ValueError, OSError) as err:
        print(f"python -m exercises: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
