"""Stage 09's plan: the codecs engineers use today, trained on each training set, alone, after a reducer and as
the first tier of two-tier rescoring.

Where a codec is trained is an axis (``calibrate_on``): the paper's fit set (a named collection), ``self`` (the
corpus searched, as a deployment trains) and ``pool`` (the model's other evaluated collections: two-fold
cross-fitting, ``study.experiment.configs.pool_members``). The rules, applied openly:

- A codec whose parameters do not depend on the sample (``Format.learns_from_sample`` is false: binary_rotated,
  TurboQuant) has one row, trained on ``untrained``.
- A training set smaller than a codec's minimum (``min_training_rows``: one vector per k-means centroid, faiss'
  hard limit, so 256 for PQ/OPQ with 8-bit codes and 16 for fast-scan; OPQ also needs as many vectors as
  dimensions) is not used: that configuration is not applicable (``not_applicable`` lists it with the reason); no
  other set stands in for it.
- The pool trains PQ families (OPQ + PQ, PQ, PQ fast-scan) only at sign binary's bytes (``d / 8`` per vector,
  the 32× point): a pool is a training per fold, and OPQ's are minutes each; the other codecs train on the pool at
  every width.

PQ families are scored as faiss searches them, with float32 queries against the codes (ADC), alone, after a
reducer and as a first tier; with encoded queries only as an extra row (alone and after a reducer). Reduced codecs
and first tiers train on the first named set. A training collection is never evaluated here.
"""

from __future__ import annotations

from dataclasses import replace

from study.compress.codecs import min_training_rows
from study.compress.formats import Format, get_format
from study.compress.reducers import n_components
from study.config import POOL, SELF
from study.core.errors import ParameterError
from study.experiment.configs import (  # noqa: F401  (is_pq, training_set_of: re-exported)
    NONE,
    PQ_PREFIXES,
    Config,
    is_named_set,
    is_pq,
    training_set_of,
)
from study.experiment.runner import Plan, RunOptions, Target, plan_of, targets, two_tier
from study.params import CodecParams

STAGE = "09"


def pq_bytes(fmt: str) -> int:
    """Bytes per vector of a PQ family codec: ``opq48`` → 48, ``pq48x8`` → 48, ``pq96x4fs`` → 48."""
    if fmt.startswith("opq"):
        return int(fmt[3:])
    m, _, bits = fmt[2:].partition("x")
    return int(m) * (4 if bits.startswith("4") else 8) // 8


def width_allows(fmt: str, dims: int) -> bool:
    """PQ codecs need the width to be a multiple of their sub-quantizer count (``m``)."""
    if fmt.startswith("opq"):
        return dims % int(fmt[3:]) == 0
    if fmt.startswith("pq"):
        return dims % int(fmt[2:].split("x")[0]) == 0
    return True


def unusable(fmt: Format, training_set: str, dims: int, corpus_rows: int) -> str | None:
    """Why ``fmt`` is not trained on ``training_set`` for a corpus of ``corpus_rows`` vectors of width ``dims``
    (None: it is)."""
    needed = min_training_rows(fmt, dims)
    if training_set == SELF and corpus_rows < needed:
        return f"the corpus has {corpus_rows} vectors; {fmt.name} needs at least {needed} to train"
    if training_set == POOL and is_pq(fmt.name) and pq_bytes(fmt.name) * 8 != dims:
        return f"PQ families train on the pool only at sign binary's bytes ({dims // 8} B)"
    return None


def _trainings(fmt: str, calibrate_on: list[str], dims: int, corpus_rows: int) -> tuple[list[str], list[tuple]]:
    """(the training sets ``fmt`` is trained on, the (set, reason) pairs it is not)."""
    sets = list(dict.fromkeys(training_set_of(fmt, c) for c in calibrate_on)) or [NONE]
    used, skipped = [], []
    for c in sets:
        reason = unusable(get_format(fmt), c, dims, corpus_rows)
        (skipped.append((c, reason)) if reason else used.append(c))
    return used, skipped


def _plan(data: Target, formats: list[str], calibrate_on: list[str], asymmetric: list[str]
          ) -> tuple[list[Config], list[dict]]:
    base = {"model": data.model, "dataset": data.dataset, "split": data.split}
    plan, skipped = [], []
    for fmt in [f for f in formats if width_allows(f, data.dims)]:
        used, not_used = _trainings(fmt, calibrate_on, data.dims, data.n_docs)
        skipped += [base | {"format": fmt, "calibrate_on": c, "reason": r} for c, r in not_used]
        for cal in used:
            plan.append(Config(**base, format=fmt, calibrate_on=cal))
            if (fmt in asymmetric or is_pq(fmt)) and fmt != "float32":
                plan.append(Config(**base, format=fmt, calibrate_on=cal, query_format="float32"))
    return plan, skipped


def training_sets(p: CodecParams) -> set[str]:
    """The collections stage 09 trains on (codecs, reducers): never evaluated here."""
    return {c for c in [*p.calibrate_on, p.fit_on] if is_named_set(c)}


def _pools(p: CodecParams, skip: set[str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Per model, the collections its pools are drawn from: every collection it is evaluated on (whatever part
    is run: a pool does not depend on ``only``)."""
    if POOL not in p.calibrate_on:
        return ()
    everything = targets(p, None, skip)
    return tuple((m, tuple(t.source for t in everything if t.model == m)) for m in p.models)


def _targets(p: CodecParams, only: tuple[str, str] | None) -> tuple[list[Target], set[str]]:
    skip = training_sets(p)
    chosen = targets(p, only, skip)
    for model in p.models if only is None else []:
        if not any(t.model == model for t in chosen):
            raise ParameterError("datasets", p.datasets_of(model), "at least one collection that is not a training set")
    return chosen, skip


def plan_and_skipped(p: CodecParams, only: tuple[str, str] | None = None) -> tuple[Plan, list[dict]]:
    """Every configuration of stage 09, per collection: each codec trained on each of ``p.calibrate_on`` where it
    applies (module docstring; the others are returned as not applicable, with the reason), with float32 queries
    where asymmetric; each codec of ``p.reduced_formats`` after each reducer × kept fraction (fit on ``p.fit_on``),
    trained on the reduced first named set; each first tier of ``p.rescore_first`` (trained on that set)
    re-ranked by each tier × oversampling. Without a named set, PQ families are left out of both. Training
    collections are never evaluated."""
    shared = next((c for c in p.calibrate_on if is_named_set(c)), None)
    chosen, skip = _targets(p, only)
    reduced_formats, rescore_first = p.reduced_formats, p.rescore_first
    if shared is None:
        reduced_formats = [f for f in reduced_formats if not is_pq(f)]
        rescore_first = [f for f in rescore_first if not is_pq(f)]
        shared = SELF
    configs, skipped = [], []
    for t in chosen:
        alone, not_applicable = _plan(t, p.formats, p.calibrate_on, p.asymmetric)
        configs += alone
        skipped += not_applicable
        for method in p.reducers:
            fit = p.fit_on if method != "truncation" else NONE
            for fraction in p.fractions:
                dims = n_components(t.dims, fraction)
                for fmt in [f for f in reduced_formats if width_allows(f, dims)]:
                    cfg = Config(t.model, t.name, t.split, reducer=method, fraction=float(fraction), fit_on=fit,
                                 format=fmt, calibrate_on=training_set_of(fmt, shared))
                    configs += [cfg, replace(cfg, query_format="float32")] if is_pq(fmt) else [cfg]
        for fmt in rescore_first:  # one training set for both tiers: the named one (a calibrated tier needs it)
            first = Config(t.model, t.name, t.split, format=fmt, calibrate_on=shared,
                           query_format="float32" if is_pq(fmt) else "same")
            configs += two_tier(first, p.rescore_tiers, p.oversampling)
    return plan_of(configs, RunOptions(STAGE, pools=_pools(p, skip)), chosen), skipped


def plan(p: CodecParams, only: tuple[str, str] | None = None) -> Plan:
    """Stage 09's plan (``plan_and_skipped``)."""
    return plan_and_skipped(p, only)[0]


def not_applicable(p: CodecParams) -> list[dict]:
    """The (collection, codec, training set) combinations stage 09 does not run, each with its reason."""
    return plan_and_skipped(p)[1]
