"""Pictures of a training run: loss and accuracy curves, first-layer weights, confusion matrix; of a search:
validation accuracy against each hyperparameter.

Every ``plot_*`` function draws onto a new matplotlib Figure and returns it, so notebooks
can show it inline; ``save_figure`` writes one to PNG atomically (Agg, no display needed).
``lang="ko"`` labels them in Korean, in NanumGothic (shipped by koreanize-matplotlib, so a
fresh machine without Korean fonts draws no empty boxes).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from common.artifacts import atomic_open

__all__ = [
    "LANGS",
    "confusion_matrix",
    "plot_accuracy",
    "plot_accuracy_against_minutes",
    "plot_against_params",
    "plot_confusion",
    "plot_loss",
    "plot_weights",
    "save_figure",
    "visualize_grid",
]


LANGS = ("en", "ko")
TEXT = {
    "en": {
        "loss per": "loss per {unit}",
        "moving average": "moving average ({window} {unit}s)",
        "iteration": "iteration",
        "epoch": "epoch",
        "training loss": "training loss",
        "Training loss": "Training loss",
        "train": "train (subsample)",
        "validation": "validation",
        "accuracy": "accuracy",
        "Classification accuracy": "Classification accuracy",
        "weights": "First-layer weights ({shown} of {total} hidden units)",
        "fraction": "fraction of the true class",
        "predicted": "predicted",
        "true": "true",
        "confusion": "Test confusion matrix (accuracy {accuracy:.1%})",
        "minutes": "training time (minutes, 2 CPU cores)",
        "test accuracy": "test accuracy (10,000 images)",
        "against time": "Test accuracy against training time",
        "with flips": "{label}, with test-time flips",
        "target": "target {target:.0%}",
        "budget": "{:g}-minute budget",
        "validation accuracy": "validation accuracy (%)",
        "by hyperparameter": "Validation accuracy of every trial, by hyperparameter",
    },
    "ko": {
        "loss per": "{unit}별 손실",
        "moving average": "이동 평균 ({window}개 {unit})",
        "iteration": "반복(iteration)",
        "epoch": "에폭",
        "training loss": "훈련 손실",
        "Training loss": "훈련 손실",
        "train": "훈련 (표본)",
        "validation": "검증",
        "accuracy": "정확도",
        "Classification accuracy": "분류 정확도",
        "weights": "첫 번째 층 가중치 (은닉 유닛 {total}개 중 {shown}개)",
        "fraction": "실제 클래스 중 비율",
        "predicted": "예측",
        "true": "실제",
        "confusion": "테스트 혼동 행렬 (정확도 {accuracy:.1%})",
        "minutes": "훈련 시간 (분, CPU 코어 2개)",
        "test accuracy": "테스트 정확도 (이미지 10,000장)",
        "against time": "훈련 시간에 따른 테스트 정확도",
        "with flips": "{label}, 테스트 시 좌우 반전 평균",
        "target": "목표 {target:.0%}",
        "budget": "{:g}분 예산",
        "validation accuracy": "검증정확도 (%)",
        "by hyperparameter": "하이퍼파라미터별 trial의 검증정확도",
    },
}


def labels(lang: str) -> dict[str, str]:
    """The plot labels in ``lang`` ("en" or "ko"). Call it before making a figure: Korean switches the font,
    and every text keeps the font that was current when it was created."""
    if lang not in TEXT:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}, got {lang!r}")
    if lang == "ko":
        use_korean_font()
    return TEXT[lang]


def use_korean_font() -> None:
    """Draw with NanumGothic from here on (koreanize-matplotlib registers it with matplotlib on import)."""
    import warnings

    with warnings.catch_warnings():  # it still asks distutils for matplotlib's version
        warnings.simplefilter("ignore", DeprecationWarning)
        import koreanize_matplotlib  # noqa: F401  (sets rcParams["font.family"] and keeps the minus sign drawable)


def visualize_grid(Xs: np.ndarray, ubound: float = 255.0, padding: int = 1) -> np.ndarray:
    """Tile images Xs (N, H, W, C) into one grid image, each tile min-max scaled to [0, ubound] (the lab's)."""
    n, h, w, c = Xs.shape
    grid_size = int(np.ceil(np.sqrt(n)))
    grid = np.zeros((grid_size * (h + padding) - padding, grid_size * (w + padding) - padding, c))
    for index, image in enumerate(Xs):
        row, col = divmod(index, grid_size)
        low, high = image.min(), image.max()
        scaled = ubound * (image - low) / (high - low) if high > low else np.zeros_like(image, dtype=float)
        top, left = row * (h + padding), col * (w + padding)
        grid[top : top + h, left : left + w] = scaled
    return grid


def smooth(values, window: int) -> np.ndarray:
    """Trailing moving average of a 1-D series (the first points average what exists so far)."""
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return values
    window = max(1, min(window, values.size))
    cumulative = np.cumsum(np.insert(values, 0, 0.0))
    counts = np.minimum(np.arange(1, values.size + 1), window)
    starts = np.arange(1, values.size + 1) - counts
    return (cumulative[1:] - cumulative[starts]) / counts


def _finish(fig: Figure, ax, xlabel: str, ylabel: str, title: str) -> Figure:
    """Labels, legend and a light grid: the common dress of the line plots."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_loss(loss_history, window: int | None = None, unit: str = "iteration", lang: str = "en") -> Figure:
    """Training loss per iteration (or per ``unit``) with a moving average over ``window`` points (an epoch)."""
    t = labels(lang)
    fig = Figure(figsize=(8, 4.5))
    ax = fig.add_subplot()
    shown = t[unit]
    label = t["loss per"].format(unit=shown)
    ax.plot(loss_history, ".", markersize=2 if unit == "iteration" else 6, alpha=0.35, label=label)
    window = window or max(1, len(loss_history) // 50)
    if window > 1:
        label = t["moving average"].format(window=window, unit=shown)
        ax.plot(smooth(loss_history, window), linewidth=2, label=label)
    return _finish(fig, ax, shown, t["training loss"], t["Training loss"])


def plot_accuracy(train_acc_history, val_acc_history, lang: str = "en") -> Figure:
    """Train and validation accuracy at each check: after the first iteration (0), then after each epoch."""
    t = labels(lang)
    fig = Figure(figsize=(8, 4.5))
    ax = fig.add_subplot()
    epochs = np.arange(len(train_acc_history))
    ax.plot(epochs, train_acc_history, "o-", label=t["train"])
    ax.plot(epochs, val_acc_history, "o-", label=t["validation"])
    return _finish(fig, ax, t["epoch"], t["accuracy"], t["Classification accuracy"])


def plot_accuracy_against_minutes(
    series: dict[str, list[tuple[float, float, float | None]]],
    target: float | None = None,
    budget_minutes: float | None = None,
    lang: str = "en",
) -> Figure:
    """Test accuracy against training minutes: per label, one point (minutes, accuracy, flip-averaged accuracy or
    None) per run, joined by a line; flip-averaged scores as hollow markers; optional target and budget lines.
    The legend stands below the axes, and a line's end label that would cover another's moves down a line."""
    t = labels(lang)
    fig = Figure(figsize=(8, 9), layout="constrained")
    ax = fig.add_subplot()
    ends: list[tuple[float, float]] = []  # the points labelled so far
    for label, points in series.items():
        minutes, accuracy, flipped = zip(*sorted(points))
        (line,) = ax.plot(minutes, accuracy, "o-", label=label)
        end = (minutes[-1], accuracy[-1])
        lower = sum(abs(end[0] - x) < 3 and abs(end[1] - y) < 0.01 for x, y in ends)  # labels it would cover
        ax.annotate(f"{end[1]:.1%}", end, textcoords="offset points", xytext=(6, -12 - 11 * lower))
        ends.append(end)
        shown = [(m, a) for m, a in zip(minutes, flipped) if a is not None]
        if shown:
            ax.plot(*zip(*shown), "o", mfc="none", color=line.get_color(), label=t["with flips"].format(label=label))
    if target is not None:
        ax.axhline(target, color="gray", linestyle="--", linewidth=1, label=t["target"].format(target=target))
    if budget_minutes is not None:
        ax.axvline(budget_minutes, color="gray", linestyle=":", linewidth=1, label=t["budget"].format(budget_minutes))
    ax.set_xlabel(t["minutes"])
    ax.set_ylabel(t["test accuracy"])
    ax.set_title(t["against time"])
    ax.grid(alpha=0.3)
    fig.legend(loc="outside lower center", fontsize="small")
    return fig


def plot_against_params(points: dict[str, tuple[list, list, bool]], lang: str = "en") -> Figure:
    """Validation accuracy of each trial against each tuned hyperparameter: {name: (its values, the accuracies,
    log scale or not)}, in rows of two (up to four) or three."""
    from matplotlib.ticker import NullFormatter

    t = labels(lang)
    columns = 2 if len(points) <= 4 else 3
    rows = max(1, math.ceil(len(points) / columns))
    fig = Figure(figsize=(5 * columns, 3.75 * rows))
    for i, (name, (values, accuracies, log)) in enumerate(points.items()):
        ax = fig.add_subplot(rows, columns, i + 1)
        ax.scatter(values, [100 * a for a in accuracies], alpha=0.7)
        positive = [x for x in values if x > 0]
        if log and positive:  # log axis; symlog keeps a 0 (e.g. reg = 0) on it, linear below the smallest
            ax.set_xscale("log") if len(positive) == len(values) else ax.set_xscale("symlog", linthresh=min(positive))
            ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel(name)
        ax.set_ylabel(t["validation accuracy"])
        ax.grid(alpha=0.3)
    fig.suptitle(t["by hyperparameter"])
    fig.tight_layout()
    return fig


def plot_weights(W1: np.ndarray, max_tiles: int = 100, lang: str = "en") -> Figure:
    """First-layer weights W1 (3072, H) as a grid of 32x32 RGB tiles, one per hidden unit, each min-max scaled."""
    t = labels(lang)
    tiles = W1[:, :max_tiles].T.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    fig = Figure(figsize=(7, 7))
    ax = fig.add_subplot()
    ax.imshow(visualize_grid(tiles, padding=3).astype("uint8"))
    ax.set_title(t["weights"].format(shown=tiles.shape[0], total=W1.shape[1]))
    ax.axis("off")
    fig.tight_layout()
    return fig


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """counts[i, j] = number of examples of class i predicted as class j, (C, C)."""
    return np.bincount(
        num_classes * np.asarray(y_true) + np.asarray(y_pred), minlength=num_classes * num_classes
    ).reshape(num_classes, num_classes)


def plot_confusion(counts: np.ndarray, class_names, lang: str = "en") -> Figure:
    """A confusion matrix (C, C) with per-true-class recall as colour and the counts written in."""
    t = labels(lang)
    fig = Figure(figsize=(8, 7))
    ax = fig.add_subplot()
    recall = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    image = ax.imshow(recall, cmap="Blues", vmin=0, vmax=1)
    fig.colorbar(image, ax=ax, fraction=0.046, label=t["fraction"])
    ticks = np.arange(len(class_names))
    ax.set_xticks(ticks, class_names, rotation=45, ha="right")
    ax.set_yticks(ticks, class_names)
    ax.set_xlabel(t["predicted"])
    ax.set_ylabel(t["true"])
    for i in ticks:
        for j in ticks:
            ax.text(
                j,
                i,
                int(counts[i, j]),
                ha="center",
                va="center",
                fontsize=8,
                color="white" if recall[i, j] > 0.5 else "black",
            )
    accuracy = np.trace(counts) / max(counts.sum(), 1)
    ax.set_title(t["confusion"].format(accuracy=accuracy))
    fig.tight_layout()
    return fig


def save_figure(fig: Figure, path: str | os.PathLike) -> Path:
    """Write fig as PNG atomically; returns the path."""
    with atomic_open(path, "wb") as f:
        fig.savefig(f, format="png", dpi=110)
    return Path(path)
