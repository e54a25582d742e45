"""Paired statistics of a configuration against float32: bootstrap CIs, sign-flip tests, Holm.

Every comparison is *paired by query*: a configuration and its baseline (float32, nothing reduced,
same model and collection) are scored on the same queries, so the per-query differences carry the
comparison. Over several collections the statistic is the weighted mean of per-collection means
(weights = ``n_texts``, the paper's choice, or equal weights), and resampling is *stratified*:
queries are resampled (bootstrap) or sign-flipped (randomization test) within their collection.

* CI: percentile bootstrap, ``N_RESAMPLES`` = 10 000 resamples, seeded per collection (``seed`` and
  the collection name), so a collection's resamples do not depend on which others are analysed.
  Vectorised: resample counts (bincount) times the per-query matrix, in blocks.
* p-value: two-sided paired randomization (sign-flip) test of "mean difference = 0", with the
  ``(1 + #{|T*| ≥ |T|}) / (1 + B)`` estimate (never 0).
* Holm's step-down correction across the comparisons of one table or figure (``p_holm``), and
  ``significant = p_holm < alpha``.

Column conventions: in per-collection (tidy) rows, ``diff`` is the mean paired difference of the
metric (configuration − baseline) and ``ci_low``/``ci_high`` its CI; in aggregated summaries,
``ci_low``/``ci_high`` bound ``change_pct`` (the % change vs baseline, as plotted) and
``diff_ci_low``/``diff_ci_high`` bound the absolute difference. Hand-written because scipy's
``bootstrap``/``permutation_test`` neither stratify with weights nor share resamples across
hundreds of comparisons at this speed, and Holm is five lines (statsmodels is not installed).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

import numpy as np
import pandas as pd

from study.analysis.comparison import compare_like_for_like
from study.analysis.report import WEIGHTINGS
from study.core.errors import ParameterError

N_RESAMPLES = 10_000
SEED = 0
ALPHA = 0.05
LEVEL = 0.95
BASELINE = {"format": "float32", "reducer": "none", "fraction": 1.0, "rescore": "none", "query_format": "same"}
BLOCK_ELEMENTS = 2_000_000  # resample rows × queries generated at once


def _rng(seed: int, stratum: str, stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(stratum.encode()), stream])


def _blocks(n_resamples: int, n: int) -> Iterable[slice]:
    size = max(1, BLOCK_ELEMENTS // max(1, n))
    for start in range(0, n_resamples, size):
        yield slice(start, min(n_resamples, start + size))


def _resample_counts(rng: np.random.Generator, b: int, n: int) -> np.ndarray:
    """How often each of ``n`` queries is drawn in each of ``b`` bootstrap resamples: (b, n)."""
    idx = rng.integers(n, size=(b, n))  # 0 .. n-1
    flat = (idx + n * np.arange(b)[:, None]).ravel()
    return np.bincount(flat, minlength=b * n).reshape(b, n)


def stratified_paired(
    strata: list[tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
    n_groups: int,
    n_resamples: int = N_RESAMPLES,
    seed: int = SEED,
    level: float = LEVEL,
    return_draws: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The engine. Each stratum is ``(name, x, y, groups, weights)``: per-query values ``x`` (config)
    and ``y`` (baseline) of shape (n_queries, k), the comparison each of the k columns belongs to,
    and its weight. A comparison's statistic is Σ weight · mean(x) (vs the same for y) over its strata.

    Returns one row per comparison: value, baseline, diff, diff_ci_low/high, change_pct,
    ci_low/high (of change_pct), p_value; with ``return_draws`` also the bootstrap draws of value and
    baseline, each (n_resamples, n_groups), for statistics built from several comparisons."""
    obs_x, obs_y = np.zeros(n_groups), np.zeros(n_groups)
    boot_x, boot_y = np.zeros((n_resamples, n_groups)), np.zeros((n_resamples, n_groups))
    flips = np.zeros((n_resamples, n_groups))
    for name, x, y, groups, weights in strata:
        x, y = (np.asarray(values, np.float64) for values in (x, y))
        n = x.shape[0]
        if len(np.unique(groups)) != len(groups):
            raise ValueError(f"stratum {name!r} lists a comparison twice")
        obs_x[groups] += weights * x.mean(axis=0)
        obs_y[groups] += weights * y.mean(axis=0)
        boot_rng, flip_rng = _rng(seed, name, 0), _rng(seed, name, 1)
        scaled_diff = (x - y) * (weights / n)
        for rows in _blocks(n_resamples, n):
            b = rows.stop - rows.start
            counts = _resample_counts(boot_rng, b, n)
            boot_x[rows, groups] += counts @ x * (weights / n)
            boot_y[rows, groups] += counts @ y * (weights / n)
            signs = flip_rng.integers(2, size=(b, n)) * 2 - 1  # -1 or +1
            flips[rows, groups] += signs @ scaled_diff
    diff = obs_x - obs_y
    tail = (1 - level) / 2 * 100
    with np.errstate(divide="ignore", invalid="ignore"):  # a baseline of 0 has no % change
        pct_draws = np.where(boot_y > 0, 100 * (boot_x / boot_y - 1), np.nan)
        change = np.where(obs_y > 0, 100 * (obs_x / obs_y - 1), np.nan)
    d_lo, d_hi = np.percentile(boot_x - boot_y, [tail, 100 - tail], axis=0)
    p_lo, p_hi = np.full(n_groups, np.nan), np.full(n_groups, np.nan)
    defined = ~np.isnan(pct_draws).any(axis=0)
    if defined.any():
        p_lo[defined], p_hi[defined] = np.percentile(pct_draws[:, defined], [tail, 100 - tail], axis=0)
    extreme = (np.abs(flips) >= np.abs(diff) - 1e-12).sum(axis=0)
    table = pd.DataFrame({
        "value": obs_x, "baseline": obs_y, "diff": diff, "diff_ci_low": d_lo, "diff_ci_high": d_hi,
        "change_pct": change, "ci_low": p_lo, "ci_high": p_hi, "p_value": (1 + extreme) / (1 + n_resamples),
    })
    return (table, boot_x, boot_y) if return_draws else table


def paired_test(
    x: np.ndarray, y: np.ndarray, n_resamples: int = N_RESAMPLES, seed: int = SEED, level: float = LEVEL
) -> dict[str, float]:
    """One paired comparison on one set of queries: mean difference, its bootstrap CI, sign-flip p-value."""
    x, y = np.asarray(x), np.asarray(y)  # stratified_paired takes them as float64
    if x.shape != y.shape or x.ndim != 1 or len(x) == 0:
        raise ValueError(f"x and y must be 1-D of the same non-zero length, got {x.shape} and {y.shape}")
    out = stratified_paired([("sample", x[:, None], y[:, None], np.array([0]), np.array([1.0]))], 1,
                            n_resamples, seed, level)
    return out.iloc[0].to_dict()


def bootstrap_ci(
    diffs: np.ndarray, n_resamples: int = N_RESAMPLES, seed: int = SEED, level: float = LEVEL
) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean of paired differences."""
    res = paired_test(diffs, np.zeros(np.shape(diffs)), n_resamples, seed, level)
    return res["diff_ci_low"], res["diff_ci_high"]


def sign_flip_test(diffs: np.ndarray, n_resamples: int = N_RESAMPLES, seed: int = SEED) -> float:
    """Two-sided randomization test of mean(diffs) = 0 by random sign flips."""
    return paired_test(diffs, np.zeros(np.shape(diffs)), n_resamples, seed)["p_value"]


def holm(pvalues: Iterable[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values (NaNs stay NaN and do not count as tests)."""
    p = np.asarray(list(pvalues), dtype=np.float64)
    out = np.full(p.shape, np.nan)
    valid = np.flatnonzero(~np.isnan(p))
    order = valid[np.argsort(p[valid])]  # tied p-values get the same adjusted value in any order
    m = len(order)
    adjusted = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out[order] = np.minimum(adjusted, 1.0)
    return out


# --- tidy results → comparisons -----------------------------------------------------------


def _is_baseline(rows: pd.DataFrame, baseline: dict[str, object]) -> pd.Series:
    mask = pd.Series(True, index=rows.index)
    for key, value in baseline.items():
        if key in rows:
            mask &= rows[key] == value
    return mask


def baseline_ids(tidy: pd.DataFrame, baseline: dict[str, object] | None = None) -> dict[tuple[str, str], str]:
    """(model, dataset) → config_id of the baseline configuration."""
    rows = tidy.drop_duplicates("config_id")
    rows = rows[_is_baseline(rows, baseline or BASELINE)]
    if rows.duplicated(["model", "dataset"]).any():
        raise ValueError("several baseline configurations for one model and collection; narrow `baseline`")
    return {(r.model, r.dataset): r.config_id for r in rows.itertuples()}


def _weights(frame: pd.DataFrame, weighting: str) -> np.ndarray:
    if weighting not in WEIGHTINGS:
        raise ParameterError("weighting", weighting, WEIGHTINGS)
    w = frame.n_texts.to_numpy() if weighting == "texts" else np.ones(len(frame))
    return w / w.sum()


def compare(
    pairs: pd.DataFrame,
    per_query: pd.DataFrame,
    metric: str = "ndcg_at_10",
    n_resamples: int = N_RESAMPLES,
    seed: int = SEED,
    level: float = LEVEL,
    return_draws: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """``pairs``: one row per (comparison ``group`` 0..K-1, dataset, config_id, baseline_id, weight).
    Returns ``stratified_paired``'s table, one row per group (and its draws with ``return_draws``)."""
    n_groups = int(pairs.group.max()) + 1 if len(pairs) else 0
    strata = []
    for dataset, sub in pairs.groupby("dataset"):
        pq = per_query[per_query.dataset == dataset]
        wide = pq.pivot_table(index="query_id", columns="config_id", values=metric, aggfunc="first")
        missing = set(sub.config_id) | set(sub.baseline_id)
        missing -= set(wide.columns)
        if missing:
            raise ValueError(f"no per-query scores on {dataset} for {sorted(missing)[:3]}")
        x, y = wide[list(sub.config_id)], wide[list(sub.baseline_id)]
        keep = x.notna().all(axis=1) & y.notna().all(axis=1)
        strata.append((str(dataset), x[keep].to_numpy(), y[keep].to_numpy(), sub.group.to_numpy(),
                       sub.weight.to_numpy()))
    return stratified_paired(strata, n_groups, n_resamples, seed, level, return_draws)


def annotate_tidy(
    tidy: pd.DataFrame,
    per_query: pd.DataFrame,
    metric: str = "ndcg_at_10",
    baseline: dict[str, object] | None = None,
    alpha: float = ALPHA,
    n_resamples: int = N_RESAMPLES,
    seed: int = SEED,
) -> pd.DataFrame:
    """Tidy rows with ``diff, ci_low, ci_high, p_value, p_holm, significant`` filled for ``metric``:
    each configuration against the baseline of its model and collection; Holm across all
    non-baseline configurations of the table."""
    ids = baseline_ids(tidy, baseline)
    configs = tidy[tidy.metric == metric].drop_duplicates("config_id")
    configs = configs[[(m, d) in ids and ids[(m, d)] != c for m, d, c in
                       zip(configs.model, configs.dataset, configs.config_id)]]
    pairs = pd.DataFrame({
        "group": np.arange(len(configs)), "dataset": configs.dataset.to_numpy(),
        "config_id": configs.config_id.to_numpy(),
        "baseline_id": [ids[(m, d)] for m, d in zip(configs.model, configs.dataset)], "weight": 1.0,
    })
    res = compare(pairs, per_query, metric, n_resamples, seed)
    res["config_id"] = pairs.config_id.to_numpy()
    res["p_holm"] = holm(res.p_value)
    res["significant"] = res.p_holm < alpha
    res = res.drop(columns=["ci_low", "ci_high"]).rename(columns={"diff_ci_low": "ci_low", "diff_ci_high": "ci_high"})
    cols = ["diff", "ci_low", "ci_high", "p_value", "p_holm", "significant"]
    out = tidy.drop(columns=[c for c in cols if c in tidy])
    stats = res.set_index("config_id")[cols]
    merged = out.merge(stats, left_on="config_id", right_index=True, how="left")
    merged.loc[merged.metric != metric, cols] = np.nan
    merged["significant"] = merged.significant.astype("boolean")
    return merged


def add_significance(
    summary: pd.DataFrame,
    tidy: pd.DataFrame,
    per_query: pd.DataFrame,
    keys: list[str],
    weighting: str = "texts",
    metric: str = "ndcg_at_10",
    baseline: dict[str, object] | None = None,
    alpha: float = ALPHA,
    n_resamples: int = N_RESAMPLES,
    seed: int = SEED,
    policy: str = "shared",
) -> pd.DataFrame:
    """A stage summary (``report.summarise(tidy, keys, metric, weighting, policy=policy)``) with CI and test
    columns (on the summary's collections: pass the same ``policy``).

    Each summary row (model × keys) is compared with its model's baseline on the same collections,
    aggregated with the same ``weighting`` as the summary (say which in the figure). Adds
    ``diff, diff_ci_low, diff_ci_high, ci_low, ci_high`` (CI of ``change_pct``), ``p_value``,
    ``p_holm`` (Holm across the summary's non-baseline rows) and ``significant``."""
    tidy = compare_like_for_like(tidy[tidy.metric == metric], policy).rows  # the summary's collections, one row each
    ids = baseline_ids(tidy, baseline)
    group_keys = ["model", *keys]
    pair_rows, index = [], []
    for key, frame in tidy.groupby(group_keys, dropna=False):
        frame = frame[[(m, d) in ids for m, d in zip(frame.model, frame.dataset)]]
        if frame.empty or set(frame.config_id) <= set(ids.values()):
            continue
        group = len(index)
        index.append(key)  # a tuple: grouped by a list
        pair_rows.append(pd.DataFrame({
            "group": group, "dataset": frame.dataset.to_numpy(), "config_id": frame.config_id.to_numpy(),
            "baseline_id": [ids[(m, d)] for m, d in zip(frame.model, frame.dataset)],
            "weight": _weights(frame, weighting),
        }))
    cols = ["diff", "diff_ci_low", "diff_ci_high", "ci_low", "ci_high", "p_value", "p_holm", "significant"]
    out = summary.drop(columns=[c for c in cols if c in summary])
    if not pair_rows:
        return out.assign(**{c: np.nan for c in cols})
    res = compare(pd.concat(pair_rows), per_query, metric, n_resamples, seed)
    res["p_holm"] = holm(res.p_value)
    res["significant"] = res.p_holm < alpha
    res = res.join(pd.DataFrame(index, columns=group_keys))
    merged = out.merge(res[group_keys + cols], how="left")  # on the keys, the only columns both have
    merged["significant"] = merged.significant.astype("boolean")
    return merged


def paired_differences(
    per_query: pd.DataFrame,
    tidy: pd.DataFrame,
    comparisons: list[tuple[list[str], list[str]]],
    weighting: str = "texts",
    metric: str = "ndcg_at_10",
    n_resamples: int = N_RESAMPLES,
    seed: int = SEED,
) -> pd.DataFrame:
    """Configuration A against configuration B, for each ``(A ids, B ids)`` pair (one config_id per
    collection each, same collections in the same order; e.g. int8_clipped vs float8_e4m3 at 4×):
    aggregated difference, its CI and p-value (uncorrected), one row per comparison, in one pass."""
    rows = tidy[tidy.metric == metric].drop_duplicates("config_id").set_index("config_id")
    pairs = []
    for group, (config_ids, other_ids) in enumerate(comparisons):
        frame, other = rows.loc[config_ids], rows.loc[other_ids]
        if list(frame.dataset) != list(other.dataset):
            raise ValueError("the two configurations must be given on the same collections, in the same order")
        pairs.append(pd.DataFrame({"group": group, "dataset": frame.dataset.to_numpy(), "config_id": config_ids,
                                   "baseline_id": other_ids, "weight": _weights(frame, weighting)}))
    if not pairs:
        return pd.DataFrame()
    return compare(pd.concat(pairs), per_query, metric, n_resamples, seed)


def paired_difference(
    per_query: pd.DataFrame,
    tidy: pd.DataFrame,
    config_ids: list[str],
    other_ids: list[str],
    weighting: str = "texts",
    metric: str = "ndcg_at_10",
    n_resamples: int = N_RESAMPLES,
    seed: int = SEED,
) -> dict[str, float]:
    """One comparison of ``paired_differences``, as a dict."""
    return paired_differences(per_query, tidy, [(config_ids, other_ids)], weighting, metric, n_resamples,
                              seed).iloc[0].to_dict()
