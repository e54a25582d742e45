"""Redraw a profile's stage tables and figures from its saved tidy results, without rerunning
an experiment (``study publish --profile full``): what a change to the analysis or to a caption needs.

Each stage's ``publish_*`` function is the same one its notebook calls after the experiment; the parameters
(formats, weighting, fit and calibration sets) are ``study.params.profiles.stage_params``: what the workflow
passes the notebook, with the stage's defaults.
Stage 05 (trade-off, scorecard, macros, README block) is then rerun by its own rule or notebook.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from study.analysis import report
from study.config import workflow_config
from study.core import artifacts
from study.core.errors import ParameterError, StudyError
from study.params.profiles import stage_params
from study.stages.beyond import publish_beyond
from study.stages.codecs import publish_codecs
from study.stages.indexes import publish_indexes
from study.stages.quantization import publish_quantization
from study.stages.reduction import publish_combined, publish_reduction

STAGES = artifacts.PUBLISHED_STAGES
STEMS = {stage: artifacts.STAGES[stage].stem for stage in STAGES}


def _load(stem: str, profile: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    path = report.tidy_path(report.output_dirs(profile)["results"], stem)
    if not path.exists():
        raise StudyError(f"no {path}: run the stage first (make study PROFILE={profile})")
    return report.saved(stem, profile)


def _timings(profile: str) -> pd.DataFrame:
    path = report.output_dirs(profile)["results"] / "tables" / f"{artifacts.REDUCTION_TIMINGS}.csv"
    return pd.read_csv(path) if path.exists() else pd.DataFrame()


def _written(out) -> list[Path]:
    """Every file a stage's output names: its tables (``files``) and its figures (one or several, each a
    {format: path})."""
    figures = out.figures.values() if hasattr(out, "figures") else [out.figure]
    return [*out.files.values(), *(path for figure in figures for path in figure.values())]


def publish_stage(stage: str, profile: str) -> list[Path]:
    """Rewrite one stage's figures and tables from its saved results; returns the paths it wrote."""
    tidy, per_query = _load(STEMS[stage], profile)
    p = stage_params(stage, workflow_config(profile) | {"profile": profile})
    if stage == "quantization":
        out = publish_quantization(tidy, per_query, p.formats, p.weighting, profile)
    elif stage == "reduction":
        out = publish_reduction(tidy, p.weighting, p.fit_on, profile, _timings(profile))
    elif stage == "combined":
        out = publish_combined(tidy, p.reducers, p.formats, p.weighting, p.fit_on, profile)
    elif stage == "codecs":
        out = publish_codecs(tidy, per_query, p.weighting, profile, p.n_resamples, p.seed)
    elif stage == "indexes":
        out = publish_indexes(tidy, per_query, p.repeats, profile)
    else:
        out = publish_beyond(tidy, per_query, p.formats, p.weighting, profile, p.n_resamples, p.seed)
    return _written(out)


def publish(profile: str, stages: list[str] | None = None) -> dict[str, list[Path]]:
    """Every stage of ``stages`` (default: each whose results exist) republished; {stage: the paths it wrote}."""
    folder = report.output_dirs(profile)["results"]
    wanted = stages or [s for s in STAGES if (folder / f"{STEMS[s]}.csv").exists()]
    unknown = [s for s in wanted if s not in STAGES]
    if unknown:
        raise ParameterError("stages", unknown, STAGES)
    return {stage: publish_stage(stage, profile) for stage in wanted}
