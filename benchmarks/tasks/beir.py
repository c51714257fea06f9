"""Tasks ``beir-<name>-ndcg10`` (the public BEIR datasets) and ``beir-ndcg10`` (any local BEIR-layout folder,
``--dataset PATH``); also the shared retrieval task logic that the MS MARCO tasks reuse (the protocol: ``_PROTOCOL``).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, make_dataclass
from pathlib import Path
from typing import Any, ClassVar

from benchmarks.api import DatasetInfo, Evaluation, RunContext, Task
from benchmarks.data.beir import Collection, find_beir_dataset, load_beir_folder
from benchmarks.data.trec import read_qrels, read_trec_run, write_trec_qrels, write_trec_run
from benchmarks.errors import DataError, UserError, quote
from benchmarks.kinds import retriever
from benchmarks.kinds.retriever import RetrievalData, Retriever, check_run
from benchmarks.metrics.retrieval import BEIR_METRICS, RetrievalScores, drop_identical_ids, evaluate_run
from benchmarks.registry import register_task

SMOKE_QUERIES = 20
SMOKE_EXTRA_DOCS = 300


def smoke_subset(collection: Collection) -> Collection:
    """The smoke profile's slice: the first 20 judged queries, and a corpus of their judged documents
    plus the first 300 documents of the file (so there is something to rank them against)."""
    judged = sorted(q for q in collection.qrels if q in collection.queries)[:SMOKE_QUERIES]
    wanted = {d for q in judged for d in collection.qrels[q]}
    keep = [i for i, d in enumerate(collection.corpus.ids) if d in wanted or i < SMOKE_EXTRA_DOCS]
    corpus = collection.corpus.subset(keep, "smoke")
    return Collection(
        collection.name + " (smoke slice)", corpus, {q: collection.queries[q] for q in judged},
        {q: collection.qrels[q] for q in judged}, corpus.fingerprint, collection.source, collection.warnings,
    )


class RetrievalTask(Task):
    """Shared logic of the retrieval tasks. Subclasses implement ``load_collection``."""

    kind = retriever.KIND
    main_metric = "ndcg@10"
    default_seeds = (0,)
    metrics: ClassVar[tuple[str, ...]] = BEIR_METRICS
    depth: ClassVar[int] = 100
    """How many documents per query a system returns (and the run file keeps)."""
    ignore_identical_ids: ClassVar[bool] = True
    """BEIR's rule (drop a retrieved doc whose id is the query's id); a task option can override it."""
    profiles = {
        "smoke": f"first {SMOKE_QUERIES} judged queries over their judged docs + the first {SMOKE_EXTRA_DOCS} docs",
        "default": "the whole test split",
        "full": "the whole test split",
    }

    def load_collection(self, context: RunContext) -> Collection:
        raise NotImplementedError

    @property
    def drops_identical_ids(self) -> bool:
        return bool(getattr(self.options, "ignore_identical_ids", self.ignore_identical_ids))

    def prepare(self, context: RunContext) -> RetrievalData:
        collection = self.load_collection(context)
        if context.profile == "smoke":
            collection = smoke_subset(collection)
        missing_text = [q for q in collection.qrels if q not in collection.queries]
        queries = {q: collection.queries[q] for q in sorted(collection.qrels) if q in collection.queries}
        if not queries:
            raise UserError(f"{collection.source}: no judged query has a text; check the queries and qrels files")
        if missing_text:
            context.log(f"warning: {len(missing_text)} judged queries have no text and are dropped")
        info = DatasetInfo(name=collection.name, fingerprint=collection.fingerprint, synthetic=False, source=collection.source)
        context.log(f"{len(collection.corpus):,} documents, {len(queries):,} judged queries")
        return RetrievalData(info, collection.corpus, queries, {q: collection.qrels[q] for q in queries},
                             dict(collection.warnings))

    def fit(self, system: Retriever, data: RetrievalData, context: RunContext) -> None:
        system.index(data.corpus)

    def predict(self, system: Retriever, data: RetrievalData, context: RunContext) -> Any:
        return check_run(system.search(dict(data.queries), self.depth))

    def _evaluation(self, scores: RetrievalScores, extras: dict[str, Any]) -> Evaluation:
        extras = {
            **extras,
            "queries_evaluated": len(scores.query_ids),
            "queries_missing_from_run": len(scores.missing_from_run),
            "identical_ids_removed": scores.identical_ids_removed,
        }
        return Evaluation(metrics=dict(scores.means), per_example=scores.per_query, example_ids=scores.query_ids,
                          extras=extras)

    def evaluate(self, predictions: Any, data: RetrievalData, context: RunContext) -> Evaluation:
        scores = evaluate_run(data.qrels, predictions, self.metrics, self.drops_identical_ids)
        return self._evaluation(scores, {"warnings": data.warnings, "n_docs": len(data.corpus)})

    def save_predictions(self, predictions: Any, data: RetrievalData, context: RunContext) -> list[Path]:
        """The scored run (identical ids dropped when the task does) and its qrels, in TREC format: ``trec_eval -c``
        on the pair gives the record's numbers (each metric's options: ``Measure.trec_eval_args``)."""
        run_path = context.artifact_path("run.trec")
        qrels_path = context.artifact_path("qrels.txt")
        if run_path is None or qrels_path is None:
            return []
        if self.drops_identical_ids:
            predictions, _ = drop_identical_ids(predictions)
        return [write_trec_run(predictions, run_path, tag=f"{context.task_id}"),
                write_trec_qrels(data.qrels, qrels_path)]

    def score(self, predictions_file: Path, truth_file: Path) -> Evaluation:
        """Score a TREC run against TREC or BEIR qrels with this task's metrics, as ``trec_eval -c`` does.

        Every judged query counts: one the run has no line for scores 0, and their number is
        reported (on stderr and in ``extras``). A doc listed twice for a query is an error.
        """
        run = read_trec_run(Path(predictions_file))
        if not run:
            raise UserError(f"{predictions_file}: the run file has no result lines (expected 'qid Q0 docid rank score tag')")
        qrels = read_qrels(Path(truth_file))
        if not qrels:
            raise DataError(truth_file, "has a header and no judgements: nothing to score",
                            hint="expected lines 'qid 0 docid grade' (TREC) or 'query-id<TAB>corpus-id<TAB>score' (BEIR)")
        scores = evaluate_run(qrels, run, self.metrics, self.drops_identical_ids)
        if not scores.query_ids:
            raise UserError(f"{truth_file}: no query has a judgement")
        if scores.unjudged_in_run == len(run):
            raise UserError(f"{predictions_file}: none of its {len(run):,} queries is judged in {truth_file} "
                            f"(run query ids look like {quote(sorted(run)[:3], 100)}, judged ones like {quote(scores.query_ids[:3], 100)})")
        if scores.missing_from_run:
            print(f"warning: {len(scores.missing_from_run):,} of the {len(scores.query_ids):,} judged queries of {truth_file} "
                  f"have no line in {predictions_file}; they count as 0 (as with trec_eval -c), e.g. "
                  f"{', '.join(scores.missing_from_run[:3])}", file=sys.stderr)
        return self._evaluation(scores, {})


@dataclass
class BeirPathOptions:
    """Options of the tasks that read a local BEIR-layout folder (``beir-ndcg10``, and the MS MARCO tasks' subsets)."""

    dataset: str | None = None
    """A BEIR-layout folder (``--dataset PATH``)."""
    split: str = "test"
    """The qrels split (``qrels/<split>.tsv``)."""
    ignore_identical_ids: bool = False
    """Drop a retrieved document whose id equals the query id (BEIR's rule; off for local collections, whose small
    integer ids often collide by accident, and for MS MARCO, whose query and passage id ranges overlap)."""


def local_collection(options: BeirPathOptions, context: RunContext) -> Collection:
    """The BEIR-layout folder of ``--dataset PATH``."""
    folder = Path(options.dataset or "").expanduser()
    return load_beir_folder(folder, split=options.split, cache_dir=context.cache_dir,
                            name=f"{folder.resolve().name} (local)", log=context.log)


# name → (pretty name, Pyserini BM25 flat nDCG@10 where known, split)
BEIR_DATASETS: dict[str, tuple[str, float | None, str]] = {
    "scifact": ("SciFact", 0.6789, "test"),
    "nfcorpus": ("NFCorpus", 0.3218, "test"),
    "arguana": ("ArguAna", 0.3970, "test"),
    "fiqa": ("FiQA-2018", 0.2361, "test"),
    "scidocs": ("SCIDOCS", 0.1490, "test"),
    "trec-covid": ("TREC-COVID", 0.5947, "test"),
    "quora": ("Quora", None, "test"),
    "nq": ("NQ", None, "test"),
    "hotpotqa": ("HotpotQA", None, "test"),
    "dbpedia-entity": ("DBPedia-Entity", None, "test"),
    "msmarco": ("MS MARCO (BEIR, dev)", None, "dev"),
    "climate-fever": ("Climate-FEVER", None, "test"),
    "fever": ("FEVER", None, "test"),
    "webis-touche2020": ("Touché-2020", None, "test"),
}

_PROTOCOL = (
    "BEIR zero-shot protocol: index the whole corpus (title + text), retrieve the top 100 documents for every judged "
    "query of the split, score with trec_eval's code (pytrec_eval; scores compared in single precision as trec_eval 9.0.x "
    "reads them, ties: doc id descending, also before MRR@10's cut) on nDCG@10 (main), "
    "Recall@100, MRR@10 and MAP@100, averaged over every judged query as trec_eval -c does (a query the system returns "
    "nothing for scores 0); queries without judgements are dropped{identical}. Per-example values: one per judged query. "
    "The run and qrels kept beside the record reproduce the numbers with trec_eval -c."
)
_BEIR_IDENTICAL = " and a document whose id equals the query id is ignored (BEIR's rule)"
_LOCAL_IDENTICAL = (" and a document whose id equals the query id is kept, unless --set ignore_identical_ids=true "
                    "(BEIR's rule, for collections whose queries are corpus documents)")


def _make_beir_task(name: str, pretty: str, reference: float | None, split: str) -> type[RetrievalTask]:
    def load_collection(self: RetrievalTask, context: RunContext) -> Collection:
        folder = find_beir_dataset(name, context.data_dir, context.cache_dir, log=context.log)
        return load_beir_folder(folder, split=self.options.split, cache_dir=context.cache_dir, name=f"beir/{name}",
                                log=context.log)

    ref = (f" Pyserini BM25 flat reference on the full BEIR {pretty} corpus ({split} split): nDCG@10 = {reference}."
           if reference is not None else "")
    return type(f"Beir{''.join(part.title() for part in name.split('-'))}Task", (RetrievalTask,), {
        "__module__": __name__,
        "__doc__": f"BEIR {pretty}: nDCG@10 of a zero-shot retriever.",
        "id": f"beir-{name}-ndcg10",
        "version": "1",
        "description": f"BEIR {pretty} ({split} split): rank the corpus for each query.{ref}",
        "protocol": _PROTOCOL.format(identical=_BEIR_IDENTICAL),
        "data_source": f"<data-dir>/beir/{name}/ or https://public.ukp.informatik.tu-darmstadt.de/thakur/BEIR/datasets/{name}.zip",
        "Options": make_dataclass(f"Beir{name.title().replace('-', '')}Options", [("split", str, split)]),
        "load_collection": load_collection,
    })


for _name, (_pretty, _reference, _split) in BEIR_DATASETS.items():
    _task = register_task(_make_beir_task(_name, _pretty, _reference, _split))
    # Module globals, so that the classes and their options pickle by reference (spawned workers).
    _task.Options.__module__ = __name__
    globals()[_task.__name__] = _task
    globals()[_task.Options.__name__] = _task.Options


@register_task
class BeirPathTask(RetrievalTask):
    """Any local collection in BEIR layout, given with ``--dataset PATH``."""

    id = "beir-ndcg10"
    version = "2"  # 2: identical ids kept unless ignore_identical_ids; missing queries count 0
    description = "Any local collection in BEIR layout (corpus.jsonl, queries.jsonl, qrels/<split>.tsv): --dataset PATH."
    protocol = _PROTOCOL.format(identical=_LOCAL_IDENTICAL)
    data_source = "--dataset PATH (a BEIR-layout folder)"
    Options = BeirPathOptions

    def load_collection(self, context: RunContext) -> Collection:
        if not self.options.dataset:
            raise UserError("task 'beir-ndcg10' needs a BEIR-layout folder: --dataset PATH")
        return local_collection(self.options, context)
