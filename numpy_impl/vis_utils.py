"""The lab's ``vis_utils``: pictures of a run, re-exported from common.plots (framework-free)."""

from common.plots import *  # noqa: F403 (the lab's names: visualize_grid, plot_loss, plot_accuracy, ...)
from common.plots import __all__  # noqa: F401
