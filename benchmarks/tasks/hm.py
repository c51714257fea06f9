"""Task ``hm-map12``: H&M Personalized Fashion Recommendations (Kaggle 2022), MAP@12 over the
customers who bought something in the held-out week, on the competition's files or their synthetic twin.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from benchmarks.api import DatasetInfo, Evaluation, RunContext, Task
from benchmarks.data import hm as hm_data
from benchmarks.data.download import locate
from benchmarks.errors import DataError, UserError
from benchmarks.kinds import recommender
from benchmarks.kinds.recommender import CustomerData, HMTrainData, Recommender, Truth, check_recommendations
from benchmarks.metrics.recommendation import ap_at_k_matrix, recall_at_k_matrix
from benchmarks.registry import register_task

K = 12
SYNTHETIC_SCALE = {"smoke": 0.002, "default": 0.03, "full": 1.0}


@dataclass
class Options:
    """Options of ``hm-map12`` (``--set key=value``; ``--dataset FOLDER`` sets ``dataset``)."""

    source: Literal["auto", "synthetic", "real"] = "auto"
    """auto: real files if found locally, else synthetic; real: require them (Kaggle API fetch); synthetic: the twin."""
    dataset: str | None = None
    """A folder with articles, customers and transactions files (CSV or parquet); ``--dataset PATH``."""
    scale: float | None = None
    """Synthetic size relative to the competition (None: 0.002 smoke, 0.03 default, 1.0 full)."""
    synthetic_seed: int = 0
    save_submission: bool = False
    """Local holdout: also write each system's submission and the truth as Kaggle-format CSVs."""
    holdout: Literal["local", "kaggle"] = "local"
    """local: hold out the last week; kaggle: train on everything, write a test-week submission."""


@register_task
class HMMap12(Task):
    id = "hm-map12"
    version = "1"
    kind = recommender.KIND
    main_metric = "map@12"
    description = (
        "Recommend 12 articles to each H&M customer for the next week (Kaggle 'H&M Personalized Fashion "
        "Recommendations', 2022). Published reference points on the real validation week 2020-09-16..22: "
        "time-decay popularity ≈ 0.022 MAP@12; LightGBM rankers ≈ 0.023–0.043 (1st place single LightGBM: "
        "CV 0.0430, public LB 0.0362); 1st place ≈ 0.036 on the leaderboard; 142nd place 0.0253 private. "
        "Without the Kaggle files the task runs on a deterministic synthetic twin with the same schema "
        "(benchmarks/data/hm_synthetic.py, v2) whose size-independent FULL-STATS.md figures are within ±20% of the "
        "real data's at every scale (`python -m benchmarks data-stats --task hm-map12`); its records are labelled "
        "synthetic and their numbers are not comparable to the above. On its default profile (3 seeds, paired tests) "
        "it reproduces the competition's ordering: hm-lgbm-ranker first (0.0464), hm-repurchase (0.0302) and "
        "hm-time-decay-popular (0.0241) above hm-popular (0.0185). Other orderings on the twin are not claims about "
        "the real data: hm-two-tower and hm-als sit between the ranker and repurchase, and hm-itemcf scores below "
        "hm-popular; on the smoke profile only the ranker's lead is significant. "
        "Default seeds: (0,): the data and split are fixed and most systems are deterministic; the seeded "
        "ones (ALS, LightGBM, two-tower) vary little next to the ranking between systems."
    )
    protocol = (
        "Local validation (holdout=local): train on every transaction before the last week (real data: before "
        "2020-09-16); the truth is each customer's distinct articles bought in the last 7 days (2020-09-16..22); "
        "customers who bought nothing that week are not scored, as on Kaggle; the truth rows (also truth.csv) list "
        "distinct articles, so |truth| is the number of distinct articles bought. Metric: MAP@12 as the competition "
        "(AP@12 with denominator min(|truth|, 12); a repeated prediction earns nothing; a missing customer scores 0; "
        "`score` compares article ids as written, as Kaggle does, unless --normalize-ids), "
        "plus Recall@12 and catalogue coverage (share of articles shown to anyone). Per-customer AP@12 and "
        "Recall@12 are kept, with the customer's integer code as id. holdout=kaggle trains on everything and "
        "writes a Kaggle submission (customer_id,prediction) for every customer in customers.csv; it has no truth, "
        "so its MAP is empty. Synthetic data: the same rule relative to its last date."
    )
    data_source = (
        "Kaggle competition h-and-m-personalized-fashion-recommendations (articles.csv, customers.csv, "
        "transactions_train.csv; competition rules apply), else the synthetic generator benchmarks/data/hm_synthetic.py"
    )
    profiles = {
        "smoke": "real data if found, else synthetic scale 0.002 (≈2.7k customers, 64k transactions)",
        "default": "real data if found, else synthetic scale 0.03 (≈41k customers, 0.95M transactions)",
        "full": "real data if found, else synthetic scale 1.0 (1.37M customers, 31.8M transactions)",
    }
    default_seeds = (0,)
    Options = Options

    def _resolve_files(self, context: RunContext) -> dict[str, Path] | None:
        options: Options = self.options
        if options.dataset:
            folder = Path(options.dataset).expanduser()
            found = hm_data.find_files(folder)
            if found is None:
                raise DataError(folder, "expected articles, customers and transactions_train files (.csv or .parquet) in this folder")
            return found
        if options.source == "synthetic":
            return None
        for candidate in (locate("hm", context.data_dir, None), locate("hm/kaggle", None, context.cache_dir)):
            if candidate is not None and hm_data.find_files(candidate):
                return hm_data.find_files(candidate)
        if options.source == "real":
            return hm_data.fetch_from_kaggle(Path(context.cache_dir) / "hm" / "kaggle")
        return None

    def _synthetic_files(self, context: RunContext, scale: float) -> tuple[dict[str, Path], str]:
        """The twin's files (generated into the cache once) and its dataset name."""
        from benchmarks.data.hm_synthetic import VERSION, SyntheticSpec, write_csvs

        folder = Path(context.cache_dir) / "hm" / "synthetic" / f"v{VERSION}-scale={scale:g}-seed={self.options.synthetic_seed}"
        found = hm_data.find_files(folder)
        if found is None:
            context.log(f"generating synthetic H&M data at scale {scale:g} into {folder}")
            temp = folder.with_name(folder.name + f".part{os.getpid()}")
            shutil.rmtree(temp, ignore_errors=True)
            write_csvs(temp, scale, self.options.synthetic_seed)
            shutil.rmtree(folder, ignore_errors=True)
            os.replace(temp, folder)
            found = hm_data.find_files(folder)
        assert found is not None
        return found, SyntheticSpec(scale, self.options.synthetic_seed).name

    def prepare(self, context: RunContext) -> CustomerData:
        options: Options = self.options
        missing = [name for name in ("pandas", "polars", "pyarrow") if importlib.util.find_spec(name) is None]
        if missing:  # the data pipeline's libraries (the ``hm`` extra)
            raise UserError(f"hm-map12 needs {', '.join(missing)}; install with: pip install -e \".[hm]\"")
        files = self._resolve_files(context)
        synthetic = files is None
        scale = options.scale if options.scale is not None else SYNTHETIC_SCALE[context.profile]
        if synthetic:
            if scale <= 0:
                raise UserError(f"--set scale={scale}: expected a positive number (1.0 = the full competition size)")
            files, name = self._synthetic_files(context, scale)
        data, digest = hm_data.load(files, context.cache_dir, log=context.log)
        if not synthetic:
            name = f"hm-kaggle({Path(files['transactions']).parent.name}: {len(data.transactions):,} transactions)"
        info = DatasetInfo(name=name, fingerprint=digest, synthetic=synthetic, source=str(Path(files["transactions"]).parent))
        return self.split(data, info)

    def split(self, data: hm_data.HMData, info: DatasetInfo) -> CustomerData:
        """Apply the holdout protocol to loaded data (public so tests can feed their own data)."""
        tx = data.transactions
        if not len(tx):
            raise DataError(info.source, "no transactions")
        if self.options.holdout == "local":
            test_start = data.last_day - 6
            if test_start <= 0:
                raise DataError(info.source, f"transactions span {data.last_day + 1} day(s); the local holdout needs more than 7",
                                hint="use holdout=kaggle or a longer sample")
            train_tx = tx[tx["day"] < test_start].reset_index(drop=True)
            test_tx = tx[tx["day"] >= test_start]
            pairs = np.unique(test_tx["customer"].to_numpy().astype(np.int64) * data.n_articles + test_tx["article"].to_numpy())
            owners = (pairs // data.n_articles).astype(np.int64)
            customers, counts = np.unique(owners, return_counts=True)
            truth = Truth((pairs % data.n_articles).astype(np.int64), np.concatenate([[0], np.cumsum(counts)]))
            last_train_day = test_start - 1
            week = (data.date_of(test_start), data.date_of(data.last_day))
        else:
            train_tx = tx
            customers = np.arange(data.listed_customers, dtype=np.int64)
            truth = None
            last_train_day = data.last_day
            week = (data.date_of(data.last_day + 1), data.date_of(data.last_day + 7))
        train = HMTrainData(
            transactions=train_tx, customers=data.customers, articles=data.articles, n_customers=data.n_customers,
            n_articles=data.n_articles, last_day=last_train_day, start_date=data.start_date,
        )
        return CustomerData(info, train, customers, truth, [week[0].isoformat(), week[1].isoformat()], data)

    def fit(self, system: Recommender, data: CustomerData, context: RunContext) -> None:
        system.fit(data.train)

    def predict(self, system: Recommender, data: CustomerData, context: RunContext) -> Any:
        customers = data.customers
        return check_recommendations(system.recommend(customers.copy(), K), len(customers), K, data.train.n_articles)

    def evaluate(self, predictions: Any, data: CustomerData, context: RunContext) -> Evaluation:
        shown = np.unique(predictions[predictions >= 0])
        coverage = len(shown) / max(data.train.n_articles, 1)
        extras = {"test_week": data.week, "customers_asked": int(len(data.customers)), "data_notes": data.loaded.notes}
        truth = data.truth
        if truth is None:
            return Evaluation(metrics={"map@12": float("nan"), "coverage": coverage}, extras=extras)
        ap = ap_at_k_matrix(predictions, truth.items, truth.offsets, K)
        recall = recall_at_k_matrix(predictions, truth.items, truth.offsets, K)
        extras["customers_scored"] = int(len(ap))
        return Evaluation(
            metrics={"map@12": float(ap.mean()), "recall@12": float(recall.mean()), "coverage": coverage},
            per_example={"map@12": ap.round(6).tolist(), "recall@12": recall.round(6).tolist()},
            example_ids=[str(c) for c in data.customers],
            extras=extras,
        )

    def save_predictions(self, predictions: Any, data: CustomerData, context: RunContext) -> list[Path]:
        wanted = self.options.holdout == "kaggle" or self.options.save_submission
        path = context.artifact_path("submission.csv") if wanted else None
        if path is None:
            return []
        customer_ids, article_ids = data.loaded.customer_ids[data.customers], data.loaded.article_ids
        hm_data.write_submission(path, customer_ids, article_ids, predictions)
        files = [path]
        truth = data.truth
        if truth is not None:
            truth_path = context.artifact_path("truth.csv")
            hm_data.write_submission(truth_path, customer_ids, article_ids, np.split(truth.items, truth.offsets[1:-1]))
            files.append(truth_path)
        return files

    def score(self, predictions_file: Path, truth_file: Path, normalize_ids: bool = False) -> Evaluation:
        """Score a Kaggle-format submission (``customer_id,prediction``) against a truth file in the same format, as
        Ben Hamner's ``apk`` on the files as given (``metrics.recommendation``); customers only in the submission are
        ignored. Article ids are compared as strings, as Kaggle does (``108775015`` does not match ``0108775015``);
        ``normalize_ids`` (``score --normalize-ids``) first pads ids of ASCII digits to 10 digits in both files."""
        aligned = hm_data.align_submission(Path(predictions_file), Path(truth_file), K, normalize_ids=normalize_ids)
        if normalize_ids:
            print(f"--normalize-ids: padded {aligned.normalized['predictions']:,} article ids of {predictions_file} and "
                  f"{aligned.normalized['truth']:,} of {truth_file} to 10 digits (Kaggle compares them as written)",
                  file=sys.stderr)
        ap = ap_at_k_matrix(aligned.predicted, aligned.truth_items, aligned.truth_offsets, K)
        recall = recall_at_k_matrix(aligned.predicted, aligned.truth_items, aligned.truth_offsets, K)
        return Evaluation(
            metrics={"map@12": float(ap.mean()) if len(ap) else 0.0, "recall@12": float(recall.mean()) if len(recall) else 0.0,
                     "customers_scored": float(len(ap)), "customers_missing": float(aligned.missing)},
            per_example={"map@12": ap.tolist(), "recall@12": recall.tolist()},
            example_ids=aligned.customers,
        )
