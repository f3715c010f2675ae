"""The grader speaks Korean with --lang ko: every message has a Korean entry with the same fields, no message is
built in English outside the catalogue, and each named mistake is named in Korean."""

import ast
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from test_grade import CLASSIC_MISTAKES, NAMED_MISTAKES, by_part, student_copy

from compare import messages
from compare.grade import PartResult, explain_failures, format_grades, grade
from compare.gradebook import PROBLEMS
from compare.messages import KO, fields, language, tr, tr_known
from compare.sandbox import CHILD_MESSAGES

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted(p for p in (ROOT / "compare").glob("*.py") if p.name != "messages.py")  # (tr's own)
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def templates_in_source() -> dict[str, str]:
    """Every literal template passed to tr() in compare/: {template: where}."""
    found = {}
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "tr":
                first = node.args[0] if node.args else None
                assert isinstance(first, ast.Constant) and isinstance(first.value, str), (
                    f"{path.name}:{node.lineno}: tr() takes a literal template, so the catalogue can be checked"
                )
                found[first.value] = f"{path.name}:{node.lineno}"
    return found


def test_every_template_has_a_korean_entry_with_the_same_fields_and_no_entry_is_unused():
    used = {**templates_in_source(), **{t: "a child or gradebook template" for t in (*CHILD_MESSAGES, *PROBLEMS)}}
    missing = [f"{where}: {template!r}" for template, where in used.items() if template not in KO]
    assert not missing, "no Korean entry for:\n" + "\n".join(missing)
    for template in used:
        assert fields(KO[template]) == fields(template), template
        words = re.sub(r"\{[^}]*\}", "", KO[template])  # Korean, or only punctuation between fields
        assert HANGUL.search(words) or not re.search(r"[A-Za-z]", words), template
    assert not set(KO) - set(used), set(KO) - set(used)


def test_no_message_is_built_in_english_outside_the_catalogue():
    """A failure's message is tr(...) or a value made of one, never an English literal or f-string."""
    raising = {"PartFailed": 1, "ChildFailed": 1, "SubmissionError": 0}
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            said = []
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in raising:
                said = node.args[raising[node.func.id] :][:1]
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "append":
                if isinstance(node.func.value, ast.Attribute) and node.func.value.attr in ("notes", "problems"):
                    said = node.args
            elif isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Attribute) and t.attr == "message" for t in node.targets
            ):
                said = [node.value]
            for value in said:
                literals = value.values if isinstance(value, ast.JoinedStr) else [value]
                english = any(
                    isinstance(part, ast.Constant)
                    and isinstance(part.value, str)
                    and re.search("[A-Za-z]{2}", part.value)
                    for part in literals
                )
                assert not english, f"{path.name}:{node.lineno}: a message in English only; pass it through tr()"


def test_tr_speaks_the_language_of_its_own_thread_only():
    template = "{name} holds NaN or infinity"
    heard = {}

    def other_thread():
        heard["other"] = tr(template, name="dx")

    with language("ko"):
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
        heard["here"] = tr(template, name="dx")
    assert heard == {"other": "dx holds NaN or infinity", "here": "dx에 NaN이나 무한대가 있습니다"}
    assert tr(template, name="dx") == "dx holds NaN or infinity"
    with pytest.raises(ValueError, match="expected one of en, ko"):
        with language("fr"):
            pass


def test_a_message_the_child_built_is_translated_and_the_students_own_words_are_kept():
    with language("ko"):
        assert tr_known("relu_forward: not implemented yet", CHILD_MESSAGES) == "relu_forward: 아직 구현되지 않았습니다"
        assert tr_known("solver.py has no Solver", CHILD_MESSAGES) == "solver.py에 Solver이(가) 없습니다"
        assert tr_known("RuntimeError: my bug", CHILD_MESSAGES) == "RuntimeError: my bug"
    assert tr_known("relu_forward: not implemented yet", CHILD_MESSAGES) == "relu_forward: not implemented yet"


def test_the_table_the_score_and_explain_are_in_korean():
    results = [
        PartResult("softmax loss", "wrong", message="x", derivation="4"),
        PartResult("update rule sgd", "correct"),
        PartResult("Solver", "timeout", message="y"),
    ]
    table = format_grades(results, "ko")
    assert table.splitlines()[0] == "| 부분 | 결과 | autograd 대비 | 수치 미분 대비 | 실습 기대값 대비 | 틀린 점 |"
    assert "| softmax loss | 오답 |" in table and "| Solver (제공됨) | 시간 초과 |" in table
    assert table.endswith("0/1 부분 정답 (직접 작성하는 부분 기준. 키트가 주는 부분: 1/2)")
    explained = explain_failures(results, "ko")
    assert "### softmax loss: 오답\n\n문제: x" in explained
    assert "softmax loss: 참고할 유도 과정 (docs/derivations.ko.md, 4절)" in explained
    assert "## 4. " in explained and HANGUL.search(explained.split("## 4. ")[1])


KOREAN_NAMES = {  # mistake -> words of its Korean message
    "softmax without the -1": "정답 클래스 위치의 -1이 빠졌습니다",
    "SVM counting its own margin": "정답 클래스 자신의 margin이 더해졌습니다",
    "regularization without its 1/2": "정규화 항에 1/2이 빠졌습니다",
    "epsilon inside the square root (RMSProp)": "epsilon을 제곱근 안에 넣었습니다",
    "epsilon inside the square root (Adam)": "epsilon을 제곱근 안에 넣었습니다",
    "Adam's bias correction with the old t": "t를 1 늘리기 전의 값으로 편향 보정(bias correction)을 합니다",
    "the velocity kept with the other sign": "부호가 반대입니다 (실습은 v = mu * v - lr * dw로 저장합니다)",
    "dx not reshaped back": "입력의 shape인 (10, 2, 3)(으)로 reshape해 되돌리세요",
    "relu_backward writing into dout": "입력 dout에 값을 덮어씁니다",
    "Adam's t incremented after the correction": "t에 먼저 1을 더하세요",
    "init ignoring weight_scale": "원소가 N(0, weight_scale^2)를 따라야 합니다",
    "init with biases of ones": "b1이(가) 0으로만 채워져 있지 않습니다",
    "the regularization gradient doubled": "gradient는 reg * W입니다",
    "the data loss summed over the batch": "data loss가 배치에 대한 평균이 아니라 합입니다",
}


@pytest.mark.slow
@pytest.mark.parametrize("mistake", NAMED_MISTAKES)
def test_each_named_mistake_is_named_in_korean(tmp_path, mistake):
    changes, part, named = NAMED_MISTAKES[mistake]
    result = by_part(grade(str(student_copy(tmp_path, changes)), only=(part,), lang="ko"))[part]
    assert not result.passed and KOREAN_NAMES[mistake] in result.message, (result.status, result.message)
    assert named not in result.message


@pytest.mark.slow
def test_the_command_line_grades_in_korean(tmp_path):
    folder = student_copy(tmp_path, CLASSIC_MISTAKES["missing 1/N"][0])
    command = [sys.executable, "-m", "compare", "--impl", str(folder), "--lang", "ko", "--explain"]
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stderr
    assert "| softmax loss | 오답 |" in proc.stdout and "N = 50배 큽니다: N으로 나누세요" in proc.stdout
    assert "11/13 부분 정답 (직접 작성하는 부분 기준. 키트가 주는 부분: 3/3)" in proc.stdout
    assert "이 부분은 softmax loss을(를) 실행하는데 그 부분이 틀렸습니다" in proc.stdout
    assert "docs/derivations.ko.md, 4절" in proc.stdout


def test_lang_goes_with_impl():
    proc = subprocess.run(
        [sys.executable, "-m", "compare", "--lang", "ko"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2 and "--lang goes with --impl" in proc.stderr


def test_a_kits_stubs_are_not_implemented_in_korean(tmp_path):
    out = tmp_path / "kit"
    made = subprocess.run(
        [sys.executable, "-m", "exercises", "make", str(out), "--lang", "ko"], cwd=ROOT, capture_output=True, text=True
    )
    assert made.returncode == 0, made.stderr
    assert "python -m compare --impl lab --lang ko" in (out / "README.md").read_text()
    result = grade(str(out / "lab"), only=("affine forward",), lang="ko")[0]
    assert result.status == "not implemented"
    assert result.message.startswith("affine_forward: 아직 구현되지 않았습니다 (layers.py:"), result.message
    assert messages.current() == "en"  # grading in Korean leaves this thread's language as it was
