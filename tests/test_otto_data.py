"""OTTO data: jsonl → parquet conversion (ms/s timestamps, clear errors), the synthetic generator,
and the real sample through otto-de's test-set protocol."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from benchmarks.data.otto import find_real, load_events
from benchmarks.data.otto_events import convert_jsonl
from benchmarks.data.otto_synthetic import SyntheticSpec, generate, write_jsonl
from benchmarks.data.otto_testset import make_testset
from benchmarks.errors import DataError, UserError


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def session_line(session: int, events: list[tuple[int, int, str]]) -> str:
    return json.dumps({"session": session, "events": [{"aid": a, "ts": t, "type": k} for a, t, k in events]})


def test_milliseconds_and_seconds_give_the_same_parquet(tmp_path):
    events = [(5, 1659304800, "clicks"), (6, 1659304900, "carts"), (6, 1659305000, "orders")]
    seconds = write_lines(tmp_path / "s.jsonl", [session_line(3, events)])
    millis = write_lines(tmp_path / "ms.jsonl", [session_line(3, [(a, t * 1000 + 999, k) for a, t, k in events])])
    assert convert_jsonl(seconds, tmp_path / "s.parquet")["ts_unit"] == "s"
    assert convert_jsonl(millis, tmp_path / "ms.parquet")["ts_unit"] == "ms"
    a, _, _ = load_events(tmp_path / "s.parquet")
    b, _, _ = load_events(tmp_path / "ms.parquet")
    for name in ("session", "aid", "ts", "type"):
        np.testing.assert_array_equal(a[name], b[name])
    assert a["ts"].tolist() == [1659304800, 1659304900, 1659305000]
    assert a["type"].tolist() == [0, 1, 2]
    assert a["ts"].dtype == np.int32 and a["type"].dtype == np.int8


@pytest.mark.parametrize("bad_line, problem", [
    ('{"session": 1, "events": [{"aid": 2, "ts": 3', "not valid JSON"),
    ('{"session": 1}', "'session' and 'events'"),
    ('{"session": 1, "events": [{"aid": 2, "ts": 1659304800, "type": "views"}]}', "expected one of clicks, carts, orders"),
    ('{"session": 1, "events": [{"aid": -2, "ts": 1659304800, "type": "clicks"}]}', "events[0].aid"),
    ('{"session": 1, "events": [{"aid": 2, "ts": 1659304800000, "type": "clicks"}]}', "in ms, but earlier"),
])
def test_broken_lines_are_named(tmp_path, bad_line, problem):
    good = session_line(0, [(1, 1659304800, "clicks"), (2, 1659304801, "clicks")])
    source = write_lines(tmp_path / "train.jsonl", [good, bad_line])
    with pytest.raises(DataError) as error:
        convert_jsonl(source, tmp_path / "out.parquet")
    message = str(error.value)
    assert "train.jsonl, line 2" in message and problem in message
    assert not (tmp_path / "out.parquet").exists() and not (tmp_path / "out.parquet.part").exists()


def _no_kaggle_credentials(monkeypatch, tmp_path):
    monkeypatch.delenv("KAGGLE_USERNAME", raising=False)
    monkeypatch.delenv("KAGGLE_KEY", raising=False)
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path / "no-kaggle"))


def test_missing_real_data_says_how_to_get_it(tmp_path, monkeypatch):
    _no_kaggle_credentials(monkeypatch, tmp_path)
    with pytest.raises(UserError, match="kaggle datasets download -d otto/recsys-dataset"):
        find_real(tmp_path, tmp_path / "cache")


def test_real_data_is_fetched_through_the_kaggle_api_once(tmp_path, monkeypatch):
    """With credentials, the competition's train.jsonl is downloaded (as a zip), unpacked into the cache and reused."""
    import sys
    import types
    import zipfile

    calls = []

    class FakeKaggleApi:
        def authenticate(self):
            pass

        def competition_download_file(self, competition, name, path, quiet):
            calls.append((competition, name))
            with zipfile.ZipFile(Path(path) / f"{name}.zip", "w") as bundle:
                bundle.writestr(name, '{"session": 1, "events": [{"aid": 5, "ts": 1661724000, "type": "clicks"}]}\n')

    module = types.ModuleType("kaggle.api.kaggle_api_extended")
    module.KaggleApi = FakeKaggleApi
    for name, value in (("kaggle", types.ModuleType("kaggle")), ("kaggle.api", types.ModuleType("kaggle.api")),
                        ("kaggle.api.kaggle_api_extended", module)):
        monkeypatch.setitem(sys.modules, name, value)
    monkeypatch.setenv("KAGGLE_USERNAME", "someone")
    monkeypatch.setenv("KAGGLE_KEY", "secret")
    for _ in range(2):
        path = find_real(tmp_path / "data", tmp_path / "cache")
        assert path == tmp_path / "cache" / "otto" / "kaggle" / "train.jsonl"
        assert '"aid": 5' in path.read_text()
    assert calls == [("otto-recommender-system", "train.jsonl")]
    assert not list(path.parent.glob("*.zip"))


def test_synthetic_is_deterministic_and_seeded():
    a = generate(SyntheticSpec(scale=0.0003, seed=1))
    b = generate(SyntheticSpec(scale=0.0003, seed=1))
    c = generate(SyntheticSpec(scale=0.0003, seed=2))
    for name in ("session", "aid", "ts", "type"):
        np.testing.assert_array_equal(a[name], b[name])
    assert not np.array_equal(a["aid"], c["aid"][: len(a["aid"])])


def test_synthetic_has_the_real_layout():
    """The real data's layout; its figures are checked against FULL-STATS.md in test_twin_realism.py."""
    events = generate(SyntheticSpec(scale=0.002))
    session, ts = events["session"], events["ts"]
    assert len(np.unique(session)) == round(12_899_779 * 0.002)
    assert np.all(np.diff(session) >= 0) and np.all((np.diff(session) > 0) | (np.diff(ts) >= 0))
    assert np.bincount(session).min() >= 2
    starts = ts[np.concatenate(([0], np.flatnonzero(np.diff(session)) + 1))]
    assert np.all(np.diff(starts) >= 0)  # session ids follow start times, as in the real data
    assert 0 <= ts.min() - 1_659_304_800 < 3600 and 27 * 86400 < ts.max() - ts.min() < 28 * 86400
    assert set(np.unique(events["type"]).tolist()) == {0, 1, 2}


def test_synthetic_jsonl_round_trips_through_the_converter(tmp_path):
    spec = SyntheticSpec(scale=0.0002, seed=3)
    path = write_jsonl(spec, tmp_path / "train.jsonl")  # ms, like otto-de's release
    first = json.loads(path.read_text().splitlines()[0])
    assert set(first) == {"session", "events"} and first["events"][0]["ts"] > 10**12
    loaded, _, _ = load_events(path, tmp_path / "cache")
    expected = generate(spec)
    for name in ("session", "aid", "ts", "type"):
        np.testing.assert_array_equal(loaded[name], expected[name])


@pytest.mark.realdata
def test_real_sample_reproduces_otto_de_testset_output(data_dir, tmp_path):
    """otto-de's test/test_testset.py on this fixture (test_days=7): 10 training and 8 test
    sessions; their src/out/test_labels.jsonl and test_sessions.jsonl give these labels and inputs."""
    events, _, _ = load_events(data_dir / "otto" / "train.jsonl", tmp_path)
    assert len(events["session"]) == 862 and len(np.unique(events["session"])) == 20
    assert events["ts"].max() == 1661723997  # the last event, 1661723997xxx ms, in seconds
    split = make_testset(events, test_days=7, seed=42)
    assert split.stats["train_sessions"] == 10 and split.stats["test_sessions"] == 8
    expected_clicks = {12899769: 1329892, 12899770: 303479, 12899771: 303479, 12899772: 1712999,
                       12899773: 107068, 12899775: 303479, 12899776: 360462, 12899777: 107068}
    assert {s: t.clicks for s, t in split.labels.items()} == expected_clicks
    assert split.test["aid"].tolist() == [1329892, 303479, 1343406, 1343406, 1712999, 107068, 1329892, 107068]
    train_items = set(split.train["aid"].tolist())
    assert set(split.test["aid"].tolist()) <= train_items
    assert split.train["ts"].max() < split.stats["split_ts"]


def _plain_columns(path: Path) -> dict[str, np.ndarray]:
    """The plain (per-line Python) reader over a whole file: the oracle for the block converter."""
    from benchmarks.data.blocks import split_lines
    from benchmarks.data.otto_events import _plain_events_block, _Unit

    columns, _ = _plain_events_block(split_lines(path.read_bytes()), path, 1, _Unit())
    return columns


def test_block_converter_equals_the_plain_reader(tmp_path):
    """Small blocks (many boundaries), plain blocks and blocks only the plain reader takes (a blank line,
    an escaped type name, extra fields, spaces, CRLF), in one file: the parquet holds what the plain reader reads."""
    import pyarrow.parquet as pq

    source = write_jsonl(SyntheticSpec(scale=0.0002, seed=5), tmp_path / "train.jsonl")
    lines = source.read_text().splitlines()
    lines[40] = lines[40] + "\r"
    lines[90] = lines[90].replace('"type":"clicks"', '"type":"cl\\u0069cks"', 1)
    lines[150] = '{"extra": {"x": [1, 2]}, ' + lines[150][1:]
    lines[151] = "  " + lines[151].replace(",", ", ") + "  "
    lines.insert(200, "")
    source.write_text("\n".join(lines) + "\n")
    logged: list[str] = []
    stats = convert_jsonl(source, tmp_path / "out.parquet", block_bytes=4000, row_group_events=500, log=logged.append, log_every=0)
    table = pq.read_table(tmp_path / "out.parquet")
    expected = _plain_columns(source)
    for name in ("session", "aid", "ts", "type"):
        np.testing.assert_array_equal(table.column(name).to_numpy(), expected[name])
    assert stats["events"] == len(expected["aid"]) and stats["sessions"] == len(lines) - 1 and stats["ts_unit"] == "ms"
    assert len(logged) > 3 and all("events/s" in line for line in logged) and "done in" in logged[-1]
    from benchmarks.data.otto_events import _fast_events_block

    assert _fast_events_block(("\n".join(lines[:10]) + "\n").encode()) is not None  # plain: the fast path
    for awkward in (lines[90], lines[199] + "\n\n" + lines[201]):  # an escape; a blank line
        assert _fast_events_block((awkward + "\n").encode()) is None  # left to the plain reader


def test_an_error_in_a_later_block_names_its_line(tmp_path):
    good = [session_line(s, [(1, 1659304800, "clicks"), (2, 1659304801, "carts")]) for s in range(300)]
    bad = session_line(300, [(1, 1659304800, "views")])
    source = write_lines(tmp_path / "train.jsonl", good + [bad] + good[:5])
    with pytest.raises(DataError) as error:
        convert_jsonl(source, tmp_path / "out.parquet", block_bytes=1000)
    assert error.value.line == 301 and "views" in str(error.value)
    assert not (tmp_path / "out.parquet").exists() and not (tmp_path / "out.parquet.part").exists()


def test_a_change_of_timestamp_unit_in_a_later_block_names_its_line(tmp_path):
    seconds = [session_line(s, [(1, 1659304800 + s, "clicks")]) for s in range(100)]
    millis = [session_line(s, [(1, (1659304900 + s) * 1000, "clicks")]) for s in range(100, 110)]
    source = write_lines(tmp_path / "train.jsonl", seconds + millis)
    with pytest.raises(DataError) as error:
        convert_jsonl(source, tmp_path / "out.parquet", block_bytes=500)
    assert error.value.line == 101 and "in ms, but earlier timestamps were in s" in str(error.value)
