"""Stage-by-stage timing for the scale benchmarks: wall time and peak memory, and their markdown table."""

from __future__ import annotations

import json
import resource
import sys
import time
from typing import Any

from tabulate import tabulate


def peak_mb() -> float:
    """This process's maximum resident set size so far, in MB (it never goes down)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Stages(list):
    """The stages of one run, each ``{"stage", "seconds", "peak_mb", **notes}``, echoed to stderr as they finish."""

    def record(self, name: str, start: float, **notes: Any) -> None:
        self.append({"stage": name, "seconds": round(time.perf_counter() - start, 2), "peak_mb": round(peak_mb()), **notes})
        print(json.dumps(self[-1]), file=sys.stderr, flush=True)


def table(stages: list[dict[str, Any]]) -> list[str]:
    """Markdown lines of a stage table (stage, seconds, peak MB, the other keys as a note)."""
    rows = [[entry["stage"], entry["seconds"], f"{entry['peak_mb']:,}",
             ", ".join(f"{k} {v}" for k, v in entry.items() if k not in ("stage", "seconds", "peak_mb"))] for entry in stages]
    return tabulate(rows, ["stage", "seconds", "peak MB", "note"], tablefmt="pipe", disable_numparse=True,
                    colalign=("left", "right", "right", "left")).splitlines()
