"""The interactive trade-off explorer: one self-contained HTML page per profile (``figures/<profile>/explorer.html``).

The page is for choosing a configuration, not for reading the paper: the nDCG@10 change of every configuration
of a model against its compression ratio (Pareto frontier dashed, the same points as ``fig7-tradeoff``), and
controls for the model, the corpus size N, a RAM budget and, for two-tier configurations, a disk budget. The
configurations that fit are drawn in their family's colour, the others greyed; the best one that fits is ringed,
named in ``#choice`` and broken down per collection in a second plot.

Decisions (tested in ``tests/test_explorer.py``, in a headless Chromium too):

* **Plotly**, drawn in SVG (not WebGL, so it renders without a GPU and its points can be counted), with
  plotly.js *inlined* (``plotly.offline.get_plotlyjs``, 4.8 MB, kept gzip-compressed and base64-encoded in the
  page, 1.9 MB, so that the committed page stays under the repository's 5 MiB limit for a tracked file; the
  browser's own ``DecompressionStream`` unpacks it, then the page's script runs): the page loads no script,
  style sheet or font from anywhere, MathJax is off, and it works opened from disk (``file://``) with no network.
* **The selection is ``study select``'s**, re-implemented in the page's JavaScript line by line from
  ``study.analysis.tradeoff``: ``at_scale`` (total = N × bytes per vector, every tier, + what is stored once;
  RAM = N × first tier + what is stored once; disk = N × rescoring tier), ``fits`` (without a disk budget the
  total must fit the RAM; with one, the RAM part the RAM and the rescoring tier the disk) and ``rank`` (highest
  nDCG@10 change, then the smallest total, then the label). The page embeds the per-model configuration table
  as JSON with every number as Python's shortest round-trip ``repr``, so the browser's doubles are the ones
  pandas compares, and the same ``configurations`` table ``study select`` builds (``weighting`` included).
  Budgets are typed as ``study select --ram`` takes them (``512MiB``, ``2GB``: ``parse_budget``'s rules) or set
  with log-scale sliders whose stops are exact powers of two (RAM 1 MiB–1 TiB, disk 1 GiB–64 TiB); N takes
  ``1e7`` or ``10_000_000`` (``check_n_vectors``), its slider stops at 1-2-5 × 10^k.
* **Colour = family of the stored number format** (``tradeoff.kind``: float32, 16-bit float, float8, int8,
  int4, float4, binary, RaBitQ, OPQ+PQ, PQ fast-scan, TurboQuant, OSQ), **marker = variant** (circle: the format
  alone, square: after a reducer, diamond: rescored, i.e. two tiers): the study's 50-odd ``family`` values
  (``float8 + pca`` ...) are too many colours to tell apart; the hover names the full family.
* **x = compression ratio per vector** (float32 bytes over all tiers' bytes), as fig. 7; the overhead stored
  once is in the hover and in the storage ``select`` counts, not on the axis (it depends on N). The frontier is
  ``configurations``' (per vector), as in fig. 7 and the README.
* **Uncertainty**: the hover gives the paired, query-level 95 % bootstrap CI of the change over the
  configuration's collections, and the per-collection plot each collection's CI (``tradeoff.with_intervals``,
  ``tradeoff.per_collection_intervals``: the study's ``stats.compare``); NaN (shown as "no CI") without per-query
  scores.

The page reads nothing at run time: everything is in the file. ``write_explorer`` writes it atomically.
"""

from __future__ import annotations

import base64
import gzip
import json
import math
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs

from study.analysis.comparison import NONE
from study.analysis.tradeoff import (
    BUDGET_HELP,
    DEFAULT_MAX_LOSS,
    KINDS,
    Draws,
    check_max_loss,
    check_n_vectors,
    format_bytes,
    kind,
    parse_budget,
)
from study.core.errors import ParameterError
from study.core.io import write_text_atomic

EXPLORER = "explorer.html"
DEFAULT_N_VECTORS = 10_000_000
DEFAULT_RAM = "512MiB"
FAMILIES = list(dict.fromkeys(name for _, name in KINDS))
# Plotly's Dark24 without its near-black (kept for the ring of the chosen point) and its greys
PALETTE = ["#2E91E5", "#E15F99", "#1CA71C", "#FB0D0D", "#DA16FF", "#B68100", "#750D86", "#EB663B", "#511CFB",
           "#00A08B", "#FB00D1", "#FC0080", "#6C7C32", "#778AAE", "#862A16", "#A777F1"]
GREY = "#c9c9c9"
SYMBOLS = {"alone": "circle", "reduced": "square", "rescored": "diamond"}
VECTOR_STOPS = [m * 10**e for e in range(3, 11) for m in (1, 2, 5) if m * 10**e <= 10**10]
RAM_STOPS = [2**k for k in range(20, 41)]  # 1 MiB ... 1 TiB
DISK_STOPS = [2**k for k in range(30, 47)]  # 1 GiB ... 64 TiB
CONFIG_COLUMNS = ["label", "family", "format_family", "variant", "tier1_bytes_per_vector", "tier2_bytes_per_vector",
                  "bytes_per_vector", "overhead_bytes", "change_pct", "ci_low", "ci_high", "expected", "value",
                  "baseline", "compression_ratio", "on_frontier", "n_datasets", "collections"]


def variant(row: dict) -> str:
    """``rescored`` (two tiers), ``reduced`` (after a reducer) or ``alone``: the marker of a configuration."""
    if row.get("rescore", NONE) != NONE:
        return "rescored"
    return "reduced" if row.get("reducer", NONE) != NONE else "alone"


def family_colours(families: list[str]) -> dict[str, str]:
    """A fixed colour per format family, in ``tradeoff.KINDS`` order (unknown families after them)."""
    ordered = [f for f in FAMILIES if f in families] + sorted(set(families) - set(FAMILIES))
    return {f: PALETTE[i % len(PALETTE)] for i, f in enumerate(ordered)}


def _number(value: object) -> float | int | bool | str | None:
    """A JSON value: NaN → null, numpy scalars → Python (floats keep their exact ``repr``)."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else float(value)
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def _pct(value: float | None) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:+.2f} %"


def hover_text(row: dict) -> str:
    """What hovering a point shows: the configuration, its bytes per tier, what is stored once, the change with its
    CI, and the collections it was averaged over."""
    tier1, tier2 = row["tier1_bytes_per_vector"], row["tier2_bytes_per_vector"]
    stored = (f"{tier1:g} B searched (tier 1) + {tier2:g} B rescoring (tier 2) = {row['bytes_per_vector']:g} B"
              if tier2 > 0 else f"{tier1:g} B (one tier)")
    lo, hi = row.get("ci_low"), row.get("ci_high")
    ci = "no CI" if lo is None or hi is None or np.isnan(lo) or np.isnan(hi) else f"95 % CI [{lo:+.2f}, {hi:+.2f}]"
    names = str(row["collections"]).split(", ")
    wrapped = "<br>   ".join(", ".join(names[i:i + 6]) for i in range(0, len(names), 6))
    return (f"<b>{row['label']}</b><br>family: {row['family']}<br>bytes/vector: {stored}<br>"
            f"stored once: {format_bytes(float(row['overhead_bytes']))}<br>"
            f"compression {row['compression_ratio']:.3g}×<br>"
            f"nDCG@10 change {_pct(row['change_pct'])} ({ci})<br>"
            f"expected nDCG@10 {row['expected']:.4f}<br>"
            f"{int(row['n_datasets'])} collections: {wrapped}")


def _check_configs(configs: pd.DataFrame) -> pd.DataFrame:
    needed = {"model", "label", "family", "format", "reducer", "rescore", "tier1_bytes_per_vector",
              "tier2_bytes_per_vector", "bytes_per_vector", "overhead_bytes", "change_pct", "expected",
              "compression_ratio", "on_frontier", "n_datasets", "collections"}
    missing = sorted(needed - set(configs.columns))
    if missing:
        raise ParameterError("configs", f"a table without {', '.join(missing)}",
                             "the output of study.analysis.tradeoff.configurations")
    if configs.duplicated(["model", "label"]).any():
        raise ParameterError("configs", "a table with a label twice for one model", "one row per configuration")
    out = configs.copy()
    for column in ("ci_low", "ci_high", "value", "baseline"):
        if column not in out:
            out[column] = np.nan
    out["format_family"] = [kind(f) for f in out.format]
    out["variant"] = [variant(r) for r in out[["reducer", "rescore"]].to_dict("records")]
    return out


def page_data(configs: pd.DataFrame, per_collection: pd.DataFrame | None, profile: str,
              n_vectors: int = DEFAULT_N_VECTORS, ram: str | int = DEFAULT_RAM, disk: str | int | None = None,
              model: str | None = None, weighting: str | None = None, source: str = "",
              draws: Draws | None = None, max_loss: float = DEFAULT_MAX_LOSS) -> dict:
    """Everything the page's JavaScript reads: per model its configurations (``configurations``' rows, in its
    order, each with an ``id``), the per-collection values behind each (``per_collection``: rows of
    ``tradeoff.configuration_rows``, ``config`` naming the row of ``configs``) and, with ``draws`` (columns =
    ``configs``' index), how each pair compares (``Draws.relations``: the page then chooses and draws the frontier
    by ``study select``'s rule); the defaults of the controls, the quality floor, the slider stops and
    ``parse_budget``'s help text."""
    configs = _check_configs(configs)
    models = list(dict.fromkeys(configs.model))
    model = model or models[0]
    if model not in models:
        raise ParameterError("model", model, models)
    weighting = weighting or (str(configs.weighting.iloc[0]) if "weighting" in configs and len(configs) else "texts")
    colours = family_colours(list(configs.format_family))
    by_config: dict[object, list] = {}
    if per_collection is not None and len(per_collection):
        frame = per_collection.copy()
        for column in ("ci_low", "ci_high"):
            if column not in frame:
                frame[column] = np.nan
        for config, rows in frame.sort_values(["config", "dataset"]).groupby("config", sort=False):
            by_config[config] = [[str(r.dataset), *(_number(getattr(r, c)) for c in
                                                    ("change_pct", "ci_low", "ci_high", "value", "baseline",
                                                     "n_texts"))] for r in rows.itertuples()]
    out = {}
    for name in models:
        mine = configs[configs.model == name]
        rows = []
        for i, (index, r) in enumerate(mine.iterrows()):
            row = {"id": i, **{c: _number(r[c]) for c in CONFIG_COLUMNS}}
            row["on_frontier"] = bool(r.on_frontier)
            row["per_collection"] = by_config.get(index, [])
            rows.append(row)
        out[name] = {"configs": rows, "collections": str(mine.collections.iloc[0]) if len(mine) else "",
                     "n_datasets": int(mine.n_datasets.max()) if len(mine) else 0,
                     "relations": draws.relations(mine.index.to_numpy()) if draws is not None else None}
    return {
        "profile": profile, "weighting": weighting, "source": source, "models": out, "model_order": models,
        "colours": colours, "grey": GREY,
        "defaults": {"model": model, "n_vectors": check_n_vectors(n_vectors),
                     "ram": parse_budget(ram, "ram"), "disk": None if disk is None else parse_budget(disk, "disk")},
        "stops": {"vectors": VECTOR_STOPS, "ram": RAM_STOPS, "disk": DISK_STOPS},
        "budget_help": BUDGET_HELP, "max_loss": check_max_loss(max_loss),
    }


def explorer_figure(configs: pd.DataFrame, model: str | None = None) -> go.Figure:
    """The scatter the page draws: per model, one trace per format family (``meta`` names the model and the
    configuration ids of its points) and the frontier as a dashed line; only ``model``'s traces visible."""
    configs = _check_configs(configs)
    models = list(dict.fromkeys(configs.model))
    model = model or models[0]
    colours = family_colours(list(configs.format_family))
    fig = go.Figure()
    for name in models:
        mine = configs[configs.model == name].reset_index(drop=True)
        for family in colours:
            part = mine[mine.format_family == family]
            if part.empty:
                continue
            # the format alone first: the legend draws a trace's first marker
            part = part.iloc[np.argsort([list(SYMBOLS).index(v) for v in part.variant], kind="stable")]
            records = part.to_dict("records")
            fig.add_trace(go.Scatter(
                x=part.compression_ratio.tolist(), y=part.change_pct.tolist(), mode="markers", name=family,
                legendgroup=family, visible=name == model, hovertext=[hover_text(r) for r in records],
                hoverinfo="text", customdata=part.index.tolist(),
                marker={"color": colours[family], "size": 9, "symbol": [SYMBOLS[variant(r)] for r in records],
                        "line": {"color": "white", "width": 0.5}},
                # what fits a budget is "selected" (the page sets selectedpoints), the rest greyed
                selected={"marker": {"opacity": 0.95}}, unselected={"marker": {"color": GREY, "opacity": 0.45}},
                meta={"model": name, "ids": part.index.tolist(), "family": family},
            ))
        front = mine[mine.on_frontier].sort_values("compression_ratio")
        fig.add_trace(go.Scatter(
            x=front.compression_ratio.tolist(), y=front.change_pct.tolist(), mode="lines", name="Pareto frontier",
            visible=name == model, hoverinfo="skip", line={"color": "black", "width": 1, "dash": "dash"},
            meta={"model": name, "frontier": True},
        ))
    fig.update_layout(
        template="plotly_white", height=560, margin={"l": 70, "r": 20, "t": 30, "b": 60},
        hoverlabel={"align": "left"}, legend={"title": {"text": "format family"}},
        xaxis={"type": "log", "title": {"text": "compression ratio per vector (float32 bytes / bytes of every tier)"},
               "tickvals": [2**k for k in range(0, 11)], "ticktext": [f"{2**k}×" for k in range(0, 11)]},
        yaxis={"title": {"text": "nDCG@10 change vs float32 (%)"}, "zeroline": True},
    )
    return fig


def _json_for_script(obj: object) -> str:
    """JSON safe inside ``<script type="application/json">`` (no ``<``, so no ``</script>``)."""
    return json.dumps(obj, allow_nan=False, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")


def explorer_html(configs: pd.DataFrame, per_collection: pd.DataFrame | None, profile: str, **options) -> str:
    """The page as one string: plotly.js, the data, the figure and the page's script, all inline."""
    data = page_data(configs, per_collection, profile, **options)
    figure = explorer_figure(configs, data["defaults"]["model"])
    figure_json = json.loads(pio.to_json(figure, validate=True))
    html = (_TEMPLATE.replace("@@PROFILE@@", profile)
            .replace("@@SOURCE@@", data["source"] or f"results/{profile}/")
            .replace("@@WEIGHTING@@", data["weighting"])
            .replace("@@DATA@@", _json_for_script(data))
            .replace("@@FIGURE@@", _json_for_script(figure_json))
            .replace("@@SCRIPT@@", _SCRIPT)
            .replace("@@BOOT@@", _BOOT))
    return html.replace("@@PLOTLYJS@@", packed_plotlyjs())  # last: nothing is substituted inside plotly.js


@cache
def packed_plotlyjs() -> str:
    """plotly.js gzip-compressed (no timestamp: the same bytes every time) and base64-encoded."""
    return base64.b64encode(gzip.compress(get_plotlyjs().encode("utf-8"), compresslevel=9, mtime=0)).decode("ascii")


def write_explorer(configs: pd.DataFrame, per_collection: pd.DataFrame | None, path: Path | str, profile: str,
                   **options) -> Path:
    """Write the explorer page to ``path`` atomically (a temporary file beside it, then renamed)."""
    return write_text_atomic(Path(path), explorer_html(configs, per_collection, profile, **options))


_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Trade-off explorer: profile @@PROFILE@@</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; margin: 1rem 2rem; color: #222; }
h1 { font-size: 1.35rem; margin-bottom: .2rem; }
p.note { color: #555; font-size: .85rem; max-width: 70rem; margin: .3rem 0; }
#controls { display: flex; flex-wrap: wrap; gap: .6rem 2rem; align-items: flex-end; margin: .8rem 0;
            padding: .6rem .8rem; background: #f5f6f8; border-radius: 6px; }
#controls label { display: flex; flex-direction: column; font-size: .85rem; gap: .2rem; }
#controls input[type=text] { width: 9rem; font: inherit; }
#controls input[type=range] { width: 14rem; }
#error { color: #b00020; font-size: .85rem; min-height: 1em; }
#result { margin: .6rem 0; padding: .6rem .8rem; border-left: 4px solid #222; background: #fafafa; }
#choice { font-size: 1.15rem; font-weight: 600; }
#choice-detail, #runners-up, #command { font-size: .85rem; }
#command { font-family: ui-monospace, Menlo, Consolas, monospace; color: #444; }
#runners-up { margin: .3rem 0 0 1.2rem; padding: 0; }
</style>
</head>
<body>
<h1>Which embedding storage fits my budget? Trade-off explorer (profile <code>@@PROFILE@@</code>)</h1>
<p class="note">Every configuration the study scored (storage format &times; reducer &times; kept fraction,
calibration/fit set, rescoring, query format): its nDCG@10 change against the model's float32 vectors, averaged
(@@WEIGHTING@@-weighted) over the same held-out collections for every configuration of a model, against its
measured compression. Pick a model, the number of vectors and a memory budget: what fits keeps its colour, what
does not is grey, and the best configuration that fits is ringed and named below &mdash; the answer
<code>study select</code> gives for the same budget. A two-tier configuration (a compressed first tier rescored
with a second copy) counts both tiers against the RAM budget, unless a disk budget is given: then its first tier
and what is stored once must fit the RAM and its rescoring tier the disk. Marker: &#9679; format alone,
&#9632; after a reducer, &#9670; rescored. Double-click the plot to see the whole y range.
Data: @@SOURCE@@ (this page loads nothing from the network).</p>
<form id="controls" onsubmit="return false">
  <label>model <select id="model"></select></label>
  <label>number of vectors N
    <input id="vectors-slider" type="range" min="0" step="1" aria-label="number of vectors (log scale)">
    <input id="vectors" type="text" spellcheck="false"></label>
  <label>RAM budget
    <input id="ram-slider" type="range" min="0" step="1" aria-label="RAM budget (log scale)">
    <input id="ram" type="text" spellcheck="false"></label>
  <label>disk budget for the rescoring tier (two-tier only)
    <input id="disk-slider" type="range" min="0" step="1" aria-label="disk budget (log scale; leftmost: none)">
    <input id="disk" type="text" spellcheck="false"></label>
  <label><span><input id="yall" type="checkbox"> whole y range</span></label>
  <div id="error" role="alert"></div>
</form>
<section id="result">
  <div>Best choice: <span id="choice"></span></div>
  <div id="choice-detail"></div>
  <ol id="runners-up"></ol>
  <div id="command"></div>
</section>
<div id="tradeoff" style="width:100%;height:560px"></div>
<h2 style="font-size:1.05rem">The chosen configuration, collection by collection</h2>
<div id="collections" style="width:100%;height:380px"></div>
<script type="application/json" id="explorer-data">@@DATA@@</script>
<script type="application/json" id="explorer-figure">@@FIGURE@@</script>
<script type="application/gzip+base64" id="explorer-plotlyjs">@@PLOTLYJS@@</script>
<script type="text/plain" id="explorer-script">@@SCRIPT@@</script>
<script type="text/javascript">@@BOOT@@</script>
</body>
</html>
"""

# Unpacks plotly.js with the browser's DecompressionStream, runs it, then runs the page's logic below.
_BOOT = r"""
(function () {
  "use strict";
  window.PlotlyConfig = {MathJaxConfig: "local"};
  function run(code) { var s = document.createElement("script"); s.text = code; document.body.appendChild(s); }
  var text = atob(document.getElementById("explorer-plotlyjs").textContent.trim());
  var bytes = new Uint8Array(text.length);
  for (var i = 0; i < text.length; i++) { bytes[i] = text.charCodeAt(i); }
  new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"))).text().then(function (js) {
    run(js);
    run(document.getElementById("explorer-script").textContent);
  });
})();
"""

# The page's logic. atScale / fits / rank / choose mirror study.analysis.tradeoff.at_scale / fits / rank / select,
# parseBudget / parseVectors mirror parse_budget / check_n_vectors; tests/test_explorer.py runs both side by side.
_SCRIPT = r"""
(function () {
  "use strict";
  var DATA = JSON.parse(document.getElementById("explorer-data").textContent);
  var FIGURE = JSON.parse(document.getElementById("explorer-figure").textContent);
  var UNITS = {"": 1, "B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
               "KIB": Math.pow(2, 10), "MIB": Math.pow(2, 20), "GIB": Math.pow(2, 30), "TIB": Math.pow(2, 40)};
  var BUDGET_RE = /^\s*([0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z]*)\s*$/;
  var NUMBER_RE = /^\s*[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\s*$/;

  // parse_budget: bytes in "512MiB" (2^20) or "2GB" (10^9); a final lowercase b (bits) is refused; null if invalid
  function parseBudget(value) {
    var m = BUDGET_RE.exec(String(value));
    if (!m) return null;
    var unit = m[2];
    if (unit.slice(-1) === "b") return null;
    var size = UNITS[unit.toUpperCase()];
    if (size === undefined) return null;
    var total = parseFloat(m[1]) * size;
    if (!isFinite(total) || total < 1) return null;
    return Math.floor(total);
  }
  // check_n_vectors: a positive whole number of vectors ("1e7", "10_000_000", "10,000,000"); null if invalid
  function parseVectors(value) {
    var text = String(value).replace(/_/g, "").replace(/,/g, "");
    if (!NUMBER_RE.test(text)) return null;
    var n = Number(text);
    if (!isFinite(n) || n < 1 || n !== Math.floor(n)) return null;
    return n;
  }
  function g3(x) { return String(Number(x.toPrecision(3))); }
  // format_bytes: "480 MB (458 MiB)"
  function formatBytes(n) {
    if (n < 1000) return Math.round(n).toLocaleString("en-US") + " B";
    var dec = [["TB", 1e12], ["GB", 1e9], ["MB", 1e6], ["kB", 1e3]].find(function (u) { return n >= u[1]; });
    var bin = [["TiB", Math.pow(2, 40)], ["GiB", Math.pow(2, 30)], ["MiB", Math.pow(2, 20)], ["KiB", 1024]]
      .find(function (u) { return n >= u[1]; });
    var exact = bin ? g3(n / bin[1]) + " " + bin[0] : Math.round(n).toLocaleString("en-US") + " B";
    return g3(n / dec[1]) + " " + dec[0] + " (" + exact + ")";
  }
  // format_budget: "512 MiB" or "2 GB" when exact, else formatBytes
  function formatBudget(n) {
    var best = null;
    [["TiB", Math.pow(2, 40)], ["GiB", Math.pow(2, 30)], ["MiB", Math.pow(2, 20)], ["KiB", 1024],
     ["TB", 1e12], ["GB", 1e9], ["MB", 1e6], ["kB", 1e3]].forEach(function (u) {
      if (n >= u[1] && n % u[1] === 0) {
        var c = n / u[1];
        if (best === null || c < best[0] || (c === best[0] && u[0] < best[1])) best = [c, u[0]];
      }
    });
    return best === null ? formatBytes(n) : best[0] + " " + best[1];
  }
  // at_scale: storage of N vectors, every tier counted, and its RAM and disk parts
  function atScale(rows, n) {
    return rows.map(function (r) {
      return Object.assign({}, r, {
        total_bytes: n * r.bytes_per_vector + r.overhead_bytes,
        ram_bytes: n * r.tier1_bytes_per_vector + r.overhead_bytes,
        disk_bytes: n * r.tier2_bytes_per_vector
      });
    });
  }
  // fits: without a disk budget everything in RAM; with one, first tier + stored once in RAM, rescoring tier on disk
  function fits(r, ram, disk) {
    if (disk === null || disk === undefined) return r.total_bytes <= ram;
    return r.ram_bytes <= ram && r.disk_bytes <= disk;
  }
  function byLabel(a, b) { return a.label < b.label ? -1 : (a.label > b.label ? 1 : 0); }
  // rank: highest change, then smallest total, then label (pandas sorts NaN last)
  function rankOrder(a, b) {
    var ca = a.change_pct, cb = b.change_pct;
    if (ca === null || cb === null) {
      if (ca !== cb) return ca === null ? 1 : -1;
    } else if (ca !== cb) {
      return cb - ca;
    }
    if (a.total_bytes !== b.total_bytes) return a.total_bytes - b.total_bytes;
    return byLabel(a, b);
  }
  // pareto_mask: no other point has cost <= and quality >= (one strictly); ties on both all kept, null never
  function paretoMask(rows, cost, quality) {
    var keep = rows.map(function () { return false; });
    var order = rows.map(function (r, i) { return i; })
      .filter(function (i) { return rows[i][quality] !== null; })
      .sort(function (a, b) {
        var ca = rows[a][cost], cb = rows[b][cost];
        return ca !== cb ? ca - cb : rows[b][quality] - rows[a][quality];
      });
    var best = -Infinity, i = 0;
    while (i < order.length) {
      var j = i;
      while (j < order.length && rows[order[j]][cost] === rows[order[i]][cost]) j += 1;
      var top = rows[order[i]][quality];
      if (top > best) {
        for (var k = i; k < j; k += 1) keep[order[k]] = rows[order[k]][quality] === top;
        best = top;
      }
      i = j;
    }
    return keep;
  }
  // study select's rule (tradeoff.choose, tradeoff.frontier_mask), where the page has each pair's relation:
  // relations[i][j] = "2" i significantly better than j, "1" not significantly worse, "0" significantly worse or
  // no CI; without relations, point estimates (pareto_mask, rank)
  function relation(model, i, j) { return DATA.models[model].relations[i].charAt(j); }
  function cheapestOrder(a, b) {
    if (a.total_bytes !== b.total_bytes) return a.total_bytes - b.total_bytes;
    var ca = a.change_pct, cb = b.change_pct;
    if (ca === null || cb === null) {
      if (ca !== cb) return ca === null ? 1 : -1;
    } else if (ca !== cb) {
      return cb - ca;
    }
    return byLabel(a, b);
  }
  function argmaxChange(rows, idx) {
    var best = idx[0];
    idx.forEach(function (i) { if (rows[i].change_pct > rows[best].change_pct) best = i; });
    return best;
  }
  function frontierMask(model, rows, cost) {
    if (!DATA.models[model].relations) return paretoMask(rows, cost, "change_pct");
    var keep = rows.map(function () { return false; });
    var valid = rows.map(function (r, i) { return i; })
      .filter(function (i) { return rows[i].change_pct !== null && rows[i][cost] !== null; });
    var levels = valid.map(function (i) { return rows[i][cost]; })
      .filter(function (v, k, all) { return all.indexOf(v) === k; }).sort(function (a, b) { return a - b; });
    var cheaper = null;
    levels.forEach(function (level) {
      var here = valid.filter(function (i) { return rows[i][cost] === level; });
      if (cheaper === null) {
        keep[argmaxChange(rows, here)] = true;
      } else {
        var up = here.filter(function (i) { return relation(model, rows[i].id, rows[cheaper].id) === "2"; });
        if (up.length) keep[argmaxChange(rows, up)] = true;
      }
      var top = argmaxChange(rows, here);
      if (cheaper === null || rows[top].change_pct > rows[cheaper].change_pct) cheaper = top;
    });
    return keep;
  }
  // select: the cheapest configuration of `model` that fits and is not significantly worse than the best that fits
  // (with relations; else the best), the rest it could not tell apart ranked, and (nothing fits) the smallest
  function choose(model, n, ram, disk) {
    var rows = atScale(DATA.models[model].configs, n);
    var front = frontierMask(model, rows, "total_bytes");  // at_scale's frontier, on total bytes at N
    rows.forEach(function (r, i) { r.on_frontier_at_n = front[i]; });
    var fitting = rows.filter(function (r) { return fits(r, ram, disk); });
    var result = {model: model, n_vectors: n, ram: ram, disk: disk === undefined ? null : disk, rows: rows,
                  fitting: fitting, n_fitting: fitting.length, n_configurations: rows.length,
                  best: null, top: null, ranked: [], smallest: null, n_tied: 0, needed: null,
                  tested: !!DATA.models[model].relations};
    var column = result.disk === null ? "total_bytes" : "ram_bytes";
    if (fitting.length) {
      var ranked = fitting.slice().sort(rankOrder);
      result.top = ranked[0];
      var tied = result.tested ? ranked.filter(function (r, k) {
        return k === 0 || relation(model, r.id, ranked[0].id) !== "0"; }) : ranked.slice(0, 1);
      tied.sort(cheapestOrder);
      result.best = tied[0];
      result.n_tied = tied.length;
      var rest = result.tested ? tied.slice(1) : ranked.slice(1);
      result.ranked = [result.best].concat(rest.sort(rankOrder));
      if (-result.best.change_pct > DATA.max_loss) {
        result.needed = rows.filter(function (r) { return r.change_pct !== null && -r.change_pct <= DATA.max_loss; })
          .sort(function (a, b) {
            if (a[column] !== b[column]) return a[column] - b[column];
            return a.change_pct !== b.change_pct ? b.change_pct - a.change_pct : byLabel(a, b);
          })[0] || null;
      }
    } else {
      result.smallest = rows.slice().sort(function (a, b) {
        return a[column] !== b[column] ? a[column] - b[column] : byLabel(a, b);
      })[0];
    }
    return result;
  }

  var state = {model: DATA.defaults.model, n: DATA.defaults.n_vectors, ram: DATA.defaults.ram,
               disk: DATA.defaults.disk, yall: false};
  var api = {parseBudget: parseBudget, parseVectors: parseVectors, formatBytes: formatBytes,
             formatBudget: formatBudget, choose: function (m, n, r, d) {
               var c = choose(m, n, r, d === undefined ? null : d);
               return c.best ? c.best.label : null;
             }, select: function (m, n, r, d) {
               var c = choose(m, n, r, d === undefined ? null : d);
               return {best: c.best ? c.best.label : null, n_fitting: c.n_fitting,
                       runners_up: c.ranked.slice(1, 6).map(function (x) { return [x.label, x.on_frontier_at_n]; }),
                       smallest: c.smallest ? c.smallest.label : null, top: c.top ? c.top.label : null,
                       n_tied: c.n_tied, needed: c.needed ? c.needed.label : null};
             }, state: state, ready: false, updates: 0, choice: null, data: DATA};
  window.explorer = api;

  function el(id) { return document.getElementById(id); }
  function pct(x) { return x === null ? "n/a" : (x >= 0 ? "+" : "") + x.toFixed(2) + " %"; }
  function ci(r) { return r.ci_low === null || r.ci_high === null ? "no CI" :
                   "95 % CI [" + pct(r.ci_low) + ", " + pct(r.ci_high) + "]"; }
  function nearest(stops, value) {
    var best = 0;
    stops.forEach(function (s, i) {
      if (Math.abs(Math.log(s) - Math.log(value)) < Math.abs(Math.log(stops[best]) - Math.log(value))) best = i;
    });
    return best;
  }
  function text(node, value) { node.textContent = value; }

  function renderChoice(c) {
    var detail = el("choice-detail"), list = el("runners-up");
    list.innerHTML = "";
    var where = "RAM " + formatBytes(c.ram) + (c.disk === null ? "" : " + disk " + formatBytes(c.disk));
    var head = "Budget " + where + " for " + c.n_vectors.toLocaleString("en-US") + " vectors of " + c.model + ": " +
               c.n_fitting + " of " + c.n_configurations + " configurations fit.";
    if (!c.best) {
      var s = c.smallest, col = c.disk === null ? "total_bytes" : "ram_bytes";
      text(el("choice"), "nothing fits");
      text(detail, head + " The smallest is " + s.label + " at " + formatBytes(s[col]) + " (" +
           s.bytes_per_vector + " B/vector + " + s.overhead_bytes.toLocaleString("en-US") + " B overhead).");
      api.choice = null;
      return;
    }
    var b = c.best;
    text(el("choice"), b.label);
    api.choice = b.label;
    var lines = [head,
      "storage " + formatBytes(b.total_bytes) + " = " + c.n_vectors.toLocaleString("en-US") + " × " +
        b.bytes_per_vector + " B/vector + " + b.overhead_bytes.toLocaleString("en-US") + " B stored once; " +
        "compression " + g3(b.compression_ratio) + "×"];
    if (b.tier2_bytes_per_vector > 0) {
      lines.push("tiers: RAM " + formatBytes(b.ram_bytes) + " (" + b.tier1_bytes_per_vector + " B/vector searched " +
                 "+ what is stored once), rescoring tier " + formatBytes(b.disk_bytes) + " (" +
                 b.tier2_bytes_per_vector + " B/vector" + (c.disk === null ? ")" : ", on disk)"));
    }
    lines.push("expected nDCG@10 " + b.expected.toFixed(4) + " (" + pct(b.change_pct) + " vs float32, " + ci(b) +
               "; " + b.n_datasets + " collections, " + DATA.weighting + "-weighted)");
    if (!c.tested) {
      lines.push("(no per-query scores: differences were not tested; ranked by point estimate)");
    } else if (c.top.label !== b.label) {
      lines.push("why: the cheapest of " + c.n_tied + " that fit and are not significantly worse than the best " +
                 "point estimate, " + c.top.label + " (" + pct(c.top.change_pct) + ")");
    }
    if (c.needed !== null) {
      var col = c.disk === null ? "total_bytes" : "ram_bytes";
      lines.splice(1, 0, "Nothing in this budget is good enough: the best that fits loses " +
                   (-b.change_pct).toFixed(2) + " % (floor: " + DATA.max_loss + " %). Clearing the floor needs " +
                   formatBytes(c.needed[col]) + ": " + c.needed.label + " (" + pct(c.needed.change_pct) + ").");
    }
    detail.innerHTML = "";
    lines.forEach(function (line) {
      var d = document.createElement("div");
      d.textContent = line;
      detail.appendChild(d);
    });
    c.ranked.slice(1, 6).forEach(function (r) {
      var li = document.createElement("li");
      li.textContent = r.label + ": " + formatBytes(r.total_bytes) + ", " + pct(r.change_pct) +
                       (r.on_frontier_at_n ? "" : " (dominated)");
      list.appendChild(li);
    });
  }

  function renderCommand() {
    var arg = function (n) {
      var f = formatBudget(n);
      return /^[0-9]+ [A-Za-z]+$/.test(f) ? f.replace(" ", "") : String(n);
    };
    text(el("command"), "same as: study select --ram " + arg(state.ram) +
         (state.disk === null ? "" : " --disk " + arg(state.disk)) +
         " --vectors " + state.n + " --model " + state.model + " --profile " + DATA.profile +
         (DATA.weighting === "texts" ? "" : " --weighting " + DATA.weighting));
  }

  function yRange(rows, best) {
    var ys = rows.map(function (r) { return r.change_pct; }).filter(function (y) { return y !== null; });
    var hi = Math.max.apply(null, ys.concat([0])), lo = Math.min.apply(null, ys);
    if (!state.yall) lo = Math.max(lo, -50);
    if (best && best.change_pct !== null) lo = Math.min(lo, best.change_pct);
    var pad = Math.max(1, 0.05 * (hi - lo));
    return [lo - pad, hi + pad];
  }

  function renderPlot(c) {
    var gd = el("tradeoff");
    var fitIds = {};
    c.fitting.forEach(function (r) { fitIds[r.id] = true; });
    var bestId = c.best ? c.best.id : -1;
    var idx = [], visible = [], markerTraces = [], chosen = [], sizes = [], lineW = [], lineC = [];
    gd.data.forEach(function (t, i) {
      idx.push(i);
      visible.push(t.meta.model === state.model);
      if (t.meta.frontier) return;
      markerTraces.push(i);
      var ids = t.meta.ids;
      chosen.push(ids.map(function (id, k) { return fitIds[id] ? k : -1; }).filter(function (k) { return k >= 0; }));
      sizes.push(ids.map(function (id) { return id === bestId ? 20 : 9; }));
      lineW.push(ids.map(function (id) { return id === bestId ? 3 : 0.5; }));
      lineC.push(ids.map(function (id) { return id === bestId ? "#111" : "white"; }));
    });
    var annotations = c.best ? [{x: Math.log10(c.best.compression_ratio), y: c.best.change_pct, xref: "x", yref: "y",
      text: "<b>" + c.best.label.replace(/</g, "&lt;") + "</b>", showarrow: true, arrowhead: 2, ax: 40, ay: -40,
      bgcolor: "rgba(255,255,255,0.85)", bordercolor: "#111", font: {size: 12}}] : [];
    Plotly.restyle(gd, {visible: visible}, idx);
    Plotly.restyle(gd, {selectedpoints: chosen, "marker.size": sizes, "marker.line.width": lineW,
                        "marker.line.color": lineC}, markerTraces);
    Plotly.relayout(gd, {annotations: annotations, "yaxis.autorange": false, "yaxis.range": yRange(c.rows, c.best),
                         "title.text": state.model + ": " + c.n_fitting + " of " + c.n_configurations +
                                       " configurations fit (" + DATA.models[state.model].n_datasets +
                                       " held-out collections)"});
  }

  function renderCollections(c) {
    var gd = el("collections");
    if (!c.best) {
      Plotly.react(gd, [], {template: FIGURE.layout.template, title: {text: "nothing fits this budget"},
                            xaxis: {visible: false}, yaxis: {visible: false}});
      return;
    }
    var b = c.best, rows = b.per_collection;
    var colour = DATA.colours[b.format_family];
    var trace = {type: "bar", x: rows.map(function (r) { return r[0]; }), y: rows.map(function (r) { return r[1]; }),
      marker: {color: colour}, name: b.label,
      error_y: {type: "data", symmetric: false, visible: true, color: "#333",
                array: rows.map(function (r) { return r[2] === null ? 0 : r[3] - r[1]; }),
                arrayminus: rows.map(function (r) { return r[2] === null ? 0 : r[1] - r[2]; })},
      hovertext: rows.map(function (r) {
        return "<b>" + r[0] + "</b><br>change " + pct(r[1]) + (r[2] === null ? " (no CI)" :
               " (95 % CI [" + pct(r[2]) + ", " + pct(r[3]) + "])") + "<br>nDCG@10 " +
               (r[4] === null ? "n/a" : r[4].toFixed(4)) + " vs float32 " + (r[5] === null ? "n/a" : r[5].toFixed(4)) +
               "<br>" + (r[6] === null ? "" : r[6].toLocaleString("en-US") + " texts");
      }), hoverinfo: "text"};
    var layout = {template: FIGURE.layout.template, margin: {l: 70, r: 20, t: 40, b: 90}, showlegend: false,
      title: {text: b.label.replace(/</g, "&lt;") + ": change per collection (the " + rows.length +
                    " it was averaged over; dashed: " + DATA.weighting + "-weighted mean " + pct(b.change_pct) + ")",
              font: {size: 13}},
      yaxis: {title: {text: "nDCG@10 change vs float32 (%)"}, zeroline: true},
      xaxis: {tickangle: -35},
      shapes: b.change_pct === null ? [] : [{type: "line", xref: "paper", x0: 0, x1: 1, y0: b.change_pct,
                                            y1: b.change_pct, line: {dash: "dash", color: "#111", width: 1}}]};
    Plotly.react(gd, [trace], layout, {displaylogo: false, responsive: true});
  }

  function update() {
    var c = choose(state.model, state.n, state.ram, state.disk);
    renderChoice(c);
    renderCommand();
    renderPlot(c);
    renderCollections(c);
    api.last = {n_fitting: c.n_fitting, best: c.best ? c.best.label : null, best_id: c.best ? c.best.id : null};
    api.updates += 1;
  }

  function error(message) { text(el("error"), message); }

  function setUp() {
    var select = el("model");
    DATA.model_order.forEach(function (m) {
      var o = document.createElement("option");
      o.value = m; o.textContent = m + " (" + DATA.models[m].configs.length + " configurations)";
      select.appendChild(o);
    });
    select.value = state.model;
    select.addEventListener("change", function () { state.model = select.value; update(); });

    function control(name, stops, withNone, parse, show, key) {
      var slider = el(name + "-slider"), box = el(name);
      var offset = withNone ? 1 : 0;
      slider.max = String(stops.length - 1 + offset);
      function sync() {
        box.value = state[key] === null ? "none" : show(state[key]);
        slider.value = String(state[key] === null ? 0 : nearest(stops, state[key]) + offset);
      }
      slider.addEventListener("input", function () {
        var i = Number(slider.value) - offset;
        state[key] = i < 0 ? null : stops[i];
        box.value = state[key] === null ? "none" : show(state[key]);
        error("");
        update();
      });
      box.addEventListener("change", function () {
        var raw = box.value.trim();
        if (withNone && (raw === "" || raw.toLowerCase() === "none")) {
          state[key] = null;
        } else {
          var v = parse(raw);
          if (v === null) {
            error(name + ": invalid value '" + raw + "'; allowed: " +
                  (key === "n" ? "a positive whole number of vectors, e.g. 10000000 or 1e7" : DATA.budget_help));
            return;
          }
          state[key] = v;
        }
        error("");
        sync();
        update();
      });
      sync();
    }
    control("vectors", DATA.stops.vectors, false, parseVectors, function (n) { return String(n); }, "n");
    control("ram", DATA.stops.ram, false, parseBudget, formatBudget, "ram");
    control("disk", DATA.stops.disk, true, parseBudget, formatBudget, "disk");
    el("yall").addEventListener("change", function () { state.yall = el("yall").checked; update(); });
  }

  Plotly.newPlot("tradeoff", FIGURE.data, FIGURE.layout, {displaylogo: false, responsive: true}).then(function () {
    setUp();
    update();
    api.ready = true;
  });
})();
"""
