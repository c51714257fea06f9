"""OTTO's sessions: find them (or fetch them from Kaggle) and load them as numpy columns, jsonl or parquet.

Each format has its reader: :mod:`~benchmarks.data.otto_events`, :mod:`~benchmarks.data.otto_labels` and
:mod:`~benchmarks.data.otto_submission`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from benchmarks.data import kaggle
from benchmarks.data.download import locate, sha256_file
from benchmarks.data.otto_events import convert_jsonl, read_parquet
from benchmarks.data.textfile import check_input_file
from benchmarks.errors import UserError

KAGGLE_COMPETITION = "otto-recommender-system"

DOWNLOAD_HELP = (
    "OTTO's sessions (11 GB of jsonl) are Kaggle data. With Kaggle credentials "
    f"({kaggle.TOKEN_STEPS}) and the rules accepted at https://www.kaggle.com/competitions/{KAGGLE_COMPETITION}/rules, "
    "`--set task.source=real` downloads the competition's train.jsonl into the cache. Or get it yourself with "
    "`kaggle datasets download -d otto/recsys-dataset` (https://www.kaggle.com/datasets/otto/recsys-dataset; otto-de's "
    "release, ts in milliseconds, also accepted) and put it at <data-dir>/otto/train.jsonl "
    "(--data-dir or $MLSD_DATA_DIR), or pass --dataset PATH/TO/train.jsonl"
)


def load_events(path: Path, cache_dir: Path | None = None,
                log: Callable[[str], None] | None = None) -> tuple[dict[str, np.ndarray], Path, str]:
    """Events of an OTTO jsonl or parquet file: (numpy columns session, aid, ts, type sorted by session and ts,
    the parquet path read, the source file's sha256). A jsonl file is converted once into
    ``<cache_dir or its folder>/otto/<name>-<sha256[:12]>.parquet``, ``log`` receiving the progress lines."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: no such file. {DOWNLOAD_HELP}")
    check_input_file(path)
    digest = sha256_file(path)
    if path.suffix == ".parquet":
        parquet = path
    else:
        parquet = (Path(cache_dir) if cache_dir is not None else path.parent) / "otto" / f"{path.stem}-{digest[:12]}.parquet"
        if not parquet.exists():
            convert_jsonl(path, parquet, log=log)
    return read_parquet(parquet), parquet, digest


def find_real(data_dir: Path | None, cache_dir: Path | None, fetch: bool = True, required: bool = True) -> Path | None:
    """``<data-dir>/otto/train.jsonl`` (or ``.parquet``, or an earlier download in the cache), else — with
    ``fetch`` and Kaggle credentials — the competition's train.jsonl downloaded into ``<cache>/otto/kaggle/``;
    otherwise a UserError saying how to get it (or None when not ``required``)."""
    for name in ("otto/train.parquet", "otto/train.jsonl", "otto/kaggle/train.jsonl"):
        found = locate(name, data_dir, cache_dir)
        if found is not None:
            return found
    if fetch and cache_dir is not None and kaggle.credentials_present():
        folder = kaggle.fetch_competition_files(KAGGLE_COMPETITION, ("train.jsonl",), Path(cache_dir) / "otto" / "kaggle",
                                                DOWNLOAD_HELP)
        return folder / "train.jsonl"
    if not required:
        return None
    raise UserError(f"OTTO data not found under {data_dir or '(no --data-dir)'} or {cache_dir}. {DOWNLOAD_HELP}")
