"""Stage 06's plan: the paper's formats and their corrections, asymmetric search, two-tier rescoring.

Paper-faithful formats keep the paper's calibration set (``paper_calibrate_on``); the corrected ones are calibrated
on each of ``calibrate_on`` (the first one also serves the asymmetric and rescoring runs).
"""

from __future__ import annotations

from study.compress.formats import get_format
from study.experiment.configs import NONE, Config, EvalData
from study.experiment.runner import Plan, RunOptions, Target, plan_of, targets, two_tier
from study.params import BeyondParams

STAGE = "06"


def _calibration_sets(fmt: str, calibrate_on: list[str], paper_calibrate_on: str) -> list[str]:
    f = get_format(fmt)
    if not f.needs_calibration:
        return [NONE]
    return [paper_calibrate_on] if f.paper_faithful else list(calibrate_on)


def _plan(
    data: EvalData | Target, formats: list[str], calibrate_on: list[str], paper_calibrate_on: str,
    asymmetric: list[str], rescore_first: list[str],
) -> list[tuple[Config, str]]:
    """(configuration, kind) of one (model, collection): kind ∈ symmetric / asymmetric / rescore."""
    base = {"model": data.model, "dataset": data.dataset, "split": data.split}
    plan = [(Config(**base, format=f, calibrate_on=c), "symmetric")
            for f in formats for c in _calibration_sets(f, calibrate_on, paper_calibrate_on)]
    plan += [(Config(**base, format=f, calibrate_on=_calibration_sets(f, calibrate_on, paper_calibrate_on)[0],
                     query_format="float32"), "asymmetric") for f in asymmetric if f != "float32"]
    plan += [(Config(**base, format=f, calibrate_on=calibrate_on[0]), "rescore") for f in rescore_first]
    return plan


def plan(p: BeyondParams, only: tuple[str, str] | None = None) -> Plan:
    """Per collection: every format (the paper's on the paper's calibration set, the corrected ones on each of
    ``p.calibrate_on``), the asymmetric runs, then each first tier of ``p.rescore_first`` × tier × oversampling."""
    chosen = targets(p, only)
    configs = []
    for t in chosen:
        for cfg, kind in _plan(t, p.formats, p.calibrate_on, p.paper_calibrate_on, p.asymmetric, p.rescore_first):
            configs += two_tier(cfg, p.rescore_tiers, p.oversampling) if kind == "rescore" else [cfg]
    return plan_of(configs, RunOptions(STAGE), chosen)
