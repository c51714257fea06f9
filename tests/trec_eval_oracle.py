"""The real trec_eval binary as an oracle for the retrieval metrics: found on the PATH, in ``$MLSD_TREC_EVAL``,
or unpacked from the Anserini jar that Pyserini ships (it carries trec_eval 9.0.4 for linux-amd64).

trec_eval prints 4 decimals. To compare to 1e-9, ``trec_eval_c`` asks for z-scores (``-Z``) against
a mean of 0 and a standard deviation of 1e-8, which prints each value times 1e8, to 4 decimals:
12 decimals of the value itself.

Usage::

    binary = find_trec_eval(cache_dir)          # None when there is none
    means, per_query = trec_eval_c(binary, qrels_file, run_file, parse_metric("ndcg@10"))
"""

from __future__ import annotations

import glob
import importlib.util
import os
import platform
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

from benchmarks.metrics.retrieval import Measure

SCALE = 1e-8
"""The standard deviation given to ``-Z``: values come back multiplied by 1e8."""


def find_trec_eval(cache_dir: Path) -> Path | None:
    """A runnable trec_eval: ``$MLSD_TREC_EVAL``, ``trec_eval`` on the PATH, or the one in Pyserini's jar
    (unpacked once into ``cache_dir``). None when none of them exists or runs."""
    candidates = [os.environ.get("MLSD_TREC_EVAL"), shutil.which("trec_eval"), _from_pyserini_jar(Path(cache_dir))]
    return next((Path(c) for c in candidates if c and _runs(Path(c))), None)


def _from_pyserini_jar(cache_dir: Path) -> Path | None:
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
        return None
    spec = importlib.util.find_spec("pyserini")
    if spec is None or spec.origin is None:
        return None
    jars = sorted(glob.glob(os.path.join(os.path.dirname(spec.origin), "resources", "jars", "*fatjar*.jar")))
    if not jars:
        return None
    target = cache_dir / "trec_eval" / f"{Path(jars[-1]).stem}-trec_eval"
    if not target.is_file():
        with zipfile.ZipFile(jars[-1]) as jar:
            try:
                payload = jar.read("trec_eval/trec_eval-linux-amd64")
            except KeyError:
                return None
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=target.parent)
        with os.fdopen(fd, "wb") as out:
            out.write(payload)
        os.chmod(temp, 0o755)
        os.replace(temp, target)
    return target


def _runs(binary: Path) -> bool:
    try:
        done = subprocess.run([str(binary), "-v"], capture_output=True, text=True, timeout=30)
    except OSError:
        return False
    return "trec_eval" in (done.stdout + done.stderr)


def trec_eval_c(binary: Path, qrels_file: Path, run_file: Path, measure: Measure) -> tuple[float, dict[str, float]]:
    """Run ``trec_eval -c -q`` for one metric (its options from ``measure.trec_eval_args()``).

    Returns:
        ``(mean over every judged query, {qid: value})`` to about 12 decimals; queries
        missing from the run are in the mean (as 0) but not in the per-query values.
    """
    qrels_file, run_file = Path(qrels_file), Path(run_file)
    queries = sorted({line.split()[0] for line in qrels_file.read_text(encoding="utf-8").splitlines() if line.strip()})
    with tempfile.TemporaryDirectory(prefix="trec-eval-") as temp:
        zmean = Path(temp) / "zmean"
        zmean.write_text("".join(f"{q} {measure.result_key} 0 {SCALE!r}\n" for q in queries), encoding="utf-8")
        done = subprocess.run([str(binary), "-q", "-Z", str(zmean), *measure.trec_eval_args(), str(qrels_file), str(run_file)],
                              capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"trec_eval failed ({done.returncode}): {done.stderr.strip()}")
    per_query: dict[str, float] = {}
    mean = None
    for line in done.stdout.splitlines():
        name, qid, value = line.split()
        if name != "Z" + measure.result_key:
            continue
        if qid == "all":
            mean = float(value) * SCALE
        else:
            per_query[qid] = float(value) * SCALE
    if mean is None:
        raise RuntimeError(f"trec_eval printed no mean for {measure.result_key}: {done.stdout[-500:]}")
    return mean, per_query
