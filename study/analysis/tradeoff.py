"""The performance–storage trade-off: configurations, Pareto frontier, memory budgets, ``select``.

A *configuration* of a model is everything that changes what is stored (format × reducer ×
fraction, and the calibration / fit sets, rescoring and query format when a stage varies them).
Its quality is the nDCG@10 change against the model's float32, unreduced baseline, every
configuration of a model averaged over **the same held-out collections** (``study.analysis.comparison``);
its storage is measured and counts every tier it keeps:
``total_bytes(N) = N × bytes_per_vector + overhead_bytes`` (bytes per vector of the searched tier
plus the rescoring tier; reducer matrix and mean, int8 ranges, scales: what the tidy column
``overhead_bytes`` reports), i.e. the overhead amortised over N. A RAM and a disk budget can be
given apart (``select``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from study.analysis import stats
from study.analysis.comparison import NONE, CollectionSet, compare_like_for_like, is_baseline, key_columns
from study.analysis.report import COMPRESSED_CSV, WEIGHTINGS, output_dirs, result_stem, tidy_path
from study.core.errors import ParameterError, StudyError

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
        number = float(str(value).replace("_", "").replace(",", ""))  # str(True) is no number: refused
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or number < 1 or number != int(number):
        raise ParameterError(name, value, "a positive whole number of vectors, e.g. 10000000 or 1e7")
    return int(number)


# --- tidy results → configurations ---------------------------------------------------------------


def result_files(profile: str) -> list[Path]:
    """The profile's tidy result tables: ``results/<profile>/0*-*.csv``, or ``.csv.gz`` where only that exists
    (``report.tidy_path``; per-query files are parquet)."""
    folder = output_dirs(profile)["results"]
    stems = {result_stem(p) for p in [*folder.glob("0*-*.csv"), *folder.glob(f"0*-*{COMPRESSED_CSV}")]
             if "per-query" not in p.name}
    return [tidy_path(folder, stem) for stem in sorted(stems)]


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


def load_per_query(used: list[Path]) -> pd.DataFrame | None:
    """The per-query scores beside the given tidy result files (``<stem>-per-query.parquet``), concatenated;
    ``None`` when none exists (verdicts then fall back to point estimates)."""
    frames = []
    for path in used:
        pq = path.with_name(f"{result_stem(path)}-per-query.parquet")
        if pq.exists():
            frame = pd.read_parquet(pq)
            if {"config_id", "dataset", "query_id"} <= set(frame.columns):
                frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else None


def label(row: pd.Series | dict) -> str:
    """The one short, unique name of a configuration, in every table, figure and page:
    ``float8_e4m3 + pca 50% (fit mlquestions) → int8 ×4 · float32 queries @mlquestions in hnsw`` — the reducer and
    kept fraction (its fit set unless it is the corpus), the second tier and its oversampling, the query side, the
    set the format or codec was trained or calibrated on (``@self``: the corpus; ``(untrained)``: it learns
    nothing), the index."""
    get = row.get  # a dict's or a Series'
    text = str(get("format"))
    if get("reducer", NONE) != NONE:
        text += f" + {get('reducer')} {100 * float(get('fraction', 1.0)):g}%"
        if get("fit_on", NONE) not in (NONE, "self"):
            text += f" (fit {get('fit_on')})"
    if get("rescore", NONE) != NONE:
        tier, _, oversample = str(get("rescore")).rpartition("x")
        text += f" → {tier} ×{oversample}"
    if get("query_format", "same") != "same":
        text += f" · {get('query_format')} queries"
    calibrate_on = get("calibrate_on", NONE)
    if calibrate_on == "untrained":
        text += " (untrained)"
    elif calibrate_on != NONE and get("format") != "float32":
        text += f" @{calibrate_on}"
    if get("index", NONE) != NONE:
        text += f" in {get('index')}"
    return text


KINDS = (("float32", "float32"), ("float16", "16-bit float"), ("bfloat16", "16-bit float"), ("float8", "float8"),
         ("int8", "int8"), ("int4", "int4"), ("float4", "float4"), ("binary", "binary"),
         ("rabitq", "RaBitQ"), ("opq", "OPQ+PQ"), (r"pq\d+x4fs", "PQ fast-scan"), (r"pq\d+x8", "PQ"),
         ("turboquant", "TurboQuant"), ("osq", "OSQ"))
"""(pattern matched at the start of a format's name, its kind), in the order figures list them."""


def kind(fmt: str) -> str:
    """The number format a storage format belongs to (``float8_e4m3_scaled`` → ``float8``, ``pq48x8`` → ``PQ``)."""
    return next((name for pattern, name in KINDS if re.match(pattern, str(fmt))), str(fmt))


def family(row: pd.Series | dict) -> str:
    """The kind of configuration the paper's Pareto advice (claim 4) speaks of: ``float8 + pca``, ``binary``..."""
    base = kind(row["format"])
    if row.get("rescore", NONE) != NONE:
        return f"{base} + rescoring"
    return base if row["reducer"] == NONE else f"{base} + {row['reducer']}"


def configurations(tidy: pd.DataFrame, metric: str = "ndcg_at_10", weighting: str = "texts",
                   policy: str = "widest") -> pd.DataFrame:
    """One row per model × configuration with its quality and measured storage, like for like.

    Per model, every configuration is averaged over **the same held-out collections**
    (``comparison.compare_like_for_like`` with ``policy``; ``widest``, the default for the
    trade-off, keeps the model's baseline collections minus every fit/calibration set and drops the
    configurations not scored on all of them). ``value`` is the mean of ``metric`` over that set
    (weighted by texts, the paper's choice, or unweighted), ``baseline`` the float32 mean over the
    same set, ``change_pct`` the relative change; ``expected`` the nDCG@10 a user can expect, on that
    held-out set (never the fit or calibration sets). ``collections`` names the set (``attrs["sets"]`` holds the
    ``CollectionSet`` per model, ``attrs["dropped"]`` what ``widest`` left out).

    Storage counts every tier a configuration keeps: ``bytes_per_vector`` = first tier (what is
    searched, ``tier1_bytes_per_vector``) + the rescoring tier (``tier2_bytes_per_vector``, e.g. int8
    on disk), each measured; ``overhead_bytes`` is what is stored once (both tiers' ranges, the
    reducer). ``compression_ratio`` is float32's bytes over all tiers.
    """
    if weighting not in WEIGHTINGS:
        raise ParameterError("weighting", weighting, WEIGHTINGS)
    if "metric" not in tidy.columns or metric not in set(tidy.metric):
        raise ParameterError("metric", metric, sorted(set(tidy.get("metric", []))))
    rows = tidy[tidy.metric == metric]
    missing = sorted(set(rows.model) - set(rows[is_baseline(rows)].model))
    if missing:
        raise StudyError(f"no float32 unreduced baseline for {', '.join(missing)} in the results: run stage 02 first")
    comparison = compare_like_for_like(rows, policy)
    rows = comparison.rows
    keys = key_columns(rows)
    rows["weight"] = rows.n_texts if weighting == "texts" else 1.0
    base = rows[is_baseline(rows)].drop_duplicates(["model", "dataset"]).set_index(["model", "dataset"]).value
    rows["baseline"] = base.reindex(pd.MultiIndex.from_arrays([rows.model, rows.dataset])).to_numpy()
    rows["wv"], rows["wb"] = rows.weight * rows.value, rows.weight * rows.baseline
    tier2 = rows["rescore_bytes_per_vector"].fillna(0.0) if "rescore_bytes_per_vector" in rows else 0.0
    rows["tier2"] = np.where(rows.rescore != NONE, tier2, 0.0)  # not measured: 0 B
    grouped = rows.groupby(["model", *keys], sort=False)  # keys are filled; ties keep the results' order
    out = grouped.agg(
        wv=("wv", "sum"), wb=("wb", "sum"), w=("weight", "sum"),
        tier1_bytes_per_vector=("bytes_per_vector", "max"), tier2_bytes_per_vector=("tier2", "max"),
        overhead_bytes=("overhead_bytes", "max"), n_datasets=("dataset", "nunique"),
    ).reset_index()
    out["bytes_per_vector"] = out.tier1_bytes_per_vector + out.tier2_bytes_per_vector
    out["value"] = out.wv / out.w
    out["baseline"] = out.wb / out.w
    out["change_pct"] = 100 * (out.value / out.baseline - 1)
    out["loss_pct"] = -out.change_pct
    out["expected"] = out.value  # on the held-out set: a fit or calibration set is never averaged in
    base_bytes = out[is_baseline(out)].groupby("model").bytes_per_vector.first()
    out["compression_ratio"] = out.model.map(base_bytes) / out.bytes_per_vector
    out["collections"] = out.model.map({m: ", ".join(s.names) for m, s in comparison.sets.items()})
    out["label"] = out.apply(label, axis=1)
    out["family"] = out.apply(family, axis=1)
    out["kind"] = [kind(f) + (" + rescoring" if r != NONE else "") for f, r in zip(out.format, out.rescore)]
    out["weighting"] = weighting
    out = out.drop(columns=["wv", "wb", "w"])
    out["on_frontier"] = pareto_mask_by(out, "bytes_per_vector", "change_pct")
    out = out.sort_values(["model", "bytes_per_vector", "change_pct"], ascending=[True, True, False],
                          ignore_index=True)
    out.attrs["sets"] = comparison.sets
    out.attrs["dropped"] = comparison.dropped
    return out


def comparison_sets(configs: pd.DataFrame) -> dict[str, CollectionSet]:
    """The ``CollectionSet`` per model behind a ``configurations`` table."""
    return dict(configs.attrs.get("sets", {}))


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
    for _, idx in frame.groupby(group).indices.items():
        mask[idx] = pareto_mask(frame[cost].to_numpy()[idx], frame[quality].to_numpy()[idx])
    return mask


def total_bytes(configs: pd.DataFrame, n_vectors: int) -> pd.Series:
    """Storage of ``n_vectors`` vectors: N × measured bytes per vector (every tier) + what is stored once."""
    return n_vectors * configs.bytes_per_vector + configs.overhead_bytes


def at_scale(configs: pd.DataFrame, n_vectors: int, draws: Draws | None = None) -> pd.DataFrame:
    """Configurations with their storage for a corpus of N vectors: ``total_bytes`` (everything),
    ``ram_bytes`` (first tier + what is stored once: what must be in memory to search) and
    ``disk_bytes`` (the rescoring tier), ``amortised_bytes_per_vector``, and the frontier recomputed
    on total bytes (the overhead can move a point off it at small N): with ``draws`` (columns = positions of
    ``configs``), the frontier that steps up only where the CI says so (``frontier_mask``)."""
    n_vectors = check_n_vectors(n_vectors)
    out = configs.copy()
    out["n_vectors"] = n_vectors
    out["total_bytes"] = total_bytes(out, n_vectors)
    out["ram_bytes"] = n_vectors * out.tier1_bytes_per_vector + out.overhead_bytes
    out["disk_bytes"] = n_vectors * out.tier2_bytes_per_vector
    out["amortised_bytes_per_vector"] = out.total_bytes / n_vectors
    out["on_frontier"] = (pareto_mask_by(out, "total_bytes", "change_pct") if draws is None
                          else frontier_mask(out, draws, "total_bytes"))
    return out


def fits(scaled: pd.DataFrame, ram: int, disk: int | None = None) -> pd.Series:
    """Which configurations fit: without a disk budget everything a configuration stores must fit in
    ``ram``; with one, the first tier and what is stored once in ``ram`` and the rescoring tier on disk."""
    if disk is None:
        return scaled.total_bytes <= ram
    return (scaled.ram_bytes <= ram) & (scaled.disk_bytes <= disk)


# --- differences that survive their CI: a frontier and a choice that do not follow noise --------------------------

DEFAULT_MAX_LOSS = 5.0
"""``select``'s quality floor: the largest nDCG@10 loss vs float32 (in %) it recommends without a warning."""
DEFAULT_MARGIN = 0.0
"""``select``'s tolerance below the best that fits, in the measure's own units: 0 is the study's rule (not
significantly worse); ``m`` > 0 accepts a configuration whose paired 95 % CI of (it − best) reaches −m."""
LABEL_FREE_MARGIN = 0.05
"""``select``'s tolerance when it compares the label-free recall@10: a configuration is as good as the best that
fits unless its paired 95 % CI lies entirely more than 5 points of recall@10 below it. Why not the study's rule
(margin 0): float32's recall@10 against its own top-10 is 1 on every query, with no spread, so a configuration
that misses part of the exact top-10 on more than a few queries is significantly worse, and the strict rule keeps
float32 (or one as exact) whenever it fits. Five points is the usual ANN target
(recall@10 of 0.95) put as a distance from the best; it was fixed before notebook 10 measured any margin above 0,
which reports both rules side by side. With judgments the margin is 0, the study's rule."""


@dataclass
class Draws:
    """Bootstrap draws of every configuration's quality (``value``, its mean nDCG@10 over its collections, weighted
    as ``configurations`` weights them), all on the **same query resamples** (``stats.stratified_paired`` draws them
    per collection from the seed alone). So the draws of a difference between two configurations of a model are the
    difference of their columns: one bootstrap for every pair. A column is NaN where a configuration lacks
    per-query scores on one of its collections."""

    draws: np.ndarray  # (n_resamples, len(configs)), columns in the order of configs' rows
    level: float = stats.LEVEL

    def interval(self, better: np.ndarray | list[int], worse: np.ndarray | list[int]) -> tuple[np.ndarray, np.ndarray]:
        """CI (low, high) of value[better] − value[worse], elementwise over positions of ``configs``."""
        diff = self.draws[:, np.asarray(better, int)] - self.draws[:, np.asarray(worse, int)]
        tail = (1 - self.level) / 2 * 100
        low, high = np.full(diff.shape[1], np.nan), np.full(diff.shape[1], np.nan)
        defined = ~np.isnan(diff).any(axis=0)
        if defined.any():
            low[defined], high[defined] = np.percentile(diff[:, defined], [tail, 100 - tail], axis=0)
        return low, high

    def significantly_better(self, better: np.ndarray | list[int], worse: np.ndarray | list[int]) -> np.ndarray:
        """True where the CI of value[better] − value[worse] lies above 0 (False where it cannot be told)."""
        low, _ = self.interval(better, worse)
        return np.nan_to_num(low, nan=-np.inf) > 0

    def relations(self, columns: np.ndarray | list[int], margin: float = DEFAULT_MARGIN) -> list[str]:
        """For each of ``columns`` (i) against each (j), one character: ``2`` = i significantly better than j,
        ``1`` = i not significantly worse than j (the CI reaches −``margin``), ``0`` = i significantly worse, or no
        CI. What ``choose`` and ``frontier_mask`` read, for the explorer page to apply the same rule."""
        columns = np.asarray(columns, int)
        out = []
        for i in columns:
            low, high = self.interval(np.full(len(columns), i), columns)
            code = np.where(np.nan_to_num(low, nan=-np.inf) > 0, "2",
                            np.where(np.nan_to_num(high, nan=-np.inf) >= -margin, "1", "0"))
            out.append("".join(code))
        return out


def value_draws(configs: pd.DataFrame, rows: pd.DataFrame, per_query: pd.DataFrame | None,
                weighting: str = "texts", metric: str = "ndcg_at_10", n_resamples: int = stats.N_RESAMPLES,
                seed: int = stats.SEED) -> Draws:
    """``Draws`` of every configuration of ``configs`` (columns = positions 0..len-1 of its rows; ``rows`` from
    ``configuration_rows``, whose ``config`` names those rows), from the same stratified query bootstrap as
    ``with_intervals``; one model at a time, so the bootstrap's working arrays stay one model wide."""
    draws = np.full((n_resamples, len(configs)), np.nan)
    complete = pd.Series(_scored(rows, per_query), rows.index).groupby(rows.config).transform("all")
    usable = rows[complete.to_numpy()]
    position = pd.Series(np.arange(len(configs)), configs.index)
    for _, mine in usable.groupby("model", sort=False):
        groups = {c: g for g, c in enumerate(dict.fromkeys(mine.config))}
        weight = mine.n_texts if weighting == "texts" else pd.Series(1.0, mine.index)
        pairs = pd.DataFrame({"group": mine.config.map(groups), "dataset": mine.dataset,
                              "config_id": mine.config_id, "baseline_id": mine.baseline_id,
                              "weight": weight / weight.groupby(mine.config).transform("sum")})
        _, boot, _ = stats.compare(pairs, per_query, metric, n_resamples, seed, return_draws=True)
        draws[:, position.loc[list(groups)].to_numpy()] = boot
    return Draws(draws)


def frontier_mask(configs: pd.DataFrame, draws: Draws, cost: str = "bytes_per_vector") -> np.ndarray:
    """The frontier that does not follow noise, per model: the cheapest configuration (the best of those at that
    cost), then, by increasing ``cost``, each configuration whose quality is **significantly** higher (paired 95 %
    CI of the difference above 0) than that of the best configuration cheaper than it (at one cost, only the best
    of those that are). A configuration inside the CI of a cheaper one is not a step up, however its point estimate
    reads; one without per-query scores never is. ``configs``' index gives each row's column in ``draws``; the
    mask follows the rows' order."""
    keep = np.zeros(len(configs), bool)
    column = configs.index.to_numpy()
    quality, costs = configs.change_pct.to_numpy(float), configs[cost].to_numpy(float)
    for idx in configs.groupby("model", sort=False).indices.values():
        valid = idx[~np.isnan(quality[idx]) & ~np.isnan(costs[idx])]
        best_cheaper = None
        for level in np.unique(costs[valid]):  # ascending
            here = valid[costs[valid] == level]
            if best_cheaper is None:
                keep[here[np.argmax(quality[here])]] = True
            else:
                up = here[draws.significantly_better(column[here], np.full(len(here), column[best_cheaper]))]
                if len(up):
                    keep[up[np.argmax(quality[up])]] = True
            top = here[np.argmax(quality[here])]
            if best_cheaper is None or quality[top] > quality[best_cheaper]:
                best_cheaper = top
    return keep


def same_as_float32(configs: pd.DataFrame) -> pd.Series:
    """True where a configuration's CI of change vs float32 (``with_intervals``) contains 0: no different from
    float32 at this sample size; False where it lies below (or above), or where there is no CI."""
    return (configs.ci_low <= 0) & (configs.ci_high >= 0)


def with_uncertainty(configs: pd.DataFrame, tidy: pd.DataFrame, per_query: pd.DataFrame | None,
                     weighting: str = "texts", metric: str = "ndcg_at_10") -> tuple[pd.DataFrame, Draws | None]:
    """``configs`` (positions as index) with their CIs vs float32 (``with_intervals``), ``same_as_float32``, the
    point-estimate frontier as ``on_point_frontier`` and ``on_frontier`` replaced by ``frontier_mask``; and the
    ``Draws`` behind them. Without per-query scores: the point-estimate frontier, NaN CIs and no draws."""
    configs = configs.reset_index(drop=True)
    rows = configuration_rows(tidy, configs, metric)
    out = with_intervals(configs, rows, per_query, weighting, metric)
    out["same_as_float32"] = same_as_float32(out)
    out["on_point_frontier"] = out.on_frontier
    if per_query is None:
        return out, None
    draws = value_draws(out, rows, per_query, weighting, metric)
    out["on_frontier"] = frontier_mask(out, draws)
    return out, draws


# --- select ----------------------------------------------------------------------------------------


@dataclass
class Selection:
    """What ``select`` recommends inside a budget: the cheapest configuration that fits and is not significantly
    worse than the best one that fits, the ones it could not tell apart from that best, and whether the
    recommendation clears the quality floor."""

    model: str
    budget_bytes: int
    n_vectors: int
    recommended: pd.Series
    runners_up: pd.DataFrame
    n_fitting: int
    n_configurations: int
    disk_bytes: int | None = None
    top: pd.Series | None = None  # the best point estimate that fits (= recommended without per-query scores)
    n_tied: int = 0  # configurations that fit and are not significantly worse than ``top`` (recommended included)
    tested: bool = False  # whether differences were tested (per-query scores given)
    max_loss: float = DEFAULT_MAX_LOSS
    margin: float = DEFAULT_MARGIN  # the tolerance below ``top`` (``choose``)
    needed: pd.Series | None = None  # below the floor: the cheapest configuration that clears it
    metric_label: str = "nDCG@10"  # the quality measure compared, as the text names it

    @property
    def needed_bytes(self) -> float | None:
        """Below the floor: the storage (what must fit the RAM budget) of ``needed``."""
        if self.needed is None:
            return None
        return float(self.needed.total_bytes if self.disk_bytes is None else self.needed.ram_bytes)

    @property
    def expected_loss_pct(self) -> float:
        return float(self.recommended.loss_pct)

    @property
    def good_enough(self) -> bool:
        """The recommendation loses at most ``max_loss`` % nDCG@10 (point estimate)."""
        return self.expected_loss_pct <= self.max_loss

    def describe(self) -> str:
        """The recommendation as a few plain lines (what the CLI prints)."""
        b = self.recommended
        where = (f"RAM {format_bytes(self.budget_bytes)}" if self.disk_bytes is None else
                 f"RAM {format_bytes(self.budget_bytes)} + disk {format_bytes(self.disk_bytes)}")
        lines = [
            f"Budget {where} for {self.n_vectors:,} vectors of {self.model}: "
            f"{self.n_fitting} of {self.n_configurations} configurations fit.",
        ]
        if not self.good_enough:
            lines.append(f"Nothing in this budget is good enough: the best that fits loses {b.loss_pct:.2f} % "
                         f"(floor: {self.max_loss:g} %). Clearing the floor needs "
                         f"{format_bytes(self.needed_bytes)} for {self.n_vectors:,} vectors: {self.needed.label} "
                         f"({self.needed.change_pct:+.2f} %).")
        lines += [
            f"Recommended: {b.label}",
            f"  storage   {format_bytes(b.total_bytes)} = {self.n_vectors:,} × {b.bytes_per_vector:g} B/vector"
            f" + {int(b.overhead_bytes):,} B stored once; compression {b.compression_ratio:.3g}×",
        ]
        if b.tier2_bytes_per_vector > 0:
            lines.append(f"  tiers     RAM {format_bytes(b.ram_bytes)} ({b.tier1_bytes_per_vector:g} B/vector searched "
                         f"+ what is stored once), rescoring tier {format_bytes(b.disk_bytes)} "
                         f"({b.tier2_bytes_per_vector:g} B/vector{', on disk' if self.disk_bytes is not None else ''})")
        ci = (f", 95 % CI [{b.ci_low:+.2f}, {b.ci_high:+.2f}]" if not pd.isna(b.get("ci_low", np.nan)) else "")
        lines.append(f"  expected  {self.metric_label} {b.expected:.4f} ({b.change_pct:+.2f} % vs float32{ci}; "
                     f"{int(b.n_datasets)} collection(s), {b.weighting}-weighted: {b.collections})")
        if not self.tested:
            lines.append("  (no per-query scores: differences were not tested; ranked by point estimate)")
        elif self.top is not None and self.top.label != b.label:
            worse = ("not significantly worse than" if not self.margin else
                     f"not significantly more than {self.margin:g} {self.metric_label} below")
            lines.append(f"  why       the cheapest of {self.n_tied} that fit and are {worse} "
                         f"the best point estimate, {self.top.label} ({self.top.change_pct:+.2f} %)")
        if len(self.runners_up):
            lines.append("Runners-up:" if not self.tested else "Runners-up it could not tell apart:" if not self.margin
                         else "Runners-up within the margin:")
            for r in self.runners_up.itertuples():
                flag = "" if r.on_frontier else "  (dominated)"
                lines.append(f"  {r.label:40s} {format_bytes(r.total_bytes):>24s}  {r.change_pct:+7.2f} %{flag}")
        return "\n".join(lines)


def rank(candidates: pd.DataFrame) -> pd.DataFrame:
    """Best first: highest quality, then the smallest storage, then the name (deterministic)."""
    return candidates.sort_values(["change_pct", "total_bytes", "label"], ascending=[False, True, True])


def cheapest_first(candidates: pd.DataFrame) -> pd.DataFrame:
    """Cheapest first: the smallest storage, then the highest quality, then the name (deterministic)."""
    return candidates.sort_values(["total_bytes", "change_pct", "label"], ascending=[True, False, True])


def choose(fitting: pd.DataFrame, draws: Draws | None, max_loss: float | None = None,
           margin: float = DEFAULT_MARGIN) -> tuple[pd.Series, pd.DataFrame, pd.Series]:
    """(recommended, the others not significantly worse than the best, best): the best point estimate of
    ``fitting``; every configuration whose paired CI against it reaches −``margin`` (0: reaches 0; ``draws``;
    index = positions of ``draws``); the cheapest of those — the cheapest of those that clear the quality floor
    ``max_loss`` where one does, so a tie a few bytes cheaper never drops the choice below the floor. Without
    ``draws``, the best point estimate and the rest by quality."""
    ordered = rank(fitting)
    top = ordered.iloc[0]
    if draws is None:
        return top, ordered.iloc[1:], top
    _, high = draws.interval(ordered.index, np.full(len(ordered), ordered.index[0]))
    same = np.nan_to_num(high, nan=-np.inf) >= -margin
    same[0] = True  # the best itself, with or without draws
    tied = cheapest_first(ordered[same])
    clear = tied[tied.loss_pct <= max_loss] if max_loss is not None else tied.iloc[:0]
    pick = clear.iloc[0] if len(clear) else tied.iloc[0]
    return pick, rank(tied.drop(index=pick.name)), top


def _needed(scaled: pd.DataFrame, max_loss: float, column: str) -> pd.Series:
    """The configuration with the least storage (``column``) that loses at most ``max_loss`` % (ties: the better,
    then the name)."""
    clear = scaled[scaled.loss_pct <= max_loss]
    return clear.sort_values([column, "change_pct", "label"], ascending=[True, False, True]).iloc[0]


def select(
    budget_bytes: int | str,
    n_vectors: int,
    results: pd.DataFrame,
    model: str | None = None,
    weighting: str = "texts",
    runners_up: int = 5,
    disk_bytes: int | str | None = None,
    per_query: pd.DataFrame | None = None,
    max_loss: float = DEFAULT_MAX_LOSS,
    draws: Draws | None = None,
    metric_label: str = "nDCG@10",
    margin: float = DEFAULT_MARGIN,
) -> Selection:
    """The cheapest configuration that fits ``budget_bytes`` of RAM (and ``disk_bytes`` of disk, if given) and is
    not significantly worse (paired, query-level 95 % CI) than the best one that fits (or, with ``margin`` > 0,
    not significantly more than ``margin`` below it).

    Without a disk budget everything a configuration stores counts against the RAM budget; with one,
    a two-tier configuration keeps its first tier (and what is stored once) in RAM and its rescoring
    tier on disk (``fits``). ``results`` is a tidy table (as the stages write) or the output of
    ``configurations``. With ``per_query`` (and tidy ``results``), or ``draws`` of a configurations table (columns
    = its index), differences are tested (``choose``); without, the best point estimate is recommended and said
    to be untested. A recommendation that loses more than
    ``max_loss`` % is flagged with the storage that would clear it. Raises ``StudyError`` naming the smallest
    configuration when nothing fits.
    """
    budget = parse_budget(budget_bytes, "ram")
    disk = None if disk_bytes is None else parse_budget(disk_bytes, "disk")
    n_vectors = check_n_vectors(n_vectors)
    max_loss = check_max_loss(max_loss)
    margin = check_margin(margin)
    tidy = results if "metric" in results.columns else None
    configs = configurations(results, weighting=weighting) if tidy is not None else results
    models = sorted(set(configs.model))
    if model is None and len(models) == 1:
        model = models[0]
    if model not in models:  # None, when the results hold several
        raise ParameterError("model", model, models)
    mine = configs[configs.model == model]
    if tidy is not None and per_query is not None:
        mine = mine.reset_index(drop=True)
        rows = configuration_rows(tidy, mine)
        mine = with_intervals(mine, rows, per_query, weighting)
        draws = value_draws(mine, rows, per_query, weighting)
    scaled = at_scale(mine, n_vectors, draws)
    fitting = scaled[fits(scaled, budget, disk)]
    column = "total_bytes" if disk is None else "ram_bytes"
    if fitting.empty:
        smallest = scaled.sort_values([column, "label"]).iloc[0]
        where = "" if disk is None else f" of RAM (with {format_bytes(disk)} of disk)"
        raise StudyError(
            f"no configuration of {model} fits {format_bytes(budget)}{where} for {n_vectors:,} vectors; the smallest "
            f"is {smallest.label} at {format_bytes(smallest[column])} ({smallest.bytes_per_vector:g} B/vector + "
            f"{int(smallest.overhead_bytes):,} B overhead)"
        )
    recommended, others, top = choose(fitting, draws, max_loss, margin)
    chosen = Selection(model, budget, n_vectors, recommended, others.iloc[:runners_up], len(fitting), len(scaled),
                       disk, top=top, n_tied=len(others) + 1 if draws is not None else 1,
                       tested=draws is not None, max_loss=max_loss, margin=margin, metric_label=metric_label)
    if not chosen.good_enough:
        chosen.needed = _needed(scaled, max_loss, column)
    return chosen


def check_max_loss(value: object) -> float:
    """A quality floor in % of nDCG@10 lost vs float32: a number ≥ 0."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.number) or not 0 <= float(value) < math.inf:
        raise ParameterError("max_loss", value, "a loss in % of nDCG@10 vs float32, a number ≥ 0 (e.g. 5)")
    return float(value)


def check_margin(value: object) -> float:
    """A tolerance below the best that fits, in the measure's units (a recall or nDCG value): 0 ≤ margin < 1."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.number) or not 0 <= float(value) < 1:
        raise ParameterError("margin", value, "a tolerance in the measure's units, 0 ≤ margin < 1 (e.g. 0.05)")
    return float(value)


def selections(configs: pd.DataFrame, n_vectors: list[int], budgets: dict[str, int], draws: Draws | None = None,
               max_loss: float = DEFAULT_MAX_LOSS) -> pd.DataFrame:
    """``select``'s answer for every model × corpus size × named RAM budget, everything stored counted (``None``
    where nothing fits): with ``draws`` (columns = positions of ``configs``), the cheapest configuration not
    significantly worse than the best that fits (``choose``), with how many it could not tell apart; whether it
    clears the quality floor ``max_loss``, and if not the storage that would."""
    configs = configs.reset_index(drop=True)
    rows = []
    for model in configs.model.unique():
        for n in n_vectors:
            scaled = at_scale(configs[configs.model == model], n, draws)
            for name, budget in budgets.items():
                inside = scaled[fits(scaled, budget)]
                row = {"model": model, "n_vectors": n, "budget": name, "budget_bytes": budget,
                       "budget_size": format_budget(budget), "configuration": None, "top": None}
                if len(inside):
                    best, others, top = choose(inside, draws, max_loss)
                    good = bool(best.loss_pct <= max_loss)
                    row |= {"configuration": best.label, "total_bytes": best.total_bytes,
                            "compression_ratio": best.compression_ratio, "n_datasets": best.n_datasets,
                            "expected": best.expected, "change_pct": best.change_pct,
                            "ci_low": best.get("ci_low", np.nan), "ci_high": best.get("ci_high", np.nan),
                            "top": top.label, "n_tied": len(others) + 1 if draws is not None else 1,
                            "good_enough": good,
                            "needed_bytes": np.nan if good else _needed(scaled, max_loss, "total_bytes").total_bytes}
                rows.append(row)
    columns = ["model", "n_vectors", "budget", "budget_bytes", "budget_size", "configuration", "total_bytes",
               "compression_ratio", "n_datasets", "expected", "change_pct", "ci_low", "ci_high", "top", "n_tied",
               "good_enough", "needed_bytes"]
    return pd.DataFrame(rows).reindex(columns=columns)


# --- uncertainty and the per-collection view (the explorer) -------------------------------------------------


def configuration_rows(tidy: pd.DataFrame, configs: pd.DataFrame, metric: str = "ndcg_at_10") -> pd.DataFrame:
    """The per-collection rows behind each configuration of ``configurations``: the same like-for-like, held-out
    collections it was averaged over (``policy="widest"``, as ``configurations`` uses). One row per configuration
    × collection: ``config`` (its row in ``configs``), model, label (``configs``'), dataset, value, baseline (float32
    on that collection, whether or not ``configs`` lists it), change_pct, n_texts, config_id and baseline_id (for the
    per-query scores)."""
    rows = compare_like_for_like(tidy[tidy.metric == metric], "widest").rows.drop(columns="label", errors="ignore")
    keys = key_columns(rows)
    index = configs[["model", *keys, "label"]].reset_index(names="config")
    merged = rows.merge(index, on=["model", *keys], validate="many_to_one")  # inner: configurations in configs
    base = rows[is_baseline(rows)].drop_duplicates(["model", "dataset"]).set_index(["model", "dataset"])
    where = pd.MultiIndex.from_arrays([merged.model, merged.dataset])
    merged["baseline"] = base.value.reindex(where).to_numpy()
    merged["baseline_id"] = base.config_id.reindex(where).to_numpy() if "config_id" in merged else None
    merged["change_pct"] = 100 * (merged.value / merged.baseline - 1)
    columns = ["config", "model", "label", "dataset", "value", "baseline", "change_pct", "n_texts", "config_id",
               "baseline_id"]
    return merged.reindex(columns=columns).sort_values(["config", "dataset"], ignore_index=True)


def _scored(rows: pd.DataFrame, per_query: pd.DataFrame | None) -> np.ndarray:
    """Rows whose configuration and baseline both have per-query scores on that collection."""
    if per_query is None or rows.config_id.isna().all():
        return np.zeros(len(rows), bool)
    have = set(zip(per_query.dataset, per_query.config_id))
    return np.array([(d, c) in have and (d, b) in have for d, c, b in zip(rows.dataset, rows.config_id,
                                                                          rows.baseline_id)])


def with_intervals(configs: pd.DataFrame, rows: pd.DataFrame, per_query: pd.DataFrame | None,
                   weighting: str = "texts", metric: str = "ndcg_at_10",
                   n_resamples: int = stats.N_RESAMPLES, seed: int = stats.SEED) -> pd.DataFrame:
    """``configs`` with ``ci_low``/``ci_high``: the paired, query-level 95 % bootstrap CI of ``change_pct`` over
    the configuration's collections (``rows`` from ``configuration_rows``; queries resampled within each
    collection, collections weighted as ``weighting``: ``stats.compare``, the CIs every stage reports). NaN where
    a configuration lacks per-query scores on one of its collections (or none are given)."""
    out = configs.assign(ci_low=np.nan, ci_high=np.nan)
    complete = pd.Series(_scored(rows, per_query), rows.index).groupby(rows.config).transform("all")
    usable = rows[complete.to_numpy()]
    if usable.empty:
        return out
    groups = {c: g for g, c in enumerate(dict.fromkeys(usable.config))}
    weight = usable.n_texts if weighting == "texts" else pd.Series(1.0, usable.index)
    pairs = pd.DataFrame({"group": usable.config.map(groups), "dataset": usable.dataset,
                          "config_id": usable.config_id, "baseline_id": usable.baseline_id,
                          "weight": weight / weight.groupby(usable.config).transform("sum")})
    res = stats.compare(pairs, per_query, metric, n_resamples, seed)
    out.loc[list(groups), "ci_low"] = res.ci_low.to_numpy()
    out.loc[list(groups), "ci_high"] = res.ci_high.to_numpy()
    return out


def per_collection_intervals(rows: pd.DataFrame, per_query: pd.DataFrame | None, metric: str = "ndcg_at_10",
                             n_resamples: int = stats.N_RESAMPLES, seed: int = stats.SEED) -> pd.DataFrame:
    """``rows`` (``configuration_rows``) with ``ci_low``/``ci_high`` of each collection's ``change_pct``: the
    paired bootstrap CI on that collection's queries alone (one collection at a time, so memory stays small)."""
    out = rows.assign(ci_low=np.nan, ci_high=np.nan)
    scored = _scored(rows, per_query)
    for dataset, sub in out[scored].groupby("dataset"):
        pairs = pd.DataFrame({"group": np.arange(len(sub)), "dataset": dataset, "config_id": sub.config_id,
                              "baseline_id": sub.baseline_id, "weight": 1.0})
        res = stats.compare(pairs, per_query[per_query.dataset == dataset], metric, n_resamples, seed)
        out.loc[sub.index, "ci_low"] = res.ci_low.to_numpy()
        out.loc[sub.index, "ci_high"] = res.ci_high.to_numpy()
    return out
