"""The trade-off explorer (``study.figures.explorer``): one self-contained HTML page per profile.

* Without a browser: the page loads nothing from the network, embeds exactly the configurations ``study select``
  compares (the committed full profile's page against the committed results: a stale page fails), the figure has
  one point per configuration, the CIs and per-collection rows behind it are right.
* In a real browser (headless Chromium from Debian's packages, driven by Selenium; `.ci/install-chromium.sh`,
  run by `make test`): the plot renders with the expected number of SVG points per model and family, the sliders
  and text boxes change the highlighted choice to ``study select``'s for the same budget (RAM, then RAM + disk),
  the greyed points are exactly those that do not fit, the per-collection view shows the chosen configuration's
  collections, and the page's selection and budget parsing agree with Python's on a grid of cases. The browser
  runs with every host name unresolvable, and the test checks that the page asked for no http(s) URL. A
  screenshot goes to ``build/test-artifacts/explorer.png``.

Where Chromium cannot be found the browser tests are skipped with a message saying how to install it; under CI
(``CI`` true) that skip is a failure (``tests/ci_rule.py``). Waits for the page are for events (the page's
``ready`` flag, its update counter), bounded only against a hang; nothing here is timed.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import REPO, wait_until

from study.analysis import tradeoff
from study.core.errors import ParameterError, StudyError
from study.figures import explorer

FULL_PAGE = REPO / "figures" / "full" / explorer.EXPLORER
ARTIFACTS = REPO / "build" / "test-artifacts"
CHROMIUM = os.environ.get("STUDY_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("STUDY_CHROMEDRIVER", "/usr/bin/chromedriver")
GREY_FILL = "rgb(201, 201, 201)"  # explorer.GREY as the browser reports it


def embedded(html: str, element_id: str) -> dict:
    match = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>', html, re.S)
    assert match, f"no embedded JSON #{element_id}"
    return json.loads(match.group(1))


# --- data: the committed full profile and a small hand-built one -------------------------------------------------


@pytest.fixture(scope="module")
def full_tested() -> tuple[pd.DataFrame, tradeoff.Draws]:
    """``configurations`` of the committed full-profile results with their CIs and draws (what ``study select
    --profile full`` compares, and the rule it applies)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STUDY_OUTPUT_DIR", str(REPO))
        tidy, used = tradeoff.load_tidy("full")
        per_query = tradeoff.load_per_query(used)
    return tradeoff.with_uncertainty(tradeoff.configurations(tidy), tidy, per_query)


@pytest.fixture(scope="module")
def full_configs(full_tested) -> pd.DataFrame:
    return full_tested[0]


@pytest.fixture(scope="module")
def full_draws(full_tested) -> tradeoff.Draws:
    return full_tested[1]


DATASETS = (("d1", 100), ("d2", 300))
N_QUERIES = 8
# format, reducer, fraction, rescore, bytes (tier 1), rescore bytes (tier 2), overhead, nDCG@10 per dataset
SMALL = [
    ("float32", "none", 1.0, "none", 1536, None, 0, {"d1": 0.50, "d2": 0.70}),
    ("float16", "none", 1.0, "none", 768, None, 0, {"d1": 0.50, "d2": 0.70}),
    # a tie on quality and storage: the label decides (e4m3 before e5m2)
    ("float8_e5m2", "none", 1.0, "none", 384, None, 0, {"d1": 0.49, "d2": 0.69}),
    ("float8_e4m3", "none", 1.0, "none", 384, None, 0, {"d1": 0.49, "d2": 0.69}),
    # the same quality, more storage (its ranges are stored once): after both
    ("int8", "none", 1.0, "none", 384, None, 3072, {"d1": 0.49, "d2": 0.69}),
    ("float8_e4m3", "pca", 0.5, "none", 192, None, 600_000, {"d1": 0.47, "d2": 0.66}),
    ("binary", "none", 1.0, "none", 48, None, 0, {"d1": 0.40, "d2": 0.60}),
    # two tiers: 48 B searched + 384 B rescoring copy
    ("binary", "none", 1.0, "int8x4", 48, 384, 3072, {"d1": 0.495, "d2": 0.70}),
]


def small_results(model: str = "minilm-l6") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Tidy rows and per-query scores (each query = the collection's value ± a spread, so means are exact)."""
    rows, queries = [], []
    spread = np.linspace(-0.1, 0.1, N_QUERIES)
    for fmt, reducer, fraction, rescore, bpv, tier2, overhead, values in SMALL:
        for dataset, n_texts in DATASETS:
            cid = f"{model}|{fmt}|{reducer}|{fraction}|{rescore}|{dataset}"
            rows.append({
                "model": model, "dataset": dataset, "split": "test", "stage": "02", "reducer": reducer,
                "fraction": fraction, "dims": int(384 * fraction), "fit_on": "self" if reducer != "none" else "none",
                "format": fmt, "calibrate_on": "none", "rescore": rescore, "query_format": "same",
                "metric": "ndcg_at_10", "value": values[dataset], "bytes_per_vector": float(bpv),
                "rescore_bytes_per_vector": np.nan if tier2 is None else float(tier2),
                "overhead_bytes": overhead, "compression_ratio": 1536 / bpv, "n_queries": N_QUERIES,
                "n_docs": n_texts - N_QUERIES, "n_texts": n_texts, "config_id": cid,
            })
            queries += [{"config_id": cid, "dataset": dataset, "split": "test", "query_id": f"q{i}",
                         "ndcg_at_10": values[dataset] + s} for i, s in enumerate(spread)]
    return pd.DataFrame(rows), pd.DataFrame(queries)


@pytest.fixture(scope="module")
def small() -> dict:
    tidy, per_query = small_results()
    other, other_pq = small_results("mpnet-base")
    tidy, per_query = pd.concat([tidy, other.iloc[:-6]]), pd.concat([per_query, other_pq])  # mpnet: fewer configs
    configs = tradeoff.configurations(tidy)
    rows = tradeoff.configuration_rows(tidy, configs)
    configs = tradeoff.with_intervals(configs, rows, per_query, n_resamples=500)
    rows = tradeoff.per_collection_intervals(rows, per_query, n_resamples=500)
    return {"tidy": tidy, "per_query": per_query, "configs": configs, "rows": rows}


@pytest.fixture(scope="module")
def small_page(small, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("explorer") / "explorer.html"
    explorer.write_explorer(small["configs"], small["rows"], path, "small", n_vectors=1000, ram="1MB")
    return path


# --- without a browser ------------------------------------------------------------------------------------------


def network_references(html: str) -> list[str]:
    """Whatever would make a browser fetch something: a script/link/img/iframe with a source, CSS imports and
    URLs, fonts, or a ``fetch``/``XMLHttpRequest`` of the page's own code."""
    found = re.findall(r"<(?:script|link|img|iframe|source|embed|object)\b[^>]*\b(?:src|href|data)\s*=", html, re.I)
    found += re.findall(r"@import|@font-face|url\(\s*['\"]?(?:https?:)?//", html, re.I)
    return found


# --- the page's files ------------------------------------------------------------------------------------------


def test_the_page_and_its_scripts_are_files_that_lint(tmp_path):
    """page.html has each slot the module fills once; boot.js and explorer.js parse as JavaScript (``node --check``;
    node is part of the machine's base image, so its absence fails rather than skips)."""
    page = explorer.asset("page.html")
    for slot in ("PROFILE", "SOURCE", "WEIGHTING", "DATA", "FIGURE", "PLOTLYJS", "SCRIPT", "BOOT"):
        assert page.count(f"@@{slot}@@") >= 1, slot
    assert page.lstrip().startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    node = shutil.which("node")
    assert node, "node not found (apt-get install nodejs)"
    import subprocess

    for name in ("boot.js", "explorer.js"):
        assert "</script" not in explorer.asset(name)  # it is inlined in a <script> element
        done = subprocess.run([node, "--check", str(explorer.ASSETS / name)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    broken = tmp_path / "broken.js"
    broken.write_text(explorer.asset("explorer.js").replace("function", "functon", 1))
    assert subprocess.run([node, "--check", str(broken)], capture_output=True).returncode != 0  # the check can fail


def test_the_committed_page_loads_nothing_from_the_network():
    html = FULL_PAGE.read_text(encoding="utf-8")
    assert network_references(html) == []
    scripts = re.findall(r"<script\b([^>]*)>", html)
    assert scripts == [' type="application/json" id="explorer-data"', ' type="application/json" id="explorer-figure"',
                       ' type="application/gzip+base64" id="explorer-plotlyjs"',
                       ' type="text/plain" id="explorer-script"',
                       ' type="text/javascript"']
    packed = re.search(r'id="explorer-plotlyjs">(.*?)</script>', html, re.S).group(1)
    plotly_js = gzip.decompress(base64.b64decode(packed)).decode("utf-8")
    assert "plotly.js v" in plotly_js  # inlined (compressed), not loaded
    assert "MathJax.js" not in html and "cdn.plot.ly/plotly" not in html
    assert 2_000_000 < len(html.encode()) < 5 << 20  # under the repository's 5 MiB limit for a tracked file


def test_the_check_finds_a_network_script():
    assert network_references('<script src="https://cdn.plot.ly/plotly-3.0.1.min.js"></script>')
    assert network_references("<style>@import url(https://fonts.googleapis.com/css)</style>")
    assert network_references('<link rel="stylesheet" href="//example.org/a.css">')


def test_the_committed_page_embeds_what_study_select_compares(full_configs):
    """The committed page against the committed results, number for number (a stale page fails here)."""
    data = embedded(FULL_PAGE.read_text(encoding="utf-8"), "explorer-data")
    assert data["profile"] == "full" and data["weighting"] == "texts"
    assert data["model_order"] == list(dict.fromkeys(full_configs.model))
    assert data["defaults"] == {"model": "minilm-l6", "n_vectors": 10_000_000, "ram": 512 * 2**20, "disk": None}
    for model, mine in full_configs.groupby("model", sort=False):
        page = data["models"][model]["configs"]
        assert [r["label"] for r in page] == mine.label.tolist()
        for column in ("tier1_bytes_per_vector", "tier2_bytes_per_vector", "bytes_per_vector", "overhead_bytes",
                       "change_pct", "compression_ratio", "n_datasets"):
            assert [r[column] for r in page] == mine[column].tolist(), column  # exact: the same doubles
        assert [r["on_frontier"] for r in page] == mine.on_frontier.tolist()
        assert all(r["ci_low"] <= r["change_pct"] + 1e-3 and r["change_pct"] - 1e-3 <= r["ci_high"] for r in page)
        for r, names in zip(page, mine.collections):
            assert [c[0] for c in r["per_collection"]] == sorted(names.split(", "))


def test_the_figure_has_one_point_per_configuration(small):
    configs = small["configs"]
    fig = explorer.explorer_figure(configs, "mpnet-base")
    for model, mine in configs.groupby("model"):
        traces = [t for t in fig.data if t.meta["model"] == model and not t.meta.get("frontier")]
        assert sum(len(t.x) for t in traces) == len(mine)
        assert all(t.visible == (model == "mpnet-base") for t in traces)
        ids = sorted(i for t in traces for i in t.meta["ids"])
        assert ids == list(range(len(mine)))
        front = next(t for t in fig.data if t.meta["model"] == model and t.meta.get("frontier"))
        assert len(front.x) == int(mine.on_frontier.sum()) and front.mode == "lines"
    for t in fig.data:  # a point's id names the configuration plotted there
        if not t.meta.get("frontier"):
            mine = configs[configs.model == t.meta["model"]].reset_index(drop=True)
            assert list(t.y) == mine.change_pct[t.meta["ids"]].tolist()


def test_write_explorer_writes_one_page_atomically(small, small_page):
    html = small_page.read_text(encoding="utf-8")
    assert [p.name for p in small_page.parent.iterdir()] == [small_page.name]  # no temporary file left
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert network_references(html) == []
    data = embedded(html, "explorer-data")
    figure = embedded(html, "explorer-figure")
    assert {t["meta"]["model"] for t in figure["data"] if t["visible"] is True} == {"minilm-l6"}
    assert {t["meta"]["model"] for t in figure["data"]} == set(data["models"]) == {"minilm-l6", "mpnet-base"}
    assert data["defaults"]["ram"] == 10**6 and data["defaults"]["n_vectors"] == 1000
    two_tier = next(r for r in data["models"]["minilm-l6"]["configs"] if r["variant"] == "rescored")
    assert (two_tier["tier1_bytes_per_vector"], two_tier["tier2_bytes_per_vector"], two_tier["bytes_per_vector"]) \
        == (48.0, 384.0, 432.0)
    hover = next(t for t in figure["data"] if t["name"] == "binary" and t["meta"]["model"] == "minilm-l6")
    text = " ".join(hover["hovertext"])
    assert "48 B searched (tier 1) + 384 B rescoring (tier 2) = 432 B" in text and "95 % CI [" in text
    assert "2 collections: d1, d2" in text and "stored once: 3.07 kB (3 KiB)" in text


def test_a_page_without_per_query_scores_says_no_ci(small, tmp_path):
    configs = tradeoff.configurations(small["tidy"])
    rows = tradeoff.configuration_rows(small["tidy"], configs)
    bare = tradeoff.with_intervals(configs, rows, None)
    assert bare.ci_low.isna().all()
    html = explorer.explorer_html(bare, tradeoff.per_collection_intervals(rows, None), "bare")
    data = embedded(html, "explorer-data")
    assert all(r["ci_low"] is None for m in data["models"].values() for r in m["configs"])
    hovers = [h for trace in embedded(html, "explorer-figure")["data"] for h in trace.get("hovertext") or []]
    assert len(hovers) == len(bare) and all("(no CI)" in h and "95 % CI" not in h for h in hovers)


def test_explorer_refuses_a_table_that_is_not_configurations(small):
    with pytest.raises(ParameterError, match="change_pct"):
        explorer.page_data(small["configs"].drop(columns="change_pct"), None, "x")
    with pytest.raises(ParameterError, match="model"):
        explorer.page_data(small["configs"], None, "x", model="bge-small")
    with pytest.raises(ParameterError, match="ram"):
        explorer.page_data(small["configs"], None, "x", ram="2Gb")


def test_intervals_and_per_collection_rows(small):
    configs, rows = small["configs"], small["rows"]
    mine = configs[configs.model == "minilm-l6"].set_index("label")
    # per-collection rows average back to the configuration's change, texts-weighted, on the same collections
    for label, part in rows[rows.model == "minilm-l6"].groupby("label"):
        w = part.n_texts.astype(float)
        change = 100 * ((w * part.value).sum() / (w * part.baseline).sum() - 1)
        assert change == pytest.approx(mine.change_pct[label], abs=1e-12)
        assert list(part.dataset) == ["d1", "d2"]
    assert mine.loc["float16", ["ci_low", "ci_high"]].tolist() == [0.0, 0.0]  # the same scores as float32
    binary = mine.loc["binary"]
    assert binary.ci_low < binary.change_pct < binary.ci_high < 0  # every query loses: the CI excludes 0
    d1 = rows[(rows.label == "binary") & (rows.dataset == "d1") & (rows.model == "minilm-l6")].iloc[0]
    assert d1.change_pct == pytest.approx(-20.0) and d1.ci_low < -20.0 < d1.ci_high


# --- in a real browser ------------------------------------------------------------------------------------------


def _unavailable(reason: str):
    """Skip, saying how to install the browser (under CI the skip fails: tests/ci_rule.py)."""
    pytest.skip(f"{reason}: install it with `bash .ci/install-chromium.sh` (as root or with sudo; `make test` does)")


def test_a_missing_browser_says_how_to_install_it():
    with pytest.raises(pytest.skip.Exception, match=r"Chromium not found: install it with `bash \.ci/install-chromium"):
        _unavailable("Chromium not found")


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium through Selenium, with a fresh profile, no network, the performance log on."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _unavailable("selenium is not installed (pip install -e '.[dev]')")
    chromium = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    driver = CHROMEDRIVER if os.path.exists(CHROMEDRIVER) else shutil.which("chromedriver")
    if not chromium or not driver:
        _unavailable(f"Chromium or chromedriver not found (looked for {CHROMIUM} and {CHROMEDRIVER})")
    profile = tempfile.mkdtemp(prefix="explorer-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1400,1700", f"--user-data-dir={profile}",
                "--host-resolver-rules=MAP * ~NOTFOUND"):  # no host name resolves: the page must not need one
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    session = webdriver.Chrome(service=Service(executable_path=driver), options=options)  # no Selenium Manager
    try:
        yield session
    finally:
        session.quit()
        shutil.rmtree(profile, ignore_errors=True)


def open_page(browser, path: Path) -> None:
    browser.get(path.resolve().as_uri())
    wait_until(lambda: browser.execute_script("return !!(window.explorer && window.explorer.ready)"),
               "the page finished drawing")


def requested_urls(browser) -> list[str]:
    return [m["params"]["request"]["url"] for m in (json.loads(e["message"])["message"]
                                                    for e in browser.get_log("performance"))
            if m["method"] == "Network.requestWillBeSent"]


def point_counts(browser) -> list[int]:
    """SVG points drawn per scatter trace of the main plot (hidden traces draw none)."""
    return browser.execute_script(
        "return Array.from(document.querySelectorAll('#tradeoff .scatterlayer .trace'))"
        ".map(t => t.querySelectorAll('path.point').length).filter(n => n > 0);")


def act(browser, action) -> None:
    """Do something on the page and wait until the page has redrawn after it."""
    before = browser.execute_script("return window.explorer.updates")
    action()
    wait_until(lambda: browser.execute_script("return window.explorer.updates") != before, "the page redrew")


def choose_model(browser, model: str) -> None:
    from selenium.webdriver.support.ui import Select

    select = Select(browser.find_element("id", "model"))
    if select.first_selected_option.get_attribute("value") != model:  # no change event otherwise
        act(browser, lambda: select.select_by_value(model))


def type_into(browser, element_id: str, text: str) -> None:
    from selenium.webdriver.common.keys import Keys

    box = browser.find_element("id", element_id)  # select all and type over it (clear() would fire a change)
    act(browser, lambda: box.send_keys(Keys.CONTROL, "a", Keys.NULL, text, Keys.TAB))


def move_slider(browser, element_id: str, steps: int) -> None:
    """Move a range slider by keyboard, one stop per key press, as a user would."""
    from selenium.webdriver.common.keys import Keys

    slider = browser.find_element("id", element_id)
    key = Keys.ARROW_RIGHT if steps > 0 else Keys.ARROW_LEFT
    for _ in range(abs(steps)):
        act(browser, lambda: slider.send_keys(key))


def shown(browser) -> dict:
    """What the page shows: the choice, greyed and ringed points, the per-collection bars."""
    return browser.execute_script("""
        const points = Array.from(document.querySelectorAll('#tradeoff .scatterlayer path.point'));
        const gd = document.getElementById('tradeoff'), bars = document.getElementById('collections');
        let ringed = [];
        gd.data.forEach(t => { if (!t.meta.frontier && t.visible === true) t.meta.ids.forEach((id, k) => {
            if (t.marker.line.width[k] === 3) ringed.push(id); }); });
        const cfg = window.explorer.data.models[window.explorer.state.model].configs;
        return {choice: document.getElementById('choice').textContent,
                grey: points.filter(p => p.style.fill === arguments[0]).length,
                ringed_dom: points.filter(p => parseFloat(p.style.strokeWidth) === 3).length,
                ringed: ringed.map(id => cfg[id].label),
                bars: document.querySelectorAll('#collections .barlayer .point').length,
                bar_x: bars.data && bars.data.length ? bars.data[0].x : [],
                bar_y: bars.data && bars.data.length ? bars.data[0].y : [],
                error: document.getElementById('error').textContent,
                ram: document.getElementById('ram').value, vectors: document.getElementById('vectors').value};
    """, GREY_FILL)


def python_choice(configs: pd.DataFrame, model: str, n: int, ram, disk=None,
                  draws: tradeoff.Draws | None = None) -> tradeoff.Selection | None:
    try:
        return tradeoff.select(ram, n, configs, model=model, disk_bytes=disk, draws=draws)
    except StudyError:
        return None


def check_shows(browser, configs: pd.DataFrame, model: str, n: int, ram, disk=None,
                draws: tradeoff.Draws | None = None) -> dict:
    """The page shows ``study select``'s choice for this budget, greys exactly what does not fit, rings the
    choice and draws its collections."""
    page = shown(browser)
    expected = python_choice(configs, model, n, ram, disk, draws)
    mine = configs[configs.model == model]
    scaled = tradeoff.at_scale(mine, n)
    n_fit = int(tradeoff.fits(scaled, tradeoff.parse_budget(ram),
                              None if disk is None else tradeoff.parse_budget(disk)).sum())
    assert page["grey"] == len(mine) - n_fit
    if expected is None:
        assert page["choice"] == "nothing fits" and page["ringed"] == [] and page["bars"] == 0
        return page
    best = expected.recommended
    assert page["choice"] == best.label
    assert page["ringed"] == [best.label] and page["ringed_dom"] == 1
    assert page["bars"] == int(best.n_datasets) == len(page["bar_x"])
    assert page["bar_x"] == sorted(best.collections.split(", "))
    return page


def test_the_full_page_in_a_browser(browser, full_configs, full_draws):
    open_page(browser, FULL_PAGE)
    remote = [u for u in requested_urls(browser) if not u.startswith(("file:", "data:", "chrome:", "about:"))]
    assert remote == []
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []

    # the plot: one SVG point per configuration of the shown model, per family as in Python
    for model, mine in full_configs.groupby("model", sort=False):
        choose_model(browser, model)
        families = mine.format.map(tradeoff.kind).value_counts()
        families = [int(families[f]) for f in explorer.family_colours(list(full_configs.format.map(tradeoff.kind)))
                    if f in families]
        assert point_counts(browser) == families
        assert sum(point_counts(browser)) == len(mine)

    # study select's example: MiniLM, 10M vectors, 512 MiB, by text box and by slider
    choose_model(browser, "minilm-l6")
    type_into(browser, "vectors", "1e7")
    type_into(browser, "ram", "512MiB")
    page = check_shows(browser, full_configs, "minilm-l6", 10_000_000, "512MiB", draws=full_draws)
    assert page["ram"] == "512 MiB" and page["vectors"] == "10000000"
    move_slider(browser, "ram-slider", 3)  # 512 MiB -> 1, 2, 4 GiB
    assert shown(browser)["ram"] == "4 GiB"
    check_shows(browser, full_configs, "minilm-l6", 10_000_000, "4GiB", draws=full_draws)
    move_slider(browser, "ram-slider", -3)
    page = check_shows(browser, full_configs, "minilm-l6", 10_000_000, "512MiB", draws=full_draws)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "explorer.png"))
    print(f"\n512 MiB, 10M MiniLM vectors: {page['choice']}")

    # a disk budget: two-tier configurations keep their rescoring tier on disk
    with_disk = python_choice(full_configs, "minilm-l6", 10_000_000, "512MiB", "8GiB", full_draws)
    assert with_disk.recommended.tier2_bytes_per_vector > 0  # the case exercises the disk rule
    type_into(browser, "disk", "8GiB")
    check_shows(browser, full_configs, "minilm-l6", 10_000_000, "512MiB", "8GiB", draws=full_draws)
    move_slider(browser, "disk-slider", -4)  # 8 GiB -> 4, 2, 1 GiB -> the leftmost stop: no disk budget
    assert browser.find_element("id", "disk").get_attribute("value") == "none"
    check_shows(browser, full_configs, "minilm-l6", 10_000_000, "512MiB", draws=full_draws)

    # another model and size, then a budget nothing fits
    choose_model(browser, "mpnet-base")
    type_into(browser, "vectors", "2_000_000")
    check_shows(browser, full_configs, "mpnet-base", 2_000_000, "512MiB", draws=full_draws)
    type_into(browser, "vectors", "1e10")
    type_into(browser, "ram", "1MiB")
    check_shows(browser, full_configs, "mpnet-base", 10**10, "1MiB", draws=full_draws)

    # a value study select refuses is refused here too, and changes nothing
    from selenium.webdriver.common.keys import Keys

    browser.find_element("id", "ram").send_keys(Keys.CONTROL, "a", Keys.NULL, "2Gb", Keys.TAB)
    page = shown(browser)
    assert "invalid value '2Gb'" in page["error"] and page["choice"] == "nothing fits"


def test_the_page_selects_as_study_select_on_a_grid(browser, full_configs, full_draws):
    open_page(browser, FULL_PAGE)
    cases = [(m, n, ram, disk) for m in full_configs.model.unique() for n in (1000, 125_000, 10**7, 10**9)
             for ram in (2**20, 64 * 2**20, 10**9, 4 * 2**30, 16 * 2**30, 2**40)
             for disk in (None, 2**30, 64 * 2**30)]
    page = browser.execute_script(
        "return arguments[0].map(c => window.explorer.select(c[0], c[1], c[2], c[3]));", cases)
    for (model, n, ram, disk), got in zip(cases, page):
        expected = python_choice(full_configs, model, n, ram, disk, full_draws)
        case = f"{model}, N={n:,}, RAM={ram:,}, disk={disk}"
        if expected is None:
            assert got["best"] is None and got["n_fitting"] == 0, case
            continue
        assert got["best"] == expected.recommended.label, case
        assert got["n_fitting"] == expected.n_fitting, case
        assert [tuple(r) for r in got["runners_up"]] == list(zip(expected.runners_up.label,
                                                                 expected.runners_up.on_frontier)), case
        assert (got["top"], got["n_tied"]) == (expected.top.label, expected.n_tied), case
        assert got["needed"] == (None if expected.needed is None else expected.needed.label), case
    assert sum(g["needed"] is not None for g in page) > 0 and sum(g["n_tied"] > 1 for g in page) > 0
    assert sum(g["best"] is None for g in page) > 0 and len({g["best"] for g in page}) > 10  # a real spread


def test_the_page_parses_budgets_and_sizes_as_study_select(browser):
    open_page(browser, FULL_PAGE)
    budgets = ["512MiB", "2GB", "1.5 GiB", " 64 MiB ", "2Gb", "512mb", "0.5", "1e3kB", "3KB", "1e-9GB", "abc", "",
               "10 TiB", "7", "1.", "4 GiB", "2 PB", "1e400", "-5MB"]
    sizes = ["1e7", "10_000_000", "10,000,000", "0", "1.5", "-3", "abc", "1e20", "125000", " 42 ", "1e-3", "0x10"]
    got = browser.execute_script("return [arguments[0].map(window.explorer.parseBudget), "
                                 "arguments[1].map(window.explorer.parseVectors)];", budgets, sizes)

    def python(parse, value):
        try:
            return parse(value)
        except ParameterError:
            return None

    assert got[0] == [python(tradeoff.parse_budget, b) for b in budgets]
    assert got[1] == [python(tradeoff.check_n_vectors, s) for s in sizes]
    formatted = browser.execute_script("return [1e3, 480e6, 512 * 2**20, 2**40 + 1, 999].map("
                                       "window.explorer.formatBytes);")
    assert formatted == [tradeoff.format_bytes(n) for n in (1e3, 480e6, 512 * 2**20, 2**40 + 1, 999)]


def test_ties_are_broken_as_study_select_breaks_them(browser, small, small_page):
    """On the hand-built results: equal quality and storage → the label; equal quality → the smaller total."""
    configs = small["configs"]
    open_page(browser, small_page)
    cases = [(m, n, ram, disk) for m in ("minilm-l6", "mpnet-base") for n in (1, 10, 1000, 10**5)
             for ram in (100, 10**3, 10**4, 10**5, 10**6, 10**7, 10**8) for disk in (None, 10**4, 10**7)]
    page = browser.execute_script(
        "return arguments[0].map(c => window.explorer.select(c[0], c[1], c[2], c[3]));", cases)
    for (model, n, ram, disk), got in zip(cases, page):
        expected = python_choice(configs, model, n, ram, disk)
        assert got["best"] == (None if expected is None else expected.recommended.label), (model, n, ram, disk)
    tie = python_choice(configs, "minilm-l6", 1000, 390_000)  # float8 e4m3 / e5m2 / int8 all fit
    assert tie.recommended.label == "float8_e4m3" and tie.runners_up.label.tolist()[:2] == ["float8_e5m2", "int8"]
    assert browser.execute_script("return window.explorer.select('minilm-l6', 1000, 390000).runners_up")[:2] == \
        [["float8_e5m2", True], ["int8", False]]
    assert point_counts(browser) and sum(point_counts(browser)) == int((configs.model == "minilm-l6").sum())
