"""What a result was computed on: hardware, software versions, git commit, device choice."""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import platform
import subprocess
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

from benchmarks import __version__
from benchmarks.errors import UserError

# Libraries whose versions every record carries when they are installed.
TRACKED_PACKAGES = ("numpy", "scipy", "scikit-learn", "torch", "pandas", "polars", "pyarrow", "lightgbm", "implicit",
                    "bm25s", "rank-bm25", "pyserini", "faiss-cpu", "sentence-transformers", "torchrec",
                    "fbgemm-gpu-cpu", "pytrec-eval-terrier", "ray", "psutil")


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def accelerator() -> dict[str, Any] | None:
    """The CUDA or MPS device torch can use, or None (also when torch is not installed). Without an NVIDIA driver
    (and not on an Apple-silicon Mac) the answer is None without importing torch."""
    nvidia = Path("/proc/driver/nvidia/version").exists() or os.environ.get("CUDA_VISIBLE_DEVICES")
    if not nvidia and not (sys.platform == "darwin" and platform.machine() == "arm64"):
        return None
    try:
        import torch
    except ImportError:
        return None
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        return {"type": "cuda", "name": props.name, "count": torch.cuda.device_count(),
                "memory_gb": round(props.total_memory / 2**30, 1), "cuda": torch.version.cuda}
    if torch.backends.mps.is_available():
        return {"type": "mps", "name": "Apple MPS", "count": 1}
    return None


@lru_cache(maxsize=1)
def hardware() -> dict[str, Any]:
    import psutil

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return {"cpu": _cpu_model(), "cores": cores, "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "platform": platform.platform(), "accelerator": accelerator()}


def resolve_device(requested: str) -> str:
    """Turn ``auto|cpu|cuda|mps`` into a device that exists here (UserError for ``cuda`` or ``mps`` where none is)."""
    requested = requested.lower()
    if requested not in ("auto", "cpu", "cuda", "mps"):
        raise UserError(f"--device {requested!r}: expected auto, cpu, cuda or mps")
    if requested == "cpu":
        return "cpu"
    found = accelerator()
    if requested == "auto":
        return found["type"] if found else "cpu"
    if found is None or found["type"] != requested:
        raise UserError(f"--device {requested}: no {requested.upper()} device found here (try --device auto)")
    return requested


@lru_cache(maxsize=1)
def versions() -> dict[str, str]:
    """Python and the tracked libraries that are installed (read once per process: a shared dict, not to change)."""
    found = {"python": platform.python_version(), "mlsd-bench": __version__}  # the installed version, where installed
    for name in ("mlsd-bench", *TRACKED_PACKAGES):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            found[name] = importlib.metadata.version(name)
    return found


CODE_PATHS = ("benchmarks", "systems", "pyproject.toml", "README.md")
"""What ``+dirty`` is about: the harness's and systems' code and the project's metadata, not a run's results."""


@lru_cache(maxsize=1)
def git_sha() -> str | None:
    """The commit of the checkout the harness runs from, ``+dirty`` if files of :data:`CODE_PATHS` differ, or None."""
    root = Path(__file__).resolve().parent.parent
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5)
        if sha.returncode != 0:
            return None
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all", "--", *CODE_PATHS],
                                cwd=root, capture_output=True, text=True, timeout=5)
        changed = [line for line in status.stdout.splitlines() if line.strip() and not line.rstrip().endswith(".pyc")]
        return sha.stdout.strip() + ("+dirty" if changed else "")
    except (OSError, subprocess.SubprocessError):
        return None


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
    if (torch := sys.modules.get("torch")) is not None:
        found["torch_threads"] = torch.get_num_threads()
        found["torch_interop_threads"] = torch.get_num_interop_threads()
    return found
