"""The Ray executor against real multi-node Ray clusters started and stopped by the tests (ray.cluster_utils):
the same metrics as the local executor, retries when a node dies, failures recorded, Ctrl-C, GPU placement."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from benchmarks.config import RunRequest
from benchmarks.errors import UserError
from benchmarks.records import Record, load_records
from benchmarks.runner import run

if TYPE_CHECKING:
    from ray.cluster_utils import Cluster

# Ray is imported by the tests that use it: collecting this module (the unit tier deselects it) stays cheap.
pytestmark = [pytest.mark.integration, pytest.mark.skipif(importlib.util.find_spec("ray") is None,
                                                          reason='Ray is not installed (pip install -e ".[ray]")')]


def _start(*nodes: dict) -> Cluster:
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"include_dashboard": False, **nodes[0]})
    for node in nodes[1:]:
        cluster.add_node(**node)
    cluster.wait_for_nodes()
    return cluster


GPU_NODE = {"num_cpus": 1, "num_gpus": 1, "resources": {"fake_gpu_node": 1}}


@pytest.fixture(scope="module")
def cluster():
    """Two nodes without GPUs: a head with one CPU and a worker with two (one cluster start serves every test here;
    the GPU placement test starts its own cluster with a fake-GPU node)."""
    found = _start({"num_cpus": 1}, {"num_cpus": 2})
    yield found
    found.shutdown()


def _request(results_dir: Path, cluster: Cluster, **kwargs) -> RunRequest:
    base = dict(tasks=["mock-acc"], systems=["mock-threshold"], seeds=[0], profile="smoke", results_dir=results_dir,
                progress=False, executor="ray", address=cluster.address)
    base.update(kwargs)
    return RunRequest(**base)


def _node_of(cluster: Cluster, record: Record) -> str:
    return record.conditions["node"].rsplit(":", 1)[1]


@pytest.mark.slow  # a whole moons grid on Ray (about 35 s on 2 cores); the failure and refusal tests below stay in the default tier
def test_a_moons_grid_on_ray_equals_the_local_executor_bit_for_bit(cluster, tmp_path):
    systems, seeds = ["logreg", "rbf-svm", "sklearn-mlp"], [0, 1]
    common = dict(tasks=["moons-acc"], systems=systems, seeds=seeds, profile="smoke", progress=False)
    local = run(RunRequest(results_dir=tmp_path / "local", **common))
    remote = run(RunRequest(results_dir=tmp_path / "ray", executor="ray", address=cluster.address, **common))
    assert len(local) == len(remote) == 6 and all(o.status == "ok" for o in local + remote)
    by_key = {(r.system, r.seed): r for r in load_records(tmp_path / "local", "moons-acc")}
    nodes = set()
    for record in load_records(tmp_path / "ray", "moons-acc"):
        twin = by_key[(record.system, record.seed)]
        assert record.metrics == twin.metrics  # exact, not approximately
        assert record.per_example.values == twin.per_example.values
        assert record.job_key == twin.job_key and record.conditions["executor"] == "ray"
        nodes.add(_node_of(cluster, record))
    assert len(nodes) >= 2  # the grid was spread over the cluster


def test_failures_are_recorded_while_the_rest_finish(cluster, tmp_path):
    outcomes = run(_request(tmp_path, cluster, systems=["mock-fault", "mock-threshold"], seeds=[0], timeout=8,
                            overrides={"mock-fault.mode": "raise"}))
    outcomes += run(_request(tmp_path, cluster, systems=["mock-fault"], seeds=[1], timeout=8,
                             overrides={"mode": "memory", "megabytes": 600}))
    outcomes += run(_request(tmp_path, cluster, systems=["mock-fault"], seeds=[2], timeout=3, overrides={"mode": "sleep"}))
    errors = {(o.system, o.seed): (o.status, o.error or "") for o in outcomes}
    assert [(o.system, o.seed) for o in outcomes if o.timed_out] == [("mock-fault", 2)]
    assert errors[("mock-threshold", 0)][0] == "ok"
    assert errors[("mock-fault", 0)][0] == "failed" and "boom in fit" in errors[("mock-fault", 0)][1]
    assert errors[("mock-fault", 1)][0] == "failed" and "out of memory" in errors[("mock-fault", 1)][1]
    assert errors[("mock-fault", 2)][0] == "failed" and "timeout" in errors[("mock-fault", 2)][1]


@pytest.mark.slow  # a cluster of its own, with a fake-GPU node
def test_a_gpu_declaring_system_runs_only_on_a_gpu_node(tmp_path):
    cluster = _start({"num_cpus": 1}, {"num_cpus": 2}, GPU_NODE)
    try:
        import ray

        outcomes = run(_request(tmp_path, cluster, systems=["mock-gpu", "mock-majority"], seeds=[0, 1, 2]))
        assert all(o.status == "ok" for o in outcomes)
        ray.init(address=cluster.address, logging_level="ERROR")
        try:
            gpu_node = next(n["NodeID"] for n in ray.nodes() if n["Alive"] and n["Resources"].get("GPU"))
        finally:
            ray.shutdown()
    finally:
        cluster.shutdown()
    for record in load_records(tmp_path, "mock-acc"):
        if record.system == "mock-gpu":
            assert gpu_node.startswith(_node_of(cluster, record)), record.conditions
            assert record.conditions["ray_gpu_ids"] == ["0"]  # the job saw exactly the GPU Ray gave it
            # context.device is what the job ran on: the fake GPU has no CUDA device behind it, so the CPU
            assert record.device == record.conditions["device"] == "cpu"


def test_cuda_asked_of_a_cluster_without_gpus_is_refused_up_front(cluster, tmp_path):
    start = time.monotonic()
    with pytest.raises(UserError, match="no GPU"):
        run(_request(tmp_path, cluster, systems=["mock-gpu"], device="cuda"))
    assert time.monotonic() - start < 60 and not (tmp_path / "records" / "mock-acc").exists()


@pytest.mark.slow  # a minute of sleeping jobs and node restarts
def test_a_job_on_a_node_that_dies_is_retried_elsewhere(tmp_path):
    cluster = _start({"num_cpus": 0}, {"num_cpus": 2})
    doomed = cluster.list_all_nodes()[1]
    outcomes: list = []
    request = _request(tmp_path, cluster, systems=["mock-fault"], seeds=[0, 1], retries=1,
                       overrides={"mode": "sleep", "seconds": 25.0})
    worker = threading.Thread(target=lambda: outcomes.extend(run(request)))
    try:
        worker.start()
        time.sleep(12)  # both jobs are running (25 s each) on the only node with CPUs
        cluster.add_node(num_cpus=2)
        cluster.remove_node(doomed, allow_graceful=False)
        worker.join(timeout=180)
        assert not worker.is_alive()
    finally:
        cluster.shutdown()
    assert sorted((o.seed, o.status) for o in outcomes) == [(0, "ok"), (1, "ok")], [o.error for o in outcomes]
    for record in load_records(tmp_path, "mock-acc"):
        assert not doomed.node_id.startswith(_node_of(cluster, record))


def test_ctrl_c_on_the_driver_keeps_finished_records_and_leaves_no_job_running(cluster, tmp_path):
    results, pid_file = tmp_path / "results", tmp_path / "grandchild.pid"
    driver = subprocess.Popen(
        [sys.executable, "-c", "import mock_plugins, sys; from benchmarks.cli import main; sys.exit(main())",
         "run", "--task", "mock-acc", "--system", "mock-threshold", "--system", "mock-fault", "--seed", "0",
         "--set", "mock-fault.mode=grandchild", "--set", f"mock-fault.pid_file={pid_file}", "--set", "mock-fault.seconds=300",
         "--executor", "ray", "--address", cluster.address, "--results-dir", str(results), "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while (not pid_file.exists() or not list((results / "records" / "mock-acc").rglob("*.json"))) \
            and time.monotonic() < deadline and driver.poll() is None:
        time.sleep(0.3)
    assert pid_file.exists(), driver.stderr.read() if driver.poll() is not None else "no grandchild started"
    driver.send_signal(signal.SIGINT)
    _, err = driver.communicate(timeout=120)
    assert driver.returncode == 130, err
    saved = load_records(results, "mock-acc")
    assert [r.system for r in saved] == ["mock-threshold"] and saved[0].ok
    assert "mock-threshold" in (results / "mock-acc.md").read_text()
    grandchild = int(pid_file.read_text())
    for _ in range(50):  # the job's worker and its child go within seconds
        if not _alive(grandchild):
            break
        time.sleep(0.2)
    assert not _alive(grandchild)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split()[2] != "Z"
    except OSError:
        return False
