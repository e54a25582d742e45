"""The reproduction scorecard: each of the paper's five claims checked against our results.

Every claim is split into *checks*, one per model (and per compression level where the claim
names several); each check holds, does not hold, or was not run (its configurations are missing
from the profile's results). A claim's verdict comes from its checks that ran:

* **holds** — every check that ran holds;
* **does not hold** — none does;
* **partly** — some do, some don't;
* **not run** — no check could run (e.g. the reduction stage has not run for the profile).

Losses are nDCG@10 changes against the model's float32, unreduced baseline on the same
collections (``tradeoff.configurations``). The paper's numbers are computed from its Table 1
(``paper_reference.paper_table1``), never typed. Claims 1–4 use the paper's own configuration
space: its formats (paper-faithful casts, its int8 and binary), PCA, no rescoring — so our
corrected variants cannot rescue or sink the paper's advice. The thresholds are the rules below
(``RULES``); ``TOLERANCE_POINTS`` widens the paper's stated ranges as stage 02 does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd

from .models import MODELS
from .paper_reference import paper_table1
from .tradeoff import NONE, configurations, pareto_mask

VERDICTS = ("holds", "partly", "does not hold", "not run")
TOLERANCE_POINTS = 1.0  # a stated range [a, b] % of loss is met by [a - 1, b + 1] (as stage 02's agreement rule)
LOSSLESS_PCT = 0.1      # "lossless": loses less than 0.1 % of nDCG@10
FLOAT8_MAX_LOSS = 0.3   # claim 1: float8 loses less than 0.3 %
UNUSABLE_LOSS = 50.0    # "unusable": loses more than half of nDCG@10
PAPER_FORMATS = ("float32", "float16", "bfloat16", "float8_e4m3", "float8_e5m2", "float4_e2m1", "int8", "binary")
FLOAT8 = ("float8_e4m3", "float8_e5m2")
# Claim 4's Pareto advice: compression-ratio band -> configuration families expected on the frontier.
# Ratios are measured (4 × dims / bytes per vector); "exactly 32×" allows 0.1 % for rounding.
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
    2: "Per model and kept fraction: PCA loses no more than any other reducer run (float32); PCA at 50 % (2×) "
       "loses more than float16, and PCA at 25 % (4×) more than both float8 formats.",
    3: "Per model: PCA 50 % + E4M3, and PCA 50 % + E5M2, each lose less than int8 at 100 %.",
    4: "Per model, on the Pareto frontier of the paper's configurations (its formats × PCA, measured bytes): "
       "in each compression band where the advised family was run, the frontier has points and all are of that "
       "family.",
    5: "For every pair of models of different width: the wider one loses less on average over the shared "
       "quantization formats (float32 and float4 excluded) and over the shared PCA fractions (float32), "
       "computed on the collections both models were run on.",
}


@dataclass
class Check:
    model: str
    what: str
    result: bool | None  # None: not run
    detail: str = ""

    def __post_init__(self) -> None:
        if self.result is not None:
            self.result = bool(self.result)  # numpy booleans from comparisons


@dataclass
class ClaimResult:
    number: int
    claim: str
    paper: str
    ours: dict[str, str]
    checks: list[Check] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        return verdict([c.result for c in self.checks])

    @property
    def checked(self) -> str:
        ran = [c.result for c in self.checks if c.result is not None]
        if not ran:
            return f"no check ran ({len(self.checks)} not run)"
        return f"{sum(ran)}/{len(ran)} checks hold" + (
            f", {len(self.checks) - len(ran)} not run" if len(ran) < len(self.checks) else "")


def verdict(results: list[bool | None]) -> str:
    """holds / partly / does not hold from the checks that ran; ``not run`` when none did."""
    ran = [r for r in results if r is not None]
    if not ran:
        return "not run"
    if all(ran):
        return "holds"
    return "does not hold" if not any(ran) else "partly"


# --- looking configurations up ----------------------------------------------------------------------


def paper_space(configs: pd.DataFrame) -> pd.DataFrame:
    """The configurations the paper could have run: its formats, no reduction or PCA, no rescoring."""
    keep = configs.format.isin(PAPER_FORMATS) & configs.reducer.isin([NONE, "pca"])
    for col, default in (("rescore", NONE), ("query_format", "same"), ("index", NONE)):
        if col in configs.columns:
            keep &= configs[col] == default
    # one configuration per (model, format, reducer, fraction): the first in stage order (e.g. stage 02's int8)
    return configs[keep].drop_duplicates(["model", "format", "reducer", "fraction"], keep="first")


def loss(space: pd.DataFrame, model: str, fmt: str, reducer: str = NONE, fraction: float = 1.0) -> float | None:
    """% of nDCG@10 lost (positive = worse) by one configuration, ``None`` if it was not run."""
    hit = space[(space.model == model) & (space.format == fmt) & (space.reducer == reducer)
                & np.isclose(space.fraction, fraction)]
    return None if hit.empty else float(hit.loss_pct.iloc[0])


def _paper() -> pd.DataFrame:
    table = paper_table1()
    table["loss_pct"] = -table.change_pct
    table["reducer"] = np.where(table.fraction < 1, "pca", NONE)
    return table


def _fmt(value: float | None) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{-value:+.2f}"


def _lt(a: float | None, b: float | None) -> bool | None:
    return None if a is None or b is None else a < b


def _pair(values: dict[str, float | None], names: list[str]) -> str:
    return "/".join(_fmt(values.get(n)) for n in names)


# --- the five claims -------------------------------------------------------------------------------


def claim1(space: pd.DataFrame, models: list[str]) -> ClaimResult:
    paper = _paper()
    pm = ["bge-small", "nomic-v1.5"]

    def p(fmt: str) -> str:
        return _pair({m: loss(paper, m, fmt) for m in pm}, pm)

    paper_text = (f"E4M3 {p('float8_e4m3')}, E5M2 {p('float8_e5m2')}; int8 {p('int8')}; binary {p('binary')}; "
                  f"f16 {p('float16')}, bf16 {p('bfloat16')}; float4 {p('float4_e2m1')} (% change, bge/nomic)")
    result = ClaimResult(1, CLAIMS[1], paper_text, {})
    for m in models:
        L = {f: loss(space, m, f) for f in PAPER_FORMATS}
        f8 = [L[f] for f in FLOAT8]
        f8_ok = None if None in f8 else all(v < FLOAT8_MAX_LOSS for v in f8)
        beats = None if None in f8 or L["int8"] is None else max(f8) < L["int8"]
        lo, hi = 7 - TOLERANCE_POINTS, 11 + TOLERANCE_POINTS
        binary = None if L["binary"] is None else lo <= L["binary"] <= hi
        half = [L["float16"], L["bfloat16"]]
        lossless = None if None in half else all(v < LOSSLESS_PCT for v in half)
        f4 = None if L["float4_e2m1"] is None else L["float4_e2m1"] > UNUSABLE_LOSS
        result.checks += [
            Check(m, f"float8 loses < {FLOAT8_MAX_LOSS} %", f8_ok, f"E4M3 {_fmt(f8[0])}, E5M2 {_fmt(f8[1])}"),
            Check(m, "float8 loses less than int8", beats, f"int8 {_fmt(L['int8'])}"),
            Check(m, f"binary loses {lo:g}–{hi:g} %", binary, f"binary {_fmt(L['binary'])}"),
            Check(m, f"float16/bfloat16 lose < {LOSSLESS_PCT} %", lossless, f"{_fmt(half[0])}/{_fmt(half[1])}"),
            Check(m, f"float4 loses > {UNUSABLE_LOSS:g} %", f4, f"float4 {_fmt(L['float4_e2m1'])}"),
        ]
        result.ours[m] = (f"E4M3 {_fmt(L['float8_e4m3'])}, E5M2 {_fmt(L['float8_e5m2'])}; int8 {_fmt(L['int8'])}; "
                          f"binary {_fmt(L['binary'])}; f16 {_fmt(L['float16'])}, bf16 {_fmt(L['bfloat16'])}; "
                          f"float4 {_fmt(L['float4_e2m1'])}")
    return result


def claim2(configs: pd.DataFrame, space: pd.DataFrame, models: list[str]) -> ClaimResult:
    paper = _paper()
    pm = ["bge-small", "nomic-v1.5"]
    pca = {f: _pair({m: loss(paper, m, "float32", "pca", f) for m in pm}, pm) for f in (0.5, 0.25)}
    paper_text = (f"PCA 50 % {pca[0.5]}, 25 % {pca[0.25]} (Table 1; the text says -19.6/-6.9 at 25 %); "
                  "ranking PCA ≈ kernel PCA ≫ random projection ≫ autoencoder, UMAP (no numbers)")
    result = ClaimResult(2, CLAIMS[2], paper_text, {})
    reduced = configs[(configs.format == "float32") & (configs.reducer != NONE) & (configs.rescore == NONE)]
    for m in models:
        mine = reduced[reduced.model == m]
        parts = []
        fractions = sorted(set(mine[mine.reducer == "pca"].fraction), reverse=True)
        for f in fractions:
            at = mine[np.isclose(mine.fraction, f)]
            others = at[at.reducer != "pca"]
            pca_loss = float(at[at.reducer == "pca"].loss_pct.min())
            if others.empty:
                result.checks.append(Check(m, f"PCA best reducer at {f:.0%}", None, "no other reducer run"))
                continue
            best_other = others.sort_values("loss_pct").iloc[0]
            result.checks.append(Check(m, f"PCA best reducer at {f:.0%}", pca_loss <= best_other.loss_pct,
                                       f"PCA {_fmt(pca_loss)} vs {best_other.reducer} {_fmt(best_other.loss_pct)}"))
        if not fractions:
            result.checks.append(Check(m, "PCA best reducer", None, "reduction not run"))
        p50, p25 = loss(space, m, "float32", "pca", 0.5), loss(space, m, "float32", "pca", 0.25)
        f16 = loss(space, m, "float16")
        f8 = [loss(space, m, f) for f in FLOAT8]
        result.checks += [
            Check(m, "PCA 50 % loses more than float16 (2×)", _lt(f16, p50), f"PCA {_fmt(p50)} vs f16 {_fmt(f16)}"),
            Check(m, "PCA 25 % loses more than float8 (4×)", None if None in f8 or p25 is None else max(f8) < p25,
                  f"PCA {_fmt(p25)} vs float8 {_fmt(max(f8) if None not in f8 else None)}"),
        ]
        if fractions:
            shown = 0.5 if any(np.isclose(fractions, 0.5)) else fractions[-1]
            ranking = mine[np.isclose(mine.fraction, shown)].sort_values("loss_pct")
            listed = ", ".join(f"{r.reducer} {_fmt(r.loss_pct)}" for r in ranking.itertuples())
            parts.append(f"at {shown:.0%}: {listed}")
        parts.insert(0, f"PCA 50 % {_fmt(p50)}, 25 % {_fmt(p25)}")
        result.ours[m] = "; ".join(parts)
    return result


def claim3(space: pd.DataFrame, models: list[str]) -> ClaimResult:
    paper = _paper()
    pm = ["bge-small", "nomic-v1.5"]
    paper_text = (f"PCA 50 % + E4M3 {_pair({m: loss(paper, m, 'float8_e4m3', 'pca', 0.5) for m in pm}, pm)}, "
                  f"+ E5M2 {_pair({m: loss(paper, m, 'float8_e5m2', 'pca', 0.5) for m in pm}, pm)} vs int8 "
                  f"{_pair({m: loss(paper, m, 'int8') for m in pm}, pm)}")
    result = ClaimResult(3, CLAIMS[3], paper_text, {})
    for m in models:
        int8 = loss(space, m, "int8")
        combo = {f: loss(space, m, f, "pca", 0.5) for f in FLOAT8}
        for f in FLOAT8:
            result.checks.append(Check(m, f"PCA 50 % + {f} loses less than int8", _lt(combo[f], int8),
                                       f"{_fmt(combo[f])} vs {_fmt(int8)}"))
        result.ours[m] = (f"+ E4M3 {_fmt(combo['float8_e4m3'])}, + E5M2 {_fmt(combo['float8_e5m2'])} "
                          f"vs int8 {_fmt(int8)}")
    return result


def claim4(space: pd.DataFrame, models: list[str]) -> ClaimResult:
    advice = "; ".join(f"{name}: {' or '.join(sorted(fams))}" for name, _, fams in BANDS)
    result = ClaimResult(4, CLAIMS[4], f"advice only, no frontier numbers ({advice})", {})
    for m in models:
        mine = space[space.model == m].copy()
        mine["frontier"] = pareto_mask(mine.bytes_per_vector, -mine.loss_pct)
        front = mine[mine.frontier & (mine.compression_ratio > 1 + 1e-9)].sort_values("compression_ratio")
        for name, inside, fams in BANDS:
            in_band = front[[bool(inside(r)) for r in front.compression_ratio]]
            in_range = np.array([bool(inside(r)) for r in mine.compression_ratio])
            advised = mine[mine.family.isin(fams).to_numpy() & in_range]
            if advised.empty:
                result.checks.append(Check(m, f"frontier {name}", None, "advised family not run in this band"))
            elif in_band.empty:  # every advised configuration here is dominated by a more compressed one
                result.checks.append(Check(m, f"frontier {name}", False,
                                           "no frontier point in this band: a more compressed configuration "
                                           f"is smaller and better than {', '.join(advised.label)}"))
            else:
                ok = bool(in_band.family.isin(fams).all())
                result.checks.append(Check(m, f"frontier {name}", ok, ", ".join(in_band.label)))
        result.ours[m] = "frontier: " + ", ".join(f"{r.label} ({r.compression_ratio:.3g}×)" for r in front.itertuples())
    return result


def _dims(model: str, configs: pd.DataFrame) -> int:
    if model in MODELS:
        return MODELS[model].dims
    base = configs[(configs.model == model) & (configs.format == "float32") & (configs.reducer == NONE)]
    return int(base.bytes_per_vector.iloc[0] // 4)


def claim5(tidy: pd.DataFrame, configs: pd.DataFrame, models: list[str], weighting: str) -> ClaimResult:
    paper = _paper()
    quant = [f for f in PAPER_FORMATS if f not in ("float32", "float4_e2m1")]

    def means(space: pd.DataFrame, model: str) -> tuple[float | None, float | None]:
        q = [loss(space, model, f) for f in quant]
        r = [loss(space, model, "float32", "pca", f) for f in (0.9, 0.75, 0.5, 0.25)]
        q, r = [v for v in q if v is not None], [v for v in r if v is not None]
        return (float(np.mean(q)) if q else None), (float(np.mean(r)) if r else None)

    pq = {m: means(paper, m) for m in ("bge-small", "nomic-v1.5")}
    paper_text = (f"mean loss, quantization (no float4) {pq['bge-small'][0]:.2f} % (bge, 384-d) vs "
                  f"{pq['nomic-v1.5'][0]:.2f} % (nomic, 768-d); PCA {pq['bge-small'][1]:.2f} vs "
                  f"{pq['nomic-v1.5'][1]:.2f} %")
    result = ClaimResult(5, CLAIMS[5], paper_text, {m: "" for m in models})
    pairs = [(a, b) if _dims(a, configs) < _dims(b, configs) else (b, a) for a, b in combinations(models, 2)
             if _dims(a, configs) != _dims(b, configs)]
    if not pairs:
        result.checks.append(Check(", ".join(models), "two models of different width", None,
                                   "one model width only in this profile"))
        for m in models:
            result.ours[m] = "needs a second model of another width"
    for narrow, wide in pairs:
        rows = tidy[tidy.model.isin([narrow, wide])]
        shared = set(rows[rows.model == narrow].dataset) & set(rows[rows.model == wide].dataset)
        space = paper_space(configurations(rows[rows.dataset.isin(shared)], weighting=weighting))
        (qn, rn), (qw, rw) = means(space, narrow), means(space, wide)
        tag = f"{wide} vs {narrow}"
        result.checks += [
            Check(tag, "wider model loses less to quantization", _lt(qw, qn), f"{_fmt(qw)} vs {_fmt(qn)}"),
            Check(tag, "wider model loses less to PCA", _lt(rw, rn), f"{_fmt(rw)} vs {_fmt(rn)}"),
        ]
        for m, q, r in ((narrow, qn, rn), (wide, qw, rw)):
            text = f"mean quantization {_fmt(q)}, PCA {_fmt(r)} ({len(shared)} shared collections)"
            result.ours[m] = "; ".join(t for t in (result.ours[m], text) if t)
    return result


# --- the scorecard ---------------------------------------------------------------------------------------


def scorecard(tidy: pd.DataFrame, models: list[str] | None = None, weighting: str = "texts") -> list[ClaimResult]:
    """Check the paper's five claims on a profile's tidy results (any subset of stages)."""
    configs = configurations(tidy, weighting=weighting)
    models = models or list(dict.fromkeys(configs.model))
    models = [m for m in models if m in set(configs.model)]
    space = paper_space(configs)
    return [claim1(space, models), claim2(configs, space, models), claim3(space, models), claim4(space, models),
            claim5(tidy, configs, models, weighting)]


def as_table(claims: list[ClaimResult]) -> pd.DataFrame:
    """One row per claim: the claim, the paper's numbers, ours per model, the verdict and the checks."""
    models = list(dict.fromkeys(m for c in claims for m in c.ours))
    rows = []
    for c in claims:
        row = {"claim": c.number, "statement": c.claim, "paper": c.paper}
        row |= {f"ours: {m}": c.ours.get(m, "") for m in models}
        row |= {"verdict": c.verdict, "checks": c.checked}
        rows.append(row)
    return pd.DataFrame(rows)


def checks_table(claims: list[ClaimResult]) -> pd.DataFrame:
    """Every check of every claim (the evidence behind each verdict)."""
    return pd.DataFrame([
        {"claim": c.number, "model": k.model, "check": k.what,
         "result": {True: "holds", False: "does not hold", None: "not run"}[k.result], "numbers": k.detail}
        for c in claims for k in c.checks
    ])
