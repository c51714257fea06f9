"""Start-up stays cheap: ``list``, ``--help``, ``score`` and ``compare`` never import the heavy libraries.

Discovery imports every task and system module, so each must keep torch, pandas, polars, LightGBM and the
JVM bridge inside the methods that need them. (The times themselves are measured by perf/harness.py.)
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration  # every check starts the command line in a fresh process

HEAVY = ("torch", "pandas", "polars", "lightgbm", "jnius", "pyserini", "sklearn", "ranx", "numba", "ray",
         "sentence_transformers", "faiss", "implicit", "torchrec", "matplotlib")

PROBE = """
import json, sys
from benchmarks.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print("MODULES=" + json.dumps(sorted(m for m in {heavy} if m in sys.modules)), file=sys.stderr)
"""


def _heavy_after(*args: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", PROBE.format(heavy=HEAVY), *args], capture_output=True, text=True, timeout=120)
    line = next(line for line in done.stderr.splitlines() if line.startswith("MODULES="))
    return json.loads(line.removeprefix("MODULES="))


@pytest.mark.parametrize("args", [("list",), ("list", "--json"), ("--help",), ("run", "--help"), ("compare", "--help"),
                                  ("score", "--help"), ("env", "--json")])
def test_no_heavy_library_is_imported(args: tuple[str, ...]) -> None:
    assert _heavy_after(*args) == []


def test_the_probe_would_see_a_heavy_import() -> None:
    """The probe itself works: importing a system's library module does bring its heavy dependency in."""
    done = subprocess.run([sys.executable, "-c", "import sys, systems.hm.lib.ranker_features; print('pandas' in sys.modules)"],
                          capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "True", done.stderr


def test_scoring_a_kaggle_submission_needs_no_pandas(tmp_path) -> None:
    """`score` on OTTO and H&M files reads them with polars and pyarrow only (pyarrow's ``to_numpy`` and
    ``pa.scalar`` would import pandas: 0.15 s of a 3 s score)."""
    (tmp_path / "labels.jsonl").write_text('{"session": 1, "labels": {"clicks": 5, "carts": [7, 8]}}\n'
                                           '{"session": 2, "labels": {"orders": [3]}}\n')
    (tmp_path / "otto.csv").write_text("session_type,labels\n1_clicks,5 6\n1_carts,7\n2_orders,4 3\n")
    (tmp_path / "hm.csv").write_text("customer_id,prediction\nc1,0108775015 0108775044\n")
    otto = ("score", "--task", "otto-recall20", "--predictions", str(tmp_path / "otto.csv"), "--truth", str(tmp_path / "labels.jsonl"))
    hm = ("score", "--task", "hm-map12", "--predictions", str(tmp_path / "hm.csv"), "--truth", str(tmp_path / "hm.csv"))
    assert _heavy_after(*otto) == ["polars"] and _heavy_after(*hm) == ["polars"]
