"""Finding, downloading, checksumming, caching and safely extracting data files.

A dataset file ``RELATIVE`` (e.g. ``tinyshakespeare/input.txt``) is looked up in ``<data-dir>/RELATIVE``
(``--data-dir`` / ``$MLSD_DATA_DIR``), then ``<cache-dir>/RELATIVE``, then downloaded into the cache and verified.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import stat
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from benchmarks.errors import DataError, UserError


def sha256_file(path: Path, algorithm: str = "sha256") -> str:
    """Hex sha256 (or another ``hashlib`` algorithm's digest) of a file's bytes."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, algorithm).hexdigest()


def source_key(paths: Iterable[Path], version: str, length: int = 24) -> str:
    """A cheap key (resolved path, size, modification time) for "has the source changed since it was converted"."""
    digest = hashlib.sha256(version.encode())
    for path in paths:
        stat = Path(path).stat()
        digest.update(f"{Path(path).resolve()}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:length]


def fingerprint(paths: Iterable[Path], extra: str = "") -> str:
    """One sha256 over several files (name and content, in the given order) and a string."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(f"{Path(path).name}{sha256_file(path)}".encode())
    digest.update(extra.encode())
    return digest.hexdigest()


def locate(relative: str | Path, data_dir: Path | None, cache_dir: Path | None) -> Path | None:
    """The first existing ``<data_dir>/relative`` or ``<cache_dir>/relative``, else None."""
    for base in (data_dir, cache_dir):
        if base is not None and (Path(base) / relative).exists():
            return Path(base) / relative
    return None


def verify(path: Path, sha256: str | None) -> None:
    """Raise DataError if ``path``'s sha256 differs from the expected one (None: no check)."""
    actual = sha256_file(path) if sha256 is not None else None
    if actual != sha256:
        raise DataError(path, f"sha256 is {actual}, expected {sha256}",
                        hint="the file is corrupt or a different version; delete it to download it again")


def download(url: str, destination: Path, sha256: str | None = None, timeout: float = 60.0) -> Path:
    """Download ``url`` to ``destination`` atomically and verify its checksum; an existing file with the right
    checksum is reused. A failed or corrupt download leaves nothing behind; the error names the destination
    (never the deleted temporary file) and says where to put the file by hand."""
    destination = Path(destination)
    if destination.exists():
        verify(destination, sha256)
        return destination
    created = [folder for folder in (destination.parent, *destination.parent.parents) if not folder.exists()]
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(dir=destination.parent, prefix=f".{destination.name}.", suffix=".part")
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
            shutil.copyfileobj(response, out, 1 << 20)
        actual = sha256_file(temp) if sha256 is not None else None
        if actual != sha256:
            raise DataError(destination, f"the download from {url} has sha256 {actual}, expected {sha256}",
                            hint="the corrupt download was deleted; run again, or put a good copy at this path")
        os.replace(temp, destination)
        created.clear()
    except (urllib.error.URLError, OSError, TimeoutError) as error:
        raise UserError(
            f"could not download {url} ({getattr(error, 'reason', error)}). "
            f"Without a network, put the file at {destination} yourself, or pass --data-dir / set MLSD_DATA_DIR "
            f"to a folder that has it."
        ) from None
    finally:
        temp.unlink(missing_ok=True)
        for folder in created:  # leave no empty folders behind either
            with contextlib.suppress(OSError):
                folder.rmdir()
    return destination


def _is_within(base: Path, target: Path) -> bool:
    return target.resolve().is_relative_to(base.resolve())


def _check_zip(archive: Path, bundle: zipfile.ZipFile, root: Path) -> None:
    """Refuse members that escape ``root``, symbolic links, and a name used both as a file and as a folder."""
    files: set[str] = set()
    folders: set[str] = set()
    for member in bundle.infolist():
        name = member.filename
        if not _is_within(root, root / name):
            raise DataError(archive, f"member {name!r} would be extracted outside {root}")
        if stat.S_ISLNK(member.external_attr >> 16):
            raise DataError(archive, f"member {name!r} is a symbolic link; archives with links are not extracted",
                            hint="a link could point the extraction outside its folder")
        parts = PurePosixPath(name.replace("\\", "/")).parts
        folders.update("/".join(parts[:i]) for i in range(1, len(parts)))
        (folders if member.is_dir() else files).add("/".join(parts))
    clash = sorted(files & folders)
    if clash:
        raise DataError(archive, f"member {clash[0]!r} is both a file and a folder")


def _check_tar(archive: Path, bundle: tarfile.TarFile, root: Path) -> None:
    """Refuse members that escape ``root``, links pointing out of it, and device files."""
    for member in bundle.getmembers():
        if not _is_within(root, root / member.name):
            raise DataError(archive, f"member {member.name!r} would be extracted outside {root}")
        if (member.issym() or member.islnk()) and not _is_within(root, (root / member.name).parent / member.linkname):
            raise DataError(archive, f"link {member.name!r} → {member.linkname!r} points outside {root}")
        if member.isdev():
            raise DataError(archive, f"member {member.name!r} is a device file")


def safe_extract(archive: Path, target: Path) -> Path:
    """Extract a zip or tar archive into ``target`` (returned), all or nothing: unsafe members are refused (see
    :func:`_check_zip`, :func:`_check_tar`) before anything is written, then the archive is unpacked into a temporary
    folder inside ``target`` and its top-level entries moved into place (replacing entries of the same name)."""
    archive, target = Path(archive), Path(target)
    target.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(dir=target, prefix=f".{archive.name}.", suffix=".extracting"))
    try:
        try:
            if zipfile.is_zipfile(archive):
                with zipfile.ZipFile(archive) as bundle:
                    _check_zip(archive, bundle, temp)
                    bundle.extractall(temp)
            elif tarfile.is_tarfile(archive):
                with tarfile.open(archive) as bundle:
                    _check_tar(archive, bundle, temp)
                    if "filter" in tarfile.TarFile.extractall.__code__.co_varnames:
                        bundle.extractall(temp, filter="data")
                    else:
                        bundle.extractall(temp)
            else:
                raise DataError(archive, "not a zip or tar archive")
        except (OSError, zipfile.BadZipFile, tarfile.TarError, EOFError) as error:
            raise DataError(archive, f"could not be extracted ({type(error).__name__}: {error})",
                            hint=f"nothing was written to {target}; download the archive again") from None
        for entry in sorted(temp.iterdir()):
            destination = target / entry.name
            if destination.is_symlink() or destination.is_file():
                destination.unlink()
            elif destination.is_dir():
                shutil.rmtree(destination)
            os.replace(entry, destination)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return target
