"""The grader's words in the student's language: tr(English template, **values), and the Korean catalogue.

The English template is the key (as gettext does), so the grader's code reads as English; every template
passed to tr() in compare/ has a Korean entry with the same fields (tests/test_grade_korean.py).
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

LANGUAGES = ("en", "ko")
_language: ContextVar[str] = ContextVar("language", default="en")


@contextmanager
def language(lang: str) -> Iterator[None]:
    """Within the block, tr() speaks lang ("en" or "ko"), in this thread only."""
    if lang not in LANGUAGES:
        raise ValueError(f"language {lang!r}: expected one of {', '.join(LANGUAGES)}")
    token = _language.set(lang)
    try:
        yield
    finally:
        _language.reset(token)


def current() -> str:
    return _language.get()


def tr(template: str, **values) -> str:
    """template (English, with str.format fields) in the current language, filled with values."""
    if _language.get() == "ko":
        template = KO.get(template, template)
    return template.format(**values)


def fields(template: str) -> set[str]:
    """The names of template's str.format fields."""
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(template) if name}


def tr_known(text: str, templates: tuple[str, ...]) -> str:
    """text, when it is one of templates filled in (a message the child built in English), in the current
    language; otherwise text as it is (the submission's own words)."""
    if _language.get() == "en":
        return text
    for template in templates:
        names, pattern = [], ""
        for literal, name, _, _ in string.Formatter().parse(template):
            pattern += re.escape(literal)
            if name:
                names.append(name)
                pattern += "(.*)"
        match = re.fullmatch(pattern, text, flags=re.DOTALL)
        if match:
            return tr(template, **dict(zip(names, match.groups())))
    return text


STATUS_KO = {
    "correct": "정답",
    "wrong": "오답",
    "not implemented": "미구현",
    "error": "오류",
    "wrong shape": "shape 오류",
    "wrong dtype": "dtype 오류",
    "nan": "NaN",
    "timeout": "시간 초과",
}


def status(value: str) -> str:
    """A part's status (a fixed English word in JSON and CSV) as the table shows it."""
    return STATUS_KO.get(value, value) if _language.get() == "ko" else value


KO: dict[str, str] = {
    # ------------------------------------------------------------------ comparing an output
    " (transposed?)": " (전치되었나요?)",
    " (reshape it back to {shape}, the input's shape)": " (입력의 shape인 {shape}(으)로 reshape해 되돌리세요)",
    "{name} has shape {got}, expected {expected}{hint}": (
        "{name}의 shape가 {got}입니다. {expected}이어야 합니다{hint}"
    ),
    "{name} is {got}, expected {expected}": "{name}의 dtype이 {got}입니다. {expected}이어야 합니다",
    "{name} holds NaN or infinity": "{name}에 NaN이나 무한대가 있습니다",
    "{name} is not a NumPy array or a number": "{name}이(가) NumPy 배열이나 숫자가 아닙니다",
    "{name} has the wrong sign everywhere": "{name}의 부호가 모든 원소에서 반대입니다",
    "{name} is {words}": "{name}: {words}",
    "{name} {words}": "{name}: {words}",
    "{name} is off by up to {error:.1e} relative: a rounding or a constant differs": (
        "{name}이(가) 상대 오차 {error:.1e}까지 다릅니다: 반올림이나 상수 하나가 다릅니다"
    ),
    "{name}: {count} of {size} entries differ; the first at {first}: {got:.6g} where {truth:.6g} is right": (
        "{name}: {size}개 원소 중 {count}개가 다릅니다. 첫 번째 {first} 위치의 값은 {got:.6g}인데 {truth:.6g}여야 "
        "합니다"
    ),
    # ------------------------------------------------------------------ what the child sent
    "outputs": "출력",
    "arguments": "인자",
    "forward outputs": "forward의 출력",
    "the child sent no {what}": "제출물을 실행하는 프로세스가 {what}을(를) 보내지 않았습니다",
    "{name} is missing: the function returned {count} value(s)": (
        "{name}이(가) 없습니다: 함수가 값 {count}개를 반환했습니다"
    ),
    "the forward pass gives outputs of another shape when its input moves": (
        "입력을 조금 움직이면 forward pass의 출력 shape가 달라집니다"
    ),
    "writes into its input {name}, which belongs to the caller: {instead}": (
        "입력 {name}에 값을 덮어씁니다. 호출한 쪽의 배열이 바뀝니다: {instead}"
    ),
    "the backward pass returned {count} value(s), expected {expected}": (
        "backward pass가 값 {count}개를 반환했습니다. {expected}개여야 합니다"
    ),
    # ------------------------------------------------------------------ layers
    "compute out as a new array": "out을 새 배열로 계산하세요",
    "ignores b": "b를 더하지 않았습니다",
    "turns float32 inputs into a float64 output (silent upcast: twice the memory, slower)": (
        "float32 입력을 float64 출력으로 바꿉니다 (경고 없이 upcast됨: 메모리 2배, 더 느림)"
    ),
    "divided by N = {n}: this layer has no 1/N, the loss does": (
        "N = {n}(으)로 나뉘어 있습니다: 이 층에는 1/N이 없고, 1/N은 손실 함수에 있습니다"
    ),
    "multiplied by N = {n}": "N = {n}이 곱해져 있습니다",
    "make a new array, e.g. out = np.maximum(0, x)": "새 배열을 만드세요. 예: out = np.maximum(0, x)",
    "make dx a new array, e.g. dx = dout * (x > 0)": "dx를 새 배열로 만드세요. 예: dx = dout * (x > 0)",
    "is dout itself: the ReLU mask (x > 0) is missing": "dout 그대로입니다: ReLU 마스크 (x > 0)가 빠졌습니다",
    "uses the mask x < 0": "마스크를 x < 0으로 썼습니다",
    # ------------------------------------------------------------------ losses
    "N = {n} times too large: divide by N (the loss is a mean over the batch)": (
        "N = {n}배 큽니다: N으로 나누세요 (손실은 배치에 대한 평균입니다)"
    ),
    "loss is {loss:.6g}, expected {truth:.6g}": "loss가 {loss:.6g}입니다. {truth:.6g}이어야 합니다",
    " (N = {n} times too large: divide by N)": " (N = {n}배 큽니다: N으로 나누세요)",
    " (1 too large: the correct class's own margin, always 1, is counted; skip j == y)": (
        " (1만큼 큽니다: 항상 1인 정답 클래스 자신의 margin이 더해졌습니다. j == y는 건너뛰세요)"
    ),
    "scores near 1000 give a NaN or infinite loss: subtract each row's max before exp (exp(1000) overflows)": (
        "점수가 1000 근처이면 loss가 NaN이나 무한대가 됩니다: exp 전에 각 행의 최댓값을 빼세요 (exp(1000)은 "
        "오버플로합니다)"
    ),
    "misses the correct class's column: dx[i, y_i] = -(number of positive margins) / N": (
        "정답 클래스 열의 gradient가 빠졌습니다: dx[i, y_i] = -(양수인 margin의 개수) / N"
    ),
    "misses the -1 at the correct class: dx = (softmax - one_hot(y)) / N": (
        "정답 클래스 위치의 -1이 빠졌습니다: dx = (softmax - one_hot(y)) / N"
    ),
    "subtracts 1 from every class, not only the correct one: only dx[i, y_i] gets the -1": (
        "정답 클래스만이 아니라 모든 클래스에서 1을 뺍니다: -1은 dx[i, y_i]에만 붙습니다"
    ),
    # ------------------------------------------------------------------ TwoLayerNet
    "model.params is not a dict of arrays": "model.params가 배열의 dict가 아닙니다",
    "{name} is not all zeros": "{name}이(가) 0으로만 채워져 있지 않습니다",
    "with weight_scale = {scale:.3g}, {name} has mean {mean:.2e} and std {std:.2e}; expected N(0, "
    "weight_scale^2) entries": (
        "weight_scale = {scale:.3g}일 때 {name}의 평균이 {mean:.2e}, 표준편차가 {std:.2e}입니다. 원소가 N(0, "
        "weight_scale^2)를 따라야 합니다"
    ),
    "W1's columns are all alike: draw each weight on its own": (
        "W1의 열이 모두 같습니다: 가중치를 하나하나 따로 뽑으세요"
    ),
    "skip the ReLU": "ReLU를 건너뜁니다",
    "with reg = {reg:.3g} the loss is {loss:.10g}, expected {truth:.10g}": (
        "reg = {reg:.3g}일 때 loss가 {loss:.10g}입니다. {truth:.10g}이어야 합니다"
    ),
    "only the regularization differs: it is 0.5 * reg * (sum W1^2 + sum W2^2), no biases": (
        "정규화 항만 다릅니다: 0.5 * reg * (sum W1^2 + sum W2^2)이고, 편향(bias)은 들어가지 않습니다"
    ),
    "the regularization lacks its 1/2: 0.5 * reg * (sum W1^2 + sum W2^2)": (
        "정규화 항에 1/2이 빠졌습니다: 0.5 * reg * (sum W1^2 + sum W2^2)"
    ),
    "the biases are regularized too; only W1 and W2 are": (
        "편향(bias)까지 정규화했습니다. 정규화는 W1과 W2에만 합니다"
    ),
    "the data loss is a sum over the batch, not a mean": "data loss가 배치에 대한 평균이 아니라 합입니다",
    "the regularization is missing": "정규화 항이 빠졌습니다",
    "grads is not a dict of arrays": "grads가 배열의 dict가 아닙니다",
    "adds reg * b: the biases are regularized, they should not be": (
        "reg * b를 더합니다: 편향(bias)을 정규화했는데, 편향은 정규화하지 않습니다"
    ),
    "lacks reg * W: the regularization gradient is missing": "reg * W가 없습니다: 정규화 항의 gradient가 빠졌습니다",
    "has 2 * reg * W: the loss is 0.5 * reg * sum(W^2), its gradient reg * W": (
        "정규화 gradient가 2 * reg * W입니다: loss가 0.5 * reg * sum(W^2)이므로 gradient는 reg * W입니다"
    ),
    # ------------------------------------------------------------------ update rules
    "the returned config[{key}] is not the lab's state after the step": (
        "한 스텝 뒤 반환한 config[{key}]가 실습의 값과 다릅니다"
    ),
    ": it has the opposite sign (the lab keeps v = mu * v - lr * dw)": (
        ": 부호가 반대입니다 (실습은 v = mu * v - lr * dw로 저장합니다)"
    ),
    "adds the gradient: v = mu * v - lr * dw, then w + v": (
        "gradient를 더합니다. 올바른 식: v = mu * v - lr * dw로 계산한 뒤 next_w = w + v"
    ),
    "puts epsilon inside the square root: divide by sqrt(cache) + eps": (
        "epsilon을 제곱근 안에 넣었습니다: sqrt(cache) + eps로 나누세요"
    ),
    "corrects the bias with t before its increment: t = t + 1 first, then 1 - beta ** t": (
        "t를 1 늘리기 전의 값으로 편향 보정(bias correction)을 합니다: 먼저 t = t + 1, 그다음 1 - beta ** t"
    ),
    "puts epsilon inside the square root: divide by sqrt(v_hat) + eps": (
        "epsilon을 제곱근 안에 넣었습니다: sqrt(v_hat) + eps로 나누세요"
    ),
    "leaves out the bias correction: m / (1 - beta1 ** t), v / (1 - beta2 ** t)": (
        "편향 보정(bias correction)이 빠졌습니다: m / (1 - beta1 ** t), v / (1 - beta2 ** t)"
    ),
    # ------------------------------------------------------------------ the Solver
    "model.loss was called {count} times; training takes far fewer": (
        "model.loss가 {count}번 호출되었습니다. 학습에 필요한 횟수보다 훨씬 많습니다"
    ),
    "model.loss: X must be an (N, {features}) array of the data's rows, N <= {rows}": (
        "model.loss: X는 데이터의 행으로 된 (N, {features}) 배열이어야 합니다 (N <= {rows})"
    ),
    "model.loss: X must hold finite floats": "model.loss: X는 유한한 실수여야 합니다",
    "model.loss: y must be an (N,) integer array": "model.loss: y는 (N,) 정수 배열이어야 합니다",
    "model.loss: labels must be in 0..{last}": "model.loss: 레이블은 0..{last} 범위여야 합니다",
    "model.params must hold W1, b1, W2, b2": "model.params에는 W1, b1, W2, b2가 있어야 합니다",
    "model.params[{key}] must be a finite float64 array of shape {shape}": (
        "model.params[{key}]는 shape {shape}의 유한한 float64 배열이어야 합니다"
    ),
    "the Solver made {count} training steps; {expected} expected (10 epochs of 5)": (
        "Solver가 학습 스텝을 {count}번 했습니다. {expected}번이어야 합니다 (5스텝씩 10 epoch)"
    ),
    "the Solver trained on a batch of {rows} rows; batch_size is 10": (
        "Solver가 {rows}행짜리 배치로 학습했습니다. batch_size는 10입니다"
    ),
    "the Solver trained on rows (or labels) that are not the training data's": (
        "Solver가 학습 데이터에 없는 행(또는 레이블)으로 학습했습니다"
    ),
    "the Solver trained on only {count} different minibatches in {expected}": (
        "Solver가 {expected}번의 스텝에서 서로 다른 minibatch를 {count}개만 썼습니다: 스텝마다 새로 뽑으세요"
    ),
    "after step {step} the weights are not w - learning_rate * dw with learning_rate = {lr:.4g} (0.1, times "
    "lr_decay = 0.9 after each epoch); check optim.sgd and the Solver's decay": (
        "스텝 {step} 뒤의 가중치가 learning_rate = {lr:.4g}인 w - learning_rate * dw가 아닙니다 (0.1에서 시작해 "
        "epoch마다 lr_decay = 0.9를 곱함): optim.sgd와 Solver의 decay를 확인하세요"
    ),
    "after train() the model's params are none of the weights training went through": (
        "train() 뒤의 model.params가 학습 중에 거친 어떤 가중치와도 다릅니다"
    ),
    "training accuracy after 10 epochs is {accuracy:.2f}; a working Solver reaches 1.0": (
        "10 epoch 뒤 학습 정확도가 {accuracy:.2f}입니다. 제대로 된 Solver는 1.0에 도달합니다"
    ),
    "the Solver checked the validation accuracy {count} times; the lab's checks it after the first step and "
    "after each epoch ({expected} times), on the weights training reached then": (
        "Solver가 검증 정확도를 {count}번 확인했습니다. 실습의 Solver는 첫 스텝 뒤와 epoch마다 ({expected}번), "
        "그때까지 학습된 가중치로 확인합니다"
    ),
    "after train() the model's params are not those of the best validation accuracy ({accuracy:.2f}, check "
    "{check} of {count}): keep best_params at each better check and restore them at the end": (
        "train() 뒤의 model.params가 검증 정확도가 가장 높았던 가중치({accuracy:.2f}, {count}번 중 {check}번째 "
        "확인)가 아닙니다: 검증 정확도가 좋아질 때마다 best_params에 저장하고 마지막에 되돌리세요"
    ),
    "solver.{name} is not the {count} values training went through": (
        "solver.{name}이(가) 학습 중에 나온 값 {count}개와 다릅니다"
    ),
    # ------------------------------------------------------------------ running a part
    "the grader could not use the submission's answer ({kind}: {error})": (
        "채점기가 제출물의 답을 쓸 수 없습니다 ({kind}: {error})"
    ),
    "differs from autograd beyond the tolerance": "autograd와 허용 오차 이상 다릅니다",
    "the backward pass disagrees with the numerical gradient of its own forward pass": (
        "역전파 결과가 여러분의 순전파를 수치 미분한 값과 다릅니다"
    ),
    "differs from the lab's expected figures": "실습의 기대값과 다릅니다",
    "prints while it runs": "실행 중에 무언가를 출력합니다(print나 경고)",
    "cannot copy the submission: {error}": "제출물을 복사할 수 없습니다: {error}",
    "it runs {parts}, which fails: fix that first": (
        "이 부분은 {parts}을(를) 실행하는데 그 부분이 틀렸습니다: 그것부터 고치세요"
    ),
    "it runs {parts}, which fail: fix those first": (
        "이 부분은 {parts}을(를) 실행하는데 그 부분들이 틀렸습니다: 그 부분들부터 고치세요"
    ),
    " and ": ", ",
    # ------------------------------------------------------------------ the child (compare.sandbox, compare.child)
    "ran past the {limit} s limit": "제한 시간 {limit}초를 넘겼습니다",
    "closed its pipe and then hung": "제출물을 실행하는 프로세스가 파이프를 닫고 멈췄습니다",
    "the submission's process was killed by {signal}{why}": "제출물의 프로세스가 {signal}(으)로 종료되었습니다{why}",
    " (the CPU time limit)": " (CPU 시간 제한)",
    " (the file size limit)": " (파일 크기 제한)",
    "the submission's process ended (exit code {code}) before answering": (
        "제출물의 프로세스가 답하기 전에 끝났습니다 (종료 코드 {code})"
    ),
    "the submission's process sent something that is not a result ({error})": (
        "제출물의 프로세스가 결과가 아닌 것을 보냈습니다 ({error})"
    ),
    "the submission's process sent something that is not a result": "제출물의 프로세스가 결과가 아닌 것을 보냈습니다",
    "there is no {module}.py": "{module}.py가 없습니다",
    "{module}.py has no {name}": "{module}.py에 {name}이(가) 없습니다",
    "{module}.py does not import: {error}": "{module}.py를 import할 수 없습니다: {error}",
    "the result cannot be sent back: {error}": "결과를 돌려보낼 수 없습니다: {error}",
    "{function}: not implemented yet": "{function}: 아직 구현되지 않았습니다",
    "{count} copies of the lab's files ({shown}): hand in one": (
        "실습 파일이 {count}벌 있습니다 ({shown}): 하나만 내세요"
    ),
    "folders nested more than {depth} deep; hand in the lab's folder": (
        "폴더가 {depth}단계보다 깊습니다: 실습 폴더를 내세요"
    ),
    "more than {count} files; hand in the lab's folder alone": "파일이 {count}개보다 많습니다: 실습 폴더만 내세요",
    "larger than {size} MiB; hand in the lab's folder alone": "{size} MiB보다 큽니다: 실습 폴더만 내세요",
    "no lab files found (layers.py, layer_utils.py, fc_net.py, optim.py, solver.py)": (
        "실습 파일(layers.py, layer_utils.py, fc_net.py, optim.py, solver.py)이 없습니다"
    ),
    "a link to another folder, not a folder: not graded": (
        "폴더가 아니라 다른 폴더로 가는 링크라서 채점하지 않았습니다"
    ),
    "not graded (links and special files are not copied): {names}": (
        "채점하지 않은 파일 (링크와 특수 파일은 복사하지 않습니다): {names}"
    ),
    # ------------------------------------------------------------------ the table and --explain
    "| part | status | vs autograd | vs numerical | vs the lab's figures | what went wrong |": (
        "| 부분 | 결과 | autograd 대비 | 수치 미분 대비 | 실습 기대값 대비 | 틀린 점 |"
    ),
    " (given)": " (제공됨)",
    "{correct}/{total} parts correct": "{correct}/{total} 부분 정답",
    " (the parts you write; the parts the kit gives: {given_correct}/{given})": (
        " (직접 작성하는 부분 기준. 키트가 주는 부분: {given_correct}/{given})"
    ),
    "Not implemented yet: write it, then run this again.": "아직 구현되지 않았습니다: 작성한 뒤 다시 실행하세요.",
    "### {part}: {status}\n\nWhat differs: {said}{notes}": "### {part}: {status}\n\n문제: {said}{notes}",
    "The derivation to follow for {names} ({where}):\n\n{text}": "{names}: 참고할 유도 과정 ({where}):\n\n{text}",
    "docs/{file}, section {section}": "docs/{file}, {section}절",
    "Every part is correct.": "모든 부분이 정답입니다.",
    "the backward pass is right (it agrees with autograd), but not with the numerical gradient of your forward "
    "pass: the forward pass or the loss is what is wrong": (
        "역전파는 맞습니다(autograd와 일치). 하지만 여러분의 순전파를 수치 미분한 값과는 다르므로, 틀린 것은 "
        "순전파나 loss입니다"
    ),
    ": on a fresh state (t = 0), 1 - beta1 ** t is 0 and the bias correction divides by it; add 1 to t first": (
        ": 새 상태(t = 0)에서는 1 - beta1 ** t가 0이라 편향 보정이 0으로 나눕니다. t에 먼저 1을 더하세요"
    ),
    "still running at {file}:{line} in {function}": "{function}({file}:{line})에서 아직 실행 중이었습니다",
    "{rule} returned {what}; it must return the pair (next_w, config)": (
        "{rule}이(가) {what}을(를) 반환했습니다. (next_w, config) 쌍을 반환해야 합니다"
    ),
}
