"""The Ray executor (``--executor ray``; README, "Run on a cluster"): every job is a Ray task, placed by its system's
declared resources.

Ray does the scheduling, the placement (``num_cpus``, ``num_gpus``, ``memory`` from ``Resources``), the retries of a
job whose worker or node dies (``--retries``, Ray's ``max_retries``) and the cancellation on Ctrl-C; the harness writes
no scheduler of its own. Inside its Ray task a job runs as it runs locally — in a worker process of its own (so memory
is measured from outside, ``--timeout`` kills its process tree, a crash fails one job) — and its result, artifacts
included, travels back to the driver, which writes the records: a cluster needs no shared filesystem for results.

Data: a task's prepared data is put in Ray's object store when it is small (``OBJECT_STORE_LIMIT``); otherwise each
node prepares it once from its own ``--data-dir`` or cache (``prepared_on_node``), and checks that its fingerprint is
the driver's.
"""

from __future__ import annotations

import dataclasses
import fcntl
import logging
import pickle
import platform
import time
from collections.abc import Callable
from typing import Any

from benchmarks.api import TaskData
from benchmarks.config import JobSpec
from benchmarks.environment import accelerator
from benchmarks.errors import UserError
from benchmarks.executors.local import LocalExecutor
from benchmarks.jobs import Event, Events, JobResult, prepare_data
from benchmarks.records import atomic_write_bytes

OBJECT_STORE_LIMIT = 64 * 2**20
"""Prepared data up to this many bytes (pickled) travels through the object store; larger data is prepared per node."""
PHASE_EVERY = 1.0
"""Seconds between two phase reports of one job to the driver."""
INSTALL_HINT = 'pip install -e ".[ray]"'

_NODE_DATA: dict[str, TaskData] = {}
"""Prepared data kept by a Ray worker process between the jobs it runs."""


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise UserError(f"--executor ray needs Ray, which is not installed; install it with: {INSTALL_HINT}") from None
    return ray


def prepared_on_node(spec: JobSpec, fingerprint: str) -> TaskData:
    """The task's data, prepared once on this node (a file lock serialises the node's workers; the result is
    kept in ``<cache>/prepared/`` and in this process), checked against the driver's fingerprint."""
    key = spec.data_key
    if key in _NODE_DATA:
        return _NODE_DATA[key]
    folder = spec.cache_dir / "prepared"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{key}.pkl"
    with open(folder / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data = pickle.loads(path.read_bytes()) if path.is_file() else None
        if data is None or data.dataset.fingerprint != fingerprint:  # none yet, or stale: prepared from other data
            data = prepare_data(spec)
            atomic_write_bytes(path, pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL))
    if data.dataset.fingerprint != fingerprint:
        raise RuntimeError(f"node {platform.node()} prepared other data for {spec.task} than the driver: fingerprint "
                           f"{data.dataset.fingerprint[:12]}, expected {fingerprint[:12]} (check its --data-dir)")
    _NODE_DATA[key] = data
    return data


def run_on_node(spec: JobSpec, data: TaskData | None, fingerprint: str, timeout: float | None,
                start_method: str, board: Any, index: int, preload: list[str]) -> JobResult:
    """The body of one Ray task: find the data, run the job in its own worker process, return its result."""
    import ray

    node = f"{platform.node()}:{ray.get_runtime_context().get_node_id()[:8]}"
    board.report.remote(index, "start", node)
    gpus = list(ray.get_gpu_ids())  # the GPUs Ray gave this job
    device = spec.device
    if device == "auto":
        card = accelerator() if gpus else None
        device = "cuda" if card and card["type"] == "cuda" else "cpu"
    env = {"CUDA_VISIBLE_DEVICES": ",".join(str(g) for g in gpus)} if gpus else {}
    spec = dataclasses.replace(spec, device=device)
    try:
        if data is None:
            board.report.remote(index, "preparing data", node)
            data = prepared_on_node(spec, fingerprint)
        found: list[JobResult] = []
        last = [0.0]

        def on_event(event: Event, _: int, payload: Any) -> None:
            if event is Event.FINISHED:
                found.append(payload)
            elif event is Event.PHASE and time.monotonic() - last[0] >= PHASE_EVERY:
                last[0] = time.monotonic()
                board.report.remote(index, str(payload), node)

        # the job starts from a fork server (Ray is not fork-safe) that has imported what the driver imported to
        # prepare the data, as a job forked from the driver would have
        LocalExecutor(1, timeout, start_method, env=env, bare_main=True, preload=tuple(preload)).run(
            [spec], lambda _: data, on_event)
        result = found[0]
    except Exception as error:  # the node could not even start the job (its data, most often)
        result = JobResult.failure(f"{type(error).__name__}: {error}")
    result.node = node
    result.conditions.update(ray_gpu_ids=[str(g) for g in gpus], device=device)
    return result


class _Board:
    """A Ray actor the jobs report their phase and node to; the driver reads it for the live view."""

    def __init__(self) -> None:
        self.phases: dict[int, tuple[str, str]] = {}

    def report(self, index: int, phase: str, node: str) -> None:
        self.phases[index] = (phase, node)

    def snapshot(self) -> dict[int, tuple[str, str]]:
        return dict(self.phases)


class RayExecutor:
    """Runs jobs as Ray tasks, on a local Ray instance or on a cluster.

    Args:
        address: a running cluster (``auto``, ``HOST:PORT`` or ``ray://...``); None starts a local instance.
        timeout: seconds per job (enforced on the node, as locally).
        retries: how often a job whose Ray worker or node died is retried before it is recorded as failed.
        start_method: how the job's own worker process starts on the node (``auto``: a fork server there).
    """

    name = "ray"

    def __init__(self, address: str | None = None, timeout: float | None = None, retries: int = 1,
                 start_method: str = "auto") -> None:
        _ray()
        self.address = address
        self.timeout = timeout
        self.retries = retries
        self.start_method = "forkserver" if start_method == "auto" else start_method

    def _connect(self) -> bool:
        """Join or start Ray; True when this call started it (and so must stop it)."""
        ray = _ray()
        if ray.is_initialized():
            return False
        options: dict[str, Any] = {"logging_level": logging.WARNING, "log_to_driver": False}
        if self.address:
            try:
                ray.init(address=self.address, **options)
            except (ConnectionError, ValueError, RuntimeError) as error:
                raise UserError(f"--address {self.address}: cannot join a Ray cluster there ({error}). Start one with "
                                "`ray start --head`, and workers with `ray start --address=HEAD:6379`") from None
        else:
            ray.init(include_dashboard=False, _node_ip_address="127.0.0.1", **options)
        return True

    def check(self, jobs: list[JobSpec]) -> None:
        """Refuse up front what the cluster cannot run (a CUDA job without any GPU), instead of leaving it queued."""
        ray = _ray()
        resources = ray.cluster_resources()
        gpus, cpus = resources.get("GPU", 0.0), resources.get("CPU", 0.0)
        for spec in jobs:
            if spec.device == "cuda" and gpus == 0:
                raise UserError(f"--device cuda: the Ray cluster has no GPU ({cpus:g} CPUs); {spec.label} cannot run. "
                                "Use --device auto to run GPU-declaring systems on CPUs")
            if spec.resources.cpus > max((n["Resources"].get("CPU", 0.0) for n in ray.nodes() if n["Alive"]), default=0.0):
                raise UserError(f"{spec.label} declares {spec.resources.cpus:g} CPUs, more than any node of the Ray "
                                "cluster has")

    def _options(self, spec: JobSpec, cluster_gpus: float) -> dict[str, Any]:
        resources = spec.resources
        options: dict[str, Any] = {"num_cpus": resources.cpus, "max_retries": self.retries, "retry_exceptions": False}
        if resources.gpus and (cluster_gpus or spec.device == "cuda"):
            options["num_gpus"] = resources.gpus
        if resources.memory_gb:
            options["memory"] = int(resources.memory_gb * 2**30)
        return options

    def run(self, jobs: list[JobSpec], data_for: Callable[[JobSpec], TaskData], on_event: Events) -> None:
        ray = _ray()
        started_here = self._connect()
        pending: dict[Any, int] = {}
        try:
            self.check(jobs)
            remote = ray.remote(run_on_node)
            board = ray.remote(_Board).options(num_cpus=0).remote()
            cluster_gpus = ray.cluster_resources().get("GPU", 0.0)
            shared: dict[str, Any] = {}
            for index, spec in enumerate(jobs):
                data = data_for(spec)
                key = spec.data_key
                if key not in shared:
                    payload = pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)
                    shared[key] = ray.put(data) if len(payload) <= OBJECT_STORE_LIMIT else None
                preload = getattr(data_for, "imports_for", lambda _: [])(spec)
                ref = remote.options(**self._options(spec, cluster_gpus)).remote(
                    spec, shared[key], data.dataset.fingerprint, self.timeout, self.start_method, board, index, preload)
                pending[ref] = index
            seen: dict[int, tuple[str, str]] = {}  # the last phase and node each job reported
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=len(pending), timeout=0.5, fetch_local=True)
                running = set(pending.values())
                for index, report in ray.get(board.snapshot.remote()).items():
                    if index in running and seen.get(index) != report:
                        if index not in seen:
                            on_event(Event.STARTED, index, None)
                        seen[index] = report
                        on_event(Event.PHASE, index, report)
                for ref in ready:
                    index = pending.pop(ref)
                    try:
                        result = ray.get(ref)
                    except Exception as error:  # retries spent: the worker or node died, or Ray failed
                        result = JobResult.failure(f"{type(error).__name__} after {self.retries} retr"
                                                   f"{'y' if self.retries == 1 else 'ies'}: {str(error).splitlines()[0]}")
                    if index not in seen:  # finished before its first report reached the board
                        on_event(Event.STARTED, index, None)
                    on_event(Event.FINISHED, index, result)
        finally:
            try:
                for ref in pending:  # Ctrl-C, SIGTERM or an error here: nothing of this grid keeps running
                    ray.cancel(ref, force=True)
            finally:
                if started_here:
                    ray.shutdown()
