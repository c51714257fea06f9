"""H&M data: find the competition files (or fetch them with the Kaggle API), check and repair
them, and convert them once into compact parquet (integer codes, day numbers, float32 prices).

Accepted layouts of a folder: the competition's ``articles.csv``, ``customers.csv`` and
``transactions_train.csv``, or parquet files with the same columns (``articles*.parquet``,
``customers*.parquet``, ``transactions*.parquet``). Known damage in public copies is repaired
and reported in ``HMData.notes``: an ``article_id`` that lost its leading zero (read as a
number, ``663713001`` → ``0663713001``), a spare unnamed index column, a missing
``sales_channel_id`` (filled with 0 = unknown), customers or articles that appear in the
transactions but not in their table (added with empty attributes). Anything else wrong
raises a :class:`DataError` naming the file, the line or column, and what was expected.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from benchmarks.data import kaggle
from benchmarks.data.download import fingerprint
from benchmarks.errors import DataError, UserError

if TYPE_CHECKING:
    import pandas as pd

COMPETITION = "h-and-m-personalized-fashion-recommendations"
KAGGLE_FILES = ("articles.csv", "customers.csv", "transactions_train.csv")
TRANSACTION_COLUMNS = ("t_dat", "customer_id", "article_id", "price", "sales_channel_id")
REQUIRED_TRANSACTION_COLUMNS = ("t_dat", "customer_id", "article_id", "price")
CUSTOMER_COLUMNS = ("customer_id", "FN", "Active", "club_member_status", "fashion_news_frequency", "age", "postal_code")
ARTICLE_CODE_COLUMNS = (
    "product_code", "product_type_no", "product_group_name", "graphical_appearance_no", "colour_group_code",
    "perceived_colour_value_id", "perceived_colour_master_id", "department_no", "index_code", "index_group_no",
    "section_no", "garment_group_no",
)
CACHE_VERSION = "1"


@dataclass
class HMData:
    """The H&M tables in compact form; ids become integer codes (row numbers).

    Attributes:
        transactions: columns ``day`` (int16, days since ``start_date``), ``customer`` (int32
            code), ``article`` (int32 code), ``price`` (float32), ``channel`` (int8: 1 store,
            2 online, 0 unknown); sorted by day.
        customers: one row per customer code: ``age`` (float32), ``fn``, ``active`` (int8),
            ``club``, ``news``, ``postal`` (int32 category codes, -1 missing).
        articles: one row per article code: the ``ARTICLE_CODE_COLUMNS`` as int32 category codes.
        customer_ids: (n_customers,) the 64-hex customer ids, in code order.
        article_ids: (n_articles,) the 10-digit article ids, in code order.
        start_date: the date of day 0.
        listed_customers: how many customers ``customers.csv`` lists (codes below this);
            customers only seen in the transactions come after them.
        notes: repairs applied while loading.
    """

    transactions: pd.DataFrame
    customers: pd.DataFrame
    articles: pd.DataFrame
    customer_ids: np.ndarray
    article_ids: np.ndarray
    start_date: dt.date
    listed_customers: int = -1
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.listed_customers < 0:
            self.listed_customers = len(self.customer_ids)

    @property
    def n_customers(self) -> int:
        return len(self.customer_ids)

    @property
    def n_articles(self) -> int:
        return len(self.article_ids)

    @property
    def last_day(self) -> int:
        return int(self.transactions["day"].max()) if len(self.transactions) else 0

    def date_of(self, day: int) -> dt.date:
        return self.start_date + dt.timedelta(days=int(day))


def find_files(folder: Path) -> dict[str, Path] | None:
    """The three tables in ``folder`` (CSV or parquet), or None if any is missing."""
    folder = Path(folder)
    if not folder.is_dir():
        return None
    found: dict[str, Path] = {}
    for key, stems in (("articles", ("articles",)), ("customers", ("customers",)), ("transactions", ("transactions_train", "transactions"))):
        candidates = [p for stem in stems for p in sorted(folder.glob(f"{stem}*")) if p.suffix in (".csv", ".parquet")]
        if not candidates:
            return None
        found[key] = candidates[0]
    return found


KAGGLE_HELP = (
    "The H&M files are Kaggle competition data. Either put articles.csv, customers.csv and "
    "transactions_train.csv in <data-dir>/hm/ (or pass --dataset FOLDER), or let the harness fetch them: "
    f"{kaggle.TOKEN_STEPS}, and accept the rules at https://www.kaggle.com/competitions/{COMPETITION}/rules. "
    "Without real data, the task runs on its synthetic generator (--set source=synthetic)."
)


def fetch_from_kaggle(destination: Path) -> dict[str, Path]:
    """Download the three competition files with the Kaggle API into ``destination``.

    Raises:
        UserError: no credentials, no ``kaggle`` package, or a failed download, with what to do.
    """
    kaggle.fetch_competition_files(COMPETITION, KAGGLE_FILES, destination, KAGGLE_HELP)
    found = find_files(Path(destination))
    if found is None:
        raise UserError(f"Kaggle download finished but {destination} lacks the three files. " + KAGGLE_HELP)
    return found


def _read_table(path: Path, string_columns: tuple[str, ...]):
    """Read a CSV or parquet file into a polars DataFrame, with ``string_columns`` as text."""
    import polars as pl

    try:
        if path.suffix == ".parquet":
            frame = pl.read_parquet(path)
        else:
            header = pl.read_csv(path, n_rows=0).columns
            overrides = {name: pl.Utf8 for name in string_columns if name in header}
            frame = pl.read_csv(path, schema_overrides=overrides, infer_schema_length=10_000)
    except Exception as error:
        if isinstance(error, UserError):
            raise
        raise DataError(path, f"could not be read as {path.suffix[1:]}: {error}") from None
    spare = [c for c in frame.columns if c == "" or c.startswith("Unnamed") or c == "__index_level_0__"]
    return frame.drop(spare), spare


def _normalise_article_ids(column, path: Path, notes: list[str]):
    """Article ids as 10-digit strings; repair ids that lost their leading zero."""
    import polars as pl

    if column.dtype != pl.Utf8:
        column = column.cast(pl.Int64, strict=False).cast(pl.Utf8)
    column = column.str.strip_chars()
    bad = ~column.str.contains(r"^\d{1,10}$") | column.is_null()
    if bad.any():
        row = int(bad.arg_max())
        line = row + 2 if path.suffix == ".csv" else None
        raise DataError(path, f"article_id {column[row]!r} (row {row}) is not a number of at most 10 digits", line=line,
                        hint="expected a 10-digit id such as 0108775015")
    short = column.str.len_chars() < 10
    if short.any():
        notes.append(f"{path.name}: {int(short.sum())} article_id values lost their leading zero; padded to 10 digits")
        column = column.str.zfill(10)
    return column


def _check_columns(frame, required: tuple[str, ...], path: Path) -> None:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DataError(path, f"missing column(s) {', '.join(missing)}; found {', '.join(frame.columns)}",
                        line=1 if path.suffix == ".csv" else None, hint=f"expected {', '.join(required)}")


def _codes(values) -> np.ndarray:
    """Category codes of a polars column (nulls → -1), in order of first appearance sorted."""
    import pandas as pd

    series = values.to_pandas()
    codes, _ = pd.factorize(series, sort=True)
    return codes.astype(np.int32)


def convert(files: dict[str, Path], log=print) -> tuple[HMData, str]:
    """Read, check, repair and encode the three tables.

    Args:
        files: ``{"articles": path, "customers": path, "transactions": path}``.
        log: where to report repairs.

    Returns:
        ``(HMData, fingerprint)`` where the fingerprint is a sha256 over the three files.
    """
    import pandas as pd
    import polars as pl

    notes: list[str] = []
    articles, spare = _read_table(files["articles"], ("article_id",))
    if spare:
        notes.append(f"{files['articles'].name}: dropped unnamed index column")
    customers, _ = _read_table(files["customers"], ("customer_id", "postal_code"))
    transactions, spare_t = _read_table(files["transactions"], ("customer_id", "article_id", "t_dat"))
    _check_columns(articles, ("article_id",), files["articles"])
    _check_columns(customers, ("customer_id",), files["customers"])
    _check_columns(transactions, REQUIRED_TRANSACTION_COLUMNS, files["transactions"])
    path_t = files["transactions"]

    article_ids = _normalise_article_ids(articles["article_id"], files["articles"], notes)
    articles = articles.with_columns(article_id=article_ids).unique("article_id", keep="first", maintain_order=True)
    t_article = _normalise_article_ids(transactions["article_id"], path_t, notes)

    customer_column = customers["customer_id"].cast(pl.Utf8)
    customers = customers.with_columns(customer_id=customer_column).unique("customer_id", keep="first", maintain_order=True)
    t_customer = transactions["customer_id"].cast(pl.Utf8)
    if t_customer.is_null().any():
        row = int(t_customer.is_null().arg_max())
        raise DataError(path_t, "empty customer_id", line=row + 2 if path_t.suffix == ".csv" else None)

    # dates
    dates = transactions["t_dat"]
    if dates.dtype == pl.Utf8:
        parsed = dates.str.strptime(pl.Date, "%Y-%m-%d", strict=False)
        if parsed.is_null().any():
            row = int(parsed.is_null().arg_max())
            raise DataError(path_t, f"t_dat {dates[row]!r} is not a date", line=row + 2 if path_t.suffix == ".csv" else None,
                            hint="expected YYYY-MM-DD")
        dates = parsed
    else:
        dates = dates.cast(pl.Date)
    prices = transactions["price"].cast(pl.Float32, strict=False)
    if prices.is_null().any():
        row = int(prices.is_null().arg_max())
        raise DataError(path_t, f"price {transactions['price'][row]!r} is not a number",
                        line=row + 2 if path_t.suffix == ".csv" else None)
    if "sales_channel_id" in transactions.columns:
        channel = transactions["sales_channel_id"].cast(pl.Int8, strict=False).fill_null(0)
        wrong = ~channel.is_in([0, 1, 2])
        if wrong.any():
            row = int(wrong.arg_max())
            raise DataError(path_t, f"sales_channel_id {transactions['sales_channel_id'][row]!r} is not 1 or 2",
                            line=row + 2 if path_t.suffix == ".csv" else None)
    else:
        notes.append(f"{path_t.name}: no sales_channel_id column; filled with 0 (unknown channel)")
        channel = pl.Series("channel", np.zeros(len(transactions), dtype=np.int8))

    # customers or articles seen only in the transactions are added with empty attributes
    known_customers = customers["customer_id"]
    listed_customers = len(customers)
    distinct_c = t_customer.unique()
    unseen_c = distinct_c.filter(~distinct_c.is_in(known_customers.implode())).sort()
    if len(unseen_c):
        notes.append(f"{path_t.name}: {len(unseen_c)} customers are not in {files['customers'].name}; added with empty attributes")
        customers = pl.concat([customers, pl.DataFrame({"customer_id": unseen_c})], how="diagonal_relaxed")
    distinct_a = t_article.unique()
    unseen_a = distinct_a.filter(~distinct_a.is_in(articles["article_id"].implode())).sort()
    if len(unseen_a):
        notes.append(f"{path_t.name}: {len(unseen_a)} articles are not in {files['articles'].name}; added with empty attributes")
        articles = pl.concat([articles, pl.DataFrame({"article_id": unseen_a})], how="diagonal_relaxed")

    customer_lookup = pl.DataFrame({"customer_id": customers["customer_id"], "customer": np.arange(len(customers), dtype=np.int32)})
    article_lookup = pl.DataFrame({"article_id": articles["article_id"], "article": np.arange(len(articles), dtype=np.int32)})
    start = dates.min() if len(dates) else dt.date(2018, 9, 20)
    coded = (
        pl.DataFrame({"date": dates, "customer_id": t_customer, "article_id": t_article, "price": prices, "channel": channel})
        .join(customer_lookup, on="customer_id", how="left")
        .join(article_lookup, on="article_id", how="left")
        .select(
            day=((pl.col("date") - pl.lit(start)).dt.total_days()).cast(pl.Int16),
            customer=pl.col("customer"), article=pl.col("article"), price=pl.col("price"), channel=pl.col("channel"),
        )
        .sort("day", maintain_order=True)
    )
    transactions_frame = coded.to_pandas()

    def column(frame, name, dtype=None):
        return frame[name] if name in frame.columns else pl.Series(name, [None] * len(frame), dtype=dtype)

    customer_frame = pd.DataFrame({
        "age": column(customers, "age", pl.Float64).cast(pl.Float32, strict=False).to_numpy(),
        "fn": column(customers, "FN", pl.Float64).cast(pl.Float64, strict=False).fill_null(0).cast(pl.Int8).to_numpy(),
        "active": column(customers, "Active", pl.Float64).cast(pl.Float64, strict=False).fill_null(0).cast(pl.Int8).to_numpy(),
        "club": _codes(column(customers, "club_member_status", pl.Utf8)),
        "news": _codes(column(customers, "fashion_news_frequency", pl.Utf8).str.to_uppercase()),
        "postal": _codes(column(customers, "postal_code", pl.Utf8)),
    })
    article_frame = pd.DataFrame({name: _codes(column(articles, name, pl.Utf8).cast(pl.Utf8)) for name in ARTICLE_CODE_COLUMNS})
    for note in notes:
        log(note)
    data = HMData(
        transactions=transactions_frame, customers=customer_frame, articles=article_frame,
        customer_ids=customers["customer_id"].to_numpy().astype(object), article_ids=articles["article_id"].to_numpy().astype(object),
        start_date=start, listed_customers=listed_customers, notes=notes,
    )
    return data, fingerprint([files["articles"], files["customers"], files["transactions"]])


def _cache_key(files: dict[str, Path]) -> str:
    """A cheap key (names, sizes, modification times) for the parquet cache of ``files``."""
    import hashlib

    digest = hashlib.sha256(CACHE_VERSION.encode())
    for key in sorted(files):
        stat = Path(files[key]).stat()
        digest.update(f"{Path(files[key]).resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:20]


def load(files: dict[str, Path], cache_dir: Path | None, log=print) -> tuple[HMData, str]:
    """Load the three tables through the parquet cache (converting on first use).

    Args:
        files: the three raw files (see :func:`find_files`).
        cache_dir: where converted parquet goes (``<cache>/hm/parquet/<key>/``); None: no cache.
        log: progress and repair messages.

    Returns:
        ``(HMData, sha256 fingerprint of the raw files)``.
    """
    import pandas as pd

    target = Path(cache_dir) / "hm" / "parquet" / _cache_key(files) if cache_dir is not None else None
    if target is not None and (target / "meta.json").is_file():
        meta = json.loads((target / "meta.json").read_text())
        data = HMData(
            transactions=pd.read_parquet(target / "transactions.parquet"),
            customers=pd.read_parquet(target / "customers.parquet"),
            articles=pd.read_parquet(target / "articles.parquet"),
            customer_ids=pd.read_parquet(target / "customer_ids.parquet")["customer_id"].to_numpy().astype(object),
            article_ids=pd.read_parquet(target / "article_ids.parquet")["article_id"].to_numpy().astype(object),
            start_date=dt.date.fromisoformat(meta["start_date"]), listed_customers=meta["listed_customers"], notes=meta["notes"],
        )
        return data, meta["fingerprint"]
    log(f"converting {files['transactions'].parent} to parquet (once)")
    data, digest = convert(files, log=log)
    if target is not None:
        temp = target.with_name(target.name + ".part")
        shutil.rmtree(temp, ignore_errors=True)
        temp.mkdir(parents=True)
        data.transactions.to_parquet(temp / "transactions.parquet", index=False)
        data.customers.to_parquet(temp / "customers.parquet", index=False)
        data.articles.to_parquet(temp / "articles.parquet", index=False)
        pd.DataFrame({"customer_id": data.customer_ids.astype(str)}).to_parquet(temp / "customer_ids.parquet", index=False)
        pd.DataFrame({"article_id": data.article_ids.astype(str)}).to_parquet(temp / "article_ids.parquet", index=False)
        (temp / "meta.json").write_text(json.dumps({
            "fingerprint": digest, "start_date": data.start_date.isoformat(), "notes": data.notes,
            "listed_customers": data.listed_customers,
            "files": {k: str(v) for k, v in files.items()}, "cache_version": CACHE_VERSION,
        }, indent=1))
        shutil.rmtree(target, ignore_errors=True)
        os.replace(temp, target)
    return data, digest
