"""Pictures of a training run: loss and accuracy curves, first-layer weights, confusion matrix.

Every ``plot_*`` function draws onto a new matplotlib Figure and returns it, so notebooks
can show it inline; ``save_figure`` writes one to PNG atomically (Agg, no display needed).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from common.artifacts import atomic_open

__all__ = [
    "confusion_matrix",
    "plot_accuracy",
    "plot_confusion",
    "plot_loss",
    "plot_weights",
    "save_figure",
    "visualize_grid",
]


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


def plot_loss(loss_history, window: int | None = None, unit: str = "iteration") -> Figure:
    """Training loss per iteration (or per ``unit``) with a moving average over ``window`` points (an epoch)."""
    fig = Figure(figsize=(8, 4.5))
    ax = fig.add_subplot()
    ax.plot(loss_history, ".", markersize=2 if unit == "iteration" else 6, alpha=0.35, label=f"loss per {unit}")
    window = window or max(1, len(loss_history) // 50)
    if window > 1:
        ax.plot(smooth(loss_history, window), linewidth=2, label=f"moving average ({window} {unit}s)")
    return _finish(fig, ax, unit, "training loss", "Training loss")


def plot_accuracy(train_acc_history, val_acc_history) -> Figure:
    """Train and validation accuracy at each check: after the first iteration (0), then after each epoch."""
    fig = Figure(figsize=(8, 4.5))
    ax = fig.add_subplot()
    epochs = np.arange(len(train_acc_history))
    ax.plot(epochs, train_acc_history, "o-", label="train (subsample)")
    ax.plot(epochs, val_acc_history, "o-", label="validation")
    return _finish(fig, ax, "epoch", "accuracy", "Classification accuracy")


def plot_weights(W1: np.ndarray, max_tiles: int = 100) -> Figure:
    """First-layer weights W1 (3072, H) as a grid of 32x32 RGB tiles, one per hidden unit, each min-max scaled."""
    tiles = W1[:, :max_tiles].T.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    fig = Figure(figsize=(7, 7))
    ax = fig.add_subplot()
    ax.imshow(visualize_grid(tiles, padding=3).astype("uint8"))
    ax.set_title(f"First-layer weights ({tiles.shape[0]} of {W1.shape[1]} hidden units)")
    ax.axis("off")
    fig.tight_layout()
    return fig


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """counts[i, j] = number of examples of class i predicted as class j, (C, C)."""
    return np.bincount(
        num_classes * np.asarray(y_true) + np.asarray(y_pred), minlength=num_classes * num_classes
    ).reshape(num_classes, num_classes)


def plot_confusion(counts: np.ndarray, class_names, title: str = "Test confusion matrix") -> Figure:
    """A confusion matrix (C, C) with per-true-class recall as colour and the counts written in."""
    fig = Figure(figsize=(8, 7))
    ax = fig.add_subplot()
    recall = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    image = ax.imshow(recall, cmap="Blues", vmin=0, vmax=1)
    fig.colorbar(image, ax=ax, fraction=0.046, label="fraction of the true class")
    ticks = np.arange(len(class_names))
    ax.set_xticks(ticks, class_names, rotation=45, ha="right")
    ax.set_yticks(ticks, class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
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
    ax.set_title(f"{title} (accuracy {accuracy:.1%})")
    fig.tight_layout()
    return fig


def save_figure(fig: Figure, path: str | os.PathLike) -> Path:
    """Write fig as PNG atomically; returns the path."""
    with atomic_open(path, "wb") as f:
        fig.savefig(f, format="png", dpi=110)
    return Path(path)
