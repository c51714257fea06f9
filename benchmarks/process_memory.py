"""Memory of a process tree, read from outside (psutil): a job's own peak, not its parent's (``ru_maxrss`` survives fork)."""

from __future__ import annotations

import contextlib
from typing import Any

import psutil


def memory_of_tree(pid: int, seen: dict[int, Any] | None = None, resident: bool = False) -> float | None:
    """Summed USS of a process and its descendants, in MB (None when it is gone): exact but dear (every memory map
    is read: about 6 ms for a process holding torch). ``resident``: their summed RSS, cheap (one status read a
    process). The descendants are added to ``seen`` (by pid)."""
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        return None
    if seen is not None:
        seen.update((process.pid, process) for process in processes[1:] if process.pid not in seen)
    total = 0
    for process in processes:
        with contextlib.suppress(psutil.Error):
            total += process.memory_info().rss if resident else process.memory_full_info().uss
    return total / 2**20
