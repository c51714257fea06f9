"""H&M data: find the competition files (or fetch them with the Kaggle API), check and repair them, and convert
them once into compact parquet (integer codes, day numbers, float32 prices); read and write Kaggle submission
files (``customer_id,prediction``).

A folder holds the competition's ``articles.csv``, ``customers.csv`` and ``transactions_train.csv``, or parquet
files with the same columns (``articles*.parquet``, ...). Known damage in public copies is repaired and reported
in ``HMData.notes``: an ``article_id`` that lost its leading zero (``663713001`` → ``0663713001``), a spare
unnamed index column, a missing ``sales_channel_id`` (filled with 0 = unknown), customers or articles that appear
in the transactions but not in their table (added with empty attributes). Anything else wrong is a DataError
naming the file, the line or column, and what was expected.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from benchmarks.data import kaggle
from benchmarks.data.blocks import check_utf8
from benchmarks.data.download import fingerprint, source_key
from benchmarks.data.textfile import read_input_bytes, text_lines
from benchmarks.errors import DataError, UserError, quote

if TYPE_CHECKING:
    import pandas as pd

COMPETITION = "h-and-m-personalized-fashion-recommendations"
KAGGLE_FILES = ("articles.csv", "customers.csv", "transactions_train.csv")
ARTICLE_CODE_COLUMNS = (
    "product_code", "product_type_no", "product_group_name", "graphical_appearance_no", "colour_group_code",
    "perceived_colour_value_id", "perceived_colour_master_id", "department_no", "index_code", "index_group_no",
    "section_no", "garment_group_no",
)
CACHE_VERSION = "1"
CACHE_TABLES = ("transactions", "customers", "articles", "customer_ids", "article_ids")


@dataclass
class HMData:
    """The H&M tables in compact form; ids become integer codes (row numbers). ``transactions`` has the columns
    ``day`` (int16, days since ``start_date``), ``customer``, ``article`` (int32 codes), ``price`` (float32) and
    ``channel`` (int8: 1 store, 2 online, 0 unknown), sorted by day."""

    transactions: pd.DataFrame
    customers: pd.DataFrame  # per code: age (float32), fn, active (int8), club, news, postal (int32 codes, -1 missing)
    articles: pd.DataFrame  # per code: the ARTICLE_CODE_COLUMNS as int32 category codes
    customer_ids: np.ndarray  # (n_customers,) the 64-hex customer ids, in code order
    article_ids: np.ndarray  # (n_articles,) the 10-digit article ids, in code order
    start_date: dt.date  # the date of day 0
    listed_customers: int  # rows of customers.csv (codes below this); customers only in the transactions come after
    notes: list[str] = field(default_factory=list)  # repairs applied while loading

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
    """Download the three competition files with the Kaggle API into ``destination``."""
    folder = kaggle.fetch_competition_files(COMPETITION, KAGGLE_FILES, destination, KAGGLE_HELP)  # checks each is there
    return dict(zip(("articles", "customers", "transactions"), (folder / name for name in KAGGLE_FILES), strict=True))


def _read_table(path: Path, string_columns: tuple[str, ...], required: tuple[str, ...]):
    """Read a CSV or parquet file into a polars DataFrame, with ``string_columns`` as text and the ``required`` ones
    present: ``(frame, the spare unnamed index columns dropped)``."""
    import polars as pl

    try:
        if path.suffix == ".parquet":
            frame = pl.read_parquet(path)
        else:
            header = pl.read_csv(path, n_rows=0).columns
            overrides = {name: pl.Utf8 for name in string_columns if name in header}
            frame = pl.read_csv(path, schema_overrides=overrides, infer_schema_length=10_000)
    except UserError:
        raise
    except Exception as error:
        if path.suffix == ".csv":
            check_utf8(path)  # polars' own error does not say where a bad byte is
        raise DataError(path, f"could not be read as {path.suffix[1:]}: {error}") from None
    spare = [c for c in frame.columns if c == "" or c.startswith("Unnamed") or c == "__index_level_0__"]
    frame = frame.drop(spare)
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DataError(path, f"missing column(s) {', '.join(missing)}; found {', '.join(frame.columns)}",
                        line=1 if path.suffix == ".csv" else None, hint=f"expected {', '.join(required)}")
    return frame, spare


def _refuse_first(bad, path: Path, problem: Callable[[int], str], hint: str = "") -> None:
    """A DataError for the first row where the polars mask ``bad`` holds, naming its line in a CSV file (the row
    after the header); ``problem(row)`` says what is wrong."""
    if bad.any():
        row = int(bad.arg_max())
        raise DataError(path, problem(row), line=row + 2 if path.suffix == ".csv" else None, hint=hint)


def _normalise_article_ids(column, path: Path, notes: list[str]):
    """Article ids as 10-digit strings; repair ids that lost their leading zero."""
    import polars as pl

    if column.dtype != pl.Utf8:
        column = column.cast(pl.Int64, strict=False).cast(pl.Utf8)
    column = column.str.strip_chars()
    _refuse_first(~column.str.contains(r"^\d{1,10}$") | column.is_null(), path,
                  lambda row: f"article_id {quote(column[row])} (row {row}) is not a number of at most 10 digits",
                  hint="expected a 10-digit id such as 0108775015")
    short = column.str.len_chars() < 10
    if short.any():
        notes.append(f"{path.name}: {int(short.sum())} article_id values lost their leading zero; padded to 10 digits")
        column = column.str.zfill(10)
    return column


def _codes(values) -> np.ndarray:
    """Category codes of a polars column: the rank of each value among the sorted distinct ones (nulls → -1)."""
    import pandas as pd

    return pd.factorize(values.to_pandas(), sort=True)[0].astype(np.int32)


def convert(files: dict[str, Path], log=print) -> tuple[HMData, str]:
    """Read, check, repair and encode the three tables ``{"articles", "customers", "transactions": path}``, logging
    the repairs: ``(HMData, sha256 fingerprint over the three files)``."""
    notes: list[str] = []
    articles, customers, transactions = _read_tables(files, notes)
    columns = _transaction_columns(transactions, files["transactions"], notes)
    listed_customers = len(customers)
    customers = _with_unseen(customers, "customer_id", columns["customer_id"], files["transactions"],
                             f"customers are not in {files['customers'].name}", notes)
    articles = _with_unseen(articles, "article_id", columns["article_id"], files["transactions"],
                            f"articles are not in {files['articles'].name}", notes)
    start = columns["date"].min() if len(columns["date"]) else dt.date(2018, 9, 20)
    for note in notes:
        log(note)
    data = HMData(
        transactions=_coded_transactions(columns, customers, articles, start), customers=_customer_frame(customers),
        articles=_article_frame(articles), customer_ids=customers["customer_id"].to_numpy().astype(object),
        article_ids=articles["article_id"].to_numpy().astype(object),
        start_date=start, listed_customers=listed_customers, notes=notes,
    )
    return data, fingerprint([files["articles"], files["customers"], files["transactions"]])


def _read_tables(files: dict[str, Path], notes: list[str]) -> tuple:
    """The three tables, with their required columns, ids as text, and each table's ids distinct (first kept)."""
    import polars as pl

    articles, spare = _read_table(files["articles"], ("article_id",), ("article_id",))
    if spare:
        notes.append(f"{files['articles'].name}: dropped unnamed index column")
    customers, _ = _read_table(files["customers"], ("customer_id", "postal_code"), ("customer_id",))
    transactions, _ = _read_table(files["transactions"], ("customer_id", "article_id", "t_dat"),
                                  ("t_dat", "customer_id", "article_id", "price"))
    article_ids = _normalise_article_ids(articles["article_id"], files["articles"], notes)
    articles = articles.with_columns(article_id=article_ids).unique("article_id", keep="first", maintain_order=True)
    customers = customers.with_columns(customer_id=customers["customer_id"].cast(pl.Utf8))
    return articles, customers.unique("customer_id", keep="first", maintain_order=True), transactions


def _transaction_columns(transactions, path: Path, notes: list[str]) -> dict:
    """The transactions' columns checked and typed: ``date``, ``customer_id``, ``article_id`` (10 digits),
    ``price`` (float32), ``channel`` (int8, 0 where the file has no sales channel)."""
    import polars as pl

    article = _normalise_article_ids(transactions["article_id"], path, notes)
    customer = transactions["customer_id"].cast(pl.Utf8)
    _refuse_first(customer.is_null(), path, lambda row: "empty customer_id")
    dates = transactions["t_dat"]
    if dates.dtype == pl.Utf8:
        parsed = dates.str.strptime(pl.Date, "%Y-%m-%d", strict=False)
        _refuse_first(parsed.is_null(), path, lambda row: f"t_dat {quote(dates[row])} is not a date",
                      hint="expected YYYY-MM-DD")
        dates = parsed
    else:
        dates = dates.cast(pl.Date)
    prices = transactions["price"].cast(pl.Float32, strict=False)
    _refuse_first(prices.is_null(), path, lambda row: f"price {quote(transactions['price'][row])} is not a number")
    if "sales_channel_id" in transactions.columns:
        channel = transactions["sales_channel_id"].cast(pl.Int8, strict=False).fill_null(0)
        _refuse_first(~channel.is_in([0, 1, 2]), path,
                      lambda row: f"sales_channel_id {quote(transactions['sales_channel_id'][row])} is not 1 or 2")
    else:
        notes.append(f"{path.name}: no sales_channel_id column; filled with 0 (unknown channel)")
        channel = pl.Series("channel", np.zeros(len(transactions), dtype=np.int8))
    return {"date": dates, "customer_id": customer, "article_id": article, "price": prices, "channel": channel}


def _with_unseen(table, key: str, seen, path: Path, what: str, notes: list[str]):
    """``table`` with a row of empty attributes added for each ``key`` value of the transactions that it lacks."""
    import polars as pl

    distinct = seen.unique()
    unseen = distinct.filter(~distinct.is_in(table[key].implode())).sort()
    if not len(unseen):
        return table
    notes.append(f"{path.name}: {len(unseen)} {what}; added with empty attributes")
    return pl.concat([table, pl.DataFrame({key: unseen})], how="diagonal_relaxed")


def _coded_transactions(columns: dict, customers, articles, start: dt.date) -> pd.DataFrame:
    """The transactions as ``day``, ``customer`` and ``article`` codes (row numbers), ``price``, ``channel``; by day."""
    import polars as pl

    customer_lookup = pl.DataFrame({"customer_id": customers["customer_id"], "customer": np.arange(len(customers), dtype=np.int32)})
    article_lookup = pl.DataFrame({"article_id": articles["article_id"], "article": np.arange(len(articles), dtype=np.int32)})
    return (
        pl.DataFrame(columns)
        .join(customer_lookup, on="customer_id", how="left")
        .join(article_lookup, on="article_id", how="left")
        .select((pl.col("date") - pl.lit(start)).dt.total_days().cast(pl.Int16).alias("day"),
                "customer", "article", "price", "channel")
        .sort("day", maintain_order=True)
    ).to_pandas()


def _column(frame, name: str, dtype):
    import polars as pl

    return frame[name] if name in frame.columns else pl.Series(name, [None] * len(frame), dtype=dtype)


def _customer_frame(customers) -> pd.DataFrame:
    import pandas as pd
    import polars as pl

    def flag(name: str) -> np.ndarray:
        return _column(customers, name, pl.Float64).cast(pl.Float64, strict=False).fill_null(0).cast(pl.Int8).to_numpy()

    return pd.DataFrame({
        "age": _column(customers, "age", pl.Float64).cast(pl.Float32, strict=False).to_numpy(),
        "fn": flag("FN"),
        "active": flag("Active"),
        "club": _codes(_column(customers, "club_member_status", pl.Utf8)),
        "news": _codes(_column(customers, "fashion_news_frequency", pl.Utf8).str.to_uppercase()),
        "postal": _codes(_column(customers, "postal_code", pl.Utf8)),
    })


def _article_frame(articles) -> pd.DataFrame:
    import pandas as pd
    import polars as pl

    return pd.DataFrame({name: _codes(_column(articles, name, pl.Utf8).cast(pl.Utf8)) for name in ARTICLE_CODE_COLUMNS})


def load(files: dict[str, Path], cache_dir: Path | None, log=print) -> tuple[HMData, str]:
    """Load the three tables (see :func:`find_files`) through the parquet cache ``<cache>/hm/parquet/<key>/``
    (converting on first use; None: no cache): ``(HMData, sha256 fingerprint of the raw files)``."""
    key = source_key([files[name] for name in sorted(files)], CACHE_VERSION, 20)
    target = Path(cache_dir) / "hm" / "parquet" / key if cache_dir is not None else None
    if target is not None and (target / "meta.json").is_file():
        return _read_cache(target)
    log(f"converting {files['transactions'].parent} to parquet (once)")
    data, digest = convert(files, log=log)
    if target is not None:
        _write_cache(target, data, digest, files)
    return data, digest


def _read_cache(folder: Path) -> tuple[HMData, str]:
    import pandas as pd

    meta = json.loads((folder / "meta.json").read_text())
    tables = {name: pd.read_parquet(folder / f"{name}.parquet") for name in CACHE_TABLES}
    for name in ("customer_ids", "article_ids"):  # the column customer_id or article_id
        tables[name] = tables[name][name.removesuffix("s")].to_numpy().astype(object)
    data = HMData(**tables, start_date=dt.date.fromisoformat(meta["start_date"]),
                  listed_customers=meta["listed_customers"], notes=meta["notes"])
    return data, meta["fingerprint"]


def _write_cache(target: Path, data: HMData, digest: str, files: dict[str, Path]) -> None:
    import pandas as pd

    temp = target.with_name(target.name + ".part")
    shutil.rmtree(temp, ignore_errors=True)
    temp.mkdir(parents=True)
    frames = {"transactions": data.transactions, "customers": data.customers, "articles": data.articles,
              "customer_ids": pd.DataFrame({"customer_id": data.customer_ids.astype(str)}),
              "article_ids": pd.DataFrame({"article_id": data.article_ids.astype(str)})}
    for name in CACHE_TABLES:
        frames[name].to_parquet(temp / f"{name}.parquet", index=False)
    (temp / "meta.json").write_text(json.dumps({
        "fingerprint": digest, "start_date": data.start_date.isoformat(), "notes": data.notes,
        "listed_customers": data.listed_customers,
        "files": {k: str(v) for k, v in files.items()}, "cache_version": CACHE_VERSION,
    }, indent=1))
    shutil.rmtree(target, ignore_errors=True)
    os.replace(temp, target)


SUBMISSION_HEADER = ("customer_id", "prediction")


def write_submission(path: Path, customer_ids: np.ndarray, article_ids: np.ndarray, rows) -> None:
    """Write ``customer_id,prediction`` with space-separated 10-digit article ids (-1 codes skipped)."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        handle.write("customer_id,prediction\n")
        for customer, row in zip(customer_ids, rows):
            handle.write(f"{customer},{' '.join(article_ids[int(c)] for c in row if c >= 0)}\n")


def read_submission(path: Path) -> dict[str, list[str]]:
    """Read a Kaggle-format file (``customer_id,prediction``) into ``{customer_id: [article ids, in order]}`` with
    Python's ``csv`` (errors name the line); ids are kept as written (Kaggle compares strings: ``108775015`` is not
    ``0108775015``)."""
    import csv

    path = Path(path)
    rows: dict[str, list[str]] = {}
    reader = csv.reader(line for _, line in text_lines(path))
    limit = csv.field_size_limit(sys.maxsize)  # no cap on a field: polars' fast path has none either
    try:
        header = next(reader, None)
        if header is None:
            raise DataError(path, "the file is empty", hint="expected the header 'customer_id,prediction' and one row per customer")
        if [h.strip().lower() for h in header[:2]] != list(SUBMISSION_HEADER) or len(header) != 2:
            raise DataError(path, f"header is {quote(','.join(header))}", line=1, hint="expected 'customer_id,prediction'")
        for record in reader:
            line = reader.line_num
            if not record:
                continue
            if len(record) != 2:
                raise DataError(path, f"expected 2 fields (customer_id,prediction), found {len(record)}", line=line)
            customer = record[0].strip()
            if not customer:
                raise DataError(path, "empty customer_id", line=line)
            if customer in rows:
                raise DataError(path, f"customer {customer} is listed twice", line=line, hint="one row per customer")
            rows[customer] = record[1].split()
    except csv.Error as error:
        raise DataError(path, f"not a valid CSV line ({error})", line=reader.line_num) from None
    finally:
        csv.field_size_limit(limit)
    return rows


def read_submission_frame(path: Path):
    """Read a Kaggle-format file into a polars DataFrame ``customer`` (stripped), ``prediction`` (text): polars reads
    a plain file (printable ASCII, no quotes, one comma per line, non-empty distinct customers), :func:`read_submission`
    any other (the same rows, or the error naming the line)."""
    import polars as pl

    path = Path(path)
    frame = _plain_submission_frame(path)
    if frame is not None:
        return frame
    rows = read_submission(path)
    return pl.DataFrame({"customer": list(rows), "prediction": [" ".join(items) for items in rows.values()]},
                        schema={"customer": pl.Utf8, "prediction": pl.Utf8})


_NOT_PLAIN = bytes(range(32, 127)).replace(b'"', b"").replace(b",", b"") + b"\n\r"
"""Bytes a plain submission file may hold besides its commas (deleted by ``bytes.translate``)."""


def _plain_submission_frame(path: Path):
    """The submission as a DataFrame if it is plain (see :func:`read_submission_frame`), else None."""
    import polars as pl

    data = read_input_bytes(path)
    commas = data.translate(None, _NOT_PLAIN)  # one pass: what is left must be the commas, and nothing else
    if commas.count(b",") != len(commas) or (data.find(b"\r") >= 0 and data.count(b"\r") != data.count(b"\r\n")):
        return None  # non-ASCII, control characters, quotes, or a lone carriage return
    header_end = data.find(b"\n")
    header = (data if header_end < 0 else data[:header_end]).decode("ascii").rstrip("\r")
    if [name.strip().lower() for name in header.split(",")] != list(SUBMISSION_HEADER):
        return None
    try:  # a line with more than one comma makes polars raise
        frame = pl.read_csv(data, has_header=True, new_columns=["customer", "prediction"], infer_schema=False,
                            quote_char=None, raise_if_empty=False)
    except Exception:
        return None
    # one comma per row (header included): no blank lines or lines without a comma (polars reads them as null rows)
    if frame.width != 2 or len(commas) != len(frame) + 1:
        return None
    del data
    frame = frame.with_columns(pl.col("prediction").fill_null(""))
    if frame["customer"].str.contains(" ", literal=True).any():
        frame = frame.with_columns(pl.col("customer").str.strip_chars(" "))
    customers = frame["customer"]
    # a repeated customer: distinct 64-bit hashes (fast) rule it out, else the text decides
    repeats = customers.hash().n_unique() != len(customers) and customers.n_unique() != len(customers)
    return None if customers.null_count() or (customers == "").any() or repeats else frame


def submission_tokens(frame, limit: int | None = None, normalize_ids: bool = False):
    """The predictions of ``frame`` (from :func:`read_submission_frame`) as a polars list column of article ids:
    split on spaces, the first ``limit`` of each row (None: all), as written or, with ``normalize_ids``, ASCII
    digits padded to 10 (a lost leading zero repaired)."""
    import polars as pl

    element = pl.element()
    tokens = frame["prediction"].str.split(" ").list.eval(element.filter(element != ""))
    if limit is not None:
        tokens = tokens.list.head(limit)
    if not normalize_ids:
        return tokens
    return tokens.list.eval(pl.when(element.str.contains("^[0-9]+$")).then(element.str.zfill(10)).otherwise(element))


def ids_to_normalize(tokens) -> int:
    """How many of a list column's article ids ``normalize_ids`` changes (ASCII digits, fewer than 10)."""
    flat = tokens.explode().drop_nulls()
    return int((flat.str.contains("^[0-9]{1,9}$")).sum())


@dataclass
class SubmissionAgainstTruth:
    """A submission and a truth file as integer codes, one row per scored customer (non-empty truth)."""

    customers: list[str]  # the scored customer ids, in the truth file's order
    predicted: np.ndarray  # (n, k) article codes of each customer's first k predictions; -1 pads
    truth_items: np.ndarray  # the truth articles' codes, concatenated (repeats kept, as written)
    truth_offsets: np.ndarray  # (n + 1,) offsets of each customer's truth in truth_items
    missing: int  # scored customers that the submission does not list
    normalized: dict[str, int]  # {"predictions": n, "truth": n}: article ids padded to 10 digits (normalize_ids)


def align_submission(predictions_file: Path, truth_file: Path, k: int, normalize_ids: bool = False) -> SubmissionAgainstTruth:
    """Read a submission and a truth file (both ``customer_id,prediction``) and encode what scoring needs.

    Customers with an empty truth row are not scored; customers only in the submission are ignored; article ids
    are compared as strings, as Kaggle compares them (with ``normalize_ids``: after padding ASCII digits to 10).
    """
    import polars as pl

    truth = read_submission_frame(Path(truth_file))
    submitted = read_submission_frame(Path(predictions_file))
    truth_tokens = submission_tokens(truth)
    normalized = {}
    if normalize_ids:
        normalized = {"truth": ids_to_normalize(truth_tokens), "predictions": ids_to_normalize(submission_tokens(submitted))}
        truth_tokens = submission_tokens(truth, normalize_ids=True)
    scored = pl.DataFrame({"customer": truth["customer"], "truth": truth_tokens}).filter(pl.col("truth").list.len() > 0)
    if len(scored) == 0:
        raise DataError(truth_file, f"no customer has a truth row to score ({len(truth)} rows, all without articles)"
                        if len(truth) else "the file has a header and no rows: nothing to score",
                        hint="expected one row 'customer_id,article_id article_id ...' per customer who bought")
    if len(submitted) == 0:
        raise DataError(predictions_file, "the file has a header and no rows: nothing to score",
                        hint="expected one row 'customer_id,article_id article_id ...' per customer")
    # join on 64-bit hashes of the ids (much faster than on the text), then check the ids themselves
    hashed = submitted.with_columns(key=pl.col("customer").hash())
    joined = scored.with_columns(key=pl.col("customer").hash()).join(hashed, on="key", how="left", maintain_order="left",
                                                                     suffix="_submitted")
    matched = joined["customer_submitted"]
    if len(joined) != len(scored) or (matched.is_not_null() & (matched != joined["customer"])).any():
        joined = scored.join(submitted, on="customer", how="left", maintain_order="left")  # two ids share a hash
    missing = int(joined["prediction"].is_null().sum())
    predicted = submission_tokens(joined.with_columns(pl.col("prediction").fill_null("")), limit=k, normalize_ids=normalize_ids)
    truth_tokens = joined["truth"]
    truth_lengths = truth_tokens.list.len().to_numpy().astype(np.int64)
    predicted_lengths = predicted.list.len().to_numpy().astype(np.int64)
    tokens = pl.concat([truth_tokens.explode().drop_nulls(), predicted.explode().drop_nulls()])
    if tokens.str.contains("^[0-9]{10}$").all():
        codes = tokens.cast(pl.Int64).to_numpy()  # all 10 digits: equal ids are equal numbers
    else:
        codes = tokens.cast(pl.Categorical).to_physical().to_numpy().astype(np.int64)
    truth_items, predicted_codes = codes[: truth_lengths.sum()], codes[truth_lengths.sum():]
    matrix = np.full((len(joined), k), -1, dtype=np.int64)
    matrix[np.arange(k) < predicted_lengths[:, None]] = predicted_codes  # each row's codes, in row-major order
    return SubmissionAgainstTruth(customers=joined["customer"].to_list(), predicted=matrix, truth_items=truth_items,
                                  truth_offsets=np.concatenate([[0], np.cumsum(truth_lengths)]), missing=missing,
                                  normalized=normalized)
