"""Ids and results paths, checked at the edge: an id is a plain name, never a path, and every file the harness
reads or writes under a results folder is built here by :func:`inside`, which resolves links and refuses a path
that lands outside its root. A results folder that is itself a link is the user's choice and is followed; a link
*inside* it that leads out is refused.

    check_id("beir-scifact-ndcg10", "task")          # ok; "../x", "/etc", "A b", "" are refused
    record_dir(results_dir, "moons-acc", "logreg")    # <results-dir>/records/moons-acc/logreg
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from benchmarks.errors import UserError, shown

MAX_ID_LENGTH = 100
ID_PATTERN = re.compile(rf"[a-z0-9][a-z0-9._-]{{0,{MAX_ID_LENGTH - 1}}}")
"""Task and system ids: lowercase ASCII letters, digits, ``.``, ``_`` and ``-``, starting with a letter or a digit
(``beir-scifact-ndcg10``, ``msmarco-dl19-ndcg10``, ``char-gpt-modern``); never ``..``, a slash or a space."""

FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._=-]{0,199}")
"""A file name the harness writes (an artifact's ``run.trec``): one plain name, never a path."""

MAX_SEED = 2**32 - 1
"""Seeds go to numpy, torch and Python's random: 0 .. 2**32 - 1."""


def is_id(value: object) -> bool:
    return isinstance(value, str) and ID_PATTERN.fullmatch(value) is not None and ".." not in value


def check_id(value: object, what: str = "id", where: str = "") -> str:
    """``value`` if it is an id (:data:`ID_PATTERN`); else a UserError naming ``what`` it is (``"--system"``) and
    ``where`` it came from (``" (record path/x.json)"``)."""
    if is_id(value):
        return value  # type: ignore[return-value]
    if not isinstance(value, str):
        problem = f"expected a string, got {type(value).__name__}"
    elif not value:
        problem = "empty"
    elif len(value) > MAX_ID_LENGTH:
        problem = f"{len(value)} characters, at most {MAX_ID_LENGTH}"
    else:
        problem = "not an id"
    raise UserError(f"{what} {shown(value)}{where}: {problem}; an id is lowercase letters, digits, '.', '_' and '-', "
                    f"starting with a letter or digit (e.g. moons-acc), never a path")


def check_seed(value: object, what: str = "seed", where: str = "") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SEED:
        raise UserError(f"{what} {shown(value)}{where}: expected an integer from 0 to {MAX_SEED}")
    return value


def check_file_name(value: object, what: str = "file name") -> str:
    """``value`` if it is one plain file name (:data:`FILE_NAME`, no ``..``); a UserError otherwise."""
    if isinstance(value, str) and FILE_NAME.fullmatch(value) and ".." not in value:
        return value
    raise UserError(f"{what} {shown(value)}: expected one plain file name (letters, digits, '.', '_', '=', '-'), never a path")


def inside(root: Path | str, *parts: str) -> Path:
    """``root / parts``; a UserError when it resolves (links followed) outside ``root`` (``..``, an absolute part,
    a link inside ``root`` that leads out)."""
    root = Path(root)
    path = root.joinpath(*parts)
    try:
        base, target = root.resolve(), path.resolve()
    except (OSError, RuntimeError, ValueError) as error:  # a link loop, a NUL byte
        raise UserError(f"{path}: cannot resolve it ({error})") from None
    if target != base and base not in target.parents:
        raise UserError(f"{path}: resolves to {target}, outside {root}; refusing to read or write there")
    return path


def check_folder_argument(path: Path | str, what: str = "--results-dir") -> Path:
    """A folder given on the command line: no NUL byte, and not a file. Returns it as a Path."""
    text = str(path)
    if "\x00" in text:
        raise UserError(f"{what} {shown(text)}: holds a NUL byte")
    if not text.strip():
        raise UserError(f"{what} {shown(text)}: empty")
    folder = Path(text)
    try:
        folder.stat()
    except FileNotFoundError:
        return folder
    except OSError as error:  # a name too long, a loop of links, no permission
        raise UserError(f"{what} {shown(text)}: {error.strerror or error}") from None
    if not folder.is_dir():
        raise UserError(f"{what} {folder}: is a file, expected a folder")
    return folder


def results_root(path: Path | str, what: str = "--results-dir") -> Path:
    """The results folder, checked (:func:`check_folder_argument`), and created (saying so on stderr) if missing."""
    folder = check_folder_argument(path, what)
    if not folder.exists():
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise UserError(f"{what} {folder}: cannot create it ({error.strerror or error})") from None
        print(f"created {what} {folder}", file=sys.stderr)
    return folder


def record_dir(results_dir: Path | str, task_id: str | None = None, system_id: str | None = None) -> Path:
    """``<results-dir>/records[/<task>[/<system>]]``, ids checked, inside the results folder."""
    parts = ["records"]
    if task_id is not None:
        parts.append(check_id(task_id, "task"))
        if system_id is not None:
            parts.append(check_id(system_id, "system"))
    return inside(results_dir, *parts)


def record_file(results_dir: Path | str, task_id: str, system_id: str, stem: str, suffix: str) -> Path:
    """``<results-dir>/records/<task>/<system>/<stem>.<suffix>`` (a record's JSON, or an artifact beside it)."""
    return inside(record_dir(results_dir, task_id, system_id), check_file_name(f"{stem}.{suffix}", "record file"))


def task_file(folder: Path | str, task_id: str, suffix: str) -> Path:
    """``<folder>/<task><suffix>``: a task's leaderboard (``.md``), plot (``-cost.svg``) or page (``.html``)."""
    return inside(folder, check_file_name(check_id(task_id, "task") + suffix, "task file"))
