"""Finding, downloading, checksumming, caching and safely extracting data files.

Lookup order for a dataset file ``RELATIVE`` (e.g. ``tinyshakespeare/input.txt``):
``<data-dir>/RELATIVE`` (``--data-dir`` / ``$MLSD_DATA_DIR``), then ``<cache-dir>/RELATIVE``,
then a download into the cache, verified against its sha256. Without a network the error
says where to put the file.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterable
from pathlib import Path

from benchmarks.errors import DataError, UserError

CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def fingerprint(paths: Iterable[Path], extra: str = "") -> str:
    """One sha256 over several files (name and content, in the given order) and a string."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(Path(path).name.encode())
        digest.update(sha256_file(Path(path)).encode())
    digest.update(extra.encode())
    return digest.hexdigest()


def locate(relative: str | Path, data_dir: Path | None, cache_dir: Path | None) -> Path | None:
    """The first existing ``<data_dir>/relative`` or ``<cache_dir>/relative``, else None."""
    for base in (data_dir, cache_dir):
        if base is not None and (Path(base) / relative).exists():
            return Path(base) / relative
    return None


def verify(path: Path, sha256: str | None) -> None:
    """Raise DataError if ``path``'s sha256 differs from the expected one."""
    if sha256 is None:
        return
    actual = sha256_file(path)
    if actual != sha256:
        raise DataError(
            path, f"sha256 is {actual}, expected {sha256}",
            hint="the file is corrupt or a different version; delete it to download it again",
        )


def download(url: str, destination: Path, sha256: str | None = None, timeout: float = 60.0) -> Path:
    """Download ``url`` to ``destination`` atomically and verify its checksum.

    An existing file with the right checksum is reused. A failed download leaves nothing
    behind and raises a UserError that says where to put the file by hand.
    """
    destination = Path(destination)
    if destination.exists():
        verify(destination, sha256)
        return destination
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(dir=destination.parent, prefix=f".{destination.name}.", suffix=".part")
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
            shutil.copyfileobj(response, out, CHUNK)
        verify(temp, sha256)
        os.replace(temp, destination)
    except (urllib.error.URLError, OSError, TimeoutError) as error:
        raise UserError(
            f"could not download {url} ({getattr(error, 'reason', error)}). "
            f"Without a network, put the file at {destination} yourself, or pass --data-dir / set MLSD_DATA_DIR "
            f"to a folder that has it."
        ) from None
    finally:
        if temp.exists():
            temp.unlink()
    return destination


def _is_within(base: Path, target: Path) -> bool:
    base = base.resolve()
    try:
        target.resolve().relative_to(base)
        return True
    except ValueError:
        return False


def safe_extract(archive: Path, target: Path) -> Path:
    """Extract a zip or tar archive into ``target``, refusing any member that would land
    outside it (absolute paths, ``..``, links pointing out). Returns ``target``."""
    archive, target = Path(archive), Path(target)
    target.mkdir(parents=True, exist_ok=True)
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as bundle:
            for member in bundle.infolist():
                if not _is_within(target, target / member.filename):
                    raise DataError(archive, f"member {member.filename!r} would be extracted outside {target}")
            bundle.extractall(target)
        return target
    if tarfile.is_tarfile(archive):
        with tarfile.open(archive) as bundle:
            for member in bundle.getmembers():
                if not _is_within(target, target / member.name):
                    raise DataError(archive, f"member {member.name!r} would be extracted outside {target}")
                if (member.issym() or member.islnk()) and not _is_within(target, (target / member.name).parent / member.linkname):
                    raise DataError(archive, f"link {member.name!r} → {member.linkname!r} points outside {target}")
                if member.isdev():
                    raise DataError(archive, f"member {member.name!r} is a device file")
            if "filter" in tarfile.TarFile.extractall.__code__.co_varnames:
                bundle.extractall(target, filter="data")
            else:
                bundle.extractall(target)
        return target
    raise DataError(archive, "not a zip or tar archive")
