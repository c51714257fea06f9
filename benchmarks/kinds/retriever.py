"""Kind ``retriever`` (``beir-*``, ``msmarco-*``): rank a corpus for each query; one served query is one query text."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from benchmarks.api import Kind, QueryUnit, SmokeInputs, Task, TaskData
from benchmarks.kinds.answers import PredictionError

if TYPE_CHECKING:
    from pathlib import Path


@dataclass
class Corpus:
    """A document collection, in file order."""

    ids: list[str]
    titles: list[str]  # "" where absent
    texts: list[str]
    fingerprint: str = ""  # sha256 of the source files; keys caches of indexes and embeddings

    def __len__(self) -> int:
        return len(self.ids)

    def contents(self) -> list[str]:
        """``title + " " + text`` per document, as Pyserini's BEIR "flat" indexes build them."""
        return [f"{title} {text}".strip() if title else text for title, text in zip(self.titles, self.texts)]

    def subset(self, keep: list[int], tag: str) -> Corpus:
        """The documents at positions ``keep``; ``tag`` distinguishes the subset's fingerprint."""
        digest = hashlib.sha256(f"{self.fingerprint}:{tag}:{len(keep)}".encode()).hexdigest()
        return Corpus([self.ids[i] for i in keep], [self.titles[i] for i in keep], [self.texts[i] for i in keep], digest)


@dataclass
class RetrievalData(TaskData):
    """A retrieval task's data: the corpus, the judged queries (``{qid: text}``, in qid order), their judgements
    (``{qid: {docid: grade}}``) and the loader's warnings (``{what: count}``, kept in the record)."""

    corpus: Corpus
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    warnings: dict[str, int]


@runtime_checkable
class Retriever(Protocol):
    """``beir-*`` and ``msmarco-*``: rank a corpus for each query."""

    def index(self, corpus: Corpus) -> None:
        """Index the documents (``corpus.ids``, ``corpus.titles``, ``corpus.texts``; ``corpus.contents()``
        joins title and text; ``corpus.fingerprint`` identifies it for caches)."""

    def search(self, queries: dict[str, str], k: int) -> dict[str, dict[str, float]]:
        """Return ``{qid: {docid: score}}`` with at most ``k`` documents per query, higher = better."""


@runtime_checkable
class ServedRetriever(Protocol):
    """Optional: answer queries one at a time (the per-query path, not a batch)."""

    def serve(self, batch: list[str], k: int) -> list[dict[str, float]]:
        """``batch``: query texts → per query ``{docid: score}``, at most ``k``, equal to ``search``'s."""


def serving_queries(data: RetrievalData) -> list[str]:
    """The judged query texts, in the task's qid order."""
    return [str(text) for text in data.queries.values()]


def serve_by_search(system: Retriever, queries: list[str], k: int | None = 100) -> list[dict[str, float]]:
    """The batch path, and ``serve`` for a system whose per-query path is ``search`` itself: what ``search`` over
    all queries at once answers for each query."""
    run = system.search({f"q{i}": text for i, text in enumerate(queries)}, k or 100)
    return [dict(run.get(f"q{i}", {})) for i in range(len(queries))]


def check_run(run: Any) -> dict[str, dict[str, float]]:
    """A retriever's ``search`` answer as ``{qid: {docid: score}}`` with string ids and finite float scores
    (numbers only: a string, None or a bool is refused, not converted)."""
    import math
    import numbers

    if not isinstance(run, dict):
        raise PredictionError(f"search(): expected {{qid: {{docid: score}}}}, got {type(run).__name__}")
    clean: dict[str, dict[str, float]] = {}
    for qid, docs in run.items():
        if not isinstance(docs, dict):
            raise PredictionError(f"search()[{qid!r}]: expected {{docid: score}}, got {type(docs).__name__}")
        scores: dict[str, float] = {}
        for docid, score in docs.items():
            if isinstance(score, bool) or not isinstance(score, numbers.Real):
                raise PredictionError(f"search() returned the score {score!r} ({type(score).__name__}) for document {docid!r} "
                                      f"of query {qid!r}: scores must be numbers")
            if not math.isfinite(score):
                raise PredictionError(f"search() returned the score {score} for document {docid!r} of query {qid!r}: "
                                      "scores must be finite numbers")
            scores[str(docid)] = float(score)
        clean[str(qid)] = scores
    return clean


TOY_SUBJECTS = ("volcano piano tennis salmon satellite cathedral penguin espresso glacier violin tornado chess "
                "diamond saxophone cactus submarine telescope avalanche marathon honeybee").split()


def toy_collection(folder: Path) -> Path:
    """A BEIR-layout collection: 20 documents on 20 distinct subjects, 10 distractors, one query per subject."""
    (folder / "qrels").mkdir(parents=True, exist_ok=True)
    docs = [{"_id": f"doc{i}", "title": s.title(), "text": f"The {s} is the topic of this article, about the {s}."}
            for i, s in enumerate(TOY_SUBJECTS)]
    docs += [{"_id": f"other{j}", "title": "Miscellany", "text": f"An unrelated note number {j}."} for j in range(10)]
    queries = [{"_id": f"q{i}", "text": f"facts about the {s}"} for i, s in enumerate(TOY_SUBJECTS)]
    (folder / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
    (folder / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in queries))
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n"
                                               + "".join(f"q{i}\tdoc{i}\t1\n" for i in range(len(TOY_SUBJECTS))))
    return folder


def smoke_inputs(task: type[Task], scratch: Path) -> SmokeInputs:
    """A task that takes ``--dataset`` runs on the toy collection; a public BEIR task on its folder of the shared data."""
    if "dataset" in {f.name for f in dataclasses.fields(task.Options)}:
        return SmokeInputs({"task.dataset": str(toy_collection(scratch / "toy"))})
    return SmokeInputs(shared_data=f"beir/{task.id.removeprefix('beir-').removesuffix('-ndcg10')}")


KIND = Kind("retriever", Retriever, ServedRetriever,
            QueryUnit(query="a query (text)", answer="its top 100 documents with scores", k=100),
            serving_queries, serve_by_search, smoke_inputs)
