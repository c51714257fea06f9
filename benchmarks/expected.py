"""Expected scores: what a system declares it scores under a condition, and how a rerun is graded.

Like Pyserini's two-click reproductions: a system lists conditions (task, profile, seed, data
fingerprint) with the score they gave; ``python -m benchmarks check`` reruns them and grades

* ``OK``: equal to the expected value (within 1e-9),
* ``OKish``: off by no more than the declared tolerance (another BLAS, another CPU),
* ``FAIL``: further off, a failed run, or other data than the declared fingerprint,
* ``SKIP``: the condition could not run here (missing data or extra); ``check --strict`` counts it as a failure.

    >>> e = Expected(task="moons-acc", profile="smoke", metric="test_accuracy", value=0.87, tolerance=0.01)
    >>> grade(e, 0.87), grade(e, 0.875), grade(e, 0.9)
    ('OK', 'OKish', 'FAIL')
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

EXACT = 1e-9
"""Two scores closer than this are equal."""


@dataclass(frozen=True)
class Expected:
    """One declared score: ``value`` of ``metric`` (usually the task's main metric) when declared; ``tolerance``
    is the largest absolute difference still graded ``OKish``; ``dataset_fingerprint`` None: any data the task
    prepares; ``overrides``: the condition's ``--set`` values (``{"C": 0.5}``), empty for the profile's config."""

    task: str
    profile: str
    metric: str
    value: float
    tolerance: float = 0.0
    seed: int = 0
    dataset_fingerprint: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        extra = f" {self.overrides}" if self.overrides else ""
        return f"{self.task} [{self.profile}] seed {self.seed}{extra} {self.metric}"


def grade(expected: Expected, observed: float | None) -> str:
    """``"OK"``, ``"OKish"`` or ``"FAIL"``: the rerun's score (None or NaN when it has none) against the declaration."""
    if observed is None or not math.isfinite(observed):
        return "FAIL"
    difference = abs(observed - expected.value)
    if difference <= EXACT:
        return "OK"
    if difference <= expected.tolerance + EXACT:
        return "OKish"
    return "FAIL"
