"""Redraw a profile's stage tables, figures and conclusions from its saved tidy results, without rerunning
an experiment (``study publish --profile full``): what a change to the analysis or to a caption needs.

Each stage's ``publish_*`` function is the same one its notebook calls after the experiment; the parameters
(formats, weighting, fit and calibration sets) come from the profile's YAML, as the workflow passes them.
Stage 05 (trade-off, scorecard, macros, README block) is then rerun by its own rule or notebook.
"""

from __future__ import annotations

import pandas as pd

from study.analysis import report, stats
from study.config import load_profile
from study.core.errors import ParameterError, StudyError
from study.stages.beyond import publish_beyond
from study.stages.codecs import publish_codecs
from study.stages.indexes import publish_indexes
from study.stages.quantization import publish_quantization
from study.stages.reduction import publish_combined, publish_reduction

STAGES = ("quantization", "reduction", "combined", "beyond", "indexes", "codecs")
STEMS = {"quantization": "02-quantization", "reduction": "03-reduction", "combined": "04-combined",
         "beyond": "06-beyond", "indexes": "07-indexes", "codecs": "09-codecs"}


def _load(stem: str, profile: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    folder = report.output_dirs(profile)["results"]
    if not (folder / f"{stem}.csv").exists():
        raise StudyError(f"no {folder / f'{stem}.csv'}: run the stage first (make study PROFILE={profile})")
    return report.saved(stem, profile)


def _timings(profile: str) -> pd.DataFrame:
    path = report.output_dirs(profile)["results"] / "tables" / "table-reduction-timings.csv"
    return pd.read_csv(path) if path.exists() else pd.DataFrame()


def publish_stage(stage: str, profile: str) -> str:
    """Rewrite one stage's figures and tables from its saved results; returns its conclusions."""

    config = load_profile(profile)
    tidy, per_query = _load(STEMS[stage], profile)
    quant = config.get("quantization", {})
    reduction = config.get("reduction", {})
    if stage == "quantization":
        out = publish_quantization(tidy, per_query, quant["formats"], quant.get("weighting", "texts"), profile)
    elif stage == "reduction":
        out = publish_reduction(tidy, reduction.get("weighting", "texts"), reduction.get("fit_on", "mlquestions"),
                                profile, _timings(profile))
    elif stage == "combined":
        combined = {"fit_on": reduction.get("fit_on", "mlquestions"), **config.get("combined", {})}
        out = publish_combined(tidy, combined["reducers"], combined["formats"], combined.get("weighting", "texts"),
                               combined["fit_on"], profile)
    elif stage == "codecs":
        codecs = config.get("codecs", {})
        out = publish_codecs(tidy, per_query, codecs.get("weighting", "texts"), profile,
                             codecs.get("n_resamples", stats.N_RESAMPLES), codecs.get("seed", stats.SEED))
    elif stage == "indexes":
        out = publish_indexes(tidy, per_query, config.get("indexes", {}).get("repeats", 1), profile)
    else:
        beyond = config.get("beyond", {})
        out = publish_beyond(tidy, per_query, beyond["formats"], beyond.get("calibrate_on", ["self"]),
                             beyond.get("weighting", "texts"), profile, beyond.get("n_resamples", stats.N_RESAMPLES),
                             beyond.get("seed", stats.SEED))
    return out.conclusions


def publish(profile: str, stages: list[str] | None = None) -> dict[str, str]:
    """Every stage of ``stages`` (default: each whose results exist) republished; {stage: conclusions}."""
    folder = report.output_dirs(profile)["results"]
    wanted = stages or [s for s in STAGES if (folder / f"{STEMS[s]}.csv").exists()]
    unknown = [s for s in wanted if s not in STAGES]
    if unknown:

        raise ParameterError("stages", unknown, STAGES)
    return {stage: publish_stage(stage, profile) for stage in wanted}
