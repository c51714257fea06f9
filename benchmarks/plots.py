"""Leaderboard pictures as SVG: score with CI, quality vs cost, loss curves, decision boundaries.

Each function draws one SVG for a task, one panel per leaderboard table (profile × data), and returns
its path, or None when there is nothing to draw. Every axis says what it measures and in which unit;
an axis whose values span more than 10× is logarithmic; point labels never overlap (each takes the
first free place around its point, or a line in the legend). The SVG is written by hand (no plotting library):
drawing after every run costs milliseconds instead of a second of matplotlib, and the files are text,
byte-identical for identical results, so they diff like the markdown they sit beside.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable
from html import escape
from pathlib import Path

from benchmarks import metrics as metric_facts
from benchmarks.paths import task_file
from benchmarks.records import Record, atomic_write_text
from benchmarks.registry import SYSTEMS
from benchmarks.tables import Row, Table

WIDTH = 720
LEFT = 190  # room for the system labels of the score panel
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


def wants_log(values: list[float]) -> bool:
    """True when every value is positive and the largest is more than 10 times the smallest: a log axis.

    >>> wants_log([4.7, 65.0]), wants_log([0.85, 1.0]), wants_log([0.0, 50.0])
    (True, False, False)
    """
    finite = [v for v in values if math.isfinite(v)]
    return bool(finite) and min(finite) > 0 and max(finite) > 10 * min(finite)


def log_ticks(low: float, high: float) -> list[float]:
    """Round ticks for a log axis over [low, high]: the decades, with 2 and 5 between them when there are few.

    >>> log_ticks(4.7, 65.0)
    [2.0, 5.0, 10.0, 20.0, 50.0, 100.0]
    >>> log_ticks(0.01, 1000.0)
    [0.01, 0.1, 1.0, 10.0, 100.0, 1000.0]
    """
    low_e, high_e = math.floor(math.log10(low)), math.ceil(math.log10(high))
    high_e = max(high_e, low_e + 1)
    steps = (1, 2, 5) if high_e - low_e <= 2 else (1,)
    ticks = [round(m * 10.0**e, 12) for e in range(low_e, high_e + 1) for m in steps]
    inside = [t for t in ticks if low <= t <= high]
    first = max([t for t in ticks if t <= low], default=ticks[0])
    last = min([t for t in ticks if t >= high], default=ticks[-1])
    return [first, *[t for t in inside if first < t < last], last]


def _axis_scale(low: float, high: float, log: bool, start: float, end: float,
                widen: float = 0.0) -> tuple[list[float], Callable[[float], float]]:
    """Ticks, and a value → pixel mapping onto [start, end]; a linear axis is ``widen`` × its span longer each end."""
    if log:
        ticks = log_ticks(low, high)
        lo, hi = math.log10(ticks[0]), math.log10(ticks[-1])
        return ticks, lambda value: start + (math.log10(value) - lo) / (hi - lo) * (end - start)
    ticks = nice_ticks(low, high)
    lo, hi = min([low, *ticks]), max([high, *ticks])
    hi = hi if hi > lo else lo + 1.0
    lo, hi = lo - widen * (hi - lo), hi + widen * (hi - lo)
    return ticks, lambda value: start + (value - lo) / (hi - lo) * (end - start)


def metric_label(metric: str, higher_is_better: bool) -> str:
    """An axis title for a metric: its name, what it measures (its declared description) and its direction."""
    facts = metric_facts.find(metric)
    description = f": {facts.description}" if facts is not None and facts.description else ""
    return f"{metric}{description} ({'higher' if higher_is_better else 'lower'} is better)"


TEXT_WIDTH = 0.62  # an average character's width in font-size units (sans-serif, generous): label boxes use it


def text_box(x: float, y: float, text: str, size: float, anchor: str = "start") -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) that a one-line label covers, drawn at baseline ``(x, y)`` with ``text-anchor``."""
    width = TEXT_WIDTH * size * len(text)
    x0 = {"start": x, "middle": x - width / 2, "end": x - width}[anchor]
    return (x0, y - 0.8 * size, x0 + width, y + 0.25 * size)


def boxes_overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def place_labels(points: list[tuple[float, float, float, str]], size: float,
                 area: tuple[float, float, float, float]) -> list[tuple[float, float, str] | None]:
    """Where each ``(x, y, radius, text)`` point's label goes: ``(x, y, anchor)``, the first of several places
    around it that stays inside ``area`` (x0, y0, x1, y1) and overlaps no label placed before it; None when there is
    no such place (the caller lists that label in a legend instead)."""
    placed: list[tuple[float, float, float, float]] = []
    found: list[tuple[float, float, str] | None] = []
    for x, y, radius, text in points:
        gap = radius + 3
        beside = [(x + side * gap, y + size / 3 + shift * (size + 2), anchor)  # right, left; level, then ±1, ±2, ±3
                  for shift in (0, 1, -1, 2, -2, 3, -3) for side, anchor in ((1, "start"), (-1, "end"))]
        choice = None
        for cx, cy, anchor in [*beside[:2], (x, y - gap - 2, "middle"), (x, y + gap + size, "middle"), *beside[2:]]:
            box = text_box(cx, cy, text, size, anchor)
            inside = area[0] <= box[0] and box[2] <= area[2] and area[1] <= box[1] and box[3] <= area[3]
            if inside and not any(boxes_overlap(box, other) for other in placed):
                choice = (cx, cy, anchor)
                placed.append(box)
                break
        found.append(choice)
    return found


class _Canvas:
    """An SVG document assembled from elements, top to bottom (panels are stacked)."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.height = 0

    def add(self, element: str) -> None:
        self.parts.append(element)

    def text(self, x: float, y: float, text: str, anchor: str = "start", size: int = 11, color: str = "#222",
             vertical: bool = False, label: bool = False) -> None:
        turn = f' transform="rotate(-90 {x:.1f} {y:.1f})"' if vertical else ""
        css = ' class="label"' if label else ""  # a point's label
        self.add(f'<text{css} x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-family="sans-serif" '
                 f'font-size="{size}" fill="{color}"{turn}>{escape(text)}</text>')

    def line(self, x1: float, y1: float, x2: float, y2: float, color: str = "#999", width: float = 1.0) -> None:
        self.add(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{color}" '
                 f'stroke-width="{width}"/>')

    def panel(self, table: Table, room: float, plot: float = 0, below: float = 0) -> tuple[float, float]:
        """Start a panel under the last one: its title; return the top and bottom of its plot area, ``room`` pixels
        under the panel's top and ``plot`` pixels high, with ``below`` pixels kept under it (for the x axis)."""
        name = table.dataset.name if len(table.dataset.name) <= 70 else table.dataset.name[:67] + "…"
        synthetic = ", synthetic" if table.dataset.synthetic else ""
        self.text(WIDTH / 2, self.height + 14, f"{name} — {table.profile}{synthetic}", anchor="middle")
        top = self.height + room
        self.height = top + plot + below
        return top, top + plot

    def save(self, path: Path) -> Path | None:
        """Write the SVG to ``path`` (through a unique temp file: two runs never collide); None if nothing was drawn."""
        if not self.parts:
            return None
        atomic_write_text(path, (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{self.height}" '
                                 f'viewBox="0 0 {WIDTH} {self.height}">\n<rect width="100%" height="100%" fill="white"/>\n'
                                 + "\n".join(self.parts) + "\n</svg>\n"))
        return path


def _x_axis(canvas: _Canvas, low: float, high: float, left: float, right: float, y: float, top: float, label: str,
            log: bool = False) -> Callable[[float], float]:
    """Draw an x axis with grid lines from ``top`` to ``y``; return the value → x mapping."""
    ticks, place = _axis_scale(low, high, log, left, right)
    for tick in ticks:
        x = place(tick)
        canvas.line(x, top, x, y, color="#e3e3e3")
        canvas.text(x, y + 14, _tick_text(tick), anchor="middle", size=10, color="#444")
    canvas.line(left, y, right, y, color="#666")
    first, _, second = label.partition("\n")  # a second line (a legend) goes under the axis title
    canvas.text((left + right) / 2, y + 30, first + (" (log scale)" if log else ""), anchor="middle", size=10, color="#444")
    if second:
        canvas.text((left + right) / 2, y + 43, second, anchor="middle", size=9, color="#555")
    return place


def _y_axis(canvas: _Canvas, low: float, high: float, left: float, right: float, top: float, bottom: float, label: str,
            log: bool = False, pad: float = 0.0, widen: float = 0.0, side: bool = False) -> Callable[[float], float]:
    """Draw a y axis, its title above the plot area (``side``: turned, left of it, with no axis line); return the
    value → y mapping. ``pad``: pixels kept free at both ends (room for markers); ``widen``: see :func:`_axis_scale`."""
    ticks, place = _axis_scale(low, high, log, bottom - pad, top + pad, widen)
    for tick in ticks:
        y = place(tick)
        canvas.line(left, y, right, y, color="#eeeeee")
        canvas.text(left - 6, y + 3, _tick_text(tick), anchor="end", size=10, color="#444")
    if side:
        canvas.text(16, (top + bottom) / 2, label, anchor="middle", size=10, color="#444", vertical=True)
        return place
    canvas.line(left, top, left, bottom, color="#666")
    canvas.text(8, top - 6, "↑ " + label + (" (log scale)" if log else ""), size=10, color="#444")
    return place


def plot_scores(tables: list[Table], path: Path) -> Path | None:
    """The main metric per system with its 95% CI, best on top; leader and tied rows in blue (None: no rows)."""
    canvas = _Canvas()
    for table in [t for t in tables if t.rows]:
        top, bottom = canvas.panel(table, 22, 22 * len(table.rows) + 8, 54)
        values = [v for row in table.rows for v in (row.mean, *(row.ci or ()))]
        log = wants_log(values)
        place = _x_axis(canvas, min(values), max(values), LEFT, WIDTH - 30, bottom, top,
                        f"{metric_label(table.main_metric, table.higher_is_better)}\n"
                        "dot: mean over seeds; bars: 95% CI; blue: the leader and the rows tied with it", log=log)
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
    return canvas.save(path)


LABEL_SIZE = 9


def plot_cost(tables: list[Table], path: Path) -> Path | None:
    """Quality against cost: main metric vs fit time (log scale), marker area ∝ peak memory; a label that finds no
    free place beside its point goes into the legend on the right, by the point's number."""
    canvas = _Canvas()
    for table in tables:
        rows = [row for row in table.rows if row.fit_s is not None and row.fit_s > 0]
        if not rows:
            continue
        top, bottom = canvas.panel(table, 40, 260, 40)
        left, right = 70, WIDTH - 170
        place_x = _x_axis(canvas, min(r.fit_s for r in rows), max(r.fit_s for r in rows), left, right, bottom, top,
                          "fit time per seed, seconds; marker area ∝ peak memory (MB)", log=True)
        means = [row.mean for row in rows]
        place_y = _y_axis(canvas, min(means), max(means), left, right, top, bottom,
                          metric_label(table.main_metric, table.higher_is_better), log=wants_log(means), pad=16)
        largest = max((row.peak_memory_mb or 0.0) for row in rows) or 1.0
        points = []
        for row, color in zip(rows, itertools.cycle(PALETTE)):
            peak = row.peak_memory_mb or 0.0
            radius = 3 + 12 * math.sqrt(peak / largest)
            x, y = place_x(row.fit_s), place_y(row.mean)
            canvas.add(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius:.1f}" fill="{color}" fill-opacity="0.55"/>')
            memory = f", {peak:,.0f} MB" if peak else ""
            points.append((x, y, radius, f"{row.label}{memory}"))
        spots = place_labels(points, LABEL_SIZE, (left, top, right, bottom))
        legend_y = top + 10
        for number, ((x, y, _radius, text), spot) in enumerate(zip(points, spots), start=1):
            if spot is not None:
                canvas.text(spot[0], spot[1], text, spot[2], size=LABEL_SIZE, label=True)
                continue
            canvas.text(x, y + 3, str(number), anchor="middle", size=8, color="#000")
            canvas.text(right + 12, legend_y, f"{number}: {text}"[:28], size=LABEL_SIZE, label=True)
            legend_y += LABEL_SIZE + 5
    return canvas.save(path)


def plot_curves(tables: list[Table], path: Path) -> Path | None:
    """Training curves from ``extras["curves"] = {"step", "train_loss", "val_loss"[, "y_label"]}``, one colour per
    system (its first seed): validation loss solid and training loss dashed, or training loss solid where no curve
    has a validation loss."""
    canvas = _Canvas()
    for table in tables:
        found = [(row, c) for row in table.rows if isinstance(c := row.records[0].extras.get("curves"), dict)
                 and isinstance(c.get("step"), list) and c["step"]]  # the first seed's curves, with at least one step
        validation = any(isinstance(c.get("val_loss"), list) for _, c in found)
        lines = []
        for (_, curves), color in zip(found, itertools.cycle(PALETTE)):
            steps = curves["step"]
            for key, dash in (("val_loss", ""), ("train_loss", "5,3" if validation else "")):
                values = curves.get(key)
                if isinstance(values, list) and len(values) == len(steps):
                    points = [(s, v) for s, v in zip(steps, values, strict=True)
                              if isinstance(v, (int, float)) and math.isfinite(v) and isinstance(s, (int, float))]
                    if points:
                        lines.append((color, dash, points))
        if not lines:
            continue
        top, bottom = canvas.panel(table, 40, 260, 40)
        left, right = 60, WIDTH - 170
        xs, ys = zip(*(p for _, _, points in lines for p in points), strict=True)
        place_x = _x_axis(canvas, min(xs), max(xs), left, right, bottom, top, "optimisation step")
        labels = {c.get("y_label") for _, c in found if isinstance(c.get("y_label"), str)}
        y_label = labels.pop() if len(labels) == 1 else "loss, nats per character"
        place_y = _y_axis(canvas, min(ys), max(ys), left, right, top, bottom, y_label, log=wants_log(ys))
        for color, dash, points in lines:
            path_data = " ".join(f"{'M' if i == 0 else 'L'}{place_x(s):.1f},{place_y(v):.1f}" for i, (s, v) in enumerate(points))
            dashes = f' stroke-dasharray="{dash}"' if dash else ""
            canvas.add(f'<path d="{path_data}" fill="none" stroke="{color}" stroke-width="1.5"{dashes}/>')
        for index, (row, _) in enumerate(found):
            y = top + 10 + 16 * index
            canvas.line(right + 12, y, right + 30, y, color=PALETTE[index % len(PALETTE)], width=2)
            canvas.text(right + 34, y + 4, row.label[:24], size=10)
        legend = "solid: validation, dashed: training" if validation else "training loss of each system"
        canvas.text(right + 12, top + 10 + 16 * len(found) + 6, legend, size=9, color="#555")
    return canvas.save(path)


BOUNDARY_COLORS = ("#3b75af", "#ef8636")  # class 0 and 1, as in micrograd's demo
PANEL_COLUMNS = 3


def boundary_of(record: Record) -> dict | None:
    """The decision-boundary grid a classifier job kept beside its record (``<record>.boundary.jsonl``), or None."""
    if record.path is None:
        return None
    for name in record.artifacts:
        if name.endswith(".boundary.jsonl"):
            try:
                found = json.loads((record.path.parent / name).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return None
            cells = int(found["x"][2]) * int(found["y"][2]) if isinstance(found, dict) else -1
            if isinstance(found, dict) and len(str(found.get("labels", ""))) == cells > 0:
                return found
    return None


def _boundary_panel(canvas: _Canvas, x0: float, y0: float, width: float, height: float, title: str, grid: dict) -> None:
    """One panel: shaded regions (runs of equal cells, one path per shade), the boundary, the training points."""
    nx, ny = int(grid["x"][2]), int(grid["y"][2])
    labels, proba = str(grid["labels"]), grid.get("proba")
    levels = str(proba) if isinstance(proba, str) and len(proba) == len(labels) else labels
    canvas.text(x0 + width / 2, y0 - 6, title, anchor="middle", size=9)
    runs: dict[str, list[str]] = {}
    for row in range(ny):
        start = 0
        for level, cells in itertools.groupby(levels[row * nx:(row + 1) * nx]):
            run = len(list(cells))  # the grid's first row is the bottom
            runs.setdefault(level, []).append(f"M{start} {ny - 1 - row}h{run}v1h{-run}z")
            start += run
    group = [f'<g transform="translate({x0:.1f},{y0:.1f}) scale({width / nx:.4f},{height / ny:.4f})">']
    for level in sorted(runs):
        value = int(level)
        if levels is labels:  # hard labels: one shade per class
            color, opacity = BOUNDARY_COLORS[value], 0.45
        else:  # tenths of P(class 1): deeper the surer
            color = BOUNDARY_COLORS[1 if value >= 5 else 0]
            opacity = 0.12 + 0.5 * abs(value + 0.5 - 5) / 5
        group.append(f'<path d="{"".join(runs[level])}" fill="{color}" fill-opacity="{opacity:.2f}"/>')
    edges = []
    for row in range(ny):
        svg_row = ny - 1 - row
        for col in range(nx):
            here = labels[row * nx + col]
            if col + 1 < nx and labels[row * nx + col + 1] != here:
                edges.append(f"M{col + 1} {svg_row}v1")
            if row + 1 < ny and labels[(row + 1) * nx + col] != here:
                edges.append(f"M{col} {svg_row}h1")
    if edges:
        group.append(f'<path d="{"".join(edges)}" fill="none" stroke="#222" stroke-width="1.2" '
                     'vector-effect="non-scaling-stroke"/>')
    group.append("</g>")
    canvas.add("".join(group))
    (gx0, gx1, _), (gy0, gy1, _) = grid["x"], grid["y"]
    dots = []
    for x, y, label in grid.get("train", []):
        px = x0 + (x - gx0) / (gx1 - gx0) * width
        py = y0 + height - (y - gy0) / (gy1 - gy0) * height
        dots.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="2.6" fill="{BOUNDARY_COLORS[int(label) == 1]}" '
                    'stroke="#111" stroke-width="0.6"/>')
    canvas.add("".join(dots))
    canvas.add(f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{width:.1f}" height="{height:.1f}" fill="none" stroke="#666"/>')
    canvas.text(x0 + width / 2, y0 + height + 12, f"x1 ({gx0:g} to {gx1:g}, feature units)", anchor="middle", size=8, color="#555")
    canvas.text(x0 - 4, y0 + height / 2, f"x2 ({gy0:g} to {gy1:g})", anchor="middle", size=8, color="#555", vertical=True)


def plot_boundaries(tables: list[Table], path: Path) -> Path | None:
    """Each classifier's decision boundary (first seed), one panel per system, best first: the predicted regions
    (shaded by probability where the system gives one), the boundary, the training points, the test accuracy."""
    canvas = _Canvas()
    for table in tables:
        found = [(row, grid) for row in table.rows for grid in [boundary_of(row.records[0])] if grid is not None]
        if not found:
            continue
        top, _ = canvas.panel(table, 22)
        grid = found[0][1]
        aspect = (grid["y"][1] - grid["y"][0]) / (grid["x"][1] - grid["x"][0])
        column = WIDTH / PANEL_COLUMNS
        width = column - 34
        height = width * aspect
        for index, (row, grid) in enumerate(found):
            x0 = 24 + (index % PANEL_COLUMNS) * column
            y0 = top + 20 + (index // PANEL_COLUMNS) * (height + 44)
            shown = metric_facts.format_value(table.main_metric, row.records[0].metrics.get(table.main_metric))
            title = f"{row.label[:22]}: {table.main_metric} {shown} (seed {row.records[0].seed})"
            _boundary_panel(canvas, x0, y0, width, height, title, grid)
        bottom = top + 20 + math.ceil(len(found) / PANEL_COLUMNS) * (height + 44)  # under the last row of panels
        canvas.text(WIDTH / 2, bottom, "regions: predicted class (blue 0, orange 1; deeper shade: surer, where the system "
                    "gives probabilities); line: the decision boundary; dots: the training points", anchor="middle", size=9,
                    color="#555")
        canvas.height = bottom + 16
    return canvas.save(path)


def write_task_plots(results_dir: Path, task_id: str, tables: list[Table]) -> list[tuple[str, Path | None]]:
    """Draw ``<task>.svg``, ``-cost``, ``-curves`` and ``-boundaries.svg`` where there is data, the pictures the
    systems draw of themselves (``System.draw_pictures``), then ``-serving.svg``. Returns ``(caption, path)`` of each
    picture written; ``(text, None)`` for one that could not be drawn here, the text saying how to get it."""
    found: list[tuple[str, Path | None]] = []
    for caption, function, suffix in (
        (f"{task_id}: each system's main metric (dot: mean over seeds) with its 95% confidence interval; blue: the "
         "leader and the rows tied with it", plot_scores, ""),
        (f"{task_id}: quality against cost: main metric vs fit time per seed (log scale); marker area ∝ peak memory",
         plot_cost, "-cost"),
        (f"{task_id}: training curves: loss per optimisation step, first seed of each system", plot_curves, "-curves"),
        (f"{task_id}: decision boundary of each system (first seed): predicted regions, the boundary, the training "
         "points, test accuracy in each title", plot_boundaries, "-boundaries"),
    ):
        path = function(tables, task_file(results_dir, task_id, f"{suffix}.svg"))
        if path is not None:
            found.append((caption, path))
    for system_id in sorted({row.system for table in tables for row in table.rows} & set(SYSTEMS)):
        if (draw := getattr(SYSTEMS.get(system_id), "draw_pictures", None)) is not None:
            found += draw(results_dir, task_id)
    path = plot_serving(tables, task_file(results_dir, task_id, "-serving.svg"))
    return found + ([(f"{task_id}: quality vs single-stream p99 latency (Pareto frontier)", path)] if path else [])


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


def _served_p99(row: Row) -> tuple[float, bool] | None:
    """A row's latest single-stream p99 (ms), and whether LoadGen judged it VALID."""
    measured = [r for r in row.records if r.serving is not None and r.serving.p99_ms]
    if not measured:
        return None
    serving = max(measured, key=lambda r: r.newness).serving
    return serving.p99_ms, serving.scenarios["single-stream"].valid


def plot_serving(tables: list[Table], path: Path) -> Path | None:
    """Quality against single-stream p99 latency (log x-axis) with the Pareto frontier; an INVALID run is hollow."""
    canvas = _Canvas()
    for table in tables:
        rows = [(row, *found) for row in table.rows if (found := _served_p99(row))]
        if not rows:
            continue
        top, bottom = canvas.panel(table, 22, 260, 40)
        left, right = 70, WIDTH - 150
        place_x = _x_axis(canvas, min(r[1] for r in rows), max(r[1] for r in rows), left, right, bottom, top,
                          "single-stream p99 latency, ms (log scale); line: Pareto frontier; hollow: LoadGen INVALID",
                          log=True)
        means = [row.mean for row, _, _ in rows]
        place_y = _y_axis(canvas, min(means), max(means), left, right, top, bottom, pad=10, widen=0.06, side=True,
                          label=f"{table.main_metric} {'↑' if table.higher_is_better else '↓'}")
        frontier = pareto_frontier([(p99, row.mean) for row, p99, valid in rows if valid], table.higher_is_better)
        if len(frontier) > 1:
            points = " ".join(f"{place_x(x):.1f},{place_y(y):.1f}" for x, y in frontier)
            canvas.add(f'<polyline points="{points}" fill="none" stroke="#555" stroke-width="1.2" stroke-dasharray="4 3"/>')
        for (row, p99, valid), color in zip(rows, itertools.cycle(PALETTE)):
            x, y = place_x(p99), place_y(row.mean)
            fill = f'fill="{color}" fill-opacity="0.7"' if valid else f'fill="none" stroke="{color}" stroke-width="1.5"'
            canvas.add(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" {fill}/>')
            canvas.text(x + 8, y - 3, f"{row.label}, {p99:,.2f} ms" + ("" if valid else " INVALID"), size=9)
    return canvas.save(path)
