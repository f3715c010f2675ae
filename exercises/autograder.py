"""`python -m exercises make OUT --autograder`: OUT/autograder/, the lab's grader as a Gradescope autograder.

The folder is what the teacher zips and uploads (a programming assignment's "Configure Autograder"):
Gradescope unpacks the zip into /autograder/source, runs setup.sh there once when it builds the image,
copies run_autograder to /autograder/run_autograder and runs it for every submission. So the folder
is the zip's root and holds, side by side:

setup.sh        installs bubblewrap, Python 3.11+ and, in /opt/lab-grader-venv, numpy and torch (CPU)
run_autograder  grades /autograder/submission with `python -m compare --impl`; always leaves a results.json
compare/, common/, docs/derivations.md, pyproject.toml   the grader's code (nothing of the oracle's)
points.toml     points per part, 1 each: the teacher edits it
README.md       how to zip, upload and test it (Korean and English)
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path

from common.artifacts import atomic_open
from common.runtime import current_umask

ROOT = Path(__file__).resolve().parents[1]
FOLDER = "autograder"  # inside the kit's OUT
PACKAGES = ("compare", "common")  # what `python -m compare --impl` imports; compare/__main__ imports the rest lazily
EXECUTABLE = ("run_autograder", "setup.sh")
MARK = "# written by `python -m exercises make OUT --autograder`"  # the second line of run_autograder


def _pins() -> tuple[str, str, str]:
    """The project's version and its numpy and torch requirements, as pyproject.toml gives them."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = {}
    for requirement in project["dependencies"]:
        name = requirement.split(";")[0].strip()
        for package in ("numpy", "torch"):
            if name.startswith(package) and not name[len(package) :][:1].isalnum():
                wanted[package] = name
    return project["version"], wanted["numpy"], wanted["torch"]


def autograder_files(lang: str = "en") -> dict[str, str]:
    """The autograder folder in memory: {path inside it: text}; its messages to students in lang ("en", "ko")."""
    from compare.grade import PARTS  # torch: imported only when an autograder is made

    version, numpy_pin, torch_pin = _pins()
    files = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).glob("*.py")):
            files[f"{package}/{path.name}"] = path.read_text(encoding="utf-8")
    for name in ("derivations.md", "derivations.ko.md"):
        files[f"docs/{name}"] = (ROOT / "docs" / name).read_text(encoding="utf-8")
    files["pyproject.toml"] = PYPROJECT.format(version=version, numpy=numpy_pin, torch=torch_pin)
    names = [part.name for part in PARTS]
    files["points.toml"] = POINTS_HEADER + "".join(f"{json.dumps(p.name)} = {0 if p.given else 1}\n" for p in PARTS)
    files["setup.sh"] = SETUP_SH.replace("@NUMPY@", numpy_pin).replace("@TORCH@", torch_pin)
    files["run_autograder"] = RUN_AUTOGRADER.replace("@MARK@", MARK).replace("@LANG@", lang)
    files["README.md"] = README.replace("@PARTS@", str(len(names)))
    return files


def is_autograder(folder: Path) -> bool:
    """Whether folder looks like one written here: its run_autograder carries the mark on its second line."""
    script = folder / "run_autograder"
    if not script.is_file() or script.is_symlink():
        return False
    try:
        with open(script, encoding="utf-8") as f:
            f.readline()
            return f.readline() == MARK + "\n"
    except (OSError, UnicodeDecodeError):
        return False


def autograder_problem(folder: Path, files: dict[str, str], overwrite: bool, backup: bool) -> str:
    """Why folder must not be written ('' when it may), by the kit's rules for --overwrite and --backup."""
    if not (folder.is_dir() and any(folder.iterdir())):
        if folder.exists() and not folder.is_dir():
            return f"{folder}: is not a folder; move it away"
        return ""
    if not overwrite:
        return f"{folder}: already holds files; give a new folder, or pass --overwrite"
    if not is_autograder(folder):
        return (
            f"{folder}: not an autograder folder (no run_autograder written by `python -m exercises make "
            "--autograder`); --overwrite replaces only such a folder; move it away"
        )
    from exercises.__main__ import changed_files

    changed = changed_files(folder, files)
    if changed and not backup:
        shown = ", ".join(changed[:8]) + (f" and {len(changed) - 8} more" if len(changed) > 8 else "")
        return (
            f"{folder}: --overwrite would replace edits: {shown} differ from a fresh autograder; "
            "pass --backup to copy the folder aside first"
        )
    return ""


def make_autograder(folder: Path, overwrite: bool = False, backup: bool = False, lang: str = "en") -> list[str]:
    """Write the autograder folder -> the files written. ValueError (nothing written) when it must not be:
    a folder that holds files is rewritten only with ``overwrite``, only when it is an autograder, and,
    when any of its files was edited (points.toml), only with ``backup``: then it is first copied to a
    sibling (named on stdout). Files of the teacher's own are left as they are.
    """
    from exercises.__main__ import backup_folder, changed_files

    files = autograder_files(lang)
    if problem := autograder_problem(folder, files, overwrite, backup):
        raise ValueError(problem)
    if folder.is_dir() and any(folder.iterdir()) and changed_files(folder, files):
        print(f"backed up {folder} to {backup_folder(folder)}")
    for name, text in files.items():
        with atomic_open(folder / name) as f:
            f.write(text)
            if name in EXECUTABLE:
                os.fchmod(f.fileno(), 0o777 & ~current_umask())
    return list(files)


PYPROJECT = """\
# The lab's grader alone (`python -m compare --impl`), as the Gradescope autograder ships it.
# run_autograder runs it from this folder (no install needed); `pip install .` also works.
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "two-layer-net-grader"
version = "{version}"
description = "The two-layer net lab's grader, part by part against torch autograd, in a sandbox"
requires-python = ">=3.11"
dependencies = ["{numpy}", "{torch}"]

[tool.setuptools]
packages = ["compare", "common"]
"""

POINTS_HEADER = """\
# Points per part of the lab: edit the numbers (any number >= 0), keep the names.
# Gradescope's total is their sum; a part that is not correct scores 0. The parts the kit gives
# written (the affine-ReLU sandwich, sgd, the Solver) are worth 0 unless you change that.
"""

SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image (Ubuntu 22.04 or 24.04), after
# unpacking the zip into /autograder/source. Nothing here runs per submission; it needs the internet.
set -euo pipefail
VENV=/opt/lab-grader-venv  # run_autograder's python; outside /autograder, whatever its permissions

apt-get update
# bubblewrap: the sandbox each student's part runs in (where the container allows it; see README.md);
# python3-venv: an environment of the grader's own (Ubuntu 24.04 refuses pip installs into its Python)
apt-get install -y --no-install-recommends bubblewrap python3 python3-venv
# the grader needs Python 3.11 or newer (tomllib): Ubuntu 22.04's python3 is 3.10, its python3.11 will do
PY=python3
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    apt-get install -y --no-install-recommends python3.11 python3.11-venv
    PY=python3.11
fi
# world-readable (umask 022): without bubblewrap the student's code runs as another uid and imports numpy here
umask 022
"$PY" -m venv "$VENV"
# numpy: the student's code and the grader; torch: the truth the grader checks against (CPU wheel, no CUDA)
"$VENV/bin/pip" install --no-cache-dir "@NUMPY@"
"$VENV/bin/pip" install --no-cache-dir "@TORCH@" --index-url https://download.pytorch.org/whl/cpu
# torch unreadable to others: without bubblewrap the student's code runs as another uid, which must not import it
chmod -R go-rwx "$("$VENV/bin/python" -c 'import os, torch; print(os.path.dirname(torch.__file__))')"
# the grader itself needs no install: run_autograder runs it from /autograder/source (compare/, common/)
"""

RUN_AUTOGRADER = r"""#!/usr/bin/env bash
@MARK@
# Gradescope runs this, as root, for every submission: it grades $ROOT/submission (the lab's files, or a
# kit folder with lab/ inside) with the grader in $ROOT/source and writes $ROOT/results/results.json,
# even when the grader cannot grade (then with score 0 and the grader's error as its output).
# For a local try: AUTOGRADER_ROOT=/tmp/ag PYTHON=python3 bash run_autograder (see README.md).
set -uo pipefail
ROOT="$(cd "${AUTOGRADER_ROOT:-/autograder}" && pwd -P)" || exit 1  # absolute: the script changes folder
SOURCE="$ROOT/source"
RESULTS="$ROOT/results/results.json"
if [ -z "${PYTHON:-}" ]; then  # setup.sh's venv, else the system's
    if [ -x /opt/lab-grader-venv/bin/python3 ]; then PYTHON=/opt/lab-grader-venv/bin/python3; else PYTHON=python3; fi
fi
mkdir -p "$ROOT/results"
rm -f "$RESULTS"  # a grader that dies before it starts grading must not leave an earlier results.json standing

# The grader may run the student's code as an unprivileged uid without bubblewrap (Gradescope's container
# often forbids the namespaces bubblewrap needs): that uid must not read the grader or its points.
chmod -R go-rwx "$SOURCE"
# Work from the grader's folder, never the submission's: a student's compare/ or numpy/ must not be imported.
cd "$SOURCE" || exit 1

POINTS=()
if [ -f "$SOURCE/points.toml" ]; then POINTS=(--points "$SOURCE/points.toml"); fi
LOG="$(mktemp)"
# python -I: no PYTHON* variables, no user site, no working folder on sys.path, so a stray compare/ or
# common/ anywhere cannot stand in for the grader; it also ignores PYTHONPATH, so the grader's folder
# goes on sys.path explicitly (-c with the folder as its first argument). No pip install is needed, and
# the same line runs on Gradescope and in a local test.
GRADE='import sys; sys.path.insert(0, sys.argv[1]); from compare.__main__ import main; sys.exit(main(sys.argv[2:]))'
"$PYTHON" -I -c "$GRADE" "$SOURCE" --impl "$ROOT/submission" --json "$RESULTS" --format gradescope \
    --lang @LANG@ "${POINTS[@]}" 2>&1 | tee "$LOG"
code="${PIPESTATUS[0]}"

# 0: every part correct; 1: some part is not (the grader wrote results.json either way). Anything else,
# or no results.json (2: nothing to grade, a usage error; a crash): score 0, and say why.
if [ "$code" -le 1 ] && [ -s "$RESULTS" ]; then
    rm -f "$LOG"
    exit 0
fi
if ! "$PYTHON" -I -c '
import json, sys
log = open(sys.argv[1], encoding="utf-8", errors="replace").read()[-8000:]
output = (
    f"The autograder could not grade this submission (grader exit code {sys.argv[3]}):\n\n{log}\n"
    "Upload the lab files (layers.py, layer_utils.py, fc_net.py, optim.py, solver.py) "
    "or the kit folder with lab/ inside: one copy of the lab."
)
with open(sys.argv[2], "w", encoding="utf-8") as f:
    json.dump({"score": 0.0, "output": output, "tests": []}, f, indent=2)
    f.write("\n")
' "$LOG" "$RESULTS" "$code" 2>/dev/null; then
    printf '%s\n' '{"score": 0.0, "output": "The grader did not start; tell your teacher.", "tests": []}' >"$RESULTS"
fi
rm -f "$LOG"
exit 0
"""

README = """\
# Gradescope 자동 채점기 / The Gradescope autograder

## 한국어

이 폴더는 실습 채점기(`python -m compare --impl`)를 Gradescope의 프로그래밍 과제 자동 채점기로 묶은
것입니다. 학생에게 나눠 줄 키트에서는 이 `autograder/` 폴더를 빼고 나눠 주세요.

1. 배점: `points.toml`에서 부분(@PARTS@개)마다 점수를 고칩니다 (기본 1점씩, 실습 폴더에 이미 작성되어
   주어지는 부분은 0점). 이름은 그대로 두세요.
2. 압축: `cd OUT/autograder && zip -r ../autograder.zip .` (폴더가 아니라 내용이 zip의 최상위에 와야 합니다).
3. 올리기: Gradescope의 Programming Assignment → Configure Autograder → Zip file upload, base image는
   Ubuntu 22.04 또는 24.04. Gradescope가 zip을 `/autograder/source`에 풀고 `setup.sh`를 한 번 실행해
   bubblewrap, Python 3.11 이상, numpy, torch(CPU)를 설치합니다 (인터넷 필요). 제출마다 `run_autograder`가
   `/autograder/submission`을 채점해 `/autograder/results/results.json`을 씁니다 (부분마다 하나의 test).
   채점할 수 없으면(실습 파일이 없음 등) 0점과 그 이유를 씁니다.
4. 시간: 부분마다 최대 20초, 보통 제출 하나에 1분이 안 걸립니다. 자동 채점 제한 시간은 10분 이상으로 두세요.

학생은 실습 파일(`layers.py`, `layer_utils.py`, `fc_net.py`, `optim.py`, `solver.py`)을 올리거나,
`lab/`이 들어 있는 키트 폴더를 올립니다. 실습 폴더가 두 벌(백업 등) 들어 있으면 채점하지 않습니다.

샌드박스: 학생 코드는 채점기 프로세스에서 돌지 않습니다. 부분마다 새 자식 프로세스가 제출물의 임시 복사본에서
돌고, CPU 시간, 메모리(2 GiB), 파일 크기, 프로세스 수 제한과 시간 제한을 받습니다. 자식은 채점기가 고른
입력에 대한 배열만 돌려주고, 정답(torch autograd)과 판정은 모두 채점기 쪽에서 계산합니다. 컨테이너가
허락하면 bubblewrap 안에서(네트워크 없음, 시스템은 읽기 전용, 다른 파일은 보이지 않음), 허락하지 않으면
(Gradescope의 Docker는 보통 허락하지 않습니다) 별도의 권한 없는 uid로 돕니다. 그 uid가 채점기와 배점을
읽지 못하도록 `run_autograder`가 `/autograder/source`를 root만 읽게 바꿉니다. 실제로 쓰인 층은 채점 출력의
첫 줄(`isolation: ...`)에 나옵니다.

로컬 시험: 폴더 `R`에 Gradescope처럼 `R/source`(이 폴더의 복사본), `R/submission`(제출물), `R/results`를
만들고 `AUTOGRADER_ROOT=R PYTHON=python3 bash R/source/run_autograder` 를 실행한 뒤 `R/results/results.json`을
확인합니다.

## English

This folder packs the lab's grader (`python -m compare --impl`) as a Gradescope programming-assignment
autograder. Leave this `autograder/` folder out of the kit you hand to students.

1. Points: edit each part's points in `points.toml` (@PARTS@ parts, 1 each; 0 for the parts the kit gives
   written); keep the names.
2. Zip: `cd OUT/autograder && zip -r ../autograder.zip .` (the folder's contents at the zip's top, not the folder).
3. Upload: Gradescope's Programming Assignment -> Configure Autograder -> Zip file upload, base image Ubuntu
   22.04 or 24.04. Gradescope unpacks the zip into `/autograder/source` and runs `setup.sh` once, which
   installs bubblewrap, Python 3.11+, numpy and torch (CPU) (it needs the internet). For every submission
   `run_autograder` grades `/autograder/submission` into `/autograder/results/results.json`, one test per
   part; when there is nothing to grade (no lab files, ...) it writes score 0 and says why.
4. Time: at most 20 s per part; a whole submission takes well under a minute as a rule. Keep the
   autograder's timeout at 10 minutes or more.

Students upload the lab's files (`layers.py`, `layer_utils.py`, `fc_net.py`, `optim.py`, `solver.py`), or
their kit folder with `lab/` inside. A submission with two copies of the lab (a backup, ...) is not graded.

The sandbox: the student's code never runs in the grader's process. Each part starts a fresh child process
in a scratch copy of the submission, with limits on CPU time, memory (2 GiB), file size and processes, and
a time limit. The child only returns arrays for inputs the grader chose; the truth (torch autograd) and
every verdict are computed in the grader. Where the container allows it, the child runs in bubblewrap (no
network, the system read-only, nothing else visible); where it does not (Gradescope's Docker as a rule),
as an unprivileged uid of its own, and `run_autograder` makes `/autograder/source` readable by root alone
so that this uid cannot read the grader or the points. The first line of the grader's output
(`isolation: ...`) says which layers were used.

To try it locally: lay out a folder `R` as Gradescope does, `R/source` (a copy of this folder),
`R/submission` (a student's files) and `R/results`, run
`AUTOGRADER_ROOT=R PYTHON=python3 bash R/source/run_autograder`, then read `R/results/results.json`.
"""
