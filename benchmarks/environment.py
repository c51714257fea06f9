"""What a result was computed on: hardware, software versions, git commit, device choice."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

from benchmarks.errors import UserError

# Libraries whose versions every record carries when they are installed.
TRACKED_PACKAGES = (
    "numpy", "scipy", "scikit-learn", "torch", "pandas", "polars", "pyarrow", "lightgbm",
    "implicit", "bm25s", "rank-bm25", "pyserini", "faiss-cpu", "sentence-transformers",
    "torchrec", "fbgemm-gpu-cpu", "pytrec-eval-terrier", "ray", "psutil",
)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _total_ram_gb() -> float | None:
    try:
        return round(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        return None


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def accelerator() -> dict[str, Any] | None:
    """The CUDA or MPS device torch can use, or None (also when torch is not installed). Without a GPU driver
    (and not on an Apple-silicon Mac) the answer is None without importing torch."""
    if not might_have_accelerator():
        return None
    try:
        import torch
    except ImportError:
        return None
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        return {"type": "cuda", "name": props.name, "count": torch.cuda.device_count(),
                "memory_gb": round(props.total_memory / 2**30, 1), "cuda": torch.version.cuda}
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return {"type": "mps", "name": "Apple MPS", "count": 1}
    return None


@lru_cache(maxsize=1)
def hardware() -> dict[str, Any]:
    return {"cpu": _cpu_model(), "cores": _cores(), "ram_gb": _total_ram_gb(), "platform": platform.platform(),
            "accelerator": accelerator()}


def might_have_accelerator() -> bool:
    """A cheap look (no torch import): an NVIDIA driver is loaded, or this is an Apple-silicon Mac."""
    if Path("/proc/driver/nvidia/version").exists() or os.environ.get("CUDA_VISIBLE_DEVICES"):
        return True
    return sys.platform == "darwin" and platform.machine() == "arm64"


def resolve_device(requested: str) -> str:
    """Turn ``auto|cpu|cuda|mps`` into a device that exists here.

    Raises:
        UserError: ``cuda`` or ``mps`` asked for where there is none.
    """
    requested = requested.lower()
    if requested not in ("auto", "cpu", "cuda", "mps"):
        raise UserError(f"--device {requested!r}: expected auto, cpu, cuda or mps")
    if requested == "cpu":
        return "cpu"
    if requested == "auto" and not might_have_accelerator():
        return "cpu"  # no GPU driver, not a Mac: no need to import torch to know
    found = accelerator()
    if requested == "auto":
        return found["type"] if found else "cpu"
    if found is None or found["type"] != requested:
        raise UserError(f"--device {requested}: no {requested.upper()} device found here (try --device auto)")
    return requested


@lru_cache(maxsize=1)
def versions() -> dict[str, str]:
    """Python and the tracked libraries that are installed (read once per process: a shared dict, not to change)."""
    found = {"python": platform.python_version(), "mlsd-bench": _own_version()}
    for name in TRACKED_PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


def _own_version() -> str:
    try:
        return importlib.metadata.version("mlsd-bench")
    except importlib.metadata.PackageNotFoundError:
        from benchmarks import __version__

        return __version__


CODE_PATHS = ("benchmarks", "systems", "pyproject.toml", "README.md")
"""What the ``+dirty`` flag is about: the harness's and systems' code and the project's metadata, never the
results a run writes."""


@lru_cache(maxsize=1)
def git_sha() -> str | None:
    """The commit of the checkout the harness runs from, with ``+dirty`` if its code differs from it
    (modified or untracked files under ``benchmarks/`` or ``systems/``, or changed metadata), or None."""
    root = Path(__file__).resolve().parent.parent
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5)
        if sha.returncode != 0:
            return None
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=all", "--", *CODE_PATHS],
            cwd=root, capture_output=True, text=True, timeout=5,
        )
        changed = [line for line in status.stdout.splitlines() if line.strip() and not line.rstrip().endswith(".pyc")]
        return sha.stdout.strip() + ("+dirty" if changed else "")
    except (OSError, subprocess.SubprocessError):
        return None


def node_name() -> str:
    """This machine's host name (which node of a cluster ran a job)."""
    return platform.node() or "localhost"


def describe() -> dict[str, Any]:
    """The whole environment record, as ``python -m benchmarks env`` prints it."""
    return {"hardware": hardware(), "versions": versions(), "git_sha": git_sha(), "executable": sys.executable}


THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS", "POLARS_MAX_THREADS")
"""The variables that cap a job's thread pools (OpenMP, BLAS, numexpr, polars)."""


def load_average() -> list[float] | None:
    """The 1, 5 and 15-minute load averages (None where the platform has none)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def thread_settings() -> dict[str, Any]:
    """The thread counts a job ran with: torch's (when loaded) and the OpenMP/BLAS environment variables."""
    found: dict[str, Any] = {name: os.environ[name] for name in THREAD_VARIABLES if name in os.environ}
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        found["torch_threads"] = torch.get_num_threads()
        found["torch_interop_threads"] = torch.get_num_interop_threads()
    return found
