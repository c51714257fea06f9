"""Kaggle competition files through the Kaggle API (credentials check, download, unzip), for the H&M and OTTO
loaders; every failure is a :class:`UserError` that says what to do, ending with the caller's own help text."""

from __future__ import annotations

import os
from pathlib import Path

from benchmarks.data.download import safe_extract
from benchmarks.errors import UserError

TOKEN_STEPS = (
    "`pip install kaggle`, create an API token at https://www.kaggle.com/settings (Account → API → "
    "Create New Token), save it as ~/.kaggle/kaggle.json (chmod 600) or set KAGGLE_USERNAME and KAGGLE_KEY"
)


def credentials_present() -> bool:
    """True if the Kaggle API can authenticate (``~/.kaggle/kaggle.json``, ``$KAGGLE_CONFIG_DIR`` or env variables)."""
    if os.environ.get("KAGGLE_USERNAME") and os.environ.get("KAGGLE_KEY"):
        return True
    config_dir = Path(os.environ.get("KAGGLE_CONFIG_DIR", Path.home() / ".kaggle"))
    return (config_dir / "kaggle.json").is_file()


def fetch_competition_files(competition: str, names: tuple[str, ...], destination: Path, help_text: str) -> Path:
    """Download ``names`` of a Kaggle competition into ``destination`` (returned; files already there are kept).
    Each file arrives as ``<name>.zip`` (unpacked and removed) or as itself."""
    if not credentials_present():
        raise UserError("no Kaggle credentials found (~/.kaggle/kaggle.json or KAGGLE_USERNAME/KAGGLE_KEY). " + help_text)
    try:
        from kaggle.api.kaggle_api_extended import KaggleApi
    except ImportError:
        raise UserError("the `kaggle` package is not installed (pip install kaggle). " + help_text) from None
    destination = Path(destination)
    destination.mkdir(parents=True, exist_ok=True)
    api = KaggleApi()
    api.authenticate()
    for name in names:
        if (destination / name).is_file():
            continue
        try:
            api.competition_download_file(competition, name, path=str(destination), quiet=False)
        except Exception as error:  # network, 403 (rules not accepted), 404
            raise UserError(f"Kaggle download of {competition}/{name} failed: {error}. " + help_text) from None
        archive = destination / f"{name}.zip"
        if archive.is_file():
            safe_extract(archive, destination)
            archive.unlink()
        if not (destination / name).is_file():
            raise UserError(f"Kaggle download of {competition}/{name} finished but {destination / name} is missing. "
                            + help_text)
    return destination
