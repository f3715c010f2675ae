"""Plot helpers: the moving average, the weight grid, the confusion matrix, and that each figure renders."""

import numpy as np
import pytest

from common.plots import (
    confusion_matrix,
    plot_accuracy,
    plot_accuracy_against_minutes,
    plot_confusion,
    plot_loss,
    plot_weights,
    save_figure,
    smooth,
    visualize_grid,
)


def test_smooth_is_a_trailing_moving_average():
    np.testing.assert_allclose(smooth([1, 2, 3, 4, 5], 2), [1, 1.5, 2.5, 3.5, 4.5])
    np.testing.assert_allclose(smooth([2.0, 4.0], 10), [2.0, 3.0])
    assert smooth([], 3).size == 0


def test_visualize_grid_scales_each_tile():
    tiles = np.stack([np.full((2, 2, 3), 7.0), np.arange(12.0).reshape(2, 2, 3)])
    grid = visualize_grid(tiles, ubound=255, padding=1)
    assert grid.shape == (2 * 3 - 1, 2 * 3 - 1, 3)  # a 2x2 grid of 2x2 tiles with 1-pixel padding
    assert grid[:2, :2].max() == 0  # a constant tile has no range: drawn as 0
    assert grid[:2, 3:5].min() == 0 and grid[:2, 3:5].max() == 255


def test_confusion_matrix_counts():
    counts = confusion_matrix(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 0]), 3)
    assert counts.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 0]]


@pytest.mark.parametrize(
    "make",
    [
        lambda: plot_loss(np.linspace(2.3, 1.0, 300), 30),
        lambda: plot_loss([2.0, 1.5, 1.2], 1, unit="epoch"),
        lambda: plot_accuracy([0.1, 0.3, 0.4], [0.1, 0.28, 0.35]),
        lambda: plot_weights(np.random.default_rng(0).standard_normal((3072, 12))),
        lambda: plot_confusion(np.eye(10, dtype=int) * 90 + 1, [f"c{i}" for i in range(10)]),
        lambda: plot_accuracy_against_minutes({"v1": [(4, 0.57, None), (22, 0.66, 0.67)]}, target=0.7),
    ],
)
@pytest.mark.slow
def test_figures_render_to_png(tmp_path, make):
    path = save_figure(make(), tmp_path / "figure.png")
    assert path.read_bytes().startswith(b"\x89PNG") and path.stat().st_size > 3000


@pytest.mark.slow
def test_korean_labels_draw_in_a_korean_font_without_a_missing_glyph():
    import io
    import warnings

    from common.plots import plot_accuracy, plot_confusion, plot_loss, plot_weights

    figures = [
        plot_loss(list(np.linspace(2.3, 1.2, 200)), 20, lang="ko"),
        plot_accuracy([0.1, 0.3, 0.4], [0.1, 0.28, 0.37], lang="ko"),
        plot_weights(np.random.default_rng(0).standard_normal((3072, 16)), lang="ko"),
        plot_confusion(np.eye(10, dtype=int) * 90 + 1, [f"c{i}" for i in range(10)], lang="ko"),
        plot_accuracy_against_minutes(
            {"v2": [(3, 0.6, None), (24, 0.7, 0.71)]}, target=0.7, budget_minutes=25, lang="ko"
        ),
    ]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for fig in figures:
            fig.savefig(io.BytesIO(), format="png")
    missing = [str(w.message) for w in caught if "missing from" in str(w.message)]
    assert not missing, missing  # a missing glyph would be drawn as an empty box
    title = figures[1].axes[0].title
    assert title.get_text() == "분류 정확도" and title.get_fontname() == "NanumGothic"


def test_the_minutes_figures_end_labels_and_legend_cover_nothing():
    """v2 and v3 end 0.2 points and a minute apart: their accuracy labels were drawn over each other, and the
    legend over the lines."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    series = {
        "v2": [(3, 0.61, None), (22.9, 0.702, 0.7)],
        "v3 (v2 with AdamW), a label as long as v4's": [(23.8, 0.7005, 0.709)],
    }
    fig = plot_accuracy_against_minutes(series, target=0.7, budget_minutes=25)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer, ax = canvas.get_renderer(), fig.axes[0]
    first, second = (text.get_window_extent(renderer) for text in ax.texts)
    assert not first.overlaps(second)
    legend = fig.legends[0].get_window_extent(renderer)
    assert not legend.overlaps(ax.get_window_extent(renderer)) and fig.bbox.contains(legend.x0, legend.y0)
    assert fig.bbox.contains(legend.x1, legend.y1)  # not cut off at the figure's edges


def test_the_labs_vis_utils_is_common_plots():
    """numpy_impl.vis_utils, the module the notebook imports, holds common.plots' functions themselves."""
    import common.plots
    import numpy_impl.vis_utils

    assert {"visualize_grid", "plot_loss", "plot_accuracy", "plot_weights"} <= set(numpy_impl.vis_utils.__all__)
    for name in common.plots.__all__:
        assert getattr(numpy_impl.vis_utils, name) is getattr(common.plots, name), name
