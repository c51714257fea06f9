"""A leaderboard's tables (task × profile × data) and rows (system × config), which the markdown, the site and the
plots read: a module of their own, so that plots, which the leaderboard calls, need not import it back."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from benchmarks.api import DatasetInfo
from benchmarks.records import Record


@dataclass
class Row:
    """One system (with one config) in one table."""

    system: str
    label: str
    records: list[Record]
    main_values: list[float]
    metrics: dict[str, float]
    fit_s: float | None
    peak_memory_mb: float | None
    hardware: str
    date: str
    overloaded: bool = False  # a record was measured while the load average exceeded the cores: its times are suspect
    ci: tuple[float, float] | None = None  # bootstrap (or t) 95% confidence interval of the mean
    unit: str = "seeds"  # what the CI and the test resample: "examples" or "seeds"
    n_examples: int | None = None
    verdict: str = ""  # against the leader: leader, tied, worse or n/a (no test possible)
    p_vs_leader: float | None = None  # Holm-adjusted

    @property
    def mean(self) -> float:
        return statistics.fmean(self.main_values)

    @property
    def std(self) -> float:
        return statistics.stdev(self.main_values) if len(self.main_values) > 1 else 0.0


@dataclass
class Table:
    """The rows that share a task, profile and dataset fingerprint, best first."""

    task: str
    profile: str
    dataset: DatasetInfo
    main_metric: str
    higher_is_better: bool
    rows: list[Row]
    task_version: str
    tested_metric: str = ""  # the per-example metric behind the CIs and tests (the main metric, or a proxy: a loss)
    latest: list[Record] = field(default_factory=list)  # per system, config and seed; failed ones included
    columns: tuple[str, ...] = ()  # the secondary metrics the task declares (Task.leaderboard_columns)

    @property
    def failed(self) -> list[Record]:
        """The latest records (per system, config and seed) that failed."""
        return [record for record in self.latest if not record.ok]
