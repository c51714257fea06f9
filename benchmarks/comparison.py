"""Comparing systems from their records: pick the unit (examples or seeds), test, correct, summarise.

Used by ``compare`` and by the leaderboards. The rules, generic over every task family:

* A system's *sample* is its latest record per seed in one table (same task, profile and data fingerprint). Its
  per-example values for the metric form a (seeds, examples) matrix, aligned by example id; the confidence interval
  is a two-level bootstrap over seeds and examples.
* Two samples are compared **per example** when both have per-example values on the same example ids: averaged over
  each system's seeds, a paired test runs over the examples (queries, customers, sessions, windows).
* Otherwise the **seed** is the unit: a paired test over the seeds when both have the same ones (at least two), else
  Welch's t-test; with fewer than two seeds each there is no test.
* Several comparisons at once are Holm-corrected.
* When the metric has no per-example values but exactly one per-example metric of the same direction has (the char
  LM: ``val_ppl`` = exp(mean ``val_loss``) over block losses), the tests run on that one; the CI is mapped back
  through the transform (identity or exp) where the records show it holds, else it is a t-interval over seeds.
"""

from __future__ import annotations

import math
import string
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import metrics as metric_facts
from benchmarks import stats
from benchmarks.api import DatasetInfo
from benchmarks.errors import UserError, unknown
from benchmarks.records import Record, latest_per_seed, load_records

TESTS = ("randomization", "t")

TRANSFORMS: dict[str, Callable[[float], float]] = {"identity": lambda x: x, "exp": math.exp}
"""Monotone increasing maps from the mean of a per-example metric to a task's metric."""

BOOTSTRAP_WORK = 50_000_000
"""Above this many resampled values (seeds × examples × resamples, about 1 s) the CI is the normal approximation:
with tens of thousands of examples the bootstrap would take minutes and say the same (perf/leaderboard_scale.py)."""

RANDOMIZATION_WORK = 20_000_000
"""Above this many sign flips (examples × resamples; a few seconds) the randomization test gives way to the paired
t-test, which agrees with it at that size (central limit theorem)."""


@dataclass
class Sample:
    """One system's results in one table, ready for tests."""

    label: str  # how it is shown: "logreg", "logreg@1"
    system: str
    metric: str  # the metric compared
    seed_values: dict[int, float]
    ids: list[str] | None = None  # the example ids of the matrix's columns
    matrix: np.ndarray | None = None  # (seeds, examples) per-example values
    tested_metric: str = ""  # the metric whose per-example values form ``matrix`` (``metric`` itself, or a proxy)
    transform: str | None = "identity"  # how the mean of ``tested_metric`` maps to ``metric`` (TRANSFORMS), or None

    @property
    def mean(self) -> float:
        values = list(self.seed_values.values())
        return float(np.mean(values)) if values else math.nan

    @property
    def n_examples(self) -> int | None:
        return None if self.matrix is None else int(self.matrix.shape[1])

    @property
    def unit(self) -> str:
        return "examples" if self.matrix is not None else "seeds"

    def interval(self, n_resamples: int = 1000) -> tuple[float, float]:
        """The 95% CI: a bootstrap over seeds × examples where per-example values exist (centred on their mean: for a
        mean metric, the metric itself), else a t-interval over seeds."""
        if self.matrix is not None and self.matrix.size > 1 and self.transform in TRANSFORMS:
            if self.matrix.size * n_resamples > BOOTSTRAP_WORK:
                low, high = stats.normal_ci(self.matrix)
            else:
                low, high = stats.bootstrap_ci(self.matrix, n_resamples=n_resamples)
            return TRANSFORMS[self.transform](low), TRANSFORMS[self.transform](high)
        return stats.t_interval(list(self.seed_values.values()))


def _per_example(record: Record, metric: str) -> tuple[list[str], np.ndarray] | None:
    values = record.per_example.values.get(metric)
    if not isinstance(values, list) or not values:
        return None
    ids = record.per_example.ids
    if ids is None or len(ids) != len(values):
        ids = [f"#{i}" for i in range(len(values))]  # positional: only pairs with the same layout
    return ids, np.asarray([math.nan if v is None else v for v in values], dtype=np.float64)  # null: NaN in JSON


def tested_metric(records: list[Record], metric: str, higher_is_better: bool) -> tuple[str, str | None]:
    """The per-example metric the tests use for ``metric`` and the transform from its mean, one choice for all the
    ``records`` compared: ``(metric, "identity")`` when every record has its per-example values; else ``(proxy,
    transform or None)`` for the single per-example metric of the same direction; else ``(metric, None)``."""
    present = [{name for name, v in r.per_example.values.items() if isinstance(v, list) and v} for r in records]
    names = set.intersection(*present) if present else set()
    if metric in names:
        return metric, "identity"
    candidates = [name for name in sorted(names)
                  if (found := metric_facts.find(name)) is not None and found.higher_is_better == higher_is_better]
    if len(candidates) != 1:
        return metric, None
    proxy = candidates[0]
    return proxy, next((name for name, mapping in TRANSFORMS.items() if all(_maps(mapping, r, proxy, metric) for r in records)),
                       None)


def _maps(mapping: Callable[[float], float], record: Record, proxy: str, metric: str) -> bool:
    """True when ``mapping`` takes the record's mean per-example ``proxy`` to its ``metric`` (within 2%)."""
    value, found = record.metrics.get(metric), _per_example(record, proxy)
    if value is None or found is None:
        return False
    try:
        return math.isclose(mapping(float(np.nanmean(found[1]))), float(value), rel_tol=0.02, abs_tol=1e-9)
    except OverflowError:
        return False


def build_samples(groups: list[tuple[str, list[Record]]], metric: str, higher_is_better: bool) -> list[Sample]:
    """Each ``(label, records)`` as a Sample, all tested on :func:`tested_metric`'s one choice."""
    proxy, transform = tested_metric([r for _, records in groups for r in records], metric, higher_is_better)
    return [_sample(records, metric, label, proxy, transform) for label, records in groups]


def _sample(records: list[Record], metric: str, label: str, per_example_metric: str, transform: str | None) -> Sample:
    """One system's ok records (one config, one table, at most one per seed); no matrix when a seed lacks
    per-example values or the seeds' example ids differ."""
    seed_values: dict[int, float] = {}
    columns: list[tuple[list[str], np.ndarray] | None] = []  # None: a seed without per-example values
    for record in records:
        value = record.metrics.get(metric)
        found = _per_example(record, per_example_metric)
        if value is None and found is not None and transform in TRANSFORMS:
            value = TRANSFORMS[transform](float(np.nanmean(found[1])))
        if value is None:
            continue
        seed_values[record.seed] = float(value)
        columns.append(found)
    ids: list[str] | None = None
    matrix: np.ndarray | None = None
    if columns and None not in columns:
        first = columns[0][0]
        known = set(first)
        if len(known) == len(first) and all(ids == first or (len(ids) == len(first) and set(ids) == known)
                                            for ids, _ in columns):
            ids = first
            rows = [values if column_ids == ids else [dict(zip(column_ids, values, strict=True))[i] for i in ids]
                    for column_ids, values in columns]
            matrix = np.asarray(rows, dtype=np.float64)  # (seeds, examples)
            if np.isnan(matrix).any():
                ids, matrix = None, None
    return Sample(label, records[0].system if records else "?", metric, seed_values, ids, matrix,
                  tested_metric=per_example_metric, transform=transform)


@dataclass
class Comparison:
    """One pairwise comparison; ``difference`` = mean(a) - mean(b) on the tested unit."""

    a: str
    b: str
    unit: str
    test: str
    n: int
    difference: float
    p_value: float
    p_adjusted: float = math.nan
    note: str = ""
    metric: str = ""  # The metric the difference is in (a per-example proxy where the compared metric has none).

    def significant(self, alpha: float) -> bool:
        return not math.isnan(self.p_adjusted) and self.p_adjusted < alpha

    def to_dict(self, alpha: float, higher_is_better: bool) -> dict[str, Any]:
        decided = self.significant(alpha) and self.difference != 0
        winner = (self.a if (self.difference > 0) == higher_is_better else self.b) if decided else None
        return {
            "a": self.a, "b": self.b, "unit": self.unit, "test": self.test, "n": self.n,
            "difference": self.difference, "p_value": self.p_value, "p_holm": self.p_adjusted,
            "significant": self.significant(alpha), "winner": winner, "note": self.note, "metric": self.metric,
        }


def compare_pair(a: Sample, b: Sample, test: str = "randomization", n_resamples: int = 10_000) -> Comparison:
    """Test whether two samples differ, on the finest unit they share, with a paired ``"randomization"`` (sign-flip)
    or ``"t"`` test; the raw p-value (:func:`compare_all` sets ``p_adjusted``)."""
    if test not in TESTS:
        raise ValueError(f"test {test!r}: expected one of {', '.join(TESTS)}")

    def paired(x: Any, y: Any) -> stats.TestResult:
        if test == "t" or len(x) * n_resamples > RANDOMIZATION_WORK:
            return stats.paired_t_test(x, y)
        return stats.paired_randomization_test(x, y, n_resamples=n_resamples)

    if a.matrix is not None and b.matrix is not None and a.ids is not None and b.ids is not None and (a.ids == b.ids or set(a.ids) == set(b.ids)):
        x, y = a.matrix.mean(axis=0), b.matrix.mean(axis=0)  # (examples,) each
        y = y if a.ids == b.ids else np.array(list(map(dict(zip(b.ids, y.tolist(), strict=True)).get, a.ids)))
        result = paired(x, y)
        notes = []
        if a.tested_metric != a.metric:
            notes.append(f"tested on per-example {a.tested_metric}")
        if min(len(a.seed_values), len(b.seed_values)) == 1:
            notes.append("one seed on a side, so this compares trained models, not training procedures")
        if test == "randomization" and result.test == "paired-t":
            notes.append(f"t-test: {result.n:,} examples are past the randomization test's budget")
        return Comparison(a.label, b.label, "examples", result.test, result.n, result.mean_difference, result.p_value,
                          note="; ".join(notes), metric=a.tested_metric)
    both = a.matrix is not None and b.matrix is not None
    note = "per-example ids differ; seeds are the unit" if both else "no per-example values; seeds are the unit"
    seeds = sorted(a.seed_values)
    if len(seeds) >= 2 and set(seeds) == set(b.seed_values):
        result = paired([a.seed_values[s] for s in seeds], [b.seed_values[s] for s in seeds])
    else:
        result = stats.welch_t_test(list(a.seed_values.values()), list(b.seed_values.values()))
        if math.isnan(result.p_value):
            note += "; fewer than two seeds each: no test"
    return Comparison(a.label, b.label, "seeds", result.test, result.n, result.mean_difference, result.p_value,
                      note=note, metric=a.metric)


def compare_all(samples: list[Sample], pairs: list[tuple[int, int]] | None = None, test: str = "randomization",
                n_resamples: int = 10_000) -> list[Comparison]:
    """Compare the given index pairs ``(i, j)`` of samples (default: every ``i < j``), Holm-corrected across them."""
    if pairs is None:
        pairs = [(i, j) for i in range(len(samples)) for j in range(i + 1, len(samples))]
    found = [compare_pair(samples[i], samples[j], test=test, n_resamples=n_resamples) for i, j in pairs]
    for comparison, adjusted in zip(found, stats.holm([c.p_value for c in found]), strict=False):
        comparison.p_adjusted = adjusted
    return found


def format_p(p: float) -> str:
    """``p = 0.003``, ``p < 0.001``, ``p = n/a``."""
    if math.isnan(p):
        return "p = n/a"
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.3f}"


def sentence(comparison: Comparison, higher_is_better: bool, alpha: float) -> str:
    """A plain-words summary in the tested metric (of the compared one's direction): "A beats B by 0.012 nDCG@10"."""
    how = f"{comparison.test} over {comparison.n} {comparison.unit}" + (f"; {comparison.note}" if comparison.note else "")
    holm_text = f", Holm-adjusted {format_p(comparison.p_adjusted)}" if comparison.p_adjusted != comparison.p_value else ""
    if math.isnan(comparison.p_value):
        return f"{comparison.a} vs {comparison.b}: no test possible ({comparison.note or 'not enough data'})."
    if comparison.significant(alpha) and comparison.difference != 0:
        a_better = (comparison.difference > 0) == higher_is_better
        winner, loser = (comparison.a, comparison.b) if a_better else (comparison.b, comparison.a)
        return (f"{winner} beats {loser} by {abs(comparison.difference):.4g} {comparison.metric}, "
                f"{format_p(comparison.p_value)} ({how}{holm_text}).")
    return (f"No significant difference between {comparison.a} and {comparison.b}: "
            f"{comparison.difference:+.4g} {comparison.metric}, {format_p(comparison.p_value)} ({how}{holm_text}).")


def parse_spec(spec: str) -> tuple[str, set[int] | None]:
    """``"logreg"`` → ``("logreg", None)``; ``"logreg@0,1"`` → ``("logreg", {0, 1})``."""
    from benchmarks.paths import check_id, check_seed, shown

    system, at, seeds = spec.partition("@")
    check_id(system, "system", f" (in {shown(spec)})")
    if not at:
        return system, None
    try:
        parsed = {int(s) if s.strip().isascii() else int("?") for s in seeds.split(",") if s.strip()}
    except ValueError:
        raise UserError(f"{shown(spec)}: expected SYSTEM or SYSTEM@SEED[,SEED...], e.g. logreg@0,1") from None
    if not parsed:
        raise UserError(f"{shown(spec)}: no seed after '@'; expected SYSTEM@SEED[,SEED...], e.g. logreg@0,1")
    return system, {check_seed(seed, "seed", f" (in {shown(spec)})") for seed in parsed}


@dataclass
class Selection:
    """The samples of the systems compared, and the table (task, profile, data) they come from."""

    task: str
    profile: str
    dataset: DatasetInfo
    metric: str
    higher_is_better: bool
    tested_metric: str
    samples: list[Sample]


def _pick_table(found: list[Record], task_id: str, names: set[str], profile: str | None,
                fingerprint: str | None) -> tuple[str, list[Record]]:
    """The ok records of the table (profile × data) that has every system in ``names``: the `default` profile
    if it has them, else the table with the newest such results."""
    groups: dict[tuple[str, str], list[Record]] = defaultdict(list)
    for record in found:
        if record.ok:
            groups[(record.profile, record.fingerprint)].append(record)
    candidates = [(p == "default", max(r.finished_at for r in items), p, fp) for (p, fp), items in groups.items()
                  if (profile is None or p == profile) and (fingerprint is None or fp.startswith(fingerprint))
                  and names <= {r.system for r in items}]
    if not candidates:
        have = sorted({f"{p} (data {fp[:12]}): {', '.join(sorted({r.system for r in items}))}" for (p, fp), items in groups.items()})
        raise UserError(
            f"no table of task {task_id!r} has ok results for all of {', '.join(sorted(names))}"
            + (f" under --profile {profile}" if profile else "") + ". Tables:\n  " + "\n  ".join(have or ["none"])
        )
    _, _, chosen_profile, chosen_fp = max(candidates)
    return chosen_profile, groups[(chosen_profile, chosen_fp)]


def select(
    results_dir: Path, task_id: str, specs: list[str], profile: str | None = None,
    fingerprint: str | None = None, metric: str | None = None,
) -> Selection:
    """The samples of ``metric`` (default: the main metric) of two or more ``SYSTEM[@SEEDS]`` in one table, which
    ``profile`` and ``fingerprint`` narrow (default: :func:`_pick_table`'s). UserError: no records, an unknown system
    or metric, or no table that has every system."""
    if len(specs) < 2:
        raise UserError("compare needs at least two systems (or one system at two seeds: SYSTEM@0 SYSTEM@1)")
    parsed = [parse_spec(s) for s in specs]
    found = load_records(results_dir, task_id)
    if not found:
        raise UserError(f"no records for task {task_id!r} under {results_dir}/records; run: python -m benchmarks run --task {task_id}")
    recorded = {r.system for r in found}
    for system, _ in parsed:
        if system not in recorded:
            raise unknown("system", system, recorded, what=f"system with records of task {task_id!r}:")
    chosen_profile, table = _pick_table(found, task_id, {system for system, _ in parsed}, profile, fingerprint)
    main_metric = table[0].main_metric
    metric = metric_facts.canonical(metric) if metric else main_metric
    higher = metric_facts.higher_is_better(metric, default=table[0].higher_is_better if metric == main_metric else None)
    chosen: list[tuple[str, list[Record]]] = []
    for spec, (system, seeds) in zip(specs, parsed, strict=True):
        mine = [r for r in table if r.system == system]
        newest = max(mine, key=lambda r: r.newness)  # one config per system: the one of its newest record
        mine = latest_per_seed(r for r in mine if r.config_key == newest.config_key)
        if seeds is not None:
            mine = [r for r in mine if r.seed in seeds]
            if not mine:
                raise UserError(f"{spec!r}: no ok record for seed(s) {sorted(seeds)} in profile {chosen_profile}")
        chosen.append((spec, mine))
    samples = build_samples(chosen, metric, higher)
    for sample in samples:
        if not sample.seed_values:
            raise UserError(f"{sample.label!r}: its records have no {metric!r} metric")
    return Selection(task_id, chosen_profile, table[0].dataset, metric, higher, samples[0].tested_metric, samples)


@dataclass
class CompareReport:
    """Every pairwise comparison of a selection, Holm-corrected: what ``compare`` prints."""

    selection: Selection
    comparisons: list[Comparison]
    test: str
    alpha: float

    def to_dict(self) -> dict[str, Any]:  # compare --json
        s = self.selection
        systems = [{"letter": letter, "label": sample.label, "system": sample.system, "seeds": sorted(sample.seed_values),
                    "mean": sample.mean, "ci95": list(sample.interval()), "unit": sample.unit, "n_examples": sample.n_examples}
                   for letter, sample in zip(string.ascii_lowercase, s.samples, strict=False)]
        return {
            "task": s.task, "profile": s.profile, "dataset": s.dataset.to_dict(), "metric": s.metric,
            "higher_is_better": s.higher_is_better, "tested_metric": s.tested_metric, "alpha": self.alpha,
            "test": self.test, "systems": systems,
            "comparisons": [c.to_dict(self.alpha, s.higher_is_better) for c in self.comparisons],
            "summary": [sentence(c, s.higher_is_better, self.alpha) for c in self.comparisons],
        }


def run_compare(
    results_dir: Path, task_id: str, specs: list[str], profile: str | None = None, fingerprint: str | None = None,
    metric: str | None = None, test: str = "randomization", alpha: float = 0.05, n_resamples: int = 10_000,
) -> CompareReport:
    selection = select(results_dir, task_id, specs, profile, fingerprint, metric)
    comparisons = compare_all(selection.samples, test=test, n_resamples=n_resamples)
    return CompareReport(selection, comparisons, test, alpha)
