"""Memory of a process tree, read from outside (psutil): a job's own peak, not its parent's (``ru_maxrss`` survives fork)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _summed_over_tree(pid: int, measure: Callable[[Any], int], seen: dict[int, Any] | None = None) -> float | None:
    """``measure(process)`` in bytes summed over a process and its descendants, in MB (None when it is gone);
    the descendants are added to ``seen`` (by pid)."""
    import psutil

    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        return None
    if seen is not None:
        seen.update((process.pid, process) for process in processes[1:] if process.pid not in seen)
    total = 0
    for process in processes:
        try:
            total += measure(process)
        except psutil.Error:
            continue
    return total / 2**20


def resident_of_tree(pid: int, seen: dict[int, Any] | None = None) -> float | None:
    """Summed RSS of a process and its descendants, in MB: cheap (one status read a process)."""
    return _summed_over_tree(pid, lambda process: process.memory_info().rss, seen)


def memory_of_tree(pid: int) -> float | None:
    """Summed USS of a process and its descendants, in MB (None when it is gone): exact but dear (every memory map
    is read: about 6 ms for a process holding torch)."""
    return _summed_over_tree(pid, lambda process: process.memory_full_info().uss)
