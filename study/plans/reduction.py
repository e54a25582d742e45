"""Stages 03 and 04's plan: each format unreduced, then every reducer × kept fraction × collection × format."""

from __future__ import annotations

from dataclasses import replace

from study.compress.formats import get_format
from study.compress.reducers import SEED
from study.experiment.configs import NONE, Config
from study.experiment.runner import Plan, RunOptions, plan_of, targets
from study.params import CombinedParams, ReductionParams


def plan(p: ReductionParams | CombinedParams, only: tuple[str, str] | None = None) -> Plan:
    """Reduce first, then quantize: each format unreduced (the baselines), then every method × kept fraction ×
    collection × format. A reducer is fit on ``p.fit_on`` (``self``: on each corpus; truncation fits nothing);
    a calibrated format's ranges come from the *reduced* ``p.calibrate_on`` set. Stage 03 takes ``methods``,
    stage 04 ``reducers``."""
    stage = "03" if isinstance(p, ReductionParams) else "04"
    methods = p.methods if stage == "03" else p.reducers
    chosen = targets(p, only)
    configs = []
    for model in p.models:
        mine = [t for t in chosen if t.model == model]
        configs += [_formatted(Config(model, t.name, t.split), fmt, p.calibrate_on) for t in mine for fmt in p.formats]
        for method in methods:
            fit_on = p.fit_on if method != "truncation" else NONE
            for fraction in p.fractions:
                configs += [_formatted(Config(model, t.name, t.split, reducer=method, fraction=float(fraction),
                                              fit_on=fit_on), fmt, p.calibrate_on)
                            for t in mine for fmt in p.formats]
    return plan_of(configs, RunOptions(stage, fit_sample=p.fit_sample, seed=SEED, fit_rows=True), chosen)


def _formatted(base: Config, fmt: str, calibrate_on: str) -> Config:
    needs = get_format(fmt).needs_calibration
    return replace(base, format=fmt, calibrate_on=calibrate_on if needs else NONE)
