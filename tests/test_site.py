"""Tests for the static site: its HTML from real smoke records, and (marked ``browser``) that it
renders in headless Chromium, a column sort reorders the rows and a detail opens."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from benchmarks import cli, leaderboard, paths, records, site
from benchmarks.runner import RunRequest, run
from tests.conftest import squeeze


@pytest.fixture(scope="module")
def site_results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Smoke records of the three mock systems, plus a fake char-LM-like task whose records carry
    a generated sample and loss curves."""
    results = tmp_path_factory.mktemp("site") / "results"
    outcomes = run(RunRequest(task="mock-acc", systems=["mock-majority", "mock-noisy", "mock-threshold"], seeds=[0, 1],
                              profile="smoke", results_dir=results, progress=False, update_leaderboard=False))
    assert all(o.status == "ok" for o in outcomes)
    for system, loss in (("tiny-gpt", 1.6), ("tiny-mlp", 2.1)):
        for seed in (0, 1):
            record = {
                "schema_version": records.SCHEMA_VERSION, "task": "fake-charlm", "system": system, "seed": seed, "profile": "smoke", "status": "ok",
                "config": {"layers": 2}, "main_metric": "val_loss",
                "metrics": {"val_loss": loss + seed / 100, **{f"a_rather_long_metric_name_{i}": 1234.5 + i for i in range(6)}},
                "higher_is_better": False,
                "per_example": {"ids": ["w0", "w1", "w2"], "values": {"val_loss": [loss, loss + 0.1, loss - 0.1]}},
                "dataset": {"name": "tiny text", "fingerprint": "a" * 64}, "timings": {"fit_s": 3.0 * (1 + seed)},
                "peak_rss_mb": 300.0, "hardware": {"cores": 2}, "versions": {"python": "3.11"}, "git_sha": "abc123",
                "finished_at": f"2026-01-01T00:00:0{seed}",
                "extras": {"sample": f"ROMEO: <b>{system}</b> & more",
                           "prompted_sample": {"prompt": "GREMIO:\nGood morrow, <neighbour> Baptista.\n",
                                               "continuation": f"BAPTISTA:\n{system} says & more", "seed": 1337,
                                               "temperature": 1.0},
                           "curves": {
                    "step": [0, 10, 20], "train_loss": [4.0, 2.5, loss - 0.1], "val_loss": [4.1, 2.7, loss]}},
            }
            path = paths.record_dir(results, "fake-charlm") / system / f"r__seed{seed}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(record))
    return results


@pytest.mark.integration
def test_site_pages_hold_tables_plots_and_details(site_results: Path) -> None:
    index = site.write(site_results)
    assert index == site_results / "site" / "index.html"
    text = index.read_text()
    assert 'href="mock-acc.html"' in text and 'href="fake-charlm.html"' in text
    page = (index.parent / "mock-acc.html").read_text()
    assert page.count("<tr class=") == 3 and 'class="sortable"' in page
    assert 'src="mock-acc.svg"' in page and (index.parent / "mock-acc.svg").exists()
    assert page.count('<details id="t0-') == 3 and page.count("<h4>seed") == 6
    fingerprint = (json.loads(next(paths.record_dir(site_results, "mock-acc").rglob("*.json")).read_text()))["dataset"]["fingerprint"]
    assert fingerprint in page and "git sha" in page and "scikit-learn" in page
    charlm = (index.parent / "fake-charlm.html").read_text()
    assert "ROMEO: &lt;b&gt;tiny-gpt&lt;/b&gt; &amp; more" in charlm  # escaped, never raw HTML
    assert ('<mark class="prompt">GREMIO:\nGood morrow, &lt;neighbour&gt; Baptista.\n</mark>'
            '<span class="continuation">BAPTISTA:\ntiny-gpt says &amp; more</span>') in charlm
    assert (index.parent / "fake-charlm-curves.svg").stat().st_size > 1000


def test_markdown_shows_samples_and_curves(site_results: Path) -> None:
    leaderboard.write(site_results, ["fake-charlm"])
    text = squeeze((site_results / "fake-charlm.md").read_text())
    assert "<pre>ROMEO: &lt;b&gt;tiny-gpt&lt;/b&gt; &amp; more</pre>" in text and "<details><summary>Samples" in text
    assert "<b>tiny-gpt</b>" not in text  # a sample is shown as written, never as HTML
    assert "(fake-charlm-curves.svg)" in text and (site_results / "fake-charlm-curves.svg").exists()
    assert "| 1 | tiny-gpt |" in text  # lower is better


def test_site_command(site_results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert cli.main(["site", "--results-dir", str(site_results), "--out", str(out), "--task", "mock-acc"]) == 0
    assert str(out / "index.html") in capsys.readouterr().out
    assert (out / "mock-acc.html").exists() and not (out / "fake-charlm.html").exists()


def _browser_paths() -> tuple[str, str]:
    pytest.importorskip("selenium", reason="selenium is not installed (pip install selenium)")
    browser = next((shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome") if shutil.which(name)), None)
    driver = shutil.which("chromedriver")
    if browser is None or driver is None:
        pytest.skip("no chromium/chromedriver here (Debian: apt-get install chromium chromium-driver; CI installs them)")
    return browser, driver


@pytest.mark.browser
@pytest.mark.integration  # a real headless Chromium, end to end
def test_site_in_headless_chromium(site_results: Path, tmp_path: Path) -> None:
    browser, driver_path = _browser_paths()
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    index = site.write(site_results)
    options = Options()
    options.binary_location = browser
    for argument in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                     f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    try:
        driver.set_page_load_timeout(60)
        driver.get(index.as_uri())
        assert driver.title == "MLSD Bench results"
        driver.find_element(By.LINK_TEXT, "mock-acc").click()
        WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, "table-0"))
        table = driver.find_element(By.ID, "table-0")

        def column(index: int) -> list[str]:
            return [row.find_elements(By.TAG_NAME, "td")[index].get_attribute("data-value") or
                    row.find_elements(By.TAG_NAME, "td")[index].text for row in table.find_elements(By.CSS_SELECTOR, "tbody tr")]

        means = [float(v) for v in column(2)]
        assert means == sorted(means, reverse=True) and len(means) == 3  # best first as generated
        first_system = column(1)[0]
        header = table.find_elements(By.CSS_SELECTOR, "thead th")[2]
        header.click()
        ascending = [float(v) for v in column(2)]
        assert ascending == sorted(means) and column(1)[0] == "mock-majority" != first_system
        assert header.get_attribute("aria-sort") == "ascending"
        header.click()
        assert [float(v) for v in column(2)] == sorted(means, reverse=True)
        table.find_elements(By.CSS_SELECTOR, "thead th")[1].click()  # system names, A→Z
        assert column(1) == sorted(column(1), key=str.lower)

        detail = driver.find_element(By.ID, "t0-mock-majority")
        assert detail.get_attribute("open") is None
        table.find_element(By.LINK_TEXT, "mock-majority").click()
        WebDriverWait(driver, 10).until(lambda d: d.find_element(By.ID, "t0-mock-majority").get_attribute("open") is not None)
        assert "data fingerprint" in detail.text and "git sha" in detail.text
        other = driver.find_element(By.ID, "t0-mock-noisy")
        other.find_element(By.TAG_NAME, "summary").click()
        assert other.get_attribute("open") is not None
        image = driver.find_element(By.CSS_SELECTOR, "img[src='mock-acc.svg']")
        assert driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth", image) > 100

        # a char-LM page at 1,400 pixels: no sideways scrolling of the page (a wide table scrolls in its own box),
        # and each prompted sample shows its prompt highlighted, the continuation after it
        driver.set_window_size(1400, 900)
        driver.get((index.parent / "fake-charlm.html").as_uri())
        WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "div.prompted-sample"))
        assert driver.execute_script("return document.documentElement.scrollWidth") <= driver.execute_script(
            "return document.documentElement.clientWidth")
        box = "document.querySelector('div.scroll')"
        assert driver.execute_script(f"return {box}.scrollWidth > {box}.clientWidth")  # the table is wider: its box scrolls
        samples = driver.find_elements(By.CSS_SELECTOR, "div.prompted-sample")
        assert len(samples) == 2
        for sample in samples:
            mark = sample.find_element(By.CSS_SELECTOR, "pre.prompted mark.prompt")
            assert mark.text == "GREMIO:\nGood morrow, <neighbour> Baptista."
            assert driver.execute_script("return getComputedStyle(arguments[0]).backgroundColor", mark) not in (
                "rgba(0, 0, 0, 0)", "transparent")  # highlighted
            continuation = sample.find_element(By.CSS_SELECTOR, "pre.prompted span.continuation")
            assert continuation.text.startswith("BAPTISTA:") and " says & more" in continuation.text
            assert driver.execute_script(  # the continuation comes after the prompt
                "return arguments[0].compareDocumentPosition(arguments[1]) & Node.DOCUMENT_POSITION_FOLLOWING",
                mark, continuation)
    finally:
        driver.quit()
