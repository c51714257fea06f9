"""The closing lines every benchmark report shares (machine, load average before and after, date) and writing
the report out."""

from __future__ import annotations

import os
import platform
from datetime import datetime, timezone
from pathlib import Path


def machine_lines(load_before: tuple[float, ...], load_after: tuple[float, ...]) -> list[str]:
    """``Machine: ...; load average ...`` and ``Date: ...`` lines for a markdown report."""
    before = "/".join(f"{x:.2f}" for x in load_before[:3])
    after = "/".join(f"{x:.2f}" for x in load_after[:3])
    return [
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; load average "
        f"(1/5/15 min) before {before}, after {after} — the cores are shared, so wall-clock numbers are noisy; "
        "compare within one run.",
        f"Date: {datetime.now(timezone.utc).isoformat(timespec='seconds')}",
    ]


def emit(text: str, out: Path | None) -> None:
    """Print the report and, with ``out``, keep it there."""
    print(text)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
