"""H&M data: the synthetic generator (deterministic, real schema, the real data's shape) and the
real loader (repairs of the public samples, clear errors, parquet cache)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmarks.data import hm as hm_data
from benchmarks.data.hm_synthetic import START_DATE, SyntheticSpec, generate_compact, write_csvs
from benchmarks.errors import DataError, UserError

TRANSACTION_COLUMNS = ("t_dat", "customer_id", "article_id", "price", "sales_channel_id")
CUSTOMER_COLUMNS = ("customer_id", "FN", "Active", "club_member_status", "fashion_news_frequency", "age", "postal_code")
ARTICLE_COLUMNS = [
    "article_id", "product_code", "prod_name", "product_type_no", "product_type_name", "product_group_name",
    "graphical_appearance_no", "graphical_appearance_name", "colour_group_code", "colour_group_name",
    "perceived_colour_value_id", "perceived_colour_value_name", "perceived_colour_master_id",
    "perceived_colour_master_name", "department_no", "department_name", "index_code", "index_name",
    "index_group_no", "index_group_name", "section_no", "section_name", "garment_group_no", "garment_group_name",
    "detail_desc",
]


def generate(scale: float, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``(articles, customers, transactions)`` DataFrames with the competition's CSV columns, but
    ``transactions.customer_id`` holds the customer's row number in ``customers``."""
    articles, customers, compact = generate_compact(scale, seed)
    dates = (np.datetime64(START_DATE) + compact["day"].astype("timedelta64[D]")).astype(str)
    transactions = pd.DataFrame({
        "t_dat": dates,
        "customer_id": compact["customer"],
        "article_id": articles["article_id"].to_numpy()[compact["article"]],
        "price": compact["price"],
        "sales_channel_id": compact["sales_channel_id"],
    })
    return articles, customers, transactions


@pytest.fixture(scope="module")
def small_csvs(tmp_path_factory) -> dict[str, Path]:
    return write_csvs(tmp_path_factory.mktemp("hm-synthetic"), scale=0.002, seed=0)


def test_generator_is_deterministic_and_seeded():
    first = generate(0.0005, seed=3)
    again = generate(0.0005, seed=3)
    other = generate(0.0005, seed=4)
    for a, b in zip(first, again):
        pd.testing.assert_frame_equal(a, b)
    assert not first[2]["article_id"].equals(other[2]["article_id"])


def test_synthetic_files_have_the_competition_schema(small_csvs):
    articles = pd.read_csv(small_csvs["articles"], dtype={"article_id": str})
    customers = pd.read_csv(small_csvs["customers"])
    transactions = pd.read_csv(small_csvs["transactions"], dtype={"article_id": str})
    assert list(articles.columns) == ARTICLE_COLUMNS
    assert list(customers.columns) == list(CUSTOMER_COLUMNS)
    assert list(transactions.columns) == list(TRANSACTION_COLUMNS)
    assert transactions["article_id"].str.fullmatch(r"0\d{9}").all()  # 10 digits with the leading zero
    assert customers["customer_id"].str.fullmatch(r"[0-9a-f]{64}").all() and customers["customer_id"].is_unique
    assert transactions["t_dat"].min() == "2018-09-20" and transactions["t_dat"].max() == "2020-09-22"
    assert set(transactions["sales_channel_id"].unique()) == {1, 2}
    assert transactions["price"].between(0.000186, 0.5068).all()
    assert set(transactions["article_id"]) <= set(articles["article_id"])
    spec = SyntheticSpec(0.002)
    assert (len(articles), len(customers), len(transactions)) == (spec.n_articles, spec.n_customers, spec.n_transactions)


def test_synthetic_data_has_the_real_shape():
    articles, customers, transactions = generate(0.005, seed=0)
    per_customer = transactions["customer_id"].value_counts()
    never = 1 - len(per_customer) / len(customers)
    assert never < 0.03  # real: 0.71% never bought
    assert 15 < per_customer.mean() < 35  # real: ≈ 23.3 purchases per customer
    assert 0.8 < (per_customer > 1).mean() < 0.99  # real: 89.7% bought more than once
    group = transactions["article_id"].map(articles.set_index("article_id")["product_group_name"])
    top3 = group.value_counts(normalize=True).iloc[:3]
    assert set(top3.index) == {"Garment Upper body", "Garment Lower body", "Garment Full body"}
    assert 0.65 < top3.sum() < 0.8  # real: 72.83%
    counts = transactions["article_id"].value_counts().to_numpy()
    assert counts[: max(1, len(counts) // 100)].sum() / counts.sum() > 0.05  # heavy-tailed popularity
    # repeat purchases: a good part of the last week's purchases were bought by the same customer before
    last = transactions["t_dat"] >= "2020-09-16"
    before = set(zip(transactions.loc[~last, "customer_id"], transactions.loc[~last, "article_id"]))
    repeats = np.mean([pair in before for pair in zip(transactions.loc[last, "customer_id"], transactions.loc[last, "article_id"])])
    assert 0.1 < repeats < 0.6


def test_loader_encodes_and_caches(small_csvs, tmp_path: Path):
    files = hm_data.find_files(small_csvs["transactions"].parent)
    data, digest = hm_data.load(files, tmp_path, log=lambda message: None)
    raw = pd.read_csv(small_csvs["transactions"], dtype={"article_id": str})
    assert len(data.transactions) == len(raw) and data.notes == []
    assert data.transactions.dtypes.to_dict() == {"day": np.int16, "customer": np.int32, "article": np.int32,
                                                  "price": np.float32, "channel": np.int8}
    # codes decode back to the original ids, row for row (the loader sorts by day, stably)
    decoded = pd.DataFrame({"customer_id": data.customer_ids[data.transactions["customer"]],
                            "article_id": data.article_ids[data.transactions["article"]]})
    assert (decoded.to_numpy() == raw[["customer_id", "article_id"]].to_numpy()).all()
    cached, digest_again = hm_data.load(files, tmp_path, log=lambda message: pytest.fail("converted twice"))
    pd.testing.assert_frame_equal(cached.transactions, data.transactions)
    assert digest_again == digest and cached.listed_customers == data.listed_customers


def test_bad_article_id_names_file_and_line(small_csvs, tmp_path: Path):
    folder = tmp_path / "bad"
    folder.mkdir()
    for name in ("articles.csv", "customers.csv"):
        (folder / name).write_bytes(small_csvs[name.split(".")[0]].read_bytes())
    lines = small_csvs["transactions"].read_text().splitlines()
    fields = lines[2].split(",")
    fields[2] = "12ab"
    lines[2] = ",".join(fields)
    (folder / "transactions_train.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError) as error:
        hm_data.convert(hm_data.find_files(folder), log=lambda m: None)
    assert error.value.line == 3 and "article_id" in str(error.value) and "transactions_train.csv" in str(error.value)


def test_bad_utf8_byte_in_a_table_names_line_and_column(small_csvs, tmp_path: Path):
    """polars only says the CSV is not UTF-8; the loader names the line and column of the first bad byte
    (the block scanner, also with blocks smaller than the file and through gzip)."""
    import gzip

    from benchmarks.data.blocks import check_utf8

    folder = tmp_path / "utf8"
    folder.mkdir()
    for name in ("articles.csv", "customers.csv"):
        (folder / name).write_bytes(small_csvs[name.split(".")[0]].read_bytes())
    lines = small_csvs["transactions"].read_bytes().split(b"\n")[:200]
    lines[40] = lines[40][:7] + b"\xe9" + lines[40][7:]  # a Latin-1 byte
    (folder / "transactions_train.csv").write_bytes(b"\n".join(lines))
    with pytest.raises(DataError, match=r"transactions_train.csv, line 41: byte 0xe9 at column 8 is not valid UTF-8"):
        hm_data.convert(hm_data.find_files(folder), log=lambda m: None)
    (tmp_path / "t.csv.gz").write_bytes(gzip.compress(b"\n".join(lines)))
    for path in (folder / "transactions_train.csv", tmp_path / "t.csv.gz"):
        with pytest.raises(DataError, match="line 41: byte 0xe9 at column 8"):
            check_utf8(path, block_bytes=256)
    check_utf8(small_csvs["customers"], block_bytes=4096)  # a clean file passes


def test_missing_column_is_reported(small_csvs, tmp_path: Path):
    folder = tmp_path / "nocol"
    folder.mkdir()
    for name in ("articles.csv", "customers.csv"):
        (folder / name).write_bytes(small_csvs[name.split(".")[0]].read_bytes())
    pd.read_csv(small_csvs["transactions"], dtype=str).drop(columns=["price"]).to_csv(folder / "transactions_train.csv", index=False)
    with pytest.raises(DataError, match="missing column.*price"):
        hm_data.convert(hm_data.find_files(folder), log=lambda m: None)


def test_kaggle_fetch_without_credentials_says_how(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("KAGGLE_USERNAME", raising=False)
    monkeypatch.delenv("KAGGLE_KEY", raising=False)
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path / "nothing"))
    with pytest.raises(UserError, match=r"kaggle\.json"):
        hm_data.fetch_from_kaggle(tmp_path / "download")


@pytest.mark.realdata
def test_kaggle_head_sample_is_repaired(data_dir: Path, tmp_path: Path):
    folder = data_dir / "hm" / "kaggle-head10k"
    data, _ = hm_data.load(hm_data.find_files(folder), tmp_path, log=lambda m: None)
    assert len(data.transactions) == 10_000
    assert all(re.fullmatch(r"\d{10}", a) for a in data.article_ids)
    assert "0663713001" in set(data.article_ids)  # was 663713001 in the file
    notes = " ".join(data.notes)
    assert "leading zero" in notes and "unnamed index column" in notes and "not in customers.csv" in notes
    assert data.listed_customers == 10_000 and data.n_customers > 10_000
    assert data.transactions["day"].max() == 0  # all rows are dated 2018-09-20
    header = (folder / "transactions_train.csv").read_text().splitlines()[0].split(",")
    assert header == list(TRANSACTION_COLUMNS)
    assert (folder / "articles.csv").read_text().splitlines()[0].split(",")[1:] == ARTICLE_COLUMNS
    assert (folder / "customers.csv").read_text().splitlines()[0].split(",") == list(CUSTOMER_COLUMNS)


@pytest.mark.realdata
def test_ragrec_sample_without_sales_channel_is_repaired(data_dir: Path, tmp_path: Path):
    data, _ = hm_data.load(hm_data.find_files(data_dir / "hm" / "ragrec-sample"), tmp_path, log=lambda m: None)
    assert len(data.transactions) == 5_000 and data.n_articles == 1_000
    assert (data.transactions["channel"] == 0).all()
    assert any("sales_channel_id" in note for note in data.notes)
    assert data.start_date.isoformat() == "2018-09-20" and data.last_day == 733
    assert not data.transactions.isna().any().any()
