"""The reproduction scorecard: each of the paper's five claims checked against our results.

Every claim is split into *checks*, one per model (and per compression level where the claim
names several). Each check is judged like for like (``study.analysis.comparison``): per model and claim,
every configuration the claim names is averaged over **the same held-out collections** — the
ones all of them were scored on, minus any collection a reducer was fit on or a format calibrated
on (MLQuestions, in the paper's setup) — and that set is reported with the check.

A check reads (``study.analysis.verdicts``) **holds** / **fails** / **undecided** from the 95 % paired,
query-level bootstrap CI of its statistic (collections as strata, texts-weighted as the paper;
the unweighted reading is reported beside it), and is **fragile** when dropping one collection
flips its point verdict (the collection is named). A claim's verdict comes from its checks:

* **holds** — every check that ran holds;
* **does not hold** — every check that ran fails;
* **undecided** — none fails, but some are undecided;
* **partly** — some fail, others hold or are undecided;
* **not run** — no check could run (its configurations are not in the profile's results).

Losses are nDCG@10 changes against the model's float32, unreduced baseline. The paper's numbers
are computed from its Table 1 (``paper_reference.paper_table1``), never typed. Claims use the
paper-faithful configurations only: its formats (casts, its int8 calibrated on the paper's set,
``x > 0`` binary), queries stored like the documents, reducers fit on the paper's fit set, no
rescoring — so our corrected variants can neither rescue nor sink the paper's advice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from itertools import combinations

import numpy as np
import pandas as pd

from study.analysis.comparison import (
    NONE,
    CollectionSet,
    compare_like_for_like,
    config_key,
    deduplicate,
    is_baseline,
    normalise_keys,
)
from study.analysis.paper_reference import paper_table1
from study.analysis.tradeoff import configurations
from study.analysis.verdicts import Check, Condition, Evidence, Outcome, Term, ci_text, evaluate
from study.compress.codecs import CODEC_FORMATS
from study.compress.formats import PAPER_FORMATS
from study.compress.reducers import QUADRATIC
from study.config import PAPER_SET
from study.core.errors import StudyError
from study.encoders.registry import MODELS

VERDICTS = ("holds", "partly", "does not hold", "undecided", "not run")
TOLERANCE_POINTS = 1.0  # a stated range [a, b] % of loss is met by [a - 1, b + 1] (as stage 02's agreement rule)
LOSSLESS_PCT = 0.1      # "lossless": loses less than 0.1 % of nDCG@10
FLOAT8_MAX_LOSS = 0.3   # claim 1: float8 loses less than 0.3 %
UNUSABLE_LOSS = 50.0    # "unusable": loses more than half of nDCG@10
FLOAT8 = ("float8_e4m3", "float8_e5m2")
# Claim 4's Pareto advice: compression-ratio band -> configuration families expected on the frontier.
# Ratios are measured (float32 bytes / bytes per vector); "exactly 32×" allows 0.1 % for rounding.
BANDS = (
    ("up to 4×", lambda r: r <= 4 * 1.001, {"16-bit float", "float8"}),
    ("4–32×", lambda r: 4 * 1.001 < r < 32 / 1.001, {"float8 + pca"}),
    ("32×", lambda r: 32 / 1.001 <= r <= 32 * 1.001, {"binary"}),
    ("beyond 32×", lambda r: r > 32 * 1.001, {"binary + pca"}),
)

CLAIMS = {
    1: "float8 stores 4× smaller with < 0.3 % loss, better than int8 (1.5–3.5 % loss); binary (32×) loses 7–11 %; "
       "float16/bfloat16 are lossless; float4 is unusable",
    2: "PCA is the best reduction method; PCA alone loses more than quantization at equal compression",
    3: "PCA keeping 50 % + float8 (8×) loses less than int8 alone (4×)",
    4: "Pareto advice: up to 4× float16/float8; 4–32× float8 + PCA; 32× binary; beyond, PCA + binary",
    5: "Higher-dimensional models are more robust to quantization and to reduction",
}
RULES = {
    1: f"Per model: E4M3 and E5M2 each lose < {FLOAT8_MAX_LOSS} %; both lose less than int8; binary loses 7–11 % "
       f"(± {TOLERANCE_POINTS:g} point); float16 and bfloat16 lose < {LOSSLESS_PCT} %; "
       f"float4 loses > {UNUSABLE_LOSS:g} %.",
    2: "Per model and kept fraction: PCA loses no more than the best other reducer run (float32); PCA at 50 % (2×) "
       "loses more than float16, and PCA at 25 % (4×) more than both float8 formats.",
    3: "Per model: PCA 50 % + E4M3, and PCA 50 % + E5M2, each lose less than int8 at 100 %.",
    4: "Per model, among the paper's configurations (its formats × PCA, measured bytes): in each compression band "
       "where the advised family was run, at every compression ratio it reaches in the band, its best configuration "
       "there is better than the best configuration of any other family that compresses at least as much; and, "
       "beyond the paper, the paper's binary is better than the best codec engineers use today (stage 09: RaBitQ, "
       "OPQ+PQ, PQ, PQ fast-scan, TurboQuant, OSQ, binary fixes, sign binary searched with float32 queries) that "
       "stores no more than 1/32 of float32.",
    5: "For every pair of models of different width: the wider one loses less on average over the shared "
       "quantization formats (float32 and float4 excluded) and over the shared PCA fractions (float32).",
}
COMMON_RULE = ("Every check compares its configurations on the same held-out collections (those all of them were "
               "scored on, minus any collection a reducer was fit on or int8 calibrated on), reads holds / fails / "
               "undecided from the 95 % paired bootstrap CI of its statistic (queries resampled within collections, "
               "texts-weighted; the unweighted reading beside it), and is fragile when leaving one collection out "
               "flips its point verdict.")


@dataclass
class ClaimResult:
    number: int
    claim: str
    paper: str
    ours: dict[str, str]
    checks: list[Check] = field(default_factory=list)
    sets: dict[str, CollectionSet] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        return verdict([c.result("texts") for c in self.checks])

    @property
    def verdict_unweighted(self) -> str:
        return verdict([c.result("none") for c in self.checks])

    @property
    def checked(self) -> str:
        states = [c.result("texts") for c in self.checks]
        ran = [s for s in states if s is not None]
        if not ran:
            return f"no check ran ({len(states)} not run)"
        parts = [f"{ran.count('holds')} hold", f"{ran.count('fails')} fail", f"{ran.count('undecided')} undecided"]
        text = ", ".join(parts) + f" (of {len(ran)})"
        return text + (f", {len(states) - len(ran)} not run" if len(ran) < len(states) else "")

    @property
    def robustness(self) -> str:
        """``robust``, or ``fragile: …`` naming each check that flips and the collection dropped."""
        if not any(c.result("texts") for c in self.checks):
            return "n/a"
        flips = [f"{c.model} '{c.what}' without {', '.join(c.fragile)}" for c in self.checks if c.fragile]
        return "robust" if not flips else "fragile: " + "; ".join(flips)


def verdict(results: list[str | None]) -> str:
    """holds / partly / does not hold / undecided from the checks that ran; ``not run`` when none did."""
    ran = [r for r in results if r is not None]
    if not ran:
        return "not run"
    if all(r == "holds" for r in ran):
        return "holds"
    if all(r == "fails" for r in ran):
        return "does not hold"
    return "undecided" if "fails" not in ran else "partly"


# --- the paper-faithful configurations --------------------------------------------------------------------


class Space:
    """The paper-faithful configurations of a profile's results, looked up by (model, format, reducer, fraction)."""

    def __init__(self, rows: pd.DataFrame, calibrate_on: str, fit_on: str) -> None:
        faithful = rows[rows.format.isin(PAPER_FORMATS) & (rows.rescore == NONE) & (rows.query_format == "same")
                        & rows.calibrate_on.isin([NONE, calibrate_on]) & rows.fit_on.isin([NONE, fit_on])]
        if "index" in faithful.columns:
            faithful = faithful[faithful["index"] == NONE]
        self.rows = faithful
        keys = faithful.drop_duplicates(["model", "cfg_key"])
        self._keys: dict[tuple, str] = {}
        for r in keys.itertuples():
            ident = (r.model, r.format, r.reducer, round(float(r.fraction), 6))
            if ident in self._keys and self._keys[ident] != r.cfg_key:
                raise StudyError(f"two paper-faithful variants of {ident}: {self._keys[ident]} and {r.cfg_key}")
            self._keys[ident] = r.cfg_key

    def key(self, model: str, fmt: str, reducer: str = NONE, fraction: float = 1.0) -> str | None:
        return self._keys.get((model, fmt, reducer, round(float(fraction), 6)))

    def keys_of(self, model: str) -> list[tuple]:
        return [k for k in self._keys if k[0] == model]


def _claim_set(rows: pd.DataFrame, model: str, keys: list[str]) -> CollectionSet | None:
    """The held-out collections all of ``keys`` (and the model's baseline) were scored on."""
    wanted = rows[(rows.model == model) & (rows.cfg_key.isin(keys) | is_baseline(rows))]
    if wanted.empty:
        return None
    try:
        return compare_like_for_like(wanted.drop(columns="cfg_key"), "shared").sets[model]
    except StudyError:
        return None


@dataclass
class Context:
    rows: pd.DataFrame
    space: Space
    evidence: Evidence
    baselines: dict[str, str]

    def change(self, model: str, key: str, collections: tuple[str, ...]) -> Term:
        return Term(model, key, self.baselines[model], collections)  # a % change: Term's default kind

    def diff(self, model: str, a: str, b: str, collections: tuple[str, ...]) -> Term:
        return Term(model, a, b, collections, "diff")

    def point(self, model: str, key: str, collections: tuple[str, ...]) -> float:
        return self.evidence.point(self.change(model, key, collections), "texts")


@cache  # Table 1 is constant: built once, then one look-up per number (a scorecard quotes 44)
def _paper() -> dict[tuple[str, str, str, float], float]:
    table = paper_table1()
    reducers = np.where(table.fraction < 1, "pca", NONE)
    return {(m, f, r, float(k)): -float(c)
            for m, f, r, k, c in zip(table.model, table.format, reducers, table.fraction, table.change_pct)}


def paper_loss(model: str, fmt: str, reducer: str = NONE, fraction: float = 1.0) -> float | None:
    """% of nDCG@10 the paper's Table 1 reports lost by one configuration (positive = worse); ``None`` for a
    configuration it does not report (``fraction`` one of its 1, 0.9, 0.75, 0.5, 0.25)."""
    return _paper().get((model, fmt, reducer, float(fraction)))


def _fmt(value: float | None) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{-value:+.2f}"


def _pair(values: dict[str, float | None], names: list[str]) -> str:
    return "/".join(_fmt(values.get(n)) for n in names)


PAPER_MODELS = ["bge-small", "nomic-v1.5"]


def _p(fmt: str, reducer: str = NONE, fraction: float = 1.0) -> str:
    return _pair({m: paper_loss(m, fmt, reducer, fraction) for m in PAPER_MODELS}, PAPER_MODELS)


def _not_run(model: str, what: str, why: str) -> Check:
    return Check(model, what, note=why, detail=why)


def _set_text(cset: CollectionSet | None) -> str:
    return "" if cset is None else f" ({len(cset)} held-out collections)"


# --- the five claims ------------------------------------------------------------------------------------------
# Each claim builder returns its ClaimResult with checks whose conditions name terms; ``scorecard`` evaluates
# every term in one bootstrap pass and fills the displayed numbers afterwards (``_Display``).


@dataclass
class _Display:
    """A number shown in a claim's text: a term whose point and CI are filled after evaluation."""

    term: Term
    label: str


def claim1(ctx: Context, models: list[str]) -> tuple[ClaimResult, dict[str, list]]:
    paper_text = (f"E4M3 {_p('float8_e4m3')}, E5M2 {_p('float8_e5m2')}; int8 {_p('int8')}; binary {_p('binary')}; "
                  f"f16 {_p('float16')}, bf16 {_p('bfloat16')}; float4 {_p('float4_e2m1')} (% change, bge/nomic)")
    result, shown = ClaimResult(1, CLAIMS[1], paper_text, {}), {}
    for m in models:
        checks, result.sets[m], shown[m] = _claim1_model(ctx, m)
        result.checks += checks
    return result, shown


def _claim1_model(ctx: Context, m: str) -> tuple[list[Check], CollectionSet | None, list]:
    keys = {f: ctx.space.key(m, f) for f in PAPER_FORMATS if f != "float32"}
    present = [k for k in keys.values() if k]
    cset = _claim_set(ctx.rows, m, present) if present else None
    S = cset.names if cset else ()

    def ch(f: str) -> Term | None:
        return ctx.change(m, keys[f], S) if keys.get(f) and S else None

    def check(what: str, needed: list[str], conditions) -> Check:
        missing = [f for f in needed if not keys.get(f)]
        if missing or not S:
            return _not_run(m, what, f"{', '.join(missing) or 'formats'} not run for {m}")
        return Check(m, what, conditions())

    lo, hi = 7 - TOLERANCE_POINTS, 11 + TOLERANCE_POINTS
    checks = [
        check(f"float8 loses < {FLOAT8_MAX_LOSS} %", list(FLOAT8),
              lambda: [Condition([ch(f)], low=-FLOAT8_MAX_LOSS) for f in FLOAT8]),
        check("float8 loses less than int8", [*FLOAT8, "int8"],
              lambda: [Condition([ctx.diff(m, keys[f], keys["int8"], S)], low=0.0) for f in FLOAT8]),
        check(f"binary loses {lo:g}–{hi:g} %", ["binary"], lambda: [Condition([ch("binary")], low=-hi, high=-lo)]),
        check(f"float16/bfloat16 lose < {LOSSLESS_PCT} %", ["float16", "bfloat16"],
              lambda: [Condition([ch(f)], low=-LOSSLESS_PCT) for f in ("float16", "bfloat16")]),
        check(f"float4 loses > {UNUSABLE_LOSS:g} %", ["float4_e2m1"],
              lambda: [Condition([ch("float4_e2m1")], high=-UNUSABLE_LOSS)]),
    ]
    names = {"float8_e4m3": "E4M3", "float8_e5m2": "E5M2", "int8": "int8", "binary": "binary",
             "float16": "f16", "bfloat16": "bf16", "float4_e2m1": "float4"}
    shown = [_Display(ch(f), names[f]) if ch(f) else names[f] + " n/a" for f in names]
    return checks, cset, [*shown, _set_text(cset)]


SAMPLED_PCA = "pca_sampled"  # PCA fit on the subsample kernel PCA and UMAP are fit on


def claim2(ctx: Context, models: list[str]) -> tuple[ClaimResult, dict[str, list]]:
    paper_text = (f"PCA 50 % {_p('float32', 'pca', 0.5)}, 25 % {_p('float32', 'pca', 0.25)} (Table 1; the text says "
                  "-19.6/-6.9 at 25 %); ranking PCA ≈ kernel PCA ≫ random projection ≫ autoencoder, UMAP (no numbers)")
    result, shown = ClaimResult(2, CLAIMS[2], paper_text, {}), {}
    for m in models:
        reduced = {(r, f): k for (mm, fmt, r, f), k in ((i, ctx.space._keys[i]) for i in ctx.space.keys_of(m))
                   if fmt == "float32" and r != NONE}
        quant = {f: ctx.space.key(m, f) for f in ("float16", *FLOAT8)}
        present = list(reduced.values()) + [k for k in quant.values() if k]
        fractions = sorted({f for (r, f) in reduced if r == "pca"}, reverse=True)
        if not fractions:
            result.checks.append(_not_run(m, "PCA best reducer", "reduction not run"))
            result.sets[m], shown[m] = None, ["reduction not run"]
            continue
        cset = _claim_set(ctx.rows, m, present)
        result.sets[m] = cset
        if cset is None:  # nothing to compare them on (judging them on no collection raised in the bootstrap)
            result.checks.append(_not_run(m, "PCA best reducer", "no shared collection"))
            shown[m] = ["no shared collection"]
            continue
        S = cset.names
        ranking_at = 0.5 if 0.5 in fractions else fractions[-1]
        ranking = []
        for f in fractions:
            others = {r: k for (r, ff), k in reduced.items() if ff == f and r not in ("pca", SAMPLED_PCA)}
            if not others:
                result.checks.append(_not_run(m, f"PCA best reducer at {f:.0%}", "no other reducer run"))
                continue
            points = {r: ctx.point(m, k, S) for r, k in others.items()}
            best = max(points, key=lambda r: (points[r], r))
            same_rows = best in QUADRATIC and (SAMPLED_PCA, f) in reduced  # PCA fit on as many rows as its rival
            pca = reduced[(SAMPLED_PCA if same_rows else "pca", f)]
            result.checks.append(Check(m, f"PCA best reducer at {f:.0%}",
                                       [Condition([ctx.diff(m, pca, others[best], S)], low=0.0)],
                                       detail=f"best other: {best}" + (" (PCA fit on its rows)" if same_rows else "")))
            if f == ranking_at:
                allr = {"pca": reduced[("pca", f)], **others}
                ranking = sorted(allr, key=lambda r: -ctx.point(m, allr[r], S))
                ranking = [_Display(ctx.change(m, allr[r], S), r) for r in ranking]
        p50, p25 = reduced.get(("pca", 0.5)), reduced.get(("pca", 0.25))
        if p50 and quant["float16"]:
            result.checks.append(Check(m, "PCA 50 % loses more than float16 (2×)",
                                       [Condition([ctx.diff(m, quant["float16"], p50, S)], low=0.0)]))
        else:
            result.checks.append(_not_run(m, "PCA 50 % loses more than float16 (2×)", "PCA 50 % or float16 not run"))
        if p25 and all(quant[f] for f in FLOAT8):
            result.checks.append(Check(m, "PCA 25 % loses more than float8 (4×)",
                                       [Condition([ctx.diff(m, quant[f], p25, S)], low=0.0) for f in FLOAT8]))
        else:
            result.checks.append(_not_run(m, "PCA 25 % loses more than float8 (4×)", "PCA 25 % or float8 not run"))
        shown[m] = [_Display(ctx.change(m, p50, S), "PCA 50 %") if p50 else "PCA 50 % n/a",
                    _Display(ctx.change(m, p25, S), "25 %") if p25 else "25 % n/a",
                    f"; at {ranking_at:.0%}:", *ranking, _set_text(cset)]
    return result, shown


def claim3(ctx: Context, models: list[str]) -> tuple[ClaimResult, dict[str, list]]:
    paper_text = (f"PCA 50 % + E4M3 {_p('float8_e4m3', 'pca', 0.5)}, + E5M2 {_p('float8_e5m2', 'pca', 0.5)} vs "
                  f"int8 {_p('int8')}")
    result, shown = ClaimResult(3, CLAIMS[3], paper_text, {}), {}
    for m in models:
        int8 = ctx.space.key(m, "int8")
        combo = {f: ctx.space.key(m, f, "pca", 0.5) for f in FLOAT8}
        present = [k for k in (int8, *combo.values()) if k]
        cset = _claim_set(ctx.rows, m, present) if present else None
        result.sets[m] = cset
        S = cset.names if cset else ()
        for f in FLOAT8:
            what = f"PCA 50 % + {f} loses less than int8"
            if combo[f] and int8 and S:
                result.checks.append(Check(m, what, [Condition([ctx.diff(m, combo[f], int8, S)], low=0.0)]))
            else:
                result.checks.append(_not_run(m, what, "PCA 50 % + float8 or int8 not run"))
        shown[m] = [_Display(ctx.change(m, combo[f], S), f"+ {n}") if combo[f] and S else f"+ {n} n/a"
                    for f, n in zip(FLOAT8, ("E4M3", "E5M2"))]
        shown[m] += ["vs", _Display(ctx.change(m, int8, S), "int8") if int8 and S else "int8 n/a", _set_text(cset)]
    return result, shown


def claim4(ctx: Context, models: list[str]) -> tuple[ClaimResult, dict[str, list]]:
    advice = "; ".join(f"{name}: {' or '.join(sorted(fams))}" for name, _, fams in BANDS)
    result, shown = ClaimResult(4, CLAIMS[4], f"advice only, no frontier numbers ({advice})", {}), {}
    for m in models:
        keys = [ctx.space._keys[i] for i in ctx.space.keys_of(m) if i[2] in (NONE, "pca")]
        cset = _claim_set(ctx.rows, m, keys) if keys else None
        result.sets[m] = cset
        if cset is None:
            result.checks.append(_not_run(m, "frontier", "no paper configuration run"))
            shown[m] = ["not run"]
            continue
        S = cset.names
        mine = ctx.rows[(ctx.rows.model == m) & ctx.rows.cfg_key.isin(keys) & ctx.rows.dataset.isin(S)]
        configs = configurations(mine.drop(columns="cfg_key"), metric=ctx.evidence.metric, policy="shared")
        configs["cfg_key"] = config_key(configs).to_numpy()
        front = configs[configs.on_frontier & (configs.compression_ratio > 1 + 1e-9)]
        front = front.sort_values(["compression_ratio", "label"])  # ties by name, whatever the rows' order
        for name, inside, fams in BANDS:
            in_band = np.array([bool(inside(r)) for r in configs.compression_ratio])
            advised = configs[configs.family.isin(fams).to_numpy() & in_band]
            what = f"frontier {name}"
            if advised.empty:
                result.checks.append(_not_run(m, what, "advised family not run in this band"))
                continue
            result.checks.append(_band_check(ctx, m, what, configs, advised, fams, S))
        shown[m] = ["frontier: " + ", ".join(f"{r.label} ({r.compression_ratio:.3g}×)" for r in front.itertuples()),
                    _set_text(cset)]
        codec = _codec_check(ctx, m)
        if codec is not None:
            result.checks.append(codec[0])
            shown[m].append(codec[1])
    return result, shown


def _by_change(rows: pd.DataFrame) -> pd.DataFrame:
    """Best first (nDCG@10 change), ties by label whatever the rows' order."""
    return rows.sort_values(["change_pct", "label"], ascending=[False, True])


def _band_check(ctx: Context, m: str, what: str, configs: pd.DataFrame, advised: pd.DataFrame, fams: set[str],
                S: tuple[str, ...]) -> Check:
    """At every compression ratio the advised family reaches in the band, its best configuration there against the
    best configuration of any other family that compresses at least as much (0.1 % rounding allowance): the
    advice holds where each of those is better, fails where one is worse."""
    points = _by_change(advised).assign(ratio=lambda f: f.compression_ratio.round(3)).drop_duplicates("ratio")
    conditions, pairs, alone = [], [], []
    for a in points.sort_values("compression_ratio").itertuples():
        rivals = configs[~configs.family.isin(fams) & (configs.compression_ratio >= a.compression_ratio / 1.001)]
        if rivals.empty:
            alone.append(f"{a.label}: no other family compresses as much")
            continue
        rival = _by_change(rivals).iloc[0]
        conditions.append(Condition([ctx.diff(m, a.cfg_key, rival.cfg_key, S)], low=0.0))
        pairs.append(f"{a.label} ({a.compression_ratio:.3g}×) vs {rival.label} ({rival.compression_ratio:.3g}×)")
    check = Check(m, what, conditions, detail="; ".join(pairs + alone))
    if not conditions:
        check.outcome = {w: Outcome(None, None, "holds") for w in ("texts", "none")}
    return check


def _todays(rows: pd.DataFrame) -> pd.Series:
    """Rows of what engineers store today: the codecs, and sign binary searched with float32 queries."""
    asymmetric_sign = (rows.format == "binary_sign") & (rows.get("query_format", "same") == "float32")
    return rows.format.isin(CODEC_FORMATS) | asymmetric_sign


def _codec_check(ctx: Context, m: str) -> tuple[Check, str] | None:
    """Beyond the paper's own configurations: the paper's binary (its advice at 32×) against the best codec of
    ``study.compress.codecs`` (RaBitQ, OPQ+PQ, PQ fast-scan, TurboQuant, OSQ, binary fixes; any training set,
    query side or tier) that stores no more, on the collections both were scored on. ``None`` without codecs."""
    binary = ctx.space.key(m, "binary")
    mine = ctx.rows[ctx.rows.model == m]
    if binary is None or not _todays(mine).any():
        return None
    configs = configurations(mine[_todays(mine) | is_baseline(mine)].drop(columns="cfg_key"),
                             metric=ctx.evidence.metric, policy="widest")
    configs["cfg_key"] = config_key(configs).to_numpy()
    rivals = configs[_todays(configs) & (configs.compression_ratio >= 32 / 1.001)]
    if rivals.empty:
        return None
    rival = rivals.sort_values(["change_pct", "label"], ascending=[False, True]).iloc[0]
    cset = _claim_set(ctx.rows, m, [binary, rival.cfg_key])
    if cset is None:
        return None
    check = Check(m, "32×: binary vs today's codecs",
                  [Condition([ctx.diff(m, binary, rival.cfg_key, cset.names)], low=0.0)],
                  detail=f"the paper's binary (32×) vs {rival.label} ({rival.compression_ratio:.3g}×)")
    return check, f"codecs at ≥ 32×: best {rival.label} ({rival.compression_ratio:.3g}×){_set_text(cset)}"


def _dims(model: str, rows: pd.DataFrame) -> int:
    if model in MODELS:
        return MODELS[model].dims
    base = rows[(rows.model == model) & is_baseline(rows)]
    return int(base.bytes_per_vector.iloc[0] // 4)


def claim5(ctx: Context, models: list[str]) -> tuple[ClaimResult, dict[str, list]]:
    quant = [f for f in PAPER_FORMATS if f not in ("float32", "float4_e2m1")]
    fractions = (0.9, 0.75, 0.5, 0.25)

    def paper_means(model: str) -> tuple[float, float]:
        q = [paper_loss(model, f) for f in quant]
        r = [paper_loss(model, "float32", "pca", f) for f in fractions]
        return float(np.mean(q)), float(np.mean(r))

    pq = {m: paper_means(m) for m in PAPER_MODELS}
    paper_text = (f"mean loss, quantization (no float4) {pq['bge-small'][0]:.2f} % (bge, 384-d) vs "
                  f"{pq['nomic-v1.5'][0]:.2f} % (nomic, 768-d); PCA {pq['bge-small'][1]:.2f} vs "
                  f"{pq['nomic-v1.5'][1]:.2f} %")
    result, shown = ClaimResult(5, CLAIMS[5], paper_text, {}), {m: [] for m in models}
    pairs = [(a, b) if _dims(a, ctx.rows) < _dims(b, ctx.rows) else (b, a) for a, b in combinations(models, 2)
             if _dims(a, ctx.rows) != _dims(b, ctx.rows)]
    if not pairs:
        result.checks.append(_not_run(", ".join(models), "two models of different width",
                                      "one model width only in this profile"))
        for m in models:
            shown[m] = ["needs a second model of another width"]
    for narrow, wide in pairs:
        tag = f"{wide} vs {narrow}"
        groups = {"quantization": [(f, NONE, 1.0) for f in quant],
                  "PCA": [("float32", "pca", f) for f in fractions]}
        for what, wanted in groups.items():
            both = [w for w in wanted if ctx.space.key(narrow, *w) and ctx.space.key(wide, *w)]
            if not both:
                result.checks.append(_not_run(tag, f"wider model loses less to {what}", f"no shared {what} run"))
                continue
            sn = _claim_set(ctx.rows, narrow, [ctx.space.key(narrow, *w) for w in both])
            sw = _claim_set(ctx.rows, wide, [ctx.space.key(wide, *w) for w in both])
            S = tuple(sorted(set(sn.names if sn else ()) & set(sw.names if sw else ())))
            if not S:
                result.checks.append(_not_run(tag, f"wider model loses less to {what}", "no shared collection"))
                continue
            terms = ([ctx.change(wide, ctx.space.key(wide, *w), S) for w in both]
                     + [ctx.change(narrow, ctx.space.key(narrow, *w), S) for w in both])
            k = len(both)
            cond = Condition(terms, low=0.0, combine=lambda v, k=k: np.mean(v[:k], axis=0) - np.mean(v[k:], axis=0))
            over = ", ".join(w[0] if w[1] == NONE else f"pca {w[2]:.0%}" for w in both)
            pair_set = CollectionSet(f"{tag} ({what})", S)
            result.sets[pair_set.model] = pair_set
            result.checks.append(Check(tag, f"wider model loses less to {what}", [cond], detail=f"mean over {over}",
                                       collections=pair_set))
            for m in (narrow, wide):
                mean = Condition([t for t in terms if t.model == m], combine=lambda v: np.mean(v, axis=0))
                shown[m].append(_Display(mean, f"mean {what} vs {narrow if m == wide else wide}"))
                shown[m].append(f" ({len(S)} collection{'s' if len(S) != 1 else ''} shared by both)")
    return result, shown


# --- the scorecard ---------------------------------------------------------------------------------------


def _ordered_models(rows: pd.DataFrame, models: list[str] | None) -> list[str]:
    present = list(dict.fromkeys(rows.model))
    first = [m for m in (models or []) if m in present]
    return first + [m for m in present if m not in first]


def _render(item, values: dict) -> str:
    if isinstance(item, str):
        return item
    point, ci = values[id(item)]
    return f"{item.label} {ci_text(point, ci)}"


def _join(parts: list[str]) -> str:
    text = ""
    for p in [p for p in parts if p]:  # an empty part (no collection set) adds nothing, not a dangling ", "
        if not text or p.startswith((" ", ";")):
            text += p
        elif text.endswith(":") or p == "vs" or text.endswith(" vs"):
            text += " " + p
        else:
            text += ", " + p
    return text


def scorecard(
    tidy: pd.DataFrame,
    models: list[str] | None = None,
    weighting: str = "texts",
    per_query: pd.DataFrame | None = None,
    calibrate_on: str = PAPER_SET,
    fit_on: str = PAPER_SET,
    metric: str = "ndcg_at_10",
    n_resamples: int | None = None,
) -> list[ClaimResult]:
    """Check the paper's five claims on a profile's tidy results (any subset of stages).

    ``models`` orders the columns (every model in the results is judged; a claim it lacks the
    configurations for reads *not run* with the reason); ``per_query`` (the stages' per-query scores)
    gives the CI verdicts, without it checks read their point verdicts; ``calibrate_on``/``fit_on``
    name the paper-faithful int8 calibration set and reducer fit set (the profile's). ``weighting`` is
    the verdict's weighting; the other one is reported beside it."""
    rows = deduplicate(normalise_keys(tidy[tidy.metric == metric]))
    rows = rows.assign(cfg_key=config_key(rows).to_numpy())
    order = _ordered_models(rows, models)
    baselines = {}
    for m in order:
        base = rows[(rows.model == m) & is_baseline(rows)]
        if base.empty:
            raise StudyError(f"no float32 unreduced baseline for {m} in the results: run stage 02 first")
        baselines[m] = base.cfg_key.iloc[0]
    kwargs = {} if n_resamples is None else {"n_resamples": n_resamples}
    evidence = Evidence(rows, per_query, metric, **kwargs)
    ctx = Context(rows, Space(rows, calibrate_on, fit_on), evidence, baselines)
    built = [claim1(ctx, order), claim2(ctx, order), claim3(ctx, order), claim4(ctx, order), claim5(ctx, order)]
    claims = [c for c, _ in built]
    displays = [d for _, shown in built for items in shown.values() for d in items if isinstance(d, _Display)]
    # every displayed number is a statistic too: evaluate it with the checks, in the same bootstrap pass
    shows = [Check("", "shown", [d.term if isinstance(d.term, Condition) else Condition([d.term])]) for d in displays]
    weightings = (weighting, "none" if weighting == "texts" else "texts")
    evaluate([k for c in claims for k in c.checks] + shows, evidence, weightings=weightings)
    if weighting != "texts":  # the verdict reads outcome["texts"]: put the chosen weighting there
        for k in [k for c in claims for k in c.checks]:
            k.outcome = {"texts": k.outcome.get(weighting), "none": k.outcome.get("texts")}
    values = {id(d): (s.outcome[weighting].point, s.outcome[weighting].ci) for d, s in zip(displays, shows)}
    for claim, (_, shown) in zip(claims, built):
        for m, items in shown.items():
            claim.ours[m] = _join([_render(i, values) for i in items])
    return claims


def as_table(claims: list[ClaimResult]) -> pd.DataFrame:
    """One row per claim: the claim, the paper's numbers, ours per model (with 95 % CIs), the verdict
    (texts-weighted), the unweighted verdict, robustness, and the checks."""
    models = list(dict.fromkeys(m for c in claims for m in c.ours))
    rows = []
    for c in claims:
        row = {"claim": c.number, "statement": c.claim, "paper": c.paper}
        row |= {f"ours: {m}": c.ours.get(m, "") for m in models}
        row |= {"verdict": c.verdict, "unweighted": c.verdict_unweighted, "robustness": c.robustness,
                "checks": c.checked}
        rows.append(row)
    return pd.DataFrame(rows)


def checks_table(claims: list[ClaimResult]) -> pd.DataFrame:
    """Every check of every claim: its statistic with the 95 % CI (texts-weighted and unweighted), its
    verdicts, the collections it left out of a leave-one-out flip, and the collection set it used."""
    out = []
    for c in claims:
        for k in c.checks:
            t, n = k.outcome.get("texts"), k.outcome.get("none")
            cset = k.collections or c.sets.get(k.model)
            out.append({
                "claim": c.number, "model": k.model, "check": k.what,
                "result": (t.state if t else None) or "not run", "unweighted": (n.state if n else None) or "not run",
                "statistic": t.text() if t else "n/a", "statistic_unweighted": n.text() if n else "n/a",
                "fragile_without": ", ".join(k.fragile), "numbers": k.detail,
                "collections": cset.describe() if cset is not None else "",
            })
    return pd.DataFrame(out)


def collections_table(claims: list[ClaimResult]) -> pd.DataFrame:
    """The collection set of every claim and model (what the scorecard's averages are over)."""
    return pd.DataFrame([{"claim": c.number, "model": m, "set": s.name, "collections": len(s),
                          "names": ", ".join(s.names),
                          "left out": ", ".join(f"{d} ({why})" for d, why in sorted(s.left_out.items()))}
                         for c in claims for m, s in c.sets.items() if s is not None])


def faithful_settings(tidy: pd.DataFrame) -> tuple[str, str]:
    """The paper-faithful int8 calibration set and reducer fit set of a profile's results: what its stage 02
    calibrated int8 on and what its reduction stages fit PCA on (the paper's MLQuestions when absent)."""
    def most_common(rows: pd.DataFrame, column: str) -> str:
        values = rows[column].dropna().astype(str) if column in rows else []
        return values.value_counts().index[0] if len(values) else PAPER_SET

    if "stage" not in tidy:
        return PAPER_SET, PAPER_SET
    stage = tidy["stage"].astype(str).str.lstrip("0")
    int8 = tidy[(tidy.format == "int8") & (stage == "2")]
    pca = tidy[(tidy.reducer == "pca") & stage.isin(["3", "4"])] if "reducer" in tidy else tidy.iloc[:0]
    return most_common(int8, "calibrate_on"), most_common(pca, "fit_on")


def paper_configurations(tidy: pd.DataFrame, calibrate_on: str = PAPER_SET,
                         fit_on: str = PAPER_SET, metric: str = "ndcg_at_10",
                         weighting: str = "texts") -> pd.DataFrame:
    """The paper's configurations (its formats × PCA, paper-faithful variant only, one per format × fraction)
    averaged like for like: per model over the held-out collections all of them were scored on. What the
    paper's text quotes, the same variant as the scorecard's claims 1, 3 and 4."""
    rows = deduplicate(normalise_keys(tidy[tidy.metric == metric]))
    rows = rows.assign(cfg_key=config_key(rows).to_numpy())
    space = Space(rows, calibrate_on, fit_on)
    faithful = space.rows[space.rows.reducer.isin([NONE, "pca"])]
    return configurations(faithful.drop(columns="cfg_key"), metric=metric, weighting=weighting, policy="shared")
