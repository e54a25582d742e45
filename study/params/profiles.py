"""A profile's stage parameters: what the workflow passes each stage notebook, built from the profile's YAML.

One function serves the Snakefile (the papermill parameters of each stage rule) and ``study publish`` (the
same parameters, to redraw a stage from its saved results), so the two cannot disagree.
Defaults between sections: a stage section's missing ``calibrate_on`` is the ``quantization:`` section's
(stages 03/04), the paper's int8 in stage 06 keeps it too; stages 04 and 09 fit on the ``reduction:`` section's
``fit_on``. A section's own ``models`` (the full profile gives stage 03 a third model) replaces the profile's.
"""

from __future__ import annotations

from typing import Any

from study.config import PAPER_SET, SELF
from study.core.errors import ParameterError
from study.params.stages import (
    BeyondParams,
    CodecParams,
    CombinedParams,
    IndexParams,
    Params,
    QuantizationParams,
    ReductionParams,
    TradeoffParams,
)

PARAMS: dict[str, type[Params]] = {
    "quantization": QuantizationParams, "reduction": ReductionParams, "combined": CombinedParams,
    "beyond": BeyondParams, "indexes": IndexParams, "codecs": CodecParams, "tradeoff": TradeoffParams,
}


def datasets_for(profile: dict[str, Any], model: str) -> list[str]:
    """The collections a profile evaluates ``model`` on."""
    return profile.get("datasets_per_model", {}).get(model, profile["datasets"])


def _evaluated(profile: dict[str, Any], section: dict[str, Any], models: list[str]) -> dict[str, Any]:
    per_model = {m: d for m, d in profile.get("datasets_per_model", {}).items() if m in models}
    return {"models": models, "datasets": profile["datasets"], "datasets_per_model": per_model,
            "profile": profile["profile"], "publish": False, **{k: v for k, v in section.items() if k != "models"}}


def _index_parameters(profile: dict[str, Any]) -> dict[str, Any]:
    section = profile.get("indexes", {})
    wanted = section.get("datasets", [])
    per_model = {m: [d for d in wanted if d in datasets_for(profile, m)] for m in profile["models"]}
    per_model = {m: ds for m, ds in per_model.items() if ds}
    return {**section, "models": list(per_model), "datasets_per_model": per_model, "profile": profile["profile"],
            "publish": False}


def stage_parameters(stage: str, profile: dict[str, Any]) -> dict[str, Any]:
    """The notebook parameters of ``stage`` under ``profile`` (a loaded profile YAML), as the workflow passes them."""
    if stage not in PARAMS:
        raise ParameterError("stage", stage, list(PARAMS))
    section = dict(profile.get(stage, {}))
    models = section.get("models", profile["models"])
    paper_set = profile.get("quantization", {}).get("calibrate_on", SELF)
    fit_on = profile.get("reduction", {}).get("fit_on", PAPER_SET)
    if stage == "quantization":
        return _evaluated(profile, section, profile["models"])
    if stage in ("reduction", "combined"):
        defaults = {"calibrate_on": paper_set} | ({"fit_on": fit_on} if stage == "combined" else {})
        return _evaluated(profile, defaults | section, models)
    if stage == "beyond":
        return _evaluated(profile, {"paper_calibrate_on": paper_set} | section, profile["models"])
    if stage == "codecs":
        return _evaluated(profile, {"fit_on": fit_on} | section, models)
    if stage == "indexes":
        return _index_parameters(profile)
    return {"models": profile["models"], "profile": profile["profile"], **section}


def runs_stage(stage: str, profile: dict[str, Any]) -> bool:
    """Whether the workflow runs ``stage`` under ``profile``: stages 06 and 09 need their section, stage 07 a
    collection of ``indexes.datasets`` that the profile evaluates."""
    if stage in ("beyond", "codecs"):
        return stage in profile
    if stage == "indexes":
        return bool(_index_parameters(profile)["models"])
    return stage in PARAMS


def stage_params(stage: str, profile: dict[str, Any]) -> Params:
    """``stage``'s checked parameters object under ``profile``."""
    return PARAMS[stage](**stage_parameters(stage, profile)).checked()
