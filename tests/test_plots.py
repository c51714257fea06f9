"""The hand-written SVG plots: tick values on any range, and every plot of a table whose values are all equal."""

from __future__ import annotations

import doctest
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
