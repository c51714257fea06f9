"""The serving query unit of a kind: what one served query is, and what its answer is."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class QueryUnit:
    """One served query of a kind.

    Args:
        query: what one query is, in words (``"a retrieval query (text)"``).
        answer: what the system returns for it (``"its top 100 documents"``).
        k: the length of the answer list where the answer is a list (100, 20, 12, 64 characters), else None.
        latency_bound_ms: the p99 latency the server scenario must meet (a task may declare its own
            ``serving_latency_bound_ms``).
        server: whether the kind is measured in the server scenario (issue 26 asks it of retrieval and recsys,
            not of a moons point); where not, ``--serve server`` records it as "not measured", with the reason.
    """

    query: str
    answer: str
    k: int | None = None
    latency_bound_ms: float = 100.0
    server: bool = True
