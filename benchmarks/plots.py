"""Leaderboard pictures as SVG: score with CI, quality vs cost, loss curves.

Each function draws one SVG for a task, one panel per leaderboard table (profile × data), and returns
its path, or None when there is nothing to draw. The SVG is written by hand (no plotting library):
drawing after every run costs milliseconds instead of a second of matplotlib, and the files are text,
byte-identical for identical results, so they diff like the markdown they sit beside.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape
from pathlib import Path
from typing import Protocol

from benchmarks.api import DatasetInfo
from benchmarks.paths import task_file
from benchmarks.records import Record, atomic_write_text


class Row(Protocol):
    """What a picture reads of a leaderboard row (``benchmarks.leaderboard.Row``)."""

    label: str
    records: list[Record]
    ci: tuple[float, float] | None
    fit_s: float | None
    peak_memory_mb: float | None
    verdict: str

    @property
    def mean(self) -> float: ...


class Table(Protocol):
    """What a picture reads of a leaderboard table (``benchmarks.leaderboard.Table``): plots need no leaderboard."""

    profile: str
    dataset: DatasetInfo
    main_metric: str
    higher_is_better: bool

    @property
    def rows(self) -> Sequence[Row]: ...


WIDTH = 720
LEFT = 190
"""Room for the system labels of the score panel."""
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About ``count`` round tick values covering [low, high].

    >>> nice_ticks(0.0, 1.0)
    [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    >>> nice_ticks(0.853, 0.871)
    [0.855, 0.86, 0.865, 0.87]
    >>> nice_ticks(0.5, 0.5 + 1e-17)  # equal up to float noise: a span around the value
    [0.5, 0.52, 0.54]
    """
    if not math.isfinite(low) or not math.isfinite(high):
        return []
    if high - low <= 1e-9 * max(abs(low), abs(high), 1e-300):  # one value (or float noise around it): a span around it
        high = low + (abs(low) or 1.0) * 0.1
    raw = (high - low) / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step - 1e-9) * step
    n = math.floor((high - first) / step + 1e-9) + 1  # a count, never a loop on a step too small to move the value
    return [round(first + i * step, 12) for i in range(max(n, 0))]


def _tick_text(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:g}"


class _Canvas:
    """An SVG document assembled from elements, top to bottom (panels are stacked)."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.height = 0

    def add(self, element: str) -> None:
        self.parts.append(element)

    def text(self, x: float, y: float, text: str, anchor: str = "start", size: int = 11, color: str = "#222",
             vertical: bool = False) -> None:
        turn = f' transform="rotate(-90 {x:.1f} {y:.1f})"' if vertical else ""
        self.add(f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-family="sans-serif" font-size="{size}" '
                 f'fill="{color}"{turn}>{escape(text)}</text>')

    def line(self, x1: float, y1: float, x2: float, y2: float, color: str = "#999", width: float = 1.0, dash: str = "") -> None:
        dashes = f' stroke-dasharray="{dash}"' if dash else ""
        self.add(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{color}" stroke-width="{width}"{dashes}/>')

    def svg(self) -> str:
        return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{self.height}" '
                f'viewBox="0 0 {WIDTH} {self.height}">\n<rect width="100%" height="100%" fill="white"/>\n'
                + "\n".join(self.parts) + "\n</svg>\n")


def _title(table: Table) -> str:
    name = table.dataset.name
    if len(name) > 70:
        name = name[:67] + "…"
    synthetic = ", synthetic" if table.dataset.synthetic else ""
    return f"{name} — {table.profile}{synthetic}"


def _x_axis(canvas: _Canvas, low: float, high: float, left: float, right: float, y: float, top: float, label: str,
            log: bool = False) -> Callable[[float], float]:
    """Draw an x axis with grid lines from ``top`` to ``y``; return the value → x mapping."""
    if log:
        low_e, high_e = math.floor(math.log10(low)), math.ceil(math.log10(high))
        high_e = max(high_e, low_e + 1)
        ticks = [10.0 ** e for e in range(low_e, high_e + 1)]
        span = (math.log10(ticks[0]), math.log10(ticks[-1]))

        def place(value: float) -> float:
            return left + (math.log10(value) - span[0]) / (span[1] - span[0]) * (right - left)
    else:
        ticks = nice_ticks(low, high)
        lo, hi = min([low, *ticks]), max([high, *ticks])
        hi = hi if hi > lo else lo + 1.0

        def place(value: float) -> float:
            return left + (value - lo) / (hi - lo) * (right - left)
    for tick in ticks:
        x = place(tick)
        canvas.line(x, top, x, y, color="#e3e3e3")
        canvas.text(x, y + 14, _tick_text(tick), anchor="middle", size=10, color="#444")
    canvas.line(left, y, right, y, color="#666")
    canvas.text((left + right) / 2, y + 30, label, anchor="middle", size=10, color="#444")
    return place


def _save(canvas: _Canvas, path: Path) -> Path:
    atomic_write_text(path, canvas.svg())  # a unique temp file: two runs drawing the same picture never collide
    return path


def plot_scores(tables: list[Table], path: Path) -> Path | None:
    """The main metric per system with its 95% CI, best on top; leader and tied rows in blue.

    Returns:
        ``path``, or None when no table has rows.
    """
    tables = [t for t in tables if t.rows]
    if not tables:
        return None
    canvas = _Canvas()
    for table in tables:
        top = canvas.height + 22
        canvas.text(WIDTH / 2, top - 8, _title(table), anchor="middle")
        values = [v for row in table.rows for v in (row.mean, *(row.ci or ()))]
        bottom = top + 22 * len(table.rows) + 8
        arrow = "higher" if table.higher_is_better else "lower"
        place = _x_axis(canvas, min(values), max(values), LEFT, WIDTH - 30, bottom, top,
                        f"{table.main_metric} ({arrow} is better); bars: 95% CI; blue: leader and tied")
        for index, row in enumerate(table.rows):
            y = top + 14 + 22 * index
            color = PALETTE[0] if row.verdict in ("leader", "tied") else "#888"
            label = row.label if len(row.label) <= 30 else row.label[:29] + "…"
            canvas.text(LEFT - 8, y + 4, label, anchor="end")
            if row.ci is not None:
                x1, x2 = place(row.ci[0]), place(row.ci[1])
                canvas.line(x1, y, x2, y, color=color, width=1.5)
                canvas.line(x1, y - 4, x1, y + 4, color=color, width=1.5)
                canvas.line(x2, y - 4, x2, y + 4, color=color, width=1.5)
            canvas.add(f'<circle cx="{place(row.mean):.1f}" cy="{y:.1f}" r="4" fill="{color}"/>')
        canvas.height = bottom + 40
    return _save(canvas, path)


def plot_cost(tables: list[Table], path: Path) -> Path | None:
    """Quality against cost: main metric vs fit time (log scale), marker area ∝ peak memory.

    Returns:
        ``path``, or None when no row has a fit time.
    """
    tables = [t for t in tables if any(row.fit_s is not None and row.fit_s > 0 for row in t.rows)]
    if not tables:
        return None
    canvas = _Canvas()
    for table in tables:
        rows = [row for row in table.rows if row.fit_s is not None and row.fit_s > 0]
        top = canvas.height + 22
        canvas.text(WIDTH / 2, top - 8, _title(table), anchor="middle")
        bottom = top + 260
        left = 70
        place_x = _x_axis(canvas, min(r.fit_s for r in rows), max(r.fit_s for r in rows), left, WIDTH - 150, bottom, top,
                          "fit time per seed, s (log scale); marker area ∝ peak memory", log=True)
        means = [row.mean for row in rows]
        ticks = nice_ticks(min(means), max(means))
        lo, hi = min([*means, *ticks]), max([*means, *ticks])
        hi = hi if hi > lo else lo + 1.0
        lo, hi = lo - 0.06 * (hi - lo), hi + 0.06 * (hi - lo)  # room for the markers

        def place_y(value: float, lo: float = lo, hi: float = hi, top: float = top, bottom: float = bottom) -> float:
            return bottom - 10 - (value - lo) / (hi - lo) * (bottom - top - 20)

        for tick in ticks:
            canvas.line(left, place_y(tick), WIDTH - 150, place_y(tick), color="#eeeeee")
            canvas.text(left - 6, place_y(tick) + 3, _tick_text(tick), anchor="end", size=10, color="#444")
        arrow = "↑" if table.higher_is_better else "↓"
        canvas.text(16, (top + bottom) / 2, f"{table.main_metric} {arrow}", anchor="middle", size=10, color="#444", vertical=True)
        largest = max((row.peak_memory_mb or 0.0) for row in rows) or 1.0
        for index, row in enumerate(rows):
            peak = row.peak_memory_mb or 0.0
            radius = 3 + 12 * math.sqrt(peak / largest)
            x, y = place_x(row.fit_s), place_y(row.mean)
            color = PALETTE[index % len(PALETTE)]
            canvas.add(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius:.1f}" fill="{color}" fill-opacity="0.55"/>')
            memory = f", {peak:,.0f} MB" if peak else ""
            canvas.text(x + radius + 3, y - 3, f"{row.label}{memory}", size=9)
        canvas.height = bottom + 40
    return _save(canvas, path)


def _curves(record: Record) -> dict[str, list[float]] | None:
    curves = record.extras.get("curves")
    if not isinstance(curves, dict) or not isinstance(curves.get("step"), list) or not curves["step"]:
        return None
    return curves


def plot_curves(tables: list[Table], path: Path) -> Path | None:
    """Training curves from ``extras["curves"] = {"step", "train_loss", "val_loss"}``: validation loss solid,
    training loss dashed, one colour per system (its first seed).

    Returns:
        ``path``, or None when no record carries curves.
    """
    panels = [(t, [(row, c) for row in t.rows for c in [_curves(row.records[0])] if c]) for t in tables if t.rows]
    panels = [(t, found) for t, found in panels if found]
    if not panels:
        return None
    canvas = _Canvas()
    for table, found in panels:
        lines = []
        for index, (_, curves) in enumerate(found):
            steps = curves["step"]
            for key, dash in (("val_loss", ""), ("train_loss", "5,3")):
                values = curves.get(key)
                if isinstance(values, list) and len(values) == len(steps):
                    points = [(s, v) for s, v in zip(steps, values, strict=True)
                              if isinstance(v, (int, float)) and math.isfinite(v) and isinstance(s, (int, float))]
                    if points:
                        lines.append((index, dash, points))
        if not lines:
            continue
        top = canvas.height + 22
        canvas.text(WIDTH / 2, top - 8, _title(table), anchor="middle")
        bottom = top + 260
        left, right = 60, WIDTH - 170
        xs = [p[0] for _, _, points in lines for p in points]
        ys = [p[1] for _, _, points in lines for p in points]
        place_x = _x_axis(canvas, min(xs), max(xs), left, right, bottom, top, "step")
        ticks = nice_ticks(min(ys), max(ys))
        lo, hi = min([*ys, *ticks]), max([*ys, *ticks])
        hi = hi if hi > lo else lo + 1.0

        def place_y(value: float, lo: float = lo, hi: float = hi, top: float = top, bottom: float = bottom) -> float:
            return bottom - (value - lo) / (hi - lo) * (bottom - top - 10)

        for tick in ticks:
            canvas.line(left, place_y(tick), right, place_y(tick), color="#eeeeee")
            canvas.text(left - 6, place_y(tick) + 3, _tick_text(tick), anchor="end", size=10, color="#444")
        canvas.text(16, (top + bottom) / 2, "loss", anchor="middle", size=10, color="#444", vertical=True)
        for index, dash, points in lines:
            color = PALETTE[index % len(PALETTE)]
            path_data = " ".join(f"{'M' if i == 0 else 'L'}{place_x(s):.1f},{place_y(v):.1f}" for i, (s, v) in enumerate(points))
            dashes = f' stroke-dasharray="{dash}"' if dash else ""
            canvas.add(f'<path d="{path_data}" fill="none" stroke="{color}" stroke-width="1.5"{dashes}/>')
        for index, (row, _) in enumerate(found):
            y = top + 10 + 16 * index
            canvas.line(right + 12, y, right + 30, y, color=PALETTE[index % len(PALETTE)], width=2)
            canvas.text(right + 34, y + 4, row.label[:24], size=10)
        canvas.text(right + 12, top + 10 + 16 * len(found) + 6, "solid: validation, dashed: training", size=9, color="#555")
        canvas.height = bottom + 40
    return _save(canvas, path) if canvas.parts else None


def write_task_plots(results_dir: Path, task_id: str, tables: list[Table]) -> list[tuple[str, Path]]:
    """Draw ``<task>.svg``, ``<task>-cost.svg`` and ``<task>-curves.svg`` where there is data.

    Returns:
        ``(caption, path)`` of each picture written.
    """
    results_dir = Path(results_dir)
    found = []
    for caption, function, suffix in (
        (f"{task_id}: main metric per system with 95% CI", plot_scores, ""),
        (f"{task_id}: quality vs fit time (marker size: peak memory)", plot_cost, "-cost"),
        (f"{task_id}: training curves", plot_curves, "-curves"),
    ):
        path = function(tables, task_file(results_dir, task_id, f"{suffix}.svg"))
        if path is not None:
            found.append((caption, path))
    return found


# ------------------------------------------------------------------ serving (run --serve)
def pareto_frontier(points: list[tuple[float, float]], higher_is_better: bool = True) -> list[tuple[float, float]]:
    """The points no other point beats on both latency (x, lower is better) and quality (y): ann-benchmarks'
    ``create_pointset``, one sort by x and one sweep keeping each point better than every one before it.

    >>> pareto_frontier([(1.0, 0.5), (2.0, 0.4), (3.0, 0.9), (0.5, 0.1)])
    [(0.5, 0.1), (1.0, 0.5), (3.0, 0.9)]
    """
    sign = 1.0 if higher_is_better else -1.0
    frontier: list[tuple[float, float]] = []
    for x, y in sorted(points, key=lambda p: (p[0], -sign * p[1])):
        if not frontier or sign * y > sign * frontier[-1][1]:
            frontier.append((x, y))
    return frontier


def _served_p99(row: object) -> tuple[float, bool] | None:
    """A row's single-stream p99 (ms) from its latest record that measured serving, and whether LoadGen judged it VALID."""
    measured = [r for r in getattr(row, "records", []) if r.serving is not None and r.serving.p99_ms]
    if not measured:
        return None
    serving = max(measured, key=lambda r: r.newness).serving
    return serving.p99_ms, serving.scenarios["single-stream"].valid


def plot_serving(tables: list[Table], path: Path) -> Path | None:
    """Quality against single-stream p99 latency (log x-axis), with the Pareto frontier; an INVALID run is a hollow marker.

    Returns:
        ``path``, or None when no row measured serving.
    """
    tables = [t for t in tables if any(_served_p99(row) for row in t.rows)]
    if not tables:
        return None
    canvas = _Canvas()
    for table in tables:
        rows = [(row, *_served_p99(row)) for row in table.rows if _served_p99(row)]
        top = canvas.height + 22
        canvas.text(WIDTH / 2, top - 8, _title(table), anchor="middle")
        bottom, left = top + 260, 70
        place_x = _x_axis(canvas, min(r[1] for r in rows), max(r[1] for r in rows), left, WIDTH - 150, bottom, top,
                          "single-stream p99 latency, ms (log scale); line: Pareto frontier; hollow: LoadGen INVALID",
                          log=True)
        means = [row.mean for row, _, _ in rows]
        ticks = nice_ticks(min(means), max(means))
        lo, hi = min([*means, *ticks]), max([*means, *ticks])
        hi = hi if hi > lo else lo + 1.0
        lo, hi = lo - 0.06 * (hi - lo), hi + 0.06 * (hi - lo)

        def place_y(value: float, lo: float = lo, hi: float = hi, top: float = top, bottom: float = bottom) -> float:
            return bottom - 10 - (value - lo) / (hi - lo) * (bottom - top - 20)

        for tick in ticks:
            canvas.line(left, place_y(tick), WIDTH - 150, place_y(tick), color="#eeeeee")
            canvas.text(left - 6, place_y(tick) + 3, _tick_text(tick), anchor="end", size=10, color="#444")
        arrow = "↑" if table.higher_is_better else "↓"
        canvas.text(16, (top + bottom) / 2, f"{table.main_metric} {arrow}", anchor="middle", size=10, color="#444", vertical=True)
        frontier = pareto_frontier([(p99, row.mean) for row, p99, valid in rows if valid], table.higher_is_better)
        if len(frontier) > 1:
            points = " ".join(f"{place_x(x):.1f},{place_y(y):.1f}" for x, y in frontier)
            canvas.add(f'<polyline points="{points}" fill="none" stroke="#555" stroke-width="1.2" stroke-dasharray="4 3"/>')
        for index, (row, p99, valid) in enumerate(rows):
            x, y = place_x(p99), place_y(row.mean)
            color = PALETTE[index % len(PALETTE)]
            fill = f'fill="{color}" fill-opacity="0.7"' if valid else f'fill="none" stroke="{color}" stroke-width="1.5"'
            canvas.add(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" {fill}/>')
            canvas.text(x + 8, y - 3, f"{row.label}, {p99:,.2f} ms" + ("" if valid else " INVALID"), size=9)
        canvas.height = bottom + 40
    return _save(canvas, path)


def write_serving_plot(results_dir: Path, task_id: str, tables: list[Table]) -> list[tuple[str, Path]]:
    """Draw ``<task>-serving.svg`` (quality vs p99 latency, Pareto frontier) when some row measured serving."""
    path = plot_serving(tables, Path(results_dir) / f"{task_id}-serving.svg")
    return [(f"{task_id}: quality vs single-stream p99 latency (Pareto frontier)", path)] if path is not None else []
