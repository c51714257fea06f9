"""The hand-written SVG plots: tick values on any range, and every plot of a table whose values are all equal."""

from __future__ import annotations

import doctest
import html
import math

import pytest

from benchmarks import plots


@pytest.mark.parametrize("low,high", [(0.0, 1.0), (0.853, 0.871), (0.5, 0.5 + 1e-17), (1e6, 1e6 + 1e-10), (-1.0, -1.0),
                                      (0.0, 0.0), (1.0, 1.0), (-3.2, 7.9), (1e-9, 2e-9), (123456.0, 123457.0)])
def test_ticks_cover_the_range_in_round_steps(low: float, high: float) -> None:
    ticks = plots.nice_ticks(low, high)
    assert 2 <= len(ticks) <= 12  # a range of one value (or float noise) gets a span around it, never an endless axis
    steps = {round(b - a, 9 - math.floor(math.log10(abs(b - a)))) for a, b in zip(ticks, ticks[1:])}
    assert len(steps) == 1  # evenly spaced
    assert ticks[0] >= low - 1e-9 * max(1.0, abs(low)) and ticks[0] - (ticks[1] - ticks[0]) < low


def test_ticks_of_a_non_finite_range_are_empty() -> None:
    assert plots.nice_ticks(float("nan"), 1.0) == [] and plots.nice_ticks(0.0, float("inf")) == []


def test_doctests() -> None:
    assert doctest.testmod(plots).failed == 0


def _table(rows: list[tuple[str, float, float, float]], metric: str = "val_ppl", higher: bool = False):
    """A leaderboard table of (label, mean, fit seconds, peak MB) rows, without records."""
    from benchmarks.api import DatasetInfo
    from benchmarks.leaderboard import Row, Table

    made = [Row(system=label, label=label, records=[], main_values=[mean], metrics={metric: mean},
                fit_s=fit, peak_memory_mb=peak, hardware="2-core CPU", date="2026-01-01", ci=(mean * 0.98, mean * 1.02))
            for label, mean, fit, peak in rows]
    return Table(task="t", profile="default", dataset=DatasetInfo("tinyshakespeare", "a" * 64), main_metric=metric,
                 higher_is_better=higher, rows=made, task_version="1")


def _label_boxes(svg: str) -> list[tuple[float, float, float, float]]:
    """Boxes of the point labels, from the SVG's own coordinates (generous glyph widths: 0.62 em)."""
    import re

    boxes = []
    for x, y, anchor, size, text in re.findall(
            r'<text class="label" x="([\d.-]+)" y="([\d.-]+)" text-anchor="(\w+)" font-family="sans-serif" '
            r'font-size="([\d.]+)" fill="[^"]+">([^<]*)</text>', svg):
        width = 0.62 * float(size) * len(html.unescape(text))
        x0 = {"start": float(x), "middle": float(x) - width / 2, "end": float(x) - width}[anchor]
        boxes.append((x0, float(y) - 0.8 * float(size), x0 + width, float(y) + 0.25 * float(size)))
    return boxes


def test_cost_plot_labels_never_overlap(tmp_path) -> None:
    """char-mlp, char-lstm and char-gpt sit at almost the same place (their labels printed over each other); so do
    six more systems: every label box is clear of every other."""
    rows = [("char-mlp", 5.13, 245.0, 446.0), ("char-lstm", 4.77, 260.0, 447.0), ("char-gpt", 4.80, 258.0, 484.0),
            *[(f"system-with-a-long-name-{i}", 4.9 + i * 0.01, 250.0 + i, 400.0) for i in range(6)],
            ("uniform", 65.0, 0.01, 377.0)]
    path = plots.plot_cost([_table(rows)], tmp_path / "cost.svg")
    svg = path.read_text()
    boxes = _label_boxes(svg)
    legend = svg.count('<text class="label"') - len([b for b in boxes if b[0] < plots.WIDTH - 170])
    assert len(boxes) == len(rows) and legend >= 1  # crowded ones go to the legend, numbered
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not plots.boxes_overlap(a, b), (a, b)


def test_a_65x_perplexity_span_gets_a_log_axis(tmp_path) -> None:
    """uniform (65) against models near 4.7: both the score axis and the cost plot's metric axis are logarithmic."""
    rows = [("ngram-kn", 4.75, 3.3, 550.0), ("bigram-count", 11.96, 0.02, 400.0), ("uniform", 65.0, 0.004, 378.0)]
    assert 65.0 / 4.75 > 10 and plots.wants_log([4.75, 65.0])
    scores = plots.plot_scores([_table(rows)], tmp_path / "scores.svg").read_text()
    cost = plots.plot_cost([_table(rows)], tmp_path / "cost.svg").read_text()
    assert "val_ppl: validation perplexity per character" in scores and "(log scale)" in scores
    assert "↑ val_ppl: validation perplexity per character: exp(val_loss) (lower is better) (log scale)" in cost
    # ticks of a log axis: equal ratios at equal distances
    ticks = plots.log_ticks(4.75, 65.0)
    assert ticks[0] <= 4.75 and ticks[-1] >= 65.0
    narrow = plots.plot_scores([_table([("a", 0.86, 1.0, 1.0), ("b", 0.99, 1.0, 1.0)], "accuracy", True)], tmp_path / "n.svg")
    assert "(log scale)" not in narrow.read_text()


def test_every_plot_names_its_units(tmp_path) -> None:
    rows = [("a", 0.9, 1.0, 100.0), ("b", 0.8, 2.0, 200.0)]
    table = _table(rows, "accuracy", True)
    assert "accuracy: share of test points classified right" in plots.plot_scores([table], tmp_path / "s.svg").read_text()
    cost = plots.plot_cost([table], tmp_path / "c.svg").read_text()
    assert "fit time per seed, seconds" in cost and "peak memory (MB)" in cost and "share of test points" in cost
