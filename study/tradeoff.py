"""The performance–storage trade-off: configurations, Pareto frontier, memory budgets, ``select``.

A *configuration* of a model is everything that changes what is stored (format × reducer ×
fraction, and the calibration / fit sets, rescoring and query format when a stage varies them).
Its quality is the nDCG@10 change against the model's float32, unreduced baseline **on the same
collections** (so stages run on fewer collections stay comparable); its storage is measured:
``total_bytes(N) = N × bytes_per_vector + overhead_bytes`` (reducer matrix and mean, int8 ranges,
scales: what the tidy column ``overhead_bytes`` reports), i.e. the overhead amortised over N.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import ParameterError, StudyError
from .report import WEIGHTINGS, output_dirs

NONE = "none"
BASELINE = {"format": "float32", "reducer": NONE, "fraction": 1.0}
# Columns that identify a configuration of a model (optional ones are used when a stage writes them).
KEY = ["reducer", "fraction", "fit_on", "format", "calibrate_on", "rescore", "query_format"]
OPTIONAL_KEY = ["index"]
KEY_DEFAULTS = {"reducer": NONE, "fraction": 1.0, "fit_on": NONE, "calibrate_on": NONE, "rescore": NONE,
                "query_format": "same", "index": NONE}
TIDY_REQUIRED = {"model", "dataset", "format", "metric", "value", "bytes_per_vector"}

# --- memory budgets ---------------------------------------------------------------------------

_UNITS = {"": 1, "B": 1,
          "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
          "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}
_BUDGET_RE = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z]*)\s*$")
BUDGET_HELP = ("a positive size in bytes: a number with an optional unit B, kB/MB/GB/TB (powers of 1000) "
               "or KiB/MiB/GiB/TiB (powers of 1024), e.g. '512MiB', '2GB', '1.5 GiB'")


def parse_budget(value: str | int | float, name: str = "budget") -> int:
    """Bytes in a budget such as ``512MiB`` (2^20-byte units) or ``2GB`` (10^9-byte units).

    A lowercase final ``b`` (``Gb``, ``mb``) means *bits* by convention and is refused rather
    than guessed; ``kB`` and ``KB`` both mean 1000 bytes (write ``KiB`` for 1024). Fractions of a
    byte are rounded down; the result must be at least one byte.
    """
    if isinstance(value, bool):
        raise ParameterError(name, value, BUDGET_HELP)
    if isinstance(value, int | float | np.integer | np.floating):
        number, unit = float(value), ""
    else:
        match = _BUDGET_RE.match(str(value))
        if not match:
            raise ParameterError(name, value, BUDGET_HELP)
        number, unit = float(match.group(1)), match.group(2)
        if unit.endswith("b"):
            raise ParameterError(name, value, "a size in bytes ('b' means bits: write B, e.g. '2GB' or '512MiB')")
        if unit.upper() not in _UNITS:
            raise ParameterError(name, value, BUDGET_HELP)
    total = number * _UNITS[unit.upper()]
    if not math.isfinite(total) or total < 1:
        raise ParameterError(name, value, BUDGET_HELP)
    return int(total)


def format_bytes(n: float) -> str:
    """``3.84 GB (3.58 GiB)``: decimal and binary units together, so neither is mistaken."""
    if n < 1000:
        return f"{n:,.0f} B"
    dec = next((u, s) for u, s in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)) if n >= s)
    binary = next(((u, s) for u, s in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10))
                   if n >= s), None)
    exact = f"{n / binary[1]:.3g} {binary[0]}" if binary else f"{n:,.0f} B"
    return f"{n / dec[1]:.3g} {dec[0]} ({exact})"


def format_budget(n: int) -> str:
    """A budget as it was most likely written: ``64 MiB`` or ``2 GB`` when exact, else ``format_bytes``."""
    exact = [(n // size, unit) for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10),
                                                  ("TB", 10**12), ("GB", 10**9), ("MB", 10**6), ("kB", 10**3))
             if n >= size and n % size == 0]
    if not exact:
        return format_bytes(n)
    count, unit = min(exact)
    return f"{count} {unit}"


def parse_budgets(budgets: dict[str, str | int]) -> dict[str, int]:
    """Named budgets (``{"phone": "512MiB"}``) in bytes, validated; order kept."""
    if not isinstance(budgets, dict) or not budgets:
        raise ParameterError("budgets", budgets, "a non-empty mapping {label: size}, e.g. {'laptop': '4GiB'}")
    return {str(label): parse_budget(size, f"budgets[{label!r}]") for label, size in budgets.items()}


def check_n_vectors(value: object, name: str = "n_vectors") -> int:
    """A corpus size: a positive whole number (``10000000``, ``1e7``, ``"10_000_000"``)."""
    try:
        number = float(str(value).replace("_", "").replace(",", "")) if not isinstance(value, bool) else -1.0
    except ValueError:
        number = -1.0
    if not math.isfinite(number) or number < 1 or number != int(number):
        raise ParameterError(name, value, "a positive whole number of vectors, e.g. 10000000 or 1e7")
    return int(number)


# --- tidy results → configurations ---------------------------------------------------------------


def result_files(profile: str) -> list[Path]:
    """The profile's tidy result tables: ``results/<profile>/0*-*.csv`` (per-query files are parquet)."""
    folder = output_dirs(profile)["results"]
    return sorted(p for p in folder.glob("0*-*.csv") if "per-query" not in p.name)


def load_tidy(profile: str) -> tuple[pd.DataFrame, list[Path]]:
    """Concatenate every tidy result file of a profile that exists; files without the tidy columns
    are skipped. Raises ``StudyError`` when there is none."""
    used, frames = [], []
    for path in result_files(profile):
        frame = pd.read_csv(path)
        if set(frame.columns) >= TIDY_REQUIRED:
            frames.append(frame)
            used.append(path)
    if not frames:
        folder = output_dirs(profile)["results"]
        raise StudyError(f"no tidy results under {folder}: run the study first (make study PROFILE={profile})")
    return pd.concat(frames, ignore_index=True), used


def _key_columns(tidy: pd.DataFrame) -> list[str]:
    return KEY + [c for c in OPTIONAL_KEY if c in tidy.columns]


def _normalise_keys(tidy: pd.DataFrame) -> pd.DataFrame:
    tidy = tidy.copy()
    for col in _key_columns(tidy):
        if col in KEY_DEFAULTS:
            tidy[col] = tidy[col].fillna(KEY_DEFAULTS[col]) if col in tidy.columns else KEY_DEFAULTS[col]
    tidy["fraction"] = tidy["fraction"].astype(float).round(6)
    if "overhead_bytes" not in tidy.columns:
        tidy["overhead_bytes"] = 0
    if "n_texts" not in tidy.columns:
        tidy["n_texts"] = tidy.get("n_docs", 1)
    return tidy


def label(row: pd.Series | dict) -> str:
    """A short, unique name of a configuration: ``float8_e4m3 + pca 50%`` and its non-default parts."""
    get = row.get if isinstance(row, dict) else row.get
    text = str(get("format"))
    if get("reducer", NONE) != NONE:
        text += f" + {get('reducer')} {100 * float(get('fraction', 1.0)):g}%"
        if get("fit_on", NONE) not in (NONE, "self"):
            text += f" (fit {get('fit_on')})"
    if get("calibrate_on", NONE) not in (NONE, "self") and get("format") != "float32":
        text += f" [cal {get('calibrate_on')}]"
    if get("rescore", NONE) != NONE:
        text += f" → rescore {get('rescore')}"
    if get("query_format", "same") != "same":
        text += f" (queries {get('query_format')})"
    if get("index", NONE) != NONE:
        text += f" @ {get('index')}"
    return text


KINDS = (("float32", "float32"), ("float16", "16-bit float"), ("bfloat16", "16-bit float"), ("float8", "float8"),
         ("int8", "int8"), ("int4", "int4"), ("float4", "float4"), ("binary", "binary"))


def kind(fmt: str) -> str:
    """The number format a storage format belongs to (``float8_e4m3_scaled`` → ``float8``)."""
    return next((name for prefix, name in KINDS if str(fmt).startswith(prefix)), str(fmt))


def family(row: pd.Series | dict) -> str:
    """The kind of configuration the paper's Pareto advice (claim 4) speaks of: ``float8 + pca``, ``binary``..."""
    base = kind(row["format"])
    if row.get("rescore", NONE) != NONE:
        return f"{base} + rescoring"
    return base if row["reducer"] == NONE else f"{base} + {row['reducer']}"


def configurations(tidy: pd.DataFrame, metric: str = "ndcg_at_10", weighting: str = "texts") -> pd.DataFrame:
    """One row per model × configuration with its quality and measured storage.

    ``value`` is the mean of ``metric`` over the collections the configuration was run on
    (weighted by texts, the paper's choice, or unweighted); ``baseline`` is the float32,
    unreduced mean over *the same* collections and ``change_pct`` the relative change;
    ``expected`` rescales the change to the model's baseline over all its collections (equal to
    ``value`` when a configuration covers them all). A configuration found in several stage
    files is counted once (the first file in stage order).
    """
    if weighting not in WEIGHTINGS:
        raise ParameterError("weighting", weighting, WEIGHTINGS)
    if "metric" not in tidy.columns or metric not in set(tidy.metric):
        raise ParameterError("metric", metric, sorted(set(tidy.get("metric", []))))
    rows = _normalise_keys(tidy[tidy.metric == metric])
    keys = _key_columns(rows)
    rows = rows.drop_duplicates(["model", "dataset", *keys], keep="first")
    rows["weight"] = rows.n_texts.astype(float) if weighting == "texts" else 1.0

    is_base = np.ones(len(rows), bool)
    for col, val in BASELINE.items():
        is_base &= (rows[col] == val).to_numpy()
    base = rows[is_base].drop_duplicates(["model", "dataset"]).set_index(["model", "dataset"]).value
    missing = sorted(set(rows.model) - set(base.index.get_level_values(0)))
    if missing:
        raise StudyError(f"no float32 unreduced baseline for {', '.join(missing)} in the results: run stage 02 first")
    rows = rows.copy()
    rows["baseline"] = [base.get((m, d), np.nan) for m, d in zip(rows.model, rows.dataset)]
    rows = rows[rows.baseline.notna()]
    rows["wv"], rows["wb"] = rows.weight * rows.value, rows.weight * rows.baseline
    rows["second_tier"] = rows["rescore_bytes_per_vector"].fillna(0) if "rescore_bytes_per_vector" in rows else 0.0
    grouped = rows.groupby(["model", *keys], sort=False, dropna=False)
    out = grouped.agg(
        wv=("wv", "sum"), wb=("wb", "sum"), w=("weight", "sum"),
        bytes_per_vector=("bytes_per_vector", "max"), overhead_bytes=("overhead_bytes", "max"),
        second_tier_bytes_per_vector=("second_tier", "max"),
        n_datasets=("dataset", "nunique"),
    ).reset_index()
    out["value"] = out.wv / out.w
    out["baseline"] = out.wb / out.w
    out["change_pct"] = 100 * (out.value / out.baseline - 1)
    out["loss_pct"] = -out.change_pct
    model_base = rows[(rows.format == "float32") & (rows.reducer == NONE) & (rows.fraction == 1.0)]
    full = model_base.groupby("model").apply(lambda f: np.average(f.value, weights=f.weight), include_groups=False)
    out["expected"] = out.model.map(full) * (1 + out.change_pct / 100)
    base_bytes = out[(out.format == "float32") & (out.reducer == NONE) & (out.fraction == 1.0)]
    float32_bytes = out.model.map(base_bytes.groupby("model").bytes_per_vector.first())
    out["compression_ratio"] = float32_bytes / out.bytes_per_vector
    out["label"] = [label(r) for r in out.to_dict("records")]
    out["family"] = [family(r) for r in out.to_dict("records")]
    out["kind"] = [kind(f) + (" + rescoring" if r != NONE else "") for f, r in zip(out.format, out.rescore)]
    out["weighting"] = weighting
    out = out.drop(columns=["wv", "wb", "w"])
    out["on_frontier"] = pareto_mask_by(out, "bytes_per_vector", "change_pct")
    return out.sort_values(["model", "bytes_per_vector", "change_pct"], ascending=[True, True, False],
                           ignore_index=True)


# --- Pareto frontier ---------------------------------------------------------------------------------


def pareto_mask(cost: np.ndarray | pd.Series, quality: np.ndarray | pd.Series) -> np.ndarray:
    """True for the points no other point dominates (cost ≤ and quality ≥, one of them strictly).

    Points tied on both cost and quality are all kept; a point with NaN quality never is.
    Hand-written because the 2-D case is a sort and one sweep (O(n log n)); the libraries
    (e.g. ``paretoset``) add a dependency for these few lines.
    """
    cost = np.asarray(cost, dtype=float)
    quality = np.asarray(quality, dtype=float)
    if cost.shape != quality.shape:
        raise ValueError("cost and quality must have the same length")
    keep = np.zeros(len(cost), dtype=bool)
    valid = np.flatnonzero(~np.isnan(quality) & ~np.isnan(cost))
    order = valid[np.lexsort((-quality[valid], cost[valid]))]
    best = -np.inf
    i = 0
    while i < len(order):
        j = i
        while j < len(order) and cost[order[j]] == cost[order[i]]:
            j += 1
        top = quality[order[i]]  # the best quality at this cost (sorted descending within the cost)
        if top > best:
            for k in order[i:j]:
                keep[k] = quality[k] == top
            best = top
        i = j
    return keep


def pareto_mask_by(frame: pd.DataFrame, cost: str, quality: str, group: str = "model") -> np.ndarray:
    """``pareto_mask`` within each ``group`` (each model has its own frontier)."""
    mask = np.zeros(len(frame), dtype=bool)
    for _, idx in frame.groupby(group, sort=False).indices.items():
        mask[idx] = pareto_mask(frame[cost].to_numpy()[idx], frame[quality].to_numpy()[idx])
    return mask


def total_bytes(configs: pd.DataFrame, n_vectors: int, second_tier: bool = False) -> pd.Series:
    """Storage of ``n_vectors`` vectors: N × measured bytes per vector + what is stored once.

    Rescoring configurations keep a second copy (``second_tier_bytes_per_vector``, e.g. float32 on
    disk); it counts only with ``second_tier=True`` — a memory budget is about the first tier.
    """
    per_vector = configs.bytes_per_vector + (configs.second_tier_bytes_per_vector if second_tier else 0)
    return n_vectors * per_vector + configs.overhead_bytes


def at_scale(configs: pd.DataFrame, n_vectors: int, second_tier: bool = False) -> pd.DataFrame:
    """Configurations with ``total_bytes`` and ``amortised_bytes_per_vector`` for a corpus of N vectors,
    and the frontier recomputed on total bytes (the overhead can move a point off it at small N)."""
    n_vectors = check_n_vectors(n_vectors)
    out = configs.copy()
    out["n_vectors"] = n_vectors
    out["total_bytes"] = total_bytes(out, n_vectors, second_tier)
    out["amortised_bytes_per_vector"] = out.total_bytes / n_vectors
    out["on_frontier"] = pareto_mask_by(out, "total_bytes", "change_pct")
    return out


# --- select ----------------------------------------------------------------------------------------


@dataclass
class Selection:
    """The best configuration inside a budget, and the next best ones."""

    model: str
    budget_bytes: int
    n_vectors: int
    best: pd.Series
    runners_up: pd.DataFrame
    n_fitting: int
    n_configurations: int
    second_tier: bool = False

    @property
    def expected_loss_pct(self) -> float:
        return float(self.best.loss_pct)

    def describe(self) -> str:
        """The recommendation as a few plain lines (what the CLI prints)."""
        b = self.best
        lines = [
            f"Budget {format_bytes(self.budget_bytes)} for {self.n_vectors:,} vectors of {self.model}: "
            f"{self.n_fitting} of {self.n_configurations} configurations fit.",
            f"Recommended: {b.label}",
            f"  storage   {format_bytes(b.total_bytes)} = {self.n_vectors:,} × {b.bytes_per_vector:g} B/vector"
            f" + {int(b.overhead_bytes):,} B stored once; compression {b.compression_ratio:.3g}×",
            f"  expected  nDCG@10 {b.expected:.4f} ({b.change_pct:+.2f} % vs float32; "
            f"{int(b.n_datasets)} collection(s), {b.weighting}-weighted)",
        ]
        if b.second_tier_bytes_per_vector > 0:
            counted = "counted in" if self.second_tier else "not counted in"
            lines.append(f"  second tier {format_bytes(self.n_vectors * b.second_tier_bytes_per_vector)} (the vectors "
                         f"it rescores with, e.g. on disk), {counted} the budget")
        if len(self.runners_up):
            lines.append("Runners-up:")
            for r in self.runners_up.itertuples():
                flag = "" if r.on_frontier else "  (dominated)"
                lines.append(f"  {r.label:40s} {format_bytes(r.total_bytes):>24s}  {r.change_pct:+7.2f} %{flag}")
        return "\n".join(lines)


def rank(candidates: pd.DataFrame) -> pd.DataFrame:
    """Best first: highest quality, then the smallest storage, then the name (deterministic)."""
    return candidates.sort_values(["change_pct", "total_bytes", "label"], ascending=[False, True, True])


def select(
    budget_bytes: int | str,
    n_vectors: int,
    results: pd.DataFrame,
    model: str | None = None,
    weighting: str = "texts",
    runners_up: int = 5,
    second_tier: bool = False,
) -> Selection:
    """The best configuration whose ``total_bytes(n_vectors)`` is at most ``budget_bytes``.

    ``results`` is a tidy table (as the stages write) or the output of ``configurations``.
    Raises ``StudyError`` naming the smallest configuration and its size when nothing fits.
    """
    budget = parse_budget(budget_bytes)
    n_vectors = check_n_vectors(n_vectors)
    configs = configurations(results, weighting=weighting) if "metric" in results.columns else results
    models = sorted(set(configs.model))
    if model is None:
        if len(models) != 1:
            raise ParameterError("model", model, models)
        model = models[0]
    if model not in models:
        raise ParameterError("model", model, models)
    configs = at_scale(configs[configs.model == model], n_vectors, second_tier)
    fits = configs[configs.total_bytes <= budget]
    if fits.empty:
        smallest = configs.sort_values(["total_bytes", "label"]).iloc[0]
        raise StudyError(
            f"no configuration of {model} fits {format_bytes(budget)} for {n_vectors:,} vectors; the smallest is "
            f"{smallest.label} at {format_bytes(smallest.total_bytes)} ({smallest.bytes_per_vector:g} B/vector + "
            f"{int(smallest.overhead_bytes):,} B overhead)"
        )
    ordered = rank(fits)
    return Selection(model, budget, n_vectors, ordered.iloc[0], ordered.iloc[1 : 1 + runners_up],
                     len(fits), len(configs), second_tier)


def selections(configs: pd.DataFrame, n_vectors: list[int], budgets: dict[str, int]) -> pd.DataFrame:
    """The recommendation for every model × corpus size × named budget (``None`` where nothing fits)."""
    rows = []
    for model in configs.model.unique():
        for n in n_vectors:
            scaled = at_scale(configs[configs.model == model], n)
            for name, budget in budgets.items():
                fits = scaled[scaled.total_bytes <= budget]
                best = rank(fits).iloc[0] if len(fits) else None
                rows.append({
                    "model": model, "n_vectors": n, "budget": name, "budget_bytes": budget,
                    "budget_size": format_budget(budget),
                    "configuration": best.label if best is not None else None,
                    "total_bytes": best.total_bytes if best is not None else np.nan,
                    "compression_ratio": best.compression_ratio if best is not None else np.nan,
                    "expected": best.expected if best is not None else np.nan,
                    "change_pct": best.change_pct if best is not None else np.nan,
                })
    return pd.DataFrame(rows)
