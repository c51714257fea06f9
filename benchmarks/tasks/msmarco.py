"""Tasks ``msmarco-dev-mrr10``, ``msmarco-dl19-ndcg10`` and ``msmarco-dl20-ndcg10``: MS MARCO v1 passage
ranking on the dev-small queries (MRR@10) and the TREC Deep Learning 2019/2020 passage topics (nDCG@10), over the
official collection or BEIR's copy of it (downloaded when absent), with Anserini's copies of the topics and qrels.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.api import RunContext
from benchmarks.data.beir import Collection, find_beir_dataset, load_corpus_cached
from benchmarks.data.download import fingerprint, locate
from benchmarks.data.trec import read_qrels, read_topics
from benchmarks.errors import UserError
from benchmarks.registry import register_task
from benchmarks.tasks.beir import BeirPathOptions, RetrievalTask, local_collection


class MsmarcoTask(RetrievalTask):
    """Shared loading of the MS MARCO passage tasks."""

    topics_file = ""
    qrels_file = ""
    depth = 1000
    ignore_identical_ids = False
    slow_smoke = True  # the contract test runs it on beir-ndcg10's toy collection: only the metrics differ
    Options = BeirPathOptions  # dataset: a BEIR-layout folder instead of the full collection
    data_source = ("<data-dir>/msmarco/collection.tsv or <data-dir>/beir/msmarco/ (BEIR archive); topics/qrels in "
                   "<data-dir>/msmarco/topics-qrels/; or --dataset PATH (BEIR layout)")

    def load_collection(self, context: RunContext) -> Collection:
        if self.options.dataset:
            return local_collection(self.options, context)
        topics_path, qrels_path = (locate(Path("msmarco/topics-qrels") / name, context.data_dir, context.cache_dir)
                                   for name in (self.topics_file, self.qrels_file))
        if topics_path is None or qrels_path is None:
            raise UserError(
                f"task {self.id!r} needs msmarco/topics-qrels/{self.topics_file} and {self.qrels_file} under --data-dir "
                "(Anserini's tools/topics-and-qrels has them); or pass --dataset PATH for a BEIR-layout subset"
            )
        collection_path = locate("msmarco/collection.tsv", context.data_dir, context.cache_dir)
        if collection_path is None:
            try:
                folder = find_beir_dataset("msmarco", context.data_dir, context.cache_dir, log=context.log)
            except UserError as error:
                raise UserError(f"{error} Or put MS MARCO's official collection.tsv (8.8M passages) at "
                                "<data-dir>/msmarco/collection.tsv; for a local subset use --dataset PATH.") from None
            collection_path = folder / "corpus.jsonl"
        corpus = load_corpus_cached(collection_path, context.cache_dir, log=context.log)
        queries = read_topics(topics_path)
        qrels = read_qrels(qrels_path)
        known = set(corpus.ids)
        warnings = {"qrels_unknown_documents": sum(1 for j in qrels.values() for d in j if d not in known)}
        digest = fingerprint([topics_path, qrels_path], extra=corpus.fingerprint)
        return Collection(f"msmarco-passage/{self.topics_file}", corpus, queries, qrels, digest,
                          f"{collection_path}; {topics_path}; {qrels_path}", warnings)


@register_task
class MsmarcoDevTask(MsmarcoTask):
    id = "msmarco-dev-mrr10"
    version = "1"
    main_metric = "mrr@10"
    metrics = ("mrr@10", "recall@1000", "ndcg@10")
    topics_file = "topics.msmarco-passage.dev-subset.txt"
    qrels_file = "qrels.msmarco-passage.dev-subset.txt"
    description = ("MS MARCO passage ranking, dev small (6,980 queries) over the 8.8M-passage collection. "
                   "Pyserini BM25 (k1=0.9, b=0.4) on the full 8.8M-passage collection: MRR@10 0.1840, R@1k 0.8526.")
    protocol = ("Retrieve the top 1,000 passages per dev-small query; MRR@10 (main), Recall@1000, nDCG@10 with "
                "trec_eval 9.0.x ranking (scores in single precision, ties: doc id descending, also before MRR@10's cut). "
                "Per-example values: one per judged query.")


@register_task
class MsmarcoDl19Task(MsmarcoTask):
    id = "msmarco-dl19-ndcg10"
    version = "1"
    main_metric = "ndcg@10"
    metrics = ("ndcg@10", "map@1000-l2", "recall@1000-l2", "mrr@10-l2")
    topics_file = "topics.dl19-passage.txt"
    qrels_file = "qrels.dl19-passage.txt"
    description = ("TREC Deep Learning 2019 passage (43 judged topics, graded 0-3) over MS MARCO v1. "
                   "Pyserini BM25 default on the full MS MARCO v1 passage collection (8.8M passages): nDCG@10 0.5058, "
                   "MAP 0.3013, R@1k 0.7501.")
    protocol = ("Retrieve the top 1,000 passages per topic; nDCG@10 (main, all grades), and as in TREC DL MAP, "
                "Recall@1000 and MRR@10 counting grade ≥ 2 as relevant (suffix -l2). Per-example: one per topic.")


@register_task
class MsmarcoDl20Task(MsmarcoDl19Task):
    id = "msmarco-dl20-ndcg10"
    topics_file = "topics.dl20.txt"
    qrels_file = "qrels.dl20-passage.txt"
    description = ("TREC Deep Learning 2020 passage (54 judged of 200 topics) over MS MARCO v1. "
                   "Pyserini BM25 default on the full MS MARCO v1 passage collection (8.8M passages): nDCG@10 0.4796, "
                   "MAP 0.2856, R@1k 0.7863.")
