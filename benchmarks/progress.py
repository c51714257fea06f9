"""The live view of a grid: done / running / queued / failed counts, and for each running job its system, seed, phase,
elapsed time and node.

On a terminal it redraws a small block in place (at most a few times a second). When stderr is not a terminal (a log
file, CI) it writes plain lines instead: one per finished job, and a job's progress lines (``fit 3/6 epochs``) at most
once every ``LOG_EVERY`` seconds per job — no carriage returns, no escape codes.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

LOG_EVERY = 15.0
REDRAW_EVERY = 0.25


@dataclass
class _Job:
    label: str
    started: float
    phase: str = "start"
    node: str = ""
    logged: float = 0.0


class GridProgress:
    """Counts and running jobs of a grid of ``total`` jobs (those to run, not the ones skipped), on stderr;
    ``enabled=False`` (``--quiet``) writes the finished-job lines only."""

    def __init__(self, total: int, enabled: bool = True) -> None:
        self.stream = sys.stderr
        self.total = total
        self.enabled = enabled
        self.live = enabled and self.stream.isatty()
        self.done = 0
        self.failed = 0
        self.running: dict[int, _Job] = {}
        self._drawn = 0
        self._last_draw = 0.0

    def started(self, index: int, label: str) -> None:
        now = time.monotonic()
        self.running[index] = _Job(label, now, logged=now)
        self._refresh()

    def phase(self, index: int, text: str, node: str | None = None) -> None:
        job = self.running.get(index)
        if job is None:
            return
        job.phase = text
        job.node = node or job.node
        now = time.monotonic()
        if not self.live and self.enabled and now - job.logged >= LOG_EVERY:
            job.logged = now
            self._line(f"  … {job.label} [{text}, {now - job.started:.0f}s]{self._at(job.node)}")
        self._refresh()

    def finished(self, index: int, message: str, ok: bool) -> None:
        job = self.running.pop(index, None)
        self.done += 1
        self.failed += 0 if ok else 1
        node = self._at(job.node) if job else ""
        self._line(f"[{self.done}/{self.total}] {message}{node}")  # redraws the live block

    def close(self) -> None:
        self._clear()
        self.stream.flush()

    @staticmethod
    def _at(node: str) -> str:
        return f" @ {node}" if node else ""

    def _line(self, text: str) -> None:
        self._clear()
        print(text, file=self.stream, flush=True)
        self._draw()

    def _clear(self) -> None:
        if self.live and self._drawn:
            self.stream.write(f"\x1b[{self._drawn}F\x1b[J")
            self._drawn = 0

    def _draw(self) -> None:
        if not self.live:
            return
        now = time.monotonic()
        queued = self.total - self.done - len(self.running)
        lines = [f"grid: {self.done}/{self.total} done · {len(self.running)} running · {queued} queued · "
                 f"{self.failed} failed"]
        lines += [f"  {job.label} [{job.phase}, {now - job.started:.0f}s]{self._at(job.node)}"
                  for job in sorted(self.running.values(), key=lambda j: j.started)]
        self.stream.write("\n".join(lines) + "\n")
        self.stream.flush()
        self._drawn = len(lines)
        self._last_draw = now

    def _refresh(self) -> None:
        if self.live and time.monotonic() - self._last_draw >= REDRAW_EVERY:
            self._clear()
            self._draw()
