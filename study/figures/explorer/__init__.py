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
    DEFAULT_MARGIN,
    DEFAULT_MAX_LOSS,
    KINDS,
    Draws,
    check_margin,
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
METRIC_LABEL = "nDCG@10"  # the quality compared, as the page names it (``study advise``: recall@10 without labels)
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


def hover_text(row: dict, metric_label: str = METRIC_LABEL) -> str:
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
            f"{metric_label} change {_pct(row['change_pct'])} ({ci})<br>"
            f"expected {metric_label} {row['expected']:.4f}<br>"
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
              draws: Draws | None = None, max_loss: float = DEFAULT_MAX_LOSS, metric_label: str = METRIC_LABEL,
              command: str | None = None, margin: float = DEFAULT_MARGIN) -> dict:
    """Everything the page's JavaScript reads: per model its configurations (``configurations``' rows, in its
    order, each with an ``id``), the per-collection values behind each (``per_collection``: rows of
    ``tradeoff.configuration_rows``, ``config`` naming the row of ``configs``) and, with ``draws`` (columns =
    ``configs``' index), how each pair compares (``Draws.relations``, with ``margin``: the page then chooses and
    draws the frontier by ``study select``'s rule); the defaults of the controls, the quality floor, the slider stops,
    ``parse_budget``'s help text, the name of the quality measure and the command the page's choice equals (``None``:
    ``study select`` on the profile; ``study advise`` gives its own)."""
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
                     "relations": draws.relations(mine.index.to_numpy(), margin) if draws is not None else None}
    return {
        "profile": profile, "weighting": weighting, "source": source, "models": out, "model_order": models,
        "colours": colours, "grey": GREY,
        "defaults": {"model": model, "n_vectors": check_n_vectors(n_vectors),
                     "ram": parse_budget(ram, "ram"), "disk": None if disk is None else parse_budget(disk, "disk")},
        "stops": {"vectors": VECTOR_STOPS, "ram": RAM_STOPS, "disk": DISK_STOPS},
        "budget_help": BUDGET_HELP, "max_loss": check_max_loss(max_loss), "margin": check_margin(margin),
        "metric_label": metric_label,
        "command": command,
    }


def explorer_figure(configs: pd.DataFrame, model: str | None = None, metric_label: str = METRIC_LABEL) -> go.Figure:
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
                legendgroup=family, visible=name == model, hovertext=[hover_text(r, metric_label) for r in records],
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
        yaxis={"title": {"text": f"{metric_label} change vs float32 (%)"}, "zeroline": True},
    )
    return fig


def _json_for_script(obj: object) -> str:
    """JSON safe inside ``<script type="application/json">`` (no ``<``, so no ``</script>``)."""
    return json.dumps(obj, allow_nan=False, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")


def explorer_html(configs: pd.DataFrame, per_collection: pd.DataFrame | None, profile: str, **options) -> str:
    """The page as one string: plotly.js, the data, the figure and the page's script, all inline."""
    data = page_data(configs, per_collection, profile, **options)
    figure = explorer_figure(configs, data["defaults"]["model"], data["metric_label"])
    figure_json = json.loads(pio.to_json(figure, validate=True))
    html = (asset("page.html").replace("@@PROFILE@@", profile)
            .replace("@@SOURCE@@", data["source"] or f"results/{profile}/")
            .replace("@@WEIGHTING@@", data["weighting"])
            .replace("@@METRIC@@", data["metric_label"])
            .replace("@@DATA@@", _json_for_script(data))
            .replace("@@FIGURE@@", _json_for_script(figure_json))
            .replace("@@SCRIPT@@", asset("explorer.js"))
            .replace("@@BOOT@@", asset("boot.js")))
    return html.replace("@@PLOTLYJS@@", packed_plotlyjs())  # last: nothing is substituted inside plotly.js


@cache
def packed_plotlyjs() -> str:
    """plotly.js gzip-compressed (no timestamp: the same bytes every time) and base64-encoded."""
    return base64.b64encode(gzip.compress(get_plotlyjs().encode("utf-8"), compresslevel=9, mtime=0)).decode("ascii")


def write_explorer(configs: pd.DataFrame, per_collection: pd.DataFrame | None, path: Path | str, profile: str,
                   **options) -> Path:
    """Write the explorer page to ``path`` atomically (a temporary file beside it, then renamed)."""
    return write_text_atomic(Path(path), explorer_html(configs, per_collection, profile, **options))



ASSETS = Path(__file__).parent
"""The page (``page.html``, with ``@@NAME@@`` slots), the script that unpacks plotly.js (``boot.js``) and the page's
logic (``explorer.js``): package data, linted as what they are (``tests/test_explorer.py``)."""
ASSET_FILES = ("page.html", "boot.js", "explorer.js")


@cache
def asset(name: str) -> str:
    """The text of one of the page's files (``ASSET_FILES``)."""
    return (ASSETS / name).read_text(encoding="utf-8")

