"""Leaderboard pictures (matplotlib, Agg backend): score with CI, quality vs cost, loss curves.

Each function draws one PNG for a task, one panel per leaderboard table (profile × data), and
returns its path, or None when there is nothing to draw.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks.records import Record, atomic_write_bytes

if TYPE_CHECKING:
    from benchmarks.leaderboard import Table

# PNGs without a software/date stamp, so unchanged results give unchanged files.
_METADATA = {"Software": None}


def _figure(rows: int, height: float, **subplots: Any) -> tuple[Any, Any]:
    """A figure and its (rows, 1) axes, without pyplot: no global state to close, and no pyplot import (a second)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.5, height))
    return fig, fig.subplots(rows, 1, squeeze=False, **subplots)


def _title(table: Table) -> str:
    name = table.dataset.name
    if len(name) > 60:
        name = name[:57] + "…"
    synthetic = ", synthetic" if table.dataset.synthetic else ""
    return f"{name} — {table.profile}{synthetic}"


def _save(fig: Any, path: Path) -> Path:
    """Render to memory, then write atomically (two runs drawing the same picture never share a temp file)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight", metadata=_METADATA)
    atomic_write_bytes(path, buffer.getvalue())
    return path


def plot_scores(tables: list[Table], path: Path) -> Path | None:
    """The main metric per system with its 95% CI, best on top; leader and tied rows highlighted.

    Args:
        tables: the task's leaderboard tables.
        path: the PNG to write.

    Returns:
        ``path``, or None when no table has rows.
    """
    tables = [t for t in tables if t.rows]
    if not tables:
        return None
    heights = [max(1.6, 0.45 * len(t.rows) + 1.0) for t in tables]
    fig, axes = _figure(len(tables), sum(heights), gridspec_kw={"height_ratios": heights})
    for ax, table in zip(axes[:, 0], tables, strict=True):
        rows = list(reversed(table.rows))  # best on top
        y = list(range(len(rows)))
        means = [row.mean for row in rows]
        lows = [row.mean - row.ci[0] if row.ci else 0.0 for row in rows]
        highs = [row.ci[1] - row.mean if row.ci else 0.0 for row in rows]
        colors = ["tab:blue" if row.verdict in ("leader", "tied") else "tab:gray" for row in rows]
        for yi, mean, low, high, color in zip(y, means, lows, highs, colors, strict=True):
            ax.errorbar([mean], [yi], xerr=[[max(low, 0.0)], [max(high, 0.0)]], fmt="o", color=color, capsize=4)
        ax.set_yticks(y, [row.label for row in rows])
        arrow = "higher" if table.higher_is_better else "lower"
        ax.set_xlabel(f"{table.main_metric} ({arrow} is better); bars: 95% CI; blue: leader and tied")
        ax.set_title(_title(table), fontsize=9)
        ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return _save(fig, path)


def plot_cost(tables: list[Table], path: Path) -> Path | None:
    """Quality against cost: main metric vs fit time (log scale), marker area ∝ peak memory.

    Args:
        tables: the task's leaderboard tables.
        path: the PNG to write.

    Returns:
        ``path``, or None when no row has a fit time.
    """
    tables = [t for t in tables if any(row.fit_s is not None and row.fit_s > 0 for row in t.rows)]
    if not tables:
        return None
    fig, axes = _figure(len(tables), 4.2 * len(tables))
    for ax, table in zip(axes[:, 0], tables, strict=True):
        rows = [row for row in table.rows if row.fit_s is not None and row.fit_s > 0]
        peaks = [row.peak_memory_mb or 0.0 for row in rows]
        largest = max(peaks) or 1.0
        for row, peak in zip(rows, peaks, strict=True):
            size = 30 + 600 * peak / largest
            ax.scatter([row.fit_s], [row.mean], s=size, alpha=0.55)
            memory = f", {peak:,.0f} MB" if peak else ""
            ax.annotate(f"{row.label}{memory}", (row.fit_s, row.mean), fontsize=7, xytext=(6, 4), textcoords="offset points")
        ax.set_xscale("log")
        ax.set_xlabel("fit time per seed, s (log scale); marker area ∝ peak memory")
        ax.set_ylabel(table.main_metric + (" ↑" if table.higher_is_better else " ↓"))
        ax.set_title(_title(table), fontsize=9)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return _save(fig, path)


def _curves(record: Record) -> dict[str, list[float]] | None:
    curves = record.extras.get("curves")
    if not isinstance(curves, dict) or not isinstance(curves.get("step"), list) or not curves["step"]:
        return None
    return curves


def plot_curves(tables: list[Table], path: Path) -> Path | None:
    """Training curves from ``extras["curves"] = {"step", "train_loss", "val_loss"}``: validation
    loss solid, training loss dashed, one colour per system (its first seed).

    Args:
        tables: the task's leaderboard tables.
        path: the PNG to write.

    Returns:
        ``path``, or None when no record carries curves.
    """
    panels = [(t, [(row, c) for row in t.rows for c in [_curves(row.records[0])] if c]) for t in tables if t.rows]
    panels = [(t, found) for t, found in panels if found]
    if not panels:
        return None
    fig, axes = _figure(len(panels), 4.2 * len(panels))
    for ax, (table, found) in zip(axes[:, 0], panels, strict=True):
        for index, (row, curves) in enumerate(found):
            color = f"C{index % 10}"
            steps = curves["step"]
            for key, style in (("val_loss", "-"), ("train_loss", "--")):
                values = curves.get(key)
                if isinstance(values, list) and len(values) == len(steps):
                    points = [(s, v) for s, v in zip(steps, values, strict=True) if v is not None and math.isfinite(v)]
                    if points:
                        xs, ys = zip(*points, strict=True)
                        label = row.label if key == "val_loss" else None
                        ax.plot(xs, ys, style, color=color, label=label, linewidth=1.2)
        ax.set_xlabel("step")
        ax.set_ylabel("loss (solid: validation, dashed: training)")
        ax.set_title(_title(table), fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return _save(fig, path)


def write_task_plots(results_dir: Path, task_id: str, tables: list[Table]) -> list[tuple[str, Path]]:
    """Draw ``<task>.png``, ``<task>-cost.png`` and ``<task>-curves.png`` where there is data.

    Args:
        results_dir: where the leaderboard goes.
        task_id: the task.
        tables: its leaderboard tables.

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
        path = function(tables, results_dir / f"{task_id}{suffix}.png")
        if path is not None:
            found.append((caption, path))
    return found
