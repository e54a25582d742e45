"""Verdicts with their uncertainty: paired query-level bootstrap CIs and leave-one-collection-out.

A *check* is a statement about configurations of one model on one collection set (``study.analysis.comparison``),
made of *conditions* (all must hold). A condition bounds a statistic built from *terms*; a term is a
paired comparison of configuration A with B on the same queries, either as a % change
(``100 · (A / B − 1)``, B the float32 baseline) or as a difference of nDCG@10 (``A − B``).

* **CI verdict** (when per-query scores are available): the statistic's 95 % percentile bootstrap
  interval, queries resampled within each collection (``stats.stratified_paired``; the collections
  weighted by texts, the paper's choice, or equally). ``holds`` when the whole interval satisfies the
  bound, ``fails`` when none of it does, ``undecided`` when it crosses the bound.
* **Point verdict**: the statistic itself against the bound (what the CI verdict falls back to
  without per-query scores).
* **Robustness**: leave one collection out at a time; a check whose point verdict flips for some
  dropped collection is *fragile*, and those collections are named.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from study.analysis import stats
from study.analysis.report import WEIGHTINGS

STATES = ("holds", "fails", "undecided")
LEVEL = stats.LEVEL


@dataclass(frozen=True)
class Term:
    """A paired comparison: configuration ``a`` against ``b`` (config keys of one model) on ``collections``."""

    model: str
    a: str
    b: str
    collections: tuple[str, ...]
    kind: str = "change"  # "change": % change of a vs b; "diff": a − b in metric points


@dataclass
class Condition:
    """``low < statistic < high`` where statistic = ``combine([term values])`` (one term: itself)."""

    terms: list[Term]
    low: float = -np.inf
    high: float = np.inf
    combine: Callable[[list[np.ndarray]], np.ndarray] | None = None

    def statistic(self, values: list[np.ndarray]) -> np.ndarray:
        return values[0] if self.combine is None else self.combine(values)


@dataclass
class Outcome:
    """What one check found, per weighting (``point``/``ci``: its first condition's statistic)."""

    point: float | None = None
    ci: tuple[float, float] | None = None
    state: str | None = None  # holds / fails / undecided; None = not run
    fragile: list[str] = field(default_factory=list)
    kind: str = "change"  # the first condition's unit: "change" (%) or "diff" (metric points)

    def text(self) -> str:
        """The statistic with its CI: % change to 2 decimals, a difference of nDCG@10 to 4."""
        return ci_text(self.point, self.ci, 4 if self.kind == "diff" else 2)


def state_of(low: float, high: float, lo: float, hi: float) -> str:
    """holds if [lo, hi] lies inside (low, high), fails if it lies outside, else undecided."""
    if lo > low and hi < high:
        return "holds"
    if hi <= low or lo >= high:
        return "fails"
    return "undecided"


def combine_states(states: Sequence[str | None]) -> str | None:
    """All conditions of a check: fails if one fails, holds if all hold, else undecided (None: not run)."""
    if not states or any(s is None for s in states):
        return None
    if "fails" in states:
        return "fails"
    return "holds" if all(s == "holds" for s in states) else "undecided"


class Evidence:
    """Per-collection means and per-query scores of one metric, for evaluating terms.

    ``rows``: deduplicated tidy rows of one metric with a ``_key`` column (``comparison.config_key``);
    ``per_query``: the stages' per-query scores (``None``: point verdicts only)."""

    def __init__(self, rows: pd.DataFrame, per_query: pd.DataFrame | None, metric: str = "ndcg_at_10",
                 n_resamples: int = stats.N_RESAMPLES, seed: int = stats.SEED) -> None:
        self.rows = rows
        self.per_query = per_query
        self.metric = metric
        self.n_resamples, self.seed = n_resamples, seed
        index = rows.set_index(["model", "cfg_key", "dataset"])
        self._value = index.value.to_dict()
        self._id = index.config_id.to_dict() if "config_id" in rows else {}
        self._texts = rows.drop_duplicates("dataset").set_index("dataset").n_texts.astype(float).to_dict()

    def has(self, model: str, key: str, collections: Sequence[str]) -> bool:
        return all((model, key, d) in self._value for d in collections)

    def weights(self, collections: Sequence[str], weighting: str) -> np.ndarray:
        if weighting not in WEIGHTINGS:
            raise ValueError(f"weighting must be one of {WEIGHTINGS}")
        w = np.array([self._texts[d] if weighting == "texts" else 1.0 for d in collections])
        return w / w.sum()

    def _means(self, term: Term, collections: Sequence[str], weighting: str) -> tuple[float, float]:
        w = self.weights(collections, weighting)
        a = np.array([self._value[(term.model, term.a, d)] for d in collections])
        b = np.array([self._value[(term.model, term.b, d)] for d in collections])
        return float(w @ a), float(w @ b)

    @staticmethod
    def term_value(term: Term, value: np.ndarray, baseline: np.ndarray) -> np.ndarray:
        if term.kind == "diff":
            return value - baseline
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(baseline > 0, 100 * (value / baseline - 1), np.nan)

    def point(self, term: Term, weighting: str, without: str | None = None) -> float:
        collections = [d for d in term.collections if d != without]
        value, baseline = self._means(term, collections, weighting)
        return float(self.term_value(term, np.array(value), np.array(baseline)))

    def draws(self, terms: list[Term], weighting: str) -> dict[Term, np.ndarray] | None:
        """Bootstrap draws of every term (one shared set of resamples per collection), or None without
        per-query scores."""
        if self.per_query is None or not terms or not self._id:
            return None
        pairs = []
        for group, t in enumerate(terms):
            w = self.weights(t.collections, weighting)
            pairs.append(pd.DataFrame({
                "group": group, "dataset": list(t.collections),
                "config_id": [self._id[(t.model, t.a, d)] for d in t.collections],
                "baseline_id": [self._id[(t.model, t.b, d)] for d in t.collections], "weight": w}))
        wanted = pd.concat(pairs)  # stats.compare reads its columns, never its index
        ids = set(wanted.config_id) | set(wanted.baseline_id)
        per_query = self.per_query[self.per_query.config_id.isin(ids)]
        _, boot_x, boot_y = stats.compare(wanted, per_query, self.metric, self.n_resamples, self.seed,
                                          return_draws=True)
        return {t: self.term_value(t, boot_x[:, g], boot_y[:, g]) for g, t in enumerate(terms)}


@dataclass
class Check:
    """One statement about one model (or pair of models): its conditions and what was found."""

    model: str
    what: str
    conditions: list[Condition] = field(default_factory=list)
    detail: str = ""
    outcome: dict[str, Outcome] = field(default_factory=dict)  # weighting -> outcome
    note: str = ""  # why it did not run
    collections: object = None  # its own CollectionSet where it is not its model's (a pair of models' check)

    @property
    def ran(self) -> bool:
        return bool(self.conditions)

    def result(self, weighting: str = "texts") -> str | None:
        o = self.outcome.get(weighting)
        return o.state if o else None

    @property
    def fragile(self) -> list[str]:
        o = self.outcome.get("texts")
        return o.fragile if o else []


def _collections(check: Check) -> list[str]:
    return sorted({d for c in check.conditions for t in c.terms for d in t.collections})


def evaluate(checks: list[Check], evidence: Evidence, weightings: Sequence[str] = ("texts", "none"),
             level: float = LEVEL) -> list[Check]:
    """Fill every check's outcome per weighting: point, CI, state, and (texts) fragility."""
    tail = (1 - level) / 2 * 100
    ran = [c for c in checks if c.ran]
    terms = list(dict.fromkeys(t for c in ran for cond in c.conditions for t in cond.terms))
    for weighting in weightings:
        draws = evidence.draws(terms, weighting)
        for check in ran:
            states, points, cis = [], [], []
            for cond in check.conditions:
                point = float(cond.statistic([np.array(evidence.point(t, weighting)) for t in cond.terms]))
                points.append(point)
                if draws is None:
                    states.append(state_of(cond.low, cond.high, point, point))
                    cis.append(None)
                    continue
                sample = cond.statistic([draws[t] for t in cond.terms])
                sample = sample[np.isfinite(sample)]
                lo, hi = np.percentile(sample, [tail, 100 - tail]) if len(sample) else (np.nan, np.nan)
                cis.append((float(lo), float(hi)))
                states.append(state_of(cond.low, cond.high, float(lo), float(hi)))
            kind = "diff" if check.conditions[0].combine is None and check.conditions[0].terms[0].kind == "diff" \
                else "change"
            outcome = Outcome(points[0], cis[0], combine_states(states), kind=kind)
            if weighting == "texts":
                outcome.fragile = _fragile(check, evidence, weighting)
            check.outcome[weighting] = outcome
    return checks


def _point_state(check: Check, evidence: Evidence, weighting: str, without: str | None = None) -> str | None:
    states = []
    for cond in check.conditions:
        values = [np.array(evidence.point(t, weighting, without)) for t in cond.terms]
        point = float(cond.statistic(values))
        states.append(state_of(cond.low, cond.high, point, point))
    return combine_states(states)


def _fragile(check: Check, evidence: Evidence, weighting: str) -> list[str]:
    """Collections whose removal flips the check's point verdict (none when a term has one collection)."""
    if any(len(t.collections) < 2 for c in check.conditions for t in c.terms):
        return []
    full = _point_state(check, evidence, weighting)
    return [d for d in _collections(check) if _point_state(check, evidence, weighting, d) != full]


def ci_text(point: float | None, ci: tuple[float, float] | None, digits: int = 2) -> str:
    """``-0.93 [-1.20, -0.66]`` (or ``n/a``)."""
    if point is None or not np.isfinite(point):
        return "n/a"
    text = f"{point:+.{digits}f}"
    if ci is not None and all(np.isfinite(ci)):
        text += f" [{ci[0]:+.{digits}f}, {ci[1]:+.{digits}f}]"
    return text
