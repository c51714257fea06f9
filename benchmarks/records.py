"""Result records: one JSON file per (task, system, seed, run), written atomically, never overwritten.
They are the source of truth; every leaderboard, comparison and page is generated from them.

Layout: ``<results-dir>/records/<task>/<system>/<run-id>__seed<k>.json``, with the job's
artifacts (run files, samples) beside it as ``<run-id>__seed<k>.<suffix>``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import tempfile
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.api import DatasetInfo
from benchmarks.errors import UserError
from benchmarks.paths import check_id, check_seed, record_dir, record_file
from benchmarks.serving import Serving

SCHEMA_VERSION = 2
"""1: the first records (``record_format: 1``; metric names such as ``map12``, ``score``, ``test_accuracy``;
``peak_rss_mb`` read inside the worker). 2: a ``schema_version`` field, the canonical metric names of
``benchmarks.metrics``, memory measured from outside the job (``peak_memory_mb`` with ``memory_method``),
the machine's ``conditions`` (load, threads) and the ``job_key`` that ``--resume`` matches."""

class RecordError(ValueError):
    """A file under ``records/`` that is not a usable record (the message names the field)."""


@dataclass
class PerExample:
    """Per-example values of the metrics that are means over examples (queries, customers, sessions, blocks)."""

    ids: list[str] | None = None
    values: dict[str, list[float | None]] = field(default_factory=dict)


@dataclass
class Record:
    """The result of one job: what ran, on what, how it went, and everything needed to trust the numbers.

    ``status`` is ``"ok"`` or ``"failed"`` (then ``error`` and ``traceback`` say why). ``metrics`` hold canonical
    metric names (``benchmarks.metrics``), NaN and infinities as null. ``path``: where it was read from (not saved).
    """

    task: str
    task_version: str
    system: str
    seed: int
    profile: str
    status: str
    main_metric: str
    higher_is_better: bool
    dataset: DatasetInfo
    config: dict[str, Any] = field(default_factory=dict)
    config_overrides: dict[str, Any] = field(default_factory=dict)
    task_options: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float | None] = field(default_factory=dict)
    per_example: PerExample = field(default_factory=PerExample)
    error: str | None = None
    traceback: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    peak_memory_mb: float | None = None
    memory_method: str | None = None
    conditions: dict[str, Any] = field(default_factory=dict)  # load average at start and end, threads, executor, node
    job_key: str = ""  # what makes two jobs the same (JobSpec.key): --resume skips a job whose key has an ok record
    device: str = "cpu"
    hardware: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    git_sha: str | None = None
    run_id: str = ""
    started_at: str = ""
    finished_at: str = ""
    extras: dict[str, Any] = field(default_factory=dict)
    artifacts: list[str] = field(default_factory=list)
    serving: Serving | None = None
    """Latency, throughput and footprint under MLPerf LoadGen (``run --serve``); None when not measured (and in
    older records: no schema bump, the field is optional)."""
    schema_version: int = SCHEMA_VERSION
    path: Path | None = field(default=None, compare=False, repr=False)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def main_value(self) -> float | None:
        return finite(self.metrics.get(self.main_metric))

    @property
    def fingerprint(self) -> str:
        return self.dataset.fingerprint

    @property
    def config_key(self) -> str:
        """The resolved config as canonical JSON: two records with the same key ran the same config."""
        return json.dumps(self.config, sort_keys=True)

    @property
    def newness(self) -> tuple[str, str]:
        """Sort key: later records sort after earlier ones."""
        return (self.finished_at, self.run_id)

    def to_dict(self) -> dict[str, Any]:
        return json_safe({f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "path"})

    @classmethod
    def from_dict(cls, data: Any, path: Path | None = None) -> Record:
        """Read a record written by any version of the harness (older schemas are upgraded); RecordError when a
        required field is missing or of the wrong type."""
        if not isinstance(data, dict):
            raise RecordError(f"expected a JSON object, got {type(data).__name__}")
        data = upgrade(data)
        required = {"task": str, "system": str, "status": str, "main_metric": str, "seed": int, "dataset": dict}
        for name, kind in required.items():
            if not isinstance(data.get(name), kind) or (kind is int and isinstance(data.get(name), bool)):
                raise RecordError(f"field {name!r} is {data.get(name)!r}, expected {kind.__name__}")
        for name in ("metrics", "config", "config_overrides", "task_options", "versions", "extras", "conditions"):
            if not isinstance(data.get(name) or {}, dict):
                raise RecordError(f"field {name!r} is {type(data[name]).__name__}, expected an object")
        try:
            check_id(data["task"], "field 'task'")  # they name files and folders, and seed generators
            check_id(data["system"], "field 'system'")
            check_seed(data["seed"], "field 'seed'")
        except UserError as error:
            raise RecordError(str(error)) from None
        per_example = data["per_example"] if isinstance(data.get("per_example"), dict) else {}
        ids, values = per_example.get("ids"), per_example.get("values")
        plain = {f.name for f in dataclasses.fields(cls)} - {"path", "dataset", "per_example", "metrics", "serving"}
        given = {"task_version": "?", "profile": "?", "higher_is_better": True}
        given.update((name, value) for name, value in data.items() if name in plain and value is not None)
        for name, kind in (("hardware", dict), ("timings", dict), ("artifacts", list)):
            if not isinstance(given.get(name, kind()), kind):
                given.pop(name)  # a foreign value where the harness writes an object: keep the record, drop the field
        return cls(
            **given,
            dataset=DatasetInfo.from_dict(data["dataset"]),
            metrics={str(k): finite(v) for k, v in (data.get("metrics") or {}).items()},
            per_example=PerExample(ids=[str(i) for i in ids] if isinstance(ids, list) else None,
                                   values=values if isinstance(values, dict) else {}),
            serving=Serving.from_dict(data["serving"]) if isinstance(data.get("serving"), dict) else None,
            path=path,
        )


def finite(value: Any) -> float | None:
    """``value`` as a finite float, or None (records store NaN as null; foreign files may hold anything)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def upgrade(data: dict[str, Any]) -> dict[str, Any]:
    """Bring a record's JSON object to :data:`SCHEMA_VERSION` (metric names to their canonical names). RecordError
    for no version, one that is not a positive integer, or one newer than :data:`SCHEMA_VERSION` (written by a newer
    harness: never read as if it were understood)."""
    from benchmarks.metrics import canonical

    if "schema_version" not in data and data.get("record_format") != 1:
        raise RecordError("no 'schema_version' field: not a record written by MLSD Bench")
    version = data.get("schema_version", 1)  # the first records say record_format: 1
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise RecordError(f"field 'schema_version' is {version!r}, expected a positive integer")
    if version > SCHEMA_VERSION:
        raise RecordError(f"schema_version {version} is newer than this harness reads ({SCHEMA_VERSION}); "
                          "upgrade MLSD Bench to use this record")
    if version == SCHEMA_VERSION:
        return data
    data = dict(data)
    data.pop("record_format", None)
    if isinstance(data.get("metrics"), dict):
        data["metrics"] = {canonical(k): v for k, v in data["metrics"].items()}
    if isinstance(data.get("main_metric"), str):
        data["main_metric"] = canonical(data["main_metric"])
    per_example = data.get("per_example")
    if isinstance(per_example, dict) and isinstance(per_example.get("values"), dict):
        data["per_example"] = {**per_example, "values": {canonical(k): v for k, v in per_example["values"].items()}}
    if "peak_rss_mb" in data:
        data["peak_memory_mb"] = data.pop("peak_rss_mb")
        data["memory_method"] = "ru_maxrss read inside the worker: includes the parent's peak (records of schema 1)"
    data["schema_version"] = SCHEMA_VERSION
    return data


def json_safe(value: Any, where: str = "value") -> Any:
    """``value`` made JSON-able: NaN and infinities → null, numpy scalars and arrays → numbers and lists,
    paths → strings, sets → sorted lists, dataclasses → objects; anything else → its repr, with a warning.

    >>> import numpy as np
    >>> json_safe({"n": np.int64(3), "x": float("nan"), "s": {2, 1}, "p": Path("a/b")})
    {'n': 3, 'x': None, 's': [1, 2], 'p': 'a/b'}
    """
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): json_safe(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, (set, frozenset)):
        items = [json_safe(v, where) for v in value]
        try:
            return sorted(items)
        except TypeError:
            return sorted(items, key=repr)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return json_safe(dataclasses.asdict(value), where)
    if hasattr(value, "tolist") and callable(value.tolist):  # numpy scalars and arrays, torch tensors
        try:
            return json_safe(value.tolist(), where)
        except Exception:  # noqa: BLE001 - a foreign object's tolist may do anything; fall back to repr
            pass
    warnings.warn(f"{where}: {type(value).__name__} is not JSON data; recorded as its repr", stacklevel=2)
    return repr(value)


def record_stem(run_id: str, seed: int) -> str:
    return f"{run_id}__seed{seed}"


def record_path(results_dir: Path, task_id: str, system_id: str, run_id: str, seed: int) -> Path:
    """Where a record goes: ids and seed checked, inside the results folder (``benchmarks.paths``)."""
    return record_file(results_dir, task_id, system_id, record_stem(run_id, check_seed(seed)), "json")


def atomic_write_bytes(path: Path, data: bytes, overwrite: bool = True) -> None:
    """Write ``data`` to ``path`` through a uniquely named temp file and a rename, so a crash never leaves
    half a file and two writers never share a temp file. The file gets the usual permissions
    (0666 minus the umask). With ``overwrite=False`` an existing file is an error."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not overwrite and path.exists():
        raise FileExistsError(f"{path} exists; records are never overwritten")
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        mask = os.umask(0)  # read by setting it
        os.umask(mask)
        os.chmod(temp, 0o666 & ~mask)
        if overwrite:
            os.replace(temp, path)
        else:
            os.link(temp, path)  # fails if path appeared meanwhile
            os.unlink(temp)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str, overwrite: bool = True) -> None:
    atomic_write_bytes(path, text.encode("utf-8"), overwrite=overwrite)


def write_record(path: Path, record: Record) -> None:
    """Write one record atomically; never overwrites."""
    atomic_write_text(path, json.dumps(record.to_dict(), indent=1, allow_nan=False) + "\n", overwrite=False)


def iter_records(results_dir: Path, task_id: str | None = None) -> Iterator[Record]:
    """Every usable record under ``results_dir`` (for one task or all). Unreadable or foreign files
    (a disk that filled up, a hand-made JSON, a record of a newer schema) are skipped with a one-line warning
    naming the file, never fatal and never ranked: the leaderboard, ``compare``, ``site`` and ``--resume`` all read
    records here, so they all treat such a file alike (``--resume`` runs its job again, beside it)."""
    base = record_dir(Path(results_dir), task_id)
    if not base.exists():
        return
    inside = base.resolve()
    for path in sorted(base.rglob("*.json")):
        if inside not in path.resolve().parents:  # a link that leads out of the results folder
            warnings.warn(f"skipping {path}: it links outside {base}", stacklevel=2)
            continue
        try:
            yield Record.from_dict(json.loads(path.read_text(encoding="utf-8")), path=path)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecordError, RecursionError) as error:
            warnings.warn(f"skipping unreadable record {path}: {error}", stacklevel=2)


def load_records(results_dir: Path, task_id: str | None = None) -> list[Record]:
    return list(iter_records(results_dir, task_id))


def latest_per_seed(records: Iterable[Record]) -> list[Record]:
    """The newest record per seed, by seed (reruns replace older results)."""
    newest = {record.seed: record for record in sorted(records, key=lambda r: r.newness)}
    return [newest[seed] for seed in sorted(newest)]
