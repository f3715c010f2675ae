"""The lab's experiment table, with its analysis column written from the numbers, in Korean or English.

Each trial is a plain dict (see ``TrialRecord``); the rules that write the analysis:

- diverged (the loss became NaN or infinite)          -> lower the learning rate
- failed (the trial crashed) or pruned                -> say so
- overfitting: train acc - val acc > OVERFIT_GAP      -> more regularization or fewer epochs
- underfitting: train acc < UNDERFIT_TRAIN_ACC and
  train acc - val acc <= UNDERFIT_GAP                 -> more capacity, epochs or learning rate
- then whether the row beat the best so far, and by how much (percentage points).

Values on the border of the search space are marked in the table, and named in the summary when
the best configuration has them: the best value may lie outside the space.
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from typing import TypedDict

OVERFIT_GAP = 0.10  # train - val above 10 points: overfitting
UNDERFIT_TRAIN_ACC = 0.50  # train accuracy below 50% ...
UNDERFIT_GAP = 0.05  # ... and within 5 points of validation: underfitting

COLUMNS = ("hidden_size", "learning_rate", "lr_decay", "num_epochs", "reg")


class TrialRecord(TypedDict, total=False):
    number: int
    state: str  # complete, pruned, failed, interrupted (failed, runs again on resume), running
    params: dict  # hidden_size, learning_rate, lr_decay, num_epochs, reg, ...
    train_acc: float | None
    val_acc: float | None
    seconds: float | None
    diverged: bool
    error: str | None
    pruned_epoch: int | None


TEXT = {
    "en": {
        "header": ("train acc", "val acc", "analysis"),  # after COLUMNS
        "diverged": "diverged (non-finite loss): lower the learning rate",
        "failed": "crashed: {error}",
        "pruned": "stopped early by the pruner after epoch {epoch}",
        "running": "still running (or its process on another machine died)",
        "interrupted": "{error}; it runs again when the study is resumed",
        "overfit": "overfitting (train - val = {gap:.1f} pts > {limit:.0f}): more regularization or fewer epochs",
        "underfit": (
            "underfitting (train {train:.1f}% is low and within {limit:.0f} pts of val): more capacity, "
            "epochs or learning rate"
        ),
        "balanced": "neither over- nor underfitting (train - val = {gap:.1f} pts)",
        "first": "first result",
        "new_best": "new best, +{delta:.1f} pts",
        "not_best": "{delta:.1f} pts below the best so far",
        "tie": "ties the best so far",
        "and": "and",
        "border_note": "† on the border of the search space: the best value may lie beyond it.",
        "best_border": "Its {names} {verb} on the border of the search space; widen the space there.",
        "summary": (
            "Best configuration: hidden_size={hidden_size}, learning_rate={learning_rate:g}, "
            "num_epochs={num_epochs}, reg={reg:g} (lr_decay {lr_decay}), trial {number}: "
            "{val:.1f}% validation, {train:.1f}% train, out of {count} finished trials."
        ),
        "mattered": (
            "What mattered most, judged only from sweeps where that one hyperparameter changed: {name} "
            "(validation accuracy moved by {spread:.1f} pts), then {rest}."
        ),
        "mattered_one": (
            "Only {name} was swept with everything else fixed: validation accuracy moved by {spread:.1f} pts."
        ),
        "mattered_none": (
            "No two finished trials differ in one hyperparameter alone, so this search cannot say which "
            "mattered most (random and TPE change them all at once)."
        ),
        "train_note": "train acc is taken at the epoch with the best validation accuracy.",
        "no_results": "No trial finished, so there is no best configuration yet.",
    },
    "ko": {
        "header": ("훈련정확도", "검증정확도", "결과 분석 및 고찰"),
        "diverged": "발산 (손실이 NaN/무한대): 학습률을 낮출 것",
        "failed": "실행 오류: {error}",
        "pruned": "{epoch} 에폭 후 pruner가 조기 중단",
        "running": "실행 중 (또는 다른 컴퓨터에서 프로세스가 종료됨)",
        "interrupted": "{error}: 중단됨. 탐색을 재개하면 다시 실행됨",
        "overfit": "과적합 (훈련 - 검증 = {gap:.1f}%p > {limit:.0f}): 정규화를 늘리거나 에폭을 줄일 것",
        "underfit": "과소적합 (훈련 {train:.1f}%로 낮고 검증과 {limit:.0f}%p 이내): 용량·에폭·학습률을 늘릴 것",
        "balanced": "과적합도 과소적합도 아님 (훈련 - 검증 = {gap:.1f}%p)",
        "first": "첫 결과",
        "new_best": "최고 기록 갱신, +{delta:.1f}%p",
        "not_best": "지금까지의 최고보다 {delta:.1f}%p 낮음",
        "tie": "지금까지의 최고와 같음",
        "and": "와",
        "border_note": "† 탐색 공간의 경계값: 최적값이 범위 밖에 있을 수 있음.",
        "best_border": "최적 설정의 {names} 값은 탐색 공간의 경계에 있으므로 그쪽으로 범위를 넓혀 볼 것.",
        "summary": (
            "최적 설정: hidden_size={hidden_size}, learning_rate={learning_rate:g}, "
            "num_epochs={num_epochs}, reg={reg:g} (lr_decay {lr_decay}), trial {number}: "
            "검증 {val:.1f}%, 훈련 {train:.1f}% (완료된 trial {count}개 중)."
        ),
        "mattered": (
            "가장 큰 영향 (그 하이퍼파라미터 하나만 바꾼 비교로만 판단): {name} (검증정확도 {spread:.1f}%p 변화), "
            "다음으로 {rest}."
        ),
        "mattered_one": "다른 값을 고정하고 바꿔 본 하이퍼파라미터는 {name}뿐: 검증정확도 {spread:.1f}%p 변화.",
        "mattered_none": (
            "하이퍼파라미터 하나만 다른 trial이 없어 무엇이 가장 중요했는지 판단할 수 없음 "
            "(random과 TPE는 모두를 한꺼번에 바꿈)."
        ),
        "train_note": "훈련정확도는 검증정확도가 가장 높았던 epoch의 값.",
        "no_results": "완료된 trial이 없어 최적 설정이 아직 없음.",
    },
}


def analyse(trial: TrialRecord, best_before: float | None, lang: str) -> str:
    """The analysis cell for one row, given the best validation accuracy of the rows before it."""
    t = TEXT[lang]
    state = trial.get("state", "complete")
    if trial.get("diverged"):
        return t["diverged"]
    if state == "failed":
        return t["failed"].format(error=trial.get("error") or "?")
    if state == "running":
        return t["running"]
    if state == "interrupted":
        return t["interrupted"].format(error=trial.get("error") or "interrupted")
    notes = []
    train, val = trial.get("train_acc"), trial.get("val_acc")
    if state == "pruned":
        notes.append(t["pruned"].format(epoch=trial.get("pruned_epoch", "?")))
    if train is not None and val is not None:
        gap = train - val
        if gap > OVERFIT_GAP:
            notes.append(t["overfit"].format(gap=100 * gap, limit=100 * OVERFIT_GAP))
        elif train < UNDERFIT_TRAIN_ACC and gap <= UNDERFIT_GAP:
            notes.append(t["underfit"].format(train=100 * train, limit=100 * UNDERFIT_GAP))
        elif state != "pruned":
            notes.append(t["balanced"].format(gap=100 * gap))
    if val is not None and state != "pruned":
        if best_before is None:
            notes.append(t["first"])
        elif val > best_before:
            notes.append(t["new_best"].format(delta=100 * (val - best_before)))
        elif val == best_before:
            notes.append(t["tie"])
        else:
            notes.append(t["not_best"].format(delta=100 * (best_before - val)))
    return "; ".join(notes)


def _fmt(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:g}"
    return str(int(value)) if isinstance(value, float) else str(value)


def _percent(value) -> str:
    return "" if value is None else f"{100 * value:.1f}%"


def varied_extras(trials: list[TrialRecord]) -> list[str]:
    """Settings beyond the lab's columns that take more than one value across the trials (tuned ones)."""
    values = defaultdict(set)
    for trial in trials:
        for name, value in trial["params"].items():
            if name not in COLUMNS:
                values[name].add(repr(value))
    return sorted(name for name, seen in values.items() if len(seen) > 1)


def lab_table(
    trials: list[TrialRecord], lang: str = "en", border=lambda name, value: False, analysis: bool = True
) -> str:
    """The lab's Markdown table, one row per trial in run order, with the analysis column (left empty for
    the student to fill when ``analysis`` is False).

    Values on the border of the search space (``border(name, value)``) are marked with a dagger.
    """
    t = TEXT[lang]
    columns = (*COLUMNS, *varied_extras(trials))
    header = (*columns, *t["header"])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    best, any_border = None, False
    for trial in sorted(trials, key=lambda r: r["number"]):
        params = trial["params"]
        cells = []
        for name in columns:
            on_border = name in params and border(name, params[name])
            any_border |= on_border
            cells.append(_fmt(params.get(name)) + (" †" if on_border else ""))
        cells += [
            _percent(trial.get("train_acc")),
            _percent(trial.get("val_acc")),
            analyse(trial, best, lang) if analysis else "",
        ]
        lines.append("| " + " | ".join(cells) + " |")
        if trial.get("state") == "complete" and trial.get("val_acc") is not None and not trial.get("diverged"):
            best = trial["val_acc"] if best is None else max(best, trial["val_acc"])
    lines += ["", t["train_note"]]
    if any_border:
        lines += ["", t["border_note"]]
    return "\n".join(lines)


def finished_records(trials: list[TrialRecord]) -> list[TrialRecord]:
    """The trials that completed with a validation accuracy and did not diverge."""
    return [
        r for r in trials if r.get("state") == "complete" and r.get("val_acc") is not None and not r.get("diverged")
    ]


def importance(trials: list[TrialRecord]) -> list[tuple[str, float]]:
    """Per hyperparameter, how far mean validation accuracy moved in its widest controlled comparison; largest
    first. A controlled comparison is a set of finished trials that agree on every other tuned hyperparameter
    and differ in this one (a greedy sweep). Random and TPE searches change everything at once, so a
    hyperparameter without such a set is left out rather than judged from confounded averages."""
    finished = finished_records(trials)
    names = ("hidden_size", "learning_rate", "num_epochs", "reg")
    ranked = []
    for name in names:
        sweeps = defaultdict(lambda: defaultdict(list))  # the other values -> this one's value -> val accs
        for r in finished:
            others = tuple(r["params"].get(other) for other in names if other != name)
            sweeps[others][r["params"].get(name)].append(r["val_acc"])
        controlled = [sweep for sweep in sweeps.values() if len(sweep) > 1]
        if not controlled:
            continue
        moves = [
            (len(sweep), max(means) - min(means))
            for sweep in controlled
            for means in [[sum(v) / len(v) for v in sweep.values()]]
        ]
        ranked.append((name, max(moves)[1]))  # the sweep over the most values (the widest move among ties)
    return sorted(ranked, key=lambda item: -item[1])


def best_record(trials: list[TrialRecord]) -> TrialRecord | None:
    """The finished trial with the highest validation accuracy (the earliest on ties), or None."""
    finished = finished_records(trials)
    return max(finished, key=lambda r: (r["val_acc"], -r["number"])) if finished else None


def summary(
    trials: list[TrialRecord], lang: str = "en", border=lambda name, value: False, analysis: bool = True
) -> str:
    """A paragraph naming the best configuration (and its values on the space's border) and, with
    ``analysis``, what mattered most."""
    t = TEXT[lang]
    best = best_record(trials)
    if best is None:
        return t["no_results"]
    finished = finished_records(trials)
    p = best["params"]
    text = t["summary"].format(
        hidden_size=p["hidden_size"],
        learning_rate=p["learning_rate"],
        num_epochs=p["num_epochs"],
        reg=p["reg"],
        lr_decay=p.get("lr_decay"),
        number=best["number"],
        val=100 * best["val_acc"],
        train=100 * (best.get("train_acc") or 0),
        count=len(finished),
    )
    on_border = [name for name in ("hidden_size", "learning_rate", "num_epochs", "reg") if border(name, p[name])]
    if on_border:
        names = on_border[0] if len(on_border) == 1 else ", ".join(on_border[:-1]) + f" {t['and']} " + on_border[-1]
        text += " " + t["best_border"].format(names=names, verb="is" if len(on_border) == 1 else "are")
    if not analysis:
        return text
    ranked = importance(trials)
    if len(ranked) > 1:
        rest = ", ".join(f"{name} ({100 * spread:.1f})" for name, spread in ranked[1:])
        text += " " + t["mattered"].format(name=ranked[0][0], spread=100 * ranked[0][1], rest=rest)
    elif ranked:
        text += " " + t["mattered_one"].format(name=ranked[0][0], spread=100 * ranked[0][1])
    else:
        text += " " + t["mattered_none"]
    return text


def results_csv(trials: list[TrialRecord]) -> str:
    """Every trial: number, state, parameters, train/val accuracy, seconds, error."""
    names = sorted({name for r in trials for name in r["params"]})
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["number", "state", *names, "train_acc", "val_acc", "seconds", "diverged", "error"])
    for r in sorted(trials, key=lambda r: r["number"]):
        writer.writerow(
            [
                r["number"],
                r.get("state"),
                *[r["params"].get(n, "") for n in names],
                _none(r.get("train_acc")),
                _none(r.get("val_acc")),
                _none(r.get("seconds")),
                bool(r.get("diverged")),
                r.get("error") or "",
            ]
        )
    return buffer.getvalue()


def _none(value):
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else value
