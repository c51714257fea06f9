"""The local executor: each job in its own worker process, up to ``--jobs N`` at a time.

Isolation is a process per job, in its own process group: a crash, an out-of-memory kill or a timeout fails that one
job (its whole process tree is killed), and the run goes on. The parent watches every job from outside: its phase, its
deadline, and the peak private memory (USS) of its whole process tree, sampled with psutil — a worker's own
``ru_maxrss`` would include its parent's peak. A job whose memory outgrows its system's ``Resources.memory_gb`` is
killed and recorded as out of memory.

Workers are forked (cheap: the prepared data is shared copy-on-write) unless this process has already loaded a library
whose thread pool does not survive ``fork`` (polars, LightGBM's OpenMP, a JVM, Ray, ...): then they come from a fork
server, a clean single-threaded process started once, and the task data is pickled to them (``spawn`` also works, at
an interpreter start per job).

When a job ends, every process of it is killed, daemons included (:func:`job_processes`), and the record lists them
(``conditions["stray_processes_killed"]``): a plug-in cannot keep a run alive or hold its pipes. ``--no-isolation``
does the same around each job it runs in the driver.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
import types
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

import psutil

from benchmarks.api import TaskData
from benchmarks.config import JobSpec
from benchmarks.environment import THREAD_VARIABLES
from benchmarks.errors import UserError
from benchmarks.jobs import Event, Events, JobResult, run_job
from benchmarks.process_memory import memory_of_tree

SAMPLE_INTERVAL = 0.1
USS_INTERVAL = 1.0
MEMORY_METHOD = (f"peak of the summed USS (private resident memory) of the job's process tree, sampled every "
                 f"{SAMPLE_INTERVAL:g} s while its RSS grows and every 1 s otherwise, from outside the job (psutil)")

FORK_UNSAFE_MODULES = ("polars", "lightgbm", "jnius", "pyserini", "faiss", "implicit", "torchrec", "ray")
START_METHODS = ("auto", "fork", "forkserver", "spawn")


def choose_start_method(requested: str) -> str:
    """``fork``, ``forkserver`` or ``spawn`` for the next worker: ``auto`` forks unless one of FORK_UNSAFE_MODULES is
    loaded (a forked worker using it can deadlock)."""
    if requested not in START_METHODS:
        raise UserError(f"start method {requested!r}: expected {', '.join(START_METHODS)}")
    available = multiprocessing.get_all_start_methods()
    if requested != "auto":
        return requested if requested in available else "spawn"
    if "fork" in available and not any(name in sys.modules for name in FORK_UNSAFE_MODULES):
        return "fork"
    return "forkserver" if "forkserver" in available else "spawn"


def _context(method: str, modules: tuple[str, ...], preload: tuple[str, ...]) -> Any:
    """The multiprocessing context; a fork server (started once, at the first job) preloads the harness, numpy and
    the first job's task and system modules (light by design), so each job it forks starts with them loaded."""
    ctx = multiprocessing.get_context(method)
    if method == "forkserver":
        safe = [name for name in preload if name.partition(".")[0] not in FORK_UNSAFE_MODULES]
        ctx.set_forkserver_preload(["numpy", "benchmarks.executors.local", "benchmarks.registry", *safe, *modules])
    return ctx


def _watch_driver(driver: int, workdir: str) -> None:
    """End the job when the driver (the process that started it) is gone: an orphaned worker must not run on unseen,
    nor leave its artifacts folder behind (the driver would have removed it). The driver, not the parent: a worker
    from a fork server keeps that server alive (it holds the server's lifeline), so its parent never changes."""
    with contextlib.suppress(psutil.Error):
        process = psutil.Process(driver)
        while process.is_running() and process.status() != psutil.STATUS_ZOMBIE:  # is_running: not a reused pid
            time.sleep(1.0)
    _end_orphan(workdir)


def _end_orphan(workdir: str) -> None:
    """End this job, whose driver is gone: remove its folder, kill its processes (its group, and the daemons outside
    it, of which this worker is the subreaper), and exit."""
    try:
        shutil.rmtree(workdir, ignore_errors=True)
        _kill(psutil.Process().children(recursive=True))
        os.killpg(os.getpgid(0), signal.SIGKILL)  # the job's whole process group, this worker included
    finally:
        os._exit(70)


TOKEN_VARIABLE = "MLSD_JOB_TOKEN"
"""Set in a worker's environment to its job's token: every process the job starts inherits it."""
PR_SET_CHILD_SUBREAPER = 36


def _become_subreaper() -> None:
    """Make orphans of this process's descendants its children (Linux ``prctl``), not init's: a daemon that
    double-forks stays in the job's tree, where ``kill_tree`` finds it. Elsewhere a no-op (the token still works)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _worker(connection: Connection, spec: JobSpec, data: TaskData, env: dict[str, str], workdir: str, driver: int) -> None:
    os.environ.update(env)  # e.g. the GPUs Ray gave this job (a fork server's environment is older); the job's token
    _become_subreaper()
    if "OMP_NUM_THREADS" in env:  # size the pools already started (BLAS under numpy, torch); the others read env
        threads = int(env["OMP_NUM_THREADS"])
        with contextlib.suppress(ImportError):
            from threadpoolctl import threadpool_limits

            threadpool_limits(threads)
        if "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(threads)
    with contextlib.suppress(OSError):
        os.setsid()  # its own process group: a timeout kills the job's children too
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what Ctrl-C means
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.makedirs(workdir, mode=0o700, exist_ok=True)  # made by the job itself: a driver killed before it starts leaves none
    threading.Thread(target=_watch_driver, args=(driver, workdir), daemon=True).start()
    result = run_job(spec, data, log=lambda message: connection.send((Event.PHASE, message)), workdir=Path(workdir))
    try:
        connection.send((Event.FINISHED, result))
    except OSError:  # the driver is gone (a broken pipe): nobody is left to read the result
        _end_orphan(workdir)
    # Wait to be ended by the parent: it reads this job's memory one last time while the job still holds it.
    time.sleep(60)
    connection.close()


def job_processes(pid: int, token: str | None = None, seen: dict[int, Any] | None = None,
                  before: Iterable[int] = (), group: bool = True) -> list[Any]:
    """Every live process of a job (psutil processes, the worker ``pid`` excluded): the worker's descendants (but
    ``before``; the worker is their subreaper, so a double-forked daemon stays one), those seen while the job ran
    (``seen``, by pid: psutil checks a pid was not reused), with ``group`` the members of its process group and
    session, and any process whose environment carries the job's ``token``, a daemon that left the tree (a forked
    process shows the environment its program started with, an exec'd one the token)."""
    found: dict[int, Any] = {}
    try:
        worker = psutil.Process(pid)
        found.update((p.pid, p) for p in worker.children(recursive=True) if p.pid not in before)
        since = worker.create_time()
    except psutil.Error:
        since = None
    for process in (seen or {}).values():
        if process.pid != pid and process.is_running():
            found.setdefault(process.pid, process)
    found = {number: process for number, process in found.items() if _alive(process)}  # a zombie has ended
    me = os.getpid()
    for process in psutil.process_iter(["create_time", "status"]):
        if process.pid in found or process.pid in (pid, me) or process.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        if since is not None and (process.info["create_time"] or 0) < since - 1:
            continue  # older than the job: not one of its processes (keeps the environment reads few)
        try:
            if group and (os.getpgid(process.pid) == pid or os.getsid(process.pid) == pid):
                found[process.pid] = process
            elif token and process.environ().get(TOKEN_VARIABLE) == token:
                found[process.pid] = process
        except (psutil.Error, OSError):
            continue
    return list(found.values())


def _alive(process: Any) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _kill(processes: Iterable[Any]) -> list[str]:
    """SIGKILL each process; returns those killed as ``pid N: command`` (within 160 characters)."""
    killed = []
    for process in processes:
        try:
            command = " ".join(process.cmdline()) or process.name()
        except Exception:  # noqa: BLE001 - gone or hidden: its pid still says which
            command = "?"
        with contextlib.suppress(psutil.Error):
            process.kill()
            killed.append(f"pid {process.pid}: {command}"[:160])
    return killed


def _note_strays(result: JobResult, killed: list[str]) -> None:
    if killed:
        result.conditions["stray_processes_killed"] = killed
        result.warnings.append(f"the job left {len(killed)} process(es) running at its end; killed: {'; '.join(killed)}"[:1000])


def kill_tree(pid: int, token: str | None = None, seen: dict[int, Any] | None = None) -> list[str]:
    """SIGKILL a worker's process group (the worker leads it) and every other process of its job
    (:func:`job_processes`); returns what was killed besides the worker (``pid N: command``), for the record."""
    strays = job_processes(pid, token, seen)
    with contextlib.suppress(OSError):
        os.killpg(pid, signal.SIGKILL)
    killed = _kill(strays)
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)  # a worker that could not make its own process group
    return killed


def death_report(exit_code: int | None) -> str:
    """Why a worker ended without a result, in words."""
    if exit_code is not None and exit_code < 0:
        try:
            name = signal.Signals(-exit_code).name
        except ValueError:
            name = f"signal {-exit_code}"
        hint = ": out of memory, or killed from outside" if exit_code == -signal.SIGKILL else ""
        return f"worker process was killed by {name}{hint}"
    return f"worker process died with exit code {exit_code} before sending a result"


def _end(slot: _Running) -> list[str]:
    """Kill the job's process tree, daemons included; remove its folder. Returns the stray processes killed."""
    killed = kill_tree(slot.process.pid, slot.token, slot.seen)
    slot.process.join(timeout=5)
    slot.receiver.close()
    shutil.rmtree(slot.workdir, ignore_errors=True)
    return killed


@dataclass
class _Running:
    index: int
    spec: JobSpec
    process: Any
    receiver: Connection
    deadline: float | None
    peak_mb: float = 0.0
    sampled: float = 0.0
    resident_mb: float = 0.0  # the tree's RSS at the last USS reading
    uss_at: float = 0.0
    closed: bool = False  # the worker's end of the pipe is closed (it exited, or crashed)
    workdir: str = ""  # the job's artifact folder, removed here (a killed job leaves nothing behind)
    token: str = ""  # the job's MLSD_JOB_TOKEN
    seen: dict[int, Any] = field(default_factory=dict)  # every process of the job's tree seen while it ran, by pid


class LocalExecutor:
    """Runs jobs in worker processes on this machine, ``workers`` (``--jobs``) at a time, each for at most
    ``timeout`` seconds (None: no limit). ``env`` is set in each worker; a fork server also imports ``preload``
    (what the driver imported to prepare the data). ``bare_main``: start workers as if ``__main__`` were empty (a
    spawned or fork-server worker re-imports its parent's main module: inside a Ray task, Ray's worker script,
    0.4 s a job)."""

    name = "local"

    def __init__(self, workers: int = 1, timeout: float | None = None, start_method: str = "auto",
                 env: dict[str, str] | None = None, bare_main: bool = False, preload: tuple[str, ...] = ()) -> None:
        choose_start_method(start_method)  # reject a bad name before anything runs
        self.workers = workers
        self.timeout = timeout
        self.start_method = start_method
        self.env = dict(env or {})
        self.bare_main = bare_main
        self.preload = preload

    def run(self, jobs: list[JobSpec], data_for: Callable[[JobSpec], TaskData], on_event: Events) -> None:
        """Run every job; on any error or KeyboardInterrupt every running job's process tree is killed first."""
        pending = list(range(len(jobs)))
        running: dict[int, _Running] = {}
        try:
            while pending or running:
                while pending and len(running) < self.workers:
                    index = pending.pop(0)
                    running[index] = self._start(index, jobs[index], data_for(jobs[index]))
                    on_event(Event.STARTED, index, None)
                # an empty list (every pipe closed) just sleeps the interval
                wait([slot.receiver for slot in running.values() if not slot.closed], timeout=SAMPLE_INTERVAL)
                now = time.monotonic()
                for slot in list(running.values()):
                    result = self._poll(slot, now, on_event)
                    if result is not None:
                        del running[slot.index]
                        on_event(Event.FINISHED, slot.index, result)
        finally:
            for slot in running.values():
                _end(slot)

    def _job_env(self, spec: JobSpec) -> dict[str, str]:
        """With several jobs at once, each job's thread pools (OpenMP, BLAS, torch, polars) are capped at its system's
        ``Resources.cpus`` (default 1), as Ray does, so ``--jobs 2`` on 2 cores does not run 4 busy threads. A variable
        the user set wins, and is passed on (a fork server started earlier may lack it); a system that sets its own
        thread count (the char-LMs' ``threads``) keeps it."""
        cpus = str(max(1, int(spec.resources.cpus or 1)))
        env = {name: os.environ.get(name, cpus) for name in THREAD_VARIABLES if name in os.environ or self.workers > 1}
        return {**env, **self.env}

    def _start(self, index: int, spec: JobSpec, data: TaskData) -> _Running:
        ctx = _context(choose_start_method(self.start_method), spec.modules, self.preload)
        receiver, sender = ctx.Pipe(duplex=False)
        token = secrets.token_hex(8)
        workdir = os.path.join(tempfile.gettempdir(), f"mlsd-job-{token}")  # the worker makes it (see _worker)
        env = {**self._job_env(spec), TOKEN_VARIABLE: token}
        process = ctx.Process(target=_worker, args=(sender, spec, data, env, workdir, os.getpid()), daemon=False,
                              name=f"mlsd-job-{spec.system}-{spec.seed}")
        main = sys.modules["__main__"]
        if self.bare_main:
            sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            process.start()
        finally:
            sys.modules["__main__"] = main
        sender.close()
        deadline = time.monotonic() + self.timeout if self.timeout else None
        return _Running(index, spec, process, receiver, deadline, workdir=workdir, token=token)

    def _poll(self, slot: _Running, now: float, on_event: Events) -> JobResult | None:
        """Advance one running job: read its messages, sample its memory, enforce its deadline."""
        if now - slot.sampled >= SAMPLE_INTERVAL:
            slot.sampled = now
            # USS only grows with RSS (new private pages are resident) or by copy-on-write, which is slow:
            # read the dear USS when RSS has grown since the last reading, and at least every USS_INTERVAL
            resident = memory_of_tree(slot.process.pid, slot.seen, resident=True)
            if resident is not None and (resident > slot.resident_mb or now - slot.uss_at >= USS_INTERVAL):
                memory = memory_of_tree(slot.process.pid)
                if memory is not None:
                    slot.peak_mb = max(slot.peak_mb, memory)
                    slot.resident_mb, slot.uss_at = resident, now
        result: JobResult | None = None
        while not slot.closed and slot.receiver.poll():  # drain even when the worker has already exited
            try:
                kind, payload = slot.receiver.recv()
            except (EOFError, OSError):
                slot.closed = True
                break
            if kind is Event.PHASE:
                on_event(Event.PHASE, slot.index, payload)
            else:
                result = payload
                break
        limit = slot.spec.resources.memory_gb
        if result is None and limit and slot.peak_mb > limit * 1024:
            result = JobResult.failure(f"out of memory: the job's processes used {slot.peak_mb:,.0f} MB, over the "
                                       f"{limit:g} GB its system declares (Resources.memory_gb); the job was killed")
        if result is None and slot.deadline is not None and now > slot.deadline:
            result = JobResult.timeout(self.timeout, "; the job's process tree was killed")
        if result is None and (slot.closed or not slot.process.is_alive()):
            slot.process.join(timeout=5)
            if slot.process.is_alive():  # closed its pipe but lingers: it has nothing more to say
                slot.process.kill()
                slot.process.join()
            result = JobResult.failure(death_report(slot.process.exitcode))
        if result is None:
            return None
        # the finished job still holds its memory: a last sample (None when its tree is gone)
        slot.peak_mb = max(slot.peak_mb, memory_of_tree(slot.process.pid) or 0.0)
        _note_strays(result, _end(slot))  # a finished job leaves nothing behind: children, daemons, files
        result.peak_memory_mb = round(slot.peak_mb, 1) if slot.peak_mb else None
        result.memory_method = MEMORY_METHOD
        return result


class InProcessExecutor:
    """Runs jobs one after another in this process (``--no-isolation``, for debugging): a crash ends the
    run, and memory is not measured. ``timeout`` uses SIGALRM where there is one."""

    name = "in-process"

    def __init__(self, timeout: float | None = None) -> None:
        self.timeout = timeout

    def run(self, jobs: list[JobSpec], data_for: Callable[[JobSpec], TaskData], on_event: Events) -> None:
        for index, spec in enumerate(jobs):
            on_event(Event.STARTED, index, None)
            result = self._run_one(spec, data_for(spec), lambda message, i=index: on_event(Event.PHASE, i, message))
            on_event(Event.FINISHED, index, result)

    def _run_one(self, spec: JobSpec, data: TaskData, log: Callable[[str], None]) -> JobResult:
        use_alarm = bool(self.timeout) and hasattr(signal, "SIGALRM")
        fired: list[bool] = []

        def _alarm(signum: int, frame: Any) -> None:
            fired.append(True)  # the job may catch what is raised here: this says it timed out
            raise TimeoutError

        previous = signal.signal(signal.SIGALRM, _alarm) if use_alarm else None
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, self.timeout)
        _become_subreaper()  # a daemon the job double-forks stays this process's descendant
        me = psutil.Process()
        before = {p.pid for p in me.children(recursive=True)}
        token, outer = secrets.token_hex(8), os.environ.get(TOKEN_VARIABLE)
        os.environ[TOKEN_VARIABLE] = token  # what the job starts carries it: found and killed at its end
        try:
            result = run_job(spec, data, log)
        except TimeoutError:  # raised before or after the job's own error handling
            result = JobResult.timeout(self.timeout)
        finally:
            if use_alarm:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous)
            if outer is None:
                os.environ.pop(TOKEN_VARIABLE, None)
            else:
                os.environ[TOKEN_VARIABLE] = outer
        if fired:
            result = JobResult.timeout(self.timeout)
        # what the job left running: this process's new descendants (forked daemons stay among them) and any
        # process carrying its token; not its process group, which is the driver's
        _note_strays(result, _kill(job_processes(me.pid, token, before=before, group=False)))
        for child in me.children():  # reap those that are (now) this process's children
            if child.pid not in before:
                with contextlib.suppress(ChildProcessError, OSError):
                    os.waitpid(child.pid, os.WNOHANG)
        result.memory_method = "not measured (in-process run)"
        return result
