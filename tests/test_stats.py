"""Tests for benchmarks.stats: every p-value and interval checked against scipy as the oracle."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from benchmarks import stats


def _vectors(seed: int, n: int, shift: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    return a, a + rng.normal(scale=0.7, size=n) + shift


@pytest.mark.parametrize("seed,n,shift", [(0, 5, 0.0), (1, 30, 0.3), (2, 200, 0.05), (3, 1000, 0.1)])
def test_paired_t_matches_scipy(seed: int, n: int, shift: float) -> None:
    a, b = _vectors(seed, n, shift)
    ours = stats.paired_t_test(a, b)
    theirs = scipy_stats.ttest_rel(a, b)
    assert ours.statistic == pytest.approx(float(theirs.statistic), rel=1e-10)
    assert ours.p_value == pytest.approx(float(theirs.pvalue), rel=1e-8, abs=1e-300)
    assert ours.mean_difference == pytest.approx(float(np.mean(a - b)))


def test_paired_t_on_binary_correctness_matches_scipy() -> None:
    rng = np.random.default_rng(7)
    a = (rng.random(500) < 0.95).astype(float)
    b = (rng.random(500) < 0.87).astype(float)
    assert stats.paired_t_test(a, b).p_value == pytest.approx(float(scipy_stats.ttest_rel(a, b).pvalue), rel=1e-8)


def test_degenerate_differences() -> None:
    same = [0.5, 0.7, 0.9]
    assert stats.paired_t_test(same, same).p_value == 1.0
    assert stats.paired_randomization_test(same, same).p_value == 1.0
    assert stats.paired_t_test([1.0, 2.0, 3.0], [0.0, 1.0, 2.0]).p_value == 0.0
    with pytest.raises(ValueError, match="same length"):
        stats.paired_t_test([1.0, 2.0], [1.0])


@pytest.mark.parametrize("seed,n", [(0, 6), (1, 9), (2, 12)])
def test_exact_randomization_matches_scipy_permutation_test(seed: int, n: int) -> None:
    a, b = _vectors(seed, n, 0.4)
    ours = stats.paired_randomization_test(a, b, n_resamples=10_000)
    assert ours.exact
    theirs = scipy_stats.permutation_test(
        (a, b), lambda x, y, axis: np.mean(x - y, axis=axis), permutation_type="samples",
        vectorized=True, n_resamples=10_000, alternative="two-sided",
    )
    assert ours.p_value == pytest.approx(float(theirs.pvalue), rel=1e-12)


def test_sampled_randomization_agrees_with_exact_and_t() -> None:
    a, b = _vectors(5, 16, 0.35)  # 2**16 patterns > 10,000 resamples: sampled
    sampled = stats.paired_randomization_test(a, b, n_resamples=20_000, seed=1)
    exact = stats.paired_randomization_test(a, b, n_resamples=2**16)
    assert not sampled.exact and exact.exact
    assert abs(sampled.p_value - exact.p_value) < 4 * math.sqrt(exact.p_value * (1 - exact.p_value) / 20_000) + 1e-4
    # Large n: the randomization distribution is close to the t distribution.
    a, b = _vectors(6, 3000, 0.04)
    assert stats.paired_randomization_test(a, b, seed=2).p_value == pytest.approx(stats.paired_t_test(a, b).p_value, abs=0.02)


def test_welch_matches_scipy() -> None:
    a = [0.91, 0.95, 0.93]
    b = [0.87, 0.86, 0.88, 0.90]
    theirs = scipy_stats.ttest_ind(a, b, equal_var=False)
    ours = stats.welch_t_test(a, b)
    assert ours.statistic == pytest.approx(float(theirs.statistic), rel=1e-10)
    assert ours.p_value == pytest.approx(float(theirs.pvalue), rel=1e-8)


def _holm_plain(p: list[float]) -> list[float]:
    """An independent, literal Holm: adjusted p_(i) = max_{j<=i} min(1, (m-j+1) p_(j))."""
    m = len(p)
    order = sorted(range(m), key=lambda i: p[i])
    out = [0.0] * m
    for position, index in enumerate(order):
        out[index] = max(min(1.0, (m - j) * p[order[j]]) for j in range(position + 1))
    return out


def test_holm_by_hand_and_against_plain_implementation() -> None:
    assert stats.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert stats.holm([0.2, 0.9]) == pytest.approx([0.4, 0.9])
    rng = np.random.default_rng(0)
    for _ in range(50):
        p = (rng.random(rng.integers(1, 9)) ** 3).tolist()
        assert stats.holm(p) == pytest.approx(_holm_plain(p), abs=1e-12)
    result = stats.holm([0.01, math.nan, 0.02])
    assert math.isnan(result[1]) and result[0] == pytest.approx(0.02) and result[2] == pytest.approx(0.02)


def test_bootstrap_matches_scipy_percentile() -> None:
    rng = np.random.default_rng(3)
    values = rng.exponential(size=400)
    low, high = stats.bootstrap_ci(values, n_resamples=4000, seed=1)
    theirs = scipy_stats.bootstrap((values,), np.mean, method="percentile", n_resamples=4000, random_state=2)
    width = theirs.confidence_interval.high - theirs.confidence_interval.low
    assert low == pytest.approx(theirs.confidence_interval.low, abs=0.05 * width)
    assert high == pytest.approx(theirs.confidence_interval.high, abs=0.05 * width)
    assert low < values.mean() < high


def test_bootstrap_two_level_widens_when_seeds_disagree() -> None:
    rng = np.random.default_rng(4)
    base = (rng.random(500) < 0.9).astype(float)
    agreeing = np.stack([base, base, base])
    disagreeing = np.stack([base, (rng.random(500) < 0.7).astype(float), (rng.random(500) < 0.99).astype(float)])
    narrow = stats.bootstrap_ci(agreeing)
    wide = stats.bootstrap_ci(disagreeing)
    assert narrow == pytest.approx(stats.bootstrap_ci(base), abs=1e-12)  # identical seeds = one seed
    assert (wide[1] - wide[0]) > 2 * (narrow[1] - narrow[0])
    assert stats.bootstrap_ci([0.7]) == (0.7, 0.7)


def test_t_interval_matches_scipy() -> None:
    values = [0.91, 0.95, 0.93, 0.90]
    theirs = scipy_stats.t.interval(0.95, len(values) - 1, loc=np.mean(values), scale=scipy_stats.sem(values))
    assert stats.t_interval(values) == pytest.approx(theirs, rel=1e-10)


def test_normal_ci_agrees_with_the_bootstrap_on_large_inputs() -> None:
    rng = np.random.default_rng(8)
    one = (rng.random(10_000) < 0.8).astype(float)
    assert stats.normal_ci(one) == pytest.approx(stats.bootstrap_ci(one, n_resamples=2000), abs=0.002)
    shifted = np.stack([one, (rng.random(10_000) < 0.7).astype(float), (rng.random(10_000) < 0.75).astype(float)])
    low, high = stats.normal_ci(shifted)
    b_low, b_high = stats.bootstrap_ci(shifted, n_resamples=2000)
    assert low < shifted.mean() < high and (high - low) == pytest.approx(b_high - b_low, rel=0.35)
