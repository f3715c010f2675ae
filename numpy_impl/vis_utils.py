"""The lab's ``vis_utils``: pictures of a run, re-exported from common.plots (framework-free)."""

from common.plots import (
    confusion_matrix,
    plot_accuracy,
    plot_confusion,
    plot_loss,
    plot_weights,
    save_figure,
    visualize_grid,
)

__all__ = [
    "confusion_matrix",
    "plot_accuracy",
    "plot_confusion",
    "plot_loss",
    "plot_weights",
    "save_figure",
    "visualize_grid",
]
