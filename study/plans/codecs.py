"""Stage 09's plan: the codecs engineers use today, trained on each training set, alone, after a reducer and as
the first tier of two-tier rescoring.

PQ families (OPQ + PQ, PQ, PQ fast-scan) are scored as faiss searches them, with float32 queries against the
codes (ADC), alone, after a reducer and as a first tier; with encoded queries only as an extra row (alone and
after a reducer). They train only on the shared sets: k-means with 256 centroids per sub-quantizer
cannot be fitted on a corpus of 82 documents (adi), and a deployment large enough to need PQ trains on a sample
that the fit set stands in for. A training collection is never evaluated here.
"""

from __future__ import annotations

from dataclasses import replace

from study.compress.formats import get_format
from study.compress.reducers import n_components
from study.config import SELF
from study.core.errors import ParameterError
from study.experiment.configs import NONE, Config, EvalData
from study.experiment.runner import Plan, RunOptions, Target, plan_of, targets, two_tier
from study.params import CodecParams

STAGE = "09"


PQ_PREFIXES = ("opq", "pq")


def trains_on_self(fmt: str) -> bool:
    return not fmt.startswith(PQ_PREFIXES)


def is_pq(fmt: str) -> bool:
    """A PQ family (OPQ + PQ, PQ, PQ fast-scan): faiss searches it with float32 queries against the codes (ADC)."""
    return fmt.startswith(PQ_PREFIXES)


def width_allows(fmt: str, dims: int) -> bool:
    """PQ codecs need the width to be a multiple of their sub-quantizer count (``m``)."""
    if fmt.startswith("opq"):
        return dims % int(fmt[3:]) == 0
    if fmt.startswith("pq"):
        return dims % int(fmt[2:].split("x")[0]) == 0
    return True


def _plan(data: EvalData | Target, formats: list[str], calibrate_on: list[str], asymmetric: list[str]) -> list[Config]:
    base = {"model": data.model, "dataset": data.dataset, "split": data.split}
    plan = []
    for fmt in [f for f in formats if width_allows(f, data.dims)]:
        needs = get_format(fmt).needs_calibration
        for cal in calibrate_on if needs else [NONE]:
            if cal == SELF and not trains_on_self(fmt):
                continue
            plan.append(Config(**base, format=fmt, calibrate_on=cal))
            if (fmt in asymmetric or is_pq(fmt)) and fmt != "float32":
                plan.append(Config(**base, format=fmt, calibrate_on=cal, query_format="float32"))
    return plan


def training_sets(p: CodecParams) -> set[str]:
    """The collections stage 09 trains on (codecs, reducers): never evaluated here."""
    return {c for c in [*p.calibrate_on, p.fit_on] if c not in (SELF, NONE)}


def plan(p: CodecParams, only: tuple[str, str] | None = None) -> Plan:
    """Every configuration of stage 09, per collection: each codec trained on each of ``p.calibrate_on`` (and with
    float32 queries where asymmetric); each codec of ``p.reduced_formats`` after each reducer × kept fraction (fit on
    ``p.fit_on``), trained on the reduced first shared set; each first tier of ``p.rescore_first`` (trained on that
    set) re-ranked by each tier × oversampling. Without a shared set, PQ families are left out of both (they do not
    train on the corpus). Training collections are never evaluated."""
    shared = next((c for c in p.calibrate_on if c != SELF), SELF)
    skip = training_sets(p)
    reduced_formats, rescore_first = p.reduced_formats, p.rescore_first
    if shared == SELF:
        reduced_formats = [f for f in reduced_formats if trains_on_self(f)]
        rescore_first = [f for f in rescore_first if trains_on_self(f)]
    chosen = targets(p, only, skip)
    for model in p.models if only is None else []:
        if not any(t.model == model for t in chosen):
            raise ParameterError("datasets", p.datasets_of(model), "at least one collection that is not a training set")
    configs = []
    for t in chosen:
        configs += _plan(t, p.formats, p.calibrate_on, p.asymmetric)
        for method in p.reducers:
            fit = p.fit_on if method != "truncation" else NONE
            for fraction in p.fractions:
                dims = n_components(t.dims, fraction)
                for fmt in [f for f in reduced_formats if width_allows(f, dims)]:
                    cfg = Config(t.model, t.name, t.split, reducer=method, fraction=float(fraction), fit_on=fit,
                                 format=fmt, calibrate_on=shared if get_format(fmt).needs_calibration else NONE)
                    configs += [cfg, replace(cfg, query_format="float32")] if is_pq(fmt) else [cfg]
        for fmt in rescore_first:
            first = Config(t.model, t.name, t.split, format=fmt, calibrate_on=shared,
                           query_format="float32" if is_pq(fmt) else "same")
            configs += two_tier(first, p.rescore_tiers, p.oversampling)
    return plan_of(configs, RunOptions(STAGE), chosen)
