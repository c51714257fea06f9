"""Result records: one JSON file per (task, system, seed, run), written atomically, never
overwritten. They are the source of truth; every leaderboard is generated from them.

Layout: ``<results-dir>/records/<task>/<system>/<run-id>__seed<k>.json``, with the job's
artifacts (run files, samples) beside it as ``<run-id>__seed<k>.<suffix>``.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RECORD_FORMAT = 1

REQUIRED_KEYS = (
    "task", "task_version", "system", "config", "seed", "profile", "status", "error", "metrics",
    "main_metric", "higher_is_better", "per_example", "dataset", "timings", "peak_rss_mb",
    "hardware", "versions", "git_sha", "started_at", "finished_at",
)


def records_dir(results_dir: Path, task_id: str | None = None) -> Path:
    base = Path(results_dir) / "records"
    return base / task_id if task_id else base


def record_stem(run_id: str, seed: int) -> str:
    return f"{run_id}__seed{seed}"


def record_path(results_dir: Path, task_id: str, system_id: str, run_id: str, seed: int) -> Path:
    return records_dir(results_dir, task_id) / system_id / f"{record_stem(run_id, seed)}.json"


def _clean(value: Any) -> Any:
    """JSON cannot hold NaN or infinity: store them as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def atomic_write_text(path: Path, text: str, overwrite: bool = True) -> None:
    """Write ``text`` to ``path`` through a temp file and a rename, so a crash never leaves
    half a file. With ``overwrite=False`` an existing file is an error."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not overwrite and path.exists():
        raise FileExistsError(f"{path} exists; records are never overwritten")
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            os.replace(temp, path)
        else:
            os.link(temp, path)  # fails if path appeared meanwhile
            os.unlink(temp)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise


def write_record(path: Path, record: dict[str, Any]) -> Path:
    """Write one record atomically; never overwrites."""
    record = {"record_format": RECORD_FORMAT, **record}
    missing = [key for key in REQUIRED_KEYS if key not in record]
    if missing:
        raise ValueError(f"record for {path} lacks keys {missing}")
    text = json.dumps(_clean(record), indent=1, sort_keys=False, allow_nan=False)
    atomic_write_text(path, text + "\n", overwrite=False)
    return path


@dataclass(frozen=True)
class LoadedRecord:
    path: Path
    data: dict[str, Any]


def iter_records(results_dir: Path, task_id: str | None = None) -> Iterator[LoadedRecord]:
    """Every readable record under ``results_dir`` (for one task or all). Unreadable files
    (a foreign file, a disk that filled up) are skipped with a warning, never fatal."""
    base = records_dir(Path(results_dir), task_id)
    if not base.exists():
        return
    for path in sorted(base.rglob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            import warnings

            warnings.warn(f"skipping unreadable record {path}: {error}", stacklevel=2)
            continue
        if isinstance(data, dict) and "task" in data and "system" in data:
            yield LoadedRecord(path, data)


def load_records(results_dir: Path, task_id: str | None = None) -> list[LoadedRecord]:
    return list(iter_records(results_dir, task_id))
